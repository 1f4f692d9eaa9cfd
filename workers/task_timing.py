"""How long each task ran and waited in the queue, added to `task_stats` after every run.

Celery's signals, connected when the tasks module is imported: every published task gets a
`ci_sent_at` header (retries and beat's too); when a worker starts it, the wait is measured from
then, or from its countdown's due time; when it ends, its duration and outcome join the
process's pending totals (`db.task_stats.PendingTaskStats`), written in one transaction at
most every FLUSH_EVERY_S (a timer flushes what an idle process still holds, and so does the
process's exit). A transaction per task cost a second commit for every step (bench/README);
a killed process loses at most FLUSH_EVERY_S of timings, never work. A fault here is logged,
never raised into the task.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from datetime import datetime
from typing import Any

from celery import Task
from celery.signals import before_task_publish, task_postrun, task_prerun, worker_process_shutdown

from ci_remediator.db.task_stats import PendingTaskStats
from ci_remediator.services import get_services

log = logging.getLogger(__name__)

SENT_AT_HEADER = "ci_sent_at"
OUR_TASKS = "ci_remediator."
OUTCOMES = {"SUCCESS": "succeeded", "RETRY": "retried", "FAILURE": "failed", "REJECTED": "failed"}

FLUSH_EVERY_S = 2.0

_started: dict[str, tuple[float, float | None]] = {}  # task id -> (monotonic start, wait)
_started_lock = threading.Lock()
_pending = PendingTaskStats()
_flush_lock = threading.Lock()
_last_flush = 0.0
_timer: threading.Timer | None = None


@before_task_publish.connect
def _stamp_sent_at(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers.setdefault(SENT_AT_HEADER, time.time())


def _wait_s(task: Task) -> float | None:
    sent_at = task.request.get(SENT_AT_HEADER)
    if sent_at is None:
        return None
    due = float(sent_at)
    eta = task.request.eta
    if eta:  # a countdown: the wait starts when it is due, not when it was sent
        due = max(due, datetime.fromisoformat(eta).timestamp())
    return max(0.0, time.time() - due)


@task_prerun.connect
def _start(task_id: str | None = None, task: Task | None = None, **_: Any) -> None:
    if task_id is None or task is None or not task.name.startswith(OUR_TASKS):
        return
    try:
        wait = _wait_s(task)
    except (TypeError, ValueError):
        wait = None
    with _started_lock:
        _started[task_id] = (time.monotonic(), wait)


@task_postrun.connect
def _finish(
    task_id: str | None = None, task: Task | None = None, state: str | None = None, **_: Any
) -> None:
    if task_id is None or task is None:
        return
    with _started_lock:
        started = _started.pop(task_id, None)
    if started is None:
        return
    began, wait = started
    _pending.add(
        task=task.name.removeprefix(OUR_TASKS),
        outcome=OUTCOMES.get(state or "", (state or "unknown").lower()),
        duration_s=time.monotonic() - began,
        wait_s=wait,
    )
    if time.monotonic() - _last_flush >= FLUSH_EVERY_S:
        flush()
    else:
        _flush_later()


def _flush_later() -> None:
    global _timer  # noqa: PLW0603 - one pending timer per process
    with _flush_lock:
        if _timer is None or not _timer.is_alive():
            _timer = threading.Timer(FLUSH_EVERY_S, flush)
            _timer.daemon = True
            _timer.start()


def flush() -> None:
    """Write this process's pending totals in one transaction (kept for the next try if
    the database refuses)."""
    global _last_flush  # noqa: PLW0603
    with _flush_lock:
        _last_flush = time.monotonic()
        taken = _pending.take()
        if not taken:
            return
        try:
            with get_services().sessions() as session, session.begin():
                taken.write(session)
        except Exception:
            _pending.merge(taken)
            log.exception("task timings were not stored; kept for the next flush")


@worker_process_shutdown.connect
def _flush_at_exit(**_: Any) -> None:
    flush()


atexit.register(flush)  # the solo and threads pools have no child process to shut down
