"""The `ci_remediator_*` Prometheus series of the web process, read from Postgres at scrape time.

The counters in `ci_remediator.metrics` live in each worker process and die with it; the web
process that Prometheus scrapes never increments them. The database is the one place every
process writes to, so the web's `/metrics` answers from there: `DatabaseCollector` runs a fixed
handful of GROUP BY queries per scrape (`STATEMENTS_PER_SCRAPE`, whatever the row counts), and
nothing is shared between hosts (no prometheus multiprocess directory).

A scrape never fails because the database does: the figures are read first, all or nothing, and
a database fault leaves only `ci_remediator_database_up 0` and the growing
`ci_remediator_metrics_scrape_errors_total`, answered with a 200, so the alert is on the value
and not on a scrape target gone missing.

Series (label values are lower-cased; cardinality is bounded by what the deployment holds):

- `ci_remediator_failures{repository, state}` gauge: failures now in each state. Every state
  (14) is present for each repository that has a stored failure, zero when none, so a state
  that drains reads 0 instead of going stale. Repositories x 14.
- `ci_remediator_remediations_finished_total{repository, action, outcome}` counter: finished
  remediations (outcome succeeded, failed or refused) in the table. Repositories x 7 x 3 at
  most; only combinations that occurred are present.
- `ci_remediator_approvals_pending{repository}` gauge and
  `ci_remediator_approval_oldest_pending_age_seconds{repository}` gauge: approval requests
  still pending (an expired one the sweep has not closed yet included: that is what to alert
  on) and the age of the oldest, both 0 for a repository with none. Repositories.
- `ci_remediator_breaker_open{organization}` gauge: 1 while the organization's breaker trip
  stands, 0 once reset. Organizations that ever tripped.
- `ci_remediator_analyses_total{repository, category, analyzer}` counter: stored analyses.
  Repositories x 12 categories x the analyzers (rules, llm, rules_fallback, cache); only
  combinations that occurred are present.
- `ci_remediator_model_tokens_total{repository, kind}` counter (kind prompt or completion) and
  `ci_remediator_model_cost_usd_total{repository}` counter: what the stored analyses cost.
- `ci_remediator_stage_latency_seconds{stage}` gauge histogram (stage detection, analysis or
  remediation; the buckets of `LATENCY_BUCKETS`): the samples of `metric_samples` taken in the
  last `latency_window` (24 hours unless told). A window and not a running total, so it goes
  down as samples leave it: read it as it stands (`histogram_quantile(0.95,
  ci_remediator_stage_latency_seconds_bucket)`, `_gsum / _gcount` for the mean), never through
  `rate()`. No repository label: 3 x 13 series in all.
- `ci_remediator_task_runs_total{task, outcome}` counter (outcome succeeded, retried or
  failed; `outcome="retried"` counts the retries), `ci_remediator_task_duration_seconds{task,
  outcome}` and `ci_remediator_task_queue_wait_seconds{task}` histograms (the buckets of
  `TASK_BUCKETS`): every run of every worker since the database was made, from `task_stats`
  (written by the workers after each run, never purged). Tasks x 3 outcomes.
- `ci_remediator_database_up` gauge, `ci_remediator_metrics_scrape_errors_total` counter (this
  process's failed scrapes since it started) and `ci_remediator_metrics_scrape_duration_seconds`
  gauge: the health of the export itself.

The `_total` series of remediations and analyses are counts of stored rows, not of events
seen: the retention purge, which deletes finished failures with their analyses and
remediations, lowers them, and Prometheus
reads a drop as a counter reset (an `increase()` over a purge overstates). Keep `rate()` windows
clear of the daily purge or compare the raw values.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    ApprovalStatus,
    BreakerTrip,
    Failure,
    MetricSample,
    Remediation,
    RemediationStatus,
)
from ci_remediator.db.task_stats import DURATION, TASK_BUCKETS, WAIT, TaskHistogram, task_histograms
from ci_remediator.domain import FailureState
from ci_remediator.metrics_tracker import ANALYSIS_SAMPLE, DETECTION_SAMPLE, REMEDIATION_SAMPLE

log = logging.getLogger(__name__)

PREFIX = "ci_remediator_"
# Seconds: from a poll interval's worth of detection lag to an hour-long re-run.
LATENCY_BUCKETS: tuple[float, ...] = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)
LATENCY_WINDOW = timedelta(hours=24)
STAGES = {
    DETECTION_SAMPLE: "detection",
    ANALYSIS_SAMPLE: "analysis",
    REMEDIATION_SAMPLE: "remediation",
}
FINISHED = (RemediationStatus.SUCCEEDED, RemediationStatus.FAILED, RemediationStatus.REFUSED)
# A scrape that waits on a slow database holds a pooled connection and then times out on the
# Prometheus side anyway (10 s by default): give up first, and say so with database_up 0.
STATEMENT_TIMEOUT_MS = 5000
# On Postgres: the SET of the statement timeout, then one query per `_read_*` function
# (seven). SQLite, the embedded form, has no statement timeout: seven.
STATEMENTS_PER_SCRAPE = 8

Counts = dict[tuple[str, ...], float]


@dataclass(slots=True)
class Histogram:
    cumulative: list[int]  # per bucket of LATENCY_BUCKETS, then +Inf (the count)
    total: float


@dataclass(slots=True, kw_only=True)
class Figures:
    """Everything one scrape exposes, read before anything is yielded (all or nothing)."""

    failures: Counts = field(default_factory=dict)  # (repository, state)
    remediations: Counts = field(default_factory=dict)  # (repository, action, outcome)
    pending: dict[str, tuple[int, float]] = field(default_factory=dict)  # count, oldest age
    breakers: dict[str, bool] = field(default_factory=dict)
    analyses: Counts = field(default_factory=dict)  # (repository, category, analyzer)
    tokens: Counts = field(default_factory=dict)  # (repository, kind)
    cost: Counts = field(default_factory=dict)  # (repository,)
    latency: dict[str, Histogram] = field(default_factory=dict)  # by stage
    tasks: dict[tuple[str, str, str], TaskHistogram] = field(default_factory=dict)


class DatabaseCollector(Collector):
    """A prometheus_client collector of the figures above. `sessions` is called at each scrape
    (the web's `Services` are made on first use, never at import); each scrape opens one
    short read-only session and runs STATEMENTS_PER_SCRAPE statements."""

    def __init__(
        self,
        sessions: Callable[[], sessionmaker[Session]],
        *,
        latency_window: timedelta = LATENCY_WINDOW,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._latency_window = latency_window
        self._clock = clock
        self._lock = threading.Lock()
        self._errors = 0
        self._was_up = True

    def describe(self) -> list[Metric]:
        # Registration must not query the database (the web starts with it down, too).
        return []

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        try:
            figures = self.read()
        except Exception as error:  # noqa: BLE001 - any fault is "down", never a 500
            figures = None
            with self._lock:
                self._errors += 1
                was_up, self._was_up = self._was_up, False
            if was_up:  # once per outage, not every 15 s
                log.warning("metrics: the database is unreadable: %r", error)
        else:
            with self._lock:
                self._was_up = True
        yield from self._health(figures is not None, time.perf_counter() - started)
        if figures is not None:
            yield from families(figures, latency_window=self._latency_window)

    def read(self) -> Figures:
        now = self._clock()
        with self._sessions()() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
            figures = Figures()
            _read_failures(session, figures)
            _read_remediations(session, figures)
            _read_approvals(session, figures, now=now)
            _read_breakers(session, figures)
            _read_analyses(session, figures)
            _read_latency(session, figures, since=now - self._latency_window)
            figures.tasks = task_histograms(session)
            return figures

    def _health(self, up: bool, seconds: float) -> Iterator[Metric]:
        with self._lock:
            errors = self._errors
        yield GaugeMetricFamily(
            PREFIX + "database_up",
            "1 when the last scrape read the database, 0 when it could not",
            value=1 if up else 0,
        )
        yield CounterMetricFamily(
            PREFIX + "metrics_scrape_errors",
            "Scrapes of this web process that could not read the database",
            value=errors,
        )
        yield GaugeMetricFamily(
            PREFIX + "metrics_scrape_duration_seconds",
            "Seconds the last scrape spent reading the database",
            value=seconds,
        )


def _read_failures(session: Session, figures: Figures) -> None:
    repository = func.lower(Failure.repository)
    rows = session.execute(
        select(repository, Failure.state, func.count()).group_by(repository, Failure.state)
    )
    for name, state, count in rows:
        figures.failures[name, FailureState(state).value] = count


def _read_remediations(session: Session, figures: Figures) -> None:
    repository = func.lower(Remediation.repository)
    rows = session.execute(
        select(repository, Remediation.action, Remediation.status, func.count())
        .where(Remediation.status.in_(FINISHED))
        .group_by(repository, Remediation.action, Remediation.status)
    )
    for name, action, status, count in rows:
        figures.remediations[name, action.value, status.value] = count


def _read_approvals(session: Session, figures: Figures, *, now: datetime) -> None:
    repository = func.lower(Failure.repository)
    rows = session.execute(
        select(repository, func.count(), func.min(ApprovalRequest.requested_at))
        .join(Failure, ApprovalRequest.failure_id == Failure.id)
        .where(ApprovalRequest.status == ApprovalStatus.PENDING)
        .group_by(repository)
    )
    for name, count, oldest in rows:
        figures.pending[name] = (count, max(0.0, (now - oldest).total_seconds()))


def _read_breakers(session: Session, figures: Figures) -> None:
    organization = func.lower(BreakerTrip.organization)
    rows = session.execute(
        select(organization, func.count(BreakerTrip.open_key)).group_by(organization)
    )
    for name, standing in rows:
        figures.breakers[name] = standing > 0


def _read_analyses(session: Session, figures: Figures) -> None:
    repository = func.lower(Failure.repository)
    rows = session.execute(
        select(
            repository,
            Analysis.category,
            Analysis.analyzer,
            func.count(),
            func.coalesce(func.sum(Analysis.prompt_tokens), 0),
            func.coalesce(func.sum(Analysis.completion_tokens), 0),
            func.coalesce(func.sum(Analysis.cost_usd), 0.0),
        )
        .join(Failure, Analysis.failure_id == Failure.id)
        .group_by(repository, Analysis.category, Analysis.analyzer)
    )
    tokens: Counts = defaultdict(float)
    cost: Counts = defaultdict(float)
    for name, category, analyzer, count, prompt, completion, usd in rows:
        figures.analyses[name, category.value, analyzer] = count
        tokens[name, "prompt"] += int(prompt)
        tokens[name, "completion"] += int(completion)
        cost[(name,)] += float(usd)
    figures.tokens, figures.cost = dict(tokens), dict(cost)


def _read_latency(session: Session, figures: Figures, *, since: datetime) -> None:
    # Cumulative buckets counted in SQL (value <= bound): one row per stage, whatever the
    # number of samples; the (name, at) index bounds the scan to the window.
    buckets = [
        func.coalesce(func.sum(case((MetricSample.value <= bound, 1), else_=0)), 0)
        for bound in LATENCY_BUCKETS
    ]
    rows = session.execute(
        select(
            MetricSample.name,
            func.count(),
            func.coalesce(func.sum(MetricSample.value), 0.0),
            *buckets,
        )
        .where(MetricSample.name.in_(STAGES), MetricSample.at >= since)
        .group_by(MetricSample.name)
    )
    for name, count, total, *cumulative in rows:
        figures.latency[STAGES[name]] = Histogram(
            cumulative=[int(n) for n in cumulative] + [count], total=float(total)
        )


def families(figures: Figures, *, latency_window: timedelta) -> Iterator[Metric]:
    """The metric families of `figures`, with the zeros that keep gauges from going stale."""
    repositories = sorted({repository for repository, _ in figures.failures})

    failures = GaugeMetricFamily(
        PREFIX + "failures", "Failures now in each state", labels=["repository", "state"]
    )
    for repository in repositories:
        for state in FailureState:
            failures.add_metric(
                [repository, state.value], figures.failures.get((repository, state.value), 0)
            )
    yield failures

    yield _counter(
        "remediations_finished",
        "Finished remediations in the table, by action and outcome",
        ["repository", "action", "outcome"],
        figures.remediations,
    )

    pending = GaugeMetricFamily(
        PREFIX + "approvals_pending",
        "Approval requests waiting for a human",
        labels=["repository"],
    )
    oldest = GaugeMetricFamily(
        PREFIX + "approval_oldest_pending_age_seconds",
        "Seconds the oldest pending approval request has waited (0 when none waits)",
        labels=["repository"],
    )
    for repository in sorted({*repositories, *figures.pending}):
        count, age = figures.pending.get(repository, (0, 0.0))
        pending.add_metric([repository], count)
        oldest.add_metric([repository], age)
    yield pending
    yield oldest

    breakers = GaugeMetricFamily(
        PREFIX + "breaker_open",
        "1 while the organization's circuit breaker trip stands (automatic remediation stopped)",
        labels=["organization"],
    )
    for organization, standing in sorted(figures.breakers.items()):
        breakers.add_metric([organization], 1 if standing else 0)
    yield breakers

    yield _counter(
        "analyses",
        "Stored analyses, by category and by who answered",
        ["repository", "category", "analyzer"],
        figures.analyses,
    )
    yield _counter(
        "model_tokens",
        "Model tokens the stored analyses spent",
        ["repository", "kind"],
        figures.tokens,
    )
    yield _counter(
        "model_cost_usd",
        "What the model calls of the stored analyses cost, in US dollars",
        ["repository"],
        figures.cost,
    )

    hours = latency_window.total_seconds() / 3600
    latency = GaugeHistogramMetricFamily(
        PREFIX + "stage_latency_seconds",
        f"Stage latencies of the samples taken in the last {hours:g} hours (a window, not a"
        " running total: read as is, never through rate())",
        labels=["stage"],
    )
    bounds = [*(f"{bound:g}" for bound in LATENCY_BUCKETS), "+Inf"]
    for stage in STAGES.values():
        histogram = figures.latency.get(stage, Histogram([0] * len(bounds), 0.0))
        latency.add_metric(
            [stage], list(zip(bounds, histogram.cumulative, strict=True)), histogram.total
        )
    yield latency
    yield from _task_families(figures.tasks)


def _task_families(tasks: dict[tuple[str, str, str], TaskHistogram]) -> Iterator[Metric]:
    runs = CounterMetricFamily(
        PREFIX + "task_runs",
        "Task executions by outcome (succeeded, retried, failed) on every worker",
        labels=["task", "outcome"],
    )
    duration = HistogramMetricFamily(
        PREFIX + "task_duration_seconds",
        "Seconds each task execution took, by outcome",
        labels=["task", "outcome"],
    )
    wait = HistogramMetricFamily(
        PREFIX + "task_queue_wait_seconds",
        "Seconds from a task's sending (or its countdown's end) to its start on a worker",
        labels=["task"],
    )
    bounds = [*(f"{bound:g}" for bound in TASK_BUCKETS), "+Inf"]
    waits: dict[str, TaskHistogram] = {}
    for (task, outcome, kind), histogram in sorted(tasks.items()):
        if kind == DURATION:
            runs.add_metric([task, outcome], histogram.count)
            duration.add_metric(
                [task, outcome],
                list(zip(bounds, histogram.cumulative(), strict=True)),
                histogram.seconds,
            )
        elif kind == WAIT:  # summed over outcomes: a wait ends before the outcome is known
            merged = waits.setdefault(task, TaskHistogram())
            merged.buckets = [a + b for a, b in zip(merged.buckets, histogram.buckets, strict=True)]
            merged.seconds += histogram.seconds
    for task, histogram in sorted(waits.items()):
        wait.add_metric(
            [task], list(zip(bounds, histogram.cumulative(), strict=True)), histogram.seconds
        )
    yield runs
    yield duration
    yield wait


def _counter(name: str, documentation: str, labels: Sequence[str], counts: Counts) -> Metric:
    family = CounterMetricFamily(PREFIX + name, documentation, labels=labels)
    for key, value in sorted(counts.items()):
        family.add_metric(list(key), value)
    return family
