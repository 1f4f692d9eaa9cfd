"""The rest of the real faults: a pool child SIGKILLed while `verify` waits on GitHub, the
broker restarted (and so emptied) in the middle of a batch, a task killed at its hard time
limit. Each runs a real prefork worker subprocess on the test's own Redis and PostgreSQL
(tests/reliability/conftest.py) against the GitHub sandbox, and checks that every failure
ends in a terminal state with GitHub asked to act exactly once per remediation."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Select, func, select

from ci_remediator.db.models import (
    AuditEntry,
    DetectionSource,
    Failure,
    FlakyEvidence,
    MetricSample,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import FailureState, Step
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.sandbox.scenarios import WEB, demo_log
from tests.integration.conftest import wait_until
from tests.reliability.conftest import (
    RedisServer,
    Stack,
    holder_of_a_connection_to,
    running_stack,
    sandbox_port,
    send_task,
    start_worker,
    stop_worker,
)

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

# GitHub's answer to the call the kill lands in is held this long.
HELD_RESPONSE_S = 6.0
# The reconcile sweep re-sends what has not moved for 3 s (config `stuck_after_minutes`).
STUCK_AFTER_MINUTES = 0.05
SWEEP_EVERY_S = 1.5


@pytest.fixture
def stack(private_postgres: str, private_redis: str, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(
        private_postgres,
        private_redis,
        tmp_path,
        verify_poll_seconds=0.3,
        # Long enough that no verification here times out (which would roll the rerun back).
        verify_timeout_minutes=1,
        stuck_after_minutes=STUCK_AFTER_MINUTES,
        noise_window_minutes=0,
    ) as running:
        yield running


def _add_run(stack: Stack, *, workflow: str = "CI", polls_until_complete: int = 1) -> int:
    return stack.sandbox.add_failed_run(
        WEB,
        workflow_name=workflow,
        job_name="test",
        log_text=demo_log("network_blip.log"),
        rerun_conclusions=("success",),
        polls_until_complete=polls_until_complete,
    )


def _record(stack: Stack, run_id: int) -> int:
    services = stack.services
    with services.sessions() as session, session.begin():
        failure_id = record_failure(
            session, run=services.gateway.get_run(WEB, run_id), source=DetectionSource.POLL
        )
    assert failure_id is not None
    return failure_id


def _send_analyze(stack: Stack, failure_id: int) -> None:
    send_task(
        stack.broker_url,
        "ci_remediator.analyze",
        queue="analyze",
        kwargs={"failure_id": failure_id},
    )


def _sweep(stack: Stack) -> None:
    """What beat sends every few minutes: the reconcile task, to the private broker."""
    send_task(stack.broker_url, "ci_remediator.reconcile", queue="default")


def _rerun_path(run_id: int) -> str:
    return rf".*/runs/{run_id}/rerun-failed-jobs"


def _wait_for_ready(log: Path) -> None:
    # Redis routes by the bindings a consumer declares: publish once the worker is up.
    assert wait_until(lambda: "ready." in log.read_text(), timeout_s=40), log.read_text()


def _count(stack: Stack, statement: Select[int]) -> int:
    with stack.services.sessions() as session:
        return session.scalar(statement) or 0


# ---------------------------------------------------------------- 1. a kill in verify ----


@pytest.mark.parametrize(
    "held",
    [
        # The first read of the new attempt: nothing is written yet.
        "attempts/2",
        # The jobs of the passed attempt (for flaky evidence): by then the transaction holds
        # the resolved transition, the latency sample and the outcome, none committed.
        "attempts/2/jobs",
    ],
    ids=["attempt", "jobs"],
)
def test_a_pool_child_killed_while_verify_waits_on_github_resolves_once(
    stack: Stack, tmp_path: Path, held: str
) -> None:
    # Guards reject-on-worker-lost (workers/base.py, PipelineTask: `reject_on_worker_lost =
    # True`; set it False and the killed verify's message is acked and gone: with no sweep
    # sent here the failure stays `verifying`). The counts check that the killed attempt,
    # rolled back with its connection, left nothing the redelivered verify adds to.
    sandbox = stack.sandbox
    run_id = _add_run(stack)
    held_path = rf".*/runs/{run_id}/{held}"
    sandbox.set_latency(HELD_RESPONSE_S, path_pattern=held_path, method="GET", times=1)
    failure_id = _record(stack, run_id)

    log = tmp_path / "worker.log"
    worker = start_worker(stack.env, log)
    try:
        _wait_for_ready(log)
        _send_analyze(stack, failure_id)
        assert wait_until(lambda: sandbox.count("GET", held_path) == 1, timeout_s=40), (
            log.read_text()[-4000:]
        )
        # GitHub answered nothing yet: the child waiting for the answer dies now.
        child = holder_of_a_connection_to(sandbox_port(sandbox))
        assert child != worker.pid
        os.kill(child, signal.SIGKILL)
        assert wait_until(lambda: stack.state(failure_id).is_terminal, timeout_s=40), (
            stack.state(failure_id),
            log.read_text()[-4000:],
        )
    finally:
        stop_worker(worker)

    assert stack.state(failure_id) is FailureState.RESOLVED
    assert sandbox.count("POST", _rerun_path(run_id)) == 1
    assert sandbox.run_attempt(WEB, run_id) == 2
    # The killed read was asked again by the redelivered verify.
    assert sandbox.count("GET", held_path) >= 2
    assert "WorkerLostError" in log.read_text()
    with stack.services.sessions() as session:
        (remediation,) = session.scalars(select(Remediation)).all()
    assert remediation.status is RemediationStatus.SUCCEEDED
    resolved = select(func.count(AuditEntry.id)).where(
        AuditEntry.failure_id == failure_id,
        AuditEntry.action == "transition",
        AuditEntry.to_state == FailureState.RESOLVED.value,
    )
    assert _count(stack, resolved) == 1
    latency = select(func.count(MetricSample.id)).where(
        MetricSample.failure_id == failure_id, MetricSample.name == "remediation_latency_seconds"
    )
    assert _count(stack, latency) == 1
    flaky = select(func.count(FlakyEvidence.id)).where(FlakyEvidence.failure_id == failure_id)
    assert _count(stack, flaky) == 1


# ------------------------------------------------------ 2. Redis restarted mid-batch ----

BATCH = 5


def test_a_batch_survives_a_redis_restart_through_the_sweep(
    stack: Stack, redis_server: RedisServer, tmp_path: Path
) -> None:
    # Guards the reconcile sweep (ci_remediator/pipeline/reconcile.py, find_stuck_failures:
    # the `Failure.updated_at < deadline` query and NEXT_STEP): the restart drops every
    # message (queued, reserved, waiting on a countdown, being published) and leaves the
    # batch spread over several states; only the sweep, reading Postgres, sends them again.
    # Re-sends may race what survived, and each run must still be rerun exactly once.
    sandbox = stack.sandbox
    # Distinct workflows: runs of one workflow on one branch would supersede each other.
    runs = [_add_run(stack, workflow=f"CI {n}", polls_until_complete=3) for n in range(BATCH)]
    failures = {run_id: _record(stack, run_id) for run_id in runs}

    log = tmp_path / "worker.log"
    worker = start_worker(stack.env, log, concurrency=2)
    try:
        _wait_for_ready(log)
        for failure_id in failures.values():
            _send_analyze(stack, failure_id)
        # In the middle of the batch: the first rerun was asked for, the rest is in flight.
        assert wait_until(
            lambda: any(sandbox.count("POST", _rerun_path(run_id)) for run_id in runs),
            timeout_s=40,
        ), log.read_text()[-4000:]
        in_flight = [f for f in failures.values() if not stack.state(f).is_terminal]
        redis_server.restart(down_for_s=0.5)
        assert in_flight, "the restart came after the batch had finished: nothing was tested"

        def settled() -> bool:
            if all(stack.state(f).is_terminal for f in failures.values()):
                return True
            _sweep(stack)
            time.sleep(SWEEP_EVERY_S)
            return False

        assert wait_until(settled, timeout_s=45), (
            {f: stack.state(f) for f in failures.values()},
            log.read_text()[-4000:],
        )
    finally:
        stop_worker(worker)

    assert {f: stack.state(f) for f in failures.values()} == dict.fromkeys(
        failures.values(), FailureState.RESOLVED
    )
    assert {run_id: sandbox.count("POST", _rerun_path(run_id)) for run_id in runs} == dict.fromkeys(
        runs, 1
    )
    assert {run_id: sandbox.run_attempt(WEB, run_id) for run_id in runs} == dict.fromkeys(runs, 2)
    # The restart lost messages and the sweep is what re-sent them.
    resent = select(func.count(AuditEntry.id)).where(
        AuditEntry.actor == "reconciler", AuditEntry.action == "resent"
    )
    assert _count(stack, resent) >= 1
    with stack.services.sessions() as session:
        remediations = session.scalars(select(Remediation)).all()
    assert sorted(r.failure_id for r in remediations) == sorted(failures.values())


# ------------------------------------------------------ 3. the hard time limit ----

# The limits of the one message the test publishes (Celery's per-message `time_limit` and
# `soft_time_limit`, which the worker obeys over the task's own): the production limits are
# literals on each task's decorator (workers/tasks.py), 90 s soft and 120 s hard for execute,
# and nothing shortens them for a whole worker. The re-sent task runs under the production
# limits. Prefork starts the hard timer when the soft one fires, so a soft limit comes first.
SOFT_LIMIT_S = 4
HARD_LIMIT_S = 6


def _executing(stack: Stack, run_id: int) -> int:
    """A failure analyzed and gated here, by the step functions the tasks call: `executing`,
    its remediation `pending`, the execute task not sent yet."""
    services = stack.services
    failure_id = _record(stack, run_id)
    with services.sessions() as session, session.begin():
        analyze_failure(
            session,
            failure_id=failure_id,
            gateway=services.gateway,
            knowledge_base=services.knowledge_base,
            burst_window=timedelta(0),
        )
    with services.sessions() as session, session.begin():
        gated = gate_failure(session, failure_id=failure_id, config=services.config)
    assert Step.EXECUTE in [follow_up.step for follow_up in gated.follow_ups]
    assert stack.state(failure_id) is FailureState.EXECUTING
    return failure_id


def _send_execute_with_short_limits(stack: Stack, failure_id: int) -> None:
    send_task(
        stack.broker_url,
        "ci_remediator.execute",
        queue="execute",
        kwargs={"failure_id": failure_id},
        soft_time_limit=SOFT_LIMIT_S,
        time_limit=HARD_LIMIT_S,
    )


def _sweep_until_terminal(stack: Stack, failure_id: int, log: Path) -> None:
    def settled() -> bool:
        if stack.state(failure_id).is_terminal:
            return True
        _sweep(stack)
        time.sleep(SWEEP_EVERY_S)
        return False

    assert wait_until(settled, timeout_s=40), (stack.state(failure_id), log.read_text()[-4000:])


def _remediation_status(stack: Stack) -> RemediationStatus:
    with stack.services.sessions() as session:
        (remediation,) = session.scalars(select(Remediation)).all()
        return remediation.status


def test_a_task_killed_at_its_hard_time_limit_after_githubs_answer_is_re_sent_by_the_sweep(
    stack: Stack, tmp_path: Path
) -> None:
    # Guards the sweep re-sending a lost execute (ci_remediator/pipeline/reconcile.py:
    # `FailureState.EXECUTING: Step.EXECUTE` in NEXT_STEP) and the re-sent execute asking
    # GitHub first (ci_remediator/actions/reruns.py, Rerun.execute: `if latest.run_attempt >=
    # target.target_attempt`). A timed-out task's message is acked (Celery acks a late-ack
    # task on a time limit), so nothing but the sweep brings it back; a second POST is a
    # second rerun.
    #
    # The hang: GitHub answers the rerun at once, then the commit's UPDATE of the failure
    # waits on a row lock this test holds (libpq's wait is not interrupted by the soft limit's
    # signal, so the soft limit cannot end the task and the hard limit kills the child).
    sandbox, services = stack.sandbox, stack.services
    run_id = _add_run(stack)
    failure_id = _executing(stack, run_id)
    rerun = _rerun_path(run_id)

    log = tmp_path / "worker.log"
    worker = start_worker(stack.env, log)
    locker = services.sessions()
    try:
        locker.begin()
        locker.execute(select(Failure).where(Failure.id == failure_id).with_for_update())
        _wait_for_ready(log)
        _send_execute_with_short_limits(stack, failure_id)
        assert wait_until(lambda: "Hard time limit" in log.read_text(), timeout_s=30), (
            log.read_text()[-4000:]
        )
        # GitHub started the attempt; the child died before its commit; nothing re-sends it.
        assert sandbox.count("POST", rerun) == 1
        assert stack.state(failure_id) is FailureState.EXECUTING
        assert _remediation_status(stack) is RemediationStatus.PENDING
        locker.rollback()
        _sweep_until_terminal(stack, failure_id, log)
    finally:
        locker.close()
        stop_worker(worker)

    assert stack.state(failure_id) is FailureState.RESOLVED
    assert sandbox.count("POST", rerun) == 1
    assert sandbox.run_attempt(WEB, run_id) == 2
    output = log.read_text()
    assert re.search(
        rf"Hard time limit \({HARD_LIMIT_S}s\) exceeded for ci_remediator\.execute", output
    )
    assert "SoftTimeLimitExceeded" not in output
    resent = select(func.count(AuditEntry.id)).where(
        AuditEntry.failure_id == failure_id,
        AuditEntry.actor == "reconciler",
        AuditEntry.detail["step"].as_string() == Step.EXECUTE.value,
    )
    assert _count(stack, resent) >= 1


# Held past both limits, and shorter than the gateway's own 15 s read timeout.
HELD_PAST_THE_LIMITS_S = 10.0


def test_a_github_call_past_the_time_limit_leaves_the_failure_to_the_sweep(
    stack: Stack, tmp_path: Path
) -> None:
    # Guards PipelineTask._over_time (workers/base.py) leaving a step stopped by its time
    # limit to the sweep instead of `fail_permanently`, and the re-sent execute asking GitHub
    # first (ci_remediator/actions/reruns.py, Rerun.execute).
    sandbox = stack.sandbox
    run_id = _add_run(stack)
    failure_id = _executing(stack, run_id)
    rerun = _rerun_path(run_id)
    sandbox.set_latency(HELD_PAST_THE_LIMITS_S, path_pattern=rerun, method="POST", times=1)

    log = tmp_path / "worker.log"
    worker = start_worker(stack.env, log)
    try:
        _wait_for_ready(log)
        _send_execute_with_short_limits(stack, failure_id)
        limit = r"(Soft|Hard) time limit \(\d+s\) exceeded for ci_remediator\.execute"
        assert wait_until(lambda: re.search(limit, log.read_text()) is not None, timeout_s=30), (
            log.read_text()[-4000:]
        )
        assert sandbox.count("POST", rerun) == 1
        ended = r"Task ci_remediator\.execute\[[^]]+\] (raised|succeeded)|Hard time limit \("
        assert wait_until(lambda: re.search(ended, log.read_text()) is not None, timeout_s=10)
        # (Before _over_time: `errored` here, the remediation `pending` while the attempt
        # GitHub started ran on unverified.)
        assert stack.state(failure_id) is FailureState.EXECUTING, log.read_text()[-4000:]
        _sweep_until_terminal(stack, failure_id, log)
    finally:
        stop_worker(worker)

    assert stack.state(failure_id) is FailureState.RESOLVED
    assert sandbox.count("POST", rerun) == 1
    assert sandbox.run_attempt(WEB, run_id) == 2
