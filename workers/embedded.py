"""A real Celery worker inside this process, on a thread pool.

Used by the embedded form (`ci-remediator demo`) and the integration tests: the same tasks,
the same broker protocol and acknowledgements as a separate worker, never eager mode.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from celery import Celery
from celery.worker import WorkController

from celeryconfig import QUEUES


class WorkerStartError(RuntimeError):
    pass


@contextmanager
def running_worker(
    app: Celery,
    *,
    concurrency: int = 4,
    queues: Sequence[str] = QUEUES,
    loglevel: str = "WARNING",
    startup_timeout_s: float = 30.0,
) -> Iterator[WorkController]:
    app.finalize()
    app.set_current()
    ready = threading.Event()
    worker = WorkController(
        app=app,
        hostname=f"embedded-{threading.get_ident()}@{socket.gethostname()}",
        pool_cls="threads",
        concurrency=concurrency,
        queues=list(queues),
        loglevel=loglevel,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        ready_callback=lambda _consumer: ready.set(),
    )
    thread = threading.Thread(target=worker.start, name="celery-worker", daemon=True)
    thread.start()
    if not ready.wait(startup_timeout_s):
        worker.stop()
        raise WorkerStartError(f"the worker did not become ready within {startup_timeout_s}s")
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=15)
