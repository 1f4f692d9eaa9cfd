"""A Slack Web API stand-in that the real `slack_sdk.WebClient` talks to over HTTP.

The machines ci-remediator is built and tested on cannot reach Slack, so this server speaks
the protocol of the methods the service uses: chat.postMessage, chat.update,
chat.postEphemeral, auth.test, conversations.info and users.info, at `<url>/api/<method>`.
It reads what slack_sdk sends (chat.* as JSON, the rest form-encoded, the token as
`Authorization: Bearer`) and answers as Slack does: HTTP 200 with `{"ok": false, "error": ...}`
for every API-level failure (not_authed, invalid_auth, token_revoked, channel_not_found,
message_not_found, ...), real HTTP statuses only for rate limiting (429 with `Retry-After`)
and server trouble. Bodies carry the fields of the examples in Slack's OpenAPI description.

Every request, message (with its versions after chat.update) and ephemeral is recorded.
Faults apply to the next matching requests, in the order scripted: rate limits, 4xx/5xx and
revoked tokens. An outage closes each connection without an answer; slack_sdk raises that as
a connection error (`http.client.RemoteDisconnected`), not as a SlackApiError, which is the
other failure path a caller must handle and the only one its default retry handler retries
(once). A 503 answer is `inject_error(503)`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ci_remediator.sandbox.server import LoopbackSandbox

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "DEFAULT_CHANNELS",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "EphemeralMessage",
    "MessageVersion",
    "PostedMessage",
    "RecordedRequest",
    "SlackSandbox",
]

TEAM_ID, TEAM_NAME, TEAM_DOMAIN, APP_ID = "T0SANDBOX", "CI Sandbox", "ci-sandbox", "A0SANDBOX"
BOT_TOKEN, BOT_USER_ID, BOT_ID, BOT_NAME = "xoxb-sandbox-bot", "U0BOT", "B0BOT", "ci-remediator"
# The channels of config.SlackChannels' defaults, with readable ids.
DEFAULT_CHANNELS = {
    "ci-cd-alerts": "C0ALERTS",
    "ci-cd-approvals": "C0APPROVALS",
    "critical-alerts": "C0CRITICAL",
}
MAX_TEXT_CHARS = 40_000  # Slack truncates past this; the sandbox refuses with msg_too_long
_API_PREFIX = "/api/"


# --------------------------------------------------------------------------- records ----


@dataclass(frozen=True, slots=True)
class MessageVersion:
    text: str
    blocks: list[dict[str, Any]] | None
    attachments: list[dict[str, Any]] | None
    at: float  # time.monotonic() when this version arrived


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """A message in a channel. `versions[0]` is as posted, `versions[-1]` as it reads now."""

    channel: str  # always the channel's id, whatever the poster called it
    ts: str
    thread_ts: str | None  # the parent's ts for a reply, None for a top-level message
    user: str  # the user behind the token that posted it
    bot_id: str | None
    username: str | None  # a custom display name, which makes Slack call it a bot_message
    reply_broadcast: bool
    versions: tuple[MessageVersion, ...]

    @property
    def text(self) -> str:
        return self.versions[-1].text

    @property
    def blocks(self) -> list[dict[str, Any]] | None:
        return self.versions[-1].blocks

    @property
    def updates(self) -> tuple[MessageVersion, ...]:
        return self.versions[1:]

    def to_slack(self) -> dict[str, Any]:
        """The message object as Slack returns it, and puts in interaction payloads."""
        current = self.versions[-1]
        shown: dict[str, Any] = {"type": "message", "text": current.text, "ts": self.ts}
        shown.update(user=self.user, team=TEAM_ID)
        if self.bot_id is not None:
            shown.update(bot_id=self.bot_id, app_id=APP_ID)
        if self.username is not None:
            shown.update(subtype="bot_message", username=self.username)
        if current.blocks is not None:
            shown["blocks"] = copy.deepcopy(current.blocks)
        if current.attachments:
            shown["attachments"] = copy.deepcopy(current.attachments)
        if self.thread_ts is not None:
            shown["thread_ts"] = self.thread_ts
        return shown


@dataclass(frozen=True, slots=True)
class EphemeralMessage:
    channel: str
    user: str  # the only one who sees it
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    posted_by: str
    at: float


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as received. `method` is the API method ("chat.postMessage"), `body` its
    parameters (the JSON object, or the form and query fields), `status` None if dropped."""

    method: str
    http_method: str
    token: str | None
    body: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    status: int | None
    error: str | None  # Slack's error code, when the answer carried one


@dataclass(frozen=True, slots=True)
class _Identity:
    user_id: str
    bot_id: str | None


@dataclass(frozen=True, slots=True)
class _Channel:
    id: str
    name: str
    is_private: bool
    created: int


@dataclass(slots=True)
class _Fault:
    status: int
    remaining: int
    method: str | None
    error: str
    retry_after_s: int | None = None
    raw_body: str | None = None


@dataclass(slots=True)
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class _SlackError(Exception):
    """An API-level refusal: HTTP 200 with `{"ok": false, "error": code}`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _DropConnection(Exception):
    """Raised out of `_handle` so that the server closes the socket without answering: a
    handler's exception ends its connection, and the base server logs nothing for it."""


# ---------------------------------------------------------------------------- server ----


class SlackSandbox(LoopbackSandbox):
    """A thread-safe, in-memory Slack workspace on 127.0.0.1 (OS-chosen port).

    `slack_sdk.WebClient(token=BOT_TOKEN, base_url=sandbox.api_url)` talks to it. Channels
    are known by id, and for posting also by name with or without "#" (as in Slack);
    `channels` maps names to ids (default: `DEFAULT_CHANNELS`).
    """

    server_name = "slack-sandbox"

    def __init__(
        self, *, bot_token: str = BOT_TOKEN, channels: dict[str, str] | None = None
    ) -> None:
        super().__init__()
        self._tokens = {bot_token: _Identity(BOT_USER_ID, BOT_ID)}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, _Channel] = {}
        self._messages: dict[str, dict[str, PostedMessage]] = {}  # channel id -> ts -> message
        self._ephemerals: list[EphemeralMessage] = []
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._revoked: set[str] = set()
        self._down = False
        self._last_ts_us = 0
        self.add_user(BOT_NAME, user_id=BOT_USER_ID, is_bot=True)
        for name, channel_id in (DEFAULT_CHANNELS if channels is None else channels).items():
            self.add_channel(name, channel_id=channel_id)

    @property
    def api_url(self) -> str:
        """The `base_url` for slack_sdk's clients (Slack's own is https://slack.com/api/)."""
        return self.url + _API_PREFIX

    # -- scripting the workspace -----------------------------------------------------------

    def add_channel(
        self, name: str, *, channel_id: str | None = None, private: bool = False
    ) -> str:
        """Create a channel and return its id (derived from the name unless given)."""
        name = _channel_name(name)
        channel_id = channel_id or "C" + hashlib.sha256(name.encode()).hexdigest()[:9].upper()
        with self._lock:
            self._channels[channel_id] = _Channel(channel_id, name, private, int(time.time()))
            self._messages.setdefault(channel_id, {})
        return channel_id

    def add_user(
        self, name: str, *, user_id: str | None = None, is_bot: bool = False, is_admin: bool = False
    ) -> str:
        """Create a user (who may be sent ephemerals and looked up) and return their id."""
        user_id = user_id or "U" + hashlib.sha256(name.encode()).hexdigest()[:9].upper()
        with self._lock:
            self._users[user_id] = _user_object(user_id, name, is_bot=is_bot, is_admin=is_admin)
        return user_id

    def add_token(self, token: str, *, user_id: str) -> None:
        """Accept another token acting as `user_id` (a bot token when that user is a bot), to
        see what one poster may do to another's messages."""
        with self._lock:
            is_bot = bool(self._users[user_id]["is_bot"])
            self._tokens[token] = _Identity(user_id, "B" + user_id[1:] if is_bot else None)

    # -- scripting faults ------------------------------------------------------------------

    def rate_limit(
        self, *, times: int = 1, retry_after_s: int = 1, method: str | None = None
    ) -> None:
        """Answer the next `times` requests (to `method`, or any) as Slack rate-limits: HTTP
        429, `Retry-After: <seconds>` and `{"ok": false, "error": "ratelimited"}`."""
        if retry_after_s < 0:
            raise ValueError("retry_after_s must be >= 0")
        self._add_fault(_Fault(429, times, method, "ratelimited", retry_after_s=retry_after_s))

    def inject_error(
        self,
        status: int = 500,
        *,
        times: int = 1,
        method: str | None = None,
        error: str = "fatal_error",
        raw_body: str | None = None,
    ) -> None:
        """Answer the next `times` requests (to `method`, or any) with HTTP `status` and a
        Slack error body, or `raw_body` as text/html (a proxy's page in front of Slack)."""
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx")
        self._add_fault(_Fault(status, times, method, error, raw_body=raw_body))

    def _add_fault(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def go_down(self) -> None:
        """Start an outage: every connection is closed unanswered until `come_back()`."""
        with self._lock:
            self._down = True

    def come_back(self) -> None:
        with self._lock:
            self._down = False

    def revoke_token(self, token: str) -> None:
        """Requests with this token are refused with `token_revoked` from now on."""
        with self._lock:
            self._revoked.add(token)

    # -- inspection ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def messages(self, channel: str) -> list[PostedMessage]:
        """Every message in `channel` (id or name), replies included, in arrival order."""
        with self._lock:
            return list(self._messages[self.channel_id(channel)].values())

    def message(self, channel: str, ts: str) -> PostedMessage:
        with self._lock:
            return self._messages[self.channel_id(channel)][ts]

    def thread(self, channel: str, ts: str) -> list[PostedMessage]:
        """The message `ts` and the replies in its thread, in arrival order."""
        return [m for m in self.messages(channel) if ts in (m.ts, m.thread_ts)]

    def ephemerals(self, channel: str, user: str | None = None) -> list[EphemeralMessage]:
        channel_id = self.channel_id(channel)
        with self._lock:
            found = [e for e in self._ephemerals if e.channel == channel_id]
        return [e for e in found if user in (None, e.user)]

    def channel_id(self, channel: str) -> str:
        """The id of a channel named by id or name; KeyError when there is none."""
        with self._lock:
            found = self._find_channel(channel, by_name=True)
        if found is None:
            raise KeyError(channel)
        return found.id

    # -- request handling ------------------------------------------------------------------

    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> _Response:
        arrived = time.monotonic()
        split = urlsplit(raw_path)
        api_method = split.path.removeprefix(_API_PREFIX)
        with self._lock:
            params, token, parse_error = _read_params(split.query, headers, body)
            response, error = self._answer(api_method, params, token, parse_error, arrived)
            status = None if response is None else response.status
            self._requests.append(
                RecordedRequest(api_method, method, token, params, headers, arrived, status, error)
            )
        if response is None:
            raise _DropConnection(api_method)
        return response

    def _answer(
        self, method: str, params: dict[str, Any], token: str | None, bad: str | None, at: float
    ) -> tuple[_Response | None, str | None]:
        """Slack's order as a client sees it: the outage, scripted faults (before the token,
        so that "the next N requests" is exact), the method, the body, then the token."""
        if self._down:
            return None, "connection_dropped"
        fault = next((f for f in self._faults if f.method in (None, method)), None)
        if fault is not None:
            fault.remaining -= 1
            if fault.remaining == 0:
                self._faults.remove(fault)
            return _fault_response(fault), fault.error
        handler = self._handlers.get(method)
        try:
            if handler is None or bad is not None:
                raise _SlackError("unknown_method" if handler is None else str(bad))
            answer = {"ok": True, **handler(self, params, self._authenticate(token), at)}
        except _SlackError as refusal:
            return _json_response(200, {"ok": False, "error": refusal.code}), refusal.code
        return _json_response(200, answer), None

    def _authenticate(self, token: str | None) -> _Identity:
        if not token:
            raise _SlackError("not_authed")
        if token in self._revoked:
            raise _SlackError("token_revoked")
        if token not in self._tokens:
            raise _SlackError("invalid_auth")
        return self._tokens[token]

    def _find_channel(self, value: Any, *, by_name: bool) -> _Channel | None:
        if not isinstance(value, str):
            return None
        if value in self._channels or not by_name:
            return self._channels.get(value)
        name = _channel_name(value)
        return next((c for c in self._channels.values() if c.name == name), None)

    def _channel_param(self, params: dict[str, Any], *, by_name: bool) -> _Channel:
        found = self._find_channel(params.get("channel"), by_name=by_name)
        if found is None:
            raise _SlackError("channel_not_found")
        return found

    def _next_ts(self) -> str:
        """A message ts as Slack writes it: unique, increasing, "<seconds>.<6 digits>"."""
        self._last_ts_us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    # -- the methods (called under the lock) -----------------------------------------------

    def _post_message(self, params: dict[str, Any], who: _Identity, at: float) -> dict[str, Any]:
        channel = self._channel_param(params, by_name=True)
        message = PostedMessage(
            channel=channel.id,
            ts=self._next_ts(),
            thread_ts=_optional_str(params.get("thread_ts")),
            user=who.user_id,
            bot_id=who.bot_id,
            username=_optional_str(params.get("username")),
            reply_broadcast=_flag(params.get("reply_broadcast")),
            versions=(_content(params, at),),
        )
        self._messages[channel.id][message.ts] = message
        return {"channel": channel.id, "ts": message.ts, "message": message.to_slack()}

    def _update(self, params: dict[str, Any], who: _Identity, at: float) -> dict[str, Any]:
        channel = self._channel_param(params, by_name=False)  # chat.update takes ids only
        old = self._messages[channel.id].get(str(params.get("ts", "")))
        if old is None:
            raise _SlackError("message_not_found")
        if old.user != who.user_id:
            raise _SlackError("cant_update_message")
        new = replace(old, versions=(*old.versions, _content(params, at, old.versions[-1])))
        self._messages[channel.id][new.ts] = new  # same key: the arrival order is kept
        return {"channel": channel.id, "ts": new.ts, "text": new.text, "message": new.to_slack()}

    def _post_ephemeral(self, params: dict[str, Any], who: _Identity, at: float) -> dict[str, Any]:
        channel = self._channel_param(params, by_name=True)
        user = str(params.get("user", ""))
        if user not in self._users:
            raise _SlackError("user_not_in_channel")
        content, thread_ts = _content(params, at), _optional_str(params.get("thread_ts"))
        ts = self._next_ts()
        self._ephemerals.append(
            EphemeralMessage(
                channel.id, user, ts, content.text, content.blocks, thread_ts, who.user_id, at
            )
        )
        return {"message_ts": ts}

    def _auth_test(self, params: dict[str, Any], who: _Identity, at: float) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": self._users[who.user_id]["name"],
            "team_id": TEAM_ID,
            "user_id": who.user_id,
            "is_enterprise_install": False,
        }
        if who.bot_id is not None:
            answer["bot_id"] = who.bot_id
        return answer

    def _conversations_info(
        self, params: dict[str, Any], _: _Identity, at: float
    ) -> dict[str, Any]:
        channel = self._channel_param(params, by_name=False)  # ids only, as in Slack
        shown = _conversation_object(channel)
        if _flag(params.get("include_locale")):
            shown["locale"] = "en-US"
        if _flag(params.get("include_num_members")):
            shown["num_members"] = len(self._users)
        return {"channel": shown}

    def _users_info(self, params: dict[str, Any], _: _Identity, at: float) -> dict[str, Any]:
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    _handlers = {
        "chat.postMessage": _post_message,
        "chat.update": _update,
        "chat.postEphemeral": _post_ephemeral,
        "auth.test": _auth_test,
        "conversations.info": _conversations_info,
        "users.info": _users_info,
    }


# --------------------------------------------------------------------------- helpers ----


def _read_params(
    query: str, headers: dict[str, str], body: bytes
) -> tuple[dict[str, Any], str | None, str | None]:
    """(parameters, token, parse error). The token comes from `Authorization: Bearer` or a
    form or query field; a JSON body's `token` is not read (Slack requires the header)."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if not headers.get("content-type", "").startswith("application/json"):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    scheme, _, bearer = headers.get("authorization", "").partition(" ")
    token = (bearer.strip() if scheme.lower() == "bearer" else None) or params.get("token")
    if not headers.get("content-type", "").startswith("application/json"):
        return params, token, None
    try:
        parsed = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return params, token, "invalid_json"
    if not isinstance(parsed, dict):
        return params, token, "json_not_object"
    return {**params, **parsed}, token, None


def _content(
    params: dict[str, Any], at: float, old: MessageVersion | None = None
) -> MessageVersion:
    """The text, blocks and attachments of a post, or of an update, which keeps what it does
    not mention (Slack documents this for blocks and attachments)."""
    text = str(params.get("text", old.text if old else ""))
    blocks = _json_list(params, "blocks", "invalid_blocks_format", old.blocks if old else None)
    attachments = _json_list(
        params, "attachments", "invalid_attachments", old.attachments if old else None
    )
    if not text and not blocks and not attachments:
        raise _SlackError("no_text")
    if len(text) > MAX_TEXT_CHARS:
        raise _SlackError("msg_too_long")
    if attachments and "attachments" in params:  # Slack numbers new ones, with a fallback text
        attachments = [
            {"fallback": a.get("text", ""), **a, "id": n} for n, a in enumerate(attachments, 1)
        ]
    return MessageVersion(text, blocks, attachments, at)


def _json_list(
    params: dict[str, Any], name: str, error: str, absent: list[dict[str, Any]] | None
) -> list[dict[str, Any]] | None:
    """A list of objects, sent as JSON itself or (in a form) as a JSON-encoded string."""
    if name not in params:
        return absent
    value = params[name]
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else []
        except ValueError:
            raise _SlackError(error) from None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _SlackError(error)
    return copy.deepcopy(value)


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _flag(value: Any) -> bool:
    """A boolean as JSON sends it, or as a form field does ("1"/"0", "true"/"false")."""
    return value is True or str(value).lower() in ("1", "true")


def _channel_name(name: str) -> str:
    return name.strip().removeprefix("#").lower()


def _json_response(
    status: int, payload: object, headers: dict[str, str] | None = None
) -> _Response:
    return _Response(
        status,
        json.dumps(payload).encode("utf-8"),
        {
            "Content-Type": "application/json; charset=utf-8",
            "X-Slack-Req-Id": secrets.token_hex(16),
            "X-OAuth-Scopes": "chat:write,channels:read,groups:read,users:read",
            **(headers or {}),
        },
    )


def _fault_response(fault: _Fault) -> _Response:
    headers = {} if fault.retry_after_s is None else {"Retry-After": str(fault.retry_after_s)}
    if fault.raw_body is None:
        return _json_response(fault.status, {"ok": False, "error": fault.error}, headers)
    headers["Content-Type"] = "text/html; charset=utf-8"
    return _Response(fault.status, fault.raw_body.encode("utf-8"), headers)


def _conversation_object(channel: _Channel) -> dict[str, Any]:
    """A channel as conversations.info shows it, with the fields of Slack's example."""
    unset = {"value": "", "creator": "", "last_set": 0}
    return {
        "id": channel.id,
        "name": channel.name,
        "name_normalized": channel.name,
        "created": channel.created,
        "creator": BOT_USER_ID,
        "is_channel": True,
        "is_private": channel.is_private,
        "is_general": channel.name == "general",
        "is_member": True,
        **dict.fromkeys(("is_group", "is_im", "is_mpim", "is_archived", "is_read_only"), False),
        **dict.fromkeys(("is_shared", "is_ext_shared", "is_org_shared"), False),
        "is_pending_ext_shared": False,
        "pending_shared": [],
        "previous_names": [],
        "parent_conversation": None,
        "last_read": "0000000000.000000",
        "unlinked": 0,
        "topic": dict(unset),
        "purpose": dict(unset),
    }


def _user_object(user_id: str, name: str, *, is_bot: bool, is_admin: bool) -> dict[str, Any]:
    """A user as users.info shows it, with the fields of Slack's example."""
    image = f"https://avatars.slack-edge.com/sandbox/{user_id}.png"
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": name,
        "color": "9f69e7",
        "tz": "Etc/UTC",
        "tz_label": "Coordinated Universal Time",
        "tz_offset": 0,
        "is_admin": is_admin,
        "is_bot": is_bot,
        **dict.fromkeys(("is_owner", "is_primary_owner", "is_app_user"), False),
        **dict.fromkeys(("is_restricted", "is_ultra_restricted", "deleted", "has_2fa"), False),
        "updated": int(time.time()),
        "profile": {
            "display_name": name,
            "display_name_normalized": name,
            "real_name": name,
            "real_name_normalized": name,
            "email": f"{name}@{TEAM_DOMAIN}.example.com",
            "status_emoji": "",
            "status_text": "",
            "team": TEAM_ID,
            "avatar_hash": hashlib.sha256(user_id.encode()).hexdigest()[:12],
            "image_original": image,
            **{f"image_{size}": image for size in (24, 32, 48, 72, 192, 512)},
        },
    }
