"""The Procfile as a platform runs it: `release`, then `web worker beat flower` under honcho,
against the real PostgreSQL and Redis and the sandboxes (`ci-remediator sandbox`): a failure
is resolved, `/healthz` is green, and a stop ends every process. The sandbox is also the stack's
webhook sender: every failed run's delivery reaches the web process through gunicorn and is
answered 2xx, and the failures it recorded first say so."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from ci_remediator.db.models import DetectionSource, Failure
from ci_remediator.domain import FailureState
from ci_remediator.sandbox.scenarios import SLACK_DEMO_RUNS
from tests.conftest import TEST_DATABASE_URL
from tests.integration.conftest import wait_until
from tests.integration.processes import group_members

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE = "ci_remediator_procfile_probe"
REDIS_DB = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def database() -> Iterator[str]:
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=DATABASE).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def web_port() -> int:
    return free_port()


@pytest.fixture
def sandbox_output(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.out"


@pytest.fixture
def sandbox_env(tmp_path: Path, web_port: int, sandbox_output: Path) -> Iterator[dict[str, str]]:
    env_file = tmp_path / "sandbox.env"
    with sandbox_output.open("wb") as out:
        served = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(BIN / "ci-remediator"),
                "sandbox",
                "--workdir",
                str(tmp_path),
                "--env-file",
                str(env_file),
                "--webhook-url",
                f"http://127.0.0.1:{web_port}/webhooks/github",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(env_file.exists, timeout_s=60)
        yield dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    finally:
        served.send_signal(signal.SIGINT)
        served.wait(timeout=30)


def test_release_then_web_worker_beat_and_flower_resolve_a_failure_and_stop(
    tmp_path: Path,
    database: str,
    sandbox_env: dict[str, str],
    web_port: int,
    sandbox_output: Path,
) -> None:
    redis_base = os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15").rsplit("/", 1)[0]
    broker = redis.Redis.from_url(f"{redis_base}/{REDIS_DB}")
    broker.flushdb()  # the stack's own database on the test server: nothing left from before
    port = web_port
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "SLACK_"))},
        **sandbox_env,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "DATABASE_URL": database,
        "REDIS_URL": f"{redis_base}/{REDIS_DB}",
        "DATA_DIR": str(tmp_path / "var"),
        "PORT": str(port),
        "FLOWER_PORT": str(free_port()),
        "FLOWER_BASIC_AUTH": "ops:procfile-test",
        # The Procfile's web listens on 0.0.0.0: it refuses to start without this.
        "DASHBOARD_AUTH": "ops:procfile-dashboard",
        "WORKER_CONCURRENCY": "2",
    }
    procfile = str(ROOT / "Procfile")
    release = subprocess.run(  # noqa: S603 - fixed argv
        [str(BIN / "honcho"), "-f", procfile, "-d", str(ROOT), "start", "release"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "database is at the latest revision" in release.stdout, release.stdout
    log = tmp_path / "honcho.log"
    with log.open("wb") as out:
        stack = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(BIN / "honcho"),
                "-f",
                procfile,
                "-d",
                str(ROOT),
                "start",
                "web",
                "worker",
                "beat",
                "flower",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    engine = create_engine(database)
    try:

        def resolved() -> int:
            with engine.connect() as connection:
                return connection.execute(
                    select(func.count()).where(Failure.state == FailureState.RESOLVED)
                ).scalar_one()

        assert wait_until(lambda: resolved() >= 1, timeout_s=150), log.read_text()[-4000:]
        delivered = wait_until(
            lambda: "webhooks: delivered" in sandbox_output.read_text(), timeout_s=60
        )
        assert delivered, sandbox_output.read_text()
        summary = re.search(r"delivered (\d+) failed runs to \S+: (.*)", sandbox_output.read_text())
        assert summary is not None, sandbox_output.read_text()
        answers = {
            int(status): int(count)
            for count, status in re.findall(r"(\d+) answered (\d+)", summary.group(2))
        }
        # 201: recorded from the delivery; 200: a poll had recorded the run already.
        assert set(answers) <= {200, 201}, summary.group(0)
        assert sum(answers.values()) == int(summary.group(1)) == len(SLACK_DEMO_RUNS)
        with engine.connect() as connection:
            from_webhooks = connection.execute(
                select(func.count()).where(Failure.source == DetectionSource.WEBHOOK)
            ).scalar_one()
        assert from_webhooks == answers.get(201, 0), summary.group(0)
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert (health.status_code, health.json()["status"]) == (200, "ok")
    finally:
        engine.dispose()
        broker.close()
        stack.send_signal(signal.SIGTERM)
        try:
            code = stack.wait(timeout=60)
        finally:
            if stack.poll() is None:
                os.killpg(stack.pid, signal.SIGKILL)
    # honcho passes the stop on to every process and ends with 128 + SIGTERM.
    assert code in (0, 128 + signal.SIGTERM, -signal.SIGTERM), log.read_text()[-3000:]
    assert wait_until(lambda: not group_members(stack.pid), timeout_s=10), group_members(stack.pid)
