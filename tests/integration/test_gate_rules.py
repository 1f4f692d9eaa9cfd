"""Every rule of the safety gate, driven through the gate task on Postgres.

Each failure is a real sandbox run, recorded, analyzed by the analyze task (which re-reads the
run through the API: event, fork, workflow file, deployment environments) and then gated by
the gate task. The verdict, its reasons and the state are read back from the database, so a
gate input that stops being fed from real data fails here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select

from ci_remediator.config import AppConfig, FileConfig, load_config
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    DetectionSource,
    Failure,
    GateDecision,
    Remediation,
    RemediationStatus,
)
from ci_remediator.db.timeline import failure_timelines
from ci_remediator.domain import ActionKind, Category, Effort, FailureState, Verdict
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import DEMO_CONFIG, PAYMENTS, WEB, demo_log
from ci_remediator.services import Services, set_services
from tests.integration.conftest import record_sandbox_failure

NETWORK_BLIP = demo_log("network_blip.log")


@pytest.fixture
def policy(
    sandbox: GitHubSandbox, committed_db: Engine, redis_client: redis.Redis
) -> Iterator[Any]:
    """Install services whose config.json is the demo's plus the test's `overrides`."""
    installed: list[Services] = []

    def install(**overrides: object) -> Services:
        base = load_config(env_overrides={"github_api_url": sandbox.url})
        file = FileConfig.model_validate({**DEMO_CONFIG, **overrides})
        services = Services(AppConfig(settings=base.settings, file=file))
        set_services(services)
        installed.append(services)
        return services

    yield install
    set_services(None)
    redis_client.flushdb()


def gated(services: Services, sandbox: GitHubSandbox, **run_options: Any) -> GateDecision:
    """Record a network-blip run with `run_options`, then run the analyze and gate tasks."""
    from workers.tasks import analyze, gate

    run_options.setdefault("log_text", NETWORK_BLIP)
    with services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(session, services, sandbox, **run_options)
    analyze(failure_id=failure_id)
    gate(failure_id=failure_id)
    with services.sessions() as session:
        decision = session.scalar(select(GateDecision).where(GateDecision.failure_id == failure_id))
        assert decision is not None, "the gate task recorded no decision"
        session.expunge(decision)
        return decision


def state_of(services: Services, failure_id: int) -> FailureState:
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return failure.state


def reasons(decision: GateDecision) -> str:
    return " | ".join(decision.reasons)


def past_remediation(
    services: Services,
    *,
    repository: str = WEB,
    run_id: int,
    workflow_id: int,
    age: timedelta = timedelta(minutes=10),
    status: RemediationStatus = RemediationStatus.SUCCEEDED,
    approved_by: str | None = None,
    action: ActionKind = ActionKind.RERUN_FAILED_JOBS,
) -> None:
    """A remediation ci-remediator made earlier (its failure settled), for the caps."""
    at = utcnow() - age
    with services.sessions() as session, session.begin():
        failure = Failure(
            repository=repository,
            run_id=run_id,
            run_attempt=1,
            workflow_name="CI",
            workflow_id=workflow_id,
            event="push",
            head_branch="main",
            head_sha="0" * 40,
            html_url="https://github.com/x",
            run_created_at=at,
            source=DetectionSource.POLL,
            state=FailureState.RESOLVED,
        )
        session.add(failure)
        session.flush()
        session.add(
            Remediation(
                failure_id=failure.id,
                action=action,
                status=status,
                repository=repository,
                run_id=run_id,
                target_attempt=2,
                approved_by=approved_by,
                created_at=at,
                completed_at=at,
            )
        )


def workflow_id_of(sandbox: GitHubSandbox, services: Services, workflow_name: str = "CI") -> int:
    """The sandbox's workflow id for `workflow_name` in acme/web (made by a first run)."""
    run_id = sandbox.add_successful_run(
        WEB, workflow_name=workflow_name, job_name="test", log_text="ok"
    )
    return services.gateway.get_run(WEB, run_id).workflow_id


def test_a_network_blip_on_a_push_runs_without_asking(policy: Any, sandbox: GitHubSandbox) -> None:
    services = policy()
    decision = gated(services, sandbox)
    assert decision.verdict is Verdict.AUTO, reasons(decision)
    assert decision.action is ActionKind.RERUN_FAILED_JOBS
    assert state_of(services, decision.failure_id) is FailureState.EXECUTING


@pytest.mark.parametrize(
    ("run_options", "reason"),
    [
        ({"event": "pull_request_target"}, "pull_request_target"),
        ({"workflow_name": "Deploy production"}, "'Deploy production'"),
        ({"workflow_path": ".github/workflows/release.yml"}, "'release.yml' matches sensitive"),
        ({"job_name": "publish-npm"}, "'publish-npm' matches sensitive"),
        ({"head_repository": "stranger/web", "event": "pull_request"}, "from a fork"),
        ({"environments": ("production",)}, "deploys to production"),
        ({"repository": PAYMENTS}, "repository is protected"),
    ],
    ids=["pull_request_target", "workflow", "workflow-file", "job", "fork", "environment", "repo"],
)
def test_each_rule_asks_a_human_with_its_reason_stored(
    policy: Any, sandbox: GitHubSandbox, run_options: dict[str, Any], reason: str
) -> None:
    services = policy()
    decision = gated(services, sandbox, **run_options)
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    assert reason in reasons(decision)
    assert state_of(services, decision.failure_id) is FailureState.AWAITING_APPROVAL
    with services.sessions() as session:
        (timeline,) = [t for t in failure_timelines(session) if t.failure.id == decision.failure_id]
        assert any(reason in entry.note for entry in timeline.entries), "reason not audited"


def test_a_protected_branch_raises_the_risk_over_the_threshold(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    baseline = gated(policy(), sandbox, head_branch="main")
    assert baseline.verdict is Verdict.AUTO
    services = policy(protected_branches=["release/*"], risk_threshold=baseline.effective_risk + 1)
    on_release = gated(services, sandbox, head_branch="release/2.0")
    assert on_release.effective_risk == baseline.effective_risk + 2
    assert on_release.verdict is Verdict.NEEDS_APPROVAL
    assert "above the threshold" in reasons(on_release)


def analyzed_attempt(services: Services, *, run_id: int, attempt: int, workflow_id: int) -> int:
    """A later failed attempt of a run (someone re-ran it by hand), analyzed as a blip."""
    with services.sessions() as session, session.begin():
        failure = Failure(
            repository=WEB,
            run_id=run_id,
            run_attempt=attempt,
            workflow_name="CI",
            workflow_id=workflow_id,
            event="push",
            head_branch="main",
            head_sha="1" * 40,
            html_url="https://github.com/x",
            run_created_at=utcnow(),
            source=DetectionSource.POLL,
            state=FailureState.ANALYZED,
        )
        session.add(failure)
        session.flush()
        session.add(
            Analysis(
                failure_id=failure.id,
                category=Category.INFRASTRUCTURE,
                risk_score=2,
                rules_risk_score=2,
                confidence=0.9,
                flaky=True,
                summary="connection reset",
                root_cause="network",
                proposed_action=ActionKind.RERUN_FAILED_JOBS,
                analyzer="rules",
                effort=Effort.TRIVIAL,
                excerpt="",
            )
        )
        return failure.id


def test_the_per_run_cap_counts_automatic_attempts_on_this_run_only(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    from workers.tasks import gate

    services = policy(max_auto_attempts_per_run=1)
    workflow_id = workflow_id_of(sandbox, services)
    past_remediation(services, run_id=4242, workflow_id=workflow_id)  # another run's attempt
    first = gated(services, sandbox)
    assert first.verdict is Verdict.AUTO, reasons(first)
    with services.sessions() as session:
        failure = session.get(Failure, first.failure_id)
        assert failure is not None
        run_id, attempt = failure.run_id, failure.run_attempt
    # The run's own automatic attempt counts: its next failed attempt is not re-run again.
    again = analyzed_attempt(services, run_id=run_id, attempt=attempt + 2, workflow_id=workflow_id)
    gate(failure_id=again)
    with services.sessions() as session:
        blocked = session.scalar(select(GateDecision).where(GateDecision.failure_id == again))
        assert blocked is not None
        assert blocked.verdict is Verdict.BLOCKED
        assert "1 automatic attempt(s) already made on this run" in reasons(blocked)
    assert state_of(services, again) is FailureState.ESCALATED


def test_an_approved_attempt_on_the_run_is_not_an_automatic_one(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    from workers.tasks import gate

    services = policy(max_auto_attempts_per_run=1)
    workflow_id = workflow_id_of(sandbox, services)
    past_remediation(services, run_id=4343, workflow_id=workflow_id, approved_by="U012AB3CD")
    again = analyzed_attempt(services, run_id=4343, attempt=3, workflow_id=workflow_id)
    gate(failure_id=again)
    assert state_of(services, again) is FailureState.EXECUTING


def test_the_daily_cap_counts_this_workflows_automatic_fixes_of_the_last_day(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy(max_auto_per_workflow_per_day=2)
    workflow_id = workflow_id_of(sandbox, services)
    for offset, age in enumerate((timedelta(days=2), timedelta(hours=25), timedelta(hours=2))):
        past_remediation(services, run_id=5000 + offset, workflow_id=workflow_id, age=age)
    past_remediation(services, run_id=5100, workflow_id=workflow_id + 1)  # another workflow
    # One fix within the day on this workflow: under the cap of two.
    assert gated(services, sandbox).verdict is Verdict.AUTO
    # That fix makes two within the day: the next one asks.
    capped = gated(services, sandbox)
    assert capped.verdict is Verdict.NEEDS_APPROVAL
    assert "daily automatic remediation cap" in reasons(capped)


def test_the_hourly_cap_counts_the_organizations_automatic_fixes_of_the_last_hour(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy(max_auto_per_hour=2)
    past_remediation(services, run_id=6000, workflow_id=9001, age=timedelta(minutes=90))
    past_remediation(services, repository="other-org/app", run_id=6001, workflow_id=9002)
    past_remediation(services, run_id=6002, workflow_id=9003, age=timedelta(minutes=20))
    assert gated(services, sandbox).verdict is Verdict.AUTO
    capped = gated(services, sandbox)
    assert capped.verdict is Verdict.NEEDS_APPROVAL
    assert "hourly automatic remediation cap" in reasons(capped)


def test_the_breaker_opens_when_the_organizations_automatic_fixes_stop_working(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy(breaker={"window": 4, "min_success_rate": 0.5})
    outcomes = [RemediationStatus.FAILED] * 3 + [RemediationStatus.SUCCEEDED]
    for index, status in enumerate(outcomes):
        past_remediation(
            services,
            run_id=7000 + index,
            workflow_id=9100 + index,
            status=status,
            age=timedelta(hours=3 + index),
        )
    decision = gated(services, sandbox)
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    assert "circuit breaker is open" in reasons(decision)


def test_tracking_issues_opened_never_count_as_fixes_for_the_breaker(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy(breaker={"window": 2, "min_success_rate": 0.5})
    for index in range(2):  # the reruns failed...
        past_remediation(
            services,
            run_id=7100 + index,
            workflow_id=9200 + index,
            status=RemediationStatus.FAILED,
            age=timedelta(hours=5 + index),
        )
    for index in range(2):  # ...and the newer, "successful" outcomes are issues opened
        past_remediation(
            services,
            run_id=7200 + index,
            workflow_id=9300 + index,
            action=ActionKind.OPEN_TRACKING_ISSUE,
            age=timedelta(hours=1 + index),
        )

    decision = gated(services, sandbox)

    assert "circuit breaker is open" in reasons(decision)


def test_the_breaker_stays_closed_while_automatic_fixes_mostly_work(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy(breaker={"window": 4, "min_success_rate": 0.5})
    outcomes = [RemediationStatus.FAILED] * 2 + [RemediationStatus.SUCCEEDED] * 2
    for index, status in enumerate(outcomes):
        past_remediation(
            services,
            run_id=7200 + index,
            workflow_id=9300 + index,
            status=status,
            age=timedelta(hours=3 + index),
        )
    # Another organization's failures do not open this one's breaker
    for index in range(4):
        past_remediation(
            services,
            repository="other-org/app",
            run_id=7100 + index,
            workflow_id=9200,
            status=RemediationStatus.FAILED,
            age=timedelta(hours=2),
        )
    assert gated(services, sandbox).verdict is Verdict.AUTO


def _tripped(services: Services, sandbox: GitHubSandbox, *, first_run: int) -> GateDecision:
    """Three failed automatic remediations in acme, then a gate: the breaker trips."""
    for index in range(3):
        past_remediation(
            services,
            run_id=first_run + index,
            workflow_id=first_run + 100 + index,
            status=RemediationStatus.FAILED,
            age=timedelta(hours=2 + index),
        )
    decision = gated(services, sandbox)
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    assert "circuit breaker is open" in reasons(decision)
    return decision


def test_a_tripped_breaker_is_told_once_and_stands_while_outcomes_improve(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    from ci_remediator.db.models import BreakerTrip, Notification

    services = policy(breaker={"window": 3, "min_success_rate": 0.5})
    tripped = _tripped(services, sandbox, first_run=7300)
    still_open = gated(services, sandbox)
    assert "circuit breaker is open" in reasons(still_open)
    with services.sessions() as session:
        told = session.scalars(
            select(Notification.failure_id).where(Notification.event == "breaker_tripped")
        ).all()
        (trip,) = session.scalars(select(BreakerTrip)).all()
    assert told == [tripped.failure_id]  # one critical notice, from the failure that tripped it
    assert (trip.organization, trip.open_key, trip.success_rate) == ("acme", "acme", 0.0)
    # Only a person resets it: the latest three are mostly good now, yet the trip stands.
    for index in range(2):
        past_remediation(
            services, run_id=7310 + index, workflow_id=9410 + index, age=timedelta(minutes=1)
        )
    assert "circuit breaker is open" in reasons(gated(services, sandbox))


def test_breaker_reset_is_audited_and_counts_only_what_came_after_it(
    policy: Any, sandbox: GitHubSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ci_remediator import cli
    from ci_remediator.db.models import AuditEntry

    services = policy(breaker={"window": 3, "min_success_rate": 0.5})
    _tripped(services, sandbox, first_run=7400)
    monkeypatch.setattr(cli, "_config_or_exit", lambda: services.config)
    runner = CliRunner(env={"COLUMNS": "200"})
    status = runner.invoke(cli.app, ["breaker", "status"])
    assert status.exit_code == 0
    assert "acme" in status.output
    reset = runner.invoke(cli.app, ["breaker", "reset", "acme", "--reason", "registry fixed"])
    assert reset.exit_code == 0, reset.output
    # The three failures before the reset are not counted again.
    assert gated(services, sandbox).verdict is Verdict.AUTO
    again = runner.invoke(cli.app, ["breaker", "reset", "acme"])
    assert again.exit_code == 1
    with services.sessions() as session:
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.startswith("breaker_"))
        ).all()
    assert sorted(audited) == ["breaker_reset", "breaker_tripped"]


def _failed_then_gated(
    services: Services,
    sandbox: GitHubSandbox,
    *,
    meanwhile: Callable[[], object] = lambda: None,
    **run: Any,
) -> GateDecision:
    """A failed CI run on main, then `meanwhile` (what GitHub saw next), then analyze and gate."""
    from workers.tasks import analyze, gate

    with services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(
            session, services, sandbox, log_text=NETWORK_BLIP, head_branch="main", **run
        )
    meanwhile()
    analyze(failure_id=failure_id)
    gate(failure_id=failure_id)
    with services.sessions() as session:
        decision = session.scalar(select(GateDecision).where(GateDecision.failure_id == failure_id))
        assert decision is not None
        session.expunge(decision)
        return decision


def _with_newer_run(
    services: Services, sandbox: GitHubSandbox, *, workflow: str, branch: str
) -> GateDecision:
    """A failed CI run on main, then a green run of `workflow` on `branch`, then the gate."""
    return _failed_then_gated(
        services,
        sandbox,
        meanwhile=lambda: sandbox.add_successful_run(
            WEB, workflow_name=workflow, job_name="test", log_text="ok\n", head_branch=branch
        ),
    )


def test_a_run_superseded_by_a_newer_run_on_its_branch_is_not_re_run(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy()
    decision = _with_newer_run(services, sandbox, workflow="CI", branch="main")
    assert decision.verdict is Verdict.BLOCKED
    assert "superseded" in reasons(decision)
    assert state_of(services, decision.failure_id) is FailureState.ESCALATED
    with services.sessions() as session:
        failure = session.get(Failure, decision.failure_id)
        assert failure is not None
        assert failure.superseded_by_run_id is not None
        assert f"run {failure.superseded_by_run_id} " in reasons(decision)


@pytest.mark.parametrize(
    ("workflow", "branch"), [("CI", "feature/x"), ("Nightly", "main")], ids=["branch", "workflow"]
)
def test_a_newer_run_of_another_branch_or_workflow_supersedes_nothing(
    policy: Any, sandbox: GitHubSandbox, workflow: str, branch: str
) -> None:
    decision = _with_newer_run(policy(), sandbox, workflow=workflow, branch=branch)
    assert decision.verdict is Verdict.AUTO


def test_a_run_whose_branch_moved_past_its_commit_is_not_re_run(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy()
    sandbox.set_branch_head(WEB, "main", "b" * 40)  # pushed since, no run of CI yet

    decision = _failed_then_gated(services, sandbox, head_sha="a" * 40)

    assert decision.verdict is Verdict.BLOCKED
    assert "main has moved on to bbbbbbb past this run's commit" in reasons(decision)
    with services.sessions() as session:
        failure = session.get(Failure, decision.failure_id)
        assert failure is not None
        assert failure.superseded_by_commit == "b" * 40


@pytest.mark.parametrize("head", ["a" * 40, None], ids=["head-is-the-run", "no-such-branch"])
def test_a_branch_still_at_the_runs_commit_or_unknown_supersedes_nothing(
    policy: Any, sandbox: GitHubSandbox, head: str | None
) -> None:
    if head is not None:
        sandbox.set_branch_head(WEB, "main", head)

    decision = _failed_then_gated(policy(), sandbox, head_sha="a" * 40)

    assert decision.verdict is Verdict.AUTO


def test_a_forks_branch_is_never_read_from_the_base_repository(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    sandbox.set_branch_head(WEB, "main", "b" * 40)  # the base's main, not the fork's

    decision = _failed_then_gated(
        policy(), sandbox, head_sha="a" * 40, head_repository="mallory/web"
    )

    assert "moved on" not in reasons(decision)
    assert sandbox.count("GET", rf"/repos/{WEB}/branches/.*") == 0


def _approved_then_executed(services: Services, decision: GateDecision) -> Remediation:
    """Approve the failure's request (as a Slack click does), run execute, and read back the
    remediation it opened."""
    from ci_remediator.domain import Decision
    from ci_remediator.pipeline.decide import decide_approval
    from workers.tasks import execute

    with services.sessions() as session, session.begin():
        approval_id = session.scalar(
            select(ApprovalRequest.id).where(ApprovalRequest.failure_id == decision.failure_id)
        )
        assert approval_id is not None
        decide_approval(
            session,
            approval_id=approval_id,
            decision=Decision.APPROVE,
            decided_by="U012AB3CD",
            via="slack",
            config=services.config,
        )
    execute(failure_id=decision.failure_id)
    with services.sessions() as session:
        remediation = session.scalar(
            select(Remediation).where(Remediation.failure_id == decision.failure_id)
        )
        assert remediation is not None
        session.expunge(remediation)
        return remediation


def test_an_approval_that_comes_after_a_push_runs_nothing(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy(approvers=["U012AB3CD"])
    decision = gated(services, sandbox, repository=PAYMENTS, head_branch="main")
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    sandbox.set_branch_head(PAYMENTS, "main", "c" * 40)

    remediation = _approved_then_executed(services, decision)

    assert state_of(services, decision.failure_id) is FailureState.ESCALATED
    assert remediation.outcome_detail == "not run: main has moved on to ccccccc"


def test_an_approval_that_comes_after_a_newer_run_runs_nothing(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    services = policy(approvers=["U012AB3CD"])
    decision = gated(services, sandbox, repository=PAYMENTS, head_branch="main")
    assert decision.verdict is Verdict.NEEDS_APPROVAL
    newer = sandbox.add_successful_run(
        PAYMENTS, workflow_name="CI", job_name="test", log_text="ok\n", head_branch="main"
    )

    remediation = _approved_then_executed(services, decision)

    assert state_of(services, decision.failure_id) is FailureState.ESCALATED
    assert remediation.status is RemediationStatus.REFUSED
    assert remediation.outcome_detail == f"not run: run {newer} of this workflow on main is newer"
    assert sandbox.count("POST", rf".*/runs/{remediation.run_id}/rerun-failed-jobs") == 0


def test_two_gates_at_the_same_instant_never_pass_a_cap_of_one_twice(
    policy: Any, sandbox: GitHubSandbox
) -> None:
    import threading

    from ci_remediator.pipeline.gate import gate_failure
    from workers.tasks import analyze

    services = policy(max_auto_per_workflow_per_day=1)
    with services.sessions() as session, session.begin():
        first, second = (
            record_sandbox_failure(
                session, services, sandbox, log_text=NETWORK_BLIP, head_branch=f"feature/{n}"
            )
            for n in range(2)
        )
    for failure_id in (first, second):
        analyze(failure_id=failure_id)
    verdicts: list[Verdict] = []

    def second_gate() -> None:
        with services.sessions() as session, session.begin():
            gate_failure(session, failure_id=second, config=services.config)
            decision = session.scalar(select(GateDecision).where(GateDecision.failure_id == second))
            assert decision is not None
            verdicts.append(decision.verdict)

    with services.sessions() as session, session.begin():
        gate_failure(session, failure_id=first, config=services.config)
        # The first has not committed its remediation: the second must wait, not count zero.
        other = threading.Thread(target=second_gate)
        other.start()
        other.join(timeout=0.5)
    other.join(timeout=10)
    assert state_of(services, first) is FailureState.EXECUTING
    assert verdicts == [Verdict.NEEDS_APPROVAL]
