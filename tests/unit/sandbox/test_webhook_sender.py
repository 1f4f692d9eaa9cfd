"""Webhook deliveries as GitHub sends them: signature, headers, raw body, and payloads built
from GitHub's examples with the sandbox's run filled in."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.github.rest import Response
from ci_remediator.sandbox.server import LoopbackSandbox
from ci_remediator.sandbox.webhook_sender import (
    WebhookSender,
    ping_payload,
    sign_payload,
    workflow_job_payload,
    workflow_run_payload,
)
from tests.shared_fixtures import SHARED_FIXTURES

REPO = "acme/widgets"
SECRET = "It's a Secret to Everybody"
FIXTURES = SHARED_FIXTURES / "github"
SIGNING_VECTOR = FIXTURES / "webhook-signing-vector.json"
EXAMPLES = FIXTURES / "webhook-payload-examples"


class Receiver(LoopbackSandbox):
    """Records each delivery and answers 204, as a webhook endpoint would."""

    server_name = "receiver"

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: list[tuple[dict[str, str], bytes]] = []

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        with self._lock:
            self.deliveries.append((headers, body))
        return Response(204)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as started:
        yield started


@pytest.mark.skipif(
    not SIGNING_VECTOR.exists(), reason=f"GitHub's signing vector not found at {SIGNING_VECTOR}"
)
def test_sign_payload_matches_githubs_documented_vector() -> None:
    vector = json.loads(SIGNING_VECTOR.read_text(encoding="utf-8"))
    body = vector["payload"].encode("utf-8")

    assert sign_payload(vector["secret"], body) == vector["expected_x_hub_signature_256"]
    assert sign_payload(vector["secret"].encode(), body) == vector["expected_x_hub_signature_256"]


def test_delivery_carries_githubs_headers_and_a_valid_signature(receiver: Receiver) -> None:
    payload = {"zen": "Keep it logically awesome.", "repository": {"id": 123}}

    with WebhookSender(receiver.url, SECRET, hook_id=99) as sender:
        response = sender.deliver("ping", payload)

    (headers, body) = receiver.deliveries[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert response.status_code == 204
    assert json.loads(body) == payload
    assert headers["x-github-event"] == "ping"
    assert uuid.UUID(headers["x-github-delivery"]).version == 4
    assert headers["x-github-hook-id"] == "99"
    assert headers["x-github-hook-installation-target-id"] == "123"
    assert headers["x-hub-signature-256"] == expected
    assert headers["user-agent"].startswith("GitHub-Hookshot/")
    assert headers["content-type"] == "application/json"


def test_bytes_are_sent_as_they_are_and_overrides_apply(receiver: Receiver) -> None:
    raw = b'{"action":  "completed" }'

    with WebhookSender(receiver.url, SECRET) as sender:
        sender.deliver("workflow_run", raw, delivery_id="fixed-id")
        sender.deliver("workflow_run", raw, signature="sha256=" + "0" * 64)

    (first_headers, first_body), (second_headers, _) = receiver.deliveries
    assert first_body == raw
    assert first_headers["x-github-delivery"] == "fixed-id"
    assert first_headers["x-hub-signature-256"] == sign_payload(SECRET, raw)
    assert second_headers["x-hub-signature-256"] == "sha256=" + "0" * 64
    assert second_headers["x-github-delivery"] != "fixed-id"


def test_workflow_run_payload_describes_the_sandbox_run(sandbox: GitHubSandbox) -> None:
    run_id = sandbox.add_failed_run(
        REPO, workflow_name="CI", job_name="tests", log_text="x\n", head_branch="dev",
        event="pull_request", conclusion="timed_out", polls_until_complete=0,
    )  # fmt: skip
    rest = sandbox.run_json(REPO, run_id)

    payload = workflow_run_payload(sandbox, REPO, run_id)
    requested = workflow_run_payload(sandbox, REPO, run_id, action="requested")

    run = payload["workflow_run"]
    assert payload["action"] == "completed"
    assert requested["action"] == "requested"
    assert (run["id"], run["run_attempt"], run["name"]) == (run_id, 1, "CI")
    assert (run["workflow_id"], run["head_sha"], run["head_branch"]) == (
        rest["workflow_id"],
        rest["head_sha"],
        "dev",
    )
    assert (run["event"], run["status"], run["conclusion"]) == (
        "pull_request",
        "completed",
        "timed_out",
    )
    assert run["html_url"] == rest["html_url"]
    assert (run["created_at"], run["updated_at"]) == (rest["created_at"], rest["updated_at"])
    assert run["path"] == ".github/workflows/ci.yml"
    assert payload["workflow"]["id"] == rest["workflow_id"]
    assert payload["repository"]["full_name"] == REPO
    assert payload["repository"]["id"] == rest["repository"]["id"]
    assert payload["repository"]["owner"]["login"] == "acme"
    assert payload["organization"]["login"] == "acme"
    assert run["repository"]["full_name"] == REPO


def test_workflow_run_payload_follows_a_rerun(sandbox: GitHubSandbox) -> None:
    run_id = sandbox.add_failed_run(
        REPO, workflow_name="CI", job_name="tests", log_text="x\n", polls_until_complete=0
    )
    requests.post(
        f"{sandbox.url}/repos/{REPO}/actions/runs/{run_id}/rerun-failed-jobs",
        headers={"Authorization": "token ghp_test"},
        timeout=5,
    )

    requested = workflow_run_payload(sandbox, REPO, run_id, action="requested")
    run = requested["workflow_run"]

    assert (run["run_attempt"], run["status"], run["conclusion"]) == (2, "completed", "success")
    assert run["previous_attempt_url"].endswith(f"/actions/runs/{run_id}/attempts/1")


def test_workflow_job_payload_picks_the_failed_job(sandbox: GitHubSandbox) -> None:
    run_id = sandbox.add_failed_run(
        REPO, workflow_name="CI", job_name="tests", log_text="x\n", failed_step="Run pytest"
    )

    payload = workflow_job_payload(sandbox, REPO, run_id)
    prepare = workflow_job_payload(sandbox, REPO, run_id, job_name="prepare")

    job = payload["workflow_job"]
    assert (job["name"], job["run_id"], job["run_attempt"]) == ("tests", run_id, 1)
    assert (job["status"], job["conclusion"], job["workflow_name"]) == (
        "completed",
        "failure",
        "CI",
    )
    assert [s["name"] for s in job["steps"] if s["conclusion"] == "failure"] == ["Run pytest"]
    assert prepare["workflow_job"]["conclusion"] == "success"
    assert payload["repository"]["full_name"] == REPO
    with pytest.raises(KeyError):
        workflow_job_payload(sandbox, REPO, run_id, job_name="missing")


def test_ping_payload_names_the_hook() -> None:
    payload = ping_payload(hook_id=31)

    assert (payload["hook_id"], payload["hook"]["id"]) == (31, 31)
    assert payload["zen"]


@pytest.mark.skipif(not EXAMPLES.exists(), reason=f"webhook examples not found at {EXAMPLES}")
@pytest.mark.parametrize(
    ("example", "build"),
    [
        ("workflow_run/completed.payload.json", "run"),
        ("workflow_job/completed.failure.with-organization.payload.json", "job"),
        ("ping/payload.json", "ping"),
    ],
)
def test_payloads_keep_the_examples_keys(sandbox: GitHubSandbox, example: str, build: str) -> None:
    run_id = sandbox.add_failed_run(REPO, workflow_name="CI", job_name="tests", log_text="x\n")
    builders: dict[str, Any] = {
        "run": lambda: workflow_run_payload(sandbox, REPO, run_id),
        "job": lambda: workflow_job_payload(sandbox, REPO, run_id),
        "ping": ping_payload,
    }
    expected = json.loads((EXAMPLES / example).read_text(encoding="utf-8"))

    payload = builders[build]()

    assert _key_paths(payload) == _key_paths(expected)


def _key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every dotted key path of a JSON value; lists are followed through their first item."""
    if isinstance(value, dict):
        paths = set()
        for key, item in value.items():
            paths |= {f"{prefix}.{key}"} | _key_paths(item, f"{prefix}.{key}")
        return paths
    if isinstance(value, list) and value:
        return _key_paths(value[0], f"{prefix}[]")
    return set()
