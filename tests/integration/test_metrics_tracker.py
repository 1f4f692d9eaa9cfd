"""The metrics on Postgres, over a scripted history with known times: exact figures for the
whole history, one repository and windows, empty windows, bad arguments, and the
`ci-remediator metrics` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ci_remediator import cli
from ci_remediator.config import get_config
from ci_remediator.db.models import (
    Analysis,
    AuditEntry,
    DetectionSource,
    Failure,
    MetricSample,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import ActionKind, Category, Effort, FailureState
from ci_remediator.metrics_tracker import (
    LatencyPercentiles,
    LatencySummary,
    MetricsTracker,
    ModelUsage,
    RemediationOutcomes,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 86400
S = RemediationStatus


@dataclass(frozen=True)
class Run:
    """One failure's history. Times are seconds after T0; the analysis is stored a minute
    after detection, with its sample; the remediation sample is taken when it completes."""

    repository: str
    detected: int
    category: Category
    risk: int
    analyzer: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    action: ActionKind
    status: RemediationStatus
    completed: int | None
    resolved: bool
    detection_latency: float
    analysis_latency: float
    remediation_latency: float | None


RUNS = [
    Run("acme/web", 0, Category.FLAKY_TEST, 2, "llm", 1000, 200, 0.012,
        ActionKind.RERUN_FAILED_JOBS, S.SUCCEEDED, 600, True, 30, 20, 480),
    Run("acme/web", 3600, Category.INFRASTRUCTURE, 3, "rules", 0, 0, 0.0,
        ActionKind.RERUN_WORKFLOW, S.FAILED, 5400, False, 60, 2, 1500),
    Run("acme/web", 7200, Category.FLAKY_TEST, 2, "cache", 0, 0, 0.0,
        ActionKind.CLEAR_CACHE_AND_RERUN, S.SUCCEEDED, 10800, True, 90, 1, 3000),
    # Still running on GitHub: not finished, counted nowhere but in the analyses.
    Run("acme/web", 10800, Category.UNKNOWN, 6, "rules", 0, 0, 0.0,
        ActionKind.RERUN_FAILED_JOBS, S.REQUESTED, None, False, 5, 4, None),
    # A tracking issue opened "succeeds" but fixes no run: not in the success rate.
    Run("acme/api", DAY, Category.COMPILE_ERROR, 8, "llm", 3000, 500, 0.035,
        ActionKind.OPEN_TRACKING_ISSUE, S.SUCCEEDED, DAY + 600, False, 120, 40, None),
    # GitHub refused the rerun: counted as refused, neither success nor failure.
    Run("acme/api", DAY + 3600, Category.DEPENDENCY, 5, "rules_fallback", 800, 0, 0.004,
        ActionKind.RERUN_FAILED_JOBS, S.REFUSED, DAY + 3900, False, 150, 41, None),
    Run("acme/api", DAY + 7200, Category.INFRASTRUCTURE, 4, "rules", 0, 0, 0.0,
        ActionKind.RERUN_FAILED_JOBS, S.SUCCEEDED, DAY + 14400, True, 180, 3, 7000),
]  # fmt: skip


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def write_history(session: Session) -> None:
    for number, run in enumerate(RUNS, start=1):
        failure = Failure(
            repository=run.repository,
            run_id=2000 + number,
            run_attempt=1,
            workflow_name="CI",
            workflow_id=9,
            event="push",
            head_sha=f"{number:040x}",
            html_url=f"https://github.com/{run.repository}/actions/runs/{2000 + number}",
            # Far earlier than detection: the detection latency is the sample, not this.
            run_created_at=at(run.detected - 3600),
            detected_at=at(run.detected),
            source=DetectionSource.POLL,
            state=FailureState.RESOLVED if run.resolved else FailureState.VERIFYING,
        )
        session.add(failure)
        session.flush()
        analyzed = run.detected + 60
        session.add_all(
            [
                Analysis(
                    failure_id=failure.id,
                    category=run.category,
                    risk_score=run.risk,
                    confidence=0.9,
                    flaky=run.category is Category.FLAKY_TEST,
                    summary="s",
                    root_cause="r",
                    proposed_action=run.action,
                    analyzer=run.analyzer,
                    effort=Effort.SMALL,
                    excerpt="e",
                    prompt_tokens=run.prompt_tokens,
                    completion_tokens=run.completion_tokens,
                    tokens_used=run.prompt_tokens + run.completion_tokens,
                    cost_usd=run.cost_usd,
                    created_at=at(analyzed),
                ),
                Remediation(
                    failure_id=failure.id,
                    action=run.action,
                    status=run.status,
                    repository=run.repository,
                    run_id=failure.run_id,
                    target_attempt=2,
                    created_at=at(analyzed + 1),
                    requested_at=at(analyzed + 2),
                    completed_at=None if run.completed is None else at(run.completed),
                ),
                MetricSample(
                    at=at(run.detected),
                    name="detection_latency_seconds",
                    value=run.detection_latency,
                    failure_id=failure.id,
                ),
                MetricSample(
                    at=at(analyzed),
                    name="analysis_latency_seconds",
                    value=run.analysis_latency,
                    failure_id=failure.id,
                ),
            ]
        )
        if run.remediation_latency is not None and run.completed is not None:
            session.add(
                MetricSample(
                    at=at(run.completed),
                    name="remediation_latency_seconds",
                    value=run.remediation_latency,
                    failure_id=failure.id,
                )
            )
        if run.resolved and run.completed is not None:
            session.add(
                AuditEntry(
                    at=at(run.completed),
                    failure_id=failure.id,
                    actor="verifier",
                    action="transition",
                    from_state="verifying",
                    to_state="resolved",
                )
            )
    # Samples of other names, and an audit entry that is no resolution, count for nothing.
    session.add(MetricSample(at=at(10), name="analysis_unknown", value=1.0))
    session.add(AuditEntry(at=at(20), actor="notifier", action="notified", to_state="resolved"))
    session.flush()


@pytest.fixture
def tracker(db_session: Session) -> MetricsTracker:
    write_history(db_session)
    return MetricsTracker(
        sessionmaker(bind=db_session.connection(), join_transaction_mode="create_savepoint")
    )


def zero_risks(**counts: int) -> dict[int, int]:
    risks = dict.fromkeys(range(11), 0)
    risks.update({int(score.removeprefix("r")): n for score, n in counts.items()})
    return risks


def categories(**counts: int) -> dict[Category, int]:
    return {category: counts.get(category.value, 0) for category in Category}


def test_success_rate(tracker: MetricsTracker) -> None:
    assert tracker.get_remediation_outcomes() == RemediationOutcomes(3, 1, 1)
    assert tracker.get_success_rate() == 0.75
    assert tracker.get_success_rate("acme/web") == pytest.approx(2 / 3)
    assert tracker.get_remediation_outcomes("ACME/API") == RemediationOutcomes(1, 0, 1)
    assert tracker.get_success_rate(since=at(DAY)) == 1.0
    assert tracker.get_success_rate(since=at(3600), until=at(DAY)) == 0.5
    # `since` is inclusive, `until` exclusive: the first one finished at 600 s.
    assert tracker.get_success_rate(until=at(600)) is None
    assert tracker.get_remediation_outcomes(since=at(600), until=at(601)) == RemediationOutcomes(
        1, 0, 0
    )


def test_average_resolution_time(tracker: MetricsTracker) -> None:
    # 600 s, 3600 s and 7200 s from detection to resolution.
    assert tracker.get_average_resolution_time() == 3800.0
    assert tracker.get_average_resolution_time("acme/web") == 2100.0
    assert tracker.get_average_resolution_time("acme/api") == 7200.0
    assert tracker.get_average_resolution_time(since=at(10800)) == 5400.0
    assert tracker.get_average_resolution_time(until=at(600)) is None


def test_risk_and_category_distributions(tracker: MetricsTracker) -> None:
    assert tracker.get_risk_score_distribution() == zero_risks(r2=2, r3=1, r4=1, r5=1, r6=1, r8=1)
    assert tracker.get_risk_score_distribution("acme/api") == zero_risks(r4=1, r5=1, r8=1)
    assert tracker.get_category_distribution() == categories(
        flaky_test=2, infrastructure=2, unknown=1, compile_error=1, dependency=1
    )
    # The analysis is stored a minute after detection: the window counts it then.
    assert tracker.get_category_distribution(since=at(60), until=at(61)) == categories(flaky_test=1)


def test_latency_percentiles(tracker: MetricsTracker) -> None:
    latency = tracker.latency_percentiles()
    # detection [5, 30, 60, 90, 120, 150, 180]; analysis [1, 2, 3, 4, 20, 40, 41];
    # remediation [480, 1500, 3000, 7000]; p95 interpolates between the two nearest.
    assert latency.detection == LatencySummary(7, 90.0, pytest.approx(171.0))
    assert latency.analysis == LatencySummary(7, 4.0, pytest.approx(40.7))
    assert latency.remediation == LatencySummary(4, 2250.0, pytest.approx(6400.0))
    api = tracker.latency_percentiles("acme/api")
    assert api.detection == LatencySummary(3, 150.0, pytest.approx(177.0))
    assert api.remediation == LatencySummary(1, 7000.0, 7000.0)
    later = tracker.latency_percentiles(since=at(DAY))
    assert later.analysis == LatencySummary(3, 40.0, pytest.approx(40.9))


def test_model_usage(tracker: MetricsTracker) -> None:
    usage = tracker.model_usage()
    assert usage == ModelUsage(
        analyses=7,
        model_analyses=3,
        prompt_tokens=4800,
        completion_tokens=700,
        total_tokens=5500,
        cost_usd=pytest.approx(0.051),
        by_analyzer={"cache": 1, "llm": 2, "rules": 3, "rules_fallback": 1},
    )
    assert tracker.model_usage("acme/web") == ModelUsage(
        analyses=4,
        model_analyses=1,
        prompt_tokens=1000,
        completion_tokens=200,
        total_tokens=1200,
        cost_usd=pytest.approx(0.012),
        by_analyzer={"cache": 1, "llm": 1, "rules": 2},
    )


@pytest.mark.parametrize(
    ("repository", "since", "until"),
    [
        (None, T0, T0),
        (None, at(30 * DAY), None),
        (None, None, T0),
        ("acme/none", None, None),
    ],
)
def test_an_empty_window_is_none_and_zeros(
    tracker: MetricsTracker, repository: str | None, since: datetime | None, until: datetime | None
) -> None:
    report = tracker.report(repository, since, until)
    assert report.remediations == RemediationOutcomes(0, 0, 0)
    assert report.remediations.success_rate is None
    assert tracker.get_success_rate(repository, since, until) is None
    assert tracker.get_average_resolution_time(repository, since, until) is None
    assert (report.resolved, report.average_resolution_seconds) == (0, None)
    assert report.risk_scores == zero_risks()
    assert report.categories == categories()
    assert report.latency == LatencyPercentiles()
    assert report.model_usage == ModelUsage()


def test_naive_means_utc(tracker: MetricsTracker) -> None:
    naive = tracker.report(since=at(3600).replace(tzinfo=None), until=at(DAY).replace(tzinfo=None))
    assert naive == tracker.report(since=at(3600), until=at(DAY))
    assert naive.remediations == RemediationOutcomes(1, 1, 0)


def test_the_report_holds_every_figure(tracker: MetricsTracker) -> None:
    report = tracker.report("acme/web")
    assert report.remediations == tracker.get_remediation_outcomes("acme/web")
    assert report.average_resolution_seconds == tracker.get_average_resolution_time("acme/web")
    assert report.resolved == 2
    assert report.risk_scores == tracker.get_risk_score_distribution("acme/web")
    assert report.categories == tracker.get_category_distribution("acme/web")
    assert report.latency == tracker.latency_percentiles("acme/web")
    assert report.model_usage == tracker.model_usage("acme/web")
    document = json.loads(json.dumps(report.as_json()))
    assert document["window"] == {"repository": "acme/web", "since": None, "until": None}
    assert document["remediations"]["success_rate"] == pytest.approx(2 / 3)
    assert document["risk_scores"]["2"] == 2
    assert document["categories"]["flaky_test"] == 2
    assert document["latency_seconds"]["remediation"] == {
        "count": 3,
        "p50": 1500.0,
        "p95": pytest.approx(2850.0),
    }


@pytest.mark.parametrize(
    ("arguments", "key"),
    [
        ({"since": "2026-03-02"}, "since"),
        ({"until": 1234567890}, "until"),
        ({"since": at(10), "until": at(0)}, "until"),
        ({"repository": "acme"}, "repository"),
        ({"repository": ""}, "repository"),
    ],
)
def test_bad_arguments_are_named(
    tracker: MetricsTracker, arguments: dict[str, object], key: str
) -> None:
    for figure in (tracker.get_success_rate, tracker.latency_percentiles, tracker.report):
        with pytest.raises(ValueError, match=f"^{key}: "):
            figure(**arguments)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- CLI ----


@pytest.fixture
def committed_history(committed_db: Engine) -> Iterator[None]:
    get_config.cache_clear()
    with Session(committed_db) as session:
        write_history(session)
        session.commit()
    yield
    get_config.cache_clear()


def test_cli_json(committed_history: None) -> None:
    result = CliRunner().invoke(
        cli.app,
        ["metrics", "--repository", "acme/api", "--since", "2026-03-03", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["window"] == {
        "repository": "acme/api",
        "since": "2026-03-03T00:00:00+00:00",
        "until": None,
    }
    assert document["remediations"] == {
        "succeeded": 1,
        "failed": 0,
        "refused": 1,
        "success_rate": 1.0,
    }
    assert (document["resolved"], document["average_resolution_seconds"]) == (1, 7200.0)
    assert document["latency_seconds"]["detection"]["p50"] == 150.0
    assert document["model_usage"]["prompt_tokens"] == 3800


def test_cli_table(committed_history: None) -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli.app, ["metrics"])
    assert result.exit_code == 0, result.output
    for shown in (
        "all repositories, the beginning to now",
        "75.0%",
        "3 succeeded, 1 failed, 1 refused",
        "63.3min (3 resolved)",
        "90.0s / 2.8min (7 samples)",
        "37.5min / 106.7min (4 samples)",
        "2:2 3:1 4:1 5:1 6:1 8:1",
        "3 of 7 analyses called a model: 4800 prompt + 700 completion tokens, $0.0510",
    ):
        assert shown in result.stdout, result.stdout


def test_cli_empty_window(committed_history: None) -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli.app, ["metrics", "--since", "2030-01-01T00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert "remediation success rate" in result.stdout
    assert "0 succeeded, 0 failed, 0 refused" in result.stdout
    assert "- (0 resolved)" in result.stdout
