"""Metric samples stored in the database: the product's history, kept for reports and the
dashboard (the live Prometheus view is `ci_remediator.metrics`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ci_remediator.db.models import MetricSample


def record_metric(
    session: Session,
    *,
    name: str,
    value: float,
    failure_id: int | None = None,
    labels: dict[str, str] | None = None,
) -> None:
    session.add(MetricSample(name=name, value=value, failure_id=failure_id, labels=labels or {}))
