"""Domain steps against the real Postgres and the GitHub sandbox, without a worker:
exactly-once execution, verification outcomes, and errors that reach a human."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.models import Failure, Remediation, RemediationStatus
from ci_remediator.domain import FailureState, StageEvent, Step
from ci_remediator.github.errors import TransientGitHubError
from ci_remediator.github.gateway import GitHubGateway
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.detect import poll_repository
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.rollback import roll_back_remediation
from ci_remediator.pipeline.verify import verify_remediation
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB, demo_log
from ci_remediator.services import Services
from tests.integration.conftest import record_sandbox_failure

RERUNS = r".*/rerun-failed-jobs"
VERIFY_TIMEOUT = timedelta(minutes=5)


def verify(session: Session, services: Services, failure_id: int, **options: object) -> bool:
    """One verify check; True while it waits for the attempt to complete."""
    return verify_remediation(
        session,
        failure_id=failure_id,
        gateway=services.gateway,
        timeout=VERIFY_TIMEOUT,
        **options,  # type: ignore[arg-type]
    ).waiting


def executing_failure(
    session: Session,
    services: Services,
    sandbox: GitHubSandbox,
    *,
    rerun: str = "success",
    polls_until_complete: int = 1,
) -> int:
    """A network-blip failure taken through analyze and gate: `executing`, row committed."""
    failure_id = record_sandbox_failure(
        session,
        services,
        sandbox,
        log_text=demo_log("network_blip.log"),
        rerun_conclusions=(rerun,),
        polls_until_complete=polls_until_complete,
    )
    analyze_failure(
        session,
        failure_id=failure_id,
        gateway=services.gateway,
        knowledge_base=services.knowledge_base,
    )
    result = gate_failure(session, failure_id=failure_id, config=services.config)
    assert [f.step for f in result.follow_ups] == [Step.EXECUTE, Step.NOTIFY]
    return failure_id


def test_execute_twice_sends_one_rerun(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = executing_failure(db_session, services, sandbox)
    first = execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    second = execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    assert [f.step for f in first.follow_ups] == [Step.VERIFY]
    assert second.follow_ups == ()
    assert sandbox.count("POST", RERUNS) == 1


def test_redelivered_execute_does_not_resend_when_the_attempt_already_exists(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    """A worker died after GitHub accepted the rerun but before recording it."""
    failure_id = executing_failure(db_session, services, sandbox)
    failure = db_session.get(Failure, failure_id)
    services.gateway.rerun_failed_jobs(WEB, failure.run_id)  # the call whose record was lost
    execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    assert sandbox.count("POST", RERUNS) == 1
    remediation = db_session.scalar(select(Remediation).where(Remediation.failure_id == failure_id))
    assert remediation.status is RemediationStatus.REQUESTED
    assert "not sent again" in remediation.outcome_detail


def test_verify_waits_then_resolves(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = executing_failure(db_session, services, sandbox)
    execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    first = verify(db_session, services, failure_id)
    second = verify(db_session, services, failure_id)
    assert (first, second) == (True, False)
    assert db_session.get(Failure, failure_id).state is FailureState.RESOLVED


def test_failed_rerun_escalates_and_is_not_detected_as_new(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = executing_failure(db_session, services, sandbox, rerun="failure")
    execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    while verify(db_session, services, failure_id):
        pass
    assert db_session.get(Failure, failure_id).state is FailureState.ESCALATED
    # The failed attempt 2 is ours: polling must not turn it into a second failure.
    polled = poll_repository(
        db_session, gateway=services.gateway, repository=WEB, lookback=timedelta(days=1)
    )
    assert polled.follow_ups == ()
    assert len(db_session.scalars(select(Failure)).all()) == 1


def test_verify_waits_until_the_timeout_then_the_attempt_still_running_is_cancelled(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    """The deadline counts from when GitHub accepted the rerun, not from the task's retries;
    past it, the rollback step cancels the attempt still running, once."""
    failure_id = executing_failure(db_session, services, sandbox, polls_until_complete=100)
    execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    remediation = db_session.scalar(select(Remediation).where(Remediation.failure_id == failure_id))
    requested_at = remediation.requested_at
    assert verify(db_session, services, failure_id, now=requested_at + VERIFY_TIMEOUT * 0.99)
    assert db_session.get(Failure, failure_id).state is FailureState.VERIFYING
    timed_out = verify_remediation(
        db_session,
        failure_id=failure_id,
        gateway=services.gateway,
        timeout=VERIFY_TIMEOUT,
        now=requested_at + VERIFY_TIMEOUT,
    )
    assert [f.step for f in timed_out.follow_ups] == [Step.ROLLBACK]
    assert db_session.get(Failure, failure_id).state is FailureState.REMEDIATION_FAILED
    assert remediation.status is RemediationStatus.FAILED
    assert "timed out" in remediation.outcome_detail

    rolled = roll_back_remediation(db_session, failure_id=failure_id, gateway=services.gateway)
    again = roll_back_remediation(db_session, failure_id=failure_id, gateway=services.gateway)
    run_id = db_session.get(Failure, failure_id).run_id
    assert db_session.get(Failure, failure_id).state is FailureState.ROLLED_BACK
    assert [f.event for f in rolled.follow_ups] == [StageEvent.ROLLED_BACK]
    assert again.follow_ups == ()
    assert "rolled back: cancelled attempt 2" in remediation.outcome_detail
    assert sandbox.count("POST", rf".*/runs/{run_id}/cancel") == 1


def test_a_rollback_that_finds_the_attempt_finished_escalates_and_cancels_nothing(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = executing_failure(
        db_session, services, sandbox, rerun="failure", polls_until_complete=4
    )
    execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    remediation = db_session.scalar(select(Remediation).where(Remediation.failure_id == failure_id))
    timed_out = verify_remediation(
        db_session,
        failure_id=failure_id,
        gateway=services.gateway,
        timeout=VERIFY_TIMEOUT,
        now=remediation.requested_at + VERIFY_TIMEOUT,
    )
    # The attempt completed between the deadline and the rollback (it was polled once).
    while not services.gateway.get_run_attempt(WEB, remediation.run_id, 2).is_completed:
        pass
    assert [f.step for f in timed_out.follow_ups] == [Step.ROLLBACK]
    roll_back_remediation(db_session, failure_id=failure_id, gateway=services.gateway)
    assert db_session.get(Failure, failure_id).state is FailureState.ESCALATED
    assert sandbox.count("POST", rf".*/runs/{remediation.run_id}/cancel") == 0


def test_refused_rerun_reaches_a_human(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = executing_failure(db_session, services, sandbox)
    failure = db_session.get(Failure, failure_id)
    sandbox.inject_error(
        403,
        path_pattern=rf".*/runs/{failure.run_id}/rerun-failed-jobs",
        method="POST",
        message="Unable to re-run this workflow run",
    )
    result = execute_remediation(
        db_session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
    )
    assert db_session.get(Failure, failure_id).state is FailureState.ESCALATED
    assert [f.step for f in result.follow_ups] == [Step.NOTIFY]
    remediation = db_session.scalar(select(Remediation).where(Remediation.failure_id == failure_id))
    assert remediation.status is RemediationStatus.REFUSED


def test_permanent_error_marks_the_failure_errored(
    services: Services, sandbox: GitHubSandbox, committed_db: object
) -> None:
    """A task whose GitHub call fails for good parks the failure in `errored`."""
    from workers.tasks import analyze

    with services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(session, services, sandbox)
        # Point the row at a run GitHub does not know: every read of it is a 404.
        session.get(Failure, failure_id).run_id = 999_999
    from ci_remediator.github.gateway import PermanentGitHubError

    with pytest.raises(PermanentGitHubError):
        analyze(failure_id=failure_id)
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure.state is FailureState.ERRORED
        assert "PermanentGitHubError" in failure.last_error


def _execute_like_a_task(session: Session, services: Services, failure_id: int) -> None:
    """One delivery of the execute task: its transaction rolls back if the step raises."""
    with session.begin_nested():
        execute_remediation(
            session, failure_id=failure_id, gateway=services.gateway, verify_after_s=0
        )


def test_a_rerun_post_that_timed_out_after_github_acted_is_not_sent_again(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = executing_failure(db_session, services, sandbox)
    run_id = db_session.get(Failure, failure_id).run_id
    # GitHub starts the rerun, then the answer is too slow: the client cannot tell it worked.
    sandbox.set_latency(3.0, path_pattern=RERUNS, method="POST", times=1)
    slow_client = GitHubGateway(base_url=sandbox.url, token="ghp_slow", timeout_s=1)
    services._local.gateway = slow_client

    with pytest.raises(TransientGitHubError):
        _execute_like_a_task(db_session, services, failure_id)
    _execute_like_a_task(db_session, services, failure_id)  # the retry

    assert sandbox.count("POST", RERUNS) == 1
    assert [a.trigger for a in sandbox.attempts(WEB, run_id)] == ["initial", "rerun-failed-jobs"]
    assert db_session.get(Failure, failure_id).state is FailureState.VERIFYING


def test_a_5xx_on_the_rerun_post_is_retried_into_exactly_one_rerun(
    db_session: Session, services: Services, sandbox: GitHubSandbox
) -> None:
    failure_id = executing_failure(db_session, services, sandbox)
    run_id = db_session.get(Failure, failure_id).run_id
    sandbox.inject_error(502, path_pattern=RERUNS, method="POST")

    with pytest.raises(TransientGitHubError) as caught:
        _execute_like_a_task(db_session, services, failure_id)
    _execute_like_a_task(db_session, services, failure_id)
    _execute_like_a_task(db_session, services, failure_id)  # a redelivery on top

    assert caught.value.status == 502
    assert sandbox.count("POST", RERUNS) == 2  # the refused one, then the one that took
    assert len(sandbox.attempts(WEB, run_id)) == 2  # one rerun, never two
    assert db_session.get(Failure, failure_id).state is FailureState.VERIFYING
