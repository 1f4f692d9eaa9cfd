"""The web process: health and metrics now; Slack interactivity and GitHub webhooks next."""

from __future__ import annotations

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from ci_remediator.config import get_config
from ci_remediator.db.session import get_engine


def create_app() -> Flask:
    app = Flask("ci_remediator")

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        try:
            with get_engine(get_config().settings.sqlalchemy_url).connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:  # noqa: BLE001 - health reports any fault as unhealthy
            return {"status": "unhealthy", "database": type(error).__name__}, 503
        return {"status": "ok"}, 200

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    return app
