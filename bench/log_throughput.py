"""Throughput and memory of the streaming excerpt on a generated log.

Usage: python bench/log_throughput.py [--mb 200]

Generates a realistic GitHub Actions log (BOM, timestamps, ANSI colours, many steps, pip and
test-progress noise, a failure near the end) in a temp file, then in one child process per
variant streams it through `excerpt_file` and through a baseline that only reads and decodes it
line by line. Each child reports its time and its peak RSS growth (ru_maxrss delta). The last
stdout line is one JSON object. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _noise(rng: random.Random, n: int) -> str:
    kind = rng.random()
    if kind < 0.3:
        return (
            f"tests/unit/test_mod{n % 300}.py::test_case_{n} \x1b[32mPASSED\x1b[0m [{n % 100:3d}%]"
        )
    if kind < 0.45:
        return f"Downloading pkg_{n % 500}-1.{n % 9}.0-py3-none-any.whl ({n % 900} kB)"
    if kind < 0.55:
        return f"   Compiling crate{n % 100} v0.{n % 10}.1"
    if kind < 0.65:
        return f"npm WARN deprecated lib{n % 77}@2.{n % 5}.0: use something else"
    if kind < 0.75:
        return f"#{n % 90} sha256:{n:064x} {n % 50}.{n % 10}MB / 90.1MB {n % 9}.{n % 7}s"
    words = ("build", "module", "step", "value", "cache", "restore", "layer", "worker")
    return " ".join(rng.choice(words) for _ in range(rng.randint(4, 16)))


def generate(path: Path, megabytes: float, seed: int = 7) -> None:
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    n = 0
    step = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("\ufeff")
        while written < target:
            if n % 20_000 == 0:
                step += 1
                block = f"##[group]Run make step-{step}\nmake step-{step}\n##[endgroup]\n"
            elif n % 5_000 == 0:
                block = "warning: deprecated option used; it will fail in a future release\n"
            else:
                block = _noise(rng, n) + "\n"
            line = f"2024-05-01T12:{(n // 60) % 60:02d}:{n % 60:02d}.{n % 10_000_000:07d}Z {block}"
            out.write(line)
            written += len(line)
            n += 1
        tail = [
            "##[group]Run pytest -q",
            "##[endgroup]",
            "=================================== FAILURES ===================================",
            "___________________________________ test_sum ___________________________________",
            "Traceback (most recent call last):",
            '  File "/app/calc.py", line 3, in total',
            "    return sum(values) + 1",
            "E       assert 4 == 3",
            "FAILED tests/test_calc.py::test_sum - assert 4 == 3",
            "========================= 1 failed, 9000 passed in 91.2s ========================",
            "##[error]Process completed with exit code 1.",
        ]
        for text in tail:
            out.write(f"2024-05-01T13:00:00.0000000Z {text}\n")


def _child(variant: str, path: str) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    from ci_remediator.analysis.excerpt import excerpt_file

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if variant == "baseline":
        count = 0
        with open(path, "rb") as handle:
            for raw in handle:
                count += len(raw.decode("utf-8", errors="replace"))
        excerpt = ""
    else:
        excerpt = excerpt_file(Path(path))
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_growth_mb": (after - before) / 1024,  # ru_maxrss is in KiB on Linux
                "excerpt_chars": len(excerpt),
                "keeps_error": "##[error]Process completed with exit code 1." in excerpt,
            }
        )
    )


def _run(variant: str, path: Path) -> dict:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--child", variant, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="size of the generated log")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.log"
        generate(path, args.mb)
        size_mb = os.path.getsize(path) / 1_000_000
        baseline = _run("baseline", path)
        excerpt = _run("excerpt", path)
    mb_per_s = size_mb / excerpt["seconds"]
    baseline_mb_per_s = size_mb / baseline["seconds"]
    print(
        f"log {size_mb:.1f} MB; excerpt {excerpt['seconds']:.2f}s, baseline "
        f"{baseline['seconds']:.2f}s; excerpt kept the error: {excerpt['keeps_error']}; "
        f"baseline rss growth {baseline['rss_growth_mb']:.1f} MB",
        file=sys.stderr,
    )
    print(
        json.dumps(
            {
                "bench": "log_throughput",
                "mb_per_s": round(mb_per_s, 1),
                "baseline_mb_per_s": round(baseline_mb_per_s, 1),
                "ratio": round(mb_per_s / baseline_mb_per_s, 3),
                "peak_rss_growth_mb": round(excerpt["rss_growth_mb"], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
