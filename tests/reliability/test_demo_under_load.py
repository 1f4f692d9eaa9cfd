"""The first command a user runs passes every time, also on a busy machine.

Runs `ci-remediator demo` a few times in fresh processes with stdin closed while CPU-bound
processes load the machine (bench/demo_under_load.py; its README entry records 50 runs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(4 * 130 + 60)]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "demo_under_load.py"
RUNS = 4


def test_the_demo_passes_every_run_under_load(tmp_path: Path) -> None:
    finished = subprocess.run(  # noqa: S603 - fixed argv
        [
            sys.executable,
            str(BENCH),
            f"--runs={RUNS}",
            "--load=2",
            "--timeout=120",
            f"--keep={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=RUNS * 130 + 30,
        check=False,
    )
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    failed_output = "\n".join(log.read_text() for log in sorted(tmp_path.glob("*.log")))
    assert summary["passed"] == summary["runs"] == RUNS, failed_output[-4000:]
    assert summary["worker_died"] == 0
