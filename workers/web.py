"""The web process entry point: the Flask app with enqueueing wired to Celery."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

from ci_remediator.config import get_config
from ci_remediator.dashboard.access import bind_refusal
from ci_remediator.domain import FollowUp
from ci_remediator.web import create_app
from workers.app import app
from workers.base import send_follow_ups


def create_web_app() -> Flask:
    def enqueue(follow_ups: Sequence[FollowUp]) -> None:
        send_follow_ups(app, follow_ups)

    return create_app(enqueue=enqueue)


@contextmanager
def serving(host: str = "127.0.0.1") -> Iterator[str]:
    """The web app on a spare port of `host` in this process (the demo's /slack/events); its
    URL. A host other than loopback needs DASHBOARD_AUTH, as under gunicorn."""
    refusal = bind_refusal([host], dashboard_auth=get_config().settings.dashboard_auth)
    if refusal is not None:
        raise RuntimeError(refusal)
    server = make_server(host, 0, create_web_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
