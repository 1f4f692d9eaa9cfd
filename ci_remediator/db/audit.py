"""The audit trail: one row per decision, written in the transaction that made the decision."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ci_remediator.db.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    failure_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        action=action,
        failure_id=failure_id,
        from_state=from_state,
        to_state=to_state,
        outcome=outcome,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def query_audit(
    session: Session,
    *,
    failure_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> Sequence[AuditEntry]:
    statement = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id).limit(limit)
    if failure_id is not None:
        statement = statement.where(AuditEntry.failure_id == failure_id)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    if actor is not None:
        statement = statement.where(AuditEntry.actor == actor)
    if since is not None:
        statement = statement.where(AuditEntry.at >= since)
    if until is not None:
        statement = statement.where(AuditEntry.at < until)
    return session.scalars(statement).all()


def count_audit(session: Session, *, failure_id: int, action: str) -> int:
    """How many entries of `action` the failure has."""
    return (
        session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.failure_id == failure_id, AuditEntry.action == action
            )
        )
        or 0
    )
