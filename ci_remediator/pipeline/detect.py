"""The detect step: turn failed runs GitHub reports into Failure rows, exactly once each.

`poll_repository` is the step of the poll task; `record_failure` is shared with webhook
deliveries (`pipeline.webhook`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.metric_samples import record_metric
from ci_remediator.db.models import DetectionSource, Failure, MonitoredRepository, Remediation
from ci_remediator.db.monitored_repositories import monitored_repository
from ci_remediator.db.notices import notice
from ci_remediator.db.upsert import dialect_insert
from ci_remediator.domain import FailureState, FollowUp, StageEvent, Step, StepResult
from ci_remediator.github.values import FAILING_CONCLUSIONS
from ci_remediator.metrics import FAILURES_DETECTED

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway, RunInfo, RunsPage


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


def record_failure(
    session: Session, *, run: RunInfo, source: DetectionSource, delivery_id: str | None = None
) -> int | None:
    """Insert the failure if it is new; the id, or None if it was already known or ours.

    `delivery_id` is the webhook delivery that reported it (`X-GitHub-Delivery`), kept in the
    audit entry so a failure can be traced back to what GitHub sent.
    """
    if run.conclusion not in FAILING_CONCLUSIONS or started_by_us(session, run):
        return None
    statement = (
        dialect_insert(session, Failure)
        .values(
            repository=run.repository,
            run_id=run.run_id,
            run_attempt=run.run_attempt,
            workflow_name=run.workflow_name,
            workflow_id=run.workflow_id,
            event=run.event,
            head_branch=run.head_branch,
            head_repository=run.head_repository,
            workflow_path=run.workflow_path,
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
        detail={
            "run_id": run.run_id,
            "run_attempt": run.run_attempt,
            "url": run.html_url,
            **({"delivery": delivery_id[:100]} if delivery_id else {}),
        },
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


def follow_ups_for_new_failure(session: Session, failure_id: int) -> tuple[FollowUp, ...]:
    return (
        notice(session, failure_id, StageEvent.DETECTED),
        FollowUp(Step.ANALYZE, failure_id),
    )


def _deep_scan(
    gateway: GitHubGateway, monitored: MonitoredRepository, *, since: datetime
) -> list[RunInfo]:
    """The failed runs created since `since`, asked page by page with the previous scan's
    ETags: a day-granular bound keeps the URLs stable, so an idle repository costs nothing."""
    since_day = since.date()
    stored = monitored.deep_scan_etags or {}
    etags = stored.get("pages", []) if stored.get("since") == since_day.isoformat() else []
    scan = gateway.deep_scan(monitored.full_name, since_day=since_day, etags=etags)
    monitored.deep_scan_etags = {"since": since_day.isoformat(), "pages": list(scan.etags)}
    return [run for run in scan.runs if run.created_at >= since]


def poll_repository(
    session: Session,
    *,
    gateway: GitHubGateway,
    repository: str,
    lookback: timedelta,
    deep_scan_every: timedelta = timedelta(hours=1),
    now: datetime | None = None,
    max_pages: int = 10,
) -> StepResult:
    """Record the repository's new failed runs; follow-ups for each new failure.

    The newest page of completed runs is asked conditionally at a URL that never changes, so
    when nothing happened GitHub answers 304 and the poll costs no rate budget. When it did
    change, pages are read back to the watermark (the newest run seen before). A run that
    completes late lands on the first page when it is recent; runs further back, and new
    attempts of old runs, are caught by webhooks and by the deep scan, an unconditional read
    of the lookback window every `deep_scan_every`.
    """
    now = now or utcnow()
    monitored = monitored_repository(session, repository)
    runs: list[RunInfo] = []
    first = gateway.runs_page(repository, etag=monitored.runs_etag)
    if not first.not_modified:
        runs.extend(first.runs)
        floor = monitored.watermark or now - lookback
        page: RunsPage | None = first
        pages_read = 1
        while page is not None and page.runs and page.runs[-1].created_at >= floor:
            if pages_read >= max_pages:
                break
            page = gateway.next_runs_page(repository, page)
            pages_read += 1
            if page is not None:
                runs.extend(page.runs)
        monitored.runs_etag = first.etag
        if monitored.deep_scanned_at is None:
            monitored.deep_scanned_at = now  # this first read went back over the lookback
    if monitored.deep_scanned_at is None or now - monitored.deep_scanned_at >= deep_scan_every:
        runs.extend(_deep_scan(gateway, monitored, since=now - lookback))
        monitored.deep_scanned_at = now
    follow_ups: list[FollowUp] = []
    for run in runs:
        failure_id = record_failure(session, run=run, source=DetectionSource.POLL)
        if failure_id is not None:
            follow_ups.extend(follow_ups_for_new_failure(session, failure_id))
    newest = max((run.created_at for run in runs), default=None)
    if newest is not None and (monitored.watermark is None or newest > monitored.watermark):
        monitored.watermark = newest
    monitored.last_polled_at = now
    return StepResult(tuple(follow_ups))
