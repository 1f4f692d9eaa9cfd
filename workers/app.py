"""The one Celery entrypoint: `celery -A workers.app worker|beat|flower`."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_process_init

from ci_remediator.config import get_config
from ci_remediator.db.session import forget_engines
from ci_remediator.log_context import configure_logging


class UnsafeCeleryConfigError(RuntimeError):
    """The reliability settings would let the broker redeliver a task that is still running."""


def check_reliability(conf: Any) -> None:
    """Refuse to start unless late acks and the visibility timeout protect every task."""
    problems = []
    if not conf.task_acks_late:
        problems.append("task_acks_late must be true")
    if not conf.task_reject_on_worker_lost:
        problems.append("task_reject_on_worker_lost must be true")
    if conf.worker_prefetch_multiplier != 1:
        problems.append("worker_prefetch_multiplier must be 1")
    if set(conf.accept_content) != {"json"} or conf.task_serializer != "json":
        problems.append("only the json serializer is allowed")
    visibility = (conf.broker_transport_options or {}).get("visibility_timeout", 3600)
    limits = [limits["time_limit"] for limits in (conf.task_annotations or {}).values()]
    longest = max(limits, default=0) + conf.get("ci_remediator_max_countdown_s", 0)
    if visibility <= longest:
        problems.append(
            f"broker visibility_timeout {visibility}s must exceed the longest task time limit "
            f"plus the longest countdown ({longest}s)"
        )
    if problems:
        raise UnsafeCeleryConfigError("; ".join(problems))


app = Celery("ci_remediator")
app.config_from_object("celeryconfig")
app.autodiscover_tasks(["workers"], related_name="tasks", force=True)


@app.on_after_configure.connect
def _refuse_unsafe_config(sender: Celery, **_: Any) -> None:
    check_reliability(sender.conf)


@worker_process_init.connect
def _fresh_engine_after_fork(**_: Any) -> None:
    forget_engines()


@setup_logging.connect
def _logging_with_task_context(**_: Any) -> None:
    # Our handler carries the task id and failure id bound by the base task on every line.
    settings = get_config().settings
    configure_logging(settings.log_level, settings.log_format)
