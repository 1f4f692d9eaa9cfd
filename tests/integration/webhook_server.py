"""The web app served over real HTTP on a loopback port, for webhook tests and benchmarks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from werkzeug.serving import make_server

from ci_remediator.domain import FollowUp
from ci_remediator.services import Services
from ci_remediator.web import create_app


@contextmanager
def serving_web_app(
    services: Services, enqueue: Callable[[Sequence[FollowUp]], None] | None
) -> Iterator[str]:
    """Serve the app (threaded) and yield its base URL."""
    server = make_server(
        "127.0.0.1", 0, create_app(enqueue=enqueue, services=lambda: services), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
