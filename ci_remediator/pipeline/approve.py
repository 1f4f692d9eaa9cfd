"""The request-approval step: announce the request the gate opened, once (a human decides it;
Slack and the CLI come next)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import ApprovalRequest, ApprovalStatus, Failure
from ci_remediator.db.notices import notice
from ci_remediator.domain import NOTHING_TO_DO, FailureState, StageEvent, StepResult


def request_approval(session: Session, *, failure_id: int) -> StepResult:
    """Mark the pending request as announced and send the approval notification once."""
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.AWAITING_APPROVAL:
        return NOTHING_TO_DO
    approval = session.scalar(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.failure_id == failure_id,
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalRequest.notified_at.is_(None),
        )
        .with_for_update(skip_locked=True)
    )
    if approval is None:
        return NOTHING_TO_DO
    approval.notified_at = utcnow()
    record_audit(
        session,
        actor="approvals",
        action="approval_requested",
        failure_id=failure_id,
        detail={"action": approval.action.value, "expires_at": approval.expires_at.isoformat()},
    )
    return StepResult((notice(session, failure_id, StageEvent.APPROVAL_REQUESTED),))
