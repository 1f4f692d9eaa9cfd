"""Starts the app's HTTP server on the port the integration tests expect."""

from __future__ import annotations

import os
import sys
from http.server import HTTPServer, SimpleHTTPRequestHandler


def main() -> int:
    port = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("APP_PORT", "8080"))
    print(f"app: starting on 127.0.0.1:{port}", flush=True)
    server = HTTPServer(("127.0.0.1", port), SimpleHTTPRequestHandler)
    print("app: ready", flush=True)
    server.handle_request()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
