"""Approval requests as people list them (the CLI, the dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.models import ApprovalRequest, ApprovalStatus, Failure


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    id: int
    failure_id: int
    repository: str
    workflow_name: str
    run_id: int
    run_attempt: int
    action: str
    status: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None


def list_approvals(session: Session, *, pending_only: bool = True) -> Sequence[ApprovalRow]:
    statement = (
        select(ApprovalRequest, Failure)
        .join(Failure, ApprovalRequest.failure_id == Failure.id)
        .order_by(ApprovalRequest.requested_at, ApprovalRequest.id)
    )
    if pending_only:
        statement = statement.where(ApprovalRequest.status == ApprovalStatus.PENDING)
    return [
        ApprovalRow(
            id=approval.id,
            failure_id=failure.id,
            repository=failure.repository,
            workflow_name=failure.workflow_name,
            run_id=failure.run_id,
            run_attempt=failure.run_attempt,
            action=approval.action.value,
            status=approval.status.value,
            requested_at=approval.requested_at,
            expires_at=approval.expires_at,
            decided_by=approval.decided_by,
        )
        for approval, failure in session.execute(statement).all()
    ]
