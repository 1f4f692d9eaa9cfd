"""The web process: health, metrics and the GitHub webhook endpoint.

Enqueueing is handed in (`enqueue`) so this module knows nothing of Celery; the process entry
point `workers.web` wires it to the task queue.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from ci_remediator.db.audit import record_audit
from ci_remediator.db.refused_credentials import credential_disabled
from ci_remediator.domain import FollowUp
from ci_remediator.github.webhook_signature import SIGNATURE_HEADER, signature_is_valid
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

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        current = services()
        try:
            with current.sessions() as session:
                session.execute(text("SELECT 1"))
                slack = current.notifier_credential
                refused = slack is not None and credential_disabled(session, slack)
        except Exception as error:  # noqa: BLE001 - health reports any fault as unhealthy
            return {"status": "unhealthy", "database": type(error).__name__}, 503
        if refused:
            # Remediation goes on; people are not being told. Degraded, not down.
            return {"status": "degraded", "slack": "the bot token was refused"}, 200
        return {"status": "ok"}, 200

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    _add_slack_interactivity(app, services, enqueue)

    @app.post("/webhooks/github")
    def github_webhook() -> tuple[dict[str, object], int]:
        current = services()
        secret = current.config.settings.github_webhook_secret
        body = request.get_data(cache=False)  # the raw bytes GitHub signed
        event = request.headers.get("X-GitHub-Event")
        delivery = request.headers.get("X-GitHub-Delivery")
        refusal = _refusal(current, secret.get_secret_value() if secret else "", body)
        if refusal is not None:
            return refusal
        if not event:
            return {"error": "missing X-GitHub-Event header"}, 400
        try:
            payload = json.loads(body)
        except ValueError as error:
            return {"error": f"body is not JSON: {error}"}, 400
        if not isinstance(payload, dict):
            return {"error": "body must be a JSON object"}, 400
        try:
            with current.sessions() as session, session.begin():
                outcome = handle_delivery(
                    session,
                    event=event,
                    delivery_id=delivery or "",
                    payload=payload,
                    configured_repositories=current.config.repositories,
                )
        except InvalidPayloadError as error:
            return {"error": str(error)}, 400
        if outcome.follow_ups and enqueue is not None:
            # After the commit: the analyze task must find the row. A lost message is picked
            # up by the reconcile sweep.
            enqueue(outcome.follow_ups)
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

    @app.post("/slack/events")
    def slack_events() -> Response:
        body = request.get_data(cache=True, as_text=True)
        if not verifier.is_valid_request(body, dict(request.headers)):
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
