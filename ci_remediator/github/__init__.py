"""GitHub access for ci-remediator: the gateway, its value types and its errors."""

from __future__ import annotations

from ci_remediator.github.gateway import (
    AuthenticationError,
    GitHubError,
    GitHubGateway,
    JobInfo,
    PermanentGitHubError,
    RateLimitedError,
    RerunRefusedError,
    RunInfo,
    TransientGitHubError,
)

__all__ = [
    "AuthenticationError",
    "GitHubError",
    "GitHubGateway",
    "JobInfo",
    "PermanentGitHubError",
    "RateLimitedError",
    "RerunRefusedError",
    "RunInfo",
    "TransientGitHubError",
]
