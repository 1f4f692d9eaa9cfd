"""Deliver Slack interactivity requests (button clicks) to an app's Request URL as Slack does.

Slack POSTs `application/x-www-form-urlencoded` with one field, `payload`, holding the
interaction's JSON, and signs each request: `X-Slack-Request-Timestamp` (Unix seconds) and
`X-Slack-Signature` = "v0=" + hex HMAC-SHA256, under the app's signing secret, of
f"v0:{timestamp}:{raw body}". A receiver must check that signature over the exact bytes it
received, refuse timestamps more than five minutes away (Slack's advice, and what
`slack_sdk.signature.SignatureVerifier` enforces) and, because a captured request stays valid
for those five minutes, not act twice on one. The variants here are the requests that catch a
receiver doing otherwise: forged, stale, replayed, unsigned.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode

import requests

from ci_remediator.sandbox.slack import APP_ID, TEAM_DOMAIN, TEAM_ID, PostedMessage

__all__ = [
    "STALE_AFTER_S",
    "ButtonClick",
    "InteractivitySender",
    "SignedRequest",
    "block_actions_payload",
    "slack_signature",
]

STALE_AFTER_S = 5 * 60  # what Slack tells receivers to refuse
_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Slack's deprecated `token` field, which receivers should ignore: a fixed sandbox value.
_VERIFICATION_TOKEN = "sandbox-verification-token"  # noqa: S105


def slack_signature(signing_secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The `X-Slack-Signature` Slack sends for `body` at `timestamp` under `signing_secret`."""
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{raw}".encode()
    return "v0=" + hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ButtonClick:
    """A user clicking a button in a message: who, where, and which button."""

    user_id: str
    channel_id: str
    message: Mapping[str, Any]  # as Slack shows it (at least "ts"): PostedMessage.to_slack()
    action_id: str
    value: str
    block_id: str = "actions"
    button_text: str = "Button"
    user_name: str | None = None  # defaults to the id, lower-cased
    channel_name: str = "channel"

    @classmethod
    def on(
        cls,
        message: PostedMessage,
        *,
        user_id: str,
        action_id: str,
        value: str | None = None,
        channel_name: str = "channel",
    ) -> ButtonClick:
        """A click on the button `action_id` of a message the sandbox holds: block id, text
        and value come from the message's blocks, as Slack takes them (`value` overrides,
        to send what the button never carried)."""
        shown = message.to_slack()
        block_id, button = _find_button(shown.get("blocks") or [], action_id)
        text = button.get("text", {}).get("text", "Button")
        return cls(
            user_id=user_id,
            channel_id=message.channel,
            message=shown,
            action_id=action_id,
            value=str(button.get("value", "")) if value is None else value,
            block_id=block_id,
            button_text=str(text),
            channel_name=channel_name,
        )


def block_actions_payload(
    click: ButtonClick,
    *,
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = APP_ID,
    verification_token: str = _VERIFICATION_TOKEN,
    action_ts: str | None = None,
) -> dict[str, Any]:
    """The `block_actions` payload Slack sends for `click`."""
    user_name = click.user_name or click.user_id.lower()
    message_ts = str(click.message["ts"])
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": click.channel_id,
        "is_ephemeral": False,
    }
    if "thread_ts" in click.message:
        container["thread_ts"] = click.message["thread_ts"]
    hook_id = secrets.randbelow(10**12)
    return {
        "type": "block_actions",
        "user": {"id": click.user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": api_app_id,
        "token": verification_token,
        "container": container,
        "trigger_id": f"{hook_id}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}",
        "team": {"id": team_id, "domain": team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": click.channel_id, "name": click.channel_name},
        "message": dict(click.message),
        "state": {"values": {}},
        "response_url": f"https://hooks.slack.com/actions/{team_id}/{hook_id}/{secrets.token_urlsafe(18)}",
        "actions": [
            {
                "action_id": click.action_id,
                "block_id": click.block_id,
                "text": {"type": "plain_text", "text": click.button_text, "emoji": True},
                "value": click.value,
                "type": "button",
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The exact bytes and headers of one delivery, so that it can be sent again unchanged."""

    body: bytes
    headers: Mapping[str, str]
    payload: dict[str, Any] = field(compare=False)


class InteractivitySender:
    """POSTs interactions to one Request URL, signed with the app's signing secret."""

    def __init__(
        self,
        url: str,
        signing_secret: str,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = signing_secret
        self._timeout_s = timeout_s
        self._clock = clock
        self._session = requests.Session()
        self.last_sent: SignedRequest | None = None

    def sign(
        self,
        payload: Mapping[str, Any],
        *,
        timestamp: int | None = None,
        signing_secret: str | None = None,
    ) -> SignedRequest:
        """`payload` as Slack delivers it: form-encoded in `payload`, signed at `timestamp`
        (now by default) under `signing_secret` (the app's by default)."""
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()
        at = int(self._clock()) if timestamp is None else timestamp
        signature = slack_signature(signing_secret or self._secret, at, body)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": _USER_AGENT,
            "X-Slack-Request-Timestamp": str(at),
            "X-Slack-Signature": signature,
        }
        return SignedRequest(body, headers, dict(payload))

    def send(self, request: SignedRequest) -> requests.Response:
        """Deliver exactly these bytes and headers; sending one twice is a replay."""
        self.last_sent = request
        return self._session.post(
            self._url, data=request.body, headers=dict(request.headers), timeout=self._timeout_s
        )

    def click(self, click: ButtonClick) -> requests.Response:
        """A genuine click: signed now with the app's secret."""
        return self.send(self.sign(block_actions_payload(click)))

    def click_forged(
        self,
        click: ButtonClick,
        *,
        wrong_secret: str = "not-the-signing-secret",  # noqa: S107
    ) -> requests.Response:
        """A click signed with a secret other than the app's (a third party's request)."""
        return self.send(self.sign(block_actions_payload(click), signing_secret=wrong_secret))

    def click_stale(
        self, click: ButtonClick, *, age_s: int = STALE_AFTER_S + 60
    ) -> requests.Response:
        """A correctly signed click whose timestamp is `age_s` seconds old."""
        stale = int(self._clock()) - age_s
        return self.send(self.sign(block_actions_payload(click), timestamp=stale))

    def click_unsigned(
        self,
        click: ButtonClick,
        *,
        drop: tuple[str, ...] = ("X-Slack-Request-Timestamp", "X-Slack-Signature"),
    ) -> requests.Response:
        """A click without the signature headers named in `drop` (both by default)."""
        signed = self.sign(block_actions_payload(click))
        kept = {name: value for name, value in signed.headers.items() if name not in drop}
        return self.send(SignedRequest(signed.body, kept, signed.payload))

    def replay(self) -> requests.Response:
        """The last delivery again, byte for byte, headers included."""
        if self.last_sent is None:
            raise RuntimeError("nothing has been sent yet")
        return self.send(self.last_sent)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """(block_id, element) of the button `action_id`; KeyError when no block holds it, since
    Slack never sends a click on a button the message does not show."""
    for block in blocks:
        for element in block.get("elements") or [block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id", "actions")), element
    raise KeyError(action_id)
