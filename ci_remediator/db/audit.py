"""The audit trail: one row per decision, written in the transaction that made the decision.

Rows carry a free-text `action` chosen at each call site of `record_audit` (and "transition"
for every guarded state change). `ActionType` sorts them into the kinds an auditor asks for;
the mapping lives here, beside the writer, so a new action is classified where it is added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from ci_remediator.db.models import AuditEntry, Failure
from ci_remediator.domain import ALLOWED_TRANSITIONS, FailureState

TRANSITION = "transition"

# Any SELECT, whatever its columns: the filters only add WHERE clauses.
Statement = TypeVar("Statement", bound=Select[*tuple[Any, ...]])


class ActionType(StrEnum):
    """The kinds of audit entry the product README names."""

    DETECTION = "detection"
    ANALYSIS = "analysis"
    GATE_DECISION = "gate_decision"
    APPROVAL = "approval"
    REMEDIATION = "remediation"
    VERIFICATION = "verification"
    ROLLBACK = "rollback"
    NOTIFICATION = "notification"
    SYSTEM = "system"


# The outcomes call sites write: "success" (the default), "failure" (a refusal, an error),
# "partial" (a retention run that stopped at its budget). Free text, like `action`.
KNOWN_OUTCOMES = ("success", "failure", "partial")


# Every `action` other than "transition" that a call site of `record_audit` writes. An action
# missing here is SYSTEM, so no entry is ever left out of every kind; the unit test
# `test_every_recorded_action_is_classified` finds the call sites and fails on a missing one.
ACTION_TYPES: Mapping[str, ActionType] = {
    # The monitor and the webhook: what was seen, and deliveries refused at the door.
    "detected": ActionType.DETECTION,
    "delivery_refused": ActionType.DETECTION,
    "organizations_expanded": ActionType.DETECTION,
    # The safety gate, its remembered decisions and its circuit breaker (a human reset too).
    "memory_applied": ActionType.GATE_DECISION,
    "breaker_tripped": ActionType.GATE_DECISION,
    "breaker_reset": ActionType.GATE_DECISION,
    # People deciding, and what was refused to them (Slack requests only carry approvals).
    "approval_requested": ActionType.APPROVAL,
    "decision_refused": ActionType.APPROVAL,
    "request_refused": ActionType.APPROVAL,
    "memory_created": ActionType.APPROVAL,
    "memory_revoked": ActionType.APPROVAL,
    # What a remediation did before its main call (the caches deleted before a rerun).
    "remediation_prepared": ActionType.REMEDIATION,
    # A later run passed: the tracking issue's failure is verified gone.
    "tracking_issue_closed": ActionType.VERIFICATION,
    "notified": ActionType.NOTIFICATION,
    # The machinery: lost messages re-sent, overrun tasks, credentials GitHub or Slack refused,
    # the daily retention purge.
    "resent": ActionType.SYSTEM,
    "time_limit_exceeded": ActionType.SYSTEM,
    "credential_disabled": ActionType.SYSTEM,
    "retention_purge": ActionType.SYSTEM,
}

# A transition belongs to the stage of the state it leaves: that stage's step made it
# (detected -> analyzing is the analyzer taking the failure; gated -> awaiting_approval is the
# gate's verdict; awaiting_approval -> executing/rejected/expired is the approval's outcome;
# remediation_failed -> rolled_back/escalated is the rollback, or its "nothing to undo").
# Any state -> errored is SYSTEM: retries ran out, whatever the step.
STAGE_OF_STATE: Mapping[FailureState, ActionType] = {
    FailureState.DETECTED: ActionType.ANALYSIS,
    FailureState.ANALYZING: ActionType.ANALYSIS,
    FailureState.ANALYZED: ActionType.GATE_DECISION,
    FailureState.GATED: ActionType.GATE_DECISION,
    FailureState.AWAITING_APPROVAL: ActionType.APPROVAL,
    FailureState.EXECUTING: ActionType.REMEDIATION,
    FailureState.VERIFYING: ActionType.VERIFICATION,
    FailureState.REMEDIATION_FAILED: ActionType.ROLLBACK,
}


def _edge_type(source: FailureState, target: FailureState) -> ActionType:
    if target is FailureState.ERRORED:
        return ActionType.SYSTEM
    return STAGE_OF_STATE.get(source, ActionType.SYSTEM)


# Every edge of the state machine, as the strings the audit rows store.
TRANSITION_TYPES: Mapping[tuple[str, str], ActionType] = {
    (source.value, target.value): _edge_type(source, target)
    for source, targets in ALLOWED_TRANSITIONS.items()
    for target in targets
}


def classify_audit(action: str, from_state: str | None, to_state: str | None) -> ActionType:
    """The kind of one entry; `action_type_clause` selects exactly the entries this returns."""
    if action == TRANSITION:
        return TRANSITION_TYPES.get((from_state or "", to_state or ""), ActionType.SYSTEM)
    return ACTION_TYPES.get(action, ActionType.SYSTEM)


def action_type_clause(action_type: ActionType) -> ColumnElement[bool]:
    """SQL for "the entry is of `action_type`", built from the same tables as `classify_audit`
    (so the two cannot disagree) and in terms of `action`, which is indexed."""
    clauses: list[ColumnElement[bool]] = []
    actions = [action for action, kind in ACTION_TYPES.items() if kind is action_type]
    if actions:
        clauses.append(AuditEntry.action.in_(actions))
    edge = tuple_(func.coalesce(AuditEntry.from_state, ""), func.coalesce(AuditEntry.to_state, ""))
    edges = [pair for pair, kind in TRANSITION_TYPES.items() if kind is action_type]
    if edges:
        clauses.append(and_(AuditEntry.action == TRANSITION, edge.in_(edges)))
    if action_type is ActionType.SYSTEM:
        # What nothing classifies: an action no table names, or an edge the machine lacks.
        clauses.append(AuditEntry.action.not_in([*ACTION_TYPES, TRANSITION]))
        clauses.append(
            and_(AuditEntry.action == TRANSITION, not_(edge.in_(list(TRANSITION_TYPES))))
        )
    return or_(*clauses) if clauses else false()


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditCriteria:
    """Which entries a search returns; None means "any". Times are aware; `until` is
    exclusive. `repository` is compared case-insensitively (GitHub's names are) and excludes
    entries about no failure; `actor_prefix` matches actors by prefix ("human:" for people)."""

    since: datetime | None = None
    until: datetime | None = None
    action_type: ActionType | None = None
    action: str | None = None
    repository: str | None = None
    actor: str | None = None
    actor_prefix: str | None = None
    failure_id: int | None = None
    outcome: str | None = None


def _filtered(statement: Statement, criteria: AuditCriteria) -> Statement:
    if criteria.since is not None:
        statement = statement.where(AuditEntry.at >= criteria.since)
    if criteria.until is not None:
        statement = statement.where(AuditEntry.at < criteria.until)
    if criteria.action_type is not None:
        statement = statement.where(action_type_clause(criteria.action_type))
    if criteria.action is not None:
        statement = statement.where(AuditEntry.action == criteria.action)
    if criteria.repository is not None:
        statement = statement.where(func.lower(Failure.repository) == criteria.repository.lower())
    if criteria.actor is not None:
        statement = statement.where(AuditEntry.actor == criteria.actor)
    if criteria.actor_prefix is not None:
        statement = statement.where(
            AuditEntry.actor.startswith(criteria.actor_prefix, autoescape=True)
        )
    if criteria.failure_id is not None:
        statement = statement.where(AuditEntry.failure_id == criteria.failure_id)
    if criteria.outcome is not None:
        statement = statement.where(AuditEntry.outcome == criteria.outcome)
    return statement


def search_audit(
    session: Session, criteria: AuditCriteria, *, limit: int, offset: int = 0
) -> Sequence[tuple[AuditEntry, str | None]]:
    """Matching entries with their failure's repository (None for entries about no failure),
    in the order they were written: by `at`, ties by id, so pages never overlap or skip."""
    statement = (
        select(AuditEntry, Failure.repository)
        .outerjoin(Failure, AuditEntry.failure_id == Failure.id)
        .order_by(AuditEntry.at, AuditEntry.id)
        .limit(limit)
        .offset(offset)
    )
    rows = session.execute(_filtered(statement, criteria)).all()
    return [(entry, repository) for entry, repository in rows]


def count_matching_audit(session: Session, criteria: AuditCriteria) -> int:
    statement = select(func.count(AuditEntry.id)).outerjoin(
        Failure, AuditEntry.failure_id == Failure.id
    )
    return session.scalar(_filtered(statement, criteria)) or 0


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    failure_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        action=action,
        failure_id=failure_id,
        from_state=from_state,
        to_state=to_state,
        outcome=outcome,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def query_audit(
    session: Session,
    *,
    failure_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> Sequence[AuditEntry]:
    criteria = AuditCriteria(
        failure_id=failure_id, action=action, actor=actor, since=since, until=until
    )
    statement = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id).limit(limit)
    return session.scalars(_filtered(statement, criteria)).all()


def count_audit(session: Session, *, failure_id: int, action: str) -> int:
    """How many entries of `action` the failure has."""
    return (
        session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.failure_id == failure_id, AuditEntry.action == action
            )
        )
        or 0
    )
