"""Polling a thousand repositories on one token: what it costs once nothing changes.

Usage: python bench/poll_scale.py [--repos 1000] [--interval 20] [--cap-per-minute 3600]
                                  [--cycles 3] [--workers 16]

Each repository in the GitHub sandbox has one failed run. Three poll cycles run `interval`
seconds apart through the production path (`pipeline.detect.poll_repository` on Postgres,
one `GitHubGateway` per worker thread, one `RateBudget` shared through Redis), polls spread as
the beat task spreads them (`policy.poll_schedule.poll_start_offsets`). Nothing changes after
the first cycle. The same cycles are then run against a fresh sandbox without conditional
requests (the stored ETag is cleared before each cycle): the baseline. The sandbox counts
requests that spend primary rate budget and records every arrival time.

Needs Postgres and Redis (BENCH_DATABASE_URL, default a `ci_remediator_bench` database on
localhost, created if missing; BENCH_REDIS_URL, default redis://localhost:6379/14).
The last stdout line is one JSON object; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from bench.bench_database import fresh_database  # noqa: E402
from ci_remediator.coordination import RedisCoordinator  # noqa: E402
from ci_remediator.db.models import MonitoredRepository  # noqa: E402
from ci_remediator.github.budget import RateBudget  # noqa: E402
from ci_remediator.github.gateway import GitHubGateway  # noqa: E402
from ci_remediator.pipeline.detect import poll_repository  # noqa: E402
from ci_remediator.policy.poll_schedule import poll_start_offsets  # noqa: E402
from ci_remediator.sandbox.github import GitHubSandbox  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@localhost:5432/ci_remediator_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://localhost:6379/14")
LOG = "##[error]Process completed with exit code 1.\n"
TOKEN = "ghp_bench_poll_scale"  # noqa: S105 - the sandbox accepts any token


@dataclass(frozen=True, slots=True)
class VariantResult:
    cycles: list[dict[str, float]]
    max_rate_per_min: int


def run_variant(args: argparse.Namespace, *, conditional: bool) -> VariantResult:
    engine = fresh_database(DATABASE_URL, pool_size=32, max_overflow=8)
    sessions = sessionmaker(bind=engine)
    redis.Redis.from_url(REDIS_URL).flushdb()
    coordinator = RedisCoordinator(REDIS_URL, prefix=f"bench-{int(time.time() * 1000)}")
    budget = RateBudget(
        coordinator, credential="bench", max_per_minute=args.cap_per_minute, max_wait_s=60
    )
    local = threading.local()
    gateways: list[GitHubGateway] = []
    with GitHubSandbox() as sandbox:
        # The baseline spends 6,000 requests in four cycles: more than one token's hour of
        # 5,000, which would end it in 403s; the budget is what is measured, not enforced.
        sandbox._rate_limit = sandbox._rate_remaining = 100_000
        names = [f"org{i // 100:02d}/repo{i:04d}" for i in range(args.repos)]
        for name in names:
            sandbox.add_failed_run(name, workflow_name="CI", job_name="test", log_text=LOG)

        def gateway() -> GitHubGateway:
            if not hasattr(local, "gateway"):
                local.gateway = GitHubGateway(base_url=sandbox.url, token=TOKEN, budget=budget)
                gateways.append(local.gateway)
            return local.gateway

        def poll_one(name: str, at: float) -> int:
            time.sleep(max(0.0, at - time.monotonic()))
            with sessions() as session, session.begin():
                return len(
                    poll_repository(
                        session, gateway=gateway(), repository=name, lookback=timedelta(days=1)
                    ).follow_ups
                )

        cycles: list[dict[str, float]] = []
        offsets = poll_start_offsets(
            len(names), interval_s=args.interval, max_per_minute=args.cap_per_minute
        )
        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            for cycle in range(args.cycles):
                cycle_start = time.monotonic()
                wall_start = time.time()
                # The last two cycles are hourly deep scans, due for every repository: the
                # first stores each page's ETag, the second is the steady state.
                deep = cycle >= args.cycles - 2 and args.cycles > 3
                with sessions() as session, session.begin():
                    if not conditional:
                        session.execute(
                            sa.update(MonitoredRepository).values(
                                runs_etag=None, deep_scan_etags=None
                            )
                        )
                    if deep:  # the last cycle is the hourly deep scan, due for every repository
                        session.execute(
                            sa.update(MonitoredRepository).values(
                                deep_scanned_at=datetime.now(UTC) - timedelta(hours=2)
                            )
                        )
                futures = [
                    pool.submit(poll_one, name, cycle_start + offset)
                    for name, offset in zip(names, offsets, strict=True)
                ]
                new_failures = sum(future.result() for future in futures) // 2
                seconds = time.monotonic() - cycle_start
                counted = len(sandbox.counted_requests(since=wall_start))
                cycles.append(
                    {"seconds": seconds, "counted": counted, "new": new_failures, "deep": deep}
                )
                print(
                    f"{'conditional' if conditional else 'baseline'} cycle {cycle + 1}"
                    f"{' (deep scan)' if deep else ''}: "
                    f"{seconds:.1f}s, {counted} counted requests, {new_failures} new failures",
                    file=sys.stderr,
                )
                if cycle + 1 < args.cycles:
                    time.sleep(max(0.0, cycle_start + args.interval - time.monotonic()))
        max_rate = sandbox.max_requests_in_window(60.0)
    for client in gateways:
        client.close()
    engine.dispose()
    return VariantResult(cycles, max_rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=20.0, help="seconds between cycles")
    parser.add_argument("--cap-per-minute", type=int, default=3600)
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--workers", type=int, default=16, help="polling threads")
    args = parser.parse_args(argv)

    conditional = run_variant(args, conditional=True)
    baseline = run_variant(args, conditional=False)
    cycles, baseline_cycles = conditional.cycles, baseline.cycles

    def per_hour(measured: list[dict[str, float]]) -> int:
        """Counted requests an hour in steady state at the production cadence: a poll every
        5 minutes, one of the 12 an hour with the deep scan (the cycles after the first)."""
        cheap = [c["counted"] for c in measured[1:] if not c["deep"]]
        deep = [c["counted"] for c in measured[1:] if c["deep"]][-1:]  # the steady one
        cheap_cycle = sum(cheap) / len(cheap) if cheap else 0.0
        deep_cycle = sum(deep) / len(deep) if deep else cheap_cycle
        return round(11 * cheap_cycle + deep_cycle)

    print(
        json.dumps(
            {
                "bench": "poll_scale",
                "repos": args.repos,
                "counted_after_first": sum(int(c["counted"]) for c in cycles[1:]),
                "baseline_counted_after_first": sum(int(c["counted"]) for c in baseline_cycles[1:]),
                "counted_per_hour": per_hour(cycles),
                "baseline_counted_per_hour": per_hour(baseline_cycles),
                "cycle_seconds_max": round(max(c["seconds"] for c in cycles), 2),
                "interval_s": args.interval,
                "cap_per_min": args.cap_per_minute,
                "max_rate_per_min": conditional.max_rate_per_min,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
