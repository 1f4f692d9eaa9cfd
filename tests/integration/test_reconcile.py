"""The reconcile sweep re-sends the task of every failure stuck in a state it owns."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.audit import query_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    ApprovalRequest,
    DetectionSource,
    Failure,
    Notification,
    NotificationStatus,
)
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


def test_a_resent_task_is_audited_and_the_failure_stamped_with_the_sweeps_time(
    db_session: Session,
) -> None:
    failure = failure_in(db_session, FailureState.VERIFYING, idle=STUCK_AFTER / 2)
    # A sweep whose clock is past the deadline of a failure idle for less than `stuck_after`.
    now = utcnow() + STUCK_AFTER
    result = find_stuck_failures(db_session, stuck_after=STUCK_AFTER, now=now)
    assert [(f.step, f.failure_id) for f in result.follow_ups] == [(Step.VERIFY, failure.id)]
    db_session.refresh(failure)
    assert failure.updated_at == now
    [entry] = query_audit(db_session, failure_id=failure.id, action="resent")
    assert (entry.actor, entry.from_state, entry.to_state, entry.detail) == (
        "reconciler",
        "verifying",
        None,
        {"step": "verify"},
    )


def test_a_failure_left_owing_a_rollback_gets_its_rollback_again(db_session: Session) -> None:
    failure = failure_in(db_session, FailureState.REMEDIATION_FAILED, idle=STUCK_AFTER * 2)
    result = find_stuck_failures(db_session, stuck_after=STUCK_AFTER)
    assert [(f.step, f.failure_id) for f in result.follow_ups] == [(Step.ROLLBACK, failure.id)]


def test_the_longest_stuck_failures_go_first_and_a_sweep_takes_at_most_its_limit(
    db_session: Session,
) -> None:
    idle = {run_id: STUCK_AFTER * (2 + run_id) for run_id in range(1, 5)}
    failures = {
        run_id: failure_in(db_session, FailureState.ANALYZED, idle=minutes, run_id=run_id)
        for run_id, minutes in idle.items()
    }
    longest_first = sorted(failures, key=lambda run_id: idle[run_id], reverse=True)
    result = find_stuck_failures(db_session, stuck_after=STUCK_AFTER, limit=3)
    assert [f.failure_id for f in result.follow_ups] == [
        failures[run_id].id for run_id in longest_first[:3]
    ]
    # The one left over is the next sweep's.
    again = find_stuck_failures(db_session, stuck_after=STUCK_AFTER, limit=3)
    assert [f.failure_id for f in again.follow_ups] == [failures[longest_first[3]].id]


def test_a_notice_no_notify_task_ever_tried_is_sent_again_once_per_failure(
    db_session: Session,
) -> None:
    old = utcnow() - STUCK_AFTER * 2
    lost = failure_in(db_session, FailureState.RESOLVED, idle=STUCK_AFTER * 2, run_id=1)
    retrying = failure_in(db_session, FailureState.RESOLVED, idle=STUCK_AFTER * 2, run_id=2)
    delivered = failure_in(db_session, FailureState.RESOLVED, idle=STUCK_AFTER * 2, run_id=3)
    recent = failure_in(db_session, FailureState.RESOLVED, idle=STUCK_AFTER * 2, run_id=4)
    db_session.add_all(
        [
            Notification(failure_id=lost.id, event="resolved", created_at=old),
            Notification(failure_id=lost.id, event="resolved", created_at=old),
            Notification(failure_id=retrying.id, event="resolved", created_at=old, attempts=1),
            Notification(
                failure_id=delivered.id,
                event="resolved",
                created_at=old,
                status=NotificationStatus.DELIVERED,
            ),
            Notification(failure_id=recent.id, event="resolved", created_at=utcnow()),
        ]
    )
    db_session.flush()
    result = find_stuck_failures(db_session, stuck_after=STUCK_AFTER)
    assert [(f.step, f.failure_id) for f in result.follow_ups] == [(Step.NOTIFY, lost.id)]


def test_a_sweep_resends_at_most_its_limit_of_lost_notices(db_session: Session) -> None:
    old = utcnow() - STUCK_AFTER * 2
    for run_id in range(1, 4):
        failure = failure_in(db_session, FailureState.RESOLVED, idle=STUCK_AFTER, run_id=run_id)
        db_session.add(Notification(failure_id=failure.id, event="resolved", created_at=old))
    db_session.flush()
    result = find_stuck_failures(db_session, stuck_after=STUCK_AFTER, limit=2)
    assert len(result.follow_ups) == 2


def test_a_sweep_takes_at_most_500_stuck_failures_unless_told_otherwise(
    db_session: Session,
) -> None:
    for run_id in range(1, 502):
        failure_in(db_session, FailureState.ANALYZED, idle=STUCK_AFTER * 2, run_id=run_id)
    assert len(find_stuck_failures(db_session, stuck_after=STUCK_AFTER).follow_ups) == 500
    assert len(find_stuck_failures(db_session, stuck_after=STUCK_AFTER).follow_ups) == 1


def test_a_failure_or_a_notice_idle_exactly_stuck_after_is_not_stuck_yet(
    db_session: Session,
) -> None:
    failure = failure_in(db_session, FailureState.VERIFYING, idle=STUCK_AFTER)
    settled = failure_in(db_session, FailureState.RESOLVED, idle=STUCK_AFTER, run_id=2)
    db_session.add(
        Notification(failure_id=settled.id, event="resolved", created_at=failure.updated_at)
    )
    db_session.flush()
    now = failure.updated_at + STUCK_AFTER
    assert find_stuck_failures(db_session, stuck_after=STUCK_AFTER, now=now).follow_ups == ()
    later = now + timedelta(microseconds=1)
    swept = find_stuck_failures(db_session, stuck_after=STUCK_AFTER, now=later)
    assert [(f.step, f.failure_id) for f in swept.follow_ups] == [
        (Step.VERIFY, failure.id),
        (Step.NOTIFY, settled.id),
    ]


def test_a_failure_errored_while_its_request_was_never_announced_is_left_alone(
    db_session: Session,
) -> None:
    # Announcing it failed for good: the failure is errored, its request still pending.
    failure = failure_in(db_session, FailureState.ERRORED, idle=timedelta(hours=3))
    db_session.add(
        ApprovalRequest(
            failure_id=failure.id,
            action=ActionKind.RERUN_FAILED_JOBS,
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    db_session.flush()
    assert find_stuck_failures(db_session, stuck_after=STUCK_AFTER).follow_ups == ()


def test_two_sweeps_at_once_take_different_failures_without_waiting_for_each_other(
    committed_db: Engine,
) -> None:
    sessions = sessionmaker(bind=committed_db, expire_on_commit=False)
    with sessions() as setup, setup.begin():
        oldest = failure_in(setup, FailureState.ANALYZED, idle=STUCK_AFTER * 3, run_id=1).id
        other = failure_in(setup, FailureState.ANALYZED, idle=STUCK_AFTER * 2, run_id=2).id
    with sessions() as first, first.begin(), sessions() as second, second.begin():
        taken = find_stuck_failures(first, stuck_after=STUCK_AFTER, limit=1).follow_ups
        # The first sweep has not committed; the second must not wait for its rows.
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        also = find_stuck_failures(second, stuck_after=STUCK_AFTER, limit=1).follow_ups
    assert [f.failure_id for f in taken] == [oldest]
    assert [f.failure_id for f in also] == [other]
