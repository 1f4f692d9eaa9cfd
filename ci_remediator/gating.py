"""The gate step: count history, ask the pure safety gate, record its verdict and act on it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ci_remediator.actions.catalog import action_spec
from ci_remediator.config import AppConfig
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    Failure,
    GateDecision,
    Remediation,
)
from ci_remediator.domain import (
    ActionKind,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
    Verdict,
)
from ci_remediator.lifecycle import require_transition
from ci_remediator.safety import AutoHistory, GateInput, RunContext, evaluate_gate

ACTOR = "safety_gate"


def count_auto_history(session: Session, *, failure: Failure, now: datetime) -> AutoHistory:
    automatic = Remediation.approved_by.is_(None)
    on_run = session.scalar(
        select(func.count(Remediation.id)).where(
            automatic,
            Remediation.repository == failure.repository,
            Remediation.run_id == failure.run_id,
        )
    )
    on_workflow_today = session.scalar(
        select(func.count(Remediation.id))
        .join(Failure, Remediation.failure_id == Failure.id)
        .where(
            automatic,
            Failure.repository == failure.repository,
            Failure.workflow_id == failure.workflow_id,
            Remediation.created_at >= now - timedelta(days=1),
        )
    )
    last_hour = session.scalar(
        select(func.count(Remediation.id)).where(
            automatic, Remediation.created_at >= now - timedelta(hours=1)
        )
    )
    return AutoHistory(
        on_this_run=on_run or 0,
        on_this_workflow_today=on_workflow_today or 0,
        organization_last_hour=last_hour or 0,
    )


def open_remediation(
    session: Session, *, failure: Failure, action: ActionKind, approved_by: str | None = None
) -> Remediation:
    """The remediation row, committed with the move into `executing` before GitHub is called."""
    remediation = Remediation(
        failure_id=failure.id,
        action=action,
        repository=failure.repository,
        run_id=failure.run_id,
        target_attempt=failure.run_attempt + 1,
        approved_by=approved_by,
    )
    session.add(remediation)
    return remediation


def gate_failure(session: Session, *, failure_id: int, config: AppConfig) -> list[FollowUp]:
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.ANALYZED:
        return []
    analysis = session.scalar(select(Analysis).where(Analysis.failure_id == failure_id))
    if analysis is None:
        raise LookupError(f"failure {failure_id} is analyzed but has no analysis row")
    now = utcnow()
    action = action_spec(analysis.proposed_action)
    decision = evaluate_gate(
        GateInput(
            model_risk=analysis.risk_score,
            rules_risk=analysis.rules_risk_score,
            policy=config.policy_for(failure.repository),
            action=action,
            run=RunContext(
                workflow_name=failure.workflow_name,
                event=failure.event,
                head_branch=failure.head_branch,
            ),
            history=count_auto_history(session, failure=failure, now=now),
            max_auto_per_hour=config.file.max_auto_per_hour,
        )
    )
    session.add(
        GateDecision(
            failure_id=failure_id,
            verdict=decision.verdict,
            action=action.kind,
            effective_risk=decision.effective_risk,
            reasons=list(decision.reasons),
        )
    )
    detail = {
        "verdict": decision.verdict.value,
        "effective_risk": decision.effective_risk,
        "reasons": list(decision.reasons),
    }
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.ANALYZED,
        to=FailureState.GATED,
        actor=ACTOR,
        detail=detail,
    )
    if decision.verdict is Verdict.AUTO:
        open_remediation(session, failure=failure, action=action.kind)
        require_transition(
            session,
            failure_id=failure_id,
            expected=FailureState.GATED,
            to=FailureState.EXECUTING,
            actor=ACTOR,
            detail={"action": action.kind.value},
        )
        return [
            FollowUp(Step.EXECUTE, failure_id),
            FollowUp(Step.NOTIFY, failure_id, event=StageEvent.REMEDIATION_STARTED),
        ]
    if decision.verdict is Verdict.NEEDS_APPROVAL:
        policy = config.policy_for(failure.repository)
        session.add(
            ApprovalRequest(
                failure_id=failure_id,
                action=action.kind,
                expires_at=now + timedelta(hours=policy.approval_timeout_hours),
            )
        )
        require_transition(
            session,
            failure_id=failure_id,
            expected=FailureState.GATED,
            to=FailureState.AWAITING_APPROVAL,
            actor=ACTOR,
            detail={"action": action.kind.value},
        )
        return [FollowUp(Step.REQUEST_APPROVAL, failure_id)]
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.GATED,
        to=FailureState.ESCALATED,
        actor=ACTOR,
        detail={"reasons": list(decision.reasons)},
    )
    return [FollowUp(Step.NOTIFY, failure_id, event=StageEvent.ESCALATED)]
