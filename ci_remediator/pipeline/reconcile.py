"""The reconcile sweep: Postgres is the truth, the broker may lose messages.

A failure sitting in a non-terminal state past its deadline gets the task that moves it on sent
again. Every task is idempotent, so a re-send that races a slow original is harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    ApprovalRequest,
    ApprovalStatus,
    Failure,
    Notification,
    NotificationStatus,
)
from ci_remediator.domain import FailureState, FollowUp, Step, StepResult

NEXT_STEP: dict[FailureState, Step] = {
    FailureState.DETECTED: Step.ANALYZE,
    FailureState.ANALYZING: Step.ANALYZE,
    FailureState.ANALYZED: Step.GATE,
    FailureState.EXECUTING: Step.EXECUTE,
    FailureState.VERIFYING: Step.VERIFY,
    # Left only while a rollback is owed (every other way out of it is the same transaction).
    FailureState.REMEDIATION_FAILED: Step.ROLLBACK,
    FailureState.AWAITING_APPROVAL: Step.REQUEST_APPROVAL,
}


def find_stuck_failures(
    session: Session, *, stuck_after: timedelta, now: datetime | None = None, limit: int = 500
) -> StepResult:
    now = now or utcnow()
    deadline = now - stuck_after
    # Waiting for a human is not being stuck; only an approval that was never announced is.
    never_announced = select(ApprovalRequest.failure_id).where(
        ApprovalRequest.status == ApprovalStatus.PENDING,
        ApprovalRequest.notified_at.is_(None),
    )
    moving_states = [state for state in NEXT_STEP if state is not FailureState.AWAITING_APPROVAL]
    stuck = session.scalars(
        select(Failure)
        .where(
            Failure.updated_at < deadline,
            or_(
                Failure.state.in_(moving_states),
                and_(
                    Failure.state == FailureState.AWAITING_APPROVAL,
                    Failure.id.in_(never_announced),
                ),
            ),
        )
        .order_by(Failure.updated_at)
        .limit(limit)
        # Two sweeps at once each take different rows instead of both re-sending the same.
        .with_for_update(skip_locked=True)
    ).all()
    follow_ups: list[FollowUp] = []
    for failure in stuck:
        step = NEXT_STEP[failure.state]
        failure.updated_at = now
        record_audit(
            session,
            actor="reconciler",
            action="resent",
            failure_id=failure.id,
            from_state=failure.state.value,
            detail={"step": step.value},
        )
        follow_ups.append(FollowUp(step, failure.id))
    # A notice no notify task ever tried: its message was lost (a task that is retrying a
    # notifier outage has tried, and keeps its own countdown).
    untried = session.scalars(
        select(Notification.failure_id)
        .where(
            Notification.status == NotificationStatus.PENDING,
            Notification.attempts == 0,
            Notification.created_at < deadline,
        )
        .distinct()
        .limit(limit)
    ).all()
    follow_ups.extend(FollowUp(Step.NOTIFY, failure_id) for failure_id in untried)
    return StepResult(tuple(follow_ups))
