"""Metrics: samples stored in the database (the product's history) and Prometheus counters
(the process's live view, served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.orm import Session

from ci_remediator.db.models import MetricSample

FAILURES_DETECTED = Counter(
    "ci_remediator_failures_detected_total", "Failed runs recorded", ["source"]
)
TRANSITIONS = Counter("ci_remediator_transitions_total", "Failure state transitions", ["to_state"])
REMEDIATION_OUTCOMES = Counter(
    "ci_remediator_remediation_outcomes_total", "Remediation results", ["action", "outcome"]
)


def record_metric(
    session: Session,
    *,
    name: str,
    value: float,
    failure_id: int | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    session.add(MetricSample(name=name, value=value, failure_id=failure_id, labels=labels or {}))
