"""Detection: turn failed runs GitHub reports into Failure rows, exactly once each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ci_remediator.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import DetectionSource, Failure, MonitoredRepository, Remediation
from ci_remediator.domain import FailureState, FollowUp, StageEvent, Step
from ci_remediator.metrics import FAILURES_DETECTED, record_metric

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway, RunInfo

FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})


def started_by_us(session: Session, run: RunInfo) -> bool:
    """Is this attempt one that a remediation of ours started? Then verify judges it."""
    return (
        session.scalar(
            select(Remediation.id).where(
                Remediation.repository == run.repository,
                Remediation.run_id == run.run_id,
                Remediation.target_attempt == run.run_attempt,
            )
        )
        is not None
    )


def record_failure(session: Session, *, run: RunInfo, source: DetectionSource) -> int | None:
    """Insert the failure if it is new; the id, or None if it was already known or ours."""
    if run.conclusion not in FAILING_CONCLUSIONS or started_by_us(session, run):
        return None
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(Failure)
        .values(
            repository=run.repository,
            run_id=run.run_id,
            run_attempt=run.run_attempt,
            workflow_name=run.workflow_name,
            workflow_id=run.workflow_id,
            event=run.event,
            head_branch=run.head_branch,
            head_sha=run.head_sha,
            conclusion=run.conclusion,
            html_url=run.html_url,
            run_created_at=run.created_at,
            detected_at=utcnow(),
            source=source,
            state=FailureState.DETECTED,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["repository", "run_id", "run_attempt"])
        .returning(Failure.id)
    )
    failure_id = session.scalar(statement)
    if failure_id is None:
        return None
    record_audit(
        session,
        actor=f"detector:{source.value}",
        action="detected",
        failure_id=failure_id,
        to_state=FailureState.DETECTED.value,
        detail={"run_id": run.run_id, "run_attempt": run.run_attempt, "url": run.html_url},
    )
    record_metric(
        session,
        name="detection_latency_seconds",
        value=max(0.0, (utcnow() - run.updated_at).total_seconds()),
        failure_id=failure_id,
        labels={"source": source.value},
    )
    FAILURES_DETECTED.labels(source=source.value).inc()
    return failure_id


def follow_ups_for_new_failure(failure_id: int) -> list[FollowUp]:
    return [
        FollowUp(Step.NOTIFY, failure_id, event=StageEvent.DETECTED),
        FollowUp(Step.ANALYZE, failure_id),
    ]


def monitored_repository(session: Session, full_name: str) -> MonitoredRepository:
    repository = session.scalar(
        select(MonitoredRepository).where(MonitoredRepository.full_name == full_name)
    )
    if repository is None:
        repository = MonitoredRepository(full_name=full_name)
        session.add(repository)
        session.flush()
    return repository


def poll_repository(
    session: Session,
    *,
    gateway: GitHubGateway,
    repository: str,
    lookback: timedelta,
    now: datetime | None = None,
) -> list[FollowUp]:
    """Record the repository's failed runs of the lookback window; follow-ups for the new ones.

    The window is scanned whole each time rather than from the newest run seen: a long run
    created before a newer one can fail after it, and a created-since watermark would miss it.
    Inserts are idempotent, so re-reading costs requests, never duplicates.
    """
    now = now or utcnow()
    monitored = monitored_repository(session, repository)
    runs = gateway.list_failed_runs(repository, since=now - lookback)
    follow_ups: list[FollowUp] = []
    for run in runs:
        failure_id = record_failure(session, run=run, source=DetectionSource.POLL)
        if failure_id is not None:
            follow_ups.extend(follow_ups_for_new_failure(failure_id))
    newest = max((run.created_at for run in runs), default=None)
    if newest is not None and (monitored.watermark is None or newest > monitored.watermark):
        monitored.watermark = newest
    monitored.last_polled_at = now
    return follow_ups
