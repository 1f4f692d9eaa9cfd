"""A real Celery worker inside this process, on a thread pool, restarted if it stops.

Used by the embedded form (`ci-remediator demo`) and the integration tests: the same tasks,
the same broker protocol and acknowledgements as a separate worker, never eager mode.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from celery import Celery
from celery.worker import WorkController

from celeryconfig import QUEUES

log = logging.getLogger(__name__)


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
) -> Iterator[None]:
    app.finalize()
    app.set_current()
    ready = threading.Event()
    stopping = threading.Event()
    current: list[WorkController] = []

    def make_worker() -> WorkController:
        return WorkController(
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

    def supervise() -> None:
        # The embedded worker has been seen to stop on its own (its thread simply returns);
        # like `ci-remediator run`, restart it rather than let the pipeline stall.
        while not stopping.is_set():
            worker = make_worker()
            current[:] = [worker]
            try:
                worker.start()
            except BaseException:
                log.exception("embedded worker crashed")
            if not stopping.is_set():
                log.warning("embedded worker stopped unexpectedly; restarting it")
                time.sleep(0.2)

    thread = threading.Thread(target=supervise, name="celery-worker", daemon=True)
    thread.start()
    if not ready.wait(startup_timeout_s):
        stopping.set()
        if current:
            current[0].stop()
        raise WorkerStartError(f"the worker did not become ready within {startup_timeout_s}s")
    try:
        yield
    finally:
        stopping.set()
        if current:
            current[0].stop()
        thread.join(timeout=15)
