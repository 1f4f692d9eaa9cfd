"""`ci-remediator sandbox --webhook-url`: the sandbox pings the receiver until it answers, then
delivers every failed run's signed `workflow_run`, and says how each was answered."""

from __future__ import annotations

import hmac
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rich.console import Console
from typer.testing import CliRunner

from ci_remediator.cli import app
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import SLACK_DEMO_RUNS, install_demo_scenario
from ci_remediator.sandbox.webhook_sender import WebhookSender, sign_payload
from workers.sandbox_stack import deliver_failed_runs

SECRET = "sandbox-hook-secret"


class Receiver(ThreadingHTTPServer):
    def __init__(self, refuse_pings: int, drop_runs: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.refuse_pings = refuse_pings
        self.drop_runs = drop_runs
        self.deliveries: list[tuple[str, dict[str, object]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhooks/github"


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signed = hmac.compare_digest(
            self.headers["X-Hub-Signature-256"], sign_payload(SECRET, body)
        )
        event = self.headers["X-GitHub-Event"]
        if event == "workflow_run" and self.server.drop_runs > 0:
            self.server.drop_runs -= 1
            self.close_connection = True  # no answer at all: the sender's connection breaks
            return
        if event == "ping" and self.server.refuse_pings > 0:
            self.server.refuse_pings -= 1
            status = 503
        else:
            self.server.deliveries.append((event, json.loads(body)))
            status = 201 if signed and event == "workflow_run" else 200 if signed else 401
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(refuse_pings=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def deliver_the_demo_runs(receiver: Receiver) -> tuple[list[tuple[str, int]], str]:
    """The demo's failed runs, delivered to `receiver`; the runs and what was printed."""
    out = io.StringIO()
    with GitHubSandbox() as github:
        runs = install_demo_scenario(github, SLACK_DEMO_RUNS)
        failed = [(run.repository, run_id) for run_id, run in runs.items()]
        deliver_failed_runs(
            Console(file=out, width=200),
            github=github,
            failed=failed,
            sender=WebhookSender(receiver.url, SECRET),
            url=receiver.url,
            stop=threading.Event(),
        )
    return failed, out.getvalue()


def test_the_failed_runs_are_delivered_signed_once_the_receiver_answers_the_ping(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("workers.sandbox_stack.PING_EVERY_S", 0.01)
    failed, printed = deliver_the_demo_runs(receiver)

    events = [event for event, _ in receiver.deliveries]
    assert events == ["ping"] + ["workflow_run"] * len(failed)
    delivered = [
        (payload["repository"]["full_name"], payload["workflow_run"]["id"])  # type: ignore[index]
        for event, payload in receiver.deliveries
        if event == "workflow_run"
    ]
    assert delivered == failed
    assert all(p["workflow_run"]["conclusion"] == "failure" for _, p in receiver.deliveries[1:])  # type: ignore[index]
    assert "answered the ping with 503; pinging every second" in printed
    assert f"delivered {len(failed)} failed runs to {receiver.url}: {len(failed)} answered 201" in (
        printed
    )


def test_a_delivery_the_receiver_drops_is_counted_unanswered_and_the_rest_still_go(
    receiver: Receiver,
) -> None:
    receiver.refuse_pings, receiver.drop_runs = 0, 1
    failed, printed = deliver_the_demo_runs(receiver)
    assert len(receiver.deliveries) == 1 + len(failed) - 1
    assert f": {len(failed) - 1} answered 201, 1 unanswered" in printed


def test_a_stop_while_nobody_answers_ends_the_pinging_without_delivering() -> None:
    stop = threading.Event()
    stop.set()
    out = io.StringIO()
    with GitHubSandbox() as github:
        deliver_failed_runs(
            Console(file=out),
            github=github,
            failed=[],
            sender=WebhookSender("http://127.0.0.1:9/webhooks/github", SECRET),
            url="http://127.0.0.1:9/webhooks/github",
            stop=stop,
        )
    assert "delivered" not in out.getvalue()


def test_a_webhook_url_that_is_not_http_is_refused_naming_the_option() -> None:
    result = CliRunner().invoke(
        app, ["sandbox", "--webhook-url", "ftp://example.com/hook"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2
    assert "--webhook-url" in result.output
    assert "no http(s) URL" in result.output
