"""`ci-remediator run` stops everything it started: SIGTERM or Ctrl-C to it ends the worker, its
beat and its pool children (a real prefork worker on the real Redis and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.integration.conftest import wait_until
from tests.integration.processes import alive, descendants

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

CLI = Path(sys.executable).with_name("ci-remediator")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_run_stops_the_worker_beat_and_pool_children(
    tmp_path: Path, engine: object, stop: signal.Signals
) -> None:
    config = tmp_path / "config.json"
    config.write_text('{"repositories": []}', encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "SLACK_"))},
        "DATABASE_URL": TEST_DATABASE_URL,
        "REDIS_URL": TEST_REDIS_URL,
        "GITHUB_TOKEN": "ghp_unused",
        "GITHUB_API_URL": "http://127.0.0.1:9",  # nothing may leave this machine
        "CONFIG_FILE": str(config),
        "DATA_DIR": str(tmp_path / "var"),
        "OPENAI_API_KEY": "",
    }
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        run = subprocess.Popen(  # noqa: S603 - fixed argv
            [str(CLI), "run"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    try:
        # The worker and its pool of four are up (and beat, in the worker).
        assert wait_until(lambda: len(descendants(run.pid)) >= 5, timeout_s=60), log.read_text()
        started = descendants(run.pid)

        run.send_signal(stop)
        code = run.wait(timeout=60)

        assert code == 0, log.read_text()[-2000:]
        assert wait_until(lambda: not any(alive(pid) for pid in started), timeout_s=10), [
            pid for pid in started if alive(pid)
        ]
    finally:
        if run.poll() is None:
            run.kill()
        for pid in descendants(run.pid):
            os.kill(pid, signal.SIGKILL)
