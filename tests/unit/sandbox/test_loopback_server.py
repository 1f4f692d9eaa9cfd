"""The loopback server every sandbox runs on: each answer leaves in one write on a
TCP_NODELAY socket, so no answer waits for the client's delayed ACK of its headers."""

from __future__ import annotations

import socket
import socketserver
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from ci_remediator.sandbox.github.rest import Response
from ci_remediator.sandbox.server import LoopbackSandbox

BODY = b'{"ok":true}' * 200


class Echo(LoopbackSandbox):
    server_name = "echo"

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Response:
        return Response(200, BODY, {"Content-Type": "application/json", "X-Path": raw_path})


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(TCP_NODELAY of the socket, bytes) of every write the server makes.

    Watches the standard library's unbuffered socket writer, which is what `wfile` is."""
    seen: list[tuple[int, int]] = []
    write = socketserver._SocketWriter.write

    def recording(self: Any, data: bytes) -> int:
        nodelay = self._sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        seen.append((nodelay, len(data)))
        return int(write(self, data))

    monkeypatch.setattr(socketserver._SocketWriter, "write", recording)
    return seen


@pytest.fixture
def echo() -> Iterator[Echo]:
    with Echo() as started:
        yield started


def test_each_answer_is_one_write_on_a_nodelay_socket(
    echo: Echo, writes: list[tuple[int, int]]
) -> None:
    with requests.Session() as session:  # one keep-alive connection, three answers
        answers = [session.get(f"{echo.url}/{n}", timeout=5) for n in range(3)]

    assert [a.content for a in answers] == [BODY] * 3
    assert [a.headers["X-Path"] for a in answers] == ["/0", "/1", "/2"]
    assert answers[0].headers["Server"] == "echo"
    assert answers[0].headers["Content-Length"] == str(len(BODY))
    assert len(writes) == 3
    assert all(nodelay != 0 and size > len(BODY) for nodelay, size in writes)


@pytest.mark.parametrize("sandbox_class", ["github", "slack", "openai"])
def test_every_sandbox_answers_in_one_write_on_a_nodelay_socket(
    sandbox_class: str, writes: list[tuple[int, int]]
) -> None:
    """The GitHub, Slack and OpenAI sandboxes all serve through the loopback server: none
    of them brings back the delayed-ACK stall (an unknown path is answered too)."""
    from ci_remediator.sandbox.github import GitHubSandbox
    from ci_remediator.sandbox.openai import OpenAISandbox
    from ci_remediator.sandbox.slack import SlackSandbox

    classes: dict[str, type[LoopbackSandbox]] = {
        "github": GitHubSandbox,
        "slack": SlackSandbox,
        "openai": OpenAISandbox,
    }
    with classes[sandbox_class]() as sandbox, requests.Session() as session:
        answers = [session.get(f"{sandbox.url}/no-such-path/{n}", timeout=5) for n in range(2)]

    assert all(answer.content for answer in answers)  # Slack says ok: false with a 200
    assert len(writes) == 2
    assert all(nodelay != 0 for nodelay, _ in writes)
