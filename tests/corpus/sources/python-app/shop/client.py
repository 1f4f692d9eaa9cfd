"""A minimal HTTP client for the stock service."""

from __future__ import annotations

import json
import socket


def fetch_stock(host: str, port: int, sku: str, timeout: float | None = None) -> int:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        request = f"GET /stock/{sku} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    body = b"".join(chunks).split(b"\r\n\r\n", 1)[1]
    return int(json.loads(body)["available"])
