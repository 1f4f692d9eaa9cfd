"""The decide step: a human approves or rejects a pending approval request, once.

Called by the Slack interactivity endpoint and by `ci-remediator approvals`. The clicker's
authority is checked here, on the server, against the repository's `approvers` (Slack user ids,
or operating-system user names for the CLI), whatever a message or its button said. The
decision is a guarded update (`WHERE status = 'pending'`): a double click, a second approver or
a replayed request finds it decided and changes nothing. Every refusal is audited by who and
why, never by the request's token or `response_url`.

"Approve and always" / "Reject and never ask" (`remember=True`) also store the decision for the
repository, the failure's fingerprint and the action, for the days the request offered (never
more than the repository allows now). A request that did not offer it, or a repository that no
longer allows it, refuses the whole click: nothing is decided by halves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ci_remediator.config import AppConfig
from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.decision_memories import remember_decision
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    ApprovalStatus,
    DecisionMemory,
    Failure,
    GateDecision,
)
from ci_remediator.db.notices import notice
from ci_remediator.db.transitions import require_transition
from ci_remediator.domain import Decision, FailureState, FollowUp, StageEvent, Step, StepResult
from ci_remediator.pipeline.gate import open_remediation

ACTOR = "approvals"


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    NOT_AN_APPROVER = "not_an_approver"
    ALREADY_DECIDED = "already_decided"
    EXPIRED = "expired"
    UNKNOWN_REQUEST = "unknown_request"
    NOT_REMEMBERABLE = "not_rememberable"


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionResult(StepResult):
    outcome: DecisionOutcome
    # What to tell the person who decided (an ephemeral Slack message, the CLI's answer).
    message: str
    failure_id: int | None = None
    memory_id: int | None = None

    @property
    def changed(self) -> bool:
        return self.outcome in (DecisionOutcome.APPROVED, DecisionOutcome.REJECTED)


def decide_approval(
    session: Session,
    *,
    approval_id: int,
    decision: Decision,
    decided_by: str,
    via: str,
    config: AppConfig,
    on_behalf_of: str | None = None,
    reason: str | None = None,
    remember: bool = False,
    now: datetime | None = None,
) -> DecisionResult:
    now = now or utcnow()
    approval = session.get(ApprovalRequest, approval_id, with_for_update=True)
    if approval is None:
        return _refused(
            session,
            approval=None,
            outcome=DecisionOutcome.UNKNOWN_REQUEST,
            decided_by=decided_by,
            via=via,
            message=f"there is no approval request {approval_id}",
        )
    failure = session.get(Failure, approval.failure_id)
    if failure is None:  # approval_requests.failure_id is a foreign key: cannot happen
        raise LookupError(f"approval request {approval_id} has no failure")
    refusal = _why_not(approval, failure, config=config, decided_by=decided_by, now=now)
    if refusal is None and remember:
        refusal = _why_not_remembered(approval, failure, config=config)
    if refusal is not None:
        outcome, message = refusal
        return _refused(
            session,
            approval=approval,
            outcome=outcome,
            decided_by=decided_by,
            via=via,
            message=message,
        )
    status = ApprovalStatus.APPROVED if decision is Decision.APPROVE else ApprovalStatus.REJECTED
    decided = session.execute(
        update(ApprovalRequest)
        .where(ApprovalRequest.id == approval.id, ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(
            status=status,
            decided_by=decided_by[:100],
            decided_at=now,
            decided_via=via,
            on_behalf_of=on_behalf_of[:100] if on_behalf_of else None,
            decision_reason=reason[:2000] if reason else None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if decided != 1:  # another decision committed between our read and this update
        session.refresh(approval)
        return _refused(
            session,
            approval=approval,
            outcome=DecisionOutcome.ALREADY_DECIDED,
            decided_by=decided_by,
            via=via,
            message=_already(approval),
        )
    session.refresh(approval)
    detail = {"decision": decision.value, "via": via, "approval_id": approval.id}
    if on_behalf_of:
        detail["on_behalf_of"] = on_behalf_of[:100]
    follow_ups: tuple[FollowUp, ...]
    if decision is Decision.APPROVE:
        open_remediation(
            session,
            failure=failure,
            action=approval.action,
            parameters=approval.parameters,
            approved_by=decided_by[:100],
        )
        require_transition(
            session,
            failure_id=failure.id,
            expected=FailureState.AWAITING_APPROVAL,
            to=FailureState.EXECUTING,
            actor=f"human:{decided_by[:80]}",
            detail=detail,
        )
        follow_ups = (
            FollowUp(Step.EXECUTE, failure.id),
            notice(session, failure.id, StageEvent.REMEDIATION_STARTED),
        )
        outcome, message = DecisionOutcome.APPROVED, f"approved by {decided_by}"
    else:
        require_transition(
            session,
            failure_id=failure.id,
            expected=FailureState.AWAITING_APPROVAL,
            to=FailureState.REJECTED,
            actor=f"human:{decided_by[:80]}",
            detail={**detail, **({"reason": reason[:500]} if reason else {})},
        )
        follow_ups = (notice(session, failure.id, StageEvent.REJECTED),)
        outcome, message = DecisionOutcome.REJECTED, f"rejected by {decided_by}"
    memory = (
        _remember(
            session, approval, failure, config=config, decision=decision, decided_by=decided_by
        )
        if remember
        else None
    )
    if memory is not None:
        until = f"{memory.expires_at:%Y-%m-%d}"
        message += (
            f"; the same failure is approved without asking until {until}"
            if decision is Decision.APPROVE
            else f"; the same failure is not asked about again until {until}"
        )
    return DecisionResult(
        follow_ups=follow_ups,
        outcome=outcome,
        message=message,
        failure_id=failure.id,
        memory_id=memory.id if memory is not None else None,
    )


def _why_not_remembered(
    approval: ApprovalRequest, failure: Failure, *, config: AppConfig
) -> tuple[DecisionOutcome, str] | None:
    policy = config.policy_for(failure.repository)
    if approval.memory_days is None or not policy.allow_trust_memory or policy.protected:
        return (
            DecisionOutcome.NOT_REMEMBERABLE,
            "this request cannot be remembered (protected repository, sensitive run, or "
            "allow_trust_memory is off); decide it once instead. Nothing changed",
        )
    return None


def _remember(
    session: Session,
    approval: ApprovalRequest,
    failure: Failure,
    *,
    config: AppConfig,
    decision: Decision,
    decided_by: str,
) -> DecisionMemory:
    analysis = session.scalar(select(Analysis).where(Analysis.failure_id == failure.id))
    gate = session.scalar(select(GateDecision).where(GateDecision.failure_id == failure.id))
    if analysis is None or not analysis.fingerprint or gate is None or approval.memory_days is None:
        # The gate offers memory only with all three: a request without them was forged.
        raise LookupError(f"approval request {approval.id} offered no memory")
    return remember_decision(
        session,
        repository=failure.repository,
        fingerprint=analysis.fingerprint,
        action=approval.action,
        decision=decision,
        decided_by=decided_by,
        via=approval.decided_via or "slack",
        days=min(approval.memory_days, config.policy_for(failure.repository).trust_memory_days),
        approved_risk=gate.effective_risk,
        approval_id=approval.id,
        failure_id=failure.id,
    )


def _why_not(
    approval: ApprovalRequest,
    failure: Failure,
    *,
    config: AppConfig,
    decided_by: str,
    now: datetime,
) -> tuple[DecisionOutcome, str] | None:
    """Why `decided_by` may not decide this request now; None when they may."""
    if decided_by not in config.policy_for(failure.repository).approvers:
        message = f"{decided_by} is not an approver for {failure.repository}; nothing changed"
        return DecisionOutcome.NOT_AN_APPROVER, message
    if approval.status is ApprovalStatus.EXPIRED:
        return DecisionOutcome.EXPIRED, _already(approval)
    if approval.status is not ApprovalStatus.PENDING:
        return DecisionOutcome.ALREADY_DECIDED, _already(approval)
    if now >= approval.expires_at:
        return (
            DecisionOutcome.EXPIRED,
            f"this request expired at {approval.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    return None


def _already(approval: ApprovalRequest) -> str:
    if approval.status is ApprovalStatus.EXPIRED:
        return f"this request expired at {approval.expires_at:%Y-%m-%d %H:%M} UTC"
    when = f" at {approval.decided_at:%Y-%m-%d %H:%M} UTC" if approval.decided_at else ""
    return f"already {approval.status.value} by {approval.decided_by}{when}"


def _refused(
    session: Session,
    *,
    approval: ApprovalRequest | None,
    outcome: DecisionOutcome,
    decided_by: str,
    via: str,
    message: str,
) -> DecisionResult:
    record_audit(
        session,
        actor=f"human:{decided_by[:80]}",
        action="decision_refused",
        failure_id=approval.failure_id if approval is not None else None,
        outcome="failure",
        detail={
            "reason": outcome.value,
            "via": via,
            "user": decided_by[:100],
            **({"approval_id": approval.id} if approval is not None else {}),
        },
    )
    return DecisionResult(
        outcome=outcome,
        message=message,
        failure_id=approval.failure_id if approval is not None else None,
    )
