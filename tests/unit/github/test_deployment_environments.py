"""Which environments a run deployed to: GitHub's review history of the run, asked only where
an environment requires reviewers (only those record a review), over HTTP to the sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ci_remediator.github import GitHubGateway
from ci_remediator.github.errors import AuthenticationError
from ci_remediator.github.read_cache import MemoryReadCache
from ci_remediator.sandbox.github import GitHubSandbox
from tests.unit.github.conftest import REPO

LOG = "##[error]Process completed with exit code 1.\n"
REVIEWS = rf"/repos/{REPO}/actions/runs/\d+/approvals"
ENVIRONMENTS = rf"/repos/{REPO}/environments"


@pytest.fixture
def cached_gateway(sandbox: GitHubSandbox) -> Iterator[GitHubGateway]:
    with GitHubGateway(
        base_url=sandbox.url, token="ghp_test", read_cache=MemoryReadCache(), cache_scope="t"
    ) as client:
        yield client


def failed_run(sandbox: GitHubSandbox, *environments: str) -> int:
    return sandbox.add_failed_run(
        REPO, workflow_name="CI", job_name="tests", log_text=LOG, environments=environments
    )


def test_without_reviewed_environments_no_review_history_is_asked_for(
    sandbox: GitHubSandbox, cached_gateway: GitHubGateway
) -> None:
    first, second = failed_run(sandbox), failed_run(sandbox)

    assert cached_gateway.run_deployment_environments(REPO, first) == ()
    spent = len(sandbox.counted_requests())
    assert cached_gateway.run_deployment_environments(REPO, second) == ()

    assert sandbox.count("GET", REVIEWS) == 0
    assert sandbox.count("GET", ENVIRONMENTS) == 2
    assert len(sandbox.counted_requests()) == spent  # the second listing was a free 304


def test_once_an_environment_requires_reviewers_every_run_is_asked_about(
    sandbox: GitHubSandbox, cached_gateway: GitHubGateway
) -> None:
    before = failed_run(sandbox)
    assert cached_gateway.run_deployment_environments(REPO, before) == ()

    deployed = failed_run(sandbox, "production")
    plain = failed_run(sandbox)

    assert cached_gateway.run_deployment_environments(REPO, deployed) == ("production",)
    assert cached_gateway.run_deployment_environments(REPO, plain) == ()
    assert sandbox.count("GET", REVIEWS) == 2


@pytest.mark.parametrize("status", [403, 404])
def test_when_github_will_not_list_environments_the_review_history_is_asked_as_always(
    sandbox: GitHubSandbox, gateway: GitHubGateway, status: int
) -> None:
    run_id = failed_run(sandbox, "production")
    sandbox.inject_error(status, path_pattern=ENVIRONMENTS, message="Resource not accessible")

    assert gateway.run_deployment_environments(REPO, run_id) == ("production",)
    assert sandbox.count("GET", REVIEWS) == 1


def test_a_refused_credential_is_not_taken_for_no_environments(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    run_id = failed_run(sandbox, "production")
    sandbox.inject_error(401, path_pattern=ENVIRONMENTS, message="Bad credentials")

    with pytest.raises(AuthenticationError):
        gateway.run_deployment_environments(REPO, run_id)
    assert sandbox.count("GET", REVIEWS) == 0


def test_the_sandbox_lists_an_environment_a_run_deployed_to_as_requiring_its_owner(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    # Its shape against GitHub's documented example: tests/unit/sandbox/test_github_contract.py
    failed_run(sandbox, "staging")

    listed = gateway._read("GET", ENVIRONMENTS, "list").data

    assert listed["total_count"] == 1
    (environment,) = listed["environments"]
    rules = {rule["type"]: rule for rule in environment["protection_rules"]}
    assert environment["name"] == "staging"
    assert [r["reviewer"]["login"] for r in rules["required_reviewers"]["reviewers"]] == ["acme"]
