"""Pipeline throughput: failures per second through the whole pipeline with K worker processes,
next to bare Celery chains of as many no-op tasks on the same broker and the same workers.

Usage: python bench/pipeline.py [--failures 500] [--workers 1] [--timeout 600] [--profile DIR]

N failed runs (the demo's network blip log: the rules analyzer calls it transient, the gate
lets the rerun go automatically) wait in the GitHub sandbox across 50 repositories. Their
signed `workflow_run` deliveries go, 8 at a time, to the real web app (`ci_remediator.web`,
served by werkzeug's threaded server in this process, enqueueing through `workers.app`), which
records each failure and sends `analyze`; then K real `celery worker` processes (prefork,
concurrency 2, every queue, as the Procfile starts them) analyze, gate, re-run, verify and notify
(Slack sandbox). As on GitHub, each rerun completes on its own clock (RERUN_SECONDS after the
request) and its `workflow_job` and `workflow_run` deliveries go to the same web app, which
sends verify; verify's polls (VERIFY_POLL_SECONDS) are only the fallback. The clock runs
from the first delivery until every failure is in a terminal state with no notification
pending (read from Postgres). Then, in the same run and with the
same workers, as many chains as failures of T no-op tasks each, T being the tasks a failure
took (the workers' own per-task-name counters, `inspect stats`), the clock running from the
first send until the last link of every chain ran.

cpu_ms_per_task: user+system CPU of the worker processes (main process and pool children,
read from /proc) over the tasks they ran, per phase. github_requests_per_failure: requests the
GitHub sandbox served in the pipeline phase (API calls and log blob downloads) over N;
counted_github_requests_per_failure: those that spent primary rate budget (not the 304s of
conditional reads, not blob downloads), which is what bounds a fleet on one token.

Policy for the run: the rules analyzer only (no model), caps and GitHub request pacing out of
the way (they would bound the rate, not the pipeline's cost), noise control off (one
repository failing 10 times the same way would be one burst message, not 10 threads).

--profile DIR runs cProfile in every pool child (an env var read only by this module's
worker hook), writes DIR/<pid>.prof at shutdown and prints the top functions to stderr;
--profile-clock cpu times the children's CPU instead of the wall clock (waits on Postgres, the
sandboxes and the pool's pipe then cost nothing).

Needs Postgres (BENCH_PIPELINE_DATABASE_URL, default a `ci_remediator_bench_pipeline`
database on localhost, created if missing, migrated with Alembic) and Redis
(BENCH_PIPELINE_REDIS_URL, default redis://localhost:6379/13, flushed at start).
The last stdout line is one JSON object; see bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DATABASE_URL = os.environ.get(
    "BENCH_PIPELINE_DATABASE_URL",
    "postgresql+psycopg2://postgres@localhost:5432/ci_remediator_bench_pipeline",
)
REDIS_URL = os.environ.get("BENCH_PIPELINE_REDIS_URL", "redis://localhost:6379/13")
SECRET = "bench-pipeline-webhook-secret"  # noqa: S105 - shared with the local sender only
SLACK_SIGNING_SECRET = "bench-pipeline-signing-secret"  # noqa: S105 - a sandbox's
GITHUB_TOKEN = "ghp_bench_pipeline_token_for_the_sandbox"  # noqa: S105 - a sandbox's
REPOSITORIES = [f"acme/svc{i:02d}" for i in range(50)]
QUEUES = "poll,analyze,default,execute,notify"
CONCURRENCY = 2
NOOP_TASK = "bench.noop"
CHAINS_DONE_KEY = "bench:chains_done"
PROFILE_ENV = "BENCH_PIPELINE_PROFILE_DIR"
PROFILE_CLOCK_ENV = "BENCH_PIPELINE_PROFILE_CLOCK"
TICKS = os.sysconf("SC_CLK_TCK")
# A rerun completes this long after GitHub accepted it, then its deliveries go to the web app.
RERUN_SECONDS = 0.2
VERIFY_POLL_SECONDS = 5.0

# ------------------------------------------------------------------ the worker's side ----
# `celery -A bench.pipeline:worker_app worker` imports this module in the worker; the
# attribute is made on first access, after the worker's environment is in place.


def _make_worker_app() -> Any:
    import redis
    from celery.signals import worker_process_init, worker_process_shutdown

    from workers.app import app

    done = redis.Redis.from_url(REDIS_URL)

    @app.task(name=NOOP_TASK, acks_late=True, reject_on_worker_lost=True, time_limit=30)
    def noop(last: bool = False) -> None:
        if last:
            done.incr(CHAINS_DONE_KEY)

    profile_dir = os.environ.get(PROFILE_ENV)
    if profile_dir:
        import cProfile

        clock = (
            time.process_time if os.environ.get(PROFILE_CLOCK_ENV) == "cpu" else time.perf_counter
        )
        profiler = cProfile.Profile(clock)

        @worker_process_init.connect(weak=False)
        def _start_profile(**_: Any) -> None:
            profiler.enable()

        @worker_process_shutdown.connect(weak=False)
        def _dump_profile(**_: Any) -> None:
            profiler.disable()
            profiler.dump_stats(str(Path(profile_dir) / f"{os.getpid()}.prof"))

    return app


def __getattr__(name: str) -> Any:
    if name == "worker_app":
        app = _make_worker_app()
        globals()["worker_app"] = app
        return app
    raise AttributeError(name)


# ------------------------------------------------------------------- the bench's side ----


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fresh_database() -> Any:
    from bench.bench_database import fresh_database as made_anew

    return made_anew(DATABASE_URL)


def bench_config(repositories: list[str]) -> dict[str, Any]:
    unlimited = 1_000_000
    return {
        "repositories": repositories,
        "risk_threshold": 5,
        "llm": {"enabled": False},
        "max_auto_attempts_per_run": 1,
        "max_auto_per_workflow_per_day": unlimited,
        "max_auto_per_hour": unlimited,
        "github_max_requests_per_minute": unlimited,
        "noise_window_minutes": 0,
        "verify_poll_seconds": VERIFY_POLL_SECONDS,
    }


def cpu_ticks(pid: int) -> int:
    """utime+stime of `pid` and its live descendants, plus what it reaped (cutime+cstime)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    if pid not in stats:
        return 0
    # Fields after the command name: state is [0], utime [11], stime [12], cutime [13], cstime [14].
    total = sum(int(stats[pid][i]) for i in (11, 12, 13, 14))
    stack = list(children.get(pid, ()))
    while stack:
        child = stack.pop()
        total += int(stats[child][11]) + int(stats[child][12])
        stack.extend(children.get(child, ()))
    return total


class Workers:
    """K `celery worker` processes, each in its own process group (stopped by that id)."""

    def __init__(self, count: int, env: dict[str, str], logdir: Path) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        for n in range(count):
            command = [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "bench.pipeline:worker_app",
                "worker",
                "--queues",
                QUEUES,
                "--pool",
                "prefork",
                "--concurrency",
                str(CONCURRENCY),
                "--loglevel",
                "WARNING",
                "--hostname",
                f"bench{n}@%h",
            ]
            output = (logdir / f"worker{n}.log").open("wb")
            self.processes.append(
                subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed arguments
                    command,
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def cpu_s(self) -> float:
        return sum(cpu_ticks(process.pid) for process in self.processes) / TICKS

    def main_cpu_s(self) -> float:
        """The consumers' own CPU (the main processes, without their pool children)."""
        total = 0
        for process in self.processes:
            try:
                fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / TICKS

    def alive(self) -> bool:
        return all(process.poll() is None for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)  # warm shutdown: children exit cleanly
        deadline = time.monotonic() + 30
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def task_totals(app: Any, expected_workers: int) -> Counter[str]:
    """Tasks each worker accepted so far, by name (the workers' own counters)."""
    for _ in range(20):
        stats = app.control.inspect(timeout=2.0).stats() or {}
        if len(stats) >= expected_workers:
            totals: Counter[str] = Counter()
            for node in stats.values():
                totals.update(node.get("total", {}))
            return totals
    raise RuntimeError(f"only {len(stats)} of {expected_workers} workers answered `inspect stats`")


def wait_for_workers(app: Any, workers: Workers, count: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not workers.alive():
            raise RuntimeError("a worker exited at start (see its log)")
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            return
    raise RuntimeError(f"workers not ready after {timeout_s:.0f}s")


ENDPOINT_IDS = re.compile(r"/\d+(?=/|$)")


def endpoint(method: str, path: str) -> str:
    if path.startswith("/_blobs/"):
        return f"{method} /_blobs/... (log download)"
    path = re.sub(r"^/repos/[^/]+/[^/]+", "/repos/{o}/{r}", path)
    return f"{method} {ENDPOINT_IDS.sub('/{id}', path)}"


def deliver_all(url: str, payloads: list[dict[str, Any]], concurrency: int) -> None:
    from ci_remediator.sandbox.webhook_sender import WebhookSender

    local = threading.local()

    def one(payload: dict[str, Any]) -> None:
        if not hasattr(local, "sender"):
            local.sender = WebhookSender(url, SECRET)
        answer = local.sender.deliver("workflow_run", payload)
        if answer.status_code >= 300:
            raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:200]}")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, payloads))


def settled_counts(services: Any) -> tuple[int, int, Counter[str]]:
    """(failures in a terminal state, notifications pending, failures by state)."""
    from sqlalchemy import func, select

    from ci_remediator.db.models import Failure, Notification, NotificationStatus
    from ci_remediator.domain import TERMINAL_STATES

    with services.sessions() as session:
        states = Counter(
            {
                str(state.value): count
                for state, count in session.execute(
                    select(Failure.state, func.count()).group_by(Failure.state)
                )
            }
        )
        pending = session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.status == NotificationStatus.PENDING)
        )
    terminal = sum(count for state, count in states.items() if state in TERMINAL_STATES)
    return terminal, int(pending or 0), states


def print_profile(profile_dir: Path, top: int = 45) -> None:
    import pstats

    files = sorted(str(path) for path in profile_dir.glob("*.prof"))
    if not files:
        log(f"profile: no .prof files in {profile_dir} (did the pool children exit cleanly?)")
        return
    stats = pstats.Stats(*files, stream=sys.stderr)
    log(f"profile of {len(files)} pool children, by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)
    log("by own time:")
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:  # noqa: PLR0912, PLR0915 - one linear story
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--failures", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="deliveries in flight")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the pool children")
    parser.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    # A stopped bench stops its workers too (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    n = args.failures

    workdir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    config_file = workdir / "config.json"
    config_file.write_text(json.dumps(bench_config(REPOSITORIES), indent=2), encoding="utf-8")

    import redis

    from ci_remediator.sandbox.github import GitHubSandbox
    from ci_remediator.sandbox.scenarios import demo_log
    from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
    from ci_remediator.sandbox.webhook_sender import (
        WebhookSender,
        completion_announcer,
        workflow_run_payload,
    )

    engine = fresh_database()
    broker = redis.Redis.from_url(REDIS_URL)
    broker.flushdb()
    with GitHubSandbox() as github, SlackSandbox() as slack:
        # GitHub's 5,000 an hour would stop the run after ~300 failures: that limit is real,
        # but it is what github_requests_per_failure measures, not what this bench times.
        github.set_rate_limit(remaining=100_000_000, limit=100_000_000)
        env = {
            "CONFIG_FILE": str(config_file),
            "DATA_DIR": str(workdir),
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "REDIS_URL": REDIS_URL,
            "GITHUB_API_URL": github.url,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
            "LOG_LEVEL": "WARNING",
            "REPOSITORIES": "",
            "PYTHONPATH": str(REPO_ROOT),
        }
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            os.environ.pop(name, None)
        os.environ.update(env)
        worker_env = dict(os.environ)
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            for old in args.profile.glob("*.prof"):
                old.unlink()
            worker_env[PROFILE_ENV] = str(args.profile.resolve())
            worker_env[PROFILE_CLOCK_ENV] = args.profile_clock

        from ci_remediator.config import get_config
        from ci_remediator.services import get_services

        get_config.cache_clear()
        services = get_services()
        from werkzeug.serving import make_server

        from workers.app import app
        from workers.web import create_web_app

        log_text = demo_log("network_blip.log")
        targets = [REPOSITORIES[i % len(REPOSITORIES)] for i in range(n)]
        payloads = []
        for i, repository in enumerate(targets):
            # Each branch exists and points at its run's commit, as on GitHub (a missing
            # branch answers 404, which spends budget and is never a free 304).
            head_sha = f"{i + 1:040x}"
            github.set_branch_head(repository, f"feature/{i}", head_sha)
            run_id = github.add_failed_run(
                repository,
                workflow_name="CI",
                job_name="test",
                log_text=log_text,
                head_branch=f"feature/{i}",
                head_sha=head_sha,
            )
            payloads.append(workflow_run_payload(github, repository, run_id))
        server = make_server("127.0.0.1", 0, create_web_app(), threaded=True)
        threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
        hook_url = f"http://127.0.0.1:{server.server_port}/webhooks/github"
        # As on GitHub, a rerun completes on its own clock and its deliveries say so; verify's
        # polls (verify_poll_seconds) are the fallback for a delivery that never comes.
        announcer = WebhookSender(hook_url, SECRET)
        github.complete_reruns_after(RERUN_SECONDS, completion_announcer(github, announcer))

        workers = Workers(args.workers, worker_env, workdir)
        try:
            wait_for_workers(app, workers, args.workers)
            log(
                f"{args.workers} worker(s) ready (prefork, concurrency {CONCURRENCY}); "
                f"logs in {workdir}"
            )

            # ---- the pipeline ----
            before_tasks = task_totals(app, args.workers)
            before_cpu, before_main = workers.cpu_s(), workers.main_cpu_s()
            before_requests = len(github.requests)
            started = time.perf_counter()
            sender = threading.Thread(
                target=deliver_all, args=(hook_url, payloads, args.concurrency)
            )
            sender.start()
            deadline = started + args.timeout
            terminal, pending, states = 0, 0, Counter[str]()
            while time.perf_counter() < deadline and workers.alive():
                terminal, pending, states = settled_counts(services)
                if terminal >= n and pending == 0:
                    break
                time.sleep(0.1)
            pipeline_s = time.perf_counter() - started
            sender.join()
            pipeline_cpu = workers.cpu_s() - before_cpu
            pipeline_main_cpu = workers.main_cpu_s() - before_main
            tasks = task_totals(app, args.workers) - before_tasks
            served = github.requests[before_requests:]
            log(
                f"pipeline: {n} failures in {pipeline_s:.2f}s; states {dict(states)}; "
                f"{pending} notifications pending"
            )
            if terminal < n or pending:
                log("error: not every failure settled before the timeout (or a worker died)")
                return 1
            pipeline_tasks = sum(tasks.values())
            log(f"tasks: {pipeline_tasks} ({pipeline_tasks / n:.2f} a failure): {dict(tasks)}")
            log(
                f"worker CPU {pipeline_cpu:.2f}s ({pipeline_main_cpu:.2f}s of it in the "
                f"consumers' main processes), {1000 * pipeline_cpu / pipeline_tasks:.2f} ms a task"
            )
            by_endpoint = Counter(endpoint(r.method, r.path) for r in served)
            counted = Counter(endpoint(r.method, r.path) for r in served if r.counted)
            log(
                f"GitHub requests: {len(served)} ({len(served) / n:.2f} a failure), "
                f"{sum(counted.values())} of them spending rate budget "
                f"({sum(counted.values()) / n:.2f} a failure):"
            )
            for name, count in by_endpoint.most_common():
                log(f"  {count / n:6.2f} a failure, {counted[name] / n:6.2f} counted  {name}")
            log(
                f"Slack messages posted: {sum(len(slack.messages(c)) for c in ('ci-cd-alerts',))}"
                " in #ci-cd-alerts"
            )

            # ---- bare chains of as many no-op tasks ----
            from celery import chain

            length = max(1, round(pipeline_tasks / n))
            before_cpu = workers.cpu_s()
            before_tasks = task_totals(app, args.workers)
            started = time.perf_counter()
            for _ in range(n):
                # Immutable links: a no-op takes nothing from the one before it.
                chain(
                    *(
                        app.signature(NOOP_TASK, kwargs={"last": i == length - 1}, immutable=True)
                        for i in range(length)
                    )
                ).apply_async()
            deadline = started + args.timeout
            while time.perf_counter() < deadline and workers.alive():
                if int(broker.get(CHAINS_DONE_KEY) or 0) >= n:
                    break
                time.sleep(0.02)
            bare_s = time.perf_counter() - started
            bare_cpu = workers.cpu_s() - before_cpu
            bare_tasks = sum((task_totals(app, args.workers) - before_tasks).values())
            done = int(broker.get(CHAINS_DONE_KEY) or 0)
            log(
                f"bare: {done} chains of {length} no-op tasks in {bare_s:.2f}s; "
                f"{bare_tasks} tasks, worker CPU {bare_cpu:.2f}s, "
                f"{1000 * bare_cpu / max(1, bare_tasks):.2f} ms a task"
            )
            if done < n:
                log("error: not every bare chain finished before the timeout")
                return 1
        finally:
            workers.stop()
            server.shutdown()
    from ci_remediator.db.session import dispose_engines

    dispose_engines()
    engine.dispose()
    if args.profile is not None:
        print_profile(args.profile)

    failures_per_s = n / pipeline_s
    bare_per_s = n / bare_s
    print(
        json.dumps(
            {
                "bench": "pipeline",
                "failures": n,
                "failures_per_s": round(failures_per_s, 2),
                "bare_chains_per_s": round(bare_per_s, 2),
                "ratio": round(failures_per_s / bare_per_s, 3),
                "workers": args.workers,
                "tasks_per_failure": round(pipeline_tasks / n, 2),
                "github_requests_per_failure": round(len(served) / n, 2),
                "counted_github_requests_per_failure": round(
                    sum(1 for r in served if r.counted) / n, 2
                ),
                "cpu_ms_per_task": round(1000 * pipeline_cpu / pipeline_tasks, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
