"""`/metrics` of the web process reads the `ci_remediator_*` series from the real Postgres:
exact values and labels over a scripted history, the process's own series kept beside them, a
fixed number of statements per scrape whatever the rows, milliseconds on thousands of rows, and
a 200 with `ci_remediator_database_up 0` when the database is down."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session

from ci_remediator.config import load_config
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    ApprovalStatus,
    BreakerTrip,
    DetectionSource,
    Failure,
    MetricSample,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import ActionKind, Category, Effort, FailureState
from ci_remediator.metrics_export import LATENCY_BUCKETS, STATEMENTS_PER_SCRAPE
from ci_remediator.services import Services
from ci_remediator.web import create_app
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.integration

Samples = dict[str, dict[frozenset[tuple[str, str]], float]]
S = FailureState
R = RemediationStatus
A = ActionKind
C = Category

# (repository, state, (category, analyzer, prompt, completion, cost) or None,
#  (action, status) or None, approval requested this many seconds ago or None,
#  {sample name: (value, taken this many hours ago)})
HISTORY: list[tuple[Any, ...]] = [
    ("acme/web", S.RESOLVED, (C.FLAKY_TEST, "llm", 1000, 200, 0.012),
     (A.RERUN_FAILED_JOBS, R.SUCCEEDED), None,
     {"detection_latency_seconds": (3, 1), "analysis_latency_seconds": (20, 1),
      "remediation_latency_seconds": (480, 1)}),
    ("acme/web", S.REMEDIATION_FAILED, (C.INFRASTRUCTURE, "rules", 0, 0, 0.0),
     (A.RERUN_WORKFLOW, R.FAILED), None,
     # 5 s lands in the le="5" bucket: bounds are inclusive.
     {"detection_latency_seconds": (5, 2), "analysis_latency_seconds": (2, 2),
      "remediation_latency_seconds": (1500, 2)}),
    ("acme/web", S.AWAITING_APPROVAL, (C.FLAKY_TEST, "llm", 500, 100, 0.006),
     None, 600, {"analysis_latency_seconds": (0.5, 3)}),
    ("acme/web", S.AWAITING_APPROVAL, (C.FLAKY_TEST, "llm", 250, 50, 0.003),
     None, 120, {}),
    # Still running on GitHub: not finished, so not counted as a remediation.
    ("acme/api", S.EXECUTING, (C.DEPENDENCY, "rules_fallback", 800, 0, 0.004),
     (A.RERUN_FAILED_JOBS, R.REQUESTED), None, {}),
    # Decided: no longer pending.
    ("acme/api", S.REJECTED, (C.COMPILE_ERROR, "rules", 0, 0, 0.0), None, -1, {}),
    # Stored in mixed case: exposed lower-cased. Its detection sample is out of the window;
    # its remediation sample is past the last bucket.
    ("Other/Lib", S.RESOLVED, (C.FLAKY_TEST, "cache", 0, 0, 0.0),
     (A.CLEAR_CACHE_AND_RERUN, R.REFUSED), None,
     {"detection_latency_seconds": (3000, 48), "remediation_latency_seconds": (9000, 23)}),
    # Detected, nothing more.
    ("acme/api", S.DETECTED, None, None, None, {}),
]  # fmt: skip


def failure_row(number: int, repository: str, state: FailureState, now: datetime) -> Failure:
    return Failure(
        repository=repository,
        run_id=5000 + number,
        run_attempt=1,
        workflow_name="CI",
        workflow_id=9,
        event="push",
        head_sha=f"{number:040x}",
        html_url=f"https://github.com/{repository}/actions/runs/{5000 + number}",
        run_created_at=now - timedelta(hours=50),
        detected_at=now - timedelta(hours=49),
        source=DetectionSource.POLL,
        state=state,
    )


def analysis_row(failure_id: int, figures: tuple[Any, ...]) -> Analysis:
    category, analyzer, prompt, completion, cost = figures
    return Analysis(
        failure_id=failure_id,
        category=category,
        risk_score=3,
        confidence=0.9,
        flaky=False,
        summary="s",
        root_cause="r",
        proposed_action=ActionKind.RERUN_FAILED_JOBS,
        analyzer=analyzer,
        effort=Effort.SMALL,
        excerpt="e",
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens_used=prompt + completion,
        cost_usd=cost,
    )


def write_history(session: Session, now: datetime) -> None:
    for number, (repository, state, analysis, remediation, asked, samples) in enumerate(
        HISTORY, start=1
    ):
        failure = failure_row(number, repository, state, now)
        session.add(failure)
        session.flush()
        if analysis is not None:
            session.add(analysis_row(failure.id, analysis))
        if remediation is not None:
            action, status = remediation
            finished = status in (R.SUCCEEDED, R.FAILED, R.REFUSED)
            session.add(
                Remediation(
                    failure_id=failure.id,
                    action=action,
                    status=status,
                    repository=repository,
                    run_id=failure.run_id,
                    target_attempt=2,
                    completed_at=now - timedelta(hours=1) if finished else None,
                )
            )
        if asked is not None:
            session.add(
                ApprovalRequest(
                    failure_id=failure.id,
                    action=ActionKind.RERUN_WORKFLOW,
                    status=ApprovalStatus.PENDING if asked > 0 else ApprovalStatus.REJECTED,
                    requested_at=now - timedelta(seconds=abs(asked)),
                    expires_at=now + timedelta(hours=1),
                )
            )
        for name, (value, hours_ago) in samples.items():
            session.add(
                MetricSample(
                    name=name,
                    value=value,
                    failure_id=failure.id,
                    at=now - timedelta(hours=hours_ago),
                )
            )
    # A sample of another name counts nowhere.
    session.add(MetricSample(name="analysis_unknown", value=1.0, at=now))
    # acme's breaker stands (after an earlier trip was reset); other's was reset.
    session.add_all(
        [
            BreakerTrip(
                organization="acme",
                open_key=None,
                tripped_at=now - timedelta(days=3),
                success_rate=0.2,
                window=10,
                reset_at=now - timedelta(days=2),
            ),
            BreakerTrip(
                organization="acme",
                open_key="acme",
                tripped_at=now - timedelta(hours=1),
                success_rate=0.1,
                window=10,
            ),
            BreakerTrip(
                organization="other",
                open_key=None,
                tripped_at=now - timedelta(days=1),
                success_rate=0.3,
                window=10,
                reset_at=now - timedelta(hours=5),
            ),
        ]
    )


def services_on(database_url: str) -> Services:
    return Services(load_config(env_overrides={"database_url": database_url}))


@pytest.fixture
def services(committed_db: Engine) -> Services:
    """Services on the test database (committed rows: the web's own sessions read them)."""
    return services_on(TEST_DATABASE_URL)


@pytest.fixture
def client(services: Services) -> FlaskClient:
    return create_app(services=lambda: services).test_client()


@pytest.fixture
def history(committed_db: Engine) -> datetime:
    now = datetime.now(UTC)
    with Session(committed_db) as session, session.begin():
        write_history(session, now)
    return now


def scrape(client: FlaskClient) -> tuple[Samples, list[str]]:
    """{sample name: {labels: value}} and the family names, in order, of one GET /metrics."""
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    samples: Samples = {}
    names = []
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        names.append(family.name)
        for sample in family.samples:
            samples.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return samples, names


def by(samples: Samples, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    """The series of `name` keyed by the values of `labels`, in that order."""
    series = {}
    for key, value in samples.get(name, {}).items():
        as_dict = dict(key)
        assert set(as_dict) == set(labels), f"{name} has labels {sorted(as_dict)}"
        series[tuple(as_dict[label] for label in labels)] = value
    return series


def states(**counts: int) -> dict[str, int]:
    return {state.value: counts.get(state.value, 0) for state in FailureState}


def test_the_series_of_a_scripted_history(client: FlaskClient, history: datetime) -> None:
    samples, _ = scrape(client)

    assert by(samples, "ci_remediator_database_up") == {(): 1}
    assert by(samples, "ci_remediator_metrics_scrape_errors_total") == {(): 0}

    failures = by(samples, "ci_remediator_failures", "repository", "state")
    expected = {
        "acme/web": states(resolved=1, remediation_failed=1, awaiting_approval=2),
        "acme/api": states(executing=1, rejected=1, detected=1),
        "other/lib": states(resolved=1),
    }
    assert failures == {
        (repository, state): n for repository, row in expected.items() for state, n in row.items()
    }

    assert by(
        samples, "ci_remediator_remediations_finished_total", "repository", "action", "outcome"
    ) == {
        ("acme/web", "rerun_failed_jobs", "succeeded"): 1,
        ("acme/web", "rerun_workflow", "failed"): 1,
        ("other/lib", "clear_cache_and_rerun", "refused"): 1,
    }

    assert by(samples, "ci_remediator_approvals_pending", "repository") == {
        ("acme/api",): 0,
        ("acme/web",): 2,
        ("other/lib",): 0,
    }
    ages = by(samples, "ci_remediator_approval_oldest_pending_age_seconds", "repository")
    assert ages.keys() == {("acme/api",), ("acme/web",), ("other/lib",)}
    assert ages[("acme/api",)] == ages[("other/lib",)] == 0
    elapsed = (datetime.now(UTC) - history).total_seconds()
    assert 600 <= ages[("acme/web",)] <= 600 + elapsed

    assert by(samples, "ci_remediator_breaker_open", "organization") == {
        ("acme",): 1,
        ("other",): 0,
    }

    assert by(samples, "ci_remediator_analyses_total", "repository", "category", "analyzer") == {
        ("acme/web", "flaky_test", "llm"): 3,
        ("acme/web", "infrastructure", "rules"): 1,
        ("acme/api", "dependency", "rules_fallback"): 1,
        ("acme/api", "compile_error", "rules"): 1,
        ("other/lib", "flaky_test", "cache"): 1,
    }
    assert by(samples, "ci_remediator_model_tokens_total", "repository", "kind") == {
        ("acme/web", "prompt"): 1750,
        ("acme/web", "completion"): 350,
        ("acme/api", "prompt"): 800,
        ("acme/api", "completion"): 0,
        ("other/lib", "prompt"): 0,
        ("other/lib", "completion"): 0,
    }
    cost = by(samples, "ci_remediator_model_cost_usd_total", "repository")
    assert cost == {
        ("acme/web",): pytest.approx(0.021),
        ("acme/api",): pytest.approx(0.004),
        ("other/lib",): 0,
    }


def latency(samples: Samples, stage: str) -> tuple[list[float], float, float]:
    """The bucket counts (in LATENCY_BUCKETS order, then +Inf), sum and count of a stage."""
    buckets = by(samples, "ci_remediator_stage_latency_seconds_bucket", "stage", "le")
    bounds = [*(float(bound) for bound in LATENCY_BUCKETS), float("inf")]
    counts = {float(le): n for (of, le), n in buckets.items() if of == stage}
    assert sorted(counts) == bounds
    return (
        [counts[bound] for bound in bounds],
        by(samples, "ci_remediator_stage_latency_seconds_gsum", "stage")[(stage,)],
        by(samples, "ci_remediator_stage_latency_seconds_gcount", "stage")[(stage,)],
    )


def test_latency_histograms_count_the_last_day_of_samples(
    client: FlaskClient, history: datetime
) -> None:
    samples, _ = scrape(client)

    # Buckets:      1  5 15 30 60 120 300 600 1800 3600 7200 +Inf
    assert latency(samples, "detection") == (
        [0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 8, 2,
    )  # fmt: skip
    assert latency(samples, "analysis") == (
        [1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3], 22.5, 3,
    )  # fmt: skip
    assert latency(samples, "remediation") == (
        [0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 2, 3], 10980, 3,
    )  # fmt: skip


def test_an_empty_database_exposes_zeros_not_errors(
    client: FlaskClient, committed_db: Engine
) -> None:
    samples, _ = scrape(client)

    assert by(samples, "ci_remediator_database_up") == {(): 1}
    assert "ci_remediator_failures" not in samples  # no repository has a failure yet
    for stage in ("detection", "analysis", "remediation"):
        assert latency(samples, stage) == ([0] * (len(LATENCY_BUCKETS) + 1), 0, 0)


def test_the_process_own_series_stay_beside_the_database_ones(
    client: FlaskClient, history: datetime
) -> None:
    samples, names = scrape(client)

    assert "python_info" in samples  # the default registry's collectors
    assert len(names) == len(set(names)), "a family is exposed twice"


def test_one_scrape_is_a_fixed_number_of_statements(
    client: FlaskClient, services: Services, history: datetime
) -> None:
    engine = services.sessions.kw["bind"]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        scrape(client)
        first = len(statements)
        with Session(engine) as session, session.begin():
            write_thousands(session, start=10_000, failures=200)
        statements.clear()
        scrape(client)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert first == len(statements) == STATEMENTS_PER_SCRAPE == 8


def write_thousands(session: Session, *, start: int, failures: int) -> None:
    """`failures` failures over 20 repositories, each with an analysis, a finished
    remediation and three samples, inserted in bulk."""
    now = datetime.now(UTC)
    rows = [
        {
            "repository": f"org{n % 20}/repo",
            "run_id": n,
            "run_attempt": 1,
            "workflow_name": "CI",
            "workflow_id": 1,
            "event": "push",
            "head_sha": f"{n:040x}",
            "html_url": "https://github.com/x",
            "run_created_at": now,
            "detected_at": now,
            "source": DetectionSource.POLL,
            "state": list(FailureState)[n % len(FailureState)],
        }
        for n in range(start, start + failures)
    ]
    ids = session.scalars(insert(Failure).returning(Failure.id), rows).all()
    session.execute(
        insert(Analysis),
        [
            {
                "failure_id": failure_id,
                "category": list(Category)[failure_id % len(Category)],
                "risk_score": 2,
                "confidence": 0.5,
                "flaky": False,
                "summary": "s",
                "root_cause": "r",
                "proposed_action": ActionKind.RERUN_FAILED_JOBS,
                "analyzer": ("rules", "llm", "cache")[failure_id % 3],
                "effort": Effort.SMALL,
                "excerpt": "e",
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "cost_usd": 0.001,
                "affected_components": [],
                "failed_jobs": [],
            }
            for failure_id in ids
        ],
    )
    session.execute(
        insert(Remediation),
        [
            {
                "failure_id": failure_id,
                "action": ActionKind.RERUN_FAILED_JOBS,
                "status": (R.SUCCEEDED, R.FAILED, R.REFUSED)[failure_id % 3],
                "repository": f"org{failure_id % 20}/repo",
                "run_id": failure_id,
                "target_attempt": 2,
                "completed_at": now,
            }
            for failure_id in ids
        ],
    )
    session.execute(
        insert(MetricSample),
        [
            {"name": name, "value": float(failure_id % 4000), "failure_id": failure_id, "at": now}
            for failure_id in ids
            for name in (
                "detection_latency_seconds",
                "analysis_latency_seconds",
                "remediation_latency_seconds",
            )
        ],
    )


def test_a_scrape_of_thousands_of_rows_counts_them_all(
    client: FlaskClient, committed_db: Engine
) -> None:
    # (Speed is not asserted here: the statement count above is the guarantee, and the
    # scrape's own duration is a series, ci_remediator_metrics_scrape_duration_seconds.)
    with Session(committed_db) as session, session.begin():
        write_thousands(session, start=1, failures=3000)  # 3,000 x 3 rows and 9,000 samples

    samples, _ = scrape(client)

    assert sum(by(samples, "ci_remediator_failures", "repository", "state").values()) == 3000
    assert by(samples, "ci_remediator_metrics_scrape_duration_seconds")[()] > 0


DATABASE_SAMPLES = {
    "ci_remediator_failures",
    "ci_remediator_remediations_finished_total",
    "ci_remediator_approvals_pending",
    "ci_remediator_approval_oldest_pending_age_seconds",
    "ci_remediator_breaker_open",
    "ci_remediator_analyses_total",
    "ci_remediator_model_tokens_total",
    "ci_remediator_model_cost_usd_total",
    "ci_remediator_stage_latency_seconds_bucket",
    "ci_remediator_stage_latency_seconds_gsum",
    "ci_remediator_stage_latency_seconds_gcount",
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_database_down_answers_200_with_database_up_0() -> None:
    down = services_on(f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/gone")
    client = create_app(services=lambda: down).test_client()

    samples, _ = scrape(client)
    assert by(samples, "ci_remediator_database_up") == {(): 0}
    assert by(samples, "ci_remediator_metrics_scrape_errors_total") == {(): 1}
    assert "python_info" in samples  # the process's own series still answer
    assert not DATABASE_SAMPLES & samples.keys()

    samples, _ = scrape(client)
    assert by(samples, "ci_remediator_metrics_scrape_errors_total") == {(): 2}
