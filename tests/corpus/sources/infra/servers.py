"""Tiny misbehaving TCP/HTTP servers for the infrastructure cases.

Usage: python servers.py MODE PORT_FILE [STATUS]
    rst     accept, read the request, close with RST (SO_LINGER 0)
    silent  accept and never answer
    status  answer every request with STATUS (e.g. 503, 403) and a short body
The chosen port is written to PORT_FILE once the socket listens.
"""

from __future__ import annotations

import socket
import struct
import sys
import threading
from http import HTTPStatus
from pathlib import Path


def handle(conn: socket.socket, mode: str, status: int) -> None:
    try:
        conn.settimeout(30)
        if mode == "silent":
            threading.Event().wait(600)
            return
        conn.recv(65536)
        if mode == "rst":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        phrase = HTTPStatus(status).phrase
        body = f"{status} {phrase}\n".encode()
        conn.sendall(
            f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
    except OSError:
        pass
    finally:
        conn.close()


def main() -> int:
    mode, port_file = sys.argv[1], Path(sys.argv[2])
    status = int(sys.argv[3]) if len(sys.argv) > 3 else 503
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port_file.write_text(str(sock.getsockname()[1]))
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handle, args=(conn, mode, status), daemon=True).start()


if __name__ == "__main__":
    raise SystemExit(main())
