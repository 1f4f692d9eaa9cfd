"""Prometheus counters: the process's live view, served on /metrics. Stored samples, the
product's history, are `ci_remediator.db.metric_samples`."""

from __future__ import annotations

from prometheus_client import Counter

FAILURES_DETECTED = Counter(
    "ci_remediator_failures_detected_total", "Failed runs recorded", ["source"]
)
TRANSITIONS = Counter("ci_remediator_transitions_total", "Failure state transitions", ["to_state"])
REMEDIATION_OUTCOMES = Counter(
    "ci_remediator_remediation_outcomes_total", "Remediation results", ["action", "outcome"]
)
