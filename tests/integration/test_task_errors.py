"""How the base task sorts errors: retry, leave for the sweep, wait for GitHub, or park the
failure in `errored` with an alert. Driven through a real task's error handling on Postgres."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from celery.exceptions import Retry, SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from ci_remediator.db.models import DetectionSource, Failure
from ci_remediator.db.refused_credentials import credential_disabled
from ci_remediator.domain import FailureState
from ci_remediator.github.errors import (
    AuthenticationError,
    PermanentGitHubError,
    RateLimitedError,
    TransientGitHubError,
)
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.services import Services
from tests.integration.conftest import record_sandbox_failure
from workers.base import MAX_TIME_LIMIT_OVERRUNS, PipelineTask, is_transient


@pytest.fixture
def failure_id(services: Services, sandbox: GitHubSandbox, committed_db: object) -> int:
    with services.sessions() as session, session.begin():
        return record_sandbox_failure(session, services, sandbox, source=DetectionSource.POLL)


@pytest.fixture
def gate_task(failure_id: int) -> Iterator[PipelineTask]:
    """The gate task as a worker runs it (a retry re-sends it to the test's Redis)."""
    from workers.tasks import gate

    gate.push_request(
        retries=0, id="test-task-id", called_directly=False, kwargs={"failure_id": failure_id}
    )
    yield gate
    gate.pop_request()


def state(services: Services, failure_id: int) -> FailureState:
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return failure.state


@pytest.mark.parametrize(
    "error",
    [
        TransientGitHubError("502 from GitHub", status=502),
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        redis.exceptions.ConnectionError("broker gone"),
        ConnectionError("reset by peer"),
        TimeoutError("timed out"),
    ],
    ids=type,
)
def test_a_transient_error_is_retried_with_the_failure_left_where_it_was(
    services: Services, gate_task: PipelineTask, failure_id: int, error: Exception
) -> None:
    assert is_transient(error)
    with pytest.raises(Retry):
        gate_task._handle_error(error, failure_id=failure_id)
    assert state(services, failure_id) is FailureState.DETECTED


@pytest.mark.parametrize("error", [ValueError("bug"), PermanentGitHubError("404", status=404)])
def test_a_permanent_error_parks_the_failure_in_errored(
    services: Services, gate_task: PipelineTask, failure_id: int, error: Exception
) -> None:
    assert not is_transient(error)
    gate_task._handle_error(error, failure_id=failure_id)  # no retry: it returns
    assert state(services, failure_id) is FailureState.ERRORED
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        assert type(error).__name__ in (failure.last_error or "")


def test_retries_run_out_into_errored(
    services: Services, gate_task: PipelineTask, failure_id: int
) -> None:
    gate_task.request.retries = gate_task.max_retries
    gate_task._handle_error(TransientGitHubError("still 502", status=502), failure_id=failure_id)
    assert state(services, failure_id) is FailureState.ERRORED


def test_a_read_the_gateway_already_retried_is_not_retried_again_by_the_task(
    services: Services, gate_task: PipelineTask, failure_id: int
) -> None:
    error = TransientGitHubError("502 three times", status=502)
    error.retried = True
    gate_task._handle_error(error, failure_id=failure_id)  # neither Retry nor errored
    assert state(services, failure_id) is FailureState.DETECTED


def test_the_gateway_marks_a_read_it_retried(sandbox: GitHubSandbox, services: Services) -> None:
    sandbox.inject_error(502, path_pattern=r".*/actions/runs/424242$", times=10)
    gateway = services.gateway
    with pytest.raises(TransientGitHubError) as caught:
        gateway.get_run("acme/web", 424242)
    assert caught.value.retried
    assert sandbox.count("GET", r".*/actions/runs/424242$") == 3  # the read's own attempts


def test_rate_limited_waits_without_spending_a_retry(
    services: Services, gate_task: PipelineTask, failure_id: int
) -> None:
    gate_task.request.retries = 7
    with pytest.raises(Retry) as caught:
        gate_task._handle_error(
            RateLimitedError("budget spent", retry_after_s=3_600), failure_id=failure_id
        )
    assert caught.value.when == 300  # capped: no message sits in the broker for an hour
    assert state(services, failure_id) is FailureState.DETECTED


def test_a_refused_credential_is_disabled_once_and_the_failure_waits(
    services: Services, gate_task: PipelineTask, failure_id: int
) -> None:
    error = AuthenticationError("401 Bad credentials", status=401)
    gate_task._handle_error(error, failure_id=failure_id)
    gate_task._handle_error(error, failure_id=failure_id)
    assert state(services, failure_id) is FailureState.DETECTED
    with services.sessions() as session:
        assert credential_disabled(session, services.github_credential.fingerprint)


def test_an_errored_failure_queues_its_critical_notice(
    services: Services, gate_task: PipelineTask, failure_id: int
) -> None:
    from sqlalchemy import select

    from ci_remediator.db.models import Notification

    gate_task._handle_error(ValueError("bug"), failure_id=failure_id)
    with services.sessions() as session:
        events = session.scalars(
            select(Notification.event).where(Notification.failure_id == failure_id)
        ).all()
    assert events == ["errored"]


def test_a_step_past_its_time_limit_is_left_for_the_sweep_until_it_keeps_overrunning(
    services: Services, gate_task: PipelineTask, failure_id: int
) -> None:
    """It may have half-acted on GitHub, so `errored` would strand that; the sweep re-sends it
    (the step asks GitHub first) up to MAX_TIME_LIMIT_OVERRUNS times."""
    overrun = SoftTimeLimitExceeded()
    for _ in range(MAX_TIME_LIMIT_OVERRUNS - 1):
        gate_task._handle_error(overrun, failure_id=failure_id)
        assert state(services, failure_id) is FailureState.DETECTED

    gate_task._handle_error(overrun, failure_id=failure_id)

    assert state(services, failure_id) is FailureState.ERRORED
