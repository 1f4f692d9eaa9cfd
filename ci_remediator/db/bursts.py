"""Noise control: failures that repeat one fingerprint in one repository become one burst.

The first failure of a burst leads it; a repeat detected within the window of the leader is a
member (`failures.burst_of`). Members never lead, so a long storm starts a new burst once the
window since its leader has passed instead of growing one without end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.locks import lock_for_transaction
from ci_remediator.db.models import Analysis, Failure


def join_burst(
    session: Session, *, failure: Failure, fingerprint: str, window: timedelta
) -> int | None:
    """Make `failure` a member of the burst it repeats, if any; the leader's id."""
    if window <= timedelta(0) or failure.burst_of is not None:
        return None
    _serialize_joiners(session, repository=failure.repository, fingerprint=fingerprint)
    leader_id = session.scalar(
        select(Failure.id)
        .join(Analysis, Analysis.failure_id == Failure.id)
        .where(
            Failure.repository == failure.repository,
            Failure.id != failure.id,
            Failure.burst_of.is_(None),
            Analysis.fingerprint == fingerprint,
            Failure.detected_at >= failure.detected_at - window,
            Failure.detected_at <= failure.detected_at + window,
        )
        .order_by(Failure.detected_at, Failure.id)
        .limit(1)
    )
    if leader_id is not None:
        failure.burst_of = leader_id
    return leader_id


def _serialize_joiners(session: Session, *, repository: str, fingerprint: str) -> None:
    """Two repeats analyzed at the same instant would each see no leader (neither has
    committed) and both lead: the second waits for the first's commit, then sees it."""
    lock_for_transaction(session, f"burst:{repository}:{fingerprint}")


def burst_runs(session: Session, *, leader_id: int) -> Sequence[Failure]:
    """The leader and its members, first detected first."""
    return session.scalars(
        select(Failure)
        .where((Failure.id == leader_id) | (Failure.burst_of == leader_id))
        .order_by(Failure.detected_at, Failure.id)
    ).all()
