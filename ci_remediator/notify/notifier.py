"""The notifier interface: what a notifier returns (the thread) and how it says "later"."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from ci_remediator.notify.messages import StageMessage, SystemAlert

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """Where a failure's conversation lives: later stages reply there."""

    channel: str
    ts: str


class NotifierUnavailableError(Exception):
    """The notifier cannot take messages now (rate limited, down): try again later."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class NotifierRefusedError(NotifierUnavailableError):
    """The notifier refused our credential (Slack: invalid_auth, token_revoked ...). Messages
    stay queued for a working token; people are told once, on the console and in the log."""


class Notifier(Protocol):
    def send(self, message: StageMessage, *, thread: ThreadRef | None) -> ThreadRef | None:
        """Deliver; the thread this failure's messages go to (None when there is none).
        Raises NotifierUnavailableError when the message should be tried again later."""

    def alert(self, alert: SystemAlert) -> None: ...


def raise_alert(notifier: Notifier, alert: SystemAlert) -> bool:
    """Send a system alert; an outage is logged, never raised into the pipeline."""
    try:
        notifier.alert(alert)
    except Exception:
        log.exception("alert %r was not delivered", alert.title)
        return False
    return True
