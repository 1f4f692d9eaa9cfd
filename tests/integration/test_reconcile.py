"""The reconcile sweep re-sends the task of every failure stuck in a state it owns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from ci_remediator.db.base import utcnow
from ci_remediator.db.models import ApprovalRequest, DetectionSource, Failure
from ci_remediator.domain import TERMINAL_STATES, ActionKind, FailureState, Step
from ci_remediator.pipeline.reconcile import find_stuck_failures

STUCK_AFTER = timedelta(minutes=15)

# What each state waits for. GATED and REMEDIATION_FAILED are never committed: the gate and
# the verify step leave them within the transaction that entered them.
EXPECTED_STEP = {
    FailureState.DETECTED: Step.ANALYZE,
    FailureState.ANALYZING: Step.ANALYZE,
    FailureState.ANALYZED: Step.GATE,
    FailureState.EXECUTING: Step.EXECUTE,
    FailureState.VERIFYING: Step.VERIFY,
    FailureState.AWAITING_APPROVAL: Step.REQUEST_APPROVAL,
}
PASSED_THROUGH = {FailureState.GATED, FailureState.REMEDIATION_FAILED}


def failure_in(
    session: Session, state: FailureState, *, idle: timedelta, run_id: int = 1
) -> Failure:
    at = utcnow() - idle
    failure = Failure(
        repository="acme/web",
        run_id=run_id,
        run_attempt=1,
        workflow_name="CI",
        workflow_id=1,
        event="push",
        head_branch="main",
        head_sha="0" * 40,
        html_url="https://github.com/acme/web/actions/runs/1",
        run_created_at=at,
        source=DetectionSource.POLL,
        state=state,
        updated_at=at,
    )
    session.add(failure)
    session.flush()
    return failure


def test_every_state_a_failure_can_rest_in_is_either_terminal_or_swept() -> None:
    assert set(FailureState) == TERMINAL_STATES | set(EXPECTED_STEP) | PASSED_THROUGH


@pytest.mark.parametrize("state", list(EXPECTED_STEP), ids=str)
def test_a_stuck_failure_gets_its_next_task_again(db_session: Session, state: FailureState) -> None:
    failure = failure_in(db_session, state, idle=STUCK_AFTER * 2)
    if state is FailureState.AWAITING_APPROVAL:
        # Never announced: the request message was lost.
        db_session.add(
            ApprovalRequest(
                failure_id=failure.id,
                action=ActionKind.RERUN_FAILED_JOBS,
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    result = find_stuck_failures(db_session, stuck_after=STUCK_AFTER)
    assert [(f.step, f.failure_id) for f in result.follow_ups] == [
        (EXPECTED_STEP[state], failure.id)
    ]
    # Stamped: the next sweep waits another `stuck_after` before sending it again.
    assert find_stuck_failures(db_session, stuck_after=STUCK_AFTER).follow_ups == ()


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES), ids=str)
def test_a_settled_failure_is_left_alone(db_session: Session, state: FailureState) -> None:
    failure_in(db_session, state, idle=timedelta(days=3))
    assert find_stuck_failures(db_session, stuck_after=STUCK_AFTER).follow_ups == ()


def test_a_failure_busy_within_the_deadline_is_left_alone(db_session: Session) -> None:
    failure_in(db_session, FailureState.VERIFYING, idle=STUCK_AFTER / 2)
    assert find_stuck_failures(db_session, stuck_after=STUCK_AFTER).follow_ups == ()


def test_an_announced_approval_waits_for_its_human(db_session: Session) -> None:
    failure = failure_in(db_session, FailureState.AWAITING_APPROVAL, idle=timedelta(hours=3))
    db_session.add(
        ApprovalRequest(
            failure_id=failure.id,
            action=ActionKind.RERUN_FAILED_JOBS,
            expires_at=utcnow() + timedelta(hours=1),
            notified_at=utcnow() - timedelta(hours=3),
        )
    )
    assert find_stuck_failures(db_session, stuck_after=STUCK_AFTER).follow_ups == ()
