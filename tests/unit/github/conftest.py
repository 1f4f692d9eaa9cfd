"""Fixtures for the gateway tests: a started GitHub sandbox and a gateway pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ci_remediator.github import GitHubGateway
from ci_remediator.sandbox.github import GitHubSandbox

REPO = "acme/widgets"


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as started:
        started.add_repository(REPO)
        yield started


@pytest.fixture
def gateway(sandbox: GitHubSandbox) -> Iterator[GitHubGateway]:
    with GitHubGateway(base_url=sandbox.url, token="ghp_test", timeout_s=5) as client:
        yield client
