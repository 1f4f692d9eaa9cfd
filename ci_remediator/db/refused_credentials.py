"""Credentials a service refused (GitHub: polling stops; Slack: messages wait), each marked
once so one critical alert says so."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.models import DisabledCredential
from ci_remediator.db.upsert import dialect_insert


def credential_disabled(session: Session, fingerprint: str) -> bool:
    return (
        session.scalar(
            select(DisabledCredential.fingerprint).where(
                DisabledCredential.fingerprint == fingerprint
            )
        )
        is not None
    )


def disable_credential(
    session: Session, *, fingerprint: str, reason: str, service: str = "github"
) -> bool:
    """Mark the credential refused; True only for the call that marked it (alert once)."""
    reason = reason.replace("\x00", "")  # the service's words: Postgres stores no NUL
    marked = session.scalar(
        dialect_insert(session, DisabledCredential)
        .values(fingerprint=fingerprint, reason=reason[:1000])
        .on_conflict_do_nothing(index_elements=["fingerprint"])
        .returning(DisabledCredential.fingerprint)
    )
    if marked is None:
        return False
    record_audit(
        session,
        actor=service,
        action="credential_disabled",
        outcome="failure",
        detail={"credential": fingerprint, "reason": reason[:500]},
    )
    return True
