"""The expire step (beat, every minute): pending approvals past their deadline expire.

The failure moves to `expired` (terminal: a human must look) and the notice goes to the
critical channel. A click that arrives later is refused by the decide step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.base import utcnow
from ci_remediator.db.models import ApprovalRequest, ApprovalStatus
from ci_remediator.db.notices import notice
from ci_remediator.db.transitions import transition
from ci_remediator.domain import FailureState, FollowUp, StageEvent, StepResult

ACTOR = "approval_timeout"


def expire_approvals(
    session: Session, *, now: datetime | None = None, limit: int = 500
) -> StepResult:
    now = now or utcnow()
    due = session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.expires_at <= now)
        .order_by(ApprovalRequest.expires_at)
        .limit(limit)
        # Two sweeps at once take different rows; a click being decided holds its row.
        .with_for_update(skip_locked=True)
    ).all()
    follow_ups: list[FollowUp] = []
    for approval in due:
        approval.status = ApprovalStatus.EXPIRED
        approval.decided_at = now
        moved = transition(
            session,
            failure_id=approval.failure_id,
            expected=FailureState.AWAITING_APPROVAL,
            to=FailureState.EXPIRED,
            actor=ACTOR,
            detail={
                "approval_id": approval.id,
                "expires_at": approval.expires_at.isoformat(),
            },
        )
        if moved is not None:
            follow_ups.append(notice(session, approval.failure_id, StageEvent.EXPIRED))
    return StepResult(tuple(follow_ups))
