"""What signed deliveries said of the attempts remediations await (`ObservedConclusion`).

GitHub sends `workflow_job` and `workflow_run` `completed` deliveries for the attempt a rerun
started. Kept here, they let verify judge the attempt, and count which of its jobs passed,
without asking GitHub: the rate budget of one token is what bounds a fleet. A delivery that
never comes costs nothing but that saving: verify then asks GitHub, as it always could.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.models import ObservedConclusion, Remediation, RemediationStatus
from ci_remediator.db.upsert import dialect_insert

# `job_id` of the row that holds the attempt's own conclusion.
ATTEMPT = 0


def awaited_remediation(
    session: Session, *, repository: str, run_id: int, run_attempt: int
) -> Remediation | None:
    """The remediation that started this attempt and waits for its outcome, if any. Pending
    counts: the row is committed before GitHub is called, and a quick attempt can conclude
    before the execute step commits what GitHub answered."""
    return session.scalar(
        select(Remediation).where(
            Remediation.repository == repository,
            Remediation.run_id == run_id,
            Remediation.target_attempt == run_attempt,
            Remediation.status.in_((RemediationStatus.PENDING, RemediationStatus.REQUESTED)),
        )
    )


def record_observed(
    session: Session,
    *,
    remediation_id: int,
    conclusion: str,
    job_id: int = ATTEMPT,
    job_name: str | None = None,
    delivery_id: str | None = None,
) -> bool:
    """Keep what a delivery said; False when it was said already (a redelivery, a replay)."""
    inserted = session.scalar(
        dialect_insert(session, ObservedConclusion)
        .values(
            remediation_id=remediation_id,
            job_id=job_id,
            job_name=job_name,
            conclusion=conclusion,
            delivery_id=(delivery_id or None) and delivery_id[:100],
        )
        .on_conflict_do_nothing(index_elements=["remediation_id", "job_id"])
        .returning(ObservedConclusion.id)
    )
    return inserted is not None


def observed_attempt_conclusion(session: Session, remediation_id: int) -> str | None:
    """How the awaited attempt concluded, if its `workflow_run` delivery came."""
    return session.scalar(
        select(ObservedConclusion.conclusion).where(
            ObservedConclusion.remediation_id == remediation_id,
            ObservedConclusion.job_id == ATTEMPT,
        )
    )


def observed_job_conclusions(session: Session, remediation_id: int) -> dict[str, str]:
    """Job name -> conclusion, of the jobs whose `workflow_job` delivery came; where two jobs
    share a name, one that did not pass wins (evidence of passing must hold for both)."""
    rows = session.execute(
        select(ObservedConclusion.job_name, ObservedConclusion.conclusion).where(
            ObservedConclusion.remediation_id == remediation_id,
            ObservedConclusion.job_id != ATTEMPT,
        )
    ).all()
    conclusions: dict[str, str] = {}
    for name, conclusion in rows:
        if name is not None and conclusions.get(name, "success") == "success":
            conclusions[name] = conclusion
    return conclusions
