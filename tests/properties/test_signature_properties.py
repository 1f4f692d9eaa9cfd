"""Request signatures: the web endpoints accept exactly the requests GitHub and Slack signed.

Requests go to the real Flask app through its WSGI test client, on the real Postgres (a refused
request is audited by its metadata). Every example signs with a secret of its own and then
changes one thing (a byte of the body, a character of a header, a character of the secret,
the time): that request must be refused, and the untouched one accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.models import AuditEntry
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.services import Services
from ci_remediator.web import create_app
from tests.integration.conftest import engine  # noqa: F401 - the session fixture
from tests.properties.profiles import NO_EXPLAIN, examples
from tests.properties.test_github_integration_properties import slack  # noqa: F401 - fixture
from tests.properties.test_monitoring_properties import (
    sandbox,  # noqa: F401 - the module's sandbox fixture
    services_on,
    sessions,  # noqa: F401 - the module's sessions fixture
)

HEX = "0123456789abcdef"
# Secrets as people paste them: any printable text (Slack's own library refuses a blank one).
secrets = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda secret: secret.strip() != ""
)


def refusals(db: sessionmaker[Session], action: str) -> int:
    with db() as session:
        return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


@dataclass(frozen=True)
class OneChange:
    """One change to a signed request, made to each part in turn: at which position, to what."""

    position: int
    replacement: str  # a character (for the body: a byte value, as a one-char string)


one_changes = st.builds(
    OneChange,
    st.integers(0, 10_000),
    # What a header can carry: printable ASCII, and Latin-1 (an HTTP header's other bytes).
    st.characters(min_codepoint=32, max_codepoint=255).filter(
        lambda char: not 127 <= ord(char) < 160
    ),
)


def changed(text: str, change: OneChange) -> str:
    """`text` with one character replaced (or one appended when the replacement is the same
    character, or the text is empty): a different text whichever way."""
    if not text:
        return change.replacement
    at = change.position % len(text)
    if text[at] == change.replacement:
        return text + change.replacement
    return text[:at] + change.replacement + text[at + 1 :]


def changed_bytes(body: bytes, change: OneChange) -> bytes:
    """`body` with one byte flipped (or one byte appended to an empty body)."""
    if not body:
        return change.replacement.encode()
    at = change.position % len(body)
    flipped = body[at] ^ (ord(change.replacement) or 1)
    return body[:at] + bytes([flipped]) + body[at + 1 :]


# ------------------------------------------------------------- 63: GitHub webhooks ----


@dataclass
class Installed:
    """The services the app under test asks for: each example installs its own."""

    services: Services
    sandbox: GitHubSandbox


@pytest.fixture(scope="module")
def github_client(
    sandbox: GitHubSandbox,  # noqa: F811 - the fixture imported above
    sessions: sessionmaker[Session],  # noqa: F811
) -> tuple[FlaskClient, Installed]:
    installed = Installed(services_on(sandbox, sessions), sandbox)
    app = create_app(enqueue=lambda follow_ups: None, services=lambda: installed.services)
    return app.test_client(), installed


bodies = st.one_of(
    st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=20), max_size=5).map(
        lambda document: json.dumps(document).encode()
    ),
    st.binary(max_size=300),
)


def github_signature(secret: str, body: bytes) -> str:
    """What GitHub sends: "sha256=" and the hex HMAC-SHA256 of the raw body (GitHub's docs)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@settings(max_examples=examples(100), phases=NO_EXPLAIN)
@given(secrets, bodies, one_changes)
def test_a_github_webhook_is_accepted_exactly_when_its_signature_matches_body_and_secret(
    github_client: tuple[FlaskClient, Installed],
    sessions: sessionmaker[Session],  # noqa: F811
    secret: str,
    body: bytes,
    change: OneChange,
) -> None:
    """Property 63 (Webhooks): a delivery signed with the configured secret over its exact
    body is accepted, whatever the secret and the body; the same delivery with one byte of
    the body, one character of the signature header or one character of the secret changed
    is refused with 401 and audited, and is never acted on."""
    client, installed = github_client
    installed.services = services_on(
        installed.sandbox, sessions, env={"github_webhook_secret": secret}
    )
    signature = github_signature(secret, body)

    def deliver(payload: bytes, header: str) -> int:
        return client.post(
            "/webhooks/github",
            data=payload,
            headers={
                "X-GitHub-Event": "ping",
                "X-GitHub-Delivery": "d-1",
                "X-Hub-Signature-256": header,
                "Content-Type": "application/json",
            },
        ).status_code

    before = refusals(sessions, "delivery_refused")
    # Accepted: a ping answers 200, a body that is no JSON object 400; never a refusal.
    assert deliver(body, signature) in (200, 400)
    assert refusals(sessions, "delivery_refused") == before
    one_change_each = [
        (changed_bytes(body, change), signature),
        (body, changed(signature, change)),
        (body, github_signature(changed(secret, change), body)),
    ]
    for tampered_body, tampered_signature in one_change_each:
        assert deliver(tampered_body, tampered_signature) == 401
    assert refusals(sessions, "delivery_refused") == before + len(one_change_each)


@settings(max_examples=examples(30), phases=NO_EXPLAIN)
@given(bodies, st.one_of(st.none(), st.text(HEX, max_size=64).map(lambda h: f"sha256={h}")))
def test_without_a_configured_secret_no_github_webhook_is_accepted(
    github_client: tuple[FlaskClient, Installed],
    sessions: sessionmaker[Session],  # noqa: F811
    body: bytes,
    signature: str | None,
) -> None:
    """Property 63 (Webhooks): with no webhook secret configured, no delivery is accepted,
    whatever it carries (an empty key is no secret)."""
    client, installed = github_client
    installed.services = services_on(
        installed.sandbox, sessions, env={"github_webhook_secret": None}
    )
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-2"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    assert client.post("/webhooks/github", data=body, headers=headers).status_code == 503


# --------------------------------------------------------------- 64: Slack requests ----

FRESHNESS_S = 300  # Slack: refuse requests whose timestamp is more than five minutes off


def slack_signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 signature: HMAC-SHA256 of "v0:<timestamp>:<body>" (Slack's docs)."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


slack_bodies = st.one_of(
    st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=4).map(
        lambda payload: urlencode({"payload": json.dumps(payload)})
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=200),
)
# How far the request's timestamp is from now: inside the window, or outside it, kept ten
# seconds clear of its edges so that the time the test takes cannot move a request across.
fresh_offsets = st.integers(-(FRESHNESS_S - 10), FRESHNESS_S - 10)
stale_offsets = st.one_of(
    st.integers(FRESHNESS_S + 10, 10**7), st.integers(-(10**7), -(FRESHNESS_S + 10))
)


@dataclass(frozen=True)
class SlackCase:
    secret: str
    body: str
    offset_s: int  # how far from now it was signed
    change: OneChange
    stale_offset_s: int


slack_cases = st.builds(SlackCase, secrets, slack_bodies, fresh_offsets, one_changes, stale_offsets)


@settings(max_examples=examples(50), phases=NO_EXPLAIN)
@given(slack_cases)
def test_a_slack_request_is_accepted_exactly_when_signed_and_fresh(
    sandbox: GitHubSandbox,  # noqa: F811
    slack: SlackSandbox,  # noqa: F811
    sessions: sessionmaker[Session],  # noqa: F811
    case: SlackCase,
) -> None:
    """Property 64 (Slack): a request signed with the signing secret over its timestamp and
    exact body, within five minutes of now either way, is accepted; the same request with one
    byte of the body, one character of the signature, of the timestamp or of the secret
    changed, or signed at a time more than five minutes off either way, is refused with 401
    (never an error) and audited by its metadata."""
    services = services_on(
        sandbox,
        sessions,
        env={
            "slack_signing_secret": case.secret,
            # What Bolt asks Slack once a request passed (who the bot is) goes to the sandbox.
            "slack_bot_token": BOT_TOKEN,
            "slack_api_url": slack.api_url,
        },
    )
    client = create_app(enqueue=lambda follow_ups: None, services=lambda: services).test_client()
    now = int(time.time())
    timestamp = str(now + case.offset_s)
    signature = slack_signature(case.secret, timestamp, case.body)

    def post(body: str, ts: str, header: str) -> int:
        return client.post(
            "/slack/events",
            data=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": header,
            },
        ).status_code

    body, change = case.body, case.change
    tampered_body = changed_bytes(body.encode(), change).decode(errors="replace")
    if tampered_body == body:  # the flipped byte broke UTF-8 back into the same text
        tampered_body = body + change.replacement
    stale = str(now + case.stale_offset_s)
    refused = [
        (tampered_body, timestamp, signature),
        (body, timestamp, changed(signature, change)),
        (body, changed(timestamp, change), signature),
        (body, timestamp, slack_signature(changed(case.secret, change), timestamp, body)),
        (body, stale, slack_signature(case.secret, stale, body)),  # well signed, but stale
    ]
    before = refusals(sessions, "request_refused")
    assert post(body, timestamp, signature) != 401
    assert refusals(sessions, "request_refused") == before
    for request in refused:
        assert post(*request) == 401
    assert refusals(sessions, "request_refused") == before + len(refused)
