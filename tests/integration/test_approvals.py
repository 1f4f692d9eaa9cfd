"""Approval decisions on Postgres: only approvers decide, once; expiry; the CLI; and an
approval that leads to exactly one rerun on a real worker."""

from __future__ import annotations

import getpass
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ci_remediator.config import AppConfig, FileConfig, Settings, load_config
from ci_remediator.db import migrate
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    DetectionSource,
    Failure,
    Remediation,
)
from ci_remediator.db.session import session_factory
from ci_remediator.domain import ActionKind, Decision, FailureState, StageEvent, Step
from ci_remediator.pipeline.decide import DecisionOutcome, decide_approval
from ci_remediator.pipeline.expire import expire_approvals
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import DEMO_CONFIG, PAYMENTS, WEB, demo_log
from ci_remediator.services import Services, set_services
from tests.integration.conftest import record_sandbox_failure, wait_until

APPROVER = "U012AB3CD"
OPERATOR = getpass.getuser()


@pytest.fixture
def approving(
    sandbox: GitHubSandbox, committed_db: Engine, redis_client: redis.Redis
) -> Iterator[Services]:
    base = load_config(env_overrides={"github_api_url": sandbox.url})
    file = FileConfig.model_validate(
        {**DEMO_CONFIG, "approvers": [APPROVER, OPERATOR], "approval_timeout_hours": 2}
    )
    services = Services(AppConfig(settings=base.settings, file=file))
    set_services(services)
    yield services
    set_services(None)
    redis_client.flushdb()


def awaiting_approval(services: Services, sandbox: GitHubSandbox) -> ApprovalRequest:
    """A network blip in the protected repository, analyzed and gated: a pending request."""
    from workers.tasks import analyze, gate

    with services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(
            session, services, sandbox, repository=PAYMENTS, log_text=demo_log("network_blip.log")
        )
    analyze(failure_id=failure_id)
    gate(failure_id=failure_id)
    with services.sessions() as session:
        approval = session.scalar(
            select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
        )
        assert approval is not None
        session.expunge(approval)
        return approval


def decide(services: Services, approval: ApprovalRequest, **options: Any) -> Any:
    options.setdefault("decision", Decision.APPROVE)
    options.setdefault("decided_by", APPROVER)
    options.setdefault("via", "slack")
    with services.sessions() as session, session.begin():
        return decide_approval(session, approval_id=approval.id, config=services.config, **options)


def failure_state(services: Services, failure_id: int) -> FailureState:
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return failure.state


def refusals(services: Services) -> list[dict[str, Any]]:
    with services.sessions() as session:
        return [
            entry.detail
            for entry in session.scalars(
                select(AuditEntry).where(AuditEntry.action == "decision_refused")
            )
        ]


def test_an_approver_approves_and_the_remediation_is_opened_in_their_name(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    result = decide(approving, approval)
    assert result.outcome is DecisionOutcome.APPROVED
    assert [f.step for f in result.follow_ups] == [Step.EXECUTE, Step.NOTIFY]
    assert failure_state(approving, approval.failure_id) is FailureState.EXECUTING
    with approving.sessions() as session:
        remediation = session.scalar(
            select(Remediation).where(Remediation.failure_id == approval.failure_id)
        )
        assert remediation is not None
        assert remediation.approved_by == APPROVER


@pytest.mark.parametrize("decision", [Decision.APPROVE, Decision.REJECT])
def test_an_approver_with_a_very_long_name_can_decide_on_postgres(
    sandbox: GitHubSandbox, committed_db: Engine, redis_client: redis.Redis, decision: Decision
) -> None:
    """Postgres enforces the 100-character columns the name lands in (the audit actor, the
    remediation's approved_by): the name is cut to fit, never a refused write."""
    name = "approver-" + "n" * 150
    base = load_config(env_overrides={"github_api_url": sandbox.url})
    file = FileConfig.model_validate({**DEMO_CONFIG, "approvers": [name]})
    services = Services(AppConfig(settings=base.settings, file=file))
    set_services(services)
    try:
        approval = awaiting_approval(services, sandbox)
        result = decide(services, approval, decision=decision, decided_by=name)
        with services.sessions() as session:
            actors = set(
                session.scalars(
                    select(AuditEntry.actor).where(AuditEntry.failure_id == approval.failure_id)
                )
            )
            approved_by = session.scalar(
                select(Remediation.approved_by).where(Remediation.failure_id == approval.failure_id)
            )
    finally:
        set_services(None)
        redis_client.flushdb()
    approved = decision is Decision.APPROVE
    assert result.outcome is (DecisionOutcome.APPROVED if approved else DecisionOutcome.REJECTED)
    assert f"human:{name[:80]}" in actors
    assert approved_by == (name[:100] if approved else None)


def test_someone_not_in_approvers_changes_nothing_and_is_audited(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    result = decide(approving, approval, decided_by="U0INTRUDER")
    assert result.outcome is DecisionOutcome.NOT_AN_APPROVER
    assert result.failure_id == approval.failure_id
    assert result.follow_ups == ()
    with approving.sessions() as session:
        (entry,) = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "decision_refused")
        )
        assert (entry.failure_id, entry.actor) == (approval.failure_id, "human:U0INTRUDER")
    assert failure_state(approving, approval.failure_id) is FailureState.AWAITING_APPROVAL
    assert refusals(approving) == [
        {
            "reason": "not_an_approver",
            "via": "slack",
            "user": "U0INTRUDER",
            "approval_id": approval.id,
        }
    ]


def test_a_double_click_or_a_second_approver_finds_it_decided(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    assert decide(approving, approval).outcome is DecisionOutcome.APPROVED
    again = decide(approving, approval)
    other = decide(approving, approval, decision=Decision.REJECT, decided_by=OPERATOR)
    assert again.outcome is other.outcome is DecisionOutcome.ALREADY_DECIDED
    assert again.message.startswith(f"already approved by {APPROVER} at ")
    assert again.follow_ups == other.follow_ups == ()
    with approving.sessions() as session:
        count = session.scalar(
            select(func.count(Remediation.id)).where(Remediation.failure_id == approval.failure_id)
        )
    assert count == 1


def test_two_approvers_at_the_same_instant_make_one_decision(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    results: list[Any] = []
    start = threading.Barrier(2)

    def click(user: str, decision: Decision) -> None:
        start.wait()
        results.append(decide(approving, approval, decided_by=user, decision=decision))

    threads = [
        threading.Thread(target=click, args=(APPROVER, Decision.APPROVE)),
        threading.Thread(target=click, args=(OPERATOR, Decision.REJECT)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(result.outcome.value for result in results)
    assert outcomes in (["already_decided", "approved"], ["already_decided", "rejected"])


def test_a_rejection_closes_the_failure_with_its_reason(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    result = decide(approving, approval, decision=Decision.REJECT, reason="deploy freeze")
    assert result.outcome is DecisionOutcome.REJECTED
    assert [(f.step, f.event) for f in result.follow_ups] == [(Step.NOTIFY, StageEvent.REJECTED)]
    assert failure_state(approving, approval.failure_id) is FailureState.REJECTED
    with approving.sessions() as session:
        stored = session.get(ApprovalRequest, approval.id)
        assert stored is not None
        assert (stored.status, stored.decision_reason) == (ApprovalStatus.REJECTED, "deploy freeze")


def test_a_request_past_its_timeout_expires_and_a_late_click_is_refused(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    assert approval.expires_at - approval.requested_at == timedelta(hours=2)
    late = approval.expires_at + timedelta(seconds=1)
    with approving.sessions() as session, session.begin():
        assert (
            expire_approvals(session, now=approval.expires_at - timedelta(seconds=1)).follow_ups
            == ()
        )
    # A click in the last minute before the sweep ran is refused all the same.
    refused = decide(approving, approval, now=late)
    assert refused.outcome is DecisionOutcome.EXPIRED
    with approving.sessions() as session, session.begin():
        swept = expire_approvals(session, now=late)
    assert [(f.step, f.event) for f in swept.follow_ups] == [(Step.NOTIFY, StageEvent.EXPIRED)]
    assert failure_state(approving, approval.failure_id) is FailureState.EXPIRED
    after = decide(approving, approval)
    assert after.outcome is DecisionOutcome.EXPIRED
    assert "expired" in after.message
    assert failure_state(approving, approval.failure_id) is FailureState.EXPIRED


def test_the_cli_decides_as_the_operating_system_user_on_behalf_of_a_name(
    approving: Services, sandbox: GitHubSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ci_remediator import cli

    approval = awaiting_approval(approving, sandbox)
    monkeypatch.setattr(cli, "_config_or_exit", lambda: approving.config)
    runner = CliRunner(env={"COLUMNS": "200"})
    listed = runner.invoke(cli.app, ["approvals", "list"])
    assert listed.exit_code == 0, listed.output
    assert PAYMENTS in listed.output
    approved = runner.invoke(cli.app, ["approvals", "approve", str(approval.id), "--as", "alice"])
    assert approved.exit_code == 0, approved.output
    with approving.sessions() as session:
        stored = session.get(ApprovalRequest, approval.id)
        assert stored is not None
        assert (stored.decided_by, stored.on_behalf_of, stored.decided_via) == (
            OPERATOR,
            "alice",
            "cli",
        )
    again = runner.invoke(cli.app, ["approvals", "reject", str(approval.id), "--reason", "x"])
    assert again.exit_code == 1
    assert "already approved" in again.output


def test_the_cli_refuses_an_operator_who_is_not_an_approver(
    approving: Services, sandbox: GitHubSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ci_remediator import cli

    approval = awaiting_approval(approving, sandbox)
    monkeypatch.setattr(getpass, "getuser", lambda: "mallory")
    monkeypatch.setattr(cli, "_config_or_exit", lambda: approving.config)
    refused = CliRunner().invoke(
        cli.app, ["approvals", "approve", str(approval.id), "--as", APPROVER]
    )
    assert refused.exit_code == 1
    assert "mallory is not an approver" in refused.output
    assert failure_state(approving, approval.failure_id) is FailureState.AWAITING_APPROVAL


def test_an_approval_leads_to_exactly_one_rerun_on_a_real_worker(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    from workers.app import app
    from workers.base import send_follow_ups
    from workers.embedded import running_worker

    approval = awaiting_approval(approving, sandbox)
    with running_worker(app, concurrency=2):
        result = decide(approving, approval)
        send_follow_ups(app, result.follow_ups)
        send_follow_ups(app, result.follow_ups)  # a redelivered message on top
        assert wait_until(
            lambda: failure_state(approving, approval.failure_id) is FailureState.RESOLVED,
            timeout_s=30,
        )
    with approving.sessions() as session:
        failure = session.get(Failure, approval.failure_id)
        assert failure is not None
        run_id = failure.run_id
    assert sandbox.count("POST", rf".*/runs/{run_id}/rerun-failed-jobs") == 1


def test_a_decision_on_a_request_that_does_not_exist_is_refused_named_and_audited(
    approving: Services,
) -> None:
    long_name = "U" + "x" * 150
    with approving.sessions() as session, session.begin():
        result = decide_approval(
            session,
            approval_id=987654,
            decision=Decision.APPROVE,
            decided_by=long_name,
            via="cli",
            config=approving.config,
        )
    assert result.outcome is DecisionOutcome.UNKNOWN_REQUEST
    assert result.message == "there is no approval request 987654"
    assert result.failure_id is None
    with approving.sessions() as session:
        (entry,) = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "decision_refused")
        )
        assert entry.actor == f"human:{long_name[:80]}"
        assert entry.failure_id is None
        assert entry.outcome == "failure"
        assert entry.detail == {"reason": "unknown_request", "via": "cli", "user": long_name[:100]}


def _waiting_for_a_lock(services: Services) -> bool:
    with services.sessions() as session:
        return bool(
            session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def test_a_click_racing_the_expiry_sweep_waits_for_it_and_is_refused_as_expired(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    click_at = approval.expires_at - timedelta(seconds=1)
    results: list[Any] = []
    with approving.sessions() as sweep, sweep.begin():
        swept = expire_approvals(sweep, now=approval.expires_at + timedelta(seconds=1))
        assert [f.event for f in swept.follow_ups] == [StageEvent.EXPIRED]
        sweep.flush()
        # A click a second before the timeout, while the sweep's transaction is not committed.
        click = threading.Thread(
            target=lambda: results.append(decide(approving, approval, now=click_at))
        )
        click.start()
        assert wait_until(lambda: _waiting_for_a_lock(approving), timeout_s=10)
    click.join(timeout=10)
    (result,) = results
    assert result.outcome is DecisionOutcome.EXPIRED
    assert result.message == f"this request expired at {approval.expires_at:%Y-%m-%d %H:%M} UTC"
    assert refusals(approving)[-1]["reason"] == "expired"
    assert failure_state(approving, approval.failure_id) is FailureState.EXPIRED


def test_a_click_at_the_very_moment_a_request_times_out_is_refused(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    refused = decide(approving, approval, now=approval.expires_at)
    assert refused.outcome is DecisionOutcome.EXPIRED
    assert refused.message == f"this request expired at {approval.expires_at:%Y-%m-%d %H:%M} UTC"
    assert refused.failure_id == approval.failure_id
    assert failure_state(approving, approval.failure_id) is FailureState.AWAITING_APPROVAL


def _transition_entry(services: Services, failure_id: int) -> AuditEntry:
    with services.sessions() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "transition", AuditEntry.failure_id == failure_id)
            .order_by(AuditEntry.id)
        ).all()
        return entries[-1]


def test_an_approval_is_stored_and_audited_with_who_when_how_and_on_whose_behalf(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    at = approval.requested_at + timedelta(minutes=5)
    behalf, reason = "alice-" + "a" * 150, "the cache is warm again; " * 100
    result = decide(
        approving,
        approval,
        decided_by=OPERATOR,
        via="cli",
        on_behalf_of=behalf,
        reason=reason,
        now=at,
    )
    assert result.outcome is DecisionOutcome.APPROVED
    assert result.changed
    assert result.message == f"approved by {OPERATOR}"
    assert (result.failure_id, result.memory_id) == (approval.failure_id, None)
    assert [(f.step, f.failure_id, f.event) for f in result.follow_ups] == [
        (Step.EXECUTE, approval.failure_id, None),
        (Step.NOTIFY, approval.failure_id, StageEvent.REMEDIATION_STARTED),
    ]
    with approving.sessions() as session:
        stored = session.get(ApprovalRequest, approval.id)
        remediation = session.scalar(
            select(Remediation).where(Remediation.failure_id == approval.failure_id)
        )
    assert stored is not None
    assert (
        stored.status,
        stored.decided_by,
        stored.decided_at,
        stored.decided_via,
        stored.on_behalf_of,
        stored.decision_reason,
    ) == (ApprovalStatus.APPROVED, OPERATOR, at, "cli", behalf[:100], reason[:2000])
    assert remediation is not None
    assert (remediation.action, remediation.parameters, remediation.approved_by) == (
        approval.action,
        approval.parameters,
        OPERATOR,
    )
    entry = _transition_entry(approving, approval.failure_id)
    assert (entry.actor, entry.from_state, entry.to_state, entry.detail) == (
        f"human:{OPERATOR}",
        "awaiting_approval",
        "executing",
        {
            "decision": "approve",
            "via": "cli",
            "approval_id": approval.id,
            "on_behalf_of": behalf[:100],
        },
    )


@pytest.mark.parametrize("reason", [None, "deploy freeze until the release is out; " * 60])
def test_a_rejection_is_stored_and_audited_with_its_reason_cut_to_size(
    approving: Services, sandbox: GitHubSandbox, reason: str | None
) -> None:
    approval = awaiting_approval(approving, sandbox)
    result = decide(approving, approval, decision=Decision.REJECT, reason=reason)
    assert result.outcome is DecisionOutcome.REJECTED
    assert result.changed
    assert result.message == f"rejected by {APPROVER}"
    assert (result.failure_id, result.memory_id) == (approval.failure_id, None)
    with approving.sessions() as session:
        stored = session.get(ApprovalRequest, approval.id)
        opened = session.scalar(
            select(func.count(Remediation.id)).where(Remediation.failure_id == approval.failure_id)
        )
    assert stored is not None
    assert (stored.decided_by, stored.decided_via, stored.on_behalf_of) == (APPROVER, "slack", None)
    assert stored.decision_reason == (reason[:2000] if reason else None)
    assert opened == 0
    entry = _transition_entry(approving, approval.failure_id)
    detail = {"decision": "reject", "via": "slack", "approval_id": approval.id}
    assert (entry.actor, entry.to_state, entry.detail) == (
        f"human:{APPROVER}",
        "rejected",
        {**detail, "reason": reason[:500]} if reason else detail,
    )


def test_a_refusal_names_the_clicker_and_the_repository_and_a_second_click_who_decided_when(
    approving: Services, sandbox: GitHubSandbox
) -> None:
    approval = awaiting_approval(approving, sandbox)
    intruder = "U" + "9" * 120
    refused = decide(approving, approval, decided_by=intruder, via="cli")
    assert refused.outcome is DecisionOutcome.NOT_AN_APPROVER
    assert not refused.changed
    assert refused.message == f"{intruder} is not an approver for {PAYMENTS}; nothing changed"
    at = approval.requested_at + timedelta(minutes=7)
    decide(approving, approval, decision=Decision.REJECT, now=at)
    again = decide(approving, approval, decided_by=OPERATOR)
    assert again.outcome is DecisionOutcome.ALREADY_DECIDED
    assert again.message == f"already rejected by {APPROVER} at {at:%Y-%m-%d %H:%M} UTC"
    assert again.failure_id == approval.failure_id
    with approving.sessions() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "decision_refused")
            .order_by(AuditEntry.id)
        ).all()
    assert [(e.actor, e.failure_id, e.outcome, e.detail) for e in entries] == [
        (
            f"human:{intruder[:80]}",
            approval.failure_id,
            "failure",
            {
                "reason": "not_an_approver",
                "via": "cli",
                "user": intruder[:100],
                "approval_id": approval.id,
            },
        ),
        (
            f"human:{OPERATOR}",
            approval.failure_id,
            "failure",
            {
                "reason": "already_decided",
                "via": "slack",
                "user": OPERATOR,
                "approval_id": approval.id,
            },
        ),
    ]


def _embedded_request(
    tmp_path: Path, approvers: list[str]
) -> tuple[sessionmaker[Session], AppConfig, int, int, datetime]:
    """The embedded store (SQLite, the default's own store) with one pending request."""
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    migrate.upgrade(url)
    sessions = session_factory(url)
    file = FileConfig.model_validate({**DEMO_CONFIG, "approvers": approvers})
    config = AppConfig(settings=Settings(), file=file)
    at = utcnow()
    with sessions() as session, session.begin():
        failure = Failure(
            repository=WEB,
            run_id=1,
            run_attempt=1,
            workflow_name="CI",
            workflow_id=1,
            event="push",
            head_branch="main",
            head_sha="0" * 40,
            html_url=f"https://github.com/{WEB}/actions/runs/1",
            run_created_at=at,
            source=DetectionSource.POLL,
            state=FailureState.AWAITING_APPROVAL,
        )
        session.add(failure)
        session.flush()
        approval = ApprovalRequest(
            failure_id=failure.id,
            action=ActionKind.RERUN_FAILED_JOBS,
            expires_at=at + timedelta(hours=1),
        )
        session.add(approval)
    return sessions, config, failure.id, approval.id, at


def test_on_the_embedded_store_a_click_that_loses_the_race_finds_the_request_decided(
    tmp_path: Path,
) -> None:
    """SQLite ignores FOR UPDATE: there, the guarded update is what makes a second click lose."""
    sessions, config, failure_id, approval_id, at = _embedded_request(
        tmp_path, [APPROVER, OPERATOR]
    )

    def click(user: str, decision: Decision) -> Any:
        with sessions() as session, session.begin():
            return decide_approval(
                session,
                approval_id=approval_id,
                decision=decision,
                decided_by=user,
                via="slack",
                config=config,
                now=at,
            )

    first: list[Any] = []

    def the_other_click_commits_first(*args: Any) -> None:
        # Right before the slower click's UPDATE: it read the request as pending already.
        if args[2].lstrip().startswith("UPDATE approval_requests") and not first:
            first.append(None)
            other = threading.Thread(target=lambda: first.append(click(OPERATOR, Decision.REJECT)))
            other.start()
            other.join()

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", the_other_click_commits_first)
    try:
        late = click(APPROVER, Decision.APPROVE)
    finally:
        event.remove(engine, "before_cursor_execute", the_other_click_commits_first)
    assert first[1].outcome is DecisionOutcome.REJECTED
    assert late.outcome is DecisionOutcome.ALREADY_DECIDED
    assert late.message == f"already rejected by {OPERATOR} at {at:%Y-%m-%d %H:%M} UTC"
    assert (late.failure_id, late.follow_ups) == (failure_id, ())
    with sessions() as session:
        stored = session.get(ApprovalRequest, approval_id)
        state = session.get(Failure, failure_id)
        refusal = session.scalar(select(AuditEntry).where(AuditEntry.action == "decision_refused"))
        opened = session.scalar(select(func.count(Remediation.id)))
    assert stored is not None
    assert state is not None
    assert (stored.status, stored.decided_by) == (ApprovalStatus.REJECTED, OPERATOR)
    assert state.state is FailureState.REJECTED
    assert opened == 0
    assert refusal is not None
    assert (refusal.actor, refusal.failure_id, refusal.detail) == (
        f"human:{APPROVER}",
        failure_id,
        {
            "reason": "already_decided",
            "via": "slack",
            "user": APPROVER,
            "approval_id": approval_id,
        },
    )


def test_on_the_embedded_store_a_long_approver_name_is_stored_cut_to_its_column(
    tmp_path: Path,
) -> None:
    """SQLite does not enforce a column's length: the cut to 100 characters is the code's."""
    name = "approver-" + "n" * 150
    sessions, config, failure_id, approval_id, at = _embedded_request(tmp_path, [name])
    with sessions() as session, session.begin():
        result = decide_approval(
            session,
            approval_id=approval_id,
            decision=Decision.REJECT,
            decided_by=name,
            via="cli",
            config=config,
            now=at,
        )
    assert (result.outcome, result.failure_id) == (DecisionOutcome.REJECTED, failure_id)
    with sessions() as session:
        stored = session.get(ApprovalRequest, approval_id)
    assert stored is not None
    assert stored.decided_by == name[:100]
