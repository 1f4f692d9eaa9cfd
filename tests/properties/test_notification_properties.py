"""Invariants of the Slack notifications, read from what the Slack sandbox received: each stage
says what it must, once, in the right channel and thread, with untrusted text escaped and no
secret, whatever the runs, logs, analyses, channel configuration and redeliveries.

The pipeline steps run in this process on the real Postgres, GitHub through the gateway and
the sandbox, follow-ups delivered by hand (the harness of test_approval_properties).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ci_remediator.analysis.rules import load_knowledge_base
from ci_remediator.db.models import (
    ApprovalRequest,
    DetectionSource,
    Failure,
    GateDecision,
    NotificationThread,
)
from ci_remediator.db.notices import notice
from ci_remediator.db.transitions import mark_errored
from ci_remediator.domain import (
    Decision,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
    StepResult,
    Verdict,
)
from ci_remediator.github.values import FAILING_CONCLUSIONS
from ci_remediator.notify.untrusted import slack_escape
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.decide import decide_approval
from ci_remediator.pipeline.detect import follow_ups_for_new_failure, record_failure
from ci_remediator.pipeline.expire import expire_approvals
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.sandbox.scenarios import demo_log
from ci_remediator.sandbox.slack import TEAM_DOMAIN, PostedMessage
from ci_remediator.services import Services
from tests.integration.conftest import engine, redis_client  # noqa: F401 - fixtures
from tests.properties.profiles import examples
from tests.properties.test_approval_properties import (
    APPROVERS,
    QUIET,
    SLACK_LINK,
    World,
    assert_only_escaped,
    buttons,
    hostile,
    mrkdwn_texts,
    names,
    run_step,
    world_fixture,  # noqa: F401 - the fixture `world`
)

CHANNEL_KINDS = ("alerts", "approvals", "critical")
# Secrets in the shapes redaction knows, and the service's own GitHub token (a known value).
SECRETS = (
    "ghp_" + "Q7" * 18,
    "xoxb-123456789012-123456789012-" + "z" * 24,
    "AKIA" + "R" * 16,
    "ghp_test_token_for_the_sandbox_only",
)
DEMO_LOGS = ("network_blip.log", "registry_503.log", "compile_error.log", "flaky_test.log")
# The shipped rules, parsed once for the module (Services would parse them per example).
KNOWLEDGE_BASE = load_knowledge_base()
# How many times verify looks at a rerun still going before the example gives up on it.
VERIFY_LOOKS = 6


# ---------------------------------------------------------------- the pipeline ----


def run_any_step(services: Services, follow_up: FollowUp) -> StepResult:
    """Like test_approval_properties.run_step, with the analyze and verify steps too."""
    failure_id = follow_up.failure_id
    assert failure_id is not None
    if follow_up.step is Step.ANALYZE:
        with services.sessions() as session, session.begin():
            return analyze_failure(
                session,
                failure_id=failure_id,
                gateway=services.gateway,
                knowledge_base=KNOWLEDGE_BASE,
            )
    if follow_up.step is Step.VERIFY:
        with services.sessions() as session, session.begin():
            return verify_remediation(
                session,
                failure_id=failure_id,
                gateway=services.gateway,
                timeout=timedelta(minutes=services.config.file.verify_timeout_minutes),
                knowledge_base=KNOWLEDGE_BASE,
            )
    return run_step(services, follow_up)


def settle(
    services: Services,
    follow_ups: Sequence[FollowUp],
    *,
    steps: frozenset[Step] = frozenset(Step),
    times: int = 1,
) -> None:
    """Deliver the follow-ups of `steps` (each `times` times) and what they lead to, until
    nothing is left; a verify still waiting for its rerun is looked at again."""
    queue = [(f, 0) for f in follow_ups]
    while queue:
        follow_up, looks = queue.pop(0)
        if follow_up.step not in steps:
            continue
        for _ in range(times):
            result = run_any_step(services, follow_up)
            queue.extend((f, 0) for f in result.follow_ups)
        if result.waiting and follow_up.step is Step.VERIFY and looks < VERIFY_LOOKS:
            queue.append((follow_up, looks + 1))


def detect(
    services: Services,
    world: World,
    repository: str,
    *,
    workflow_name: str = "CI",
    head_branch: str = "main",
    log_text: str = "##[error]Process completed with exit code 1.",
    conclusion: str = "failure",
    rerun_conclusions: Sequence[str] = ("success",),
) -> tuple[int, list[FollowUp]]:
    """A failed run in the sandbox, detected as the poll does: the failure and its
    follow-ups (the "detected" notice and the analyze task)."""
    run_id = world.github.add_failed_run(
        repository,
        workflow_name=workflow_name,
        job_name="test",
        log_text=log_text,
        head_branch=head_branch,
        conclusion=conclusion,
        rerun_conclusions=rerun_conclusions,
    )
    with services.sessions() as session, session.begin():
        failure_id = record_failure(
            session, run=services.gateway.get_run(repository, run_id), source=DetectionSource.POLL
        )
        assert failure_id is not None
        return failure_id, list(follow_ups_for_new_failure(session, failure_id))


@dataclass(frozen=True)
class Told:
    """A failure's messages as Slack holds them."""

    failure: Failure
    thread: list[PostedMessage]  # the parent first, then the replies
    elsewhere: list[PostedMessage]  # top-level messages naming its run outside its thread


def told(world: World, services: Services, failure_id: int, channels: Sequence[str]) -> Told:
    with services.sessions() as session:
        failure = session.get_one(
            Failure,
            failure_id,
            options=[selectinload(Failure.analysis), selectinload(Failure.remediations)],
        )
        stored = session.get(NotificationThread, failure_id)
    thread = world.slack.thread(stored.channel, stored.ts) if stored is not None else []
    in_thread = {(m.channel, m.ts) for m in thread}
    mark = f"#{failure.run_id}/{failure.run_attempt}"
    elsewhere = [
        m
        for channel in channels
        for m in world.slack.messages(channel)
        if mark in m.text and (m.channel, m.ts) not in in_thread and m.thread_ts is None
    ]
    return Told(failure, thread, elsewhere)


def every_message(world: World, channels: Sequence[str]) -> list[PostedMessage]:
    return [m for channel in channels for m in world.slack.messages(channel)]


def assert_safe(message: PostedMessage, *, allowed_urls: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Escaped through and through, and no secret in any text or block."""
    for text in mrkdwn_texts(message):
        links = {link[1] for link in SLACK_LINK.finditer(text)}
        ours = {url for url in links if url.startswith(f"https://{TEAM_DOMAIN}.slack.com/")}
        assert_only_escaped(text, allowed_urls={*allowed_urls, *ours})
    shown = str(message.versions)
    for secret in SECRETS:
        assert secret not in shown


def title(message: PostedMessage) -> str:
    return message.text.split(":", 1)[0]


# ------------------------------------------------------------------ strategies ----


def configure_channels(
    world: World, repositories: Sequence[str], overridden: Sequence[set[str]]
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The `slack_channels` and `repository_configs` file keys, and each repository's
    channel of each kind as the configuration means it."""
    top = world.channels("top")
    file: dict[str, Any] = {"slack_channels": top, "repository_configs": {}}
    routes: dict[str, dict[str, str]] = {}
    for repository, kinds in zip(repositories, overridden, strict=True):
        own = world.channels("repo")
        if kinds:
            file["repository_configs"][repository] = {
                "slack_channels": {kind: own[kind] for kind in kinds}
            }
        routes[repository] = {kind: own[kind] if kind in kinds else top[kind] for kind in top}
    return file, routes


log_texts = st.one_of(
    st.sampled_from(DEMO_LOGS).map(demo_log),
    st.lists(
        st.one_of(
            hostile,
            hostile.map(lambda text: f"##[error]{text}"),
            st.sampled_from(SECRETS).map(lambda secret: f"##[error]token={secret} refused"),
        ),
        min_size=1,
        max_size=5,
    ).map("\n".join),
)
# A known failure (the rules have a category and an action for it) with hostile lines after.
known_hostile_logs = st.tuples(st.sampled_from(DEMO_LOGS).map(demo_log), log_texts).map("\n".join)
conclusions = st.sampled_from(sorted(FAILING_CONCLUSIONS))
branches = st.one_of(st.just("main"), names.map(lambda name: re.sub(r"\s", "-", name)))


# -------------------------------------------------------- 29: the first message ----


@settings(max_examples=examples(12))
@given(
    runs=st.lists(
        st.tuples(st.integers(0, 1), names, branches, conclusions), min_size=1, max_size=4
    ),
    overridden=st.lists(st.sets(st.sampled_from(CHANNEL_KINDS)), min_size=2, max_size=2),
    deliveries=st.integers(1, 3),
)
def test_every_detected_failure_starts_one_thread_in_its_alerts_channel(
    world: World,
    runs: list[tuple[int, str, str, str]],
    overridden: list[set[str]],
    deliveries: int,
) -> None:
    """Property 29 (Notification): every detected failure, whatever its workflow, branch and
    conclusion, gets exactly one "Failure detected" message, the parent of its own thread, in
    its repository's alerts channel, naming the run, its conclusion and its link, however
    often the notification is redelivered."""
    world.empty_tables()
    repositories = [world.repository("acme/told"), world.repository("acme/told")]
    file, routes = configure_channels(world, repositories, overridden)
    services = world.services(**QUIET, **file)
    detected = [
        detect(
            services,
            world,
            repositories[index],
            workflow_name=workflow,
            head_branch=branch,
            conclusion=conclusion,
        )
        for index, workflow, branch, conclusion in runs
    ]
    settle(
        services,
        [f for _, follow_ups in detected for f in follow_ups],
        steps=frozenset({Step.NOTIFY}),
        times=deliveries,
    )

    channels = list(dict.fromkeys(c for route in routes.values() for c in route.values()))
    for failure_id, _ in detected:
        seen = told(world, services, failure_id, channels)
        (parent,) = seen.thread
        assert seen.elsewhere == []
        assert parent.thread_ts is None
        assert parent.channel == world.slack.channel_id(routes[seen.failure.repository]["alerts"])
        assert title(parent) == "Failure detected"
        shown = "\n".join(mrkdwn_texts(parent))
        assert seen.failure.repository in parent.text
        assert seen.failure.html_url in shown
        assert f"{seen.failure.conclusion} on " in shown
    assert len(every_message(world, channels)) == len(detected)
    for message in every_message(world, channels):
        assert_safe(message)


def one_channel_set(world: World) -> tuple[dict[str, Any], dict[str, str]]:
    channels = world.channels("told")
    return {"slack_channels": channels}, channels


def stored_links(services: Services, failure_id: int) -> set[str]:
    """The failed jobs' pages GitHub gave the analysis: the links a message may carry."""
    with services.sessions() as session:
        failure = session.get_one(Failure, failure_id)
        links = failure.analysis.failed_job_links if failure.analysis else []
        return {link["url"] for link in links}


# -------------------------------------------------------- 30: the analysis ----


@settings(max_examples=examples(8))
@given(logs=st.lists(log_texts, min_size=1, max_size=2), deliveries=st.integers(1, 2))
def test_every_analysis_is_told_once_in_the_failures_thread_as_it_was_stored(
    world: World,
    logs: list[str],
    deliveries: int,
) -> None:
    """Property 30 (Notification): when the analysis of a failure is stored, its thread gets
    exactly one "Analyzed" reply stating the stored category, risk, confidence, proposed
    action and analyzer, with the log and model text only as an escaped code block and no
    secret of the log left in it."""
    world.empty_tables()
    file, channels = one_channel_set(world)
    services = world.services(**QUIET, **file)
    repository = world.repository("acme/analyzed")
    detected = [
        detect(services, world, repository, log_text=log, head_branch=f"b{n}")
        for n, log in enumerate(logs)
    ]
    settle(
        services,
        [f for _, follow_ups in detected for f in follow_ups],
        steps=frozenset({Step.NOTIFY, Step.ANALYZE}),
        times=deliveries,
    )

    for failure_id, _ in detected:
        seen = told(world, services, failure_id, list(channels.values()))
        parent, reply = seen.thread
        assert [title(parent), title(reply)] == ["Failure detected", "Analyzed"]
        assert reply.thread_ts == parent.ts
        analysis = seen.failure.analysis
        assert analysis is not None
        shown = "\n".join(mrkdwn_texts(reply))
        assert (
            f"• {analysis.category.value} · risk {analysis.risk_score}/10 · confidence "
            f"{analysis.confidence:.2f} · proposes {analysis.proposed_action.value} · by "
            f"{analysis.analyzer}"
        ) in shown
        code_blocks = [t for t in mrkdwn_texts(reply) if t.startswith("```")]
        assert len(code_blocks) == int(bool(analysis.summary or analysis.excerpt))
        assert_safe(reply, allowed_urls=stored_links(services, failure_id))


# ------------------------------------------------------ 31: the approval request ----


@settings(max_examples=examples(8))
@given(
    logs=st.lists(st.sampled_from(DEMO_LOGS), min_size=1, max_size=2),
    threshold=st.integers(0, 10),
    protected=st.booleans(),
)
def test_an_approval_request_states_the_action_risk_and_reasons_and_links_the_thread(
    world: World,
    logs: list[str],
    threshold: int,
    protected: bool,
) -> None:
    """Property 31 (Notification): a failure sent to a human gets one message in the approvals
    channel stating the action, the effective risk and every reason the gate gave, the run,
    how to decide without Slack, and a link to the failure's thread; no other failure gets
    one."""
    world.empty_tables()
    file, channels = one_channel_set(world)
    repository = world.repository("acme/asked")
    services = world.services(
        **QUIET,
        **file,
        risk_threshold=threshold,
        protected_repositories=[repository] if protected else [],
    )
    detected = [
        detect(services, world, repository, log_text=demo_log(log), head_branch=f"b{n}")
        for n, log in enumerate(logs)
    ]
    settle(
        services,
        [f for _, follow_ups in detected for f in follow_ups],
        steps=frozenset({Step.NOTIFY, Step.ANALYZE, Step.GATE, Step.REQUEST_APPROVAL}),
    )

    requests = [m for m in world.slack.messages(channels["approvals"]) if buttons(m)]
    asked = 0
    with services.sessions() as session:
        for failure_id, _ in detected:
            failure = session.get_one(Failure, failure_id)
            decision = session.scalars(
                select(GateDecision).where(GateDecision.failure_id == failure_id)
            ).one()
            if decision.verdict is not Verdict.NEEDS_APPROVAL:
                continue
            asked += 1
            approval = session.scalars(
                select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
            ).one()
            (request,) = [m for m in requests if buttons(m)[0]["value"] == str(approval.id)]
            shown = "\n".join(mrkdwn_texts(request))
            assert f"{decision.action.value} at risk {decision.effective_risk}/10" in shown
            for reason in decision.reasons:
                assert slack_escape(reason) in shown
            assert f"ci-remediator approvals approve {approval.id}" in shown
            assert failure.html_url in shown
            thread = session.get_one(NotificationThread, failure_id)
            permalink = f"https://{TEAM_DOMAIN}.slack.com/archives/{thread.channel}/p"
            assert f"<{permalink}{thread.ts.replace('.', '')}|The failure's thread>" in shown
            assert_safe(request, allowed_urls=stored_links(services, failure_id))
    assert len(requests) == asked


# ------------------------------------------------------ 32: the result ----


@settings(max_examples=examples(6))
@given(
    runs=st.lists(
        st.tuples(
            st.sampled_from(["network_blip.log", "registry_503.log"]),
            st.sampled_from(["success", "failure"]),
        ),
        min_size=1,
        max_size=2,
    ),
    deliveries=st.integers(1, 2),
)
def test_every_remediation_ends_with_one_result_message_that_matches_the_outcome(
    world: World,
    runs: list[tuple[str, str]],
    deliveries: int,
) -> None:
    """Property 32 (Notification): a failure remediated automatically is told "Remediating"
    once and then exactly one result in its thread, "Resolved" when the rerun passed and
    "Escalated to a human" when it failed again, matching its final state and saying what
    happened."""
    world.empty_tables()
    file, channels = one_channel_set(world)
    repository = world.repository("acme/remediated")
    services = world.services(**QUIET, **file, risk_threshold=10)
    detected = [
        detect(
            services,
            world,
            repository,
            log_text=demo_log(log),
            head_branch=f"b{n}",
            rerun_conclusions=(conclusion,),
        )
        for n, (log, conclusion) in enumerate(runs)
    ]
    settle(services, [f for _, follow_ups in detected for f in follow_ups], times=deliveries)

    for (failure_id, _), (_, conclusion) in zip(detected, runs, strict=True):
        seen = told(world, services, failure_id, list(channels.values()))
        titles = [title(m) for m in seen.thread]
        remediation = seen.failure.remediations[-1] if seen.failure.remediations else None
        if remediation is None:  # the gate found nothing safe to do: told why, no result
            assert seen.failure.state is FailureState.ESCALATED
            assert titles == ["Failure detected", "Analyzed", "Escalated to a human"]
            continue
        result = "Resolved" if conclusion == "success" else "Escalated to a human"
        assert titles == ["Failure detected", "Analyzed", "Remediating", result]
        wanted = FailureState.RESOLVED if conclusion == "success" else FailureState.ESCALATED
        assert seen.failure.state is wanted
        assert remediation.outcome_detail
        assert slack_escape(remediation.outcome_detail) in "\n".join(mrkdwn_texts(seen.thread[-1]))
        for message in seen.thread:
            assert_safe(message, allowed_urls=stored_links(services, failure_id))


# ------------------------------------------------------ 33: critical alerts ----


@settings(max_examples=examples(12))
@given(
    error=st.tuples(hostile, st.sampled_from(SECRETS), hostile).map(" ".join),
    notified_first=st.booleans(),
    own_critical=st.booleans(),
    deliveries=st.integers(1, 3),
)
def test_a_failure_that_cannot_be_processed_is_one_critical_alert_without_secrets(
    world: World,
    error: str,
    notified_first: bool,
    own_critical: bool,
    deliveries: int,
) -> None:
    """Property 33 (Notification): a failure whose processing gave up is told once in its
    repository's critical channel, with the error escaped and every secret in it redacted,
    and a link to the failure's thread (started by then, whether "detected" went out before
    or in the same delivery), however often it is redelivered."""
    world.empty_tables()
    repository = world.repository("acme/errored")
    file, routes = configure_channels(
        world, [repository], [{"critical"} if own_critical else set()]
    )
    services = world.services(**QUIET, **file)
    failure_id, follow_ups = detect(services, world, repository)
    if notified_first:
        settle(services, follow_ups, steps=frozenset({Step.NOTIFY}))
    # What the task base does when retries are exhausted (workers.base.fail_permanently).
    with services.sessions() as session, session.begin():
        assert mark_errored(
            session,
            failure_id=failure_id,
            error=f"RuntimeError: {error}",
            actor="ci_remediator.analyze",
        )
        errored = notice(session, failure_id, StageEvent.ERRORED)
    settle(services, [errored], times=deliveries)

    route = routes[repository]
    (alert,) = world.slack.messages(route["critical"])
    assert title(alert) == "ci-remediator could not process"
    assert_safe(alert)
    shown = "\n".join(mrkdwn_texts(alert))
    assert "RuntimeError" in shown
    assert "The failure's thread" in shown
    (detected,) = world.slack.messages(route["alerts"])
    assert title(detected) == "Failure detected"


# ------------------------------------------------------ 34: expiry ----


@settings(max_examples=examples(8))
@given(
    hours=st.sampled_from([0.1, 1.0, 24.0]),
    sweeps=st.lists(st.integers(0, 7200), min_size=1, max_size=3),
    notified_as_it_went=st.booleans(),
    deliveries=st.integers(1, 3),
)
def test_an_expired_request_is_told_once_in_the_critical_channel_with_what_nobody_decided(
    world: World,
    hours: float,
    sweeps: list[int],
    notified_as_it_went: bool,
    deliveries: int,
) -> None:
    """Property 34 (Notification): an approval request that times out is told exactly once, in
    its repository's critical channel, naming the action nobody decided and the deadline it
    passed and linking the failure's thread, however many sweeps find it and however often
    the message is redelivered."""
    world.empty_tables()
    repository = world.repository("acme/expired")
    file, routes = configure_channels(world, [repository], [{"critical", "approvals"}])
    services = world.services(
        **QUIET, **file, protected_repositories=[repository], approval_timeout_hours=hours
    )
    failure_id, follow_ups = detect(
        services, world, repository, log_text=demo_log("network_blip.log")
    )
    steps = {Step.ANALYZE, Step.GATE, Step.REQUEST_APPROVAL} | (
        {Step.NOTIFY} if notified_as_it_went else set()
    )
    settle(services, follow_ups, steps=frozenset(steps))
    with services.sessions() as session:
        approval = session.scalars(
            select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
        ).one()
    escalations: list[FollowUp] = []
    for seconds in sweeps:
        with services.sessions() as session, session.begin():
            now = approval.expires_at + timedelta(seconds=seconds)
            escalations.extend(expire_approvals(session, now=now).follow_ups)
    settle(services, escalations, times=deliveries)

    route = routes[repository]
    (alert,) = world.slack.messages(route["critical"])
    assert title(alert) == "Approval expired"
    shown = "\n".join(mrkdwn_texts(alert))
    deadline = f"{approval.expires_at:%Y-%m-%d %H:%M} UTC"
    assert f"nobody decided {approval.action.value} before {deadline}" in shown
    assert "The failure's thread" in shown
    assert_safe(alert)


# ------------------------------------------------------ 35: channels, end to end ----

PATHS = ("through", "expire", "error")


@settings(max_examples=examples(8))
@given(
    overridden=st.lists(st.sets(st.sampled_from(CHANNEL_KINDS)), min_size=2, max_size=2),
    protected=st.lists(st.booleans(), min_size=2, max_size=2),
    failures=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from(PATHS), known_hostile_logs),
        min_size=1,
        max_size=2,
    ),
)
# Always at least once: a protected repository's request to the approvals channel it overrides.
@example(
    overridden=[{"approvals"}, set()],
    protected=[True, False],
    failures=[(0, "through", demo_log("network_blip.log"))],
)
def test_every_message_goes_to_the_channel_its_repository_configures_and_carries_no_secret(
    world: World,
    overridden: list[set[str]],
    protected: list[bool],
    failures: list[tuple[int, str, str]],
) -> None:
    """Property 35 (Notification): whichever channels a repository overrides (none, some or
    all), every message of every stage goes to its repository's channel of that kind, the
    thread and its replies to alerts, requests to approvals, expiries and errors to critical,
    never to a channel the configuration does not name; no message carries a secret of a log
    or raw mrkdwn from a log, a model, a workflow or a branch."""
    world.empty_tables()
    repositories = [world.repository("acme/routed"), world.repository("acme/routed")]
    file, routes = configure_channels(world, repositories, overridden)
    services = world.services(
        **QUIET,
        **file,
        risk_threshold=10,
        protected_repositories=[r for r, p in zip(repositories, protected, strict=True) if p],
    )
    detected = []
    for n, (index, path, log) in enumerate(failures):
        failure_id, follow_ups = detect(
            services, world, repositories[index], log_text=log, head_branch=f"b{n}"
        )
        settle(services, follow_ups, steps=frozenset(Step) - {Step.EXECUTE})
        detected.append((failure_id, index, finish(services, failure_id, path)))

    configured = {c for route in routes.values() for c in route.values()}
    defaults = {"#ci-cd-alerts", "#ci-cd-approvals", "#critical-alerts"}
    for channel in defaults - configured:
        assert world.slack.messages(channel) == []
    for failure_id, index, critical in detected:
        route = routes[repositories[index]]
        seen = told(world, services, failure_id, list(configured))
        allowed = stored_links(services, failure_id)
        assert seen.thread, "every failure has its thread"
        for message in seen.thread:
            assert message.channel == world.slack.channel_id(route["alerts"])
            assert_safe(message, allowed_urls=allowed)
        for message in seen.elsewhere:
            kind = "approvals" if buttons(message) or message.updates else "critical"
            assert message.channel == world.slack.channel_id(route[kind])
            assert_safe(message, allowed_urls=allowed)
        critical_channel = world.slack.channel_id(route["critical"])
        in_critical = [m for m in seen.elsewhere if m.channel == critical_channel]
        assert len(in_critical) == int(critical)


def finish(services: Services, failure_id: int, path: str) -> bool:
    """Take a failure past the gate along `path`: approved (if it was asked) and executed,
    left to expire, or given up on as errored; whether that is told as critical."""
    with services.sessions() as session, session.begin():
        approval = session.scalar(
            select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
        )
        follow_ups: list[FollowUp] = []
        if path == "error":
            if mark_errored(
                session, failure_id=failure_id, error="boom", actor="ci_remediator.execute"
            ):
                follow_ups.append(notice(session, failure_id, StageEvent.ERRORED))
        elif path == "expire" and approval is not None:
            later = approval.expires_at + timedelta(seconds=1)
            follow_ups.extend(expire_approvals(session, now=later).follow_ups)
        elif approval is not None:
            follow_ups.extend(
                decide_approval(
                    session,
                    approval_id=approval.id,
                    decision=Decision.APPROVE,
                    decided_by=APPROVERS[0],
                    via="cli",
                    config=services.config,
                ).follow_ups
            )
        else:
            follow_ups.append(FollowUp(Step.EXECUTE, failure_id))
    settle(services, follow_ups)
    return any(f.event in (StageEvent.ERRORED, StageEvent.EXPIRED) for f in follow_ups)
