"""GitHub's webhook signature: `X-Hub-Signature-256` = "sha256=" + HMAC-SHA256(secret, body)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """GitHub's `X-Hub-Signature-256`: "sha256=" + HMAC-SHA256(secret, raw body), compared in
    constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())
