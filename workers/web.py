"""The web process entry point: the Flask app with enqueueing wired to Celery."""

from __future__ import annotations

from flask import Flask

from ci_remediator.web import create_app
from workers.base import send_follow_ups


def create_web_app() -> Flask:
    return create_app(enqueue=send_follow_ups)
