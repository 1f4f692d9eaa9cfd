"""Circuit breaker trips: tripped once per organization, standing until a human resets them.

While a trip stands the gate sees the breaker open, whatever the outcomes say since. A reset
starts the count afresh: only automatic remediations completed after it are the breaker's
input, so the same bad history cannot trip it again the moment it is reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import BreakerTrip
from ci_remediator.db.upsert import dialect_insert


def organization_of(repository: str) -> str:
    return repository.split("/", 1)[0]


def standing_trip(session: Session, organization: str) -> BreakerTrip | None:
    return session.scalar(select(BreakerTrip).where(BreakerTrip.open_key == organization))


def last_reset_at(session: Session, organization: str) -> datetime | None:
    return session.scalar(
        select(func.max(BreakerTrip.reset_at)).where(BreakerTrip.organization == organization)
    )


def trip_breaker(
    session: Session,
    *,
    organization: str,
    success_rate: float,
    window: int,
    failure_id: int | None,
) -> bool:
    """Trip the organization's breaker; True only for the call that tripped it (one alert)."""
    tripped = session.scalar(
        dialect_insert(session, BreakerTrip)
        .values(
            organization=organization,
            open_key=organization,
            tripped_at=utcnow(),
            success_rate=success_rate,
            window=window,
            failure_id=failure_id,
        )
        .on_conflict_do_nothing(index_elements=["open_key"])
        .returning(BreakerTrip.id)
    )
    if tripped is None:
        return False
    record_audit(
        session,
        actor="safety_gate",
        action="breaker_tripped",
        failure_id=failure_id,
        outcome="failure",
        detail={"organization": organization, "success_rate": success_rate, "window": window},
    )
    return True


def reset_breaker(
    session: Session, *, organization: str, reset_by: str, reason: str | None = None
) -> BreakerTrip | None:
    """Reset the standing trip, once; None when none stands (nothing changes then)."""
    trip_id = session.scalar(
        update(BreakerTrip)
        .where(BreakerTrip.open_key == organization)
        .values(
            open_key=None,
            reset_at=utcnow(),
            reset_by=reset_by[:100],
            reset_reason=reason[:2000] if reason else None,
        )
        .returning(BreakerTrip.id)
    )
    if trip_id is None:
        return None
    record_audit(
        session,
        actor=f"human:{reset_by[:80]}",
        action="breaker_reset",
        detail={"organization": organization, **({"reason": reason[:500]} if reason else {})},
    )
    return session.get(BreakerTrip, trip_id, populate_existing=True)


def list_trips(session: Session, *, standing_only: bool = False) -> Sequence[BreakerTrip]:
    statement = select(BreakerTrip).order_by(BreakerTrip.tripped_at, BreakerTrip.id)
    if standing_only:
        statement = statement.where(BreakerTrip.open_key.is_not(None))
    return session.scalars(statement).all()
