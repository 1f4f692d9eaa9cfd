"""A failure's story, told from its audit trail: for the demo, the CLI and humans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import query_audit
from ci_remediator.db.models import AuditEntry, Failure


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    actor: str
    what: str
    note: str


@dataclass(frozen=True, slots=True)
class FailureTimeline:
    failure: Failure
    entries: tuple[TimelineEntry, ...]


def _note(entry: AuditEntry) -> str:
    detail = entry.detail or {}
    keys = (
        "reasons",
        "outcome",
        "handed_over",
        "reason",
        "undone",
        "category",
        "action",
        "event",
        "step",
    )
    for key in keys:
        value = detail.get(key)
        if value:
            if key == "category":
                return (
                    f"{value}, risk {detail.get('risk_score')}, proposes "
                    f"{detail.get('proposed_action')} (by {detail.get('analyzer', 'rules')})"
                )
            if key == "outcome" and "same_failure" in detail:
                again = "the same way" if detail["same_failure"] else "differently"
                return f"{key}: {value}; failed {again} (by fingerprint)"
            return "; ".join(value) if isinstance(value, list) else f"{key}: {value}"
    return ""


def _what(entry: AuditEntry) -> str:
    if entry.action == "transition":
        return f"{entry.from_state} -> {entry.to_state}"
    return entry.action


def failure_timelines(
    session: Session, *, include_notifications: bool = False
) -> Sequence[FailureTimeline]:
    timelines = []
    for failure in session.scalars(select(Failure).order_by(Failure.id)):
        entries = tuple(
            TimelineEntry(entry.at, entry.actor, _what(entry), _note(entry))
            for entry in query_audit(session, failure_id=failure.id)
            if include_notifications or entry.action != "notified"
        )
        timelines.append(FailureTimeline(failure, entries))
    return timelines
