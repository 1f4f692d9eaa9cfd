"""Invariants of what Postgres keeps: failure records, audit entries and metric samples come back
exactly as written (any NUL-free unicode, 64-bit ids, timestamps in any zone as the same
instant in UTC, nested JSON with big numbers); the stored queries return exactly what a filter
over the rows says; and the retention purge deletes exactly what is due, in batches, and says so.

Every example runs in a transaction on empty tables, rolled back at the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.audit_logger import AuditLogger
from ci_remediator.db.approvals import list_approvals
from ci_remediator.db.audit import count_audit, query_audit, record_audit
from ci_remediator.db.flaky_evidence import FLAKY_WINDOW
from ci_remediator.db.metric_samples import record_metric
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
    MetricSample,
    Notification,
    NotificationStatus,
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
)
from ci_remediator.github.values import RunInfo
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.pipeline.retention import ACTION, purge_old_records
from tests.integration.conftest import engine  # noqa: F401 - the fixture
from tests.properties.profiles import examples
from tests.properties.test_approval_properties import EMPTY_EVERY_TABLE

BIGINT = 2**63 - 1
INT = 2**31 - 1


@contextmanager
def rolled_back(bind: Engine) -> Iterator[tuple[Session, sessionmaker[Session]]]:
    """A session on empty tables, and a sessionmaker for readers on the same connection;
    everything, the emptying included, is rolled back at the end."""
    with bind.connect() as connection:
        outer = connection.begin()
        connection.exec_driver_sql(EMPTY_EVERY_TABLE)
        sessions = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        session = sessions()
        try:
            yield session, sessions
        finally:
            session.close()
            outer.rollback()


# Postgres text holds any unicode but NUL (and Python's lone surrogates are no UTF-8).
def texts(max_size: int, *, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=min_size,
        max_size=max_size,
    )


zones = st.one_of(
    st.just(UTC),
    st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=UTC).astimezone(zone),
    st.datetimes(
        min_value=datetime(1971, 1, 1, tzinfo=UTC).replace(tzinfo=None),
        max_value=datetime(2200, 1, 1, tzinfo=UTC).replace(tzinfo=None),
    ),
    zones,
)
# JSON as the audit detail and labels carry it: big integers, finite floats, any keys.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**80), 2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts(20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(texts(10), children, max_size=4)
    ),
    max_leaves=12,
)


def same_json(stored: Any, written: Any) -> bool:
    """Equal as JSON: floats by value (Postgres keeps -0.0 as 0), the rest exactly."""
    if isinstance(written, float) and isinstance(stored, int | float):
        return math.isclose(stored, written, rel_tol=0, abs_tol=0) or stored == written
    if isinstance(written, dict):
        return (
            isinstance(stored, dict)
            and stored.keys() == written.keys()
            and all(same_json(stored[k], v) for k, v in written.items())
        )
    if isinstance(written, list):
        return (
            isinstance(stored, list)
            and len(stored) == len(written)
            and all(same_json(s, w) for s, w in zip(stored, written, strict=True))
        )
    return type(stored) is type(written) and stored == written


# ------------------------------------------------------- 52: failure records ----


@st.composite
def runs(draw: st.DrawFn) -> RunInfo:
    owner, name = (
        draw(texts(40, min_size=1).filter(lambda t: "/" not in t)),
        draw(texts(40, min_size=1).filter(lambda t: "/" not in t)),
    )
    updated = draw(moments)
    return RunInfo(
        repository=f"{owner}/{name}",
        run_id=draw(st.integers(1, BIGINT)),
        run_attempt=draw(st.integers(1, INT)),
        workflow_name=draw(texts(300)),
        workflow_id=draw(st.integers(1, BIGINT)),
        event=draw(texts(64)),
        head_branch=draw(st.none() | texts(300)),
        head_sha=draw(st.text("0123456789abcdef", min_size=40, max_size=64)),
        status="completed",
        conclusion=draw(st.sampled_from(["failure", "timed_out", "startup_failure"])),
        html_url=draw(texts(500)),
        created_at=draw(moments),
        updated_at=updated,
        actor=None,
        head_repository=draw(st.none() | texts(200)),
        workflow_path=draw(st.none() | texts(300)),
    )


@settings(max_examples=examples(100))
@given(run=runs(), source=st.sampled_from(list(DetectionSource)))
def test_a_failure_record_comes_back_exactly_as_github_described_the_run(
    engine: Engine,  # noqa: F811 - the fixture imported above
    run: RunInfo,
    source: DetectionSource,
) -> None:
    """Property 52 (Data Persistence): a failure recorded from any run (any unicode in its
    names, 64-bit ids, times in any zone) reads back with every field as GitHub gave it and
    its times as the same instants, in UTC; recording it again changes nothing."""
    with rolled_back(engine) as (session, sessions):
        failure_id = record_failure(session, run=run, source=source)
        assert failure_id is not None
        assert record_failure(session, run=run, source=source) is None
        session.commit()
        with sessions() as reader:
            stored = reader.get_one(Failure, failure_id)
            assert (
                stored.repository,
                stored.run_id,
                stored.run_attempt,
                stored.workflow_name,
                stored.workflow_id,
                stored.event,
                stored.head_branch,
                stored.head_sha,
                stored.conclusion,
                stored.html_url,
                stored.head_repository,
                stored.workflow_path,
                stored.source,
                stored.state,
            ) == (
                run.repository,
                run.run_id,
                run.run_attempt,
                run.workflow_name,
                run.workflow_id,
                run.event,
                run.head_branch,
                run.head_sha,
                run.conclusion,
                run.html_url,
                run.head_repository,
                run.workflow_path,
                source,
                FailureState.DETECTED,
            )
            assert stored.run_created_at == run.created_at
            assert stored.run_created_at.tzinfo is UTC
            assert reader.scalar(select(func.count(Failure.id))) == 1


# ------------------------------------------------------- 53: audit entries ----


@dataclass(frozen=True)
class AuditSpec:
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    outcome: str
    detail: dict[str, Any]
    about_a_failure: bool


audit_specs = st.builds(
    AuditSpec,
    actor=texts(100, min_size=1),
    action=texts(64, min_size=1),
    from_state=st.none() | texts(32),
    to_state=st.none() | texts(32),
    outcome=texts(32, min_size=1),
    detail=st.dictionaries(texts(10), json_values, max_size=5),
    about_a_failure=st.booleans(),
)


@settings(max_examples=examples(100))
@given(spec=audit_specs)
def test_an_audit_entry_comes_back_exactly_as_recorded(
    engine: Engine,  # noqa: F811
    spec: AuditSpec,
) -> None:
    """Property 53 (Data Persistence): an audit entry with any actor, action, states, outcome
    and JSON detail (nested, unicode keys, integers past 64 bits, any finite float) reads
    back through AuditLogger with every field equal and its time an aware UTC instant."""
    with rolled_back(engine) as (session, sessions):
        failure_id = add_failure(session).id if spec.about_a_failure else None
        written = record_audit(
            session,
            actor=spec.actor,
            action=spec.action,
            failure_id=failure_id,
            from_state=spec.from_state,
            to_state=spec.to_state,
            outcome=spec.outcome,
            detail=spec.detail,
        )
        session.commit()
        (entry,) = AuditLogger(sessions).query_logs()
        assert (entry.id, entry.actor, entry.action, entry.failure_id) == (
            written.id,
            spec.actor,
            spec.action,
            failure_id,
        )
        assert (entry.from_state, entry.to_state, entry.outcome) == (
            spec.from_state,
            spec.to_state,
            spec.outcome,
        )
        assert same_json(dict(entry.detail), spec.detail)
        assert entry.at == written.at
        assert entry.at.tzinfo is UTC


# ------------------------------------------------------- 54: metric samples ----


@settings(max_examples=examples(100))
@given(
    samples=st.lists(
        st.tuples(
            texts(100, min_size=1),
            st.floats(allow_nan=False, allow_infinity=False),
            st.dictionaries(texts(20), texts(40), max_size=4),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_metric_samples_come_back_exactly_as_recorded(
    engine: Engine,  # noqa: F811
    samples: list[tuple[str, float, dict[str, str]]],
) -> None:
    """Property 54 (Data Persistence): metric samples with any name, any finite value (tiny,
    huge, negative) and any labels read back bit for bit, one row each, in the order taken."""
    with rolled_back(engine) as (session, sessions):
        failure = add_failure(session)
        for name, value, labels in samples:
            record_metric(session, name=name, value=value, failure_id=failure.id, labels=labels)
        session.commit()
        with sessions() as reader:
            stored = reader.scalars(select(MetricSample).order_by(MetricSample.id)).all()
            assert [(s.name, s.value, s.labels, s.failure_id) for s in stored] == [
                (name, value, labels, failure.id) for name, value, labels in samples
            ]
            assert all(s.at.tzinfo is UTC for s in stored)


# ------------------------------------------------ 55: stored queries, recomputed ----

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTORS = ("analyzer", "safety_gate", "human:alice")
ACTIONS = ("transition", "notified", "detected")


def add_failure(
    session: Session,
    *,
    run_id: int = 1,
    state: FailureState = FailureState.DETECTED,
    updated_at: datetime = T0,
    run_created_at: datetime = T0,
) -> Failure:
    failure = Failure(
        repository="acme/web",
        run_id=run_id,
        run_attempt=1,
        workflow_name="CI",
        workflow_id=1,
        event="push",
        head_branch="main",
        head_sha="c" * 40,
        html_url=f"https://github.com/acme/web/actions/runs/{run_id}",
        run_created_at=run_created_at,
        detected_at=run_created_at,
        updated_at=updated_at,
        source=DetectionSource.POLL,
        state=state,
    )
    session.add(failure)
    session.flush()
    return failure


@settings(max_examples=examples(80))
@given(
    entries=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from(ACTORS),
            st.sampled_from(ACTIONS),
            st.integers(0, 600),
        ),
        max_size=12,
    ),
    approvals=st.lists(
        st.tuples(st.sampled_from(list(ApprovalStatus)), st.integers(0, 600)), max_size=3
    ),
    query=st.fixed_dictionaries(
        {},
        optional={
            "failure": st.integers(0, 2),
            "action": st.sampled_from(ACTIONS),
            "actor": st.sampled_from(ACTORS),
            "since": st.integers(0, 600),
            "until": st.integers(0, 600),
            "limit": st.integers(1, 13),
        },
    ),
    pending_only=st.booleans(),
)
def test_stored_queries_return_exactly_what_a_filter_over_the_rows_returns(
    engine: Engine,  # noqa: F811
    entries: list[tuple[int, str, str, int]],
    approvals: list[tuple[ApprovalStatus, int]],
    query: dict[str, int | str],
    pending_only: bool,
) -> None:
    """Property 55 (Data Persistence): for any stored entries and approvals, query_audit with
    any combination of failure, action, actor, time bounds and limit returns exactly the
    entries a filter over the rows returns, oldest first, at most the limit; count_audit
    counts a failure's entries of an action; list_approvals lists the pending (or all)
    requests, oldest first."""
    with rolled_back(engine) as (session, _):
        failures = [add_failure(session, run_id=n) for n in (1, 2, 3)]
        written = []
        for index, actor, action, seconds in entries:
            entry = AuditEntry(
                at=T0 + timedelta(seconds=seconds),
                failure_id=failures[index].id,
                actor=actor,
                action=action,
                detail={},
            )
            session.add(entry)
            session.flush()
            written.append(entry)
        requests = []
        for (status, seconds), failure in zip(approvals, failures, strict=False):
            request = ApprovalRequest(
                failure_id=failure.id,
                action=ActionKind.RERUN_FAILED_JOBS,
                status=status,
                requested_at=T0 + timedelta(seconds=seconds),
                expires_at=T0 + timedelta(days=1),
            )
            session.add(request)
            session.flush()
            requests.append(request)

        failure_id = failures[int(query["failure"])].id if "failure" in query else None
        since = T0 + timedelta(seconds=int(query["since"])) if "since" in query else None
        until = T0 + timedelta(seconds=int(query["until"])) if "until" in query else None
        found = query_audit(
            session,
            failure_id=failure_id,
            action=str(query["action"]) if "action" in query else None,
            actor=str(query["actor"]) if "actor" in query else None,
            since=since,
            until=until,
            limit=int(query.get("limit", 1000)),
        )
        wanted = [
            e.id
            for e in sorted(written, key=lambda e: (e.at, e.id))
            if (failure_id is None or e.failure_id == failure_id)
            and ("action" not in query or e.action == query["action"])
            and ("actor" not in query or e.actor == query["actor"])
            and (since is None or e.at >= since)
            and (until is None or e.at < until)
        ][: int(query.get("limit", 1000))]
        assert [e.id for e in found] == wanted

        for failure in failures:
            for action in ACTIONS:
                expected = sum(e.failure_id == failure.id and e.action == action for e in written)
                assert count_audit(session, failure_id=failure.id, action=action) == expected

        listed = [row.id for row in list_approvals(session, pending_only=pending_only)]
        assert listed == [
            r.id
            for r in sorted(requests, key=lambda r: (r.requested_at, r.id))
            if not pending_only or r.status is ApprovalStatus.PENDING
        ]


# ------------------------------------------------------- 56: retention ----

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LOOKBACK = timedelta(hours=24)
ages = st.integers(0, 400).map(lambda days: timedelta(days=days, hours=1))


@dataclass(frozen=True)
class FailurePlan:
    state: FailureState
    age: timedelta  # since its last change
    run_age: timedelta  # since its run was created
    message_owed: bool
    open_issue: bool  # a tracking issue the sweep has not seen closed
    entries: tuple[timedelta, ...]  # ages of its audit entries
    flake_age: timedelta | None  # flaky evidence observed this long ago


@dataclass(frozen=True)
class RetentionPlan:
    retention_days: int
    audit_retention_days: int
    failures: tuple[FailurePlan, ...]
    loose_entries: tuple[timedelta, ...]  # audit entries about no failure
    memories: tuple[tuple[timedelta, timedelta | None], ...]  # (expired ago, revoked ago)
    resets: tuple[timedelta, ...]  # an organization's trips, reset this long ago
    standing: bool  # and one trip of it still standing
    batch_size: int
    max_batches: int


# Seconds off a cutoff where an off-by-one (a second, an hour, a day) would show.
NEAR_A_CUTOFF = (-86_400, -3600, -1, 0, 1, 3600, 86_399, 86_400, 86_401, 2 * 86_400)


def around(days: int) -> st.SearchStrategy[timedelta]:
    """Ages close to a cutoff `days` old half the time, anywhere the other half."""
    offsets = st.sampled_from(NEAR_A_CUTOFF) | st.integers(-200 * 86_400, 200 * 86_400)
    return offsets.map(lambda seconds: max(timedelta(0), timedelta(days=days, seconds=seconds)))


@st.composite
def retention_plans(draw: st.DrawFn) -> RetentionPlan:
    retention_days = draw(st.integers(1, 200))
    audit_retention_days = draw(st.integers(1, 400))
    failure_ages, audit_ages = around(retention_days), around(audit_retention_days)
    # Flakes are kept for the gate's window too, whichever is longer.
    flake_ages = around(max(retention_days, FLAKY_WINDOW.days))
    failure = st.builds(
        FailurePlan,
        # Finished half the time or more, with nothing owed most of the time: due, if old.
        state=st.sampled_from(sorted(TERMINAL_STATES)) | st.sampled_from(list(FailureState)),
        age=failure_ages,
        run_age=st.sampled_from([timedelta(hours=2), timedelta(days=3)]) | failure_ages,
        message_owed=st.integers(0, 3).map(lambda n: n == 0),
        open_issue=st.integers(0, 3).map(lambda n: n == 0),
        entries=st.lists(audit_ages, max_size=3).map(tuple),
        flake_age=st.none() | flake_ages,
    )
    return RetentionPlan(
        retention_days=retention_days,
        audit_retention_days=audit_retention_days,
        failures=tuple(draw(st.lists(failure, min_size=1, max_size=6))),
        loose_entries=tuple(draw(st.lists(audit_ages, max_size=4))),
        # Memories that expire in the future or expired in the past, revoked or not.
        memories=tuple(
            draw(
                st.lists(
                    st.tuples(
                        failure_ages.map(lambda age: -age) | failure_ages, st.none() | failure_ages
                    ),
                    max_size=3,
                )
            )
        ),
        resets=tuple(draw(st.lists(failure_ages, max_size=3))),
        standing=draw(st.booleans()),
        batch_size=draw(st.integers(1, 4)),
        max_batches=draw(st.integers(1, 6)),
    )


# The tables the purge claims in batches (the others die with their failure).
DRAINED = ("failures", "audit_entries", "flaky_evidence", "decision_memories", "breaker_trips")


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@settings(max_examples=examples(50))
@given(plan=retention_plans())
def test_retention_deletes_exactly_what_is_due_in_batches_and_audits_what_it_did(
    engine: Engine,  # noqa: F811
    plan: RetentionPlan,
) -> None:
    """Property 56 (Data Persistence): for any ages, retention_days and audit_retention_days,
    repeated purges delete exactly the finished failures (and their rows) older than the
    retention with no message owed, no open tracking issue and a run past the lookback; the
    audit entries older than the audit retention that are about no failure (or a purged one);
    ended memories, purged failures' old flakes and superseded breaker resets past the cutoff;
    nothing else, no more than a run's batch allowance of each at a time, and each run writes
    one audit entry saying what it deleted."""
    failures_before = NOW - timedelta(days=plan.retention_days)
    audit_before = NOW - timedelta(days=plan.audit_retention_days)
    flakes_before = min(failures_before, NOW - FLAKY_WINDOW)
    with rolled_back(engine) as (session, _):
        due: set[int] = set()
        kept = {"audit_entries": 0, "flaky_evidence": 0}
        for number, spec in enumerate(plan.failures, start=1):
            failure = add_failure(
                session,
                run_id=number,
                state=spec.state,
                updated_at=NOW - spec.age,
                run_created_at=NOW - spec.run_age,
            )
            add_children(session, failure, spec)
            purged = (
                spec.state in TERMINAL_STATES
                and NOW - spec.age < failures_before
                and NOW - spec.run_age < NOW - LOOKBACK
                and not spec.message_owed
                and not spec.open_issue
            )
            due |= {failure.id} if purged else set()
            # What outlives a failure stays while the failure does, or while it is young.
            kept["audit_entries"] += sum(
                not purged or NOW - age >= audit_before for age in spec.entries
            )
            kept["flaky_evidence"] += spec.flake_age is not None and (
                not purged or NOW - spec.flake_age >= flakes_before
            )
        for age in plan.loose_entries:
            session.add(AuditEntry(at=NOW - age, actor="webhook", action="delivery_refused"))
        kept["audit_entries"] += sum(NOW - age >= audit_before for age in plan.loose_entries)
        for expired, revoked in plan.memories:
            # (timedelta(0) is falsy: revoked at this very moment is still revoked.)
            revoked_at = None if revoked is None else NOW - revoked
            session.add(memory(expires_at=NOW - expired, revoked_at=revoked_at))
        kept["decision_memories"] = sum(
            NOW - expired >= failures_before
            and (revoked is None or NOW - revoked >= failures_before)
            for expired, revoked in plan.memories
        )
        for reset in plan.resets:
            session.add(trip(reset_at=NOW - reset))
        if plan.standing:
            session.add(trip(reset_at=None))
        latest = max((NOW - reset for reset in plan.resets), default=None)
        kept["breaker_trips"] = plan.standing + sum(
            not (NOW - reset < failures_before and latest is not None and NOW - reset < latest)
            for reset in plan.resets
        )
        session.flush()
        failures_at_start = count(session, Failure)

        reports = []
        for _ in range(100):  # what a run leaves over its allowance waits for the next run
            report = purge_old_records(
                session,
                retention_days=plan.retention_days,
                audit_retention_days=plan.audit_retention_days,
                detection_lookback=LOOKBACK,
                now=NOW,
                batch_size=plan.batch_size,
                max_batches=plan.max_batches,
            )
            session.flush()
            reports.append(report)
            if report.complete:
                break

        assert reports[-1].complete
        assert not set(session.scalars(select(Failure.id))) & due
        assert count(session, Failure) == failures_at_start - len(due)
        assert count(session, Analysis) == failures_at_start - len(due)
        purges = session.scalars(
            select(AuditEntry).where(AuditEntry.action == ACTION).order_by(AuditEntry.id)
        ).all()
        assert len(purges) == len(reports)
        assert count(session, AuditEntry) - len(purges) == kept["audit_entries"]
        assert count(session, FlakyEvidence) == kept["flaky_evidence"]
        assert count(session, DecisionMemory) == kept["decision_memories"]
        assert count(session, BreakerTrip) == kept["breaker_trips"]
        allowance = plan.batch_size * plan.max_batches
        for report, entry in zip(reports, purges, strict=True):
            assert entry.detail["deleted"] == report.deleted
            assert entry.outcome == ("success" if report.complete else "partial")
            assert all(report.deleted[table] <= allowance for table in DRAINED)
        assert sum(report.deleted["failures"] for report in reports) == len(due)


def trip(*, reset_at: datetime | None) -> BreakerTrip:
    return BreakerTrip(
        organization="acme",
        open_key="acme" if reset_at is None else None,
        success_rate=0.1,
        window=10,
        reset_at=reset_at,
        tripped_at=NOW - timedelta(days=600),
    )


def add_children(session: Session, failure: Failure, spec: FailurePlan) -> None:
    """The rows that die with a failure, the entries and flakes that outlive it."""
    session.add(
        Analysis(
            failure_id=failure.id,
            category=Category.INFRASTRUCTURE,
            risk_score=2,
            confidence=0.9,
            flaky=False,
            summary="s",
            root_cause="r",
            proposed_action=ActionKind.RERUN_FAILED_JOBS,
            analyzer="rules",
            effort=Effort.SMALL,
            excerpt="e",
        )
    )
    if spec.message_owed:
        session.add(Notification(failure_id=failure.id, event="resolved"))
    else:
        session.add(
            Notification(
                failure_id=failure.id, event="resolved", status=NotificationStatus.DELIVERED
            )
        )
    session.add(
        Remediation(
            failure_id=failure.id,
            action=ActionKind.OPEN_TRACKING_ISSUE,
            status=RemediationStatus.SUCCEEDED,
            repository=failure.repository,
            run_id=failure.run_id,
            target_attempt=1,
            result={"issue_number": 7}
            if spec.open_issue
            else {"issue_number": 7, "closed_at": "x"},
        )
    )
    for age in spec.entries:
        session.add(
            AuditEntry(at=NOW - age, failure_id=failure.id, actor="analyzer", action="transition")
        )
    if spec.flake_age is not None:
        session.add(
            FlakyEvidence(
                repository=failure.repository,
                workflow_name="CI",
                job_name="test",
                run_id=failure.run_id,
                head_sha=failure.head_sha,
                failed_attempt=1,
                passed_attempt=2,
                failure_id=failure.id,
                observed_at=NOW - spec.flake_age,
            )
        )


def memory(*, expires_at: datetime, revoked_at: datetime | None) -> DecisionMemory:
    return DecisionMemory(
        repository="acme/web",
        fingerprint="f" * 64,
        action=ActionKind.RERUN_FAILED_JOBS,
        decision=Decision.APPROVE,
        decided_by="U1",
        decided_via="slack",
        approved_risk=3,
        expires_at=expires_at,
        revoked_at=revoked_at,
        created_at=NOW - timedelta(days=500),
    )
