"""Scripting the faults the GitHub sandbox answers with: injected errors (5xx, GitHub's
secondary rate limit, any status), latency, the primary rate budget, revoked credentials.
`serving` applies them to each request.
"""

from __future__ import annotations

import time

from ci_remediator.sandbox.github.base import (
    RATE_LIMIT,
    RATE_WINDOW_S,
    InjectedError,
    Latency,
    SandboxBase,
)

__all__ = ["FaultScripting"]


class FaultScripting(SandboxBase):
    """The methods tests call to make requests fail or slow down (thread-safe)."""

    def inject_error(
        self,
        status: int,
        *,
        path_pattern: str = ".*",
        method: str | None = None,
        times: int = 1,
        message: str | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        """Answer the next `times` matching API requests with `status` (5xx, 429, ...).

        Without `message`, 403 and 429 carry GitHub's secondary-rate-limit body (what those
        statuses mean when they come back unasked); other statuses their reason phrase.
        """
        with self._lock:
            self._injected.append(
                InjectedError(
                    status=status,
                    method=method.upper() if method else None,
                    path_pattern=path_pattern,
                    remaining=times,
                    message=message,
                    retry_after_s=retry_after_s,
                )
            )

    def set_latency(
        self,
        seconds: float,
        *,
        path_pattern: str = ".*",
        method: str | None = None,
        times: int | None = None,
    ) -> None:
        """Delay the answers to matching requests (the next `times`, or all when None).

        The most recently set matching rule applies, so `set_latency(0)` turns latency off.
        The sleep happens after the request took effect and outside the lock: other requests
        proceed meanwhile, and a client that times out cannot tell whether its POST happened,
        as with a slow GitHub.
        """
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._lock:
            self._latencies.append(
                Latency(seconds, method.upper() if method else None, path_pattern, times)
            )

    def set_rate_limit(
        self, *, remaining: int, limit: int = RATE_LIMIT, reset_in_s: int = RATE_WINDOW_S
    ) -> None:
        """Set the primary rate budget; at 0, API requests get GitHub's 403 rate-limit answer."""
        with self._lock:
            self._rate_limit, self._rate_remaining = limit, remaining
            self._rate_reset = int(time.time()) + reset_in_s

    def revoke_token(self, token: str) -> None:
        """Requests with this token (a PAT or an installation token) get 401 "Bad credentials"."""
        with self._lock:
            self._revoked_tokens.add(token)
