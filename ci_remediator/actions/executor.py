"""Execute and verify remediations through the GitHub gateway, exactly once each.

The remediation row was committed (status `pending`, failure `executing`) before this runs. A
redelivered execute finds it `requested` and does nothing; one that finds it still `pending`
asks GitHub whether the run already has the attempt we meant to start before calling again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.actions.catalog import action_spec
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Failure, Remediation, RemediationStatus
from ci_remediator.domain import ActionKind, FailureState, FollowUp, StageEvent, Step
from ci_remediator.github.gateway import RerunRefusedError
from ci_remediator.lifecycle import require_transition
from ci_remediator.metrics import REMEDIATION_OUTCOMES, record_metric

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway

ACTOR = "executor"


class VerifyStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    status: VerifyStatus
    follow_ups: tuple[FollowUp, ...] = ()


def _open_remediation(session: Session, failure_id: int) -> Remediation | None:
    # FOR UPDATE: a duplicate execute waits here until the first commits, then sees `requested`.
    return session.scalar(
        select(Remediation)
        .where(Remediation.failure_id == failure_id)
        .order_by(Remediation.id.desc())
        .limit(1)
        .with_for_update()
    )


def execute_remediation(
    session: Session, *, failure_id: int, gateway: GitHubGateway, verify_after_s: float
) -> list[FollowUp]:
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.EXECUTING:
        return []
    remediation = _open_remediation(session, failure_id)
    if remediation is None:
        raise LookupError(f"failure {failure_id} is executing without a remediation row")

    if remediation.status is RemediationStatus.PENDING:
        if remediation.action is not ActionKind.RERUN_FAILED_JOBS:
            raise ValueError(f"no executor for {remediation.action}")
        latest = gateway.get_run(remediation.repository, remediation.run_id)
        if latest.run_attempt >= remediation.target_attempt:
            remediation.outcome_detail = (
                f"attempt {latest.run_attempt} already exists; the rerun was not sent again"
            )
        else:
            try:
                gateway.rerun_failed_jobs(remediation.repository, remediation.run_id)
            except RerunRefusedError as refused:
                return _refused(
                    session, failure=failure, remediation=remediation, reason=str(refused)
                )
        remediation.status = RemediationStatus.REQUESTED
        remediation.requested_at = utcnow()

    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.EXECUTING,
        to=FailureState.VERIFYING,
        actor=ACTOR,
        detail={
            "action": remediation.action.value,
            "run_id": remediation.run_id,
            "target_attempt": remediation.target_attempt,
        },
    )
    return [FollowUp(Step.VERIFY, failure_id, countdown_s=verify_after_s)]


def _refused(
    session: Session, *, failure: Failure, remediation: Remediation, reason: str
) -> list[FollowUp]:
    remediation.status = RemediationStatus.REFUSED
    remediation.completed_at = utcnow()
    remediation.outcome_detail = f"GitHub refused: {reason}"
    REMEDIATION_OUTCOMES.labels(action=remediation.action.value, outcome="refused").inc()
    require_transition(
        session,
        failure_id=failure.id,
        expected=FailureState.EXECUTING,
        to=FailureState.REMEDIATION_FAILED,
        actor=ACTOR,
        detail={"reason": remediation.outcome_detail},
    )
    return _escalate_after_failed_remediation(
        session, failure_id=failure.id, remediation=remediation
    )


def _escalate_after_failed_remediation(
    session: Session, *, failure_id: int, remediation: Remediation | None
) -> list[FollowUp]:
    reversible = remediation is not None and action_spec(remediation.action).reversible
    # Nothing in the first catalog is reversible: a rerun has nothing to undo, so the only way
    # on is a human. Reversible actions will go to ROLLED_BACK through a rollback step.
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.REMEDIATION_FAILED,
        to=FailureState.ESCALATED,
        actor=ACTOR,
        detail={"rollback": "not attempted" if reversible else "nothing to undo"},
    )
    return [FollowUp(Step.NOTIFY, failure_id, event=StageEvent.ESCALATED)]


def verify_remediation(
    session: Session, *, failure_id: int, gateway: GitHubGateway
) -> VerifyOutcome:
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.VERIFYING:
        return VerifyOutcome(VerifyStatus.NOT_APPLICABLE)
    remediation = _open_remediation(session, failure_id)
    if remediation is None or remediation.status is not RemediationStatus.REQUESTED:
        return VerifyOutcome(VerifyStatus.NOT_APPLICABLE)
    attempt = gateway.get_run_attempt(
        remediation.repository, remediation.run_id, remediation.target_attempt
    )
    if not attempt.is_completed:
        # Stamped so the reconcile sweep can tell a live verification from a lost one.
        failure.updated_at = utcnow()
        return VerifyOutcome(VerifyStatus.PENDING)

    remediation.completed_at = utcnow()
    remediation.outcome_detail = f"attempt {attempt.run_attempt} concluded {attempt.conclusion}"
    elapsed = remediation.completed_at - (remediation.requested_at or remediation.created_at)
    record_metric(
        session,
        name="remediation_latency_seconds",
        value=elapsed.total_seconds(),
        failure_id=failure_id,
        labels={"action": remediation.action.value},
    )
    succeeded = attempt.succeeded
    remediation.status = RemediationStatus.SUCCEEDED if succeeded else RemediationStatus.FAILED
    REMEDIATION_OUTCOMES.labels(
        action=remediation.action.value, outcome=remediation.status.value
    ).inc()
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.VERIFYING,
        to=FailureState.RESOLVED if succeeded else FailureState.REMEDIATION_FAILED,
        actor=ACTOR,
        detail={"conclusion": attempt.conclusion, "attempt": attempt.run_attempt},
    )
    if succeeded:
        follow_ups = [FollowUp(Step.NOTIFY, failure_id, event=StageEvent.RESOLVED)]
    else:
        follow_ups = _escalate_after_failed_remediation(
            session, failure_id=failure_id, remediation=remediation
        )
    return VerifyOutcome(VerifyStatus.DONE, tuple(follow_ups))


def verification_timed_out(session: Session, *, failure_id: int) -> list[FollowUp]:
    """The new attempt never completed within verify_timeout: a human must look."""
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.VERIFYING:
        return []
    remediation = _open_remediation(session, failure_id)
    if remediation is not None:
        remediation.status = RemediationStatus.FAILED
        remediation.completed_at = utcnow()
        remediation.outcome_detail = "verification timed out: the new attempt never completed"
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.VERIFYING,
        to=FailureState.REMEDIATION_FAILED,
        actor=ACTOR,
        detail={"reason": "verification timed out"},
    )
    return _escalate_after_failed_remediation(
        session, failure_id=failure_id, remediation=remediation
    )
