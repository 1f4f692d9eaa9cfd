"""The demo scenarios: failed runs in several repositories, each with a known right ending."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from ci_remediator.domain import FailureState
from ci_remediator.sandbox.github import GitHubSandbox

WEB = "acme/web"
PAYMENTS = "acme/payments"
INFRA = "acme/infra"
API = "acme/api"
MOBILE = "acme/mobile"


@dataclass(frozen=True, slots=True)
class ScenarioRun:
    key: str
    repository: str
    workflow_name: str
    job_name: str
    log_name: str
    rerun_conclusions: tuple[str, ...]
    expected_state: FailureState
    expected_reruns: int
    # Runs of one workflow on one branch supersede each other: each scenario has its own.
    head_branch: str = "main"
    # A green run of the same workflow on the same branch lands after this one failed.
    then_passes: bool = False
    # How many GETs a rerun stays queued or running (a huge number: it never finishes).
    polls_until_complete: int = 2
    # Runs of one group race each other: which of them ends where is not fixed, only how many.
    group: str | None = None


DEMO_RUNS: tuple[ScenarioRun, ...] = (
    ScenarioRun(
        "network blip",
        WEB,
        "CI",
        "test",
        "network_blip.log",
        ("success",),
        FailureState.RESOLVED,
        1,
    ),
    ScenarioRun(
        "flaky test",
        WEB,
        "CI",
        "unit-tests",
        "flaky_test.log",
        ("success",),
        FailureState.RESOLVED,
        1,
        head_branch="feature/login",
    ),
    ScenarioRun(
        "compile error",
        WEB,
        "Build",
        "build",
        "compile_error.log",
        ("failure",),
        FailureState.ESCALATED,
        0,
    ),
    ScenarioRun(
        "transient failure, protected repo",
        PAYMENTS,
        "CI",
        "integration",
        "registry_503.log",
        ("success",),
        FailureState.AWAITING_APPROVAL,
        0,
    ),
    ScenarioRun(
        "rerun fails the same way",
        WEB,
        "CI",
        "e2e",
        "network_again.log",
        ("failure",),
        FailureState.ESCALATED,
        1,
        head_branch="feature/search",
    ),
)

# `ci-remediator demo` adds Slack: the protected repository's request is approved by a click
# in the Slack sandbox, and a second protected repository's request is left to expire.
SLACK_DEMO_RUNS: tuple[ScenarioRun, ...] = (
    *(run for run in DEMO_RUNS if run.repository != PAYMENTS),
    ScenarioRun(
        "protected repo, approved in Slack",
        PAYMENTS,
        "CI",
        "integration",
        "registry_503.log",
        ("success",),
        FailureState.RESOLVED,
        1,
    ),
    ScenarioRun(
        "protected repo, nobody decides",
        INFRA,
        "CI",
        "integration",
        "network_blip.log",
        ("success",),
        FailureState.EXPIRED,
        0,
    ),
    # Noise control: the same registry outage fails three runs; Slack shows one message.
    *(
        ScenarioRun(
            f"registry outage, run {n} of 3",
            API,
            "CI",
            "test",
            "registry_503.log",
            ("success",),
            FailureState.RESOLVED,
            1,
            head_branch=f"feature/{n}",
        )
        for n in (1, 2, 3)
    ),
    # A newer run of the workflow on the branch passed: re-running this one would be waste.
    ScenarioRun(
        "superseded by a newer green run",
        WEB,
        "Nightly",
        "test",
        "network_blip.log",
        ("success",),
        FailureState.ESCALATED,
        0,
        then_passes=True,
    ),
    # The rerun hangs: at the verify deadline it is cancelled (rolled back) and a human told.
    ScenarioRun(
        "rerun still running at the deadline",
        WEB,
        "CI",
        "integration",
        "registry_503.log",
        ("success",),
        FailureState.ROLLED_BACK,
        1,
        head_branch="feature/slow",
        polls_until_complete=1_000_000,
    ),
    # A storm: three runs fail at once where the daily cap is two automatic remediations per
    # workflow. Two are re-run; the third waits for a human, whom nobody is, and expires.
    *(
        ScenarioRun(
            key,
            MOBILE,
            "CI",
            "test",
            "network_blip.log",
            ("success",),
            state,
            reruns,
            head_branch=f"storm/{n}",
            group="storm",
        )
        for n, (key, state, reruns) in enumerate(
            (
                ("storm: re-run within the cap", FailureState.RESOLVED, 1),
                ("storm: re-run within the cap", FailureState.RESOLVED, 1),
                ("storm: stopped by the daily cap", FailureState.EXPIRED, 0),
            )
        )
    ),
)
# The storm's repository allows two automatic remediations per workflow a day.
STORM_POLICY: dict[str, Any] = {"max_auto_per_workflow_per_day": 2, "approval_timeout_hours": 0.002}
DEMO_APPROVER = "U0DEMOAPPROVER"

DEMO_CONFIG: dict[str, Any] = {
    "repositories": [WEB, PAYMENTS],
    "protected_repositories": [PAYMENTS],
    "risk_threshold": 5,
    "verify_poll_seconds": 0.3,
    "polling_interval_minutes": 5,
}


def demo_log(name: str) -> str:
    return (resources.files("ci_remediator.sandbox") / "data" / "logs" / name).read_text("utf-8")


def install_demo_scenario(
    sandbox: GitHubSandbox, runs: tuple[ScenarioRun, ...] = DEMO_RUNS
) -> dict[int, ScenarioRun]:
    """Add the repositories and failed runs; the scenario run for each GitHub run id."""
    for repository in dict.fromkeys(run.repository for run in runs):
        sandbox.add_repository(repository)
    installed: dict[int, ScenarioRun] = {}
    for run in runs:
        run_id = sandbox.add_failed_run(
            run.repository,
            workflow_name=run.workflow_name,
            job_name=run.job_name,
            log_text=demo_log(run.log_name),
            rerun_conclusions=run.rerun_conclusions,
            polls_until_complete=run.polls_until_complete,
            head_branch=run.head_branch,
        )
        installed[run_id] = run
        if run.then_passes:
            sandbox.add_successful_run(
                run.repository,
                workflow_name=run.workflow_name,
                job_name=run.job_name,
                log_text="all tests passed\n",
                head_branch=run.head_branch,
            )
    return installed
