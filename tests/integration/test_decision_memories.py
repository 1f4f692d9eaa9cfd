"""Remembered decisions on the real stack: "Approve and always" makes the next identical failure
run without asking, revoking it makes it ask again; "Reject and never ask" closes the next one
unasked; neither is offered, nor accepted when forged, for a protected repository."""

from __future__ import annotations

import getpass
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
import redis
from sqlalchemy import Engine, delete, func, select
from typer.testing import CliRunner

from ci_remediator import cli
from ci_remediator.config import AppConfig
from ci_remediator.db.models import (
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    DecisionMemory,
    Failure,
    GateDecision,
)
from ci_remediator.domain import Decision, FailureState, FollowUp, Verdict
from ci_remediator.pipeline.decide import DecisionOutcome, DecisionResult, decide_approval
from ci_remediator.pipeline.detect import follow_ups_for_new_failure
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import PAYMENTS, WEB, demo_log
from ci_remediator.sandbox.slack import BOT_TOKEN, SlackSandbox
from ci_remediator.sandbox.slack_actions import ButtonClick, InteractivitySender
from ci_remediator.services import Services, set_services
from ci_remediator.slack.blocks import ActionId
from tests.integration.conftest import (
    SLACK_APPROVER,
    SLACK_SIGNING_SECRET,
    record_sandbox_failure,
    services_on_slack,
    wait_until,
)
from tests.integration.webhook_server import serving_web_app

APPROVALS = "ci-cd-approvals"
OPERATOR = getpass.getuser()


@pytest.fixture
def remembering(
    sandbox: GitHubSandbox, slack: SlackSandbox, committed_db: Engine, redis_client: redis.Redis
) -> Iterator[Services]:
    """Every failure of acme/web needs approval (threshold 0) and memories are allowed."""
    services = services_on_slack(
        sandbox,
        slack,
        risk_threshold=0,
        approvers=[SLACK_APPROVER, OPERATOR],
        allow_trust_memory=True,
        trust_memory_days=3,
    )
    set_services(services)
    yield services
    set_services(None)
    redis_client.flushdb()


def _state(services: Services, failure_id: int) -> FailureState:
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure is not None
        return failure.state


def _buttons(message: object) -> set[str]:
    return {
        element["action_id"]
        for block in message.blocks  # type: ignore[attr-defined]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def _gated(services: Services, sandbox: GitHubSandbox, repository: str = WEB) -> int:
    """A network blip, recorded, analyzed and gated in this process."""
    from workers.tasks import analyze, gate

    with services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(
            session, services, sandbox, repository=repository, log_text=demo_log("network_blip.log")
        )
    analyze(failure_id=failure_id)
    gate(failure_id=failure_id)
    return failure_id


def _approval(services: Services, failure_id: int) -> ApprovalRequest:
    with services.sessions() as session:
        approval = session.scalar(
            select(ApprovalRequest).where(ApprovalRequest.failure_id == failure_id)
        )
        assert approval is not None
        session.expunge(approval)
        return approval


def test_approve_and_always_runs_the_next_identical_failure_unasked_until_revoked(
    remembering: Services,
    sandbox: GitHubSandbox,
    slack: SlackSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workers.app import app
    from workers.base import send_follow_ups
    from workers.embedded import running_worker

    def enqueue(follow_ups: Sequence[FollowUp]) -> None:
        send_follow_ups(app, follow_ups)

    def new_failure() -> int:
        with remembering.sessions() as session, session.begin():
            failure_id = record_sandbox_failure(
                session,
                remembering,
                sandbox,
                log_text=demo_log("network_blip.log"),
                rerun_conclusions=("success",),
            )
            follow_ups = list(follow_ups_for_new_failure(session, failure_id))
        send_follow_ups(app, follow_ups)
        return failure_id

    monkeypatch.setattr(cli, "_config_or_exit", lambda: remembering.config)
    with (
        running_worker(app, concurrency=4),
        serving_web_app(remembering, enqueue) as base_url,
        InteractivitySender(f"{base_url}/slack/events", SLACK_SIGNING_SECRET) as clicks,
    ):
        first = new_failure()
        assert wait_until(lambda: len(slack.messages(APPROVALS)) == 1, timeout_s=30)
        (request,) = slack.messages(APPROVALS)
        assert _buttons(request) == {action.value for action in ActionId}
        always = ButtonClick.on(
            request,
            user_id=SLACK_APPROVER,
            action_id=ActionId.APPROVE_ALWAYS.value,
            channel_name=APPROVALS,
        )
        assert clicks.click(always).status_code == 200
        assert wait_until(lambda: _state(remembering, first) is FailureState.RESOLVED, timeout_s=40)

        second = new_failure()
        assert wait_until(
            lambda: _state(remembering, second) is FailureState.RESOLVED, timeout_s=40
        )
        assert len(slack.messages(APPROVALS)) == 1  # the second one was never asked about

        listed = CliRunner(env={"COLUMNS": "200"}).invoke(cli.app, ["memories", "list"])
        assert listed.exit_code == 0, listed.output
        with remembering.sessions() as session:
            (memory,) = session.scalars(select(DecisionMemory)).all()
            second_gate = session.scalar(
                select(GateDecision).where(GateDecision.failure_id == second)
            )
            assert second_gate is not None
            applied = session.scalar(
                select(func.count(AuditEntry.id)).where(
                    AuditEntry.action == "memory_applied", AuditEntry.failure_id == second
                )
            )
        assert f"│ {memory.id} " in listed.output
        assert (memory.decision, memory.decided_by, memory.repository) == (
            Decision.APPROVE,
            SLACK_APPROVER,
            WEB,
        )
        assert (memory.expires_at - memory.created_at).days == 3
        assert second_gate.verdict is Verdict.AUTO
        assert f"remembered approval #{memory.id}" in second_gate.reasons[0]
        assert applied == 1

        revoked = CliRunner().invoke(cli.app, ["memories", "revoke", str(memory.id)])
        assert revoked.exit_code == 0, revoked.output
        third = new_failure()
        assert wait_until(lambda: len(slack.messages(APPROVALS)) == 2, timeout_s=30)
        assert wait_until(
            lambda: _state(remembering, third) is FailureState.AWAITING_APPROVAL, timeout_s=10
        )
        again = CliRunner().invoke(cli.app, ["memories", "revoke", str(memory.id)])
        assert again.exit_code == 1
        assert "no memory" in again.output

    with remembering.sessions() as session:
        runs = {
            failure_id: session.get(Failure, failure_id).run_id  # type: ignore[union-attr]
            for failure_id in (first, second, third)
        }
        revocations = session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "memory_revoked")
        )
    assert [sandbox.count("POST", rf".*/runs/{runs[f]}/rerun-failed-jobs") for f in runs] == [
        1,
        1,
        0,
    ]
    assert revocations == 1


def test_reject_and_never_ask_closes_the_next_identical_failure_without_asking(
    remembering: Services, sandbox: GitHubSandbox
) -> None:
    first = _gated(remembering, sandbox)
    approval = _approval(remembering, first)
    assert approval.memory_days == 3
    with remembering.sessions() as session, session.begin():
        result = decide_approval(
            session,
            approval_id=approval.id,
            decision=Decision.REJECT,
            decided_by=SLACK_APPROVER,
            via="slack",
            config=remembering.config,
            remember=True,
        )
    assert result.outcome is DecisionOutcome.REJECTED
    assert "not asked about again" in result.message

    second = _gated(remembering, sandbox)
    assert _state(remembering, second) is FailureState.ESCALATED
    with remembering.sessions() as session:
        gate = session.scalar(select(GateDecision).where(GateDecision.failure_id == second))
        asked = session.scalar(
            select(func.count(ApprovalRequest.id)).where(ApprovalRequest.failure_id == second)
        )
    assert gate is not None
    assert gate.verdict is Verdict.BLOCKED
    assert f"remembered rejection #{result.memory_id}" in gate.reasons[0]
    assert asked == 0


def test_turning_allow_trust_memory_off_stops_every_memory_at_once(
    remembering: Services, sandbox: GitHubSandbox
) -> None:
    first = _gated(remembering, sandbox)
    with remembering.sessions() as session, session.begin():
        decide_approval(
            session,
            approval_id=_approval(remembering, first).id,
            decision=Decision.APPROVE,
            decided_by=SLACK_APPROVER,
            via="slack",
            config=remembering.config,
            remember=True,
        )
    file = remembering.config.file.model_copy(update={"allow_trust_memory": False})
    strict = Services(AppConfig(settings=remembering.config.settings, file=file))
    set_services(strict)
    second = _gated(strict, sandbox)
    assert _state(strict, second) is FailureState.AWAITING_APPROVAL
    assert _approval(strict, second).memory_days is None


def test_a_protected_repository_is_never_offered_memory_and_a_forged_always_click_changes_nothing(
    remembering: Services, sandbox: GitHubSandbox, slack: SlackSandbox
) -> None:
    failure_id = _gated(remembering, sandbox, repository=PAYMENTS)
    approval = _approval(remembering, failure_id)
    assert approval.memory_days is None
    from slack_sdk import WebClient

    from ci_remediator.slack.blocks import approval_request_blocks

    # A message that offers what the gate did not: the server decides, not the buttons.
    forged = WebClient(token=BOT_TOKEN, base_url=slack.api_url).chat_postMessage(
        channel=APPROVALS,
        text="Approval needed",
        blocks=approval_request_blocks(
            approval_id=approval.id, title="Approval needed", facts=[], memory_days=90
        ),
    )
    message = slack.message(APPROVALS, str(forged["ts"]))
    with (
        serving_web_app(remembering, lambda follow_ups: None) as base_url,
        InteractivitySender(f"{base_url}/slack/events", SLACK_SIGNING_SECRET) as clicks,
    ):
        click = ButtonClick.on(
            message,
            user_id=SLACK_APPROVER,
            action_id=ActionId.APPROVE_ALWAYS.value,
            channel_name=APPROVALS,
        )
        assert clicks.click(click).status_code == 200
        assert wait_until(lambda: bool(slack.ephemerals(APPROVALS)), timeout_s=10)
    assert _state(remembering, failure_id) is FailureState.AWAITING_APPROVAL
    with remembering.sessions() as session:
        memories = session.scalar(select(func.count(DecisionMemory.id)))
        refusal = session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "decision_refused", AuditEntry.failure_id == failure_id
            )
        )
    assert memories == 0
    assert refusal is not None
    assert refusal.detail["reason"] == DecisionOutcome.NOT_REMEMBERABLE
    assert "cannot be remembered" in slack.ephemerals(APPROVALS)[-1].text


def test_an_expired_memory_is_not_applied(remembering: Services, sandbox: GitHubSandbox) -> None:
    from ci_remediator.db.base import utcnow
    from ci_remediator.db.decision_memories import remember_decision
    from ci_remediator.domain import ActionKind

    first = _gated(remembering, sandbox)
    with remembering.sessions() as session, session.begin():
        fingerprint = session.scalar(
            select(Failure).where(Failure.id == first)
        ).analysis.fingerprint  # type: ignore[union-attr]
        assert fingerprint
        remember_decision(
            session,
            repository=WEB,
            fingerprint=fingerprint,
            action=ActionKind.RERUN_FAILED_JOBS,
            decision=Decision.APPROVE,
            decided_by=SLACK_APPROVER,
            via="slack",
            days=3,
            approved_risk=10,
            approval_id=None,
            failure_id=first,
            now=utcnow() - timedelta(days=3, minutes=1),
        )
    second = _gated(remembering, sandbox)
    assert _state(remembering, second) is FailureState.AWAITING_APPROVAL


def _decided(services: Services, approval_id: int, **options: object) -> DecisionResult:
    options.setdefault("decision", Decision.APPROVE)
    options.setdefault("decided_by", SLACK_APPROVER)
    options.setdefault("via", "slack")
    with services.sessions() as session, session.begin():
        return decide_approval(
            session,
            approval_id=approval_id,
            config=services.config,
            **options,  # type: ignore[arg-type]
        )


def _reconfigured(services: Services, **update: object) -> Services:
    """The same services after an operator changed config.json."""
    file = services.config.file.model_copy(update=update)
    return Services(AppConfig(settings=services.config.settings, file=file))


def _memories(services: Services) -> list[DecisionMemory]:
    with services.sessions() as session:
        return list(session.scalars(select(DecisionMemory)))


@pytest.mark.parametrize(
    "change",
    [{"allow_trust_memory": False}, {"protected_repositories": [PAYMENTS, WEB]}],
    ids=["memory-turned-off", "repository-now-protected"],
)
def test_an_always_click_on_a_request_that_offered_memory_is_refused_once_the_repository_no_longer_allows_it(  # noqa: E501
    remembering: Services, sandbox: GitHubSandbox, change: dict[str, object]
) -> None:
    failure_id = _gated(remembering, sandbox)
    approval = _approval(remembering, failure_id)
    assert approval.memory_days == 3
    changed = _reconfigured(remembering, **change)
    refused = _decided(changed, approval.id, remember=True)
    assert refused.outcome is DecisionOutcome.NOT_REMEMBERABLE
    assert refused.message == (
        "this request cannot be remembered (protected repository, sensitive run, or "
        "allow_trust_memory is off); decide it once instead. Nothing changed"
    )
    assert (refused.follow_ups, refused.memory_id) == ((), None)
    assert _state(remembering, failure_id) is FailureState.AWAITING_APPROVAL
    assert _memories(remembering) == []
    with remembering.sessions() as session:
        refusal = session.scalar(select(AuditEntry).where(AuditEntry.action == "decision_refused"))
    assert refusal is not None
    assert refusal.detail["reason"] == DecisionOutcome.NOT_REMEMBERABLE.value
    # Decided once, it is decided.
    assert _decided(changed, approval.id).outcome is DecisionOutcome.APPROVED


@pytest.mark.parametrize(
    "case",
    [
        (Decision.APPROVE, OPERATOR, "cli", 2),
        (Decision.REJECT, SLACK_APPROVER, "slack", 30),
    ],
)
def test_a_remembered_decision_stores_who_how_which_request_and_no_more_days_than_both_allow(
    remembering: Services, sandbox: GitHubSandbox, case: tuple[Decision, str, str, int]
) -> None:
    decision, decided_by, via, allowed_days = case
    failure_id = _gated(remembering, sandbox)
    approval = _approval(remembering, failure_id)
    assert approval.memory_days is not None
    # The repository now allows `allowed_days`: fewer than the request offered, or more.
    changed = _reconfigured(remembering, trust_memory_days=allowed_days)
    result = _decided(
        changed, approval.id, decision=decision, decided_by=decided_by, via=via, remember=True
    )
    with remembering.sessions() as session:
        (memory,) = session.scalars(select(DecisionMemory))
        failure = session.get(Failure, failure_id)
        gate = session.scalar(select(GateDecision).where(GateDecision.failure_id == failure_id))
        created = session.scalar(select(AuditEntry).where(AuditEntry.action == "memory_created"))
        assert failure is not None
        assert failure.analysis is not None
        assert gate is not None
        fingerprint, risk = failure.analysis.fingerprint, gate.effective_risk
    assert result.memory_id == memory.id
    assert (
        memory.repository,
        memory.fingerprint,
        memory.action,
        memory.decision,
        memory.decided_by,
        memory.decided_via,
        memory.approved_risk,
        memory.approval_id,
    ) == (WEB, fingerprint, approval.action, decision, decided_by, via, risk, approval.id)
    days = min(approval.memory_days, allowed_days)
    assert memory.expires_at - memory.created_at == timedelta(days=days)
    assert created is not None
    assert created.failure_id == failure_id
    until = f"{memory.expires_at:%Y-%m-%d}"
    assert result.message == (
        f"approved by {decided_by}; the same failure is approved without asking until {until}"
        if decision is Decision.APPROVE
        else f"rejected by {decided_by}; the same failure is not asked about again until {until}"
    )


@pytest.mark.parametrize("missing", ["fingerprint", "gate decision"])
def test_an_always_click_whose_failure_lacks_what_a_memory_needs_is_an_error_that_changes_nothing(
    remembering: Services, sandbox: GitHubSandbox, missing: str
) -> None:
    failure_id = _gated(remembering, sandbox)
    approval = _approval(remembering, failure_id)
    assert approval.memory_days == 3
    with remembering.sessions() as session, session.begin():
        if missing == "fingerprint":
            failure = session.get(Failure, failure_id)
            assert failure is not None
            assert failure.analysis is not None
            failure.analysis.fingerprint = ""
        else:
            session.execute(delete(GateDecision).where(GateDecision.failure_id == failure_id))
    with pytest.raises(LookupError, match=rf"^approval request {approval.id} offered no memory$"):
        _decided(remembering, approval.id, remember=True)
    assert _state(remembering, failure_id) is FailureState.AWAITING_APPROVAL
    assert _memories(remembering) == []
    assert _approval(remembering, failure_id).status is ApprovalStatus.PENDING
