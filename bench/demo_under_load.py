"""`ci-remediator demo`, run again and again with stdin closed while CPU-bound processes load
the machine: how often does the first command a user runs pass?

Usage: python bench/demo_under_load.py [--runs 50] [--load 4] [--timeout 120]

Each run is a fresh process in a fresh working directory on the embedded default (SQLite, the
embedded broker, the in-process worker), exactly as the README's first command runs it. The
load processes spin until the runs are done and are always stopped. A failed run's output is
kept under --keep (default a temp folder) and named on stderr. The last stdout line is one JSON
object: {"bench": "demo_under_load", "runs": N, "passed": P, "load": L, "p50_s": ..., "max_s":
..., "worker_died": D} where D counts runs whose in-process worker stopped early.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# What the demo prints when its in-process worker stopped early (workers/embedded.py).
WORKER_DIED_MARK = "embedded worker"


def _spin(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        pass


def _demo_command() -> list[str]:
    script = Path(sys.executable).with_name("ci-remediator")
    if script.exists():
        return [str(script), "demo"]
    return [sys.executable, "-m", "ci_remediator.cli", "demo"]


def run_once(index: int, *, timeout_s: float, keep: Path) -> tuple[bool, float, bool]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CONFIG_FILE"}
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="demo-run-") as workdir:
        try:
            finished = subprocess.run(  # noqa: S603 - fixed argv
                _demo_command(),
                cwd=workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
            output, passed = finished.stdout + finished.stderr, finished.returncode == 0
        except subprocess.TimeoutExpired as expired:
            output = f"timed out after {timeout_s}s\n{expired.stdout or ''}{expired.stderr or ''}"
            passed = False
    elapsed = time.monotonic() - started
    if not passed:
        log = keep / f"demo-run-{index:03d}.log"
        log.write_text(output, encoding="utf-8")
        print(f"run {index}: FAILED after {elapsed:.1f}s, output in {log}", file=sys.stderr)
    return passed, elapsed, WORKER_DIED_MARK in output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--load", type=int, default=4, help="CPU-bound processes meanwhile")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--keep", type=Path, default=None, help="folder for failed runs' output")
    args = parser.parse_args()
    keep = args.keep or Path(tempfile.mkdtemp(prefix="demo-under-load-"))
    keep.mkdir(parents=True, exist_ok=True)

    # The load never outlives the runs by more than their worst case.
    stop_at = time.monotonic() + args.runs * args.timeout
    spinners = [multiprocessing.Process(target=_spin, args=(stop_at,)) for _ in range(args.load)]
    for spinner in spinners:
        spinner.start()
    results = []
    try:
        for index in range(args.runs):
            results.append(run_once(index, timeout_s=args.timeout, keep=keep))
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()
    times = [elapsed for _, elapsed, _ in results]
    summary = {
        "bench": "demo_under_load",
        "runs": len(results),
        "passed": sum(1 for passed, _, _ in results if passed),
        "load": args.load,
        "p50_s": round(statistics.median(times), 2),
        "max_s": round(max(times), 2),
        "worker_died": sum(1 for _, _, died in results if died),
    }
    print(json.dumps(summary))
    return 0 if summary["passed"] == summary["runs"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
