"""The notifier interface and delivery that never blocks remediation."""

from __future__ import annotations

import logging
from typing import Protocol

from ci_remediator.notify.messages import StageMessage, SystemAlert

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
