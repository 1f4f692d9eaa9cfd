"""The tracking-issue sweep: an issue ci-remediator opened is closed once a later run of the
same workflow on the same branch passed (GitHub's record of runs, not anyone's say-so)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Remediation, RemediationStatus
from ci_remediator.domain import ActionKind

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway

ACTOR = "tracking_issues"


def open_tracking_issues(session: Session) -> list[Remediation]:
    """Remediations that opened (or found) a tracking issue not yet seen closed."""
    rows = session.scalars(
        select(Remediation)
        .options(joinedload(Remediation.failure))
        .where(
            Remediation.action == ActionKind.OPEN_TRACKING_ISSUE,
            Remediation.status == RemediationStatus.SUCCEEDED,
        )
        .order_by(Remediation.id)
    )
    return [row for row in rows if "issue_number" in row.result and "closed_at" not in row.result]


def close_fixed_tracking_issues(
    session: Session, *, gateway: GitHubGateway, now: datetime | None = None
) -> int:
    """Close each tracked issue whose workflow has passed on its branch since the failure;
    how many were closed now."""
    now = now or utcnow()
    closed = 0
    for remediation in open_tracking_issues(session):
        failure = remediation.failure
        passed = gateway.last_successful_run(
            failure.repository,
            workflow_id=failure.workflow_id,
            branch=failure.head_branch,
            before=now,
        )
        # GitHub's timestamps are whole seconds: a run created in the failure's second is
        # later when its id is (ids grow in creation order), as `newer_than` orders them.
        if passed is None or (passed.created_at, passed.run_id) <= (
            failure.run_created_at,
            failure.run_id,
        ):
            continue
        number = int(remediation.result["issue_number"])
        issue = gateway.get_issue(failure.repository, number)
        if issue.state == "open":
            gateway.close_issue(failure.repository, number)
            closed += 1
        remediation.result = {
            **remediation.result,
            "closed_at": now.isoformat(),
            "closed_by_run_id": passed.run_id,
        }
        record_audit(
            session,
            actor=ACTOR,
            action="tracking_issue_closed",
            failure_id=failure.id,
            detail={
                "issue_number": number,
                "passed_run_id": passed.run_id,
                "already_closed": issue.state != "open",
            },
        )
    return closed
