"""Sorting GitHub's answers into what to do next, per GitHub's documented rate-limit rules."""

from __future__ import annotations

import json

import pytest

from ci_remediator.github.errors import (
    AuthenticationError,
    PermanentGitHubError,
    RateLimitedError,
    TransientGitHubError,
    error_for_response,
)


def body(message: str) -> str:
    return json.dumps({"message": message, "documentation_url": "https://docs.github.com"})


def test_401_is_an_authentication_error_with_githubs_message() -> None:
    error = error_for_response(401, {}, body("Bad credentials"), "list runs")

    assert type(error) is AuthenticationError
    assert str(error) == "list runs: 401 Bad credentials"
    assert error.github_message == "Bad credentials"


def test_retry_after_wins_over_everything_else() -> None:
    headers = {"retry-after": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "99"}

    error = error_for_response(403, headers, body("You have exceeded a secondary rate limit"), "x")

    assert isinstance(error, RateLimitedError)
    assert error.retry_after_s == 30.0
    assert error.reset_at is None


def test_spent_primary_budget_waits_for_the_reset() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1714560000"}

    error = error_for_response(403, headers, body("API rate limit exceeded"), "x")

    assert isinstance(error, RateLimitedError)
    assert error.reset_at is not None
    assert error.reset_at.timestamp() == 1714560000
    assert not error.secondary


@pytest.mark.parametrize(
    ("status", "message"),
    [(429, "Too many requests"), (403, "You have exceeded a secondary rate limit.")],
)
def test_secondary_limit_without_timing_is_marked_for_backoff(status: int, message: str) -> None:
    error = error_for_response(status, {"x-ratelimit-remaining": "4000"}, body(message), "x")

    assert isinstance(error, RateLimitedError)
    assert error.secondary
    assert error.retry_after_s is None


def test_plain_403_is_permanent_not_rate_limited() -> None:
    error = error_for_response(403, {}, body("Resource not accessible by integration"), "x")

    assert type(error) is PermanentGitHubError


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_transient(status: int) -> None:
    error = error_for_response(status, {}, "<html>oops</html>", "x")

    assert type(error) is TransientGitHubError
    assert error.status == status
    assert "<html>oops</html>" in str(error)
