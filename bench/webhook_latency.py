"""Webhook latency: from a signed `workflow_run` delivery to the failure committed and its
analysis enqueued.

Usage: python bench/webhook_latency.py [--deliveries 500] [--concurrency 8]

The web app (`ci_remediator.web.create_app`, wired to Celery as `workers.web` wires it) is
served over real HTTP on a loopback port (werkzeug's threaded server), on Postgres, with the
follow-up tasks sent to a real Redis broker (no worker consumes them here). Each delivery is a
real GitHub `workflow_run` payload for a distinct failed run in the GitHub sandbox, signed as
GitHub signs it. Latency is measured by the sender, from just before the POST to the end of the
answer: the answer is sent only after the commit and the enqueue. The same deliveries, in the
same run, also go to an endpoint of the same app that does nothing: the baseline.

Needs Postgres (BENCH_DATABASE_URL, default a `ci_remediator_bench` database on localhost,
created if missing) and Redis (BENCH_REDIS_URL, default redis://localhost:6379/14).
The last stdout line is one JSON object; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://localhost:6379/14")
SECRET = "bench-webhook-secret"  # noqa: S105 - a secret shared with the local sender only
# The Celery app reads the broker from the environment when it is first imported.
os.environ["CELERY_BROKER_URL"] = REDIS_URL
os.environ.setdefault("GITHUB_TOKEN", "ghp_bench_webhook_latency")

import redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from bench.poll_scale import DATABASE_URL, fresh_database  # noqa: E402
from ci_remediator.config import load_config  # noqa: E402
from ci_remediator.db.models import Failure  # noqa: E402
from ci_remediator.sandbox.github import GitHubSandbox  # noqa: E402
from ci_remediator.sandbox.webhook_sender import WebhookSender, workflow_run_payload  # noqa: E402
from ci_remediator.services import Services, set_services  # noqa: E402
from ci_remediator.web import create_app  # noqa: E402
from workers.base import send_follow_ups  # noqa: E402

LOG = "##[error]Process completed with exit code 1.\n"
REPOSITORIES = [f"acme/repo{i:02d}" for i in range(50)]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def deliver_all(url: str, payloads: list[dict[str, object]], concurrency: int) -> list[float]:
    local = threading.local()

    def one(payload: dict[str, object]) -> float:
        if not hasattr(local, "sender"):
            local.sender = WebhookSender(url, SECRET)
        started = time.perf_counter()
        answer = local.sender.deliver("workflow_run", payload)
        elapsed = time.perf_counter() - started
        if answer.status_code >= 300:
            raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:200]}")
        return elapsed

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, payloads))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request

    engine = fresh_database()
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    with GitHubSandbox() as sandbox:
        services = Services(
            load_config(
                env_overrides={
                    "database_url": DATABASE_URL,
                    "github_api_url": sandbox.url,
                    "github_webhook_secret": SECRET,
                    "celery_broker_url": REDIS_URL,
                    "repositories": ",".join(REPOSITORIES),
                }
            )
        )
        set_services(services)
        app = create_app(enqueue=send_follow_ups, services=lambda: services)
        app.add_url_rule("/noop", "noop", lambda: ("", 204), methods=["POST"])
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"

        targets = [REPOSITORIES[i % len(REPOSITORIES)] for i in range(args.deliveries)]
        payloads = [
            workflow_run_payload(
                sandbox,
                repository,
                sandbox.add_failed_run(
                    repository, workflow_name="CI", job_name="test", log_text=LOG
                ),
            )
            for repository in targets
        ]
        deliver_all(f"{base}/noop", payloads[:20], args.concurrency)  # warm up connections
        empty = deliver_all(f"{base}/noop", payloads, args.concurrency)
        real = deliver_all(f"{base}/webhooks/github", payloads, args.concurrency)
        server.shutdown()

    with services.sessions() as session:
        recorded = session.scalar(select(func.count()).select_from(Failure))
    queued = broker.llen("analyze")
    set_services(None)
    engine.dispose()
    print(
        f"{args.deliveries} deliveries at concurrency {args.concurrency}: {recorded} failures "
        f"recorded, {queued} analyze tasks waiting in the broker; mean {statistics.mean(real):.4f}s"
        f", empty endpoint mean {statistics.mean(empty):.4f}s",
        file=sys.stderr,
    )
    if recorded != args.deliveries or queued != args.deliveries:
        print("error: not every delivery was recorded and enqueued exactly once", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "bench": "webhook_latency",
                "deliveries": args.deliveries,
                "p50_s": round(percentile(real, 0.50), 4),
                "p95_s": round(percentile(real, 0.95), 4),
                "empty_p95_s": round(percentile(empty, 0.95), 4),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
