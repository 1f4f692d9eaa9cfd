"""The Slack sandbox, driven by the real `slack_sdk.WebClient` over HTTP, and Slack's signed
interactivity requests, checked by slack_sdk's verifier and by a Bolt app behind HTTP.

The clients here pass `retry_handlers=[]`: a WebClient's default handlers retry a connection
error once (nothing else), which would double every outage request; the tests that are about
the retry handlers say so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.client import RemoteDisconnected
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from ci_remediator.sandbox.server import LoopbackSandbox
from ci_remediator.sandbox.slack import BOT_ID, BOT_TOKEN, BOT_USER_ID, TEAM_ID, SlackSandbox
from ci_remediator.sandbox.slack_actions import (
    ButtonClick,
    InteractivitySender,
    block_actions_payload,
    slack_signature,
)
from tests.shared_fixtures import SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES / "slack"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
APPROVAL_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Rerun *build* on main?"}},
    {
        "type": "actions",
        "block_id": "decision",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "run-42",
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "reject",
                "text": {"type": "plain_text", "text": "Reject"},
                "value": "run-42",
            },
        ],
    },
]


@pytest.fixture
def sandbox() -> Iterator[SlackSandbox]:
    with SlackSandbox() as server:
        yield server


def _client(sandbox: SlackSandbox, token: str = BOT_TOKEN, **options: Any) -> WebClient:
    options.setdefault("retry_handlers", [])
    return WebClient(token=token, base_url=sandbox.api_url, timeout=5, **options)


@pytest.fixture
def client(sandbox: SlackSandbox) -> WebClient:
    return _client(sandbox)


def _refusal(call: Callable[[], object]) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


# ----------------------------------------------------------------------------- methods ----


def test_posts_by_channel_name_and_by_id_land_in_the_same_channel(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    by_name = client.chat_postMessage(channel="#ci-cd-alerts", text="one", blocks=APPROVAL_BLOCKS)
    bare_name = client.chat_postMessage(channel="ci-cd-alerts", text="two")
    by_id = client.chat_postMessage(channel="C0ALERTS", text="three")

    assert [r["channel"] for r in (by_name, bare_name, by_id)] == ["C0ALERTS"] * 3
    message = by_name["message"]
    assert (message["text"], message["ts"], message["blocks"]) == (
        "one",
        by_name["ts"],
        APPROVAL_BLOCKS,
    )
    assert (message["user"], message["bot_id"], message["type"]) == (BOT_USER_ID, BOT_ID, "message")
    assert "thread_ts" not in message
    assert [m.text for m in sandbox.messages("#ci-cd-alerts")] == ["one", "two", "three"]
    assert [m.ts for m in sandbox.messages("C0ALERTS")] == sorted(
        [by_name["ts"], bare_name["ts"], by_id["ts"]]
    )
    assert sandbox.messages("ci-cd-approvals") == []


def test_a_reply_carries_its_thread_and_is_recorded_in_it(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel="#ci-cd-alerts", text="build failed")
    client.chat_postMessage(channel="#ci-cd-alerts", text="unrelated")
    reply = client.chat_postMessage(channel="C0ALERTS", text="diagnosis", thread_ts=parent["ts"])

    assert reply["message"]["thread_ts"] == parent["ts"]
    assert reply["ts"] != parent["ts"]
    thread = sandbox.thread("C0ALERTS", parent["ts"])
    assert [(m.text, m.thread_ts) for m in thread] == [
        ("build failed", None),
        ("diagnosis", parent["ts"]),
    ]
    assert [m.text for m in sandbox.messages("C0ALERTS")] == [
        "build failed",
        "unrelated",
        "diagnosis",
    ]


def test_an_update_replaces_the_content_and_keeps_the_history(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    posted = client.chat_postMessage(
        channel="#ci-cd-approvals", text="Approve?", blocks=APPROVAL_BLOCKS
    )
    done = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approved"}}]

    updated = client.chat_update(
        channel=posted["channel"], ts=posted["ts"], text="Approved", blocks=done
    )
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="Approved by <@U1>")

    assert (updated["channel"], updated["ts"], updated["text"]) == (
        "C0APPROVALS",
        posted["ts"],
        "Approved",
    )
    assert updated["message"]["blocks"] == done
    message = sandbox.message("#ci-cd-approvals", posted["ts"])
    assert (message.text, message.blocks) == ("Approved by <@U1>", done)  # blocks kept
    assert [v.text for v in message.versions] == ["Approve?", "Approved", "Approved by <@U1>"]
    assert message.versions[0].blocks == APPROVAL_BLOCKS
    assert len(message.updates) == 2
    assert len(sandbox.messages("C0APPROVALS")) == 1


def test_update_refusals(sandbox: SlackSandbox, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="#ci-cd-alerts", text="x")
    other = sandbox.add_user("other-bot", is_bot=True)
    sandbox.add_token("xoxb-other-app", user_id=other)

    unknown_ts = _refusal(lambda: client.chat_update(channel="C0ALERTS", ts="1.000001", text="y"))
    by_name = _refusal(
        lambda: client.chat_update(channel="#ci-cd-alerts", ts=posted["ts"], text="y")
    )
    not_ours = _refusal(
        lambda: _client(sandbox, "xoxb-other-app").chat_update(
            channel="C0ALERTS", ts=posted["ts"], text="y"
        )
    )

    assert unknown_ts.response.status_code == 200  # Slack refuses in the body, not the status
    assert unknown_ts.response["error"] == "message_not_found"
    assert by_name.response["error"] == "channel_not_found"  # chat.update takes ids
    assert not_ours.response["error"] == "cant_update_message"
    assert sandbox.message("C0ALERTS", posted["ts"]).updates == ()


def test_an_ephemeral_is_recorded_for_its_user_only(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    alice, bob = sandbox.add_user("alice"), sandbox.add_user("bob")

    answer = client.chat_postEphemeral(channel="#ci-cd-alerts", user=alice, text="only you")
    stranger = _refusal(
        lambda: client.chat_postEphemeral(channel="C0ALERTS", user="U404", text="?")
    )

    assert set(answer.data) == {"ok", "message_ts"}
    [ephemeral] = sandbox.ephemerals("C0ALERTS", alice)
    assert (ephemeral.text, ephemeral.ts, ephemeral.posted_by) == (
        "only you",
        answer["message_ts"],
        BOT_USER_ID,
    )
    assert sandbox.ephemerals("C0ALERTS", bob) == []
    assert sandbox.messages("C0ALERTS") == []
    assert stranger.response["error"] == "user_not_in_channel"


def test_auth_test_names_the_bot_and_the_workspace(client: WebClient) -> None:
    answer = client.auth_test()

    assert (answer["user_id"], answer["bot_id"], answer["team_id"]) == (
        BOT_USER_ID,
        BOT_ID,
        TEAM_ID,
    )
    assert answer["url"].startswith("https://")


def test_conversations_info_takes_ids_and_knows_added_channels(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    added = sandbox.add_channel("#deploys", private=True)

    alerts = client.conversations_info(channel="C0ALERTS")["channel"]
    deploys = client.conversations_info(channel=added)["channel"]
    by_name = _refusal(lambda: client.conversations_info(channel="#ci-cd-alerts"))

    assert (alerts["id"], alerts["name"], alerts["is_private"]) == (
        "C0ALERTS",
        "ci-cd-alerts",
        False,
    )
    assert (deploys["name"], deploys["is_private"]) == ("deploys", True)
    assert added.startswith("C")
    assert sandbox.channel_id("#deploys") == added
    assert client.chat_postMessage(channel="#deploys", text="hi")["channel"] == added
    assert by_name.response["error"] == "channel_not_found"


def test_users_info(sandbox: SlackSandbox, client: WebClient) -> None:
    alice = sandbox.add_user("alice", is_admin=True)

    user = client.users_info(user=alice)["user"]
    missing = _refusal(lambda: client.users_info(user="U404"))

    assert (user["id"], user["name"], user["is_admin"], user["is_bot"]) == (
        alice,
        "alice",
        True,
        False,
    )
    assert missing.response["error"] == "user_not_found"


def test_an_unknown_channel_is_channel_not_found(client: WebClient) -> None:
    refused = _refusal(lambda: client.chat_postMessage(channel="#nowhere", text="hi"))

    assert (refused.response.status_code, refused.response["error"]) == (200, "channel_not_found")


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-not-issued", "invalid_auth"), ("", "not_authed"), (BOT_TOKEN, "token_revoked")],
)
def test_tokens_are_checked(sandbox: SlackSandbox, token: str, error: str) -> None:
    sandbox.revoke_token(BOT_TOKEN)

    refused = _refusal(
        lambda: _client(sandbox, token).chat_postMessage(channel="C0ALERTS", text="x")
    )

    assert refused.response.status_code == 200
    assert refused.response.data == {"ok": False, "error": error}
    assert sandbox.messages("C0ALERTS") == []


def test_form_and_json_bodies_are_both_read(sandbox: SlackSandbox, client: WebClient) -> None:
    # slack_sdk sends chat.* as JSON; api_call(data=...) form-encodes, blocks as a JSON string.
    form = client.api_call(
        "chat.postMessage",
        data={"channel": "#ci-cd-alerts", "text": "form", "blocks": json.dumps(APPROVAL_BLOCKS)},
    )
    token_in_form = requests.post(
        f"{sandbox.api_url}auth.test", data={"token": BOT_TOKEN}, timeout=5
    ).json()
    bad_json = requests.post(
        f"{sandbox.api_url}chat.postMessage",
        data=b"{not json",
        headers={"Authorization": f"Bearer {BOT_TOKEN}", "Content-Type": "application/json"},
        timeout=5,
    ).json()

    assert form["message"]["blocks"] == APPROVAL_BLOCKS
    assert token_in_form["ok"] is True
    assert bad_json == {"ok": False, "error": "invalid_json"}
    form_post, bad_json_post = (r for r in sandbox.requests if r.method == "chat.postMessage")
    assert form_post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert bad_json_post.error == "invalid_json"


def test_requests_are_recorded_in_arrival_order(sandbox: SlackSandbox, client: WebClient) -> None:
    before = time.monotonic()
    client.chat_postMessage(channel="#ci-cd-alerts", text="hello")
    client.auth_test()

    post, auth = sandbox.requests
    assert (post.method, post.http_method, post.token, post.status) == (
        "chat.postMessage",
        "POST",
        BOT_TOKEN,
        200,
    )
    assert post.body == {"channel": "#ci-cd-alerts", "text": "hello"}
    assert before <= post.at <= auth.at
    assert (auth.method, auth.error) == ("auth.test", None)


# ------------------------------------------------------------------------------ faults ----


def test_a_rate_limit_surfaces_as_a_429_with_retry_after(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    sandbox.rate_limit(times=2, retry_after_s=7)

    first = _refusal(lambda: client.chat_postMessage(channel="C0ALERTS", text="x"))
    second = _refusal(client.auth_test)
    client.chat_postMessage(channel="C0ALERTS", text="through")

    assert first.response.status_code == 429
    assert first.response.headers["Retry-After"] == "7"
    assert first.response.data == {"ok": False, "error": "ratelimited"}
    assert second.response.status_code == 429
    assert [m.text for m in sandbox.messages("C0ALERTS")] == ["through"]
    assert [(r.status, r.error) for r in sandbox.requests] == [(429, "ratelimited")] * 2 + [
        (200, None)
    ]


def test_a_fault_for_one_method_leaves_the_others_alone(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    sandbox.rate_limit(method="chat.update", retry_after_s=1)

    posted = client.chat_postMessage(channel="C0ALERTS", text="x")
    limited = _refusal(lambda: client.chat_update(channel="C0ALERTS", ts=posted["ts"], text="y"))
    client.chat_update(channel="C0ALERTS", ts=posted["ts"], text="y")

    assert limited.response.status_code == 429
    assert sandbox.message("C0ALERTS", posted["ts"]).text == "y"


def test_the_opt_in_rate_limit_retry_handler_hides_a_429(sandbox: SlackSandbox) -> None:
    sandbox.rate_limit(retry_after_s=0)  # the handler sleeps Retry-After plus up to 1 s
    patient = _client(sandbox, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    assert patient.auth_test()["ok"] is True
    assert [r.status for r in sandbox.requests] == [429, 200]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_surfaces_with_its_status(
    sandbox: SlackSandbox, client: WebClient, status: int
) -> None:
    sandbox.inject_error(status)

    refused = _refusal(lambda: client.chat_postMessage(channel="C0ALERTS", text="x"))

    assert refused.response.status_code == status
    assert refused.response["error"] == "fatal_error"
    assert client.chat_postMessage(channel="C0ALERTS", text="x")["ok"] is True


def test_a_proxys_html_error_page_reaches_the_caller_as_a_non_json_body(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    sandbox.inject_error(502, raw_body="<html><body>502 Bad Gateway</body></html>")

    refused = _refusal(client.auth_test)

    assert refused.response.status_code == 502
    assert refused.response["error"].startswith("Received a response in a non-JSON format")


def test_an_outage_drops_connections_until_it_ends(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    sandbox.go_down()
    with pytest.raises(RemoteDisconnected):  # a ConnectionResetError, not a SlackApiError
        client.chat_postMessage(channel="C0ALERTS", text="lost")
    with pytest.raises(ConnectionError):  # the default handler retries once, then gives up
        _client(sandbox, retry_handlers=None).auth_test()
    sandbox.come_back()

    assert client.chat_postMessage(channel="C0ALERTS", text="back")["ok"] is True
    assert [(r.method, r.status) for r in sandbox.requests] == [
        ("chat.postMessage", None),
        ("auth.test", None),
        ("auth.test", None),
        ("chat.postMessage", 200),
    ]
    assert [m.text for m in sandbox.messages("C0ALERTS")] == ["back"]


def test_a_webclients_default_retry_handlers_retry_connection_errors_only() -> None:
    handlers = WebClient(token=BOT_TOKEN).retry_handlers

    assert [type(h) for h in handlers] == [ConnectionErrorRetryHandler]


# ---------------------------------------------------------------------------- contract ----


def _example(method: str) -> dict[str, Any]:
    spec = json.loads((FIXTURES / "web-api-openapi-subset.json").read_text(encoding="utf-8"))
    [operation] = spec["paths"][f"/{method}"].values()
    return dict(operation["responses"]["200"]["examples"]["application/json"])


def _missing_keys(example: Any, actual: Any, where: str = "") -> list[str]:
    """Keys of `example` (recursively, through objects and first list items) not in `actual`."""
    if isinstance(example, dict):
        if not isinstance(actual, dict):
            return [where or "."]
        return [
            missing
            for key, sub in example.items()
            for missing in (
                [f"{where}.{key}"]
                if key not in actual
                else _missing_keys(sub, actual[key], f"{where}.{key}")
            )
        ]
    if isinstance(example, list) and example and isinstance(example[0], dict):
        if not isinstance(actual, list) or not actual:
            return [f"{where}[]"]
        return _missing_keys(example[0], actual[0], f"{where}[0]")
    return []


def _call(method: str, sandbox: SlackSandbox, client: WebClient) -> dict[str, Any]:
    posted = client.chat_postMessage(
        channel="#ci-cd-alerts",
        text="Here's a message for you",
        username="ecto1",  # a custom name: Slack's example is such a bot_message
        attachments=[
            {"text": "This is an attachment", "fallback": "This is an attachment's fallback"}
        ],
    )
    calls: dict[str, Callable[[], Any]] = {
        "chat.postMessage": lambda: posted,
        "chat.update": lambda: client.chat_update(
            channel="C0ALERTS", ts=posted["ts"], text="Updated"
        ),
        "chat.postEphemeral": lambda: client.chat_postEphemeral(
            channel="C0ALERTS", user=sandbox.add_user("spengler"), text="psst"
        ),
        "auth.test": client.auth_test,
        "conversations.info": lambda: client.conversations_info(
            channel="C0ALERTS", include_locale=True
        ),
        "users.info": lambda: client.users_info(user=sandbox.add_user("spengler")),
    }
    return dict(calls[method]().data)


@pytest.mark.parametrize(
    "method",
    [
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "auth.test",
        "conversations.info",
        "users.info",
    ],
)
def test_each_answer_has_the_fields_of_slacks_example(
    sandbox: SlackSandbox, client: WebClient, method: str
) -> None:
    example = _example(method)

    answer = _call(method, sandbox, client)

    assert _missing_keys(example, answer) == []
    assert answer["ok"] is True
    for key, value in example.items():  # and the same JSON types, where the example has one
        if value is not None:
            assert type(answer[key]) is type(value), key


# ----------------------------------------------------------------------- interactivity ----


def _approval(sandbox: SlackSandbox, client: WebClient) -> ButtonClick:
    posted = client.chat_postMessage(
        channel="#ci-cd-approvals", text="Approve?", blocks=APPROVAL_BLOCKS
    )
    message = sandbox.message("C0APPROVALS", posted["ts"])
    return ButtonClick.on(
        message, user_id="U0ALICE", action_id="approve", channel_name="ci-cd-approvals"
    )


def test_signing_matches_slacks_documented_example() -> None:
    vector = json.loads((FIXTURES / "signing-vector.json").read_text(encoding="utf-8"))

    signature = slack_signature(vector["signing_secret"], vector["timestamp"], vector["body"])

    assert signature == vector["expected_signature"]
    assert (
        slack_signature(vector["signing_secret"], int(vector["timestamp"]), vector["body"].encode())
        == signature
    )


def test_slack_sdks_verifier_accepts_a_fresh_click_and_refuses_the_variants(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    click, sender = _approval(sandbox, client), InteractivitySender("http://unused", SECRET)
    payload = block_actions_payload(click)
    verifier = SignatureVerifier(SECRET)

    fresh = sender.sign(payload)
    forged = sender.sign(payload, signing_secret="guessed")
    stale = sender.sign(payload, timestamp=int(time.time()) - 6 * 60)
    unsigned = {k: v for k, v in fresh.headers.items() if not k.startswith("X-Slack-")}

    assert verifier.is_valid_request(fresh.body, fresh.headers) is True
    assert verifier.is_valid_request(forged.body, forged.headers) is False
    assert verifier.is_valid_request(stale.body, stale.headers) is False
    assert verifier.is_valid_request(fresh.body, unsigned) is False
    assert verifier.is_valid_request(fresh.body + b"x", fresh.headers) is False  # exact bytes


def test_a_click_is_a_block_actions_payload_about_the_sandboxs_message(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    click = _approval(sandbox, client)

    signed = InteractivitySender("http://unused", SECRET).sign(block_actions_payload(click))

    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(signed.body.decode())
    assert list(form) == ["payload"]
    payload = json.loads(form["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["user"] == {
        "id": "U0ALICE",
        "username": "u0alice",
        "name": "u0alice",
        "team_id": TEAM_ID,
    }
    assert payload["team"]["id"] == TEAM_ID
    assert payload["channel"] == {"id": "C0APPROVALS", "name": "ci-cd-approvals"}
    assert payload["container"]["message_ts"] == payload["message"]["ts"] == click.message["ts"]
    assert payload["container"]["channel_id"] == "C0APPROVALS"
    assert payload["message"]["blocks"] == APPROVAL_BLOCKS
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "approve",
        "decision",
        "run-42",
    )
    assert (action["type"], action["text"]["text"]) == ("button", "Approve")
    assert payload["response_url"].startswith("https://hooks.slack.com/actions/")
    assert {"trigger_id", "api_app_id", "token"} <= set(payload)
    with pytest.raises(KeyError):
        ButtonClick.on(sandbox.messages("C0APPROVALS")[0], user_id="U0ALICE", action_id="deploy")


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class BoltReceiver(LoopbackSandbox):
    """A Bolt app behind HTTP, as it runs for real: every delivery verified, then dispatched."""

    server_name = "bolt-app"

    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app
        self.deliveries: list[tuple[dict[str, str], bytes]] = []

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Answer:
        with self._lock:
            self.deliveries.append((headers, body))
        bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
        answer = self.app.dispatch(BoltRequest(body=body.decode("utf-8"), headers=bolt_headers))
        return _Answer(
            answer.status, answer.body.encode(), answer.first_headers_without_set_cookie()
        )


def test_a_bolt_app_acts_on_a_genuine_click_and_refuses_the_others(
    sandbox: SlackSandbox, client: WebClient
) -> None:
    # Bolt checks the bot token with auth.test, and its listener updates through the sandbox.
    app = App(client=client, signing_secret=SECRET, process_before_response=True)

    @app.action("approve")
    def approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        container = body["container"]
        text = f"Approved by <@{body['user']['id']}>"
        client.chat_update(
            channel=container["channel_id"], ts=container["message_ts"], text=text, blocks=[]
        )

    click = _approval(sandbox, client)
    with BoltReceiver(app) as receiver, InteractivitySender(receiver.url, SECRET) as sender:
        refused = [
            sender.click_forged(click),
            sender.click_stale(click),
            sender.click_unsigned(click),
        ]
        untouched = sandbox.message("C0APPROVALS", str(click.message["ts"]))
        genuine = sender.click(click)
        replayed = sender.replay()

    assert [r.status_code for r in refused] == [401, 401, 401]
    assert untouched.updates == ()
    assert genuine.status_code == 200
    message = sandbox.message("C0APPROVALS", str(click.message["ts"]))
    assert (message.text, message.blocks) == ("Approved by <@U0ALICE>", [])
    # A replay inside five minutes verifies: refusing it is the app's job, not Bolt's.
    assert replayed.status_code == 200
    assert receiver.deliveries[-1] == receiver.deliveries[-2]
    assert len(message.updates) == 2
    assert [r.method for r in sandbox.requests] == [
        "auth.test",
        "chat.postMessage",
        "chat.update",
        "chat.update",
    ]
