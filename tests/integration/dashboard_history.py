"""A scripted history for the dashboard's tests: failures in several states with their
analyses, gate decisions, remediations, Slack threads and latency samples, and approvals
pending. Times are relative to `now` so every row sits inside the dashboard's window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ci_remediator.db.audit import TRANSITION
from ci_remediator.db.models import (
    Analysis,
    ApprovalRequest,
    ApprovalStatus,
    AuditEntry,
    DetectionSource,
    Failure,
    GateDecision,
    MetricSample,
    NotificationThread,
    Remediation,
    RemediationStatus,
)
from ci_remediator.domain import ActionKind, Category, Effort, FailureState, Verdict
from ci_remediator.metrics_tracker import ANALYSIS_SAMPLE, DETECTION_SAMPLE, REMEDIATION_SAMPLE

ALERTS_CHANNEL = "C0ALERTS01"
S = FailureState
R = RemediationStatus
A = ActionKind
C = Category
V = Verdict


@dataclass(frozen=True)
class Scripted:
    repository: str
    workflow: str
    branch: str
    state: FailureState
    category: Category | None = None
    risk: int = 2
    flaky: bool = False
    summary: str = ""
    verdict: Verdict | None = None
    remediation: tuple[ActionKind, RemediationStatus] | None = None
    approval_asked_min: float | None = None  # a pending approval asked this long ago
    thread: bool = False
    resolved_after_min: float | None = None
    hours_ago: float = 1.0


HISTORY = [
    Scripted("acme/web", "CI", "main", S.RESOLVED, C.FLAKY_TEST, 2, True,
             "test_checkout timed out once and passed on the rerun", V.AUTO,
             (A.RERUN_FAILED_JOBS, R.SUCCEEDED), thread=True, resolved_after_min=9,
             hours_ago=30),
    Scripted("acme/web", "CI", "feature/cart", S.RESOLVED, C.INFRASTRUCTURE, 3, False,
             "npm registry answered 503 while installing dependencies", V.AUTO,
             (A.RERUN_WORKFLOW, R.SUCCEEDED), thread=True, resolved_after_min=14,
             hours_ago=20),
    Scripted("acme/api", "Integration", "main", S.AWAITING_APPROVAL, C.TIMEOUT, 6, False,
             "database container never became healthy (protected repository)",
             V.NEEDS_APPROVAL, approval_asked_min=42, thread=True, hours_ago=1),
    Scripted("acme/web", "Lint", "fix/typo", S.ESCALATED, C.LINT, 1, False,
             "ruff: F401 'os' imported but unused", V.BLOCKED, hours_ago=5),
    Scripted("acme/api", "Release", "main", S.REMEDIATION_FAILED, C.DEPENDENCY, 5, False,
             "lockfile pins a yanked package version", V.AUTO,
             (A.CLEAR_CACHE_AND_RERUN, R.FAILED), thread=True, hours_ago=8),
    Scripted("acme/mobile", "Build", "main", S.EXECUTING, C.INFRASTRUCTURE, 3, False,
             "runner lost communication with the server", V.AUTO,
             (A.RERUN_FAILED_JOBS, R.REQUESTED), hours_ago=0.2),
    Scripted("acme/mobile", "Build", "release/2.1", S.DETECTED, hours_ago=0.05),
]  # fmt: skip


def write_history(session: Session, now: datetime, *, extra: list[Scripted] | None = None) -> None:
    for number, item in enumerate([*HISTORY, *(extra or [])], start=1):
        detected = now - timedelta(hours=item.hours_ago)
        failure = Failure(
            repository=item.repository,
            run_id=7000 + number,
            run_attempt=1,
            workflow_name=item.workflow,
            workflow_id=30 + number,
            event="push",
            head_branch=item.branch,
            head_sha=f"{number:040x}",
            html_url=f"https://github.com/{item.repository}/actions/runs/{7000 + number}",
            run_created_at=detected - timedelta(minutes=6),
            detected_at=detected,
            source=DetectionSource.WEBHOOK,
            state=item.state,
        )
        session.add(failure)
        session.flush()
        session.add(
            MetricSample(
                name=DETECTION_SAMPLE, value=2.0 + number, failure_id=failure.id, at=detected
            )
        )
        if item.category is not None:
            session.add(
                Analysis(
                    failure_id=failure.id,
                    category=item.category,
                    risk_score=item.risk,
                    rules_risk_score=item.risk,
                    confidence=0.85,
                    flaky=item.flaky,
                    summary=item.summary,
                    root_cause=item.summary,
                    proposed_action=(item.remediation or (A.NONE, R.REQUESTED))[0],
                    analyzer="rules",
                    effort=Effort.SMALL,
                    excerpt="##[error] " + item.summary,
                    created_at=detected + timedelta(seconds=20),
                )
            )
            session.add(
                MetricSample(
                    name=ANALYSIS_SAMPLE,
                    value=1.5 * number,
                    failure_id=failure.id,
                    at=detected + timedelta(seconds=20),
                )
            )
        if item.verdict is not None:
            session.add(
                GateDecision(
                    failure_id=failure.id,
                    verdict=item.verdict,
                    action=(item.remediation or (A.RERUN_WORKFLOW, R.REQUESTED))[0],
                    effective_risk=item.risk,
                    reasons=["scripted"],
                )
            )
        if item.remediation is not None:
            action, status = item.remediation
            finished = status in (R.SUCCEEDED, R.FAILED, R.REFUSED)
            completed = detected + timedelta(minutes=item.resolved_after_min or 10)
            session.add(
                Remediation(
                    failure_id=failure.id,
                    action=action,
                    status=status,
                    repository=item.repository,
                    run_id=failure.run_id,
                    target_attempt=2,
                    requested_at=detected + timedelta(minutes=1),
                    completed_at=completed if finished else None,
                )
            )
            if finished:
                session.add(
                    MetricSample(
                        name=REMEDIATION_SAMPLE,
                        value=(completed - detected).total_seconds() - 60,
                        failure_id=failure.id,
                        at=completed,
                    )
                )
        if item.resolved_after_min is not None:
            session.add(
                AuditEntry(
                    failure_id=failure.id,
                    actor="verifier",
                    action=TRANSITION,
                    from_state=S.VERIFYING.value,
                    to_state=S.RESOLVED.value,
                    at=detected + timedelta(minutes=item.resolved_after_min),
                )
            )
        if item.approval_asked_min is not None:
            session.add(
                ApprovalRequest(
                    failure_id=failure.id,
                    action=A.RERUN_WORKFLOW,
                    status=ApprovalStatus.PENDING,
                    requested_at=now - timedelta(minutes=item.approval_asked_min),
                    expires_at=now + timedelta(hours=23),
                )
            )
        if item.thread:
            session.add(
                NotificationThread(
                    failure_id=failure.id, channel=ALERTS_CHANNEL, ts=f"17646{number:05d}.000100"
                )
            )
