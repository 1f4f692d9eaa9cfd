from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import query_audit
from ci_remediator.db.models import DetectionSource, Failure, Remediation
from ci_remediator.db.transitions import (
    InvalidTransitionError,
    StaleStateError,
    mark_errored,
    require_transition,
    transition,
)
from ci_remediator.domain import FailureState
from ci_remediator.github.gateway import RunInfo
from ci_remediator.pipeline.detect import record_failure


def failed_run(run_id: int = 101, attempt: int = 1, conclusion: str = "failure") -> RunInfo:
    moment = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    return RunInfo(
        repository="acme/web",
        run_id=run_id,
        run_attempt=attempt,
        workflow_name="CI",
        workflow_id=7,
        event="push",
        head_branch="main",
        head_sha="a" * 40,
        status="completed",
        conclusion=conclusion,
        html_url=f"https://github.com/acme/web/actions/runs/{run_id}",
        created_at=moment,
        updated_at=moment,
        actor="octocat",
    )


def detected(session: Session) -> int:
    """A failed run recorded by the poller: its failure's id, in `detected`."""
    failure_id = record_failure(session, run=failed_run(), source=DetectionSource.POLL)
    assert failure_id is not None
    return failure_id


def test_detecting_the_same_run_twice_records_it_once(db_session: Session) -> None:
    first = record_failure(db_session, run=failed_run(), source=DetectionSource.POLL)
    second = record_failure(db_session, run=failed_run(), source=DetectionSource.WEBHOOK)
    assert first is not None
    assert second is None
    assert db_session.scalars(select(Failure)).all()[0].source is DetectionSource.POLL
    assert len(query_audit(db_session, failure_id=first, action="detected")) == 1


def test_a_new_attempt_by_someone_else_is_a_new_failure(db_session: Session) -> None:
    assert record_failure(db_session, run=failed_run(attempt=1), source=DetectionSource.POLL)
    assert record_failure(db_session, run=failed_run(attempt=2), source=DetectionSource.POLL)


def test_an_attempt_we_started_belongs_to_its_parent(db_session: Session) -> None:
    parent = record_failure(db_session, run=failed_run(attempt=1), source=DetectionSource.POLL)
    assert parent is not None
    db_session.add(
        Remediation(
            failure_id=parent,
            action="rerun_failed_jobs",
            repository="acme/web",
            run_id=101,
            target_attempt=2,
        )
    )
    db_session.flush()
    assert (
        record_failure(db_session, run=failed_run(attempt=2), source=DetectionSource.POLL) is None
    )
    # ...but a third attempt, started by a human, is theirs and new.
    assert record_failure(db_session, run=failed_run(attempt=3), source=DetectionSource.POLL)


def test_successful_runs_are_not_failures(db_session: Session) -> None:
    assert (
        record_failure(
            db_session, run=failed_run(conclusion="success"), source=DetectionSource.POLL
        )
        is None
    )


def test_guarded_transition_from_the_wrong_state_changes_nothing(db_session: Session) -> None:
    failure_id = detected(db_session)
    moved = transition(
        db_session,
        failure_id=failure_id,
        expected=FailureState.ANALYZED,
        to=FailureState.GATED,
        actor="test",
    )
    assert moved is None
    assert db_session.get(Failure, failure_id).state is FailureState.DETECTED
    assert query_audit(db_session, failure_id=failure_id, action="transition") == []


def test_guarded_transition_writes_one_audit_entry(db_session: Session) -> None:
    failure_id = detected(db_session)
    moved = transition(
        db_session,
        failure_id=failure_id,
        expected=FailureState.DETECTED,
        to=FailureState.ANALYZING,
        actor="test",
    )
    assert moved is FailureState.DETECTED
    assert db_session.get(Failure, failure_id).state is FailureState.ANALYZING
    [entry] = query_audit(db_session, failure_id=failure_id, action="transition")
    assert (entry.from_state, entry.to_state, entry.actor) == ("detected", "analyzing", "test")


def test_second_identical_transition_is_a_no_op(db_session: Session) -> None:
    failure_id = record_failure(db_session, run=failed_run(), source=DetectionSource.POLL)
    kwargs = {
        "failure_id": failure_id,
        "expected": FailureState.DETECTED,
        "to": FailureState.ANALYZING,
        "actor": "test",
    }
    assert transition(db_session, **kwargs) is FailureState.DETECTED
    assert transition(db_session, **kwargs) is None
    assert len(query_audit(db_session, failure_id=failure_id, action="transition")) == 1


def test_an_edge_the_machine_lacks_is_refused(db_session: Session) -> None:
    failure_id = record_failure(db_session, run=failed_run(), source=DetectionSource.POLL)
    with pytest.raises(InvalidTransitionError, match="detected to resolved"):
        transition(
            db_session,
            failure_id=failure_id,
            expected=FailureState.DETECTED,
            to=FailureState.RESOLVED,
            actor="test",
        )


def test_errored_from_any_live_state_but_not_from_terminal(db_session: Session) -> None:
    failure_id = detected(db_session)
    assert mark_errored(db_session, failure_id=failure_id, error="boom", actor="test")
    failure = db_session.get(Failure, failure_id)
    assert (failure.state, failure.last_error) == (FailureState.ERRORED, "boom")
    assert not mark_errored(db_session, failure_id=failure_id, error="again", actor="test")


def _transitions_to(state: FailureState) -> float:
    """What /metrics says of `ci_remediator_transitions_total` for `state`."""
    value = REGISTRY.get_sample_value("ci_remediator_transitions_total", {"to_state": state.value})
    return value or 0.0


def test_a_transition_from_one_of_several_states_moves_records_counts_and_refreshes(
    db_session: Session,
) -> None:
    failure_id = detected(db_session)
    for source, target in (
        (FailureState.DETECTED, FailureState.ANALYZING),
        (FailureState.ANALYZING, FailureState.ANALYZED),
        (FailureState.ANALYZED, FailureState.GATED),
    ):
        transition(db_session, failure_id=failure_id, expected=source, to=target, actor="test")
    failure = db_session.get(Failure, failure_id)
    assert failure is not None
    before, counted = failure.updated_at, _transitions_to(FailureState.EXECUTING)
    moved = transition(
        db_session,
        failure_id=failure_id,
        expected=[FailureState.GATED, FailureState.AWAITING_APPROVAL],
        to=FailureState.EXECUTING,
        actor="worker:gate",
        detail={"attempt": 2},
        error="a first try timed out",
    )
    assert moved is FailureState.GATED
    # The object loaded before the UPDATE shows what the row holds now.
    assert failure.state is FailureState.EXECUTING
    assert failure.last_error == "a first try timed out"
    assert failure.updated_at > before
    assert _transitions_to(FailureState.EXECUTING) == counted + 1
    entry = query_audit(db_session, failure_id=failure_id, action="transition")[-1]
    assert (entry.actor, entry.from_state, entry.to_state, entry.detail) == (
        "worker:gate",
        "gated",
        "executing",
        {"attempt": 2},
    )
    # A transition without an error keeps the last one recorded.
    transition(
        db_session,
        failure_id=failure_id,
        expected=FailureState.EXECUTING,
        to=FailureState.VERIFYING,
        actor="worker:execute",
    )
    assert (failure.state, failure.last_error) == (FailureState.VERIFYING, "a first try timed out")


def test_a_set_of_expected_states_with_one_edge_the_machine_lacks_is_refused_whole(
    db_session: Session,
) -> None:
    failure_id = detected(db_session)
    with pytest.raises(InvalidTransitionError, match=r"^no transition from resolved to analyzing$"):
        transition(
            db_session,
            failure_id=failure_id,
            expected={FailureState.DETECTED, FailureState.RESOLVED},
            to=FailureState.ANALYZING,
            actor="test",
        )
    assert db_session.get(Failure, failure_id).state is FailureState.DETECTED


def test_a_required_transition_returns_the_state_it_left_or_raises_when_stale(
    db_session: Session,
) -> None:
    failure_id = detected(db_session)
    moved = require_transition(
        db_session,
        failure_id=failure_id,
        expected=FailureState.DETECTED,
        to=FailureState.ANALYZING,
        actor="worker:analyze",
        detail={"via": "webhook"},
    )
    assert moved is FailureState.DETECTED
    [entry] = query_audit(db_session, failure_id=failure_id, action="transition")
    assert (entry.actor, entry.detail) == ("worker:analyze", {"via": "webhook"})
    with pytest.raises(StaleStateError) as stale:
        require_transition(
            db_session,
            failure_id=failure_id,
            expected=FailureState.DETECTED,
            to=FailureState.ANALYZING,
            actor="worker:analyze",
        )
    assert str(stale.value) == (
        f"failure {failure_id} was not in {FailureState.DETECTED} when moving to "
        f"{FailureState.ANALYZING}"
    )
    assert len(query_audit(db_session, failure_id=failure_id, action="transition")) == 1


def test_an_errored_failure_keeps_the_error_without_nul_cut_to_2000_and_audited(
    db_session: Session,
) -> None:
    failure_id = detected(db_session)
    transition(
        db_session,
        failure_id=failure_id,
        expected=FailureState.DETECTED,
        to=FailureState.ANALYZING,
        actor="worker:analyze",
    )
    error = "GitHub said: \x00bad gateway " + "x" * 3000
    assert mark_errored(db_session, failure_id=failure_id, error=error, actor="worker:analyze")
    kept = error.replace("\x00", "")[:2000]
    failure = db_session.get(Failure, failure_id)
    assert failure is not None
    assert (failure.state, failure.last_error) == (FailureState.ERRORED, kept)
    entry = query_audit(db_session, failure_id=failure_id, action="transition")[-1]
    assert (entry.actor, entry.from_state, entry.to_state, entry.detail) == (
        "worker:analyze",
        "analyzing",
        "errored",
        {"error": kept},
    )


def test_marking_a_failure_that_does_not_exist_errored_changes_nothing(
    db_session: Session,
) -> None:
    assert not mark_errored(db_session, failure_id=987654, error="boom", actor="test")
    assert query_audit(db_session, failure_id=987654) == []


def test_a_transition_moves_only_its_own_failure(db_session: Session) -> None:
    moved_id = record_failure(db_session, run=failed_run(run_id=101), source=DetectionSource.POLL)
    other_id = record_failure(db_session, run=failed_run(run_id=102), source=DetectionSource.POLL)
    assert moved_id is not None
    assert other_id is not None
    assert (
        transition(
            db_session,
            failure_id=moved_id,
            expected=FailureState.DETECTED,
            to=FailureState.ANALYZING,
            actor="worker:analyze",
        )
        is FailureState.DETECTED
    )
    db_session.expire_all()
    assert db_session.get(Failure, moved_id).state is FailureState.ANALYZING
    assert db_session.get(Failure, other_id).state is FailureState.DETECTED
    assert query_audit(db_session, failure_id=other_id, action="transition") == []
