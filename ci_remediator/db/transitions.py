"""Guarded state transitions: compare-and-set on the state column, audited in the same transaction.

`UPDATE failures SET state=:to WHERE id=:id AND state=:from` updates zero rows when another
worker got there first; the caller then stops without side effects. That one statement is what
makes every task safe to run twice.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import utcnow
from ci_remediator.db.models import Failure
from ci_remediator.domain import ALLOWED_TRANSITIONS, FailureState
from ci_remediator.metrics import TRANSITIONS


class InvalidTransitionError(ValueError):
    """The state machine has no such edge: a programming error, never retried."""


class StaleStateError(Exception):
    """The failure was not in the expected state: another worker moved it first."""


def transition(
    session: Session,
    *,
    failure_id: int,
    expected: FailureState | Collection[FailureState],
    to: FailureState,
    actor: str,
    detail: dict[str, Any] | None = None,
    error: str | None = None,
) -> FailureState | None:
    """Move the failure to `to` if it is in one of `expected`; return the state it left.

    Returns None (and changes nothing) when the failure is not in an expected state.
    """
    sources = frozenset({expected} if isinstance(expected, FailureState) else expected)
    for source in sources:
        if to not in ALLOWED_TRANSITIONS[source]:
            raise InvalidTransitionError(f"no transition from {source} to {to}")
    for source in sorted(sources):
        values: dict[str, Any] = {"state": to, "updated_at": utcnow()}
        if error is not None:
            values["last_error"] = error
        result = session.execute(
            update(Failure)
            .where(Failure.id == failure_id, Failure.state == source)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            record_audit(
                session,
                actor=actor,
                action="transition",
                failure_id=failure_id,
                from_state=source.value,
                to_state=to.value,
                detail=detail,
            )
            _refresh_loaded_state(session, failure_id, to)
            TRANSITIONS.labels(to_state=to.value).inc()
            return source
    return None


def require_transition(
    session: Session,
    *,
    failure_id: int,
    expected: FailureState | Collection[FailureState],
    to: FailureState,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> FailureState:
    moved_from = transition(
        session, failure_id=failure_id, expected=expected, to=to, actor=actor, detail=detail
    )
    if moved_from is None:
        raise StaleStateError(f"failure {failure_id} was not in {expected} when moving to {to}")
    return moved_from


def _refresh_loaded_state(session: Session, failure_id: int, state: FailureState) -> None:
    # The bulk UPDATE bypasses the identity map; keep an already-loaded object truthful.
    loaded = session.identity_map.get(
        Failure.__mapper__.identity_key_from_primary_key((failure_id,))
    )
    if loaded is not None:
        session.expire(loaded, ["state", "updated_at", "last_error"])


def mark_errored(session: Session, *, failure_id: int, error: str, actor: str) -> bool:
    """Retries are exhausted or the error is permanent: park the failure where humans look.

    The error's text is whatever the exception said (a GitHub body, a log line): NUL, which
    Postgres stores in neither text nor JSON, is dropped, or the failure could never be parked.
    """
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state.is_terminal:
        return False
    error = error.replace("\x00", "")
    return (
        transition(
            session,
            failure_id=failure_id,
            expected=failure.state,
            to=FailureState.ERRORED,
            actor=actor,
            detail={"error": error[:2000]},
            error=error[:2000],
        )
        is not None
    )
