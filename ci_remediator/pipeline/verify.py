"""The verify step: did the attempt the remediation started fix the run?

Not finished yet means `waiting` (the task checks again after a short countdown, never a far
ETA); finished means resolved or escalated; still unfinished past `timeout` after the request
means a human must look. The deadline is measured from when GitHub accepted the call, so a
redelivered or re-sent verify task cannot restart it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.actions import Outcome, action_for
from ci_remediator.analysis.rules import KnowledgeBase
from ci_remediator.db.base import utcnow
from ci_remediator.db.flaky_evidence import record_flaky_jobs
from ci_remediator.db.metric_samples import record_metric
from ci_remediator.db.models import Analysis, Failure, Remediation, RemediationStatus
from ci_remediator.db.notices import notice
from ci_remediator.db.observed_conclusions import (
    observed_attempt_conclusion,
    observed_job_conclusions,
)
from ci_remediator.db.transitions import require_transition
from ci_remediator.domain import (
    NOTHING_TO_DO,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
    StepResult,
)
from ci_remediator.metrics import REMEDIATION_OUTCOMES
from ci_remediator.pipeline.analyze import diagnose_attempt
from ci_remediator.pipeline.execute import (
    escalate_after_failed_remediation,
    latest_remediation,
    target_of,
)
from ci_remediator.policy.catalog import action_spec

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import RunInfo

ACTOR = "verifier"
# Of a failed rerun's excerpt, the tail kept for the escalation (it is redacted already).
RERUN_EXCERPT_CHARS = 1_200
WAITING = StepResult(waiting=True)


def verify_remediation(
    session: Session,
    *,
    failure_id: int,
    gateway: GitHubGateway,
    timeout: timedelta,
    now: datetime | None = None,
    knowledge_base: KnowledgeBase | None = None,
) -> StepResult:
    """`knowledge_base`, when given, diagnoses a rerun that failed, so the escalation shows
    both analyses and says whether it failed the same way (the same fingerprint)."""
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.VERIFYING:
        return NOTHING_TO_DO
    remediation = latest_remediation(session, failure_id)
    if remediation is None or remediation.status is not RemediationStatus.REQUESTED:
        return NOTHING_TO_DO
    observed = observed_attempt_conclusion(session, remediation.id)
    outcome = action_for(remediation.action).outcome(
        gateway, target_of(remediation, observed_conclusion=observed)
    )
    now = now or utcnow()
    remediation.result = {**(remediation.result or {}), **outcome.result}
    if not outcome.completed:
        requested_at = remediation.requested_at or remediation.created_at
        if now - requested_at >= timeout:
            return _timed_out(session, failure_id=failure_id, remediation=remediation, now=now)
        # Stamped so the reconcile sweep can tell a live verification from a lost one.
        failure.updated_at = now
        return WAITING

    if knowledge_base is not None and outcome.attempt is not None and not outcome.succeeded:
        remediation.result = {
            **remediation.result,
            "rerun_analysis": _rerun_analysis(
                session,
                gateway,
                remediation=remediation,
                attempt=outcome.attempt,
                knowledge_base=knowledge_base,
            ),
        }
    return _concluded(
        session, gateway, failure=failure, remediation=remediation, outcome=outcome, now=now
    )


def _rerun_analysis(
    session: Session,
    gateway: GitHubGateway,
    *,
    remediation: Remediation,
    attempt: RunInfo,
    knowledge_base: KnowledgeBase,
) -> dict[str, object]:
    """The rules' diagnosis of the attempt that failed, beside the first one's fingerprint."""
    diagnosis = diagnose_attempt(gateway, attempt, knowledge_base=knowledge_base)
    first = session.scalar(
        select(Analysis.fingerprint).where(Analysis.failure_id == remediation.failure_id)
    )
    return {
        "attempt": attempt.run_attempt,
        "category": diagnosis.result.category.value,
        "summary": diagnosis.result.summary,
        "excerpt": diagnosis.result.excerpt[-RERUN_EXCERPT_CHARS:],
        "fingerprint": diagnosis.fingerprint,
        "same_failure": first is not None and first == diagnosis.fingerprint,
    }


def _concluded(
    session: Session,
    gateway: GitHubGateway,
    *,
    failure: Failure,
    remediation: Remediation,
    outcome: Outcome,
    now: datetime,
) -> StepResult:
    """What the remediation started has finished: resolved, handed over, or escalated."""
    failure_id = failure.id
    remediation.completed_at = now
    remediation.outcome_detail = outcome.detail
    succeeded = outcome.succeeded
    remediation.status = RemediationStatus.SUCCEEDED if succeeded else RemediationStatus.FAILED
    REMEDIATION_OUTCOMES.labels(
        action=remediation.action.value, outcome=remediation.status.value
    ).inc()
    if not action_spec(remediation.action).fixes_run:
        return _handed_over(session, failure_id=failure_id, remediation=remediation)
    elapsed = remediation.completed_at - (remediation.requested_at or remediation.created_at)
    record_metric(
        session,
        name="remediation_latency_seconds",
        value=elapsed.total_seconds(),
        failure_id=failure_id,
        labels={"action": remediation.action.value},
    )
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.VERIFYING,
        to=FailureState.RESOLVED if succeeded else FailureState.REMEDIATION_FAILED,
        actor=ACTOR,
        detail={"outcome": outcome.detail, **_links(remediation), **_same_failure(remediation)},
    )
    if succeeded:
        if outcome.passed_attempt is not None:
            _record_flaky_jobs(
                session,
                gateway,
                failure=failure,
                remediation=remediation,
                passed_attempt=outcome.passed_attempt,
            )
        return StepResult((notice(session, failure_id, StageEvent.RESOLVED),))
    return escalate_after_failed_remediation(session, failure_id=failure_id)


def _handed_over(session: Session, *, failure_id: int, remediation: Remediation) -> StepResult:
    """A tracking issue: the work was to hand the failure to people, and it is theirs now."""
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.VERIFYING,
        to=FailureState.ESCALATED,
        actor=ACTOR,
        detail={"handed_over": remediation.outcome_detail, **_links(remediation)},
    )
    return StepResult((notice(session, failure_id, StageEvent.ESCALATED),))


def _same_failure(remediation: Remediation) -> dict[str, object]:
    rerun = (remediation.result or {}).get("rerun_analysis")
    return {"same_failure": rerun["same_failure"]} if isinstance(rerun, dict) else {}


def _links(remediation: Remediation) -> dict[str, object]:
    """What GitHub returned that people follow: an issue or a dispatched run, with its link."""
    result = remediation.result or {}
    keys = ("issue_number", "dispatched_run_id", "html_url", "attempt")
    return {key: result[key] for key in keys if key in result}


def _record_flaky_jobs(
    session: Session,
    gateway: GitHubGateway,
    *,
    failure: Failure,
    remediation: Remediation,
    passed_attempt: int,
) -> None:
    """The jobs that failed before and passed now, on the same commit: flaky, by history.
    What the new attempt's `workflow_job` deliveries said, when one came for every failed job;
    otherwise GitHub's list of the attempt's jobs."""
    analysis = session.scalar(select(Analysis).where(Analysis.failure_id == failure.id))
    if analysis is None or not analysis.failed_jobs:
        return
    observed = observed_job_conclusions(session, remediation.id)
    if all(name in observed for name in analysis.failed_jobs):
        passed = {name for name, conclusion in observed.items() if conclusion == "success"}
    else:
        passed = {
            job.name
            for job in gateway.list_jobs(failure.repository, failure.run_id, passed_attempt)
            if job.conclusion == "success"
        }
    record_flaky_jobs(
        session,
        failure=failure,
        passed_attempt=passed_attempt,
        job_names=[name for name in analysis.failed_jobs if name in passed],
    )


def _timed_out(
    session: Session, *, failure_id: int, remediation: Remediation, now: datetime
) -> StepResult:
    """The new attempt never completed within the verify timeout: undo what can be undone
    (the rollback task), then a human must look."""
    remediation.status = RemediationStatus.FAILED
    remediation.completed_at = now
    remediation.outcome_detail = "verification timed out: the new attempt never completed"
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.VERIFYING,
        to=FailureState.REMEDIATION_FAILED,
        actor=ACTOR,
        detail={"reason": "verification timed out"},
    )
    if action_spec(remediation.action).reversible:
        return StepResult((FollowUp(Step.ROLLBACK, failure_id),))
    return escalate_after_failed_remediation(session, failure_id=failure_id)
