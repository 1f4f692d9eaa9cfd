"""`X-Hub-Signature-256` checking against GitHub's documented example."""

from __future__ import annotations

import json

import pytest

from ci_remediator.github.webhook_signature import signature_is_valid
from ci_remediator.sandbox.webhook_sender import sign_payload
from tests.shared_fixtures import SHARED_FIXTURES

VECTOR = SHARED_FIXTURES / "github" / "webhook-signing-vector.json"


@pytest.fixture
def vector() -> dict[str, str]:
    return json.loads(VECTOR.read_text(encoding="utf-8"))


def test_githubs_documented_vector_is_accepted(vector: dict[str, str]) -> None:
    body = vector["payload"].encode()

    assert signature_is_valid(vector["secret"], body, vector["expected_x_hub_signature_256"])


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18",
        "sha256=",
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    ],
)
def test_missing_or_wrong_signatures_are_refused(
    vector: dict[str, str], header: str | None
) -> None:
    assert not signature_is_valid(vector["secret"], vector["payload"].encode(), header)


def test_a_changed_body_or_secret_breaks_the_signature(vector: dict[str, str]) -> None:
    header = vector["expected_x_hub_signature_256"]

    assert not signature_is_valid(vector["secret"], b"Hello, World?", header)
    assert not signature_is_valid("another secret", vector["payload"].encode(), header)


def test_the_sandbox_sender_signs_as_github_does(vector: dict[str, str]) -> None:
    signature = sign_payload(vector["secret"], vector["payload"].encode())

    assert signature == vector["expected_x_hub_signature_256"]
