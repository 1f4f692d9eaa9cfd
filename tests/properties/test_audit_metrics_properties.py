"""Invariants of the audit trail and the metrics, on the real Postgres: every transition is one
entry, written and lost with the decision it records; detection latency is measured from what
GitHub said; remediation outcomes are recorded as GitHub reported them; MetricsTracker and
AuditLogger agree with a straightforward recomputation over any rows, windows, filters and
pages.

Examples that only touch the database run in a transaction rolled back at the end (the
readers are given a sessionmaker bound to the same connection); the one that runs the pipeline
on the GitHub sandbox commits, with the harness of test_notification_properties.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.audit_logger import ActionType, AuditLogger
from ci_remediator.db.audit import ACTION_TYPES, classify_audit, query_audit, record_audit
from ci_remediator.db.models import (
    Analysis,
    AuditEntry,
    DetectionSource,
    Failure,
    MetricSample,
    Remediation,
    RemediationStatus,
)
from ci_remediator.db.transitions import InvalidTransitionError, mark_errored, transition
from ci_remediator.domain import (
    ALLOWED_TRANSITIONS,
    ActionKind,
    Category,
    Effort,
    FailureState,
)
from ci_remediator.github.values import RunInfo
from ci_remediator.metrics_tracker import (
    ANALYSIS_SAMPLE,
    DETECTION_SAMPLE,
    REMEDIATION_SAMPLE,
    MetricsTracker,
)
from ci_remediator.pipeline.detect import record_failure
from ci_remediator.policy.catalog import FIXES_RUN
from ci_remediator.sandbox.scenarios import demo_log
from tests.integration.conftest import engine, redis_client  # noqa: F401 - fixtures
from tests.properties.profiles import examples
from tests.properties.test_approval_properties import (
    EMPTY_EVERY_TABLE,
    QUIET,
    World,
    world_fixture,  # noqa: F401 - `world`
)
from tests.properties.test_notification_properties import detect, settle

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPOSITORIES = ("acme/web", "acme/API", "other/tool")
STATES = list(FailureState)


@contextmanager
def rolled_back(bind: Engine) -> Iterator[tuple[Session, sessionmaker[Session]]]:
    """One example's session on empty tables, and a sessionmaker for readers on the same
    connection (they see its flushed rows); everything is rolled back at the end, commits
    and the emptying included."""
    with bind.connect() as connection:
        outer = connection.begin()
        # What examples that commit left behind is not this example's.
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


def add_failure(
    session: Session,
    *,
    repository: str = "acme/web",
    run_id: int = 1,
    state: FailureState = FailureState.DETECTED,
    detected_at: datetime = T0,
) -> Failure:
    failure = Failure(
        repository=repository,
        run_id=run_id,
        run_attempt=1,
        workflow_name="CI",
        workflow_id=1,
        event="push",
        head_branch="main",
        head_sha="a" * 40,
        html_url=f"https://github.com/{repository}/actions/runs/{run_id}",
        run_created_at=detected_at - timedelta(minutes=5),
        detected_at=detected_at,
        updated_at=detected_at,
        source=DetectionSource.POLL,
        state=state,
    )
    session.add(failure)
    session.flush()
    return failure


def transitions_of(session: Session, failure_id: int) -> list[tuple[str | None, str | None, str]]:
    return [
        (entry.from_state, entry.to_state, entry.actor)
        for entry in query_audit(session, failure_id=failure_id, action="transition")
    ]


# ------------------------------------------------- 36: every transition, one entry ----


@settings(max_examples=examples(80))
@given(data=st.data())
def test_every_state_change_writes_exactly_one_audit_entry_and_nothing_else_does(
    engine: Engine,  # noqa: F811 - the fixture imported above
    data: st.DataObject,
) -> None:
    """Property 36 (Audit & Metrics): along any sequence of attempted moves (edges of the
    state machine from the current state, stale ones from a state the failure has left,
    edges the machine lacks, errored), each move that happens writes exactly one audit entry
    naming its from and to states and actor, and a move that does not happen writes none; so
    the trail replays the failure's history to its current state."""
    with rolled_back(engine) as (session, _):
        failure = add_failure(session)
        current, history = FailureState.DETECTED, []
        for step in range(data.draw(st.integers(1, 12), label="moves")):
            actor = f"actor-{step}"
            kind = data.draw(st.sampled_from(["edge", "stale", "missing", "errored"]))
            if kind == "errored":
                moved = mark_errored(session, failure_id=failure.id, error="boom", actor=actor)
                assert moved == (not current.is_terminal)
                if moved:
                    history.append((current.value, FailureState.ERRORED.value, actor))
                    current = FailureState.ERRORED
                continue
            source = current if kind == "edge" else data.draw(st.sampled_from(STATES))
            edges = sorted(ALLOWED_TRANSITIONS[source])
            if kind == "missing":
                target = data.draw(st.sampled_from(STATES))
                if target not in ALLOWED_TRANSITIONS[source]:
                    with pytest.raises(InvalidTransitionError):
                        transition(
                            session, failure_id=failure.id, expected=source, to=target, actor=actor
                        )
                    continue
            elif not edges:
                continue
            else:
                target = data.draw(st.sampled_from(edges))
            moved_from = transition(
                session, failure_id=failure.id, expected=source, to=target, actor=actor
            )
            if source is current:
                assert moved_from is current
                history.append((current.value, target.value, actor))
                current = target
            else:
                assert moved_from is None
        assert transitions_of(session, failure.id) == history
        session.refresh(failure)
        assert failure.state is current
        # The trail is a path: each entry leaves the state the previous one entered.
        assert all(a[1] == b[0] for a, b in itertools.pairwise(history))


# ------------------------------------------ 40: entries live and die with decisions ----


@settings(max_examples=examples(50))
@given(moves=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=8))
def test_an_audit_entry_is_kept_exactly_when_the_decision_it_records_is_committed(
    engine: Engine,  # noqa: F811
    moves: list[tuple[bool, bool]],
) -> None:
    """Property 40 (Audit & Metrics): the entry a transition writes is part of the
    transition's transaction: for any sequence of transactions that commit or roll back, the
    stored trail holds exactly the entries of the committed ones, and the failure's state is
    the one its last committed entry entered."""
    with rolled_back(engine) as (session, sessions):
        failure = add_failure(session)
        session.commit()
        path = [
            FailureState.DETECTED,
            FailureState.ANALYZING,
            FailureState.ANALYZED,
            FailureState.GATED,
            FailureState.AWAITING_APPROVAL,
            FailureState.EXECUTING,
            FailureState.VERIFYING,
            FailureState.RESOLVED,
        ]
        kept: list[tuple[str | None, str | None, str]] = []
        notes: list[str] = []
        at = 0
        for number, (commits, noted) in enumerate(moves):
            if at + 1 >= len(path):
                break
            actor = f"step-{number}"
            with sessions() as writer:
                writer.begin()
                moved = transition(
                    writer, failure_id=failure.id, expected=path[at], to=path[at + 1], actor=actor
                )
                assert moved is path[at]
                if noted:  # a second entry of the same decision (the gate's memory_applied)
                    record_audit(writer, actor=actor, action="memory_applied")
                if not commits:
                    writer.rollback()
                    continue
                writer.commit()
            kept.append((path[at].value, path[at + 1].value, actor))
            notes += [actor] if noted else []
            at += 1
        with sessions() as reader:
            assert transitions_of(reader, failure.id) == kept
            assert reader.get_one(Failure, failure.id).state is path[at]
            stored_notes = reader.scalars(
                select(AuditEntry.actor)
                .where(AuditEntry.action == "memory_applied")
                .order_by(AuditEntry.id)
            ).all()
            assert stored_notes == notes


# ------------------------------------------------------- 37: detection latency ----

runs_at = st.integers(-3600, 30 * 86_400).map(lambda s: timedelta(seconds=s))


@settings(max_examples=examples(50))
@given(
    runs=st.lists(
        st.tuples(runs_at, st.sampled_from(list(DetectionSource)), st.integers(1, 3)),
        min_size=1,
        max_size=5,
    ),
)
def test_each_detected_failure_gets_one_detection_latency_from_when_github_last_updated_it(
    engine: Engine,  # noqa: F811
    runs: list[tuple[timedelta, DetectionSource, int]],
) -> None:
    """Property 37 (Audit & Metrics): every failure detected, however many times polls and
    webhooks report it, gets exactly one detection latency sample, labelled with how it was
    detected, equal to the time from the run's last update on GitHub to its detection, never
    negative (a run stamped in the future by a skewed clock counts as zero)."""
    with rolled_back(engine) as (session, _):
        failures: list[tuple[int, datetime, DetectionSource]] = []
        for number, (age, source, reports) in enumerate(runs, start=1):
            updated = datetime.now(UTC) - age
            run = RunInfo(
                repository="acme/web",
                run_id=900 + number,
                run_attempt=1,
                workflow_name="CI",
                workflow_id=1,
                event="push",
                head_branch="main",
                head_sha="b" * 40,
                status="completed",
                conclusion="failure",
                html_url=f"https://github.com/acme/web/actions/runs/{900 + number}",
                created_at=updated - timedelta(minutes=3),
                updated_at=updated,
                actor="octocat",
            )
            ids = [record_failure(session, run=run, source=source) for _ in range(reports)]
            assert ids[1:] == [None] * (reports - 1)
            assert ids[0] is not None
            failures.append((ids[0], updated, source))
        for failure_id, updated, source in failures:
            (sample,) = session.scalars(
                select(MetricSample).where(
                    MetricSample.failure_id == failure_id, MetricSample.name == DETECTION_SAMPLE
                )
            ).all()
            detected_at = session.get_one(Failure, failure_id).detected_at
            expected = max(0.0, (detected_at - updated).total_seconds())
            assert sample.value >= 0
            # Both clocks are read in the same call: the sample may only be later than the row.
            assert expected <= sample.value <= expected + 60
            assert sample.labels == {"source": source.value}


# ---------------------------------------------- 38: remediation results, recorded ----


@settings(max_examples=examples(6))
@given(conclusions=st.lists(st.sampled_from(["success", "failure"]), min_size=1, max_size=2))
def test_every_remediation_outcome_is_recorded_as_github_reported_it(
    world: World, conclusions: list[str]
) -> None:
    """Property 38 (Audit & Metrics): whatever GitHub's rerun concludes, the remediation row
    records it (succeeded or failed, when it finished, what GitHub said, the attempt), the
    audit trail holds the matching transition, and MetricsTracker counts it so."""
    world.empty_tables()
    repository = world.repository("acme/recorded")
    services = world.services(**QUIET, risk_threshold=10, slack_channels=world.channels("rec"))
    detected = [
        detect(
            services,
            world,
            repository,
            log_text=demo_log("network_blip.log"),
            head_branch=f"b{n}",
            rerun_conclusions=(conclusion,),
        )
        for n, conclusion in enumerate(conclusions)
    ]
    settle(services, [f for _, follow_ups in detected for f in follow_ups])

    with services.sessions() as session:
        for (failure_id, _), conclusion in zip(detected, conclusions, strict=True):
            (remediation,) = session.scalars(
                select(Remediation).where(Remediation.failure_id == failure_id)
            ).all()
            succeeded = conclusion == "success"
            wanted = RemediationStatus.SUCCEEDED if succeeded else RemediationStatus.FAILED
            assert remediation.status is wanted
            assert remediation.requested_at is not None
            assert remediation.completed_at is not None
            assert remediation.completed_at >= remediation.requested_at
            assert remediation.outcome_detail
            assert remediation.result["attempt"] == remediation.target_attempt
            to = FailureState.RESOLVED if succeeded else FailureState.REMEDIATION_FAILED
            (entry,) = session.scalars(
                select(AuditEntry).where(
                    AuditEntry.failure_id == failure_id,
                    AuditEntry.from_state == FailureState.VERIFYING.value,
                )
            ).all()
            assert entry.to_state == to.value
            assert entry.detail["outcome"] == remediation.outcome_detail
    outcomes = MetricsTracker(services.sessions).get_remediation_outcomes(repository)
    assert (outcomes.succeeded, outcomes.failed) == (
        conclusions.count("success"),
        conclusions.count("failure"),
    )


# ---------------------------------------------------- 39: metrics, recomputed ----

offsets = st.integers(0, 10 * 86_400)


@dataclass(frozen=True)
class MetricsRows:
    analyses: list[tuple[int, int, Category, int]]  # repository, risk, category, created
    remediations: list[tuple[int, ActionKind, RemediationStatus, int]]  # ..., completed
    resolutions: list[tuple[int, int, int]]  # repository, detected, seconds to resolve
    samples: list[tuple[int | None, str, float, int]]  # repository or none, name, value, at


metrics_rows = st.builds(
    MetricsRows,
    analyses=st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 10), st.sampled_from(list(Category)), offsets),
        max_size=8,
    ),
    remediations=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from(list(ActionKind)),
            st.sampled_from(list(RemediationStatus)),
            offsets,
        ),
        max_size=8,
    ),
    resolutions=st.lists(st.tuples(st.integers(0, 2), offsets, st.integers(0, 86_400)), max_size=6),
    samples=st.lists(
        st.tuples(
            st.none() | st.integers(0, 2),
            st.sampled_from([DETECTION_SAMPLE, ANALYSIS_SAMPLE, REMEDIATION_SAMPLE, "other"]),
            st.floats(0, 1e6, allow_nan=False),
            offsets,
        ),
        max_size=10,
    ),
)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
)


@st.composite
def windows(draw: st.DrawFn) -> tuple[str | None, datetime | None, datetime | None]:
    repository = draw(st.none() | st.sampled_from(REPOSITORIES))
    if repository is not None and draw(st.booleans()):
        repository = repository.swapcase()  # GitHub's names are case-insensitive
    bounds = sorted(draw(st.lists(offsets, min_size=2, max_size=2)))
    since = (T0 + timedelta(seconds=bounds[0])).astimezone(draw(zones))
    until = (T0 + timedelta(seconds=bounds[1])).astimezone(draw(zones))
    return (
        repository,
        since if draw(st.booleans()) else None,
        until if draw(st.booleans()) else None,
    )


def in_window(moment: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    if moment is None:
        return False
    return (since is None or moment >= since) and (until is None or moment < until)


def percentiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    """p50 and p95, linearly interpolated between the closest ranks (numpy's default)."""
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=examples(50))
@given(rows=metrics_rows, window=windows())
def test_metrics_tracker_figures_equal_a_straightforward_recomputation(
    engine: Engine,  # noqa: F811
    rows: MetricsRows,
    window: tuple[str | None, datetime | None, datetime | None],
) -> None:
    """Property 39 (Audit & Metrics): for any analyses, remediations, resolutions and latency
    samples, and any window (repository in any case, bounds in any time zone), success rate,
    average resolution time, risk and category distributions and the p50/p95 of each latency
    equal a recomputation over the rows in the window."""
    repository, since, until = window
    wanted = repository.lower() if repository else None

    def of(index: int | None) -> bool:
        return wanted is None or (index is not None and REPOSITORIES[index].lower() == wanted)

    with rolled_back(engine) as (session, sessions):
        run_ids = iter(range(1, 10_000))

        def failure(index: int, at: int = 0) -> Failure:
            return add_failure(
                session,
                repository=REPOSITORIES[index],
                run_id=next(run_ids),
                detected_at=T0 + timedelta(seconds=at),
            )

        for index, risk, category, created in rows.analyses:
            session.add(
                analysis_row(failure(index), risk, category, T0 + timedelta(seconds=created))
            )
        for index, action, status, completed in rows.remediations:
            owner = failure(index)
            finished = status in (
                RemediationStatus.SUCCEEDED,
                RemediationStatus.FAILED,
                RemediationStatus.REFUSED,
            )
            session.add(
                Remediation(
                    failure_id=owner.id,
                    action=action,
                    status=status,
                    repository=owner.repository,
                    run_id=owner.run_id,
                    target_attempt=2,
                    completed_at=T0 + timedelta(seconds=completed) if finished else None,
                )
            )
        for index, detected, seconds in rows.resolutions:
            owner = failure(index, detected)
            session.add(
                AuditEntry(
                    at=owner.detected_at + timedelta(seconds=seconds),
                    failure_id=owner.id,
                    actor="verifier",
                    action="transition",
                    from_state="verifying",
                    to_state="resolved",
                )
            )
        for index, name, value, at in rows.samples:
            owner = failure(index) if index is not None else None
            session.add(
                MetricSample(
                    at=T0 + timedelta(seconds=at),
                    name=name,
                    value=value,
                    failure_id=owner.id if owner else None,
                )
            )
        session.flush()
        tracker = MetricsTracker(sessions)
        report = tracker.report(repository, since, until)

    finished = [
        status
        for index, action, status, completed in rows.remediations
        if of(index)
        and action in FIXES_RUN
        and status
        in (RemediationStatus.SUCCEEDED, RemediationStatus.FAILED, RemediationStatus.REFUSED)
        and in_window(T0 + timedelta(seconds=completed), since, until)
    ]
    counts = Counter(finished)
    assert (report.remediations.succeeded, report.remediations.failed) == (
        counts[RemediationStatus.SUCCEEDED],
        counts[RemediationStatus.FAILED],
    )
    assert report.remediations.refused == counts[RemediationStatus.REFUSED]
    decided = counts[RemediationStatus.SUCCEEDED] + counts[RemediationStatus.FAILED]
    rate = counts[RemediationStatus.SUCCEEDED] / decided if decided else None
    assert close(report.remediations.success_rate, rate)

    resolved = [
        seconds
        for index, detected, seconds in rows.resolutions
        if of(index) and in_window(T0 + timedelta(seconds=detected + seconds), since, until)
    ]
    assert report.resolved == len(resolved)
    assert close(
        report.average_resolution_seconds, statistics.fmean(resolved) if resolved else None
    )

    shown = [
        (risk, category)
        for index, risk, category, created in rows.analyses
        if of(index) and in_window(T0 + timedelta(seconds=created), since, until)
    ]
    assert dict(report.risk_scores) == {
        score: sum(r == score for r, _ in shown) for score in range(11)
    }
    assert dict(report.categories) == {c: sum(k is c for _, k in shown) for c in Category}

    for name, summary in (
        (DETECTION_SAMPLE, report.latency.detection),
        (ANALYSIS_SAMPLE, report.latency.analysis),
        (REMEDIATION_SAMPLE, report.latency.remediation),
    ):
        values = sorted(
            value
            for index, sample, value, at in rows.samples
            if sample == name
            and (wanted is None or of(index))
            and in_window(T0 + timedelta(seconds=at), since, until)
        )
        p50, p95 = percentiles(values)
        assert summary.count == len(values)
        assert close(summary.p50, p50)
        assert close(summary.p95, p95)


def analysis_row(failure: Failure, risk: int, category: Category, created: datetime) -> Analysis:
    return Analysis(
        failure_id=failure.id,
        category=category,
        risk_score=risk,
        rules_risk_score=risk,
        confidence=0.5,
        flaky=False,
        summary="s",
        root_cause="r",
        proposed_action=ActionKind.NONE,
        analyzer="rules",
        effort=Effort.SMALL,
        excerpt="e",
        created_at=created,
    )


# ----------------------------------------------------- 41: audit log filtering ----

ACTORS = (
    "human:alice",
    "human:bob",
    "safety_gate",
    "analyzer",
    "human:50%_off",
    "human:5000",
    "human_x",
)
OUTCOMES = ("success", "failure", "partial")
# Actor prefixes, some with LIKE's wildcards in them: "%" and "_" must match only themselves.
PREFIXES = ("human:*", "human:50%*", "human:_*", "human:5*")
EDGES = [(s.value, t.value) for s, targets in ALLOWED_TRANSITIONS.items() for t in targets]


@st.composite
def audit_entries(draw: st.DrawFn) -> tuple[int, int | None, str, str, str | None, str | None, str]:
    """(at, failure index or none, actor, action, from, to, outcome)"""
    kind = draw(st.sampled_from(["transition", "odd edge", "named", "unknown"]))
    from_state = to_state = None
    if kind == "transition":
        action = "transition"
        from_state, to_state = draw(st.sampled_from(EDGES))
    elif kind == "odd edge":
        action, from_state, to_state = "transition", "resolved", "analyzing"
    elif kind == "named":
        action = draw(st.sampled_from(sorted(ACTION_TYPES)))
    else:
        action = "mystery_action"
    return (
        draw(st.integers(0, 5 * 86_400)),
        draw(st.none() | st.integers(0, 2)),
        draw(st.sampled_from(ACTORS)),
        action,
        from_state,
        to_state,
        draw(st.sampled_from(OUTCOMES)),
    )


@st.composite
def audit_filters(draw: st.DrawFn) -> dict[str, Any]:
    """A combination of filters, each present a third of the time (so that matches are
    common), the actor half the time."""

    def present(share: int = 3) -> bool:
        return draw(st.integers(1, share)) == 1

    filters: dict[str, Any] = {}
    if present():
        start = T0 + timedelta(seconds=draw(st.integers(0, 5 * 86_400)))
        filters["start_date"] = start.astimezone(draw(zones))
    if present():
        end = T0 + timedelta(seconds=draw(st.integers(0, 5 * 86_400)))
        if "start_date" in filters and end < filters["start_date"]:
            end = filters["start_date"]
        # Naive means UTC.
        naive = end.astimezone(UTC).replace(tzinfo=None)
        filters["end_date"] = naive if draw(st.booleans()) else end
    if present():
        filters["action_type"] = draw(st.sampled_from(list(ActionType)))
    if present():
        repository = draw(st.sampled_from(REPOSITORIES))
        filters["repository"] = repository.upper() if draw(st.booleans()) else repository
    if present(2):
        # Prefixes with LIKE's wildcards in them half the time: they must match literally.
        filters["actor"] = draw(st.sampled_from(PREFIXES) | st.sampled_from([*ACTORS, "nobody"]))
    if present():
        filters["outcome"] = draw(st.sampled_from(OUTCOMES))
    return filters


def matches(entry: AuditEntry, repository: str | None, filters: dict[str, Any]) -> bool:
    def utc(moment: datetime) -> datetime:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    actor = filters.get("actor")
    wanted_repository = filters.get("repository")
    checks = (
        "start_date" not in filters or entry.at >= utc(filters["start_date"]),
        "end_date" not in filters or entry.at < utc(filters["end_date"]),
        "action_type" not in filters
        or classify_audit(entry.action, entry.from_state, entry.to_state) is filters["action_type"],
        wanted_repository is None
        or (repository is not None and repository.lower() == wanted_repository.lower()),
        actor is None
        or (entry.actor.startswith(actor[:-1]) if actor.endswith("*") else entry.actor == actor),
        "failure_id" not in filters or entry.failure_id == filters["failure_id"],
        "outcome" not in filters or entry.outcome == filters["outcome"],
    )
    return all(checks)


@settings(max_examples=examples(60))
@given(
    entries=st.lists(audit_entries(), max_size=20),
    filters=audit_filters(),
    by_failure=st.none() | st.integers(0, 2),
    page=st.integers(1, 5),
)
def test_audit_queries_return_exactly_the_matching_entries_in_order_page_after_page(
    engine: Engine,  # noqa: F811
    entries: list[tuple[int, int | None, str, str, str | None, str | None, str]],
    filters: dict[str, Any],
    by_failure: int | None,
    page: int,
) -> None:
    """Property 41 (Audit & Metrics): for any entries and any combination of filters (time
    bounds in any zone or naive, kind, repository in any case, actor exact or by prefix,
    failure, outcome), AuditLogger.query_logs pages through exactly the matching entries,
    oldest first with ties by id, each once, and count_logs says how many."""
    with rolled_back(engine) as (session, sessions):
        failures = [
            add_failure(session, repository=repository, run_id=n)
            for n, repository in enumerate(REPOSITORIES, start=1)
        ]
        stored = []
        for at, index, actor, action, from_state, to_state, outcome in entries:
            entry = AuditEntry(
                at=T0 + timedelta(seconds=at),
                failure_id=failures[index].id if index is not None else None,
                actor=actor,
                action=action,
                from_state=from_state,
                to_state=to_state,
                outcome=outcome,
                detail={},
            )
            session.add(entry)
            session.flush()
            stored.append((entry, failures[index].repository if index is not None else None))
        if by_failure is not None:
            filters = {**filters, "failure_id": failures[by_failure].id}
        logger = AuditLogger(sessions)
        pages: list[list[int]] = []
        offset = 0
        while True:
            found = logger.query_logs(filters, limit=page, offset=offset)
            pages.append([entry.id for entry in found])
            if len(found) < page:
                break
            offset += page
        total = logger.count_logs(filters)
        by_prefix = {
            prefix: [entry.id for entry in logger.query_logs({"actor": prefix}, limit=100)]
            for prefix in PREFIXES
        }

    wanted = [
        entry.id
        for entry, repository in sorted(stored, key=lambda pair: (pair[0].at, pair[0].id))
        if matches(entry, repository, filters)
    ]
    returned = [entry_id for ids in pages for entry_id in ids]
    assert returned == wanted
    assert all(len(ids) == page for ids in pages[:-1])
    assert total == len(wanted)
    # Each prefix alone, those with LIKE's wildcards in them included: matched literally.
    for prefix, found in by_prefix.items():
        assert found == [
            entry.id
            for entry, repository in sorted(stored, key=lambda pair: (pair[0].at, pair[0].id))
            if matches(entry, repository, {"actor": prefix})
        ], prefix
