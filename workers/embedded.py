"""A real Celery worker inside this process, on a thread pool.

Used by the embedded form (`ci-remediator demo`) and the integration tests: the same tasks,
the same broker protocol and acknowledgements as a separate worker, never eager mode.

The worker is not restarted if it stops by itself. It used to be, which hid the cause (kombu's
filesystem transport let a consumer read a message file before it was written; see
`workers/broker.py`) and lost whatever the dead worker held. Now a worker that stops early says
why (`EmbeddedWorker.failure`, and an error in the log) and whoever waits on it stops waiting.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from celery import Celery
from celery.worker import WorkController

from celeryconfig import QUEUES

log = logging.getLogger(__name__)


class WorkerStartError(RuntimeError):
    pass


@dataclass
class EmbeddedWorker:
    """A handle on the running worker: `failure` says why it stopped, if it did on its own."""

    controller: WorkController
    stopping: threading.Event = field(default_factory=threading.Event)
    failure: str | None = None

    @property
    def alive(self) -> bool:
        return self.failure is None


@contextmanager
def running_worker(
    app: Celery,
    *,
    concurrency: int = 4,
    queues: Sequence[str] = QUEUES,
    loglevel: str = "WARNING",
    startup_timeout_s: float = 30.0,
) -> Iterator[EmbeddedWorker]:
    app.finalize()
    app.set_current()
    ready = threading.Event()
    worker = EmbeddedWorker(
        WorkController(
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
    )

    def work() -> None:
        try:
            worker.controller.start()
        except BaseException as error:  # noqa: BLE001 - reported through `failure`
            worker.failure = f"embedded worker crashed: {type(error).__name__}: {error}"
        if not worker.stopping.is_set() and worker.failure is None:
            # WorkController.start catches a fatal error itself and stops with exit code 1.
            worker.failure = (
                f"embedded worker stopped on its own (exit code {worker.controller.exitcode})"
            )
        if worker.failure is not None:
            log.error("%s", worker.failure)
        ready.set()

    thread = threading.Thread(target=work, name="celery-worker", daemon=True)
    thread.start()
    if not ready.wait(startup_timeout_s) or worker.failure is not None:
        worker.stopping.set()
        worker.controller.stop()
        raise WorkerStartError(
            worker.failure or f"the worker did not become ready within {startup_timeout_s}s"
        )
    try:
        yield worker
    finally:
        worker.stopping.set()
        worker.controller.stop()
        thread.join(timeout=15)
