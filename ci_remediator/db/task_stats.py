"""Task execution totals (`TaskStat`): what the workers add after each run, what `/metrics`
reads. Runs are added up in the worker process first (`PendingTaskStats`) and written as one
upsert per (task, outcome, kind, bucket) they touched."""

from __future__ import annotations

import bisect
import threading
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


StatKey = tuple[str, str, str, int]  # task, outcome, kind, bucket


class PendingTaskStats:
    """Task runs not yet written: observations and seconds per (task, outcome, kind, bucket).
    Thread-safe (a worker's pool threads and its flush timer share one)."""

    def __init__(self) -> None:
        self._totals: dict[StatKey, list[float]] = {}
        self._lock = threading.Lock()

    def add(self, *, task: str, outcome: str, duration_s: float, wait_s: float | None) -> None:
        """One run of `task` that ended in `outcome` (succeeded, retried, failed)."""
        observed = [(DURATION, max(0.0, duration_s))]
        if wait_s is not None:
            observed.append((WAIT, max(0.0, wait_s)))
        with self._lock:
            for kind, seconds in observed:
                total = self._totals.setdefault((task, outcome, kind, bucket_of(seconds)), [0, 0.0])
                total[0] += 1
                total[1] += seconds

    def take(self) -> PendingTaskStats:
        """Everything pending, moved to a new instance (this one starts empty)."""
        taken = PendingTaskStats()
        with self._lock:
            taken._totals, self._totals = self._totals, {}
        return taken

    def merge(self, other: PendingTaskStats) -> None:
        with self._lock:
            for key, (observations, seconds) in other._totals.items():
                total = self._totals.setdefault(key, [0, 0.0])
                total[0] += observations
                total[1] += seconds

    def __bool__(self) -> bool:
        return bool(self._totals)

    def write(self, session: Session) -> None:
        """Add every pending total to its row (in key order: concurrent flushes of several
        processes take the rows' locks in the same order, so they never deadlock)."""
        for (task, outcome, kind, bucket), (observations, seconds) in sorted(self._totals.items()):
            insert = dialect_insert(session, TaskStat).values(
                task=task,
                outcome=outcome,
                kind=kind,
                bucket=bucket,
                observations=int(observations),
                seconds=seconds,
            )
            session.execute(
                insert.on_conflict_do_update(
                    index_elements=["task", "outcome", "kind", "bucket"],
                    set_={
                        "observations": TaskStat.observations + insert.excluded.observations,
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
