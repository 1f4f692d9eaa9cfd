"""How well remediation works, from the stored history: success rate, time to resolution,
risk and category mix, stage latencies and what the model cost.

This is the product's record (the `remediations`, `analyses`, `audit_entries` and
`metric_samples` tables), for reports and `ci-remediator metrics`; the live counters a
Prometheus scrape reads are `ci_remediator.metrics`.

Every figure takes the same window: `repository` ("owner/name", case-insensitive), `since`
(inclusive) and `until` (exclusive), datetimes where naive means UTC. Each figure is windowed
by the moment of the event it counts, so "last week" means what happened last week:

- remediation outcomes: when the remediation finished (`remediations.completed_at`);
- resolution time: when the failure was resolved (its audit transition to `resolved`);
- risk, categories, model usage: when the analysis was stored (`analyses.created_at`);
- latencies: when the sample was taken (`metric_samples.at`).

An empty window is no error: rates, averages and percentiles are None, counts are zero.
Percentiles interpolate linearly between the two nearest samples (Postgres's
`percentile_cont`, numpy's default), computed here so SQLite (the embedded form) agrees.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.audit_logger import as_utc, check_repository, check_window
from ci_remediator.db.audit import TRANSITION, Statement
from ci_remediator.db.models import (
    Analysis,
    AuditEntry,
    Failure,
    MetricSample,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import Category, FailureState
from ci_remediator.policy.catalog import FIXES_RUN

# The samples the pipeline records (pipeline/detect.py, analyze.py, verify.py).
DETECTION_SAMPLE = "detection_latency_seconds"
ANALYSIS_SAMPLE = "analysis_latency_seconds"
REMEDIATION_SAMPLE = "remediation_latency_seconds"

RISK_SCORES = range(11)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    repository: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def checked(
        cls, repository: object = None, since: object = None, until: object = None
    ) -> Window:
        """FilterError (a ValueError) naming `repository`, `since` or `until` when one is bad."""
        start, end = as_utc("since", since), as_utc("until", until)
        check_window(start, end, until_key="until")
        return cls(repository=check_repository("repository", repository), since=start, until=end)

    def as_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True, slots=True)
class RemediationOutcomes:
    """Finished remediations of the actions meant to fix the run (a tracking issue opened is
    no fix, as for the circuit breaker). `refused` ones (GitHub would not start them) never
    ran, so they are neither a success nor a failure of the remediation."""

    succeeded: int = 0
    failed: int = 0
    refused: int = 0

    @property
    def success_rate(self) -> float | None:
        finished = self.succeeded + self.failed
        return self.succeeded / finished if finished else None


@dataclass(frozen=True, slots=True)
class LatencySummary:
    count: int = 0
    p50: float | None = None
    p95: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "p50": self.p50, "p95": self.p95}


@dataclass(frozen=True, slots=True)
class LatencyPercentiles:
    """Seconds, from the samples the pipeline takes as each stage ends.

    - `detection`: from the run's last update on GitHub (when it finished failing) to the
      failure being recorded: the poll interval and webhook lag. Not from the run's creation,
      which would add the run's own duration and, for a re-run attempt, the earlier ones.
    - `analysis`: the analyze step's own running time (reading the logs from GitHub, the
      rules, the model call), without its wait in the queue.
    - `remediation`: from GitHub accepting the action to verify seeing the new attempt
      conclude, for the actions meant to fix the run.
    """

    detection: LatencySummary = field(default_factory=LatencySummary)
    analysis: LatencySummary = field(default_factory=LatencySummary)
    remediation: LatencySummary = field(default_factory=LatencySummary)

    def as_json(self) -> dict[str, Any]:
        return {
            "detection": self.detection.as_json(),
            "analysis": self.analysis.as_json(),
            "remediation": self.remediation.as_json(),
        }


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """What the analyses stored in the window cost. `model_analyses` are those that called a
    model (tokens spent); `by_analyzer` counts every analysis by who answered ("rules",
    "llm", "rules_fallback", "cache" for a reused analysis)."""

    analyses: int = 0
    model_analyses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    by_analyzer: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "analyses": self.analyses,
            "model_analyses": self.model_analyses,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": self.cost_usd,
            "by_analyzer": dict(self.by_analyzer),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsReport:
    window: Window
    remediations: RemediationOutcomes
    resolved: int
    average_resolution_seconds: float | None
    risk_scores: Mapping[int, int]
    categories: Mapping[Category, int]
    latency: LatencyPercentiles
    model_usage: ModelUsage

    def as_json(self) -> dict[str, Any]:
        return {
            "window": self.window.as_json(),
            "remediations": {
                "succeeded": self.remediations.succeeded,
                "failed": self.remediations.failed,
                "refused": self.remediations.refused,
                "success_rate": self.remediations.success_rate,
            },
            "resolved": self.resolved,
            "average_resolution_seconds": self.average_resolution_seconds,
            "risk_scores": {str(score): count for score, count in self.risk_scores.items()},
            "categories": {category.value: n for category, n in self.categories.items()},
            "latency_seconds": self.latency.as_json(),
            "model_usage": self.model_usage.as_json(),
        }


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """The `fraction` percentile of ascending `ordered`, linearly interpolated; None if empty."""
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _in_window(statement: Statement, column: Any, window: Window) -> Statement:
    if window.since is not None:
        statement = statement.where(column >= window.since)
    if window.until is not None:
        statement = statement.where(column < window.until)
    return statement


def _of_repository(statement: Statement, column: Any, window: Window) -> Statement:
    if window.repository is None:
        return statement
    return statement.where(func.lower(column) == window.repository.lower())


def remediation_outcomes(session: Session, window: Window) -> RemediationOutcomes:
    statement = (
        select(Remediation.status, func.count(Remediation.id))
        .where(
            Remediation.action.in_(FIXES_RUN),
            Remediation.status.in_(
                [RemediationStatus.SUCCEEDED, RemediationStatus.FAILED, RemediationStatus.REFUSED]
            ),
        )
        .group_by(Remediation.status)
    )
    statement = _in_window(statement, Remediation.completed_at, window)
    statement = _of_repository(statement, Remediation.repository, window)
    counts: dict[RemediationStatus, int] = dict(session.execute(statement).all())
    return RemediationOutcomes(
        succeeded=counts.get(RemediationStatus.SUCCEEDED, 0),
        failed=counts.get(RemediationStatus.FAILED, 0),
        refused=counts.get(RemediationStatus.REFUSED, 0),
    )


def resolution_seconds(session: Session, window: Window) -> list[float]:
    """Seconds from detection to resolution, one per failure resolved in the window. The
    audit transition is the moment of resolution (`failures.updated_at` moves on later
    writes; the trail never does)."""
    statement = (
        select(AuditEntry.at, Failure.detected_at)
        .join(Failure, AuditEntry.failure_id == Failure.id)
        .where(AuditEntry.action == TRANSITION, AuditEntry.to_state == FailureState.RESOLVED.value)
    )
    statement = _in_window(statement, AuditEntry.at, window)
    statement = _of_repository(statement, Failure.repository, window)
    return [
        (resolved_at - detected_at).total_seconds()
        for resolved_at, detected_at in session.execute(statement)
    ]


def _analyses(statement: Statement, window: Window) -> Statement:
    statement = _in_window(statement, Analysis.created_at, window)
    if window.repository is not None:
        statement = _of_repository(
            statement.join(Failure, Analysis.failure_id == Failure.id), Failure.repository, window
        )
    return statement


def risk_score_distribution(session: Session, window: Window) -> dict[int, int]:
    statement = _analyses(
        select(Analysis.risk_score, func.count(Analysis.id)).group_by(Analysis.risk_score), window
    )
    counts = dict(session.execute(statement).all())
    return {score: counts.get(score, 0) for score in RISK_SCORES}


def category_distribution(session: Session, window: Window) -> dict[Category, int]:
    statement = _analyses(
        select(Analysis.category, func.count(Analysis.id)).group_by(Analysis.category), window
    )
    counts = dict(session.execute(statement).all())
    return {category: counts.get(category, 0) for category in Category}


def model_usage(session: Session, window: Window) -> ModelUsage:
    totals = session.execute(
        _analyses(
            select(
                func.count(Analysis.id),
                func.count(Analysis.id).filter(Analysis.tokens_used > 0),
                func.coalesce(func.sum(Analysis.prompt_tokens), 0),
                func.coalesce(func.sum(Analysis.completion_tokens), 0),
                func.coalesce(func.sum(Analysis.tokens_used), 0),
                func.coalesce(func.sum(Analysis.cost_usd), 0.0),
            ),
            window,
        )
    ).one()
    by_analyzer = session.execute(
        _analyses(
            select(Analysis.analyzer, func.count(Analysis.id))
            .group_by(Analysis.analyzer)
            .order_by(Analysis.analyzer),
            window,
        )
    )
    analyses, model_analyses, prompt, completion, total, cost = totals
    return ModelUsage(
        analyses=analyses,
        model_analyses=model_analyses,
        prompt_tokens=int(prompt),
        completion_tokens=int(completion),
        total_tokens=int(total),
        cost_usd=float(cost),
        by_analyzer=dict(by_analyzer.all()),
    )


def latency_summary(session: Session, window: Window, *, name: str) -> LatencySummary:
    statement = select(MetricSample.value).where(MetricSample.name == name)
    statement = _in_window(statement, MetricSample.at, window)
    if window.repository is not None:
        statement = _of_repository(
            statement.join(Failure, MetricSample.failure_id == Failure.id),
            Failure.repository,
            window,
        )
    values = sorted(session.scalars(statement))
    return LatencySummary(
        count=len(values), p50=percentile(values, 0.50), p95=percentile(values, 0.95)
    )


def latency_percentiles(session: Session, window: Window) -> LatencyPercentiles:
    return LatencyPercentiles(
        detection=latency_summary(session, window, name=DETECTION_SAMPLE),
        analysis=latency_summary(session, window, name=ANALYSIS_SAMPLE),
        remediation=latency_summary(session, window, name=REMEDIATION_SAMPLE),
    )


class MetricsTracker:
    """The figures of the product README's "Metrics", over a window (see the module's
    docstring). `db` is a `sessionmaker` (`Services.sessions`); each call opens one short
    read-only session. A bad argument is a FilterError (a ValueError) naming it."""

    def __init__(self, db: sessionmaker[Session]) -> None:
        self._sessions = db

    def get_success_rate(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> float | None:
        """The share of finished remediations that fixed the run (0.0 to 1.0); None when no
        remediation finished in the window."""
        return self.get_remediation_outcomes(repository, since, until).success_rate

    def get_remediation_outcomes(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> RemediationOutcomes:
        window = Window.checked(repository, since, until)
        with self._sessions() as session:
            return remediation_outcomes(session, window)

    def get_average_resolution_time(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> float | None:
        """Mean seconds from detection to resolution of the failures resolved in the window;
        None when none was. Failures escalated, rejected or handed over are not resolved."""
        window = Window.checked(repository, since, until)
        with self._sessions() as session:
            durations = resolution_seconds(session, window)
        return sum(durations) / len(durations) if durations else None

    def get_risk_score_distribution(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[int, int]:
        """{0..10: analyses with that risk score}, every score present (zero when none)."""
        window = Window.checked(repository, since, until)
        with self._sessions() as session:
            return risk_score_distribution(session, window)

    def get_category_distribution(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[Category, int]:
        """{category: analyses in it}, every category present (zero when none)."""
        window = Window.checked(repository, since, until)
        with self._sessions() as session:
            return category_distribution(session, window)

    def latency_percentiles(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> LatencyPercentiles:
        """p50 and p95 of detection, analysis and remediation latency, in seconds (what each
        measures: `LatencyPercentiles`)."""
        window = Window.checked(repository, since, until)
        with self._sessions() as session:
            return latency_percentiles(session, window)

    def model_usage(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ModelUsage:
        """Tokens and dollars the analyses stored in the window spent on the model."""
        window = Window.checked(repository, since, until)
        with self._sessions() as session:
            return model_usage(session, window)

    def report(
        self,
        repository: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> MetricsReport:
        """Every figure at once, read in one session (what `ci-remediator metrics` prints)."""
        window = Window.checked(repository, since, until)
        with self._sessions() as session:
            durations = resolution_seconds(session, window)
            return MetricsReport(
                window=window,
                remediations=remediation_outcomes(session, window),
                resolved=len(durations),
                average_resolution_seconds=sum(durations) / len(durations) if durations else None,
                risk_scores=risk_score_distribution(session, window),
                categories=category_distribution(session, window),
                latency=latency_percentiles(session, window),
                model_usage=model_usage(session, window),
            )
