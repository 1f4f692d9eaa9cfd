"""The audit trail, queried: what was decided, by whom, when, and how it turned out.

    from ci_remediator.audit_logger import ActionType, AuditLogger
    from ci_remediator.services import get_services

    logger = AuditLogger(get_services().sessions)
    logger.query_logs({"start_date": datetime(2026, 1, 1), "action_type": ActionType.REMEDIATION})

`AuditLogger` takes a `sessionmaker` (what `Services.sessions` is) and opens one short
read-only session per call, so it holds no connection between queries and is safe to share
between threads. Entries come back as frozen `AuditLogEntry` values, usable after the session
is gone. Which `action` values make each `ActionType` is documented in `ci_remediator.db.audit`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.audit import (
    KNOWN_OUTCOMES,
    ActionType,
    AuditCriteria,
    classify_audit,
    count_matching_audit,
    search_audit,
)

__all__ = [
    "FILTER_KEYS",
    "KNOWN_OUTCOMES",
    "MAX_LIMIT",
    "ActionType",
    "AuditLogEntry",
    "AuditLogger",
    "FilterError",
    "as_utc",
    "audit_criteria",
    "check_repository",
]

# Each filter of `query_logs`; a value of None is the same as leaving the key out.
FILTER_KEYS = (
    "start_date",  # datetime, inclusive; naive means UTC
    "end_date",  # datetime, exclusive; naive means UTC
    "action_type",  # ActionType, or its value or name as a string ("remediation")
    "repository",  # "owner/name", case-insensitive; excludes entries about no failure
    "actor",  # exact ("human:alice", "safety_gate"), or a prefix ending in "*" ("human:*")
    "failure_id",  # int
    "outcome",  # exact: "success", "failure", "partial" (KNOWN_OUTCOMES; free text, as stored)
)
# A page bigger than this is a bulk export: page through it instead of holding it at once.
MAX_LIMIT = 10_000

_REPOSITORY = re.compile(r"[^/\s]+/[^/\s]+")


class FilterError(ValueError):
    """A filter or paging value that cannot be used; `key` names it (the CLI maps it to its
    option), `problem` says what is wrong with it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def as_utc(key: str, value: object) -> datetime | None:
    """`value` as an aware UTC datetime (naive is taken as UTC), None for None."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        # A bare date is refused too: whether it starts or ends its day would be a guess.
        raise FilterError(key, f"must be a datetime, not {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_window(since: datetime | None, until: datetime | None, *, until_key: str) -> None:
    """An end before the start is a mistake, not an empty window (an equal one is empty)."""
    if since is not None and until is not None and until < since:
        raise FilterError(until_key, "is earlier than the start of the window")


def check_repository(key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _REPOSITORY.fullmatch(value.strip()):
        raise FilterError(key, f"must be a repository as owner/name, got {value!r}")
    return value.strip()


def _action_type(value: object) -> ActionType:
    if isinstance(value, ActionType):
        return value
    if isinstance(value, str):
        wanted = value.strip().lower().replace("-", "_")
        for member in ActionType:
            if wanted == member.value:
                return member
    allowed = ", ".join(member.value for member in ActionType)
    raise FilterError("action_type", f"must be one of {allowed}; got {value!r}")


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise FilterError(key, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _positive_int(key: str, value: object, *, minimum: int) -> int:
    # bool is an int to Python, never an id or a count to a person.
    if isinstance(value, bool) or not isinstance(value, int):
        raise FilterError(key, f"must be an integer, got {value!r}")
    if value < minimum:
        raise FilterError(key, f"must be at least {minimum}, got {value}")
    return value


def audit_criteria(filters: Mapping[str, object] | None) -> AuditCriteria:
    """The filters of `query_logs`, checked: FilterError (a ValueError) names the first bad
    key, unknown ones included."""
    if filters is None:
        return AuditCriteria()
    if not isinstance(filters, Mapping):
        raise FilterError("filters", f"must be a mapping, not {type(filters).__name__}")
    for key in filters:
        if key not in FILTER_KEYS:
            raise FilterError(str(key), f"is not a filter; known: {', '.join(FILTER_KEYS)}")
    present = {key: value for key, value in filters.items() if value is not None}
    since = as_utc("start_date", present.get("start_date"))
    until = as_utc("end_date", present.get("end_date"))
    check_window(since, until, until_key="end_date")
    actor = _text("actor", present["actor"]) if "actor" in present else None
    prefix = actor is not None and actor.endswith("*")
    return AuditCriteria(
        since=since,
        until=until,
        action_type=_action_type(present["action_type"]) if "action_type" in present else None,
        repository=check_repository("repository", present.get("repository")),
        actor=None if prefix else actor,
        actor_prefix=actor[:-1] if prefix and actor is not None else None,
        failure_id=_positive_int("failure_id", present["failure_id"], minimum=1)
        if "failure_id" in present
        else None,
        outcome=_text("outcome", present["outcome"]) if "outcome" in present else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditLogEntry:
    """One audit entry. `at` is aware UTC; `repository` is the failure's (None for entries
    about no failure: a breaker reset, a refused webhook delivery, a disabled credential)."""

    id: int
    at: datetime
    action_type: ActionType
    actor: str
    action: str
    failure_id: int | None
    repository: str | None
    from_state: str | None
    to_state: str | None
    outcome: str
    detail: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "action_type": self.action_type.value,
            "actor": self.actor,
            "action": self.action,
            "failure_id": self.failure_id,
            "repository": self.repository,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "outcome": self.outcome,
            "detail": dict(self.detail),
        }


class AuditLogger:
    """Read the audit trail. `db` is a `sessionmaker` (`Services.sessions`, or one bound to
    a test's connection); writing stays with `ci_remediator.db.audit.record_audit`, in the
    transaction of the decision it records."""

    def __init__(self, db: sessionmaker[Session]) -> None:
        self._sessions = db

    def query_logs(
        self, filters: Mapping[str, object] | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[AuditLogEntry]:
        """Entries matching every filter (keys: `FILTER_KEYS`), oldest first (by time, ties by
        id, so consecutive pages neither overlap nor skip). FilterError (a ValueError) names
        a bad or unknown key, or `limit` / `offset`."""
        criteria = audit_criteria(filters)
        limit = _positive_int("limit", limit, minimum=1)
        if limit > MAX_LIMIT:
            raise FilterError("limit", f"must be at most {MAX_LIMIT}, got {limit}")
        offset = _positive_int("offset", offset, minimum=0)
        with self._sessions() as session:
            rows = search_audit(session, criteria, limit=limit, offset=offset)
            return [
                AuditLogEntry(
                    id=entry.id,
                    at=entry.at,
                    action_type=classify_audit(entry.action, entry.from_state, entry.to_state),
                    actor=entry.actor,
                    action=entry.action,
                    failure_id=entry.failure_id,
                    repository=repository,
                    from_state=entry.from_state,
                    to_state=entry.to_state,
                    outcome=entry.outcome,
                    detail=dict(entry.detail or {}),
                )
                for entry, repository in rows
            ]

    def count_logs(self, filters: Mapping[str, object] | None = None) -> int:
        """How many entries `query_logs` would page through with these filters."""
        criteria = audit_criteria(filters)
        with self._sessions() as session:
            return count_matching_audit(session, criteria)
