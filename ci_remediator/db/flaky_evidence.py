"""Flaky evidence from history: which jobs failed and then passed on the same commit.

Recorded when a rerun ci-remediator started passes: each job the failed attempt lost and the
new attempt won is one piece of evidence. Nothing a model or a rule says adds any.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Failure, FlakyEvidence
from ci_remediator.db.upsert import dialect_insert

FLAKY_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FlakyJob:
    repository: str
    workflow_name: str
    job_name: str
    flakes: int
    last_seen: datetime


def record_flaky_jobs(
    session: Session, *, failure: Failure, passed_attempt: int, job_names: Iterable[str]
) -> int:
    """One piece of evidence per job that passed on the rerun; how many were new (a
    redelivered verify records nothing twice)."""
    recorded = 0
    for job_name in dict.fromkeys(job_names):
        inserted = session.scalar(
            dialect_insert(session, FlakyEvidence)
            .values(
                repository=failure.repository,
                workflow_name=failure.workflow_name,
                job_name=job_name[:300],
                run_id=failure.run_id,
                head_sha=failure.head_sha,
                failed_attempt=failure.run_attempt,
                passed_attempt=passed_attempt,
                failure_id=failure.id,
                observed_at=utcnow(),
            )
            .on_conflict_do_nothing(
                index_elements=["repository", "run_id", "job_name", "passed_attempt"]
            )
            .returning(FlakyEvidence.id)
        )
        recorded += inserted is not None
    return recorded


def flake_counts(
    session: Session,
    *,
    repository: str,
    job_names: Iterable[str],
    now: datetime | None = None,
    window: timedelta = FLAKY_WINDOW,
) -> dict[str, int]:
    """How often each named job of the repository flaked within the window."""
    names = list(dict.fromkeys(job_names))
    if not names:
        return {}
    rows = session.execute(
        select(FlakyEvidence.job_name, func.count(FlakyEvidence.id))
        .where(
            FlakyEvidence.repository == repository,
            FlakyEvidence.job_name.in_(names),
            FlakyEvidence.observed_at >= (now or utcnow()) - window,
        )
        .group_by(FlakyEvidence.job_name)
    ).all()
    return {str(name): int(count) for name, count in rows}


def flakiest_jobs(
    session: Session, *, window: timedelta = FLAKY_WINDOW, limit: int = 20
) -> Sequence[FlakyJob]:
    flakes = func.count(FlakyEvidence.id)
    rows = session.execute(
        select(
            FlakyEvidence.repository,
            FlakyEvidence.workflow_name,
            FlakyEvidence.job_name,
            flakes,
            func.max(FlakyEvidence.observed_at),
        )
        .where(FlakyEvidence.observed_at >= utcnow() - window)
        .group_by(FlakyEvidence.repository, FlakyEvidence.workflow_name, FlakyEvidence.job_name)
        .order_by(flakes.desc(), func.max(FlakyEvidence.observed_at).desc())
        .limit(limit)
    ).all()
    return [FlakyJob(*row) for row in rows]
