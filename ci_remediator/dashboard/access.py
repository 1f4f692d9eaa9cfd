"""Who may see the dashboard, and where the web process may listen without a password.

`DASHBOARD_AUTH` is `user:password` (the shape of `FLOWER_BASIC_AUTH`; the password may hold
colons, the user may not): the dashboard then asks for HTTP Basic credentials and compares
the whole `user:password` in constant time. Without it the dashboard is served only by a
process bound to loopback addresses alone, and only to loopback clients; a web process told to
listen anywhere else refuses to start (`bind_refusal`, called by gunicorn's `on_starting` hook
in `workers/gunicorn_conf.py` and by `workers.web.serving`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Iterable

from pydantic import SecretStr

REALM = "ci-remediator"


def credentials_match(authorization: str | None, configured: SecretStr) -> bool:
    """Does an `Authorization: Basic ...` header carry exactly the configured `user:password`?"""
    if not authorization:
        return False
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(given, configured.get_secret_value().encode("utf-8"))


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 or the name `localhost`: reachable from this machine only. A
    wildcard (`0.0.0.0`, `::`, empty), any other name, a Unix socket or a file descriptor
    is not."""
    host = host.strip().removeprefix("[").removesuffix("]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_host(bind: str) -> str | None:
    """The host of a gunicorn bind (`HOST`, `HOST:PORT`, `[V6]:PORT`); None for `unix:` and
    `fd://` binds, which have none."""
    if bind.startswith(("unix:", "fd://")):
        return None
    if bind.startswith("["):
        return bind[1:].partition("]")[0]
    if bind.count(":") > 1:  # a bare IPv6 address
        return bind
    return bind.partition(":")[0]


def bind_refusal(binds: Iterable[str], *, dashboard_auth: SecretStr | None) -> str | None:
    """Why the web process must not start on these binds, or None when it may."""
    if dashboard_auth is not None:
        return None
    exposed = [bind for bind in binds if not is_loopback_host(bind_host(bind) or "")]
    if not exposed:
        return None
    return (
        f"refusing to serve the dashboard on {', '.join(exposed)} without DASHBOARD_AUTH: "
        "set DASHBOARD_AUTH=user:password, or bind to 127.0.0.1 only"
    )
