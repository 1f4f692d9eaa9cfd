"""The interactive endpoint: Slack's Approve and Reject clicks, through slack_bolt.

Bolt checks every request's signature (HMAC over the raw body, five-minute window) before any
handler runs. Each handler acknowledges at once (Slack wants an answer within 3 s), then asks
the decide function it was given: authority, expiry and "decided once" are the server's call.
The message is rewritten (buttons replaced by who decided) or the clicker alone is told why
nothing happened. Token verification at start is off, so the web process starts and answers
even while Slack's API is unreachable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from ci_remediator.db.base import utcnow
from ci_remediator.domain import Decision
from ci_remediator.slack.blocks import ActionId, decided_blocks

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Click:
    approval_id: int
    decision: Decision
    user_id: str
    # "Approve and always" / "Reject and never ask"
    remember: bool = False


@dataclass(frozen=True, slots=True)
class ClickAnswer:
    changed: bool
    message: str


Decide = Callable[[Click], ClickAnswer]


def build_interactivity_app(
    *, signing_secret: str, bot_token: str, api_url: str, decide: Decide
) -> App:
    client = WebClient(token=bot_token, base_url=api_url)
    app = App(
        signing_secret=signing_secret,
        client=client,
        token_verification_enabled=False,
        # Acknowledge first, then work: Slack gets its answer within 3 s either way.
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    def on_click(decision: Decision, *, remember: bool = False) -> Callable[..., None]:
        def handler(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            action = (body.get("actions") or [{}])[0]
            user_id = str((body.get("user") or {}).get("id") or "")
            try:
                approval_id = int(action.get("value", ""))
            except ValueError:
                log.warning("a click carried no approval id; ignored")
                return
            answer = decide(
                Click(
                    approval_id=approval_id,
                    decision=decision,
                    user_id=user_id,
                    remember=remember,
                )
            )
            container = body.get("container") or {}
            channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id"))
            try:
                if answer.changed:
                    message = body.get("message") or {}
                    client.chat_update(
                        channel=channel,
                        ts=str(container.get("message_ts") or message.get("ts")),
                        text=answer.message,
                        blocks=decided_blocks(
                            message.get("blocks") or [], summary=answer.message, at=utcnow()
                        ),
                    )
                else:
                    client.chat_postEphemeral(channel=channel, user=user_id, text=answer.message)
            except SlackApiError as error:
                # The decision stands; only the message about it could not be written.
                log.warning("Slack did not take the answer to a click: %s", error)

        return handler

    app.action(ActionId.APPROVE.value)(on_click(Decision.APPROVE))
    app.action(ActionId.REJECT.value)(on_click(Decision.REJECT))
    app.action(ActionId.APPROVE_ALWAYS.value)(on_click(Decision.APPROVE, remember=True))
    app.action(ActionId.REJECT_NEVER.value)(on_click(Decision.REJECT, remember=True))
    return app
