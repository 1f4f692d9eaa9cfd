"""The gateway's remediation calls and listings against the GitHub sandbox, with PyGithub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ci_remediator.github import GitHubGateway, PermanentGitHubError, RerunRefusedError
from ci_remediator.sandbox.github import GitHubSandbox
from tests.unit.github.conftest import REPO

LOG = "##[error]Process completed with exit code 1.\n"


def failed_run(sandbox: GitHubSandbox, **options: object) -> int:
    return sandbox.add_failed_run(
        REPO,
        workflow_name="CI",
        job_name="tests",
        log_text=LOG,
        **options,  # type: ignore[arg-type]
    )


def test_rerun_of_the_whole_run_can_ask_for_debug_logging(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    run_id = failed_run(sandbox)

    gateway.rerun_run(REPO, run_id, enable_debug_logging=True)

    initial, rerun = sandbox.attempts(REPO, run_id)
    assert (rerun.trigger, rerun.debug_logging) == ("rerun", True)
    assert not initial.debug_logging


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ({"polls_until_complete": 5}, "already running"),
        ({"created_at": datetime.now(UTC) - timedelta(days=31)}, "over a month ago"),
    ],
    ids=["running", "too-old"],
)
def test_githubs_own_refusals_become_rerun_refused(
    sandbox: GitHubSandbox, gateway: GitHubGateway, setup: dict[str, object], reason: str
) -> None:
    run_id = failed_run(sandbox, **setup)
    if "polls_until_complete" in setup:
        gateway.rerun_failed_jobs(REPO, run_id)  # the rerun is now in progress

    with pytest.raises(RerunRefusedError) as caught:
        gateway.rerun_failed_jobs(REPO, run_id)

    assert reason in caught.value.reason
    assert caught.value.status == 403


def test_cancel_a_run_in_progress(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    run_id = failed_run(sandbox, polls_until_complete=5)
    gateway.rerun_failed_jobs(REPO, run_id)

    gateway.cancel_run(REPO, run_id)

    assert sandbox.attempts(REPO, run_id)[-1].conclusion == "cancelled"


def test_cancelling_a_completed_run_is_permanent(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    with pytest.raises(PermanentGitHubError) as caught:
        gateway.cancel_run(REPO, failed_run(sandbox))

    assert caught.value.status == 409


def test_delete_caches_by_exact_key(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    sandbox.add_cache(REPO, "node-modules-abc")
    sandbox.add_cache(REPO, "node-modules-abc", ref="refs/heads/feature")
    sandbox.add_cache(REPO, "node-modules-abcdef")

    assert gateway.delete_caches(REPO, key="node-modules-abc", ref="refs/heads/feature") == 1
    assert gateway.delete_caches(REPO, key="node-modules-abc") == 1
    assert gateway.delete_caches(REPO, key="node-modules-abc") == 0  # none left: not an error
    assert gateway.delete_caches(REPO, key="node-modules-abcdef") == 1


def test_open_and_close_a_tracking_issue(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    created = gateway.create_issue(
        REPO, title="CI failing: tests", body="see the run", labels=("ci-remediator",)
    )
    gateway.close_issue(REPO, created.number)

    (issue,) = sandbox.issues(REPO)
    assert (issue.number, issue.title, issue.labels) == (
        created.number,
        "CI failing: tests",
        ("ci-remediator",),
    )
    assert issue.state == "closed"
    assert created.html_url.endswith(f"/issues/{created.number}")


def test_dispatch_a_configured_workflow(sandbox: GitHubSandbox, gateway: GitHubGateway) -> None:
    sandbox.add_workflow(REPO, "Remediate", path=".github/workflows/remediate.yml")

    gateway.dispatch_workflow(REPO, workflow="remediate.yml", ref="main", inputs={"run_id": "42"})

    (dispatch,) = sandbox.dispatches(REPO)
    assert (dispatch.workflow_path, dispatch.ref, dispatch.inputs) == (
        ".github/workflows/remediate.yml",
        "main",
        {"run_id": "42"},
    )


def test_dispatching_an_unknown_workflow_is_permanent(gateway: GitHubGateway) -> None:
    with pytest.raises(PermanentGitHubError) as caught:
        gateway.dispatch_workflow(REPO, workflow="nope.yml", ref="main", inputs={})

    assert caught.value.status == 404


def test_last_successful_run_is_the_newest_one_before_the_failure(
    sandbox: GitHubSandbox, gateway: GitHubGateway
) -> None:
    now = datetime.now(UTC)
    older = sandbox.add_successful_run(
        REPO,
        workflow_name="CI",
        job_name="tests",
        log_text="ok",
        created_at=now - timedelta(hours=3),
    )
    newer = sandbox.add_successful_run(
        REPO,
        workflow_name="CI",
        job_name="tests",
        log_text="ok",
        created_at=now - timedelta(hours=1),
    )
    sandbox.add_successful_run(
        REPO,
        workflow_name="CI",
        job_name="tests",
        log_text="ok",
        head_branch="other",
        created_at=now - timedelta(minutes=30),
    )
    failed = gateway.get_run(REPO, failed_run(sandbox))

    found = gateway.last_successful_run(
        REPO, workflow_id=failed.workflow_id, branch="main", before=failed.created_at
    )
    too_early = gateway.last_successful_run(
        REPO, workflow_id=failed.workflow_id, branch="main", before=now - timedelta(hours=2)
    )

    assert found is not None
    assert found.run_id == newer
    assert too_early is not None
    assert too_early.run_id == older


def test_organization_repositories_are_listed_across_pages(sandbox: GitHubSandbox) -> None:
    names = [f"big-org/repo{i:03d}" for i in range(130)]
    for name in names:
        sandbox.add_repository(name)

    with GitHubGateway(base_url=sandbox.url, token="ghp_org", per_page=50) as gateway:
        listed = gateway.list_org_repositories("big-org")

    assert sorted(listed) == names
    assert sandbox.count("GET", r"/orgs/big-org/repos") == 3
