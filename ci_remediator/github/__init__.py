"""GitHub access for ci-remediator: the gateway, its value types, its errors and its budget."""

from __future__ import annotations

from ci_remediator.github.errors import (
    AuthenticationError,
    GitHubError,
    PermanentGitHubError,
    RateLimitedError,
    RerunRefusedError,
    TransientGitHubError,
)
from ci_remediator.github.gateway import GitHubGateway
from ci_remediator.github.values import CreatedIssue, JobInfo, RunInfo, RunsPage

__all__ = [
    "AuthenticationError",
    "CreatedIssue",
    "GitHubError",
    "GitHubGateway",
    "JobInfo",
    "PermanentGitHubError",
    "RateLimitedError",
    "RerunRefusedError",
    "RunInfo",
    "RunsPage",
    "TransientGitHubError",
]
