"""Notifications as rows: written with the transition they report, delivered in order."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ci_remediator.db.models import Notification
from ci_remediator.domain import FollowUp, StageEvent, Step


def notice(session: Session, failure_id: int, event: StageEvent) -> FollowUp:
    """Queue a stage message for the failure; the notify task to send after the commit."""
    session.add(Notification(failure_id=failure_id, event=event.value))
    return FollowUp(Step.NOTIFY, failure_id, event=event)
