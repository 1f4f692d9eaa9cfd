"""The one Celery entrypoint: `celery -A workers.app worker|beat|flower`.

Static settings come from `celeryconfig`; the broker and the beat schedule come from
ci-remediator's configuration, read when this module is imported (the process's entrypoint:
the demo and tests set their environment first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import beat_init, setup_logging, worker_init, worker_process_init

from celeryconfig import MAX_RETRY_BACKOFF_S, QUEUES, VISIBILITY_TIMEOUT_S
from ci_remediator.config import AppConfig, get_config
from ci_remediator.db.session import forget_engines
from ci_remediator.log_context import configure_logging
from ci_remediator.redis_tls import without_tls_query
from workers.base import PipelineTask

# The daily retention purge, at a quiet time of day (UTC, celeryconfig's timezone).
PURGE_AT_HOUR = 3
PURGE_AT_MINUTE = 30


class UnsafeCeleryConfigError(RuntimeError):
    """The reliability settings would let the broker redeliver a task that is still running."""


def deployment_settings(config: AppConfig) -> dict[str, Any]:
    """Broker and beat schedule for this deployment (pure: folders are made at worker start)."""
    settings, file = config.settings, config.file
    # None: the transport the URL names.
    broker_transport: str | None = None
    # `rediss://` (Heroku Redis): the TLS options every Redis client of ours uses, passed as
    # `broker_use_ssl` (kombu reads no TLS options from a Redis URL's query). Celery's result
    # backend would need `redis_backend_use_ssl` too; there is none (`result_backend = None`).
    broker_use_ssl: dict[str, Any] | None = None
    if settings.broker_url:
        broker_use_ssl = settings.redis_tls.options(settings.broker_url)
        broker_url = (
            without_tls_query(settings.broker_url) if broker_use_ssl else settings.broker_url
        )
        transport_options: dict[str, Any] = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
    else:
        folder = settings.data_dir.resolve() / "broker"
        broker_url = "filesystem://"
        # kombu's filesystem transport, writing each message whole (see workers/broker.py).
        broker_transport = "workers.broker:Transport"
        transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # Exchange tables; kombu's default is `control/` in the working directory.
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0.1,
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
        }
    return {
        "broker_url": broker_url,
        "broker_transport": broker_transport,
        "broker_transport_options": transport_options,
        "broker_use_ssl": broker_use_ssl,
        # Beat's state lives with the rest of the process's files, not wherever it started.
        "beat_schedule_filename": str(settings.data_dir.resolve() / "celerybeat-schedule"),
        "beat_schedule": {
            "poll-repositories": {
                "task": "ci_remediator.poll_repositories",
                "schedule": timedelta(minutes=file.polling_interval_minutes),
            },
            "reconcile": {
                "task": "ci_remediator.reconcile",
                "schedule": timedelta(minutes=max(1.0, file.stuck_after_minutes / 3)),
            },
            "expire-approvals": {
                "task": "ci_remediator.expire_approvals",
                "schedule": timedelta(minutes=1),
            },
            "close-tracking-issues": {
                "task": "ci_remediator.close_tracking_issues",
                "schedule": timedelta(minutes=file.polling_interval_minutes),
            },
            # A time of day, not an interval: beat's schedule file rarely survives a restart
            # (a container, a dyno), and a 24-hour interval restarted daily would never fire.
            "purge-old-records": {
                "task": "ci_remediator.purge_old_records",
                "schedule": crontab(minute=PURGE_AT_MINUTE, hour=PURGE_AT_HOUR),
            },
        },
        "ci_remediator_max_countdown_s": max(file.verify_poll_seconds, MAX_RETRY_BACKOFF_S),
    }


def check_reliability(app: Celery) -> None:
    """Refuse to start unless late acks and the visibility timeout protect every task."""
    conf = app.conf
    problems = []
    if not conf.task_acks_late:
        problems.append("task_acks_late must be true")
    if not conf.task_reject_on_worker_lost:
        problems.append("task_reject_on_worker_lost must be true")
    if conf.worker_prefetch_multiplier != 1:
        problems.append("worker_prefetch_multiplier must be 1")
    if set(conf.accept_content) != {"json"} or conf.task_serializer != "json":
        problems.append("only the json serializer is allowed")
    ours = [task for name, task in app.tasks.items() if name.startswith("ci_remediator.")]
    unlimited = sorted(task.name for task in ours if not task.time_limit)
    if unlimited:
        problems.append(f"tasks without a time limit: {', '.join(unlimited)}")
    visibility = (conf.broker_transport_options or {}).get("visibility_timeout", 3600)
    longest = max((task.time_limit or 0 for task in ours), default=0) + conf.get(
        "ci_remediator_max_countdown_s", 0
    )
    if visibility <= longest:
        problems.append(
            f"broker visibility_timeout {visibility}s must exceed the longest task time limit "
            f"plus the longest countdown ({longest}s)"
        )
    if problems:
        raise UnsafeCeleryConfigError("; ".join(problems))


def make_broker_folders(app: Celery) -> None:
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
    if app.conf.beat_schedule_filename:
        Path(app.conf.beat_schedule_filename).parent.mkdir(parents=True, exist_ok=True)


# Task name -> queue, filled by `pipeline_task` (Celery 6 drops the `queue` task attribute).
QUEUE_OF_TASK: dict[str, str] = {}


def route_task(name: str, *_: Any, **__: Any) -> dict[str, str] | None:
    queue = QUEUE_OF_TASK.get(name)
    return {"queue": queue, "routing_key": queue} if queue else None


app = Celery("ci_remediator")
app.config_from_object("celeryconfig")
# Configured here, once, before any thread can touch `app.conf`: Celery's lazy configuration
# (`add_defaults` promises) can be loaded twice by two threads at once, and the second load
# drops the promised settings (seen: a worker thread publishing to Celery's default broker).
app.conf.update(deployment_settings(get_config()), task_routes=(route_task,))
# The current app of every thread, the thread pool's too: Celery's thread pool runs each task
# as `current_app.tasks[name]`, and without this a pool thread's current app is Celery's
# default app, holding copies of our (shared) tasks bound to its default settings.
app.set_default()


def pipeline_task(
    *, name: str, queue: str, soft_time_limit: int, time_limit: int, **options: Any
) -> Callable[[Callable[..., Any]], Task]:
    """Declare a task: its stable name, its queue and its time limits, in one place."""
    if queue not in QUEUES:
        raise ValueError(f"{name}: unknown queue {queue!r} (known: {', '.join(QUEUES)})")
    QUEUE_OF_TASK[name] = queue
    decorator: Callable[[Callable[..., Any]], Task] = app.task(
        bind=True,
        base=PipelineTask,
        name=name,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
        **options,
    )
    return decorator


app.autodiscover_tasks(["workers"], related_name="tasks", force=True)


@app.on_after_configure.connect
def _broker_folders(sender: Celery, **_: Any) -> None:
    # Producers (the web process, the demo) and workers alike write into these folders.
    make_broker_folders(sender)


@worker_init.connect
@beat_init.connect
def _refuse_unsafe_config(sender: Any, **_: Any) -> None:
    check_reliability(app)


@beat_init.connect
def _poll_at_start(sender: Any, **_: Any) -> None:
    # An interval entry first fires one interval after beat starts: a new user would see
    # nothing for five minutes. The poll's own window lock keeps a restart from doubling it.
    app.send_task("ci_remediator.poll_repositories", queue="poll")


@worker_process_init.connect
def _fresh_engine_after_fork(**_: Any) -> None:
    forget_engines()


@setup_logging.connect
def _logging_with_task_context(**_: Any) -> None:
    # Our handler carries the task id and failure id bound by the base task on every line.
    settings = get_config().settings
    configure_logging(settings.log_level, settings.log_format)
