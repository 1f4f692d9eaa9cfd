"""Exactly once under a real kill: a prefork worker's pool child is SIGKILLed after GitHub took
the call (the rerun in `execute`, the cancel in `rollback`) and before the child could commit.
The message comes back (late acks, rejected on a lost worker), the step asks GitHub before
calling again, and the sandbox sees one call. Runs on the test's own Redis and PostgreSQL
(tests/reliability/conftest.py), never the shared ones."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ci_remediator.db.models import DetectionSource, Remediation
from ci_remediator.domain import FailureState
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.sandbox.scenarios import WEB, demo_log
from tests.integration.conftest import wait_until
from tests.reliability.conftest import (
    Stack,
    holder_of_a_connection_to,
    running_stack,
    sandbox_port,
    send_task,
    start_worker,
    stop_worker,
)

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

# GitHub takes the rerun at once and answers this much later: the window the kill lands in.
HELD_RESPONSE_S = 6.0


@pytest.fixture
def stack(private_postgres: str, private_redis: str, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(
        private_postgres,
        private_redis,
        tmp_path,
        verify_poll_seconds=0.3,
        # A rerun still running after 3 s is rolled back (the rollback case).
        verify_timeout_minutes=0.05,
        noise_window_minutes=0,
    ) as running:
        yield running


@pytest.mark.parametrize(
    ("held", "polls_until_complete", "settles_in"),
    [
        ("rerun-failed-jobs", 2, FailureState.RESOLVED),
        ("cancel", 10**9, FailureState.ROLLED_BACK),
    ],
    ids=["execute", "rollback"],
)
def test_a_pool_child_killed_between_githubs_answer_and_its_commit_acts_once(
    stack: Stack,
    tmp_path: Path,
    held: str,
    polls_until_complete: int,
    settles_in: FailureState,
) -> None:
    sandbox, services, env = stack.sandbox, stack.services, stack.env
    run_id = sandbox.add_failed_run(
        WEB,
        workflow_name="CI",
        job_name="test",
        log_text=demo_log("network_blip.log"),
        rerun_conclusions=("success",),
        polls_until_complete=polls_until_complete,
    )
    rerun = rf".*/runs/{run_id}/rerun-failed-jobs"
    mutation = rf".*/runs/{run_id}/{held}"
    sandbox.set_latency(HELD_RESPONSE_S, path_pattern=mutation, method="POST", times=1)
    with services.sessions() as session, session.begin():
        failure_id = record_failure(
            session, run=services.gateway.get_run(WEB, run_id), source=DetectionSource.POLL
        )
    assert failure_id is not None

    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        # Redis routes by the bindings a consumer declares: publish once the worker is up.
        assert wait_until(lambda: "ready." in log.read_text(), timeout_s=60), log.read_text()
        send_task(
            env["REDIS_URL"],
            "ci_remediator.analyze",
            queue="analyze",
            kwargs={"failure_id": failure_id},
        )
        assert wait_until(lambda: sandbox.count("POST", mutation) == 1, timeout_s=60), (
            log.read_text()
        )
        # GitHub did it; its answer is held. The child waiting for the answer dies now.
        child = holder_of_a_connection_to(sandbox_port(sandbox))
        assert child != worker.pid
        os.kill(child, signal.SIGKILL)

        assert wait_until(lambda: stack.state(failure_id) is settles_in, timeout_s=90), (
            stack.state(failure_id),
            log.read_text()[-4000:],
        )
    finally:
        stop_worker(worker)
    assert sandbox.count("POST", rerun) == 1
    assert sandbox.count("POST", mutation) == 1
    with services.sessions() as session:
        (remediation,) = session.scalars(select(Remediation)).all()
    assert remediation.target_attempt == 2
    # The kill was real and the killed task ran again after it.
    output = log.read_text()
    task = "execute" if held == "rerun-failed-jobs" else "rollback"
    assert "WorkerLostError" in output
    assert len(re.findall(rf"Task ci_remediator\.{task}\[[^]]+\] received", output)) >= 2
