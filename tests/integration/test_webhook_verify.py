"""Verify from GitHub's deliveries: the attempt a rerun started is judged by its signed
`workflow_run` delivery, and its jobs by their `workflow_job` deliveries, without asking
GitHub; anything a delivery did not say is still asked. Real HTTP into the web app, on
Postgres; the sandbox completes the rerun on its clock and sends the deliveries, as GitHub
does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ci_remediator.config import get_config, load_config
from ci_remediator.db.models import (
    AuditEntry,
    Failure,
    FlakyEvidence,
    ObservedConclusion,
    Remediation,
)
from ci_remediator.domain import FailureState, FollowUp, Step
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB, demo_log
from ci_remediator.sandbox.webhook_sender import (
    WebhookSender,
    completion_announcer,
    workflow_job_payload,
    workflow_run_payload,
)
from ci_remediator.services import Services, set_services
from tests.integration.conftest import record_sandbox_failure
from tests.integration.webhook_server import serving_web_app

SECRET = "It's a Secret to Everybody"
ATTEMPT_READS = r".*/actions/runs/\d+/attempts/2$"
ATTEMPT_JOB_READS = r".*/actions/runs/\d+/attempts/2/jobs"


@pytest.fixture
def services(sandbox: GitHubSandbox, committed_db: Engine, tmp_path: Path) -> Iterator[Services]:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {"repositories": [WEB], "category_actions": {"infrastructure": ["rerun_failed_jobs"]}}
        ),
        encoding="utf-8",
    )
    get_config.cache_clear()
    installed = Services(
        load_config(
            env_overrides={
                "github_api_url": sandbox.url,
                "github_webhook_secret": SECRET,
                "config_file": config,
            }
        )
    )
    set_services(installed)
    yield installed
    set_services(None)


@pytest.fixture
def enqueued() -> list[FollowUp]:
    return []


@pytest.fixture
def sender(services: Services, enqueued: list[FollowUp]) -> Iterator[WebhookSender]:
    def enqueue(follow_ups: Sequence[FollowUp]) -> None:
        enqueued.extend(follow_ups)

    with (
        serving_web_app(services, enqueue) as base_url,
        WebhookSender(f"{base_url}/webhooks/github", SECRET) as signed,
    ):
        yield signed


Announce = Callable[[str, int], None]


def rerun_announced(
    services: Services, sandbox: GitHubSandbox, announce: Announce, **run_options: object
) -> int:
    """A failure the gate re-runs; the rerun completes at once and `announce` is called, as
    GitHub's deliveries would be sent. The failure waits in VERIFYING when this returns."""
    announced = threading.Event()

    def announcing(repository: str, run_id: int) -> None:
        announce(repository, run_id)
        announced.set()

    sandbox.complete_reruns_after(0, announcing)
    with services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(
            session, services, sandbox, log_text=demo_log("network_blip.log"), **run_options
        )
    with services.sessions() as session, session.begin():
        analyze_failure(
            session,
            failure_id=failure_id,
            gateway=services.gateway,
            knowledge_base=services.knowledge_base,
        )
    with services.sessions() as session, session.begin():
        gated = gate_failure(session, failure_id=failure_id, config=services.config)
    assert Step.EXECUTE in [f.step for f in gated.follow_ups]
    with services.sessions() as session, session.begin():
        execute_remediation(
            session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
        )
    assert announced.wait(10), "the sandbox never completed the rerun"
    return failure_id


def verify(services: Services, failure_id: int) -> bool:
    with services.sessions() as session, session.begin():
        return verify_remediation(
            session,
            failure_id=failure_id,
            gateway=services.gateway,
            timeout=timedelta(minutes=5),
            knowledge_base=services.knowledge_base,
        ).waiting


def state_of(services: Services, failure_id: int) -> FailureState:
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return failure.state


def flaky_jobs(services: Services) -> list[str]:
    with services.sessions() as session:
        return list(session.scalars(select(FlakyEvidence.job_name)))


def observed(services: Services) -> list[tuple[int, str | None, str]]:
    with services.sessions() as session:
        rows = session.execute(
            select(
                ObservedConclusion.job_id,
                ObservedConclusion.job_name,
                ObservedConclusion.conclusion,
            ).order_by(ObservedConclusion.job_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_rerun_that_passed_is_resolved_from_its_deliveries_without_asking_github(
    services: Services, sandbox: GitHubSandbox, sender: WebhookSender, enqueued: list[FollowUp]
) -> None:
    failure_id = rerun_announced(services, sandbox, completion_announcer(sandbox, sender))

    assert enqueued == [FollowUp(Step.VERIFY, failure_id)]  # verify now, not at its next poll
    assert [(name, conclusion) for _, name, conclusion in observed(services)] == [
        (None, "success"),  # the attempt
        ("prepare", "success"),
        ("test", "success"),
    ]
    assert not verify(services, failure_id)

    assert state_of(services, failure_id) is FailureState.RESOLVED
    assert sandbox.count("GET", ATTEMPT_READS) == 0
    assert sandbox.count("GET", ATTEMPT_JOB_READS) == 0
    assert flaky_jobs(services) == ["test"]  # the failed job passed on the same commit
    with services.sessions() as session:
        resolved = session.scalars(
            select(AuditEntry).where(AuditEntry.to_state == FailureState.RESOLVED.value)
        ).one()
    assert resolved.detail["outcome"] == "attempt 2 concluded success (GitHub's delivery said so)"


def test_a_rerun_whose_failed_jobs_delivery_never_came_asks_github_which_jobs_passed(
    services: Services, sandbox: GitHubSandbox, sender: WebhookSender
) -> None:
    def failed_jobs_delivery_lost(repository: str, run_id: int) -> None:
        payload = workflow_job_payload(sandbox, repository, run_id, job_name="prepare")
        sender.deliver("workflow_job", payload)  # the job that passed before too
        sender.deliver("workflow_run", workflow_run_payload(sandbox, repository, run_id))

    failure_id = rerun_announced(services, sandbox, failed_jobs_delivery_lost)

    assert not verify(services, failure_id)

    assert state_of(services, failure_id) is FailureState.RESOLVED
    assert sandbox.count("GET", ATTEMPT_READS) == 0
    assert sandbox.count("GET", ATTEMPT_JOB_READS) == 1
    assert flaky_jobs(services) == ["test"]


def test_a_job_a_delivery_says_did_not_pass_is_no_flaky_evidence(
    services: Services, sandbox: GitHubSandbox, sender: WebhookSender
) -> None:
    def test_job_skipped(repository: str, run_id: int) -> None:
        for name in ("prepare", "test"):
            payload = workflow_job_payload(sandbox, repository, run_id, job_name=name)
            if name == "test":
                payload["workflow_job"]["conclusion"] = "skipped"
            sender.deliver("workflow_job", payload)
        sender.deliver("workflow_run", workflow_run_payload(sandbox, repository, run_id))

    failure_id = rerun_announced(services, sandbox, test_job_skipped)

    assert not verify(services, failure_id)

    assert state_of(services, failure_id) is FailureState.RESOLVED
    assert flaky_jobs(services) == []
    assert sandbox.count("GET", ATTEMPT_JOB_READS) == 0


def test_a_rerun_that_failed_is_read_from_github_and_escalated_with_its_diagnosis(
    services: Services, sandbox: GitHubSandbox, sender: WebhookSender
) -> None:
    failure_id = rerun_announced(
        services, sandbox, completion_announcer(sandbox, sender), rerun_conclusions=("failure",)
    )

    assert observed(services)[0] == (0, None, "failure")
    assert not verify(services, failure_id)

    assert state_of(services, failure_id) is FailureState.ESCALATED
    assert sandbox.count("GET", ATTEMPT_READS) >= 1  # a failed attempt is read again
    with services.sessions() as session:
        (remediation,) = session.scalars(select(Remediation))
    assert remediation.outcome_detail == "attempt 2 concluded failure"
    assert remediation.result["rerun_analysis"]["attempt"] == 2


def test_deliveries_of_attempts_no_remediation_awaits_are_not_kept(
    services: Services, sandbox: GitHubSandbox, sender: WebhookSender, enqueued: list[FollowUp]
) -> None:
    run_id = sandbox.add_successful_run(WEB, workflow_name="CI", job_name="test", log_text="ok")

    run_answer = sender.deliver("workflow_run", workflow_run_payload(sandbox, WEB, run_id))
    job_answer = sender.deliver("workflow_job", workflow_job_payload(sandbox, WEB, run_id))

    assert (run_answer.status_code, job_answer.status_code) == (202, 202)
    assert observed(services) == []
    assert enqueued == []


def test_a_conclusion_is_kept_once_none_is_not_kept_and_a_malformed_one_is_a_400(
    services: Services, sandbox: GitHubSandbox, sender: WebhookSender
) -> None:
    def run_delivery_only(repository: str, run_id: int) -> None:
        sender.deliver("workflow_run", workflow_run_payload(sandbox, repository, run_id))

    failure_id = rerun_announced(services, sandbox, run_delivery_only)
    with services.sessions() as session:
        run_id = session.get(Failure, failure_id).run_id  # type: ignore[union-attr]
    payload = workflow_run_payload(sandbox, WEB, run_id)
    job = workflow_job_payload(sandbox, WEB, run_id, job_name="test")

    again = sender.deliver("workflow_run", payload)
    job["workflow_job"]["conclusion"] = None  # not concluded: nothing to keep
    unconcluded = sender.deliver("workflow_job", job)
    job["workflow_job"]["conclusion"] = "success\x00"
    malformed = sender.deliver("workflow_job", job)
    payload["workflow_run"]["conclusion"] = ["success"]
    not_a_string = sender.deliver("workflow_run", payload)

    assert again.status_code == 200
    assert unconcluded.status_code == 202
    assert (malformed.status_code, not_a_string.status_code) == (400, 400)
    assert "workflow_job.conclusion" in malformed.json()["error"]
    assert "workflow_run.conclusion" in not_a_string.json()["error"]
    assert observed(services) == [(0, None, "success")]


def test_a_delivery_of_another_attempt_of_the_run_says_nothing_of_the_awaited_one(
    services: Services, sandbox: GitHubSandbox, sender: WebhookSender, enqueued: list[FollowUp]
) -> None:
    announced: list[int] = []
    failure_id = rerun_announced(services, sandbox, lambda _, run_id: announced.append(run_id))
    (run_id,) = announced
    first_attempt = workflow_run_payload(sandbox, WEB, run_id)
    first_attempt["workflow_run"]["run_attempt"] = 1  # the failed attempt, delivered again

    answer = sender.deliver("workflow_run", first_attempt)

    assert answer.json().get("observed") is None
    assert observed(services) == []
    assert not verify(services, failure_id)  # read from GitHub: the attempt passed
    assert state_of(services, failure_id) is FailureState.RESOLVED
    assert sandbox.count("GET", ATTEMPT_READS) == 1
