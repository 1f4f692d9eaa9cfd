"""The HTTP plumbing every sandbox shares: a threaded server on 127.0.0.1 at an OS-chosen
port, keep-alive HTTP/1.1, requests handed to the sandbox as plain values, no access log.

Each answer leaves in one write on a TCP_NODELAY socket. Sending the headers and then the
body as two small writes under Nagle's algorithm holds the body back until the client ACKs
the headers, and clients delay that ACK (~40 ms on Linux): every request would pay it.
"""

from __future__ import annotations

import io
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, Self, cast


class SandboxResponse(Protocol):
    status: int
    body: bytes
    headers: dict[str, str]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a client's idle keep-alive connection must not block stop()
    sandbox: LoopbackSandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that timed out and hung up is expected here, not an error worth a trace."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' and httpx's pools expect
    timeout = 60
    sys_version = ""
    disable_nagle_algorithm = True  # TCP_NODELAY on every accepted connection

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log; requests are recorded instead."""

    def version_string(self) -> str:
        return cast(_HTTPServer, self.server).sandbox.server_name

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        sandbox = cast(_HTTPServer, self.server).sandbox
        response = sandbox._handle(self.command, self.path, headers, body)
        message = self._encode(response)
        try:
            self.wfile.write(message)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (its timeout) before we answered

    def _encode(self, response: SandboxResponse) -> bytes:
        """Status line, headers and body as one message, so that they go out in one write.

        The standard header methods (Server, Date, `Connection` handling) write to `wfile`;
        they write into a buffer here, and the body is appended to what they wrote.
        """
        socket_writer, self.wfile = self.wfile, io.BytesIO()
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            head = cast(io.BytesIO, self.wfile).getvalue()
        finally:
            self.wfile = socket_writer
        return head if self.command == "HEAD" else head + response.body


class LoopbackSandbox(ABC):
    """Lifecycle of a sandbox server. Subclasses implement `_handle` and name themselves."""

    server_name = "sandbox"
    url_path = ""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def _handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> SandboxResponse:
        """Answer one request (called on the server's thread for that connection)."""

    def _on_start(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Called under the lock before the server accepts requests."""

    def _on_stop(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Called before the server shuts down, to wake anything a handler is waiting on."""

    def start(self) -> Self:
        with self._lock:
            if self._server is not None:
                return self
            self._on_start()
            server = _HTTPServer(("127.0.0.1", 0), _Handler)
            server.sandbox = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},  # stop() waits at most one poll interval
                name=self.server_name,
                daemon=True,
            )
            self._thread.start()
            return self

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server, self._thread = None, None
        if server is None:
            return
        self._on_stop()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        with self._lock:
            if self._server is None:
                raise RuntimeError(f"{type(self).__name__} is not started")
            host, port = self._server.server_address[:2]
            return f"http://{host!s}:{port}{self.url_path}"
