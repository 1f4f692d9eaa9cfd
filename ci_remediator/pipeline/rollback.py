"""The rollback step: the verify deadline passed with the remediation's work still going.

The action undoes what it still can (a rerun: cancel the attempt still running); the failure
ends `rolled_back` with what was undone, or `escalated` when nothing was left to undo. Either
way a human is told. A redelivered rollback asks GitHub first, so nothing is undone twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ci_remediator.actions import action_for
from ci_remediator.db.models import Failure
from ci_remediator.db.notices import notice
from ci_remediator.db.transitions import require_transition
from ci_remediator.domain import NOTHING_TO_DO, FailureState, StageEvent, StepResult
from ci_remediator.pipeline.execute import (
    escalate_after_failed_remediation,
    latest_remediation,
    target_of,
)
from ci_remediator.policy.catalog import action_spec

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway

ACTOR = "rollback"


def roll_back_remediation(
    session: Session, *, failure_id: int, gateway: GitHubGateway
) -> StepResult:
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.REMEDIATION_FAILED:
        return NOTHING_TO_DO
    remediation = latest_remediation(session, failure_id)
    if remediation is None or not action_spec(remediation.action).reversible:
        return escalate_after_failed_remediation(session, failure_id=failure_id)
    undone = action_for(remediation.action).rollback(gateway, target_of(remediation))
    if undone is None:
        return escalate_after_failed_remediation(session, failure_id=failure_id)
    remediation.outcome_detail = f"{remediation.outcome_detail or ''}; rolled back: {undone}"
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.REMEDIATION_FAILED,
        to=FailureState.ROLLED_BACK,
        actor=ACTOR,
        detail={"undone": undone},
    )
    return StepResult((notice(session, failure_id, StageEvent.ROLLED_BACK),))
