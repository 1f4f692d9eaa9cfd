"""The execute step: carry out the gated remediation through GitHub, exactly once.

The remediation row was committed (status `pending`, failure `executing`) before this runs. A
redelivered execute finds it `requested` and does nothing; one that finds it still `pending`
lets the action ask GitHub whether the run already has the attempt it meant to start before
calling again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.actions import Executed, IssueDraft, RemediationTarget, action_for
from ci_remediator.actions.issue_text import IssueFacts, draft_issue
from ci_remediator.analysis.redaction import redact
from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Analysis, Failure, Remediation, RemediationStatus
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
)
from ci_remediator.github.errors import AuthenticationError, PermanentGitHubError
from ci_remediator.metrics import REMEDIATION_OUTCOMES
from ci_remediator.pipeline.superseded import supersession
from ci_remediator.policy.catalog import RERUNS

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import RunInfo

ACTOR = "executor"


def latest_remediation(session: Session, failure_id: int) -> Remediation | None:
    # FOR UPDATE: a duplicate execute waits here until the first commits, then sees `requested`.
    return session.scalar(
        select(Remediation)
        .where(Remediation.failure_id == failure_id)
        .order_by(Remediation.id.desc())
        .limit(1)
        .with_for_update()
    )


def target_of(
    remediation: Remediation,
    *,
    issue: IssueDraft | None = None,
    latest: RunInfo | None = None,
    observed_conclusion: str | None = None,
) -> RemediationTarget:
    return RemediationTarget(
        repository=remediation.repository,
        run_id=remediation.run_id,
        target_attempt=remediation.target_attempt,
        created_at=remediation.created_at,
        head_branch=remediation.failure.head_branch,
        parameters=dict(remediation.parameters or {}),
        result=dict(remediation.result or {}),
        issue=issue,
        latest=latest,
        observed_conclusion=observed_conclusion,
    )


def _issue_draft(session: Session, failure: Failure) -> IssueDraft:
    analysis = session.scalar(select(Analysis).where(Analysis.failure_id == failure.id))
    if analysis is None:
        raise LookupError(f"failure {failure.id} has no analysis to track")
    return draft_issue(
        IssueFacts(
            repository=failure.repository,
            workflow_name=failure.workflow_name,
            head_branch=failure.head_branch,
            head_sha=failure.head_sha,
            run_id=failure.run_id,
            run_html_url=failure.html_url,
            category=analysis.category.value,
            summary=analysis.summary,
            root_cause=analysis.root_cause,
            fingerprint=analysis.fingerprint,
            failed_jobs=tuple(analysis.failed_jobs or ()),
        )
    )


def execute_remediation(
    session: Session, *, failure_id: int, gateway: GitHubGateway, verify_after_s: float
) -> StepResult:
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state is not FailureState.EXECUTING:
        return NOTHING_TO_DO
    remediation = latest_remediation(session, failure_id)
    if remediation is None:
        raise LookupError(f"failure {failure_id} is executing without a remediation row")

    if remediation.status is RemediationStatus.PENDING:
        latest, newer = (
            _superseded_since_the_gate(gateway, remediation, failure)
            if remediation.action in RERUNS
            else (None, None)
        )
        if newer is not None:
            # An approval can come hours after the gate: by then a newer run may decide.
            return _refused(
                session,
                failure=failure,
                remediation=remediation,
                detail=f"not run: {newer}",
            )
        action = action_for(remediation.action)
        issue = (
            _issue_draft(session, failure)
            if remediation.action is ActionKind.OPEN_TRACKING_ISSUE
            else None
        )
        target = target_of(remediation, issue=issue, latest=latest)
        try:
            prepared = action.prepare(gateway, target)
            if prepared is not None:
                return _prepared(session, remediation=remediation, prepared=prepared)
            executed = action.execute(gateway, target)
        except PermanentGitHubError as refused:
            if isinstance(refused, AuthenticationError):
                raise  # our credential, not the request: the task's error handling decides
            return _refused(
                session,
                failure=failure,
                remediation=remediation,
                detail=f"GitHub refused: {refused}",
            )
        remediation.outcome_detail = executed.detail
        remediation.result = {**(remediation.result or {}), **executed.result}
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
    return StepResult((FollowUp(Step.VERIFY, failure_id, countdown_s=verify_after_s),))


def _prepared(session: Session, *, remediation: Remediation, prepared: Executed) -> StepResult:
    """Keep what the preparation did (committed with this step), then execute in a step of its
    own: a rerun that fails after the caches were deleted cannot lose the record of them."""
    remediation.result = {**(remediation.result or {}), **prepared.result}
    record_audit(
        session,
        actor=ACTOR,
        action="remediation_prepared",
        failure_id=remediation.failure_id,
        detail={"action": remediation.action.value, "detail": prepared.detail, **prepared.result},
    )
    return StepResult((FollowUp(Step.EXECUTE, remediation.failure_id),))


def _superseded_since_the_gate(
    gateway: GitHubGateway, remediation: Remediation, failure: Failure
) -> tuple[RunInfo, str | None]:
    """The run now, and why a newer run or commit decides now, unless this remediation's
    attempt exists already (a redelivered task after GitHub acted: the action says so, not
    this). The branch's newest runs were read by the analysis moments ago, so asking again is
    a free 304 unless something moved."""
    listed: tuple[RunInfo, ...] = ()
    if failure.head_branch:
        listed = gateway.branch_runs(
            remediation.repository, workflow_id=failure.workflow_id, branch=failure.head_branch
        )
    run = next((run for run in listed if run.run_id == remediation.run_id), None)
    if run is None or run.head_branch != failure.head_branch:
        run, listed = gateway.get_run(remediation.repository, remediation.run_id), ()
    if run.run_attempt >= remediation.target_attempt:
        return run, None
    return run, supersession(gateway, run, branch_runs=listed or None).describe(run.head_branch)


def _refused(
    session: Session, *, failure: Failure, remediation: Remediation, detail: str
) -> StepResult:
    remediation.status = RemediationStatus.REFUSED
    remediation.completed_at = utcnow()
    # GitHub's words can echo what it was sent (a branch name, say): stored redacted.
    remediation.outcome_detail = redact(detail)
    REMEDIATION_OUTCOMES.labels(action=remediation.action.value, outcome="refused").inc()
    require_transition(
        session,
        failure_id=failure.id,
        expected=FailureState.EXECUTING,
        to=FailureState.REMEDIATION_FAILED,
        actor=ACTOR,
        detail={"reason": remediation.outcome_detail},
    )
    return escalate_after_failed_remediation(session, failure_id=failure.id)


def escalate_after_failed_remediation(session: Session, *, failure_id: int) -> StepResult:
    """A remediation that ran and did not fix the run (or that GitHub refused): what it did is
    done (a completed attempt cannot be undone), so the way on is a human."""
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.REMEDIATION_FAILED,
        to=FailureState.ESCALATED,
        actor=ACTOR,
        detail={"rollback": "nothing to undo"},
    )
    return StepResult((notice(session, failure_id, StageEvent.ESCALATED),))
