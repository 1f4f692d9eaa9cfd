"""The web process entry point: the Flask app with enqueueing wired to Celery."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask

from ci_remediator.domain import FollowUp
from ci_remediator.web import create_app
from workers.app import app
from workers.base import send_follow_ups


def create_web_app() -> Flask:
    def enqueue(follow_ups: Sequence[FollowUp]) -> None:
        send_follow_ups(app, follow_ups)

    return create_app(enqueue=enqueue)
