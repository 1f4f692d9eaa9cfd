"""The gate step: gather what the pure safety gate needs, ask it, record and act on its verdict."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ci_remediator.config import AppConfig, RepositoryPolicy
from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.breaker_trips import (
    last_reset_at,
    organization_of,
    standing_trip,
    trip_breaker,
)
from ci_remediator.db.decision_memories import active_memory
from ci_remediator.db.locks import lock_for_transaction
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    Failure,
    GateDecision,
    Remediation,
    RemediationStatus,
)
from ci_remediator.db.notices import notice
from ci_remediator.db.transitions import require_transition
from ci_remediator.domain import (
    NOTHING_TO_DO,
    ActionKind,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
    StepResult,
    Verdict,
)
from ci_remediator.policy.action_choice import choose_action
from ci_remediator.policy.breaker import breaker_is_open
from ci_remediator.policy.catalog import FIXES_RUN, action_spec
from ci_remediator.policy.safety_gate import (
    AutoHistory,
    GateInput,
    RememberedDecision,
    RunContext,
    evaluate_gate,
    never_remembered_reasons,
)
from ci_remediator.policy.templates import ParameterError, RunValues, remediation_parameters

ACTOR = "safety_gate"

_AUTOMATIC = Remediation.approved_by.is_(None)


def _owner_prefix(repository: str) -> str:
    return organization_of(repository) + "/"


def count_auto_history(session: Session, *, failure: Failure, now: datetime) -> AutoHistory:
    """Automatic remediations already spent on this run, this workflow today, and this
    organization (the repository's owner) in the last hour (one round trip, each count on its
    own index)."""
    on_run = select(func.count(Remediation.id)).where(
        _AUTOMATIC,
        Remediation.repository == failure.repository,
        Remediation.run_id == failure.run_id,
    )
    on_workflow_today = (
        select(func.count(Remediation.id))
        .join(Failure, Remediation.failure_id == Failure.id)
        .where(
            _AUTOMATIC,
            Failure.repository == failure.repository,
            Failure.workflow_id == failure.workflow_id,
            Remediation.created_at >= now - timedelta(days=1),
        )
    )
    organization_last_hour = select(func.count(Remediation.id)).where(
        _AUTOMATIC,
        Remediation.repository.startswith(_owner_prefix(failure.repository), autoescape=True),
        Remediation.created_at >= now - timedelta(hours=1),
    )
    counts = session.execute(
        select(
            on_run.scalar_subquery(),
            on_workflow_today.scalar_subquery(),
            organization_last_hour.scalar_subquery(),
        )
    ).one()
    return AutoHistory(
        on_this_run=counts[0] or 0,
        on_this_workflow_today=counts[1] or 0,
        organization_last_hour=counts[2] or 0,
    )


def automatic_outcomes(
    session: Session, *, repository: str, limit: int, since: datetime | None = None
) -> list[bool]:
    """Whether each of the organization's latest finished automatic remediations (completed
    after `since`, the last reset) fixed the run, newest first: the circuit breaker's input."""
    statement = (
        select(Remediation.status)
        .where(
            _AUTOMATIC,
            Remediation.repository.startswith(_owner_prefix(repository), autoescape=True),
            Remediation.status.in_([RemediationStatus.SUCCEEDED, RemediationStatus.FAILED]),
            # A tracking issue opened is no fix: only actions meant to fix the run count.
            Remediation.action.in_(FIXES_RUN),
        )
        .order_by(Remediation.completed_at.desc(), Remediation.id.desc())
        .limit(limit)
    )
    if since is not None:
        statement = statement.where(Remediation.completed_at > since)
    return [status is RemediationStatus.SUCCEEDED for status in session.scalars(statement)]


def breaker_open(
    session: Session, *, failure: Failure, config: AppConfig
) -> tuple[bool, FollowUp | None]:
    """Whether the organization's breaker is open, and the critical notice when this very
    failure tripped it (a trip is told once; it stands until `ci-remediator breaker reset`)."""
    organization = organization_of(failure.repository)
    if standing_trip(session, organization) is not None:
        return True, None
    breaker = config.file.breaker
    outcomes = automatic_outcomes(
        session,
        repository=failure.repository,
        limit=breaker.window,
        since=last_reset_at(session, organization),
    )
    if not breaker_is_open(
        outcomes, window=breaker.window, min_success_rate=breaker.min_success_rate
    ):
        return False, None
    tripped = trip_breaker(
        session,
        organization=organization,
        success_rate=sum(outcomes) / len(outcomes),
        window=breaker.window,
        failure_id=failure.id,
    )
    return True, notice(session, failure.id, StageEvent.BREAKER_TRIPPED) if tripped else None


def remembered_decision(
    session: Session, *, analysis: Analysis, repository: str, action: ActionKind, now: datetime
) -> RememberedDecision | None:
    if not analysis.fingerprint:
        return None
    memory = active_memory(
        session, repository=repository, fingerprint=analysis.fingerprint, action=action, now=now
    )
    if memory is None:
        return None
    return RememberedDecision(
        memory_id=memory.id,
        decision=memory.decision,
        decided_by=memory.decided_by,
        expires_at=memory.expires_at,
        approved_risk=memory.approved_risk,
    )


def open_remediation(
    session: Session,
    *,
    failure: Failure,
    action: ActionKind,
    parameters: dict[str, Any],
    approved_by: str | None = None,
) -> Remediation:
    """The remediation row, committed with the move into `executing` before GitHub is called."""
    remediation = Remediation(
        failure_id=failure.id,
        action=action,
        repository=failure.repository,
        run_id=failure.run_id,
        target_attempt=failure.run_attempt + 1,
        approved_by=approved_by,
        parameters=parameters,
    )
    session.add(remediation)
    return remediation


def _parameters(
    kind: ActionKind, policy: RepositoryPolicy, failure: Failure
) -> tuple[dict[str, Any], str | None]:
    """The parameters `kind` sends, from configured templates and the run's metadata; or why
    it cannot be carried out on this run."""
    values = RunValues(
        repository=failure.repository,
        branch=failure.head_branch or "",
        sha=failure.head_sha,
        run_id=failure.run_id,
        run_attempt=failure.run_attempt,
        workflow=failure.workflow_name,
    )
    try:
        return remediation_parameters(kind, policy, values), None
    except ParameterError as problem:
        return {}, f"{kind} cannot run: {problem}"


def gate_failure(session: Session, *, failure_id: int, config: AppConfig) -> StepResult:
    # The caps and the breaker are counts over the organization's remediations: two gates at
    # once would each count the other's as not there yet and both pass a cap of one. One gate
    # per organization at a time (until its commit) keeps every cap a bound.
    repository = session.scalar(select(Failure.repository).where(Failure.id == failure_id))
    lock_for_transaction(session, f"gate:{organization_of(repository or '')}")
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.ANALYZED:
        return NOTHING_TO_DO
    analysis = session.scalar(select(Analysis).where(Analysis.failure_id == failure_id))
    if analysis is None:
        raise LookupError(f"failure {failure_id} is analyzed but has no analysis row")
    now = utcnow()
    policy = config.policy_for(failure.repository)
    choice = choose_action(policy, category=analysis.category, proposed=analysis.proposed_action)
    parameters, parameter_problem = _parameters(choice.kind, policy, failure)
    action = action_spec(ActionKind.NONE if parameter_problem else choice.kind)
    chosen = tuple(reason for reason in (choice.reason, parameter_problem) if reason)
    is_open, trip_notice = breaker_open(session, failure=failure, config=config)
    told = (trip_notice,) if trip_notice is not None else ()
    gate_input = GateInput(
        model_risk=analysis.risk_score,
        rules_risk=analysis.rules_risk_score,
        policy=policy,
        action=action,
        run=RunContext(
            workflow_name=failure.workflow_name,
            event=failure.event,
            head_branch=failure.head_branch,
            from_fork=failure.from_fork,
            deployment_environments=tuple(failure.deployment_environments or ()),
            workflow_path=failure.workflow_path,
            job_names=tuple(analysis.failed_jobs or ()),
            superseded_by_run_id=failure.superseded_by_run_id,
            superseded_by_commit=failure.superseded_by_commit,
        ),
        history=count_auto_history(session, failure=failure, now=now),
        max_auto_per_hour=config.file.max_auto_per_hour,
        breaker_open=is_open,
        # Memories are read only while the repository allows them: turning
        # allow_trust_memory off stops every one at once.
        remembered=remembered_decision(
            session, analysis=analysis, repository=failure.repository, action=action.kind, now=now
        )
        if policy.allow_trust_memory
        else None,
    )
    decision = evaluate_gate(gate_input)
    if chosen:
        decision = replace(decision, reasons=(*chosen, *decision.reasons))
    if decision.memory_id is not None:
        record_audit(
            session,
            actor=ACTOR,
            action="memory_applied",
            failure_id=failure_id,
            detail={"memory_id": decision.memory_id, "verdict": decision.verdict.value},
        )
    session.add(
        GateDecision(
            failure_id=failure_id,
            verdict=decision.verdict,
            action=action.kind,
            effective_risk=decision.effective_risk,
            reasons=list(decision.reasons),
        )
    )
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.ANALYZED,
        to=FailureState.GATED,
        actor=ACTOR,
        detail={
            "verdict": decision.verdict.value,
            "effective_risk": decision.effective_risk,
            "reasons": list(decision.reasons),
            **({"memory_id": decision.memory_id} if decision.memory_id is not None else {}),
        },
    )
    if decision.verdict is Verdict.AUTO:
        open_remediation(session, failure=failure, action=action.kind, parameters=parameters)
        require_transition(
            session,
            failure_id=failure_id,
            expected=FailureState.GATED,
            to=FailureState.EXECUTING,
            actor=ACTOR,
            detail={"action": action.kind.value},
        )
        return StepResult(
            (
                FollowUp(Step.EXECUTE, failure_id),
                notice(session, failure_id, StageEvent.REMEDIATION_STARTED),
            )
        )  # (an open breaker never gives AUTO: no trip notice to send here)
    if decision.verdict is Verdict.NEEDS_APPROVAL:
        session.add(
            ApprovalRequest(
                failure_id=failure_id,
                action=action.kind,
                parameters=parameters,
                requested_at=now,
                expires_at=now + timedelta(hours=policy.approval_timeout_hours),
                memory_days=policy.trust_memory_days
                if policy.allow_trust_memory
                and analysis.fingerprint
                and not never_remembered_reasons(gate_input)
                else None,
            )
        )
        require_transition(
            session,
            failure_id=failure_id,
            expected=FailureState.GATED,
            to=FailureState.AWAITING_APPROVAL,
            actor=ACTOR,
            detail={"action": action.kind.value},
        )
        return StepResult((*told, FollowUp(Step.REQUEST_APPROVAL, failure_id)))
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.GATED,
        to=FailureState.ESCALATED,
        actor=ACTOR,
        detail={"reasons": list(decision.reasons)},
    )
    return StepResult((*told, notice(session, failure_id, StageEvent.ESCALATED)))
