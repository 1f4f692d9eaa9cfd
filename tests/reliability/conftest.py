"""Private servers for tests that kill and restart things: a Redis and a PostgreSQL of the
test's own, on spare ports, so a restart or a killed client never touches the shared ones.
And what those tests share: the stack (GitHub sandbox, private databases, a config file), a
real prefork worker subprocess, publishing a task to the private broker, finding the pool
child that holds a connection."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from kombu import Connection

from ci_remediator.config import load_config
from ci_remediator.db import migrate
from ci_remediator.db.models import Failure
from ci_remediator.domain import FailureState
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import WEB
from ci_remediator.services import Services

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, *, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout_s}s")


class RedisServer:
    """A redis-server on a fixed port that keeps nothing on disk: `restart` is also a flush."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary, self.port = binary, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def restart(self, *, down_for_s: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for_s)
        self.start()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis server of this test's own, which the test may restart."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_redis(redis_server: RedisServer) -> str:
    """The URL of a Redis server of this test's own (it keeps nothing on disk)."""
    return redis_server.url


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


@pytest.fixture
def private_postgres() -> Iterator[str]:
    """A PostgreSQL cluster of this test's own in a temporary folder, run as `postgres`."""
    bin_dir = _postgres_bin()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: cannot start a private PostgreSQL")
        as_postgres = [runuser, "-u", "postgres", "--"]
    if bin_dir is None:
        pytest.skip("PostgreSQL's initdb is not installed")
    folder = Path(tempfile.mkdtemp(prefix="ci-remediator-pg-", dir="/tmp"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    run = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run(  # noqa: S603 - fixed argv
            [
                *as_postgres,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(  # noqa: S603 - fixed argv
            [*run, "-o", options, "-w", "-l", str(data / "server.log"), "start"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run, "-m", "immediate", "stop"], capture_output=True, check=False)  # noqa: S603
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ the worker's stack ----


@dataclass
class Stack:
    """The GitHub sandbox, this process's view of the private databases, and the environment
    a worker subprocess runs with (the same databases, the sandbox, the config file)."""

    sandbox: GitHubSandbox
    services: Services
    env: dict[str, str]

    @property
    def broker_url(self) -> str:
        return self.env["REDIS_URL"]

    def state(self, failure_id: int) -> FailureState:
        with self.services.sessions() as session:
            failure = session.get(Failure, failure_id)
            assert failure is not None
            return failure.state


@contextmanager
def running_stack(
    database_url: str, broker_url: str, folder: Path, **file_config: Any
) -> Iterator[Stack]:
    """Migrate the private database and start the sandbox (repository `acme/web`);
    `file_config` is the config.json the worker reads."""
    migrate.upgrade(database_url)
    with GitHubSandbox() as sandbox:
        sandbox.add_repository(WEB)
        config_file = folder / "config.json"
        config_file.write_text(json.dumps({"repositories": [WEB], **file_config}), encoding="utf-8")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "SLACK_"))},
            "DATABASE_URL": database_url,
            "REDIS_URL": broker_url,
            "GITHUB_API_URL": sandbox.url,
            "GITHUB_TOKEN": "ghp_sandboxtoken",
            "CONFIG_FILE": str(config_file),
            "DATA_DIR": str(folder / "var"),
            "OPENAI_API_KEY": "",
        }
        config = load_config(
            env_overrides={
                "database_url": database_url,
                "redis_url": broker_url,
                "github_api_url": sandbox.url,
                "github_token": "ghp_sandboxtoken",
                "config_file": config_file,
            }
        )
        yield Stack(sandbox, Services(config), env)


def start_worker(
    env: dict[str, str], log: Path, *, concurrency: int = 1
) -> subprocess.Popen[bytes]:
    """`celery -A workers.app worker`, prefork, every queue, its output in `log`."""
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
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


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)


def send_task(
    broker_url: str, name: str, *, queue: str, kwargs: dict[str, Any] | None = None, **options: Any
) -> None:
    """Publish task `name` to `queue` on the private broker (`options`: apply_async's)."""
    client = Celery("reliability-test-client")
    client.config_from_object("celeryconfig")
    declared = client.amqp.queues[queue]
    # A kombu connection of its own: Celery prefers CELERY_BROKER_URL (the shared test broker
    # in this process's environment) to any broker_url it is given.
    with Connection(broker_url) as connection:
        # Redis routes by the bindings declared: declare them here, whoever started first
        # (and again after a restart emptied the server).
        declared(connection.default_channel).declare()
        client.send_task(
            name, kwargs=kwargs or {}, queue=declared, connection=connection, **options
        )


def sandbox_port(sandbox: GitHubSandbox) -> int:
    return int(sandbox.url.rsplit(":", 1)[1].rstrip("/"))


def holder_of_a_connection_to(port: int) -> int:
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
