"""Scripting where a run came from and what it touched: a run's deployment environments and
its review history (`GET .../runs/{run_id}/approvals`), runs from forks, and the workflow
file a run belongs to, read through plain HTTP, PyGithub and webhook payloads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import github
import pytest
import requests

from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.webhook_sender import workflow_run_payload

REPO = "acme/widgets"
FORK = "alice/widgets"
AUTH = {"Authorization": "Bearer ghp_test"}


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as started:
        started.add_repository(REPO)
        yield started


@pytest.fixture
def client(sandbox: GitHubSandbox) -> Iterator[github.Github]:
    gh = github.Github(
        base_url=sandbox.url, auth=github.Auth.Token("ghp_test"), retry=None, lazy=True
    )
    yield gh
    gh.close()


def get(sandbox: GitHubSandbox, path: str) -> requests.Response:
    return requests.get(sandbox.url + path, headers=AUTH, timeout=5)


def add_run(sandbox: GitHubSandbox, **overrides: Any) -> int:
    arguments: dict[str, Any] = {"workflow_name": "CI", "job_name": "tests", "log_text": "boom\n"}
    arguments.update(overrides)
    return sandbox.add_failed_run(REPO, **arguments)


def approvals(sandbox: GitHubSandbox, run_id: int) -> requests.Response:
    return get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/approvals")


def run_json(sandbox: GitHubSandbox, run_id: int) -> dict[str, Any]:
    response = get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}")
    assert response.status_code == 200
    return dict(response.json())


# -- environments and the review history -----------------------------------------------------


def test_review_history_has_one_approved_review_per_environment(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, environments=("staging", "production"))

    response = approvals(sandbox, run_id)

    assert response.status_code == 200
    reviews = response.json()
    assert [review["state"] for review in reviews] == ["approved", "approved"]
    assert [[env["name"] for env in review["environments"]] for review in reviews] == [
        ["staging"],
        ["production"],
    ]
    production = reviews[1]["environments"][0]
    assert production["url"] == f"{sandbox.url}/repos/{REPO}/environments/production"
    assert production["html_url"] == (
        f"{sandbox.url}/{REPO}/deployments/activity_log?environments_filter=production"
    )
    assert isinstance(production["id"], int)
    assert isinstance(reviews[0]["comment"], str)
    assert reviews[0]["user"]["login"] == "acme"
    assert reviews[0]["user"]["url"] == f"{sandbox.url}/users/acme"


def test_an_environment_keeps_its_id_across_runs(sandbox: GitHubSandbox) -> None:
    first = add_run(sandbox, environments=("staging", "production"))
    second = add_run(sandbox, environments=("production",))

    def ids(run_id: int) -> dict[str, int]:
        return {
            env["name"]: env["id"]
            for review in approvals(sandbox, run_id).json()
            for env in review["environments"]
        }

    assert ids(second)["production"] == ids(first)["production"]
    assert ids(first)["staging"] != ids(first)["production"]


def test_review_history_is_empty_without_environments(sandbox: GitHubSandbox) -> None:
    failed = add_run(sandbox)
    passed = sandbox.add_successful_run(REPO, workflow_name="CI", job_name="t", log_text="ok")

    assert approvals(sandbox, failed).json() == []
    assert approvals(sandbox, passed).json() == []
    assert approvals(sandbox, 1).status_code == 404
    assert get(sandbox, f"/repos/acme/missing/actions/runs/{failed}/approvals").status_code == 404


def test_environments_are_names_each_listed_once(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, environments=["production", "production"])

    assert len(approvals(sandbox, run_id).json()) == 1
    with pytest.raises(TypeError, match="sequence of names"):
        add_run(sandbox, environments="production")
    with pytest.raises(ValueError, match="non-empty"):
        add_run(sandbox, environments=("",))


def test_pygithub_reads_the_review_history(sandbox: GitHubSandbox, client: github.Github) -> None:
    run_id = add_run(sandbox, environments=("production",))

    _headers, reviews = client.requester.requestJsonAndCheck(
        "GET", f"/repos/{REPO}/actions/runs/{run_id}/approvals"
    )

    assert [(r["state"], r["environments"][0]["name"]) for r in reviews] == [
        ("approved", "production")
    ]


# -- runs from forks -------------------------------------------------------------------------


def test_a_run_from_a_fork_has_the_fork_as_its_head_repository(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, head_repository=FORK, event="pull_request")

    run = run_json(sandbox, run_id)

    head, base = run["head_repository"], run["repository"]
    assert (head["full_name"], head["name"], head["fork"]) == (FORK, "widgets", True)
    assert head["owner"]["login"] == "alice"
    assert head["url"] == f"{sandbox.url}/repos/{FORK}"
    assert head["html_url"] == f"{sandbox.url}/{FORK}"
    assert head["owner"]["repos_url"] == f"{sandbox.url}/users/alice/repos"
    assert (base["full_name"], base["fork"]) == (REPO, False)
    assert head["id"] != base["id"]
    assert head["owner"]["id"] != base["owner"]["id"]
    assert run["url"] == f"{sandbox.url}/repos/{REPO}/actions/runs/{run_id}"


def test_runs_from_the_same_fork_share_its_identity(sandbox: GitHubSandbox) -> None:
    first = run_json(sandbox, add_run(sandbox, head_repository=FORK))
    second = run_json(sandbox, add_run(sandbox, head_repository=FORK))

    assert first["head_repository"]["id"] == second["head_repository"]["id"]
    assert get(sandbox, f"/repos/{FORK}").status_code == 404  # the fork itself is not served
    with pytest.raises(ValueError, match="owner/name"):
        add_run(sandbox, head_repository="not-a-full-name")


def test_a_run_from_its_own_repository_has_it_as_head(sandbox: GitHubSandbox) -> None:
    default = run_json(sandbox, add_run(sandbox))
    explicit = run_json(sandbox, add_run(sandbox, head_repository=REPO))

    for run in (default, explicit):
        head, base = run["head_repository"], run["repository"]
        assert (head["full_name"], head["id"], head["fork"]) == (REPO, base["id"], False)
        assert head["owner"] == base["owner"]


def test_pygithub_and_webhooks_see_the_fork(sandbox: GitHubSandbox, client: github.Github) -> None:
    run_id = add_run(sandbox, head_repository=FORK, event="pull_request")

    run = client.get_repo(REPO).get_workflow_run(run_id)
    delivered = workflow_run_payload(sandbox, REPO, run_id)["workflow_run"]

    assert (run.head_repository.full_name, run.head_repository.fork) == (FORK, True)
    assert (run.repository.full_name, run.repository.fork) == (REPO, False)
    assert delivered["head_repository"]["full_name"] == FORK
    assert delivered["head_repository"]["fork"] is True
    assert delivered["repository"]["full_name"] == REPO


# -- workflow files ----------------------------------------------------------------------------


def test_workflow_path_defaults_to_the_slug_of_the_workflow_name(sandbox: GitHubSandbox) -> None:
    run = run_json(sandbox, add_run(sandbox, workflow_name="Continuous Integration"))

    assert run["path"] == ".github/workflows/continuous-integration.yml@main"


def test_workflow_path_names_the_runs_workflow_file(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, workflow_path=".github/workflows/main.yaml", head_branch="dev")

    run = run_json(sandbox, run_id)
    workflow = get(sandbox, f"/repos/{REPO}/actions/workflows/main.yaml").json()
    listed = get(sandbox, f"/repos/{REPO}/actions/workflows/main.yaml/runs").json()

    assert run["path"] == ".github/workflows/main.yaml@dev"
    assert (workflow["name"], workflow["path"]) == ("CI", ".github/workflows/main.yaml")
    assert run["workflow_id"] == workflow["id"]
    assert [r["id"] for r in listed["workflow_runs"]] == [run_id]
    webhook_run = workflow_run_payload(sandbox, REPO, run_id)["workflow_run"]
    assert webhook_run["path"] == ".github/workflows/main.yaml"


def test_runs_of_one_workflow_file_share_the_workflow(sandbox: GitHubSandbox) -> None:
    by_default = add_run(sandbox)  # CI in .github/workflows/ci.yml
    elsewhere = add_run(sandbox, workflow_path=".github/workflows/nightly.yml")
    again = add_run(sandbox, workflow_path=".github/workflows/nightly.yml")
    same_as_default = add_run(sandbox, workflow_path=".github/workflows/ci.yml")

    workflow_ids = [
        run_json(sandbox, run_id)["workflow_id"]
        for run_id in (by_default, elsewhere, again, same_as_default)
    ]
    listed = get(sandbox, f"/repos/{REPO}/actions/workflows").json()

    assert workflow_ids[0] == workflow_ids[3]
    assert workflow_ids[1] == workflow_ids[2] != workflow_ids[0]
    assert sorted(w["path"] for w in listed["workflows"]) == [
        ".github/workflows/ci.yml",
        ".github/workflows/nightly.yml",
    ]


def test_workflow_path_must_be_a_workflow_file_of_that_workflow(sandbox: GitHubSandbox) -> None:
    add_run(sandbox, workflow_name="Lint", workflow_path=".github/workflows/lint.yml")

    with pytest.raises(ValueError, match="workflow_path"):
        add_run(sandbox, workflow_path="ci.yml")
    with pytest.raises(ValueError, match="Lint"):
        add_run(sandbox, workflow_name="CI", workflow_path=".github/workflows/lint.yml")


def test_pygithub_reads_the_workflow_path(sandbox: GitHubSandbox, client: github.Github) -> None:
    run_id = add_run(sandbox, workflow_path=".github/workflows/main.yml")

    run = client.get_repo(REPO).get_workflow_run(run_id)

    assert run.path == ".github/workflows/main.yml@main"
    assert client.get_repo(REPO).get_workflow("main.yml").id == run.workflow_id
