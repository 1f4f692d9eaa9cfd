"""The notify step: tell people what happened at one stage of a failure, and audit it.

A notifier outage is recorded, never raised: remediation does not wait on notifications.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.domain import NOTHING_TO_DO, StageEvent, StepResult
from ci_remediator.notify.messages import build_stage_message
from ci_remediator.notify.notifier import Notifier, deliver


def notify_stage(
    session: Session, *, failure_id: int, event: StageEvent, notifier: Notifier
) -> StepResult:
    message = build_stage_message(session, failure_id=failure_id, event=event)
    if message is None:
        return NOTHING_TO_DO
    delivered = deliver(notifier, message)
    record_audit(
        session,
        actor="notifier",
        action="notified",
        failure_id=failure_id,
        outcome="success" if delivered else "failure",
        detail={"event": event.value},
    )
    return NOTHING_TO_DO
