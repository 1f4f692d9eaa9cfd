"""The notifier interface and delivery that never blocks remediation."""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy.orm import Session

from ci_remediator.audit import record_audit
from ci_remediator.domain import StageEvent
from ci_remediator.notify.messages import StageMessage, SystemAlert, build_stage_message

log = logging.getLogger(__name__)


class Notifier(Protocol):
    def send(self, message: StageMessage) -> None: ...

    def alert(self, alert: SystemAlert) -> None: ...


def deliver(notifier: Notifier, message: StageMessage) -> bool:
    """Send; a notifier outage is logged and swallowed, never raised into the pipeline."""
    try:
        notifier.send(message)
    except Exception:
        log.exception(
            "notification for failure %s (%s) was not delivered", message.failure_id, message.event
        )
        return False
    return True


def raise_alert(notifier: Notifier, alert: SystemAlert) -> bool:
    """Send a system alert; like `deliver`, an outage is logged, never raised."""
    try:
        notifier.alert(alert)
    except Exception:
        log.exception("alert %r was not delivered", alert.title)
        return False
    return True


def notify_stage(
    session: Session, *, failure_id: int, event: StageEvent, notifier: Notifier
) -> bool:
    message = build_stage_message(session, failure_id=failure_id, event=event)
    if message is None:
        return False
    delivered = deliver(notifier, message)
    record_audit(
        session,
        actor="notifier",
        action="notified",
        failure_id=failure_id,
        outcome="success" if delivered else "failure",
        detail={"event": event.value},
    )
    return delivered
