"""Properties of carrying a remediation out: the GitHub call made is exactly the one the
catalog action says, what GitHub returned or refused is stored on the remediation row
(redacted), and verification follows the new attempt's conclusion, never ahead of it.

Each example is a real failed run in the GitHub sandbox, recorded, analyzed and gated by the
pipeline's own steps on the real Postgres (rolled back afterwards), then executed and
verified against the sandbox through the real gateway.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from ci_remediator.analysis.redaction import redact
from ci_remediator.analysis.rules import load_knowledge_base
from ci_remediator.config import AppConfig, FileConfig, load_config
from ci_remediator.db.models import (
    DetectionSource,
    Failure,
    FlakyEvidence,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import ActionKind, FailureState, FollowUp, Step
from ci_remediator.github.errors import TransientGitHubError
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.pipeline.webhook import handle_delivery
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.sandbox.webhook_sender import workflow_job_payload, workflow_run_payload
from ci_remediator.services import Services
from tests.integration.conftest import (  # noqa: F401 - engine, redis_client: fixtures
    engine,
    redis_client,
    rolled_back,
)
from tests.properties.profiles import examples

EXECUTABLE = tuple(kind for kind in ActionKind if kind is not ActionKind.NONE)
RERUN_KINDS = (
    ActionKind.RERUN_FAILED_JOBS,
    ActionKind.RERUN_WORKFLOW,
    ActionKind.RERUN_WITH_DEBUG_LOGGING,
    ActionKind.CLEAR_CACHE_AND_RERUN,
)
CACHE_TEMPLATES = ("deps-{branch}", "{repo}-{sha}", "cache-{run_id}-{run_attempt}", "static")
SECRETS = ("ghp_" + "W" * 36, "xoxb-123456789012-123456789012-" + "q" * 24, "AKIA" + "T" * 16)
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KNOWLEDGE_BASE = load_knowledge_base()

_repository_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def services(github: GitHubSandbox, redis_client: Any) -> Services:  # noqa: F811
    """The real gateway (budget and read cache on the real Redis) in front of the sandbox,
    paced far above what the tests send."""
    base = load_config(env_overrides={"github_api_url": github.url})
    file = FileConfig.model_validate({"github_max_requests_per_minute": 600_000})
    return Services(AppConfig(settings=base.settings, file=file))


# --------------------------------------------------------------------- scenarios ----


@dataclass(frozen=True)
class Workflow:
    """A configured remediation workflow: its file, ref template and input templates."""

    file: str
    ref: str
    inputs: dict[str, str] | None

    def as_config(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"workflow": self.file, "ref": self.ref}
        if self.inputs is not None:
            entry["inputs"] = self.inputs
        return entry


workflows = st.builds(
    Workflow,
    file=st.sampled_from(["heal.yml", "repair.yaml"]),
    ref=st.sampled_from(["{branch}", "main", "fix/{run_id}"]),
    inputs=st.none()
    | st.dictionaries(
        st.sampled_from(["run", "who", "target", "attempt"]),
        st.sampled_from(["{run_id}", "{owner}", "{repository}", "{run_attempt}", "fixed"]),
        max_size=3,
    ),
)


@dataclass(frozen=True)
class Scenario:
    """One failed run, the action config.json gives its category, and its parameters."""

    kind: ActionKind
    branch: str
    cache_templates: tuple[str, ...]
    extra_caches: tuple[str, ...]  # keys in the repository that are not the action's
    workflow: Workflow
    repository: str = field(default_factory=lambda: f"acme/exec-{next(_repository_numbers)}")

    def document(self) -> dict[str, Any]:
        return {
            "category_actions": {"infrastructure": [self.kind.value]},
            "risk_threshold": 10,
            "cache_key_templates": list(self.cache_templates),
            "remediation_workflows": [self.workflow.as_config()],
            "github_max_requests_per_minute": 600_000,
        }


scenarios = st.builds(
    Scenario,
    kind=st.sampled_from(EXECUTABLE),
    branch=st.sampled_from(["main", "feature/x-1", "release/2.0"]),
    cache_templates=st.lists(
        st.sampled_from(CACHE_TEMPLATES), min_size=1, max_size=3, unique=True
    ).map(tuple),
    extra_caches=st.lists(st.sampled_from(["other", "deps-elsewhere"]), max_size=2).map(tuple),
    workflow=workflows,
)


@dataclass(frozen=True)
class Executing:
    """A failure the gate passed, with what its run looks like on GitHub."""

    failure_id: int
    run_id: int
    values: dict[str, str]  # the run metadata a template may use


def executing(
    session: Session,
    services: Services,
    github: GitHubSandbox,
    scenario: Scenario,
    **run_options: Any,
) -> Executing:
    """Record, analyze and gate a failed network-blip run: the gate opens the remediation."""
    run_options.setdefault("log_text", demo_log("network_blip.log"))
    run_id = github.add_failed_run(
        scenario.repository,
        workflow_name="CI",
        job_name="test",
        head_branch=scenario.branch,
        **run_options,
    )
    failure_id = record_failure(
        session,
        run=services.gateway.get_run(scenario.repository, run_id),
        source=DetectionSource.POLL,
    )
    assert failure_id is not None
    analyze_failure(
        session, failure_id=failure_id, gateway=services.gateway, knowledge_base=KNOWLEDGE_BASE
    )
    config = AppConfig(
        settings=services.config.settings, file=FileConfig.model_validate(scenario.document())
    )
    gated = gate_failure(session, failure_id=failure_id, config=config)
    assert Step.EXECUTE in [follow_up.step for follow_up in gated.follow_ups]
    owner, _, repo = scenario.repository.partition("/")
    run = github.run_json(scenario.repository, run_id)
    values = {
        "repository": scenario.repository,
        "owner": owner,
        "repo": repo,
        "branch": scenario.branch,
        "sha": run["head_sha"],
        "run_id": str(run_id),
        "run_attempt": "1",
        "workflow": "CI",
    }
    return Executing(failure_id, run_id, values)


def execute(session: Session, services: Services, failure_id: int, *, gateway: Any = None) -> None:
    """The execute task as the queue runs it: when the step prepared (deleted the caches before
    a rerun) it sends itself again, after its commit, for the action's main call."""
    for _ in range(2):
        result = execute_remediation(
            session, failure_id=failure_id, gateway=gateway or services.gateway, verify_after_s=0
        )
        if FollowUp(Step.EXECUTE, failure_id) not in result.follow_ups:
            return
        session.commit()
    raise AssertionError("the execute step sent itself more than once")


def remediation_of(session: Session, failure_id: int) -> Remediation:
    session.expire_all()  # what Postgres holds
    (remediation,) = session.scalars(
        select(Remediation).where(Remediation.failure_id == failure_id)
    )
    return remediation


def state_of(session: Session, failure_id: int) -> FailureState:
    session.expire_all()
    return session.get_one(Failure, failure_id).state


# ------------------------------------------------------- 57: remediation execution ----


@dataclass(frozen=True)
class Call:
    """A request that changes something on GitHub: what, where, with which key or body."""

    method: str
    path: str
    detail: Any  # the body of a POST, the `key` of a cache deletion

    @property
    def label(self) -> tuple[str, str]:
        return self.method, self.path


def calls_since(github: GitHubSandbox, start: int) -> list[Call]:
    return [
        Call(
            request.method,
            request.path,
            request.query.get("key", [None])[0]
            if request.method == "DELETE"
            else json.loads(request.body or b"null"),
        )
        for request in github.requests[start:]
        if request.method in MUTATING
    ]


def filled_cache_keys(scenario: Scenario, target: Executing) -> list[str]:
    return list(dict.fromkeys(t.format_map(target.values) for t in scenario.cache_templates))


def dispatched(scenario: Scenario, target: Executing) -> tuple[str, dict[str, str]]:
    """The ref and inputs the configured templates give for this run."""
    workflow = scenario.workflow
    if workflow.inputs is None:
        inputs = {key: target.values[key] for key in ("repository", "branch", "sha", "run_id")}
    else:
        inputs = {
            name: template.format_map(target.values) for name, template in workflow.inputs.items()
        }
    return workflow.ref.format_map(target.values), inputs


def expected_calls(scenario: Scenario, target: Executing) -> list[Call]:
    """The calls the catalog says the action makes, in order (a tracking issue's body is its
    labels here)."""
    repository = scenario.repository
    runs = f"/repos/{repository}/actions/runs/{target.run_id}"
    kind = scenario.kind
    if kind is ActionKind.RERUN_FAILED_JOBS:
        return [Call("POST", f"{runs}/rerun-failed-jobs", None)]
    if kind is ActionKind.RERUN_WORKFLOW:
        return [Call("POST", f"{runs}/rerun", None)]
    if kind is ActionKind.RERUN_WITH_DEBUG_LOGGING:
        return [Call("POST", f"{runs}/rerun-failed-jobs", {"enable_debug_logging": True})]
    if kind is ActionKind.CLEAR_CACHE_AND_RERUN:
        deletes = [
            Call("DELETE", f"/repos/{repository}/actions/caches", key)
            for key in filled_cache_keys(scenario, target)
        ]
        return [*deletes, Call("POST", f"{runs}/rerun-failed-jobs", None)]
    if kind is ActionKind.OPEN_TRACKING_ISSUE:
        return [Call("POST", f"/repos/{repository}/issues", ["ci-remediator"])]
    ref, inputs = dispatched(scenario, target)
    path = f"/repos/{repository}/actions/workflows/{scenario.workflow.file}/dispatches"
    return [Call("POST", path, {"ref": ref, "inputs": inputs})]


def _comparable(call: Call) -> Call:
    if call.label[1].endswith("/issues") and isinstance(call.detail, dict):
        return Call(call.method, call.path, call.detail.get("labels"))
    return call


def remaining_cache_keys(github: GitHubSandbox, repository: str) -> set[str]:
    listed = requests.get(
        f"{github.url}/repos/{repository}/actions/caches",
        headers={"Authorization": "token ghp_sandboxtoken"},
        timeout=10,
    ).json()["actions_caches"]
    return {cache["key"] for cache in listed}


def prepare(github: GitHubSandbox, scenario: Scenario) -> None:
    """The repository as the scenario needs it: a dispatchable workflow, caches not ours."""
    github.add_repository(scenario.repository)
    github.add_workflow(
        scenario.repository, "Heal", path=f".github/workflows/{scenario.workflow.file}"
    )
    for key in scenario.extra_caches:
        github.add_cache(scenario.repository, key)


@settings(max_examples=examples(40))
@given(scenario=scenarios, faults=st.integers(0, 2), deliveries=st.integers(1, 3))
def test_the_github_call_made_is_exactly_the_one_the_catalog_action_says(
    engine: Engine,  # noqa: F811
    github: GitHubSandbox,
    services: Services,
    *,
    scenario: Scenario,
    faults: int,
    deliveries: int,
) -> None:
    """Property 57 (Remediation Execution): for any action and parameters, executing the
    gated remediation against GitHub makes exactly the calls its catalog entry says (the
    rerun endpoint and body, each configured cache key then the rerun, the tracking issue,
    the configured workflow with its templated ref and inputs) and nothing else; after any
    number of 5xx answers and redeliveries, GitHub acted exactly once (the caches are deleted
    once, their record kept before the rerun; a failed try repeats only the main call)."""
    prepare(github, scenario)
    with rolled_back(engine) as session:
        target = executing(session, services, github, scenario)
        for key in filled_cache_keys(scenario, target):
            github.add_cache(scenario.repository, key)
        expected = expected_calls(scenario, target)
        main = expected[-1]
        if faults:
            github.inject_error(
                503, path_pattern=re.escape(main.path), method=main.method, times=faults
            )
        start = len(github.requests)
        raised = 0
        for _ in range(faults + deliveries):
            try:
                execute(session, services, target.failure_id)
            except TransientGitHubError:
                raised += 1  # the task retries it
        calls = [_comparable(call) for call in calls_since(github, start)]
        state = state_of(session, target.failure_id)

    assert raised == faults
    assert state is FailureState.VERIFYING
    # Each failed try repeats the main call only; the last try is the one.
    assert calls == expected[:-1] + [expected[-1]] * (faults + 1)
    attempts = github.attempts(scenario.repository, target.run_id)
    if scenario.kind in RERUN_KINDS:
        (_, rerun) = attempts
        whole = scenario.kind is ActionKind.RERUN_WORKFLOW
        assert rerun.trigger == ("rerun" if whole else "rerun-failed-jobs")
        assert rerun.debug_logging is (scenario.kind is ActionKind.RERUN_WITH_DEBUG_LOGGING)
    else:
        assert len(attempts) == 1  # the failed run itself is left alone
    issues = github.issues(scenario.repository)
    assert len(issues) == (scenario.kind is ActionKind.OPEN_TRACKING_ISSUE)
    dispatches = github.dispatches(scenario.repository)
    assert len(dispatches) == (scenario.kind is ActionKind.DISPATCH_REMEDIATION_WORKFLOW)


# ---------------------------------------------------- 58: execution output capture ----

words = st.text("abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10)


@dataclass(frozen=True)
class Refusal:
    status: int
    before: str
    secret: str
    after: str

    @property
    def message(self) -> str:
        return f"{self.before} {self.secret} {self.after}"


refusals = st.builds(
    Refusal,
    status=st.sampled_from([403, 404, 409, 422]),
    before=words,
    secret=st.sampled_from(SECRETS),
    after=words,
)


def refuse(github: GitHubSandbox, scenario: Scenario, target: Executing, refusal: Refusal) -> None:
    """GitHub will refuse the action's main call with `refusal`."""
    if scenario.kind in RERUN_KINDS:
        github.refuse_rerun(scenario.repository, target.run_id, refusal.status, refusal.message)
        return
    main = expected_calls(scenario, target)[-1]
    github.inject_error(
        refusal.status, path_pattern=re.escape(main.path), method="POST", message=refusal.message
    )


@settings(max_examples=examples(40))
@given(scenario=scenarios, refusal=st.none() | refusals, transient_first=st.booleans())
def test_what_github_returned_or_refused_is_stored_on_the_remediation_redacted(
    engine: Engine,  # noqa: F811
    github: GitHubSandbox,
    services: Services,
    *,
    scenario: Scenario,
    refusal: Refusal | None,
    transient_first: bool,
) -> None:
    """Property 58 (Remediation Execution): what GitHub answered is on the remediation row:
    the new attempt and its link, the caches deleted per key, the issue opened, the workflow
    and ref dispatched; a refusal is stored with GitHub's words, redacted, and escalated; a
    transient error stores nothing, leaving the row to the retry."""
    prepare(github, scenario)
    with rolled_back(engine) as session:
        target = executing(session, services, github, scenario)
        keys = filled_cache_keys(scenario, target)
        for key in keys:
            github.add_cache(scenario.repository, key)
        if transient_first:
            main = expected_calls(scenario, target)[-1]
            github.inject_error(502, path_pattern=re.escape(main.path), method=main.method)
            with pytest.raises(TransientGitHubError):
                execute(session, services, target.failure_id)
            untouched = remediation_of(session, target.failure_id)
            assert untouched.status is RemediationStatus.PENDING
            assert untouched.outcome_detail is None
            assert state_of(session, target.failure_id) is FailureState.EXECUTING
        if refusal is not None:
            refuse(github, scenario, target, refusal)
        execute(session, services, target.failure_id)
        remediation = remediation_of(session, target.failure_id)
        state = state_of(session, target.failure_id)
        stored = json.dumps([remediation.outcome_detail, remediation.result])

    assert remediation.outcome_detail
    assert redact(remediation.outcome_detail) == remediation.outcome_detail
    assert not any(secret in stored for secret in SECRETS)
    if refusal is not None:
        assert remediation.status is RemediationStatus.REFUSED
        assert state is FailureState.ESCALATED
        assert remediation.completed_at is not None
        assert "GitHub refused" in remediation.outcome_detail
        assert refusal.before in remediation.outcome_detail
        assert refusal.after in remediation.outcome_detail
        return
    assert remediation.status is RemediationStatus.REQUESTED
    assert remediation.requested_at is not None
    assert state is FailureState.VERIFYING
    result = remediation.result
    if scenario.kind in RERUN_KINDS:
        assert result["attempt"] == 2
        assert result["html_url"] == github.run_json(scenario.repository, target.run_id)["html_url"]
        if scenario.kind is ActionKind.CLEAR_CACHE_AND_RERUN:
            assert remaining_cache_keys(github, scenario.repository) == set(scenario.extra_caches)
            if transient_first:
                # The try GitHub failed had deleted them: the one recorded found none left
                # (the row keeps the keys; what the failed try deleted is in no row).
                assert set(result["caches_deleted"]) == set(keys)
            else:
                assert result["caches_deleted"] == dict.fromkeys(keys, 1)
    elif scenario.kind is ActionKind.OPEN_TRACKING_ISSUE:
        (issue,) = github.issues(scenario.repository)
        assert result["issue_number"] == issue.number
        assert result["opened"] is True
        assert f"#{issue.number}" in remediation.outcome_detail
    else:
        ref, _ = dispatched(scenario, target)
        assert (result["workflow"], result["ref"]) == (scenario.workflow.file, ref)


# --------------------------------------------------------- 59: success verification ----

CONCLUSIONS = ("success", "failure", "cancelled", "timed_out")


def plain_rerun(github: GitHubSandbox, kind: ActionKind) -> Scenario:
    """A rerun of `kind` on main with nothing else configured, its repository prepared."""
    scenario = Scenario(kind, "main", ("static",), (), Workflow("heal.yml", "main", None))
    prepare(github, scenario)
    return scenario


@settings(max_examples=examples(40))
@given(
    kind=st.sampled_from(RERUN_KINDS[:3]),
    polls=st.integers(0, 4),
    conclusion=st.sampled_from(CONCLUSIONS),
    timeout_minutes=st.integers(1, 120),
    waits=st.lists(st.integers(0, 50), min_size=1, max_size=8),
)
def test_verification_follows_the_new_attempts_conclusion_and_never_runs_ahead_of_it(
    engine: Engine,  # noqa: F811
    github: GitHubSandbox,
    services: Services,
    *,
    kind: ActionKind,
    polls: int,
    conclusion: str,
    timeout_minutes: int,
    waits: list[int],
) -> None:
    """Property 59 (Remediation Execution): for any sequence of statuses of the new attempt
    (queued, in progress for any number of checks, then any conclusion) and any clock, verify
    waits while it is unfinished, resolves only once it completed successfully, escalates a
    completed failure, and past the timeout with it unfinished fails it for a rollback; never
    `resolved` before completion."""
    scenario = plain_rerun(github, kind)
    timeout = timedelta(minutes=timeout_minutes)
    with rolled_back(engine) as session:
        target = executing(
            session,
            services,
            github,
            scenario,
            rerun_conclusions=(conclusion,),
            polls_until_complete=polls,
        )
        execute(session, services, target.failure_id)
        requested_at = remediation_of(session, target.failure_id).requested_at
        assert requested_at is not None
        elapsed = timedelta(0)
        for wait in waits:
            elapsed += timedelta(minutes=wait)
            # What the next read of the attempt will answer (reading here is not a poll).
            seen = github.attempts(scenario.repository, target.run_id)[-1]
            result = verify_remediation(
                session,
                failure_id=target.failure_id,
                gateway=services.gateway,
                timeout=timeout,
                now=requested_at + elapsed,
            )
            state = state_of(session, target.failure_id)
            status = remediation_of(session, target.failure_id).status
            if seen.status == "completed":
                succeeded = seen.conclusion == "success"
                assert state is (FailureState.RESOLVED if succeeded else FailureState.ESCALATED)
                assert status is (
                    RemediationStatus.SUCCEEDED if succeeded else RemediationStatus.FAILED
                )
                break
            assert state is not FailureState.RESOLVED
            if elapsed >= timeout:
                assert state is FailureState.REMEDIATION_FAILED
                assert status is RemediationStatus.FAILED
                assert [f.step for f in result.follow_ups] == [Step.ROLLBACK]
                break
            assert result.waiting
            assert state is FailureState.VERIFYING
            assert status is RemediationStatus.REQUESTED


# ------------------------------------------- 75: a worker dies after GitHub acted ----


class WorkerDied(Exception):
    """The worker's process ended here: its transaction never committed."""


class DiesAfterWriting:
    """The real gateway, except that the worker dies right after its `call` reached GitHub."""

    def __init__(self, inner: Any, call: str) -> None:
        self._inner, self._call = inner, call

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name != self._call:
            return attribute

        def sent_then_died(*args: Any, **kwargs: Any) -> Any:
            attribute(*args, **kwargs)
            raise WorkerDied(name)

        return sent_then_died


# The gateway call that is each action's effect on GitHub (the last of its calls).
MAIN_CALL = {
    ActionKind.RERUN_FAILED_JOBS: "rerun_failed_jobs",
    ActionKind.RERUN_WORKFLOW: "rerun_run",
    ActionKind.RERUN_WITH_DEBUG_LOGGING: "rerun_failed_jobs",
    ActionKind.CLEAR_CACHE_AND_RERUN: "rerun_failed_jobs",
    ActionKind.OPEN_TRACKING_ISSUE: "create_issue",
    ActionKind.DISPATCH_REMEDIATION_WORKFLOW: "dispatch_workflow",
}


@settings(max_examples=examples(30))
@given(scenario=scenarios, redeliveries=st.integers(1, 3))
def test_a_worker_that_dies_after_github_acted_is_redelivered_and_github_acts_once(
    engine: Engine,  # noqa: F811
    github: GitHubSandbox,
    services: Services,
    *,
    scenario: Scenario,
    redeliveries: int,
) -> None:
    """Property 75 (Remediation Execution): for any action, when the worker dies after its
    call reached GitHub and before its commit, the redelivered execute task (once or more)
    finds what GitHub did and does not do it again: one rerun, one issue, one dispatch, and
    the remediation row records that one."""
    prepare(github, scenario)
    with rolled_back(engine) as session:
        target = executing(session, services, github, scenario)
        for key in filled_cache_keys(scenario, target):
            github.add_cache(scenario.repository, key)
        session.commit()  # the gate's transaction: the remediation row waits, pending
        start = len(github.requests)
        dying = DiesAfterWriting(services.gateway, MAIN_CALL[scenario.kind])
        with pytest.raises(WorkerDied):
            execute(session, services, target.failure_id, gateway=dying)
        session.rollback()  # what the dead worker wrote never committed
        assert remediation_of(session, target.failure_id).status is RemediationStatus.PENDING
        for _ in range(redeliveries):
            execute(session, services, target.failure_id)
            session.commit()
        state = state_of(session, target.failure_id)
        remediation = remediation_of(session, target.failure_id)
        status, result = remediation.status, remediation.result
        calls = [_comparable(call) for call in calls_since(github, start)]

    assert calls == expected_calls(scenario, target)  # the dead worker's, and nothing since
    assert status is RemediationStatus.REQUESTED
    assert state is FailureState.VERIFYING
    attempts = github.attempts(scenario.repository, target.run_id)
    assert len(attempts) == (2 if scenario.kind in RERUN_KINDS else 1)
    issues = github.issues(scenario.repository)
    assert len(issues) == (scenario.kind is ActionKind.OPEN_TRACKING_ISSUE)
    if issues:
        assert result["issue_number"] == issues[0].number
    dispatches = github.dispatches(scenario.repository)
    assert len(dispatches) == (scenario.kind is ActionKind.DISPATCH_REMEDIATION_WORKFLOW)


# ------------------------------------- 76: verify from GitHub's own deliveries ----


def _deliveries(github: GitHubSandbox, repository: str, run_id: int, decoy: str) -> list[Any]:
    """(event, payload) of what GitHub sends when the new attempt completes (each job, then
    the run), and of deliveries about other attempts of the run, saying `decoy`."""
    truthful: list[Any] = [
        ("workflow_job", workflow_job_payload(github, repository, run_id, job_name=job["name"]))
        for job in github.jobs_json(repository, run_id)
    ]
    truthful.append(("workflow_run", workflow_run_payload(github, repository, run_id)))
    decoys: list[Any] = []
    for attempt in (1, 3):
        run = workflow_run_payload(github, repository, run_id)
        run["workflow_run"].update(run_attempt=attempt, conclusion=decoy)
        job = workflow_job_payload(github, repository, run_id, job_name="test")
        job["workflow_job"].update(
            run_attempt=attempt, conclusion=decoy, id=job["workflow_job"]["id"] + attempt
        )
        decoys += [("workflow_run", run), ("workflow_job", job)]
    return truthful + decoys


@settings(max_examples=examples(30))
@given(
    conclusion=st.sampled_from(CONCLUSIONS),
    decoy=st.sampled_from(CONCLUSIONS),
    picks=st.lists(st.integers(0, 6), max_size=10),
)
def test_verify_from_deliveries_agrees_with_github_whatever_arrives(
    engine: Engine,  # noqa: F811
    github: GitHubSandbox,
    services: Services,
    *,
    conclusion: str,
    decoy: str,
    picks: list[int],
) -> None:
    """Property 76 (Remediation Execution): for any subset, order and repetition of the new
    attempt's `workflow_job` / `workflow_run` deliveries, mixed with deliveries of other
    attempts of the run saying anything, verify reaches the state GitHub's own answer gives
    (resolved exactly when the attempt passed), records as flaky exactly the failed jobs that
    passed, and reads the attempt from GitHub only when no delivery said it passed."""
    scenario = plain_rerun(github, ActionKind.RERUN_FAILED_JOBS)
    with rolled_back(engine) as session:
        target = executing(
            session,
            services,
            github,
            scenario,
            rerun_conclusions=(conclusion,),
            polls_until_complete=0,
        )
        execute(session, services, target.failure_id)
        pool = _deliveries(github, scenario.repository, target.run_id, decoy)
        for pick in picks:
            event, payload = pool[pick]
            handle_delivery(
                session,
                event=event,
                delivery_id=f"d-{pick}",
                payload=payload,
                configured_repositories=(scenario.repository,),
            )
        start = len(github.requests)
        verify_remediation(
            session,
            failure_id=target.failure_id,
            gateway=services.gateway,
            timeout=timedelta(hours=1),
            knowledge_base=KNOWLEDGE_BASE,
        )
        state = state_of(session, target.failure_id)
        flaky = set(session.scalars(select(FlakyEvidence.job_name)))
    reads = [r.path for r in github.requests[start:] if r.method == "GET"]

    passed = conclusion == "success"
    assert state is (FailureState.RESOLVED if passed else FailureState.ESCALATED)
    assert flaky == ({"test"} if passed else set())
    attempt_read = any(path.endswith(f"/runs/{target.run_id}/attempts/2") for path in reads)
    run_said_passed = passed and 2 in picks  # the truthful workflow_run delivery came
    assert attempt_read is not run_said_passed
    jobs_read = any(path.endswith(f"/runs/{target.run_id}/attempts/2/jobs") for path in reads)
    if passed:
        assert jobs_read is not (1 in picks)  # the failed job's own delivery came
