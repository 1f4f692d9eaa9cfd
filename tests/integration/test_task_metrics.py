"""Per-task duration, queue wait and outcomes: measured by the signals of a real Celery worker
on the real Redis broker, totalled in Postgres, exposed on the web's `/metrics`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.models import TaskStat
from ci_remediator.db.task_stats import DURATION, WAIT, PendingTaskStats, bucket_of
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import install_demo_scenario
from ci_remediator.services import Services
from ci_remediator.web import create_app
from tests.integration.conftest import wait_until
from workers.demo import wait_until_settled

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _sample(body: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    found = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", body, re.MULTILINE)
    shown = [line for line in body.splitlines() if name in line][:5]
    assert found, f"{name}{{{wanted}}} missing from {shown}"
    return float(found.group(1))


def test_every_task_run_is_timed_and_exposed(
    services: Services, sandbox: GitHubSandbox, worker: None
) -> None:
    from workers.tasks import poll_repositories

    runs = install_demo_scenario(sandbox)
    poll_repositories.delay()
    assert wait_until_settled(services, expected=len(runs), timeout_s=60)

    def stats() -> dict[tuple[str, str, str], int]:
        with services.sessions() as session:
            totals: dict[tuple[str, str, str], int] = {}
            for row in session.scalars(select(TaskStat)):
                key = (row.task, row.outcome, row.kind)
                totals[key] = totals.get(key, 0) + row.observations
            return totals

    # The last task's row is written just after it ends.
    assert wait_until(lambda: stats().get(("analyze", "succeeded", DURATION), 0) >= len(runs))
    totals = stats()
    # Every run has its duration; every run has a wait (its message carried the header).
    for (task, outcome, kind), count in totals.items():
        if kind == DURATION:
            assert totals.get((task, outcome, WAIT)) == count, (task, outcome)
    assert totals[("poll_repositories", "succeeded", DURATION)] >= 1
    assert totals[("gate", "succeeded", DURATION)] >= len(runs)

    body = create_app(services=lambda: services).test_client().get("/metrics").text
    analyzed = _sample(body, "ci_remediator_task_runs_total", task="analyze", outcome="succeeded")
    assert analyzed == totals[("analyze", "succeeded", DURATION)]
    count = _sample(
        body, "ci_remediator_task_duration_seconds_count", task="analyze", outcome="succeeded"
    )
    inf = _sample(
        body,
        "ci_remediator_task_duration_seconds_bucket",
        task="analyze",
        outcome="succeeded",
        le="+Inf",
    )
    assert count == inf == analyzed
    assert (
        _sample(
            body, "ci_remediator_task_duration_seconds_sum", task="analyze", outcome="succeeded"
        )
        > 0
    )
    assert _sample(body, "ci_remediator_task_queue_wait_seconds_count", task="analyze") == analyzed


def test_pending_runs_are_written_as_one_upsert_per_bucket_and_add_up(db_session: Session) -> None:
    pending = PendingTaskStats()
    for duration in (0.002, 0.003, 7.0):
        pending.add(task="gate", outcome="succeeded", duration_s=duration, wait_s=None)
    pending.add(task="gate", outcome="retried", duration_s=0.002, wait_s=0.5)
    taken = pending.take()
    assert not pending

    taken.write(db_session)
    taken.write(db_session)  # a second flush of the same totals adds to the rows

    rows = {
        (row.outcome, row.kind, row.bucket): (row.observations, round(row.seconds, 3))
        for row in db_session.scalars(select(TaskStat).where(TaskStat.task == "gate"))
    }
    assert rows == {
        ("succeeded", DURATION, bucket_of(0.002)): (4, 0.01),
        ("succeeded", DURATION, bucket_of(7.0)): (2, 14.0),
        ("retried", DURATION, bucket_of(0.002)): (2, 0.004),
        ("retried", WAIT, bucket_of(0.5)): (2, 1.0),
    }


def test_totals_a_refused_flush_kept_are_merged_back() -> None:
    pending = PendingTaskStats()
    pending.add(task="gate", outcome="succeeded", duration_s=0.1, wait_s=None)
    kept = pending.take()
    pending.add(task="gate", outcome="succeeded", duration_s=0.1, wait_s=None)
    pending.merge(kept)
    assert pending._totals == {("gate", "succeeded", DURATION, bucket_of(0.1)): [2, 0.2]}
