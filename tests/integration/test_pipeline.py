"""The pipeline on a real Celery worker, the real Redis broker and the real Postgres."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from ci_remediator.db.audit import query_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Failure
from ci_remediator.domain import ALLOWED_TRANSITIONS, FailureState
from ci_remediator.sandbox.github import GitHubSandbox
from ci_remediator.sandbox.scenarios import DEMO_RUNS, demo_log, install_demo_scenario
from ci_remediator.services import Services
from tests.integration.conftest import record_sandbox_failure
from workers.demo import check_scenario, wait_until_settled

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def assert_audit_is_a_valid_path(session: Session, failure: Failure) -> None:
    """Each transition starts where the previous ended, follows an allowed edge, and the last
    one ends in the failure's stored state."""
    transitions = query_audit(session, failure_id=failure.id, action="transition")
    state = FailureState.DETECTED
    for entry in transitions:
        assert entry.from_state == state.value
        target = FailureState(entry.to_state)
        assert target in ALLOWED_TRANSITIONS[state]
        state = target
    assert state is failure.state


def test_demo_scenario_end_to_end(services: Services, sandbox: GitHubSandbox, worker: None) -> None:
    from workers.tasks import poll_repositories

    runs = install_demo_scenario(sandbox)
    poll_repositories.delay()
    assert wait_until_settled(services, expected=len(runs), timeout_s=60)
    time.sleep(0.5)  # let in-flight notifications finish before the checks read the audit

    checks = check_scenario(services, sandbox, runs)
    assert [(c.run.key, c.state) for c in checks] == [
        (run.key, run.expected_state) for run in DEMO_RUNS
    ]
    # Exactly one rerun request per re-run failure, none for the others.
    assert [c.reruns for c in checks] == [run.expected_reruns for run in DEMO_RUNS]
    assert sandbox.count("POST", r".*/rerun-failed-jobs") == sum(
        r.expected_reruns for r in DEMO_RUNS
    )

    with services.sessions() as session:
        failures = session.scalars(select(Failure)).all()
        # Five failures, no more: the failed rerun's attempt 2 belongs to its parent.
        assert len(failures) == len(DEMO_RUNS)
        for failure in failures:
            assert_audit_is_a_valid_path(session, failure)
            assert failure.analysis is not None
            assert "ghs_" not in failure.analysis.excerpt


def test_reconcile_moves_on_a_failure_whose_task_was_lost(
    services: Services, sandbox: GitHubSandbox, worker: None
) -> None:
    from ci_remediator.db.models import DetectionSource
    from workers.tasks import reconcile

    # Recorded, committed, and its analyze message never sent: as if Redis lost it.
    with services.sessions() as session, session.begin():
        failure_id = record_sandbox_failure(
            session,
            services,
            sandbox,
            log_text=demo_log("network_blip.log"),
            source=DetectionSource.WEBHOOK,
            rerun_conclusions=("success",),
            polls_until_complete=1,
        )
        run_id = session.get(Failure, failure_id).run_id
        session.execute(
            update(Failure)
            .where(Failure.id == failure_id)
            .values(updated_at=utcnow() - timedelta(minutes=30))
        )
    time.sleep(1.0)
    with services.sessions() as session:
        assert session.get(Failure, failure_id).state is FailureState.DETECTED

    reconcile.delay()
    assert wait_until_settled(services, expected=1, timeout_s=30)
    with services.sessions() as session:
        failure = session.get(Failure, failure_id)
        assert failure.state is FailureState.RESOLVED
        assert len(query_audit(session, failure_id=failure_id, action="resent")) == 1
        assert_audit_is_a_valid_path(session, failure)
    assert sandbox.count("POST", rf".*/runs/{run_id}/rerun-failed-jobs") == 1


def test_reconcile_leaves_fresh_and_settled_failures_alone(
    services: Services, sandbox: GitHubSandbox, committed_db: Engine
) -> None:
    from ci_remediator.pipeline.reconcile import find_stuck_failures

    with services.sessions() as session, session.begin():
        record_sandbox_failure(session, services, sandbox)
        assert find_stuck_failures(session, stuck_after=timedelta(minutes=1)).follow_ups == ()
