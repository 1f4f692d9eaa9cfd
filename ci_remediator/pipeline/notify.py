"""The notify step: deliver a failure's pending stage messages, oldest first, in its thread.

The messages were written as rows by the transitions they report, so nothing is lost when the
notifier is down: delivery stops at the first message it will not take and the task tries again
later (after Slack's Retry-After when it gave one). Rows are locked as they are read, so two
notify tasks for one failure never deliver out of order or twice. Remediation never waits on
this: the pipeline's own transactions do not touch these rows.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Notification, NotificationStatus, NotificationThread
from ci_remediator.db.refused_credentials import disable_credential
from ci_remediator.domain import NOTHING_TO_DO, StageEvent, StepResult
from ci_remediator.notify.messages import build_stage_message
from ci_remediator.notify.notifier import (
    Notifier,
    NotifierRefusedError,
    NotifierUnavailableError,
    ThreadRef,
)

log = logging.getLogger(__name__)


def notify_stage(
    session: Session,
    *,
    failure_id: int,
    notifier: Notifier,
    notifier_credential: str | None = None,
    now: datetime | None = None,
) -> StepResult:
    """`notifier_credential` names the notifier's credential (its fingerprint): when the
    notifier refuses it, it is marked refused once (a critical log line, /healthz degraded)."""
    pending = session.scalars(
        select(Notification)
        .where(
            Notification.failure_id == failure_id,
            Notification.status == NotificationStatus.PENDING,
        )
        .order_by(Notification.id)
        .with_for_update()
    ).all()
    if not pending:
        return NOTHING_TO_DO
    stored = session.get(NotificationThread, failure_id)
    thread = ThreadRef(stored.channel, stored.ts) if stored is not None else None
    for notification in pending:
        notification.attempts += 1
        message = build_stage_message(
            session, failure_id=failure_id, event=StageEvent(notification.event)
        )
        if message is None:
            continue
        try:
            posted = notifier.send(message, thread=thread)
        except NotifierUnavailableError as unavailable:
            notification.last_error = str(unavailable)[:500]
            if isinstance(unavailable, NotifierRefusedError) and notifier_credential:
                newly = disable_credential(
                    session,
                    fingerprint=notifier_credential,
                    reason=str(unavailable),
                    service="slack",
                )
                if newly:
                    log.critical("%s: notifications wait for a working token", unavailable)
            return StepResult(waiting=True, retry_after_s=unavailable.retry_after_s)
        notification.status = NotificationStatus.DELIVERED
        notification.delivered_at = now or utcnow()
        if thread is None and posted is not None:
            session.add(
                NotificationThread(failure_id=failure_id, channel=posted.channel, ts=posted.ts)
            )
            thread = posted
        record_audit(
            session,
            actor="notifier",
            action="notified",
            failure_id=failure_id,
            detail={"event": notification.event},
        )
    return NOTHING_TO_DO
