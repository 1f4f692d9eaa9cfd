"""Exactly once under a real kill: a prefork worker's pool child is SIGKILLed after GitHub took
the call (the rerun in `execute`, the cancel in `rollback`) and before the child could commit.
The message comes back (late acks, rejected on a lost worker), the step asks GitHub before
calling again, and the sandbox sees one call. Runs on the test's own Redis and PostgreSQL
(tests/reliability/conftest.py), never the shared ones."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from kombu import Connection
from sqlalchemy import select

from ci_remediator.config import load_config
from ci_remediator.db import migrate
from ci_remediator.db.models import DetectionSource, Failure, Remediation
from ci_remediator.domain import FailureState
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB, demo_log
from ci_remediator.services import Services
from tests.integration.conftest import wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

REPO_ROOT = Path(__file__).resolve().parents[2]
# GitHub takes the rerun at once and answers this much later: the window the kill lands in.
HELD_RESPONSE_S = 6.0


@pytest.fixture
def stack(
    private_postgres: str, private_redis: str, tmp_path: Path
) -> Iterator[tuple[GitHubSandbox, Services, dict[str, str]]]:
    migrate.upgrade(private_postgres)
    with GitHubSandbox() as sandbox:
        sandbox.add_repository(WEB)
        config_file = tmp_path / "config.json"
        config_file.write_text(
            json.dumps(
                {
                    "repositories": [WEB],
                    "verify_poll_seconds": 0.3,
                    # A rerun still running after 3 s is rolled back (the rollback case).
                    "verify_timeout_minutes": 0.05,
                    "noise_window_minutes": 0,
                }
            ),
            encoding="utf-8",
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "SLACK_"))},
            "DATABASE_URL": private_postgres,
            "REDIS_URL": private_redis,
            "GITHUB_API_URL": sandbox.url,
            "GITHUB_TOKEN": "ghp_sandboxtoken",
            "CONFIG_FILE": str(config_file),
            "DATA_DIR": str(tmp_path / "var"),
            "OPENAI_API_KEY": "",
        }
        config = load_config(
            env_overrides={
                "database_url": private_postgres,
                "redis_url": private_redis,
                "github_api_url": sandbox.url,
                "github_token": "ghp_sandboxtoken",
                "config_file": config_file,
            }
        )
        yield sandbox, Services(config), env


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--queues=poll,analyze,default,execute,notify",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _send_analyze(broker_url: str, failure_id: int) -> None:
    client = Celery("kill-test-client")
    client.config_from_object("celeryconfig")
    queue = client.amqp.queues["analyze"]
    # A kombu connection of its own: Celery prefers CELERY_BROKER_URL (the shared test broker
    # in this process's environment) to any broker_url it is given.
    with Connection(broker_url) as connection:
        # Redis routes by the bindings declared: declare them here, whoever started first.
        queue(connection.default_channel).declare()
        client.send_task(
            "ci_remediator.analyze",
            kwargs={"failure_id": failure_id},
            queue=queue,
            connection=connection,
        )


def _holder_of_a_connection_to(port: int) -> int:
    """The pid of the process (not this one) with a connection open to 127.0.0.1:`port`."""
    listing = subprocess.run(  # noqa: S603 - fixed argv
        ["ss", "-tnpH", "state", "established", "dst", f"127.0.0.1:{port}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pids = {int(pid) for pid in re.findall(r"pid=(\d+)", listing)} - {os.getpid()}
    if len(pids) != 1:
        raise AssertionError(f"expected one client of the sandbox, found {pids}: {listing}")
    return pids.pop()


@pytest.mark.parametrize(
    ("held", "polls_until_complete", "settles_in"),
    [
        ("rerun-failed-jobs", 2, FailureState.RESOLVED),
        ("cancel", 10**9, FailureState.ROLLED_BACK),
    ],
    ids=["execute", "rollback"],
)
def test_a_pool_child_killed_between_githubs_answer_and_its_commit_acts_once(
    stack: tuple[GitHubSandbox, Services, dict[str, str]],
    tmp_path: Path,
    held: str,
    polls_until_complete: int,
    settles_in: FailureState,
) -> None:
    sandbox, services, env = stack
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
    worker = _worker(env, log)
    try:
        # Redis routes by the bindings a consumer declares: publish once the worker is up.
        assert wait_until(lambda: "ready." in log.read_text(), timeout_s=60), log.read_text()
        _send_analyze(env["REDIS_URL"], failure_id)
        assert wait_until(lambda: sandbox.count("POST", mutation) == 1, timeout_s=60), (
            log.read_text()
        )
        # GitHub did it; its answer is held. The child waiting for the answer dies now.
        port = int(sandbox.url.rsplit(":", 1)[1].rstrip("/"))
        child = _holder_of_a_connection_to(port)
        assert child != worker.pid
        os.kill(child, signal.SIGKILL)

        def state() -> FailureState:
            with services.sessions() as session:
                failure = session.get(Failure, failure_id)
                assert failure is not None
                return failure.state

        assert wait_until(lambda: state() is settles_in, timeout_s=90), (
            state(),
            log.read_text()[-4000:],
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
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
