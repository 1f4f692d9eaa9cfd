"""The web process: the dashboard, health, metrics and the GitHub webhook endpoint.

Enqueueing is handed in (`enqueue`) so this module knows nothing of Celery; the process entry
point `workers.web` wires it to the task queue.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from werkzeug.wsgi import get_input_stream

from ci_remediator.dashboard.page import dashboard_view
from ci_remediator.db.audit import record_audit
from ci_remediator.db.migrate import head_revision
from ci_remediator.domain import FollowUp
from ci_remediator.github.webhook_signature import SIGNATURE_HEADER, signature_is_valid
from ci_remediator.health import health, readiness
from ci_remediator.metrics_export import DatabaseCollector
from ci_remediator.pipeline.decide import decide_approval
from ci_remediator.pipeline.webhook import (
    MAX_BODY_BYTES,
    InvalidPayloadError,
    handle_delivery,
    record_refused_delivery,
)
from ci_remediator.services import Services, get_services

log = logging.getLogger(__name__)

Enqueue = Callable[[Sequence[FollowUp]], None]


def create_app(
    *, enqueue: Enqueue | None = None, services: Callable[[], Services] = get_services
) -> Flask:
    app = Flask("ci_remediator")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    schema_head = head_revision()
    started_at = time.monotonic()  # /healthz: "never polled" counts only after a while

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        return health(services(), schema_head=schema_head, started_at=started_at)

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, Any], int]:
        return readiness(services(), schema_head=schema_head)

    app.add_url_rule("/", "dashboard", dashboard_view(services))

    # The workers' counters die with the workers: the `ci_remediator_*` series are read from
    # the database at each scrape, beside this process's own (default registry) series. One
    # registry per app, so that a second app in one process registers without a clash.
    from_database = CollectorRegistry()
    from_database.register(DatabaseCollector(lambda: services().sessions))

    @app.get("/metrics")
    def metrics() -> Response:
        body = generate_latest(REGISTRY) + generate_latest(from_database)
        return Response(body, mimetype=CONTENT_TYPE_LATEST)

    _add_slack_interactivity(app, services, enqueue)

    @app.post("/webhooks/github")
    def github_webhook() -> tuple[dict[str, object], int]:
        current = services()
        secret = current.config.settings.github_webhook_secret
        body = _body_within_limit()  # the raw bytes GitHub signed
        if body is None:
            return {"error": f"body is over {MAX_BODY_BYTES} bytes"}, 413
        event = request.headers.get("X-GitHub-Event")
        delivery = request.headers.get("X-GitHub-Delivery")
        refusal = _refusal(current, secret.get_secret_value() if secret else "", body)
        if refusal is not None:
            return refusal
        try:
            payload = _json_object(body, event)
            with current.sessions() as session, session.begin():
                outcome = handle_delivery(
                    session,
                    event=event or "",
                    delivery_id=delivery or "",
                    payload=payload,
                    configured_repositories=current.config.repositories,
                )
        except InvalidPayloadError as error:
            return {"error": str(error)}, 400
        if outcome.follow_ups and enqueue is not None:
            # After the commit: the analyze task must find the row. With the broker down the
            # row stands and the reconcile sweep sends its task later: GitHub hears success.
            try:
                enqueue(outcome.follow_ups)
            except Exception:
                log.exception("failure recorded from the webhook, its task not sent yet")
        return outcome.body, outcome.status

    return app


def _add_slack_interactivity(
    app: Flask, services: Callable[[], Services], enqueue: Enqueue | None
) -> None:
    """`POST /slack/events` when SLACK_SIGNING_SECRET is set: Approve and Reject clicks."""
    settings = services().config.settings
    if settings.slack_signing_secret is None:
        return
    from slack_bolt.adapter.flask import SlackRequestHandler
    from slack_sdk.signature import SignatureVerifier

    from ci_remediator.slack.interactivity import Click, ClickAnswer, build_interactivity_app

    secret = settings.slack_signing_secret.get_secret_value()
    verifier = SignatureVerifier(secret)

    def decide(click: Click) -> ClickAnswer:
        current = services()
        with current.sessions() as session, session.begin():
            result = decide_approval(
                session,
                approval_id=click.approval_id,
                decision=click.decision,
                decided_by=click.user_id,
                via="slack",
                config=current.config,
                remember=click.remember,
            )
        if result.follow_ups and enqueue is not None:
            try:
                enqueue(result.follow_ups)
            except Exception:  # the decision stands: the reconcile sweep sends the task
                log.exception("approval %s decided, its task not sent yet", click.approval_id)
        return ClickAnswer(changed=result.changed, message=result.message)

    bolt = build_interactivity_app(
        signing_secret=secret,
        bot_token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else "",
        api_url=settings.slack_api_url,
        decide=decide,
    )
    handler = SlackRequestHandler(bolt)

    def signed_by_slack(body: str) -> bool:
        # slack_sdk raises on a timestamp that is no number or a signature that is not
        # ASCII: whatever the headers say, an unsigned request is refused, never a 500.
        try:
            return verifier.is_valid_request(body, dict(request.headers))
        except (ValueError, TypeError):
            return False

    @app.post("/slack/events")
    def slack_events() -> Response:
        body = request.get_data(cache=True, as_text=True)
        if not signed_by_slack(body):
            # Refused before anything in the body is trusted: audited by metadata only.
            reason = (
                "missing signature"
                if "X-Slack-Signature" not in request.headers
                else "bad or stale signature"
            )
            with services().sessions() as session, session.begin():
                record_audit(
                    session,
                    actor="slack",
                    action="request_refused",
                    outcome="failure",
                    detail={"reason": reason, "remote": (request.remote_addr or "")[:100]},
                )
            return Response('{"error": "invalid request"}', 401, mimetype="application/json")
        answer: Response = handler.handle(request)
        return answer


def _json_object(body: bytes, event: str | None) -> dict[str, Any]:
    """The signed body as a JSON object, or InvalidPayloadError saying why it is not one."""
    if not event:
        raise InvalidPayloadError("missing X-GitHub-Event header")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:  # (nested past the parser's depth)
        raise InvalidPayloadError(f"body is not usable JSON: {type(error).__name__}") from error
    if not isinstance(payload, dict):
        raise InvalidPayloadError("body must be a JSON object")
    return payload


def _body_within_limit() -> bytes | None:
    """The request body, or None when it is over MAX_BODY_BYTES however it was sent (a
    Content-Length, or chunks: Flask's own limit would cut those short, unnoticed)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    stream = get_input_stream(request.environ, safe_fallback=False)
    body = stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


def _refusal(services: Services, secret: str, body: bytes) -> tuple[dict[str, object], int] | None:
    """The answer to an unsigned or badly signed delivery (audited by metadata), else None."""
    if not secret:
        return {"error": "webhooks are not configured (GITHUB_WEBHOOK_SECRET is unset)"}, 503
    if signature_is_valid(secret, body, request.headers.get(SIGNATURE_HEADER)):
        return None
    reason = "missing signature" if SIGNATURE_HEADER not in request.headers else "bad signature"
    with services.sessions() as session, session.begin():
        record_refused_delivery(
            session,
            event=request.headers.get("X-GitHub-Event"),
            delivery_id=request.headers.get("X-GitHub-Delivery"),
            reason=reason,
            remote=request.remote_addr,
        )
    return {"error": f"{reason} ({SIGNATURE_HEADER})"}, 401
