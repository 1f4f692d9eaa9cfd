"""Task execution totals (`TaskStat`): what the workers add after each run, what `/metrics`
reads. One small transaction per run, two upserts: the duration bucket and the wait bucket."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.models import TaskStat
from ci_remediator.db.upsert import dialect_insert

# Seconds: a step is milliseconds to a few seconds; a wait can be a verify poll's countdown.
TASK_BUCKETS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
DURATION = "duration"
WAIT = "wait"


def bucket_of(seconds: float) -> int:
    """The index of the first bucket whose bound holds `seconds`; len(TASK_BUCKETS): +Inf."""
    return bisect.bisect_left(TASK_BUCKETS, seconds)


def record_task_run(
    session: Session, *, task: str, outcome: str, duration_s: float, wait_s: float | None
) -> None:
    """Add one run of `task` that ended in `outcome` (succeeded, retried, failed)."""
    observed = [(DURATION, max(0.0, duration_s))]
    if wait_s is not None:
        observed.append((WAIT, max(0.0, wait_s)))
    for kind, seconds in observed:
        insert = dialect_insert(session, TaskStat).values(
            task=task,
            outcome=outcome,
            kind=kind,
            bucket=bucket_of(seconds),
            observations=1,
            seconds=seconds,
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["task", "outcome", "kind", "bucket"],
                set_={
                    "observations": TaskStat.observations + 1,
                    "seconds": TaskStat.seconds + insert.excluded.seconds,
                },
            )
        )


@dataclass(slots=True)
class TaskHistogram:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(TASK_BUCKETS) + 1))
    seconds: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.buckets)

    def cumulative(self) -> list[int]:
        return list(accumulate(self.buckets))


def task_histograms(session: Session) -> dict[tuple[str, str, str], TaskHistogram]:
    """(task, outcome, kind) -> its histogram, in one query."""
    found: dict[tuple[str, str, str], TaskHistogram] = {}
    rows = session.execute(
        select(
            TaskStat.task,
            TaskStat.outcome,
            TaskStat.kind,
            TaskStat.bucket,
            TaskStat.observations,
            TaskStat.seconds,
        )
    )
    for task, outcome, kind, bucket, observations, seconds in rows:
        histogram = found.setdefault((task, outcome, kind), TaskHistogram())
        histogram.buckets[min(bucket, len(TASK_BUCKETS))] += observations
        histogram.seconds += seconds
    return found
