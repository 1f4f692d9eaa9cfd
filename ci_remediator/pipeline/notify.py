"""The notify step: deliver a failure's pending stage messages, oldest first, in its thread.

The messages were written as rows by the transitions they report, so nothing is lost when the
notifier is down: delivery stops at the first message it will not take and the task tries again
later (after Slack's Retry-After when it gave one). Rows are locked as they are read, so two
notify tasks for one failure never deliver out of order or twice. Remediation never waits on
this: the pipeline's own transactions do not touch these rows.

Noise control: a failure that repeats another's fingerprint (a burst member, see db.bursts)
starts no thread of its own. Its "detected" and "analyzed" become one update of the leader's
message (a count and the runs); its later stages reply in the leader's thread. So that a repeat
is recognised before it says anything, "detected" waits for the analysis, for at most
DETECTED_HOLD_S, while noise control is on.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import (
    Analysis,
    Failure,
    Notification,
    NotificationStatus,
    NotificationThread,
)
from ci_remediator.db.refused_credentials import disable_credential
from ci_remediator.domain import (
    NOTHING_TO_DO,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
    StepResult,
)
from ci_remediator.notify.messages import build_stage_message
from ci_remediator.notify.notifier import (
    Notifier,
    NotifierRefusedError,
    NotifierUnavailableError,
    ThreadRef,
)

log = logging.getLogger(__name__)

# The longest "Failure detected" waits for the analysis that tells a repeat from a new failure.
DETECTED_HOLD_S = 120.0
# How soon a burst member looks again for its leader's thread.
LEADER_WAIT_S = 2.0
FOLDED_EVENTS = frozenset({StageEvent.DETECTED.value, StageEvent.ANALYZED.value})


def notify_stage(
    session: Session,
    *,
    failure_id: int,
    notifier: Notifier,
    notifier_credential: str | None = None,
    noise_control: bool = False,
    now: datetime | None = None,
) -> StepResult:
    """`notifier_credential` names the notifier's credential (its fingerprint): when the
    notifier refuses it, it is marked refused once (a critical log line, /healthz degraded)."""
    now = now or utcnow()
    pending = list(
        session.scalars(
            select(Notification)
            .where(
                Notification.failure_id == failure_id,
                Notification.status == NotificationStatus.PENDING,
            )
            .order_by(Notification.id)
            .with_for_update()
        )
    )
    if not pending:
        return NOTHING_TO_DO
    failure = session.get(Failure, failure_id)
    if failure is None:
        return NOTHING_TO_DO
    if noise_control and (hold := _detected_hold_s(session, failure, pending, now)) > 0:
        return StepResult(waiting=True, retry_after_s=hold)
    own = session.get(NotificationThread, failure_id)
    leader_id = failure.burst_of if own is None else None
    if leader_id is not None and _leader_not_started(session, leader_id):
        return StepResult(waiting=True, retry_after_s=LEADER_WAIT_S)
    stored = own or (session.get(NotificationThread, leader_id) if leader_id else None)
    thread = ThreadRef(stored.channel, stored.ts) if stored is not None else None
    follow_ups: list[FollowUp] = []
    pending = _collapse_burst_updates(pending, now)
    for notification in pending:
        if leader_id is not None and notification.event in FOLDED_EVENTS:
            notification.attempts += 1
            # A repeat: the leader's message counts it (once, on "detected") instead.
            if notification.event == StageEvent.DETECTED.value:
                session.add(Notification(failure_id=leader_id, event=StageEvent.BURST.value))
                follow_ups.append(FollowUp(Step.NOTIFY, leader_id, event=StageEvent.BURST))
            _delivered(session, notification, now=now, folded_into=leader_id)
            continue
        message = build_stage_message(
            session, failure_id=failure_id, event=StageEvent(notification.event)
        )
        # Counted after the message's query, so that the count and the delivery are one UPDATE.
        notification.attempts += 1
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
            return StepResult(
                tuple(follow_ups), waiting=True, retry_after_s=unavailable.retry_after_s
            )
        if thread is None and posted is not None:
            session.add(
                NotificationThread(failure_id=failure_id, channel=posted.channel, ts=posted.ts)
            )
            thread = posted
        _delivered(session, notification, now=now)
    return StepResult(tuple(follow_ups))


def _detected_hold_s(
    session: Session, failure: Failure, pending: list[Notification], now: datetime
) -> float:
    """Seconds "detected" should still wait for the analysis; 0 to deliver now."""
    if pending[0].event != StageEvent.DETECTED.value or failure.state not in (
        FailureState.DETECTED,
        FailureState.ANALYZING,
    ):
        return 0.0
    if session.scalar(select(Analysis.id).where(Analysis.failure_id == failure.id)) is not None:
        return 0.0
    waited = (now - failure.detected_at).total_seconds()
    return max(0.0, DETECTED_HOLD_S - waited)


def _leader_not_started(session: Session, leader_id: int) -> bool:
    """The leader's first message is not out yet: a member has no thread to join."""
    return (
        session.scalar(
            select(Notification.id).where(
                Notification.failure_id == leader_id,
                Notification.event == StageEvent.DETECTED.value,
                Notification.status == NotificationStatus.PENDING,
            )
        )
        is not None
    )


def _collapse_burst_updates(pending: list[Notification], now: datetime) -> list[Notification]:
    """Of several pending rewrites of a burst's message only the last is sent: each one shows
    every run so far."""
    updates = [n for n in pending if n.event == StageEvent.BURST.value]
    for superseded in updates[:-1]:
        superseded.status = NotificationStatus.DELIVERED
        superseded.delivered_at = now
    return [n for n in pending if n.event != StageEvent.BURST.value or n is updates[-1]]


def _delivered(
    session: Session, notification: Notification, *, now: datetime, folded_into: int | None = None
) -> None:
    notification.status = NotificationStatus.DELIVERED
    notification.delivered_at = now
    record_audit(
        session,
        actor="notifier",
        action="notified",
        failure_id=notification.failure_id,
        detail={
            "event": notification.event,
            **({"folded_into": folded_into} if folded_into is not None else {}),
        },
    )
