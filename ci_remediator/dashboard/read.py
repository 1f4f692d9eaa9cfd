"""What the dashboard shows, read from the database in one short session: the latest
failures, the approvals waiting for someone, and the metrics of the last days.

Everything here is data: rendering (and its escaping) is `render.py`'s. Text that came from
GitHub, logs or the model (repository, workflow and branch names, summaries, approvers) is
kept as it is, less the characters that make text read as something else
(`notify.untrusted.neutralize`); links are kept only when they are plain http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from ci_remediator.db.approvals import ApprovalRow, list_approvals
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Failure, NotificationThread
from ci_remediator.metrics_tracker import MetricsReport, MetricsTracker
from ci_remediator.notify.untrusted import is_plain_http_url, neutralize

RECENT_FAILURES = 50
METRICS_WINDOW = timedelta(days=7)
SUMMARY_CHARS = 200

# (channel, ts) of a Slack thread -> a link to it, or None.
ThreadLink = Callable[[str, str], str | None]


def _shown(text: str | None, max_chars: int = 300) -> str:
    return neutralize(text or "", max_chars=max_chars).replace("\n", " ")


def _link(url: str | None) -> str | None:
    return url if url and is_plain_http_url(url) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureRow:
    id: int
    repository: str
    workflow_name: str
    branch: str
    run_id: int
    run_attempt: int
    state: str
    category: str | None
    risk: int | None
    verdict: str | None
    flaky: bool | None
    summary: str
    detected_at: datetime
    run_url: str | None
    slack_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingApproval:
    id: int
    failure_id: int
    repository: str
    workflow_name: str
    run_id: int
    run_attempt: int
    action: str
    age_s: float
    expires_in_s: float


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as printed beside the bar


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]

    @property
    def peak(self) -> float:
        return max((bar.value for bar in self.bars), default=0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DashboardView:
    generated_at: datetime
    window_days: int
    failures: Sequence[FailureRow]
    approvals: Sequence[PendingApproval]
    report: MetricsReport
    charts: Sequence[Chart]


def recent_failures(
    session: Session, *, thread_link: ThreadLink, limit: int = RECENT_FAILURES
) -> list[FailureRow]:
    failures = session.scalars(
        select(Failure)
        .options(selectinload(Failure.analysis), selectinload(Failure.gate_decision))
        .order_by(Failure.detected_at.desc(), Failure.id.desc())
        .limit(limit)
    ).all()
    # A burst's members post into their leader's thread.
    thread_of = {failure.id: failure.burst_of or failure.id for failure in failures}
    threads = {
        thread.failure_id: thread
        for thread in session.scalars(
            select(NotificationThread).where(
                NotificationThread.failure_id.in_(set(thread_of) | set(thread_of.values()))
            )
        )
    }
    rows = []
    for failure in failures:
        analysis, gate = failure.analysis, failure.gate_decision
        thread = threads.get(failure.id) or threads.get(thread_of[failure.id])
        rows.append(
            FailureRow(
                id=failure.id,
                repository=_shown(failure.repository),
                workflow_name=_shown(failure.workflow_name),
                branch=_shown(failure.head_branch),
                run_id=failure.run_id,
                run_attempt=failure.run_attempt,
                state=failure.state.value,
                category=analysis.category.value if analysis else None,
                risk=gate.effective_risk if gate else (analysis.risk_score if analysis else None),
                verdict=gate.verdict.value if gate else None,
                flaky=analysis.flaky if analysis else None,
                summary=_shown(analysis.summary if analysis else "", SUMMARY_CHARS),
                detected_at=failure.detected_at,
                run_url=_link(failure.html_url),
                slack_url=_link(thread_link(thread.channel, thread.ts)) if thread else None,
            )
        )
    return rows


def pending_approvals(session: Session, *, now: datetime) -> list[PendingApproval]:
    def pending(row: ApprovalRow) -> PendingApproval:
        return PendingApproval(
            id=row.id,
            failure_id=row.failure_id,
            repository=_shown(row.repository),
            workflow_name=_shown(row.workflow_name),
            run_id=row.run_id,
            run_attempt=row.run_attempt,
            action=row.action,
            age_s=max(0.0, (now - row.requested_at).total_seconds()),
            expires_in_s=(row.expires_at - now).total_seconds(),
        )

    return [pending(row) for row in list_approvals(session, pending_only=True)]


def _seconds(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def format_duration(seconds: float) -> str:
    """3 s, 4 min, 2.5 h, 3.1 d: short enough for a table cell or a bar's label."""
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def charts(report: MetricsReport) -> list[Chart]:
    latency = report.latency
    stages = (
        ("detection", latency.detection),
        ("analysis", latency.analysis),
        ("remediation", latency.remediation),
    )
    return [
        Chart(
            "Risk score (analyses)",
            tuple(Bar(str(score), n, str(n)) for score, n in report.risk_scores.items()),
        ),
        Chart(
            "Category (analyses)",
            tuple(Bar(category.value, n, str(n)) for category, n in report.categories.items()),
        ),
        Chart(
            "Latency p50 / p95",
            tuple(
                Bar(f"{name} {label}", value or 0.0, _seconds(value))
                for name, summary in stages
                for label, value in (("p50", summary.p50), ("p95", summary.p95))
            ),
        ),
    ]


def read_dashboard(
    sessions: sessionmaker[Session], *, thread_link: ThreadLink, now: datetime | None = None
) -> DashboardView:
    now = now or utcnow()
    with sessions() as session:
        failures = recent_failures(session, thread_link=thread_link)
        approvals = pending_approvals(session, now=now)
    report = MetricsTracker(sessions).report(since=now - METRICS_WINDOW)
    return DashboardView(
        generated_at=now,
        window_days=METRICS_WINDOW.days,
        failures=failures,
        approvals=approvals,
        report=report,
        charts=charts(report),
    )
