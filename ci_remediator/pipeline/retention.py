"""The retention step (beat, daily): finished history past its keep-by date is deleted.

Failures in a terminal state whose last change is older than `retention_days` go, with the rows
that die with them (ON DELETE CASCADE: analyses, gate decisions, approval requests,
remediations, notifications, notification threads). Rows that outlive a failure by design keep
their own clock: the foreign key only forgets the failure (SET NULL), and each is deleted once it
is itself old and no longer read:

- audit entries, after `audit_retention_days`, once their failure is gone (the timeline of a
  failure still kept stays whole);
- flaky evidence of a purged failure, once it is also outside the window the gate counts;
- decision memories that ended (expired or revoked) before the cutoff; a memory in force never;
- breaker trips reset before the cutoff, except each organization's latest reset (the breaker
  counts outcomes since it); a standing trip never.

Never deleted, whatever their age: a failure that is not terminal, one whose tracking issue
the sweep has not seen closed (it would never be closed), one with a message still owed, and
one whose run the poller still re-reads (it would be detected again and acted on twice).

Deletes go in batches of ids claimed with `FOR UPDATE SKIP LOCKED`, up to a cap of batches and
a time budget per run so that the run fits its task's time limit (a run past it would roll back
all its work, every day); what is left waits for the next run. The run writes one audit entry
with what it deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Select, Table, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import Base, utcnow
from ci_remediator.db.flaky_evidence import FLAKY_WINDOW
from ci_remediator.db.models import (
    AuditEntry,
    BreakerTrip,
    DecisionMemory,
    Failure,
    FlakyEvidence,
    Notification,
    NotificationStatus,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import TERMINAL_STATES, ActionKind

ACTOR = "retention"
ACTION = "retention_purge"
BATCH_SIZE = 500
# Per table and run: 50,000 failures a day is far more than a deployment finishes; a backlog
# (retention turned on over years of history) drains over a few days.
MAX_BATCHES = 100
TABLES = Base.metadata.tables


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one run deleted, by table, and whether it got to the end of everything due."""

    deleted: dict[str, int]
    complete: bool
    failures_before: datetime
    audit_before: datetime

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def cascading_children() -> list[Column[Any]]:
    """The foreign key columns whose rows die with their failure (ON DELETE CASCADE), read
    from the models so that a table added later is purged and counted too."""
    failure_id = TABLES[Failure.__tablename__].c.id
    children = {
        fk.parent
        for table in Base.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column is failure_id and (fk.ondelete or "").upper() == "CASCADE"
    }
    return sorted(children, key=lambda column: column.table.name)


@dataclass
class _Batches:
    """The run's shared allowance of batches per table and its deadline."""

    batch_size: int
    max_batches: int
    stop_at: float | None
    complete: bool = True
    deleted: dict[str, int] = field(default_factory=dict)

    def out_of_time(self) -> bool:
        return self.stop_at is not None and time.monotonic() >= self.stop_at

    def drain(
        self,
        session: Session,
        *,
        claim: Select[int],
        delete_ids: Callable[[Sequence[int]], None],
    ) -> None:
        """Claim up to `batch_size` ids and delete them, until none are left or the
        allowance is spent (then the run is incomplete)."""
        for _ in range(self.max_batches):
            if self.out_of_time():
                self.complete = False
                return
            ids = session.scalars(claim.limit(self.batch_size)).all()
            if ids:
                delete_ids(ids)
            if len(ids) < self.batch_size:
                return
        self.complete = False

    def delete_rows(
        self, session: Session, table: Table, key: Column[Any], ids: Sequence[int]
    ) -> None:
        result = session.execute(delete(table).where(key.in_(ids)))
        count: int = result.rowcount  # type: ignore[attr-defined]
        self.deleted[table.name] = self.deleted.get(table.name, 0) + count


def purgeable_failures(*, failures_before: datetime, run_created_before: datetime) -> Select[int]:
    tracking_issue_open = exists().where(
        Remediation.failure_id == Failure.id,
        Remediation.action == ActionKind.OPEN_TRACKING_ISSUE,
        Remediation.status == RemediationStatus.SUCCEEDED,
        Remediation.result["issue_number"].as_string().is_not(None),
        Remediation.result["closed_at"].as_string().is_(None),
    )
    message_owed = exists().where(
        Notification.failure_id == Failure.id,
        Notification.status == NotificationStatus.PENDING,
    )
    return (
        select(Failure.id)
        .where(
            Failure.state.in_(sorted(TERMINAL_STATES)),
            Failure.updated_at < failures_before,
            Failure.run_created_at < run_created_before,
            ~tracking_issue_open,
            ~message_owed,
        )
        # A worker still touching one of them (a late notify, the tracking-issue sweep) keeps
        # it for the next run; two purges at once take different rows.
        .with_for_update(skip_locked=True, of=Failure)
    )


def purge_old_records(
    session: Session,
    *,
    retention_days: int,
    audit_retention_days: int,
    detection_lookback: timedelta,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
    time_budget_s: float | None = None,
) -> PurgeReport:
    """Delete what the retention policy says is due (see the module docstring); the caller
    commits. `time_budget_s`: start no batch after this many seconds."""
    if batch_size < 1 or max_batches < 1:
        raise ValueError("batch_size and max_batches must be at least 1")
    now = now or utcnow()
    failures_before = now - timedelta(days=retention_days)
    audit_before = now - timedelta(days=audit_retention_days)
    batches = _Batches(
        batch_size=batch_size,
        max_batches=max_batches,
        stop_at=None if time_budget_s is None else time.monotonic() + time_budget_s,
    )
    failures = TABLES[Failure.__tablename__]
    children = cascading_children()

    def delete_failures(ids: Sequence[int]) -> None:
        # The children first, each counted; the cascade would delete them all the same.
        for key in children:
            batches.delete_rows(session, key.table, key, ids)
        batches.delete_rows(session, failures, failures.c.id, ids)

    batches.drain(
        session,
        claim=purgeable_failures(
            failures_before=failures_before, run_created_before=now - detection_lookback
        ),
        delete_ids=delete_failures,
    )

    def delete_from(table: Table) -> Callable[[Sequence[int]], None]:
        return lambda ids: batches.delete_rows(session, table, table.c.id, ids)

    # After the failures: the entries of those just purged are detached now, and age alone
    # decides for them.
    audit = TABLES[AuditEntry.__tablename__]
    batches.drain(
        session,
        claim=select(AuditEntry.id)
        .where(AuditEntry.at < audit_before, AuditEntry.failure_id.is_(None))
        .with_for_update(skip_locked=True),
        delete_ids=delete_from(audit),
    )
    batches.drain(
        session,
        claim=select(FlakyEvidence.id)
        .where(
            FlakyEvidence.failure_id.is_(None),
            # The gate counts flakes of the last FLAKY_WINDOW, whatever the retention.
            FlakyEvidence.observed_at < min(failures_before, now - FLAKY_WINDOW),
        )
        .with_for_update(skip_locked=True),
        delete_ids=delete_from(TABLES[FlakyEvidence.__tablename__]),
    )
    batches.drain(
        session,
        claim=select(DecisionMemory.id)
        # Ended before the cutoff, so not in force now: expired or revoked.
        .where(
            or_(
                DecisionMemory.expires_at < failures_before,
                DecisionMemory.revoked_at < failures_before,
            )
        )
        .with_for_update(skip_locked=True),
        delete_ids=delete_from(TABLES[DecisionMemory.__tablename__]),
    )
    later = aliased(BreakerTrip)
    batches.drain(
        session,
        claim=select(BreakerTrip.id)
        .where(
            BreakerTrip.open_key.is_(None),
            BreakerTrip.reset_at < failures_before,
            # Not the organization's latest reset: `last_reset_at` must not move back.
            BreakerTrip.reset_at
            < select(func.max(later.reset_at))
            .where(later.organization == BreakerTrip.organization)
            .scalar_subquery(),
        )
        .with_for_update(skip_locked=True, of=BreakerTrip),
        delete_ids=delete_from(TABLES[BreakerTrip.__tablename__]),
    )

    deleted = {
        name: batches.deleted.get(name, 0)
        for name in (
            failures.name,
            *(key.table.name for key in children),
            audit.name,
            FlakyEvidence.__tablename__,
            DecisionMemory.__tablename__,
            BreakerTrip.__tablename__,
        )
    }
    entry = record_audit(
        session,
        actor=ACTOR,
        action=ACTION,
        outcome="success" if batches.complete else "partial",
        detail={
            "deleted": deleted,
            "complete": batches.complete,
            "retention_days": retention_days,
            "audit_retention_days": audit_retention_days,
            "failures_before": failures_before.isoformat(),
            "audit_before": audit_before.isoformat(),
        },
    )
    entry.at = now
    return PurgeReport(
        deleted=deleted,
        complete=batches.complete,
        failures_before=failures_before,
        audit_before=audit_before,
    )
