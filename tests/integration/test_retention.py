"""The retention purge on the real Postgres: a scripted history of known ages, purged at a fixed
`now`; exactly what is due goes (counted per table), everything else stays, in batches, and a
second run finds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from celery.schedules import crontab
from sqlalchemy import Engine, event, func, inspect, select
from sqlalchemy.orm import Session

from ci_remediator.config import load_config
from ci_remediator.db.base import Base, utcnow
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    BreakerTrip,
    DecisionMemory,
    DetectionSource,
    Failure,
    FlakyEvidence,
    GateDecision,
    MetricSample,
    Notification,
    NotificationStatus,
    NotificationThread,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import (
    TERMINAL_STATES,
    ActionKind,
    Category,
    Decision,
    Effort,
    FailureState,
    Verdict,
)
from ci_remediator.pipeline.retention import ACTION, ACTOR, cascading_children, purge_old_records
from ci_remediator.services import Services

pytestmark = pytest.mark.integration

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
RETENTION_DAYS = 30
AUDIT_RETENTION_DAYS = 100
LOOKBACK = timedelta(hours=24)
RECENT, OLD, ANCIENT = 5, 40, 200  # days before NOW: kept, past retention, past audit retention

# Every table the purge may touch, and the ones it must leave alone.
COUNTED = (
    Failure,
    Analysis,
    GateDecision,
    ApprovalRequest,
    Remediation,
    Notification,
    NotificationThread,
    AuditEntry,
    FlakyEvidence,
    DecisionMemory,
    BreakerTrip,
    MetricSample,
)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def row_counts(session: Session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in COUNTED
    }


def purge(session: Session, **options: Any) -> dict[str, int]:
    """One run at NOW; the rows it deleted, by table (only the tables it deleted from)."""
    session.flush()
    # Nothing stale in the identity map: the purge deletes with Core statements.
    session.expunge_all()
    report = purge_old_records(
        session,
        retention_days=options.pop("retention_days", RETENTION_DAYS),
        audit_retention_days=options.pop("audit_retention_days", AUDIT_RETENTION_DAYS),
        detection_lookback=options.pop("detection_lookback", LOOKBACK),
        now=options.pop("now", NOW),
        **options,
    )
    session.flush()
    return {table: count for table, count in report.deleted.items() if count}


_run_ids = iter(range(1, 1_000_000))


def add_failure(
    session: Session,
    state: FailureState,
    *,
    updated: float,
    run_created: float | None = None,
    burst_of: int | None = None,
    repository: str = "acme/web",
) -> int:
    run_at = ago(run_created if run_created is not None else updated + 0.1)
    failure = Failure(
        repository=repository,
        run_id=next(_run_ids),
        run_attempt=1,
        workflow_name="CI",
        workflow_id=1,
        event="push",
        head_branch="main",
        head_sha="0" * 40,
        html_url="https://github.com/acme/web/actions/runs/1",
        run_created_at=run_at,
        detected_at=run_at,
        source=DetectionSource.POLL,
        state=state,
        updated_at=ago(updated),
        burst_of=burst_of,
    )
    session.add(failure)
    session.flush()
    return failure.id


def add_analysis(session: Session, failure_id: int, *, days: float) -> None:
    session.add(
        Analysis(
            failure_id=failure_id,
            category=Category.INFRASTRUCTURE,
            risk_score=2,
            confidence=0.9,
            flaky=False,
            summary="runner lost",
            root_cause="network",
            proposed_action=ActionKind.RERUN_FAILED_JOBS,
            analyzer="rules",
            effort=Effort.TRIVIAL,
            excerpt="connection reset",
            created_at=ago(days),
        )
    )


def add_gate_decision(session: Session, failure_id: int, *, days: float) -> None:
    session.add(
        GateDecision(
            failure_id=failure_id,
            verdict=Verdict.NEEDS_APPROVAL,
            action=ActionKind.RERUN_FAILED_JOBS,
            effective_risk=2,
            created_at=ago(days),
        )
    )


def add_approval(session: Session, failure_id: int, *, days: float, status: ApprovalStatus) -> int:
    approval = ApprovalRequest(
        failure_id=failure_id,
        action=ActionKind.RERUN_FAILED_JOBS,
        status=status,
        requested_at=ago(days),
        expires_at=ago(days - 1),
    )
    session.add(approval)
    session.flush()
    return approval.id


def add_remediation(
    session: Session,
    failure_id: int,
    *,
    days: float,
    action: ActionKind = ActionKind.RERUN_FAILED_JOBS,
    status: RemediationStatus = RemediationStatus.SUCCEEDED,
    result: dict[str, Any] | None = None,
) -> None:
    session.add(
        Remediation(
            failure_id=failure_id,
            action=action,
            status=status,
            repository="acme/web",
            run_id=1,
            target_attempt=2,
            created_at=ago(days),
            result=result or {},
        )
    )


def add_notification(
    session: Session,
    failure_id: int,
    *,
    days: float,
    status: NotificationStatus = NotificationStatus.DELIVERED,
) -> None:
    session.add(
        Notification(failure_id=failure_id, event="detected", status=status, created_at=ago(days))
    )


def add_audit(session: Session, failure_id: int | None, *, days: float, count: int = 1) -> None:
    for _ in range(count):
        session.add(
            AuditEntry(at=ago(days), failure_id=failure_id, actor="test", action="scripted")
        )


def add_flaky_evidence(session: Session, failure_id: int | None, *, days: float) -> None:
    session.add(
        FlakyEvidence(
            repository="acme/web",
            workflow_name="CI",
            job_name=f"test-{next(_run_ids)}",
            run_id=next(_run_ids),
            head_sha="0" * 40,
            failed_attempt=1,
            passed_attempt=2,
            failure_id=failure_id,
            observed_at=ago(days),
        )
    )


def add_memory(
    session: Session,
    *,
    created: float,
    expires: float,
    revoked: float | None = None,
    approval_id: int | None = None,
) -> int:
    memory = DecisionMemory(
        repository="acme/web",
        fingerprint="f" * 64,
        action=ActionKind.RERUN_FAILED_JOBS,
        decision=Decision.APPROVE,
        decided_by="U012AB3CD",
        decided_via="slack",
        approved_risk=2,
        approval_id=approval_id,
        created_at=ago(created),
        expires_at=ago(expires),
        revoked_at=None if revoked is None else ago(revoked),
        revoked_by=None if revoked is None else "someone",
    )
    session.add(memory)
    session.flush()
    return memory.id


def add_trip(
    session: Session,
    organization: str,
    *,
    tripped: float,
    reset: float | None = None,
    failure_id: int | None = None,
) -> int:
    trip = BreakerTrip(
        organization=organization,
        open_key=organization if reset is None else None,
        tripped_at=ago(tripped),
        success_rate=0.1,
        window=20,
        failure_id=failure_id,
        reset_at=None if reset is None else ago(reset),
        reset_by=None if reset is None else "someone",
    )
    session.add(trip)
    session.flush()
    return trip.id


def exists(session: Session, model: type[Base], row_id: int) -> bool:
    return session.get(model, row_id) is not None


# ------------------------------------------------------------------- the scripted history ----


def test_the_purge_deletes_exactly_what_is_due_and_nothing_else(db_session: Session) -> None:
    s = db_session
    # A. Finished long ago, with everything a failure can have: all of it goes, its audit too
    # (past the audit retention), its flaky evidence too; its metric sample stays, detached.
    done_long_ago = add_failure(s, FailureState.RESOLVED, updated=ANCIENT)
    add_analysis(s, done_long_ago, days=ANCIENT)
    add_gate_decision(s, done_long_ago, days=ANCIENT)
    approval_of_done = add_approval(s, done_long_ago, days=ANCIENT, status=ApprovalStatus.APPROVED)
    add_remediation(s, done_long_ago, days=ANCIENT)
    add_notification(s, done_long_ago, days=ANCIENT)
    add_notification(s, done_long_ago, days=ANCIENT)
    s.add(NotificationThread(failure_id=done_long_ago, channel="C1", ts="1.0"))
    add_flaky_evidence(s, done_long_ago, days=ANCIENT)
    s.add(MetricSample(at=ago(ANCIENT), name="latency", value=1.0, failure_id=done_long_ago))
    add_audit(s, done_long_ago, days=ANCIENT, count=3)
    # B. Finished past the retention, its tracking issue seen closed: goes; its audit (younger
    # than the audit retention) stays, detached.
    done_old = add_failure(s, FailureState.ESCALATED, updated=OLD)
    add_analysis(s, done_old, days=OLD)
    add_gate_decision(s, done_old, days=OLD)
    add_notification(s, done_old, days=OLD)
    add_remediation(
        s,
        done_old,
        days=OLD,
        action=ActionKind.OPEN_TRACKING_ISSUE,
        result={"issue_number": 6, "closed_at": ago(OLD).isoformat()},
    )
    add_audit(s, done_old, days=OLD, count=2)
    # C, D. Not finished, however old: stay, with their rows and their ancient audit.
    in_flight = add_failure(s, FailureState.VERIFYING, updated=ANCIENT)
    add_analysis(s, in_flight, days=ANCIENT)
    add_remediation(s, in_flight, days=ANCIENT, status=RemediationStatus.REQUESTED)
    add_audit(s, in_flight, days=ANCIENT, count=2)
    waiting = add_failure(s, FailureState.AWAITING_APPROVAL, updated=ANCIENT)
    add_approval(s, waiting, days=ANCIENT, status=ApprovalStatus.PENDING)
    # E. Finished recently after a long life: stays, and so does its audit from the start.
    done_recently = add_failure(s, FailureState.RESOLVED, updated=RECENT, run_created=ANCIENT)
    add_analysis(s, done_recently, days=ANCIENT)
    add_flaky_evidence(s, done_recently, days=RECENT)
    add_audit(s, done_recently, days=ANCIENT, count=2)
    # F. Finished past the retention, but its tracking issue is still open: the sweep that
    # closes it reads this row, so it stays.
    tracked = add_failure(s, FailureState.ESCALATED, updated=OLD)
    add_remediation(
        s,
        tracked,
        days=OLD,
        action=ActionKind.OPEN_TRACKING_ISSUE,
        result={"issue_number": 7, "html_url": "https://github.com/acme/web/issues/7"},
    )
    # G. Finished past the retention with a message still owed: stays.
    owed = add_failure(s, FailureState.REJECTED, updated=OLD)
    add_notification(s, owed, days=OLD, status=NotificationStatus.PENDING)
    # H. An old burst leader goes; its recent member stays and forgets it.
    leader = add_failure(s, FailureState.EXPIRED, updated=OLD)
    member = add_failure(s, FailureState.RESOLVED, updated=RECENT, burst_of=leader)
    # Audit of no failure: by age alone.
    add_audit(s, None, days=ANCIENT)
    add_audit(s, None, days=OLD)
    # Memories: in force (its approval is purged: it forgets it), ended long ago, revoked
    # long ago, ended recently, revoked recently.
    in_force = add_memory(s, created=OLD, expires=-5, approval_id=approval_of_done)
    add_memory(s, created=ANCIENT, expires=ANCIENT - 7)
    add_memory(s, created=OLD + 10, expires=-30, revoked=OLD)
    add_memory(s, created=RECENT + 7, expires=RECENT)
    add_memory(s, created=RECENT + 7, expires=-30, revoked=RECENT)
    # Breaker trips: one standing since long ago (on a purged failure), an organization's
    # older reset (goes) and its latest (stays), another's only reset (its latest: stays).
    standing = add_trip(s, "acme", tripped=ANCIENT, failure_id=done_long_ago)
    older_reset = add_trip(s, "acme", tripped=ANCIENT + 10, reset=ANCIENT)
    latest_reset = add_trip(s, "acme", tripped=OLD + 10, reset=OLD)
    only_reset = add_trip(s, "beta", tripped=ANCIENT + 10, reset=ANCIENT)

    before = row_counts(s)
    deleted = purge(s)

    expected = {
        "failures": 3,  # A, B, the leader
        "analyses": 2,
        "gate_decisions": 2,
        "approval_requests": 1,
        "remediations": 2,
        "notifications": 3,
        "notification_threads": 1,
        "audit_entries": 4,  # A's three, the ancient one of no failure
        "flaky_evidence": 1,
        "decision_memories": 2,
        "breaker_trips": 1,
    }
    assert deleted == expected
    after = row_counts(s)
    # The run's own audit entry is the one row added.
    assert after == {
        table: count - expected.get(table, 0) + (table == "audit_entries")
        for table, count in before.items()
    }

    for gone in (done_long_ago, done_old, leader):
        assert not exists(s, Failure, gone)
    for kept in (in_flight, waiting, done_recently, tracked, owed, member):
        assert exists(s, Failure, kept)
    assert s.scalar(select(Failure.burst_of).where(Failure.id == member)) is None
    # What outlives a failure by design forgot it.
    assert s.scalar(select(DecisionMemory.approval_id).where(DecisionMemory.id == in_force)) is None
    assert s.scalar(select(BreakerTrip.failure_id).where(BreakerTrip.id == standing)) is None
    assert s.scalar(select(BreakerTrip.open_key).where(BreakerTrip.id == standing)) == "acme"
    assert s.scalars(select(MetricSample.failure_id)).all() == [None]
    assert not exists(s, BreakerTrip, older_reset)
    assert exists(s, BreakerTrip, latest_reset)
    assert exists(s, BreakerTrip, only_reset)
    # B's audit, detached, waits for its own age; the kept failures' ancient audit stays whole.
    audit_of = dict(
        s.execute(
            select(AuditEntry.failure_id, func.count())
            .where(AuditEntry.action == "scripted")
            .group_by(AuditEntry.failure_id)
        ).all()
    )
    assert audit_of == {None: 3, in_flight: 2, done_recently: 2}


def test_the_run_writes_one_audit_entry_with_the_counts(db_session: Session) -> None:
    done = add_failure(db_session, FailureState.ROLLED_BACK, updated=ANCIENT)
    add_audit(db_session, done, days=ANCIENT, count=2)

    deleted = purge(db_session)

    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION)).one()
    assert (entry.actor, entry.failure_id, entry.outcome, entry.at) == (ACTOR, None, "success", NOW)
    assert {table: n for table, n in entry.detail["deleted"].items() if n} == deleted
    assert deleted == {"failures": 1, "audit_entries": 2}
    # Every table the run looks at is in the entry, zeros included.
    assert set(entry.detail["deleted"]) == {
        "failures",
        *(column.table.name for column in cascading_children()),
        "audit_entries",
        "flaky_evidence",
        "decision_memories",
        "breaker_trips",
    }
    assert entry.detail["complete"] is True
    assert entry.detail["retention_days"] == RETENTION_DAYS
    assert entry.detail["audit_retention_days"] == AUDIT_RETENTION_DAYS
    assert entry.detail["failures_before"] == ago(RETENTION_DAYS).isoformat()
    assert entry.detail["audit_before"] == ago(AUDIT_RETENTION_DAYS).isoformat()


def test_every_terminal_state_is_purged_and_no_other(db_session: Session) -> None:
    for state in FailureState:
        add_failure(db_session, state, updated=ANCIENT * 5)

    assert purge(db_session) == {"failures": len(TERMINAL_STATES)}
    left = set(db_session.scalars(select(Failure.state)).all())
    assert left == set(FailureState) - TERMINAL_STATES


def test_a_second_run_deletes_nothing(db_session: Session) -> None:
    for _ in range(3):
        done = add_failure(db_session, FailureState.RESOLVED, updated=ANCIENT)
        add_analysis(db_session, done, days=ANCIENT)
        add_audit(db_session, done, days=ANCIENT)
    add_failure(db_session, FailureState.DETECTED, updated=ANCIENT)
    assert purge(db_session) == {"failures": 3, "analyses": 3, "audit_entries": 3}
    before = row_counts(db_session)

    assert purge(db_session) == {}

    assert row_counts(db_session) == {**before, "audit_entries": before["audit_entries"] + 1}
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION)).all()
    assert len(entries) == 2


# ---------------------------------------------------------------------------- batching ----


@pytest.fixture
def statements(db_session: Session) -> Iterator[list[str]]:
    """The SQL the session's connection runs, as Postgres receives it."""
    seen: list[str] = []
    connection = db_session.connection()

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def deletes_from(statements: list[str], table: str) -> int:
    return sum(1 for sql in statements if sql.split()[:3] == ["DELETE", "FROM", table])


def test_rows_go_in_batches_of_the_given_size_until_none_are_left(
    db_session: Session, statements: list[str]
) -> None:
    for _ in range(12):
        done = add_failure(db_session, FailureState.RESOLVED, updated=ANCIENT)
        add_notification(db_session, done, days=ANCIENT)
    add_audit(db_session, None, days=ANCIENT, count=7)
    statements.clear()

    deleted = purge(db_session, batch_size=5)

    assert deleted == {"failures": 12, "notifications": 12, "audit_entries": 7}
    # 5 + 5 + 2 failures; 5 + 2 audit entries.
    assert deletes_from(statements, "failures") == 3
    assert deletes_from(statements, "notifications") == 3
    assert deletes_from(statements, "audit_entries") == 2
    assert row_counts(db_session)["failures"] == 0


def test_a_run_stops_at_its_cap_and_the_next_one_goes_on(db_session: Session) -> None:
    for _ in range(12):
        add_failure(db_session, FailureState.ERRORED, updated=ANCIENT)

    assert purge(db_session, batch_size=5, max_batches=2) == {"failures": 10}
    first = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == ACTION).order_by(AuditEntry.id)
    ).all()
    assert [(e.outcome, e.detail["complete"]) for e in first] == [("partial", False)]

    assert purge(db_session, batch_size=5, max_batches=2) == {"failures": 2}
    assert row_counts(db_session)["failures"] == 0
    last = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == ACTION).order_by(AuditEntry.id.desc())
    ).first()
    assert last is not None
    assert (last.outcome, last.detail["complete"]) == ("success", True)


def test_a_spent_time_budget_starts_no_batch(db_session: Session) -> None:
    add_failure(db_session, FailureState.RESOLVED, updated=ANCIENT)

    assert purge(db_session, time_budget_s=0.0) == {}
    assert row_counts(db_session)["failures"] == 1
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION)).one()
    assert entry.outcome == "partial"


def test_a_failure_another_transaction_holds_is_left_for_the_next_run(
    committed_db: Engine,
) -> None:
    with Session(committed_db) as session, session.begin():
        held = add_failure(session, FailureState.RESOLVED, updated=ANCIENT)
        add_failure(session, FailureState.RESOLVED, updated=ANCIENT)
    with Session(committed_db) as worker, worker.begin():
        # A worker still busy with it (a late notify, the tracking-issue sweep).
        worker.scalars(select(Failure).where(Failure.id == held).with_for_update()).one()
        with Session(committed_db) as session, session.begin():
            assert purge(session) == {"failures": 1}
    with Session(committed_db) as session, session.begin():
        assert session.scalars(select(Failure.id)).all() == [held]
        assert purge(session) == {"failures": 1}


# ---------------------------------------------------------------- windows others still read ----


def test_a_run_the_poller_still_reads_back_is_kept(db_session: Session) -> None:
    # A one-day retention with a three-day detection lookback: deleting a failure whose run the
    # deep scan still lists would have it detected again, as new, and remediated twice.
    lookback = timedelta(days=3)
    rescanned = add_failure(db_session, FailureState.RESOLVED, updated=2, run_created=2.5)
    beyond = add_failure(db_session, FailureState.RESOLVED, updated=2, run_created=4)

    assert purge(db_session, retention_days=1, detection_lookback=lookback) == {"failures": 1}
    assert exists(db_session, Failure, rescanned)
    assert not exists(db_session, Failure, beyond)


def test_flaky_evidence_the_gate_still_counts_outlives_its_failure(db_session: Session) -> None:
    # A one-day retention is shorter than the gate's seven-day flaky window.
    done = add_failure(db_session, FailureState.RESOLVED, updated=3)
    add_flaky_evidence(db_session, done, days=3)
    add_flaky_evidence(db_session, None, days=10)

    assert purge(db_session, retention_days=1) == {"failures": 1, "flaky_evidence": 1}
    assert db_session.scalars(select(FlakyEvidence.observed_at)).all() == [ago(3)]


# ---------------------------------------------------------------- schema and scheduling ----


def test_every_foreign_key_the_purge_deletes_through_is_indexed(engine: Engine) -> None:
    """Each deleted failure or approval makes Postgres look up every row referencing it: an
    unindexed referencing column is a sequential scan per deleted row (migration 0014)."""
    inspector = inspect(engine)
    unindexed = []
    for table in inspector.get_table_names():
        led = {tuple(index["column_names"][:1]) for index in inspector.get_indexes(table)} | {
            tuple(unique["column_names"][:1]) for unique in inspector.get_unique_constraints(table)
        }
        led.add(tuple(inspector.get_pk_constraint(table)["constrained_columns"][:1]))
        for fk in inspector.get_foreign_keys(table):
            deleted_through = fk["referred_table"] in {"failures", "approval_requests"}
            if deleted_through and tuple(fk["constrained_columns"][:1]) not in led:
                unindexed.append(f"{table}.{fk['constrained_columns'][0]}")
    assert unindexed == []


def test_the_purge_is_scheduled_daily_on_the_default_queue() -> None:
    from workers.app import QUEUE_OF_TASK, app, deployment_settings

    entry = deployment_settings(load_config())["beat_schedule"]["purge-old-records"]
    assert entry["task"] == "ci_remediator.purge_old_records"
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    # Once a day: one minute of one hour, every day of every month.
    assert (len(schedule.minute), len(schedule.hour)) == (1, 1)
    assert len(schedule.day_of_week) == 7
    assert len(schedule.day_of_month) == 31
    assert len(schedule.month_of_year) == 12
    # Due again exactly one day after each run, across a month's end too.
    for day in (datetime(2027, 2, 28, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)):
        ran = day.replace(hour=min(schedule.hour), minute=min(schedule.minute))
        last, forward, _ = schedule.remaining_delta(ran)
        assert last + forward == ran + timedelta(days=1)
    task = app.tasks["ci_remediator.purge_old_records"]
    assert QUEUE_OF_TASK[task.name] == "default"
    assert task.max_retries == 0
    assert task.soft_time_limit < task.time_limit


# ------------------------------------------------------------------------------ the task ----


def test_the_task_purges_with_the_configured_retention(
    services: Services, committed_db: Engine
) -> None:
    from workers.tasks import purge_old_records as purge_task

    file = services.config.file
    with services.sessions() as session, session.begin():
        # Relative to the real clock: the task runs at the time it is run.
        real_now = utcnow()
        due = real_now - timedelta(days=file.retention_days + 1)
        kept = real_now - timedelta(days=file.retention_days - 1)
        ids: dict[str, int] = {}
        for name, updated in (("due", due), ("kept", kept)):
            failure = Failure(
                repository="acme/web",
                run_id=len(ids) + 1,
                run_attempt=1,
                workflow_name="CI",
                workflow_id=1,
                event="push",
                head_sha="0" * 40,
                html_url="https://github.com/acme/web/actions/runs/1",
                run_created_at=updated,
                source=DetectionSource.POLL,
                state=FailureState.RESOLVED,
                updated_at=updated,
            )
            session.add(failure)
            session.flush()
            ids[name] = failure.id

    purge_task()

    with services.sessions() as session:
        assert session.get(Failure, ids["due"]) is None
        assert session.get(Failure, ids["kept"]) is not None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == ACTION)).one()
        assert entry.detail["deleted"]["failures"] == 1
        assert entry.detail["retention_days"] == file.retention_days
