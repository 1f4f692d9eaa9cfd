"""Remembered human decisions: written by a click, read by the gate, revoked from the CLI.

A memory is keyed by (repository, failure fingerprint, action). Every change is audited in the
transaction that makes it. Whether a memory may cover a run is the gate's call, not this
module's: here a memory is only found, made or revoked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import DecisionMemory
from ci_remediator.domain import ActionKind, Decision


def remember_decision(
    session: Session,
    *,
    repository: str,
    fingerprint: str,
    action: ActionKind,
    decision: Decision,
    decided_by: str,
    via: str,
    days: int,
    approved_risk: int,
    approval_id: int | None,
    failure_id: int | None,
    now: datetime | None = None,
) -> DecisionMemory:
    now = now or utcnow()
    memory = DecisionMemory(
        repository=repository,
        fingerprint=fingerprint,
        action=action,
        decision=decision,
        decided_by=decided_by[:100],
        decided_via=via,
        approved_risk=approved_risk,
        approval_id=approval_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(memory)
    session.flush()
    record_audit(
        session,
        actor=f"human:{decided_by[:80]}",
        action="memory_created",
        failure_id=failure_id,
        detail={
            "memory_id": memory.id,
            "repository": repository,
            "fingerprint": fingerprint,
            "action": action.value,
            "decision": decision.value,
            "via": via,
            "approved_risk": approved_risk,
            "expires_at": memory.expires_at.isoformat(),
            **({"approval_id": approval_id} if approval_id is not None else {}),
        },
    )
    return memory


def active_memory(
    session: Session,
    *,
    repository: str,
    fingerprint: str,
    action: ActionKind,
    now: datetime | None = None,
) -> DecisionMemory | None:
    """The newest unrevoked, unexpired memory for this key. A rejection and an approval both
    live: the newest decision is the one that holds."""
    return session.scalar(
        select(DecisionMemory)
        .where(
            DecisionMemory.repository == repository,
            DecisionMemory.fingerprint == fingerprint,
            DecisionMemory.action == action,
            DecisionMemory.revoked_at.is_(None),
            DecisionMemory.expires_at > (now or utcnow()),
        )
        .order_by(DecisionMemory.created_at.desc(), DecisionMemory.id.desc())
        .limit(1)
    )


def list_memories(
    session: Session, *, include_inactive: bool = False, now: datetime | None = None
) -> Sequence[DecisionMemory]:
    statement = select(DecisionMemory).order_by(DecisionMemory.created_at, DecisionMemory.id)
    if not include_inactive:
        statement = statement.where(
            DecisionMemory.revoked_at.is_(None), DecisionMemory.expires_at > (now or utcnow())
        )
    return session.scalars(statement).all()


def revoke_memory(
    session: Session,
    *,
    memory_id: int,
    revoked_by: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> DecisionMemory | None:
    """Revoke once: the memory, or None when there is no such memory or it was revoked
    already (nothing changes then)."""
    revoked = session.execute(
        update(DecisionMemory)
        .where(DecisionMemory.id == memory_id, DecisionMemory.revoked_at.is_(None))
        .values(revoked_at=now or utcnow(), revoked_by=revoked_by[:100])
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if revoked != 1:
        return None
    memory = session.get(DecisionMemory, memory_id, populate_existing=True)
    if memory is None:  # updated a moment ago in this transaction: cannot happen
        raise LookupError(f"decision memory {memory_id} vanished")
    record_audit(
        session,
        actor=f"human:{revoked_by[:80]}",
        action="memory_revoked",
        detail={
            "memory_id": memory_id,
            "repository": memory.repository,
            "action": memory.action.value,
            "decision": memory.decision.value,
            **({"reason": reason[:500]} if reason else {}),
        },
    )
    return memory
