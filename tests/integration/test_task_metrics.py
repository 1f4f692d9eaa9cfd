"""Per-task duration, queue wait and outcomes: measured by the signals of a real Celery worker
on the real Redis broker, totalled in Postgres, exposed on the web's `/metrics`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ci_remediator.db.models import TaskStat
from ci_remediator.db.task_stats import DURATION, WAIT
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
