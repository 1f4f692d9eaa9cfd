"""What can go wrong talking to GitHub, sorted by what the caller should do next."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "AuthenticationError",
    "GitHubError",
    "PermanentGitHubError",
    "RateLimitedError",
    "RerunRefusedError",
    "TransientGitHubError",
    "error_for_response",
]


class GitHubError(Exception):
    """Base of every error the gateway raises; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.github_message = ""  # GitHub's own `message`, when it sent one


class TransientGitHubError(GitHubError):
    """5xx, connection errors, timeouts: the same call may well succeed later.

    `retried` is set when the gateway already retried the call (reads): the task above must
    not retry it again at once, or the attempts multiply (one level of retry per call).
    """

    retried: bool = False


class PermanentGitHubError(GitHubError):
    """A 4xx that retrying will not change (404, 422, ...)."""


class AuthenticationError(PermanentGitHubError):
    """401: the token is missing, wrong or revoked. Never retried."""


class RateLimitedError(TransientGitHubError):
    """GitHub's primary or secondary rate limit, or our own budget: wait `retry_after_s`."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reset_at: datetime | None = None,
        retry_after_s: float | None = None,
        secondary: bool = False,
    ) -> None:
        super().__init__(message, status=status)
        self.reset_at = reset_at
        self.retry_after_s = retry_after_s
        self.secondary = secondary


class RerunRefusedError(PermanentGitHubError):
    """GitHub would not start a rerun (already running, too old, too many attempts, ...)."""

    def __init__(self, message: str, *, reason: str, status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.reason = reason
        self.github_message = reason  # GitHub's words, as for every other refusal


def response_message(body: str | bytes | None) -> str:
    """GitHub's `message` from an error body, or the body itself, cut short."""
    if not body:
        return ""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data: Any = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return text[:200]


def error_for_response(
    status: int, headers: dict[str, str], body: str | bytes | None, action: str
) -> GitHubError:
    """The error for a non-success answer, following GitHub's documented rate-limit rules."""
    message = response_message(body)
    error = _classify(status, headers, message, f"{action}: {status} {message}".rstrip())
    error.github_message = message
    return error


def _classify(status: int, headers: dict[str, str], message: str, text: str) -> GitHubError:
    if status == 401:
        return AuthenticationError(text, status=status)
    if status in (403, 429):
        retry_after = _float(headers.get("retry-after"))
        if retry_after is not None:
            return RateLimitedError(text, status=status, retry_after_s=retry_after)
        if headers.get("x-ratelimit-remaining") == "0":
            return RateLimitedError(text, status=status, reset_at=_reset_at(headers))
        if status == 429 or "secondary rate limit" in message.lower():
            return RateLimitedError(text, status=status, secondary=True)
    if status >= 500 or status == 408:
        return TransientGitHubError(text, status=status)
    return PermanentGitHubError(text, status=status)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _reset_at(headers: dict[str, str]) -> datetime | None:
    reset = _float(headers.get("x-ratelimit-reset"))
    return datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None
