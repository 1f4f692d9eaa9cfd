"""The embedded form's coordinator: locks as leases in the database, the rate budget's clock
in this process's memory."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.models import Lease


def _holder_id() -> str:
    # Who holds a lease, for whoever reads the table (the same shape as the Redis locks').
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DatabaseCoordinator:
    """The embedded form's coordinator: one process, so one timeline.

    Locks are leases in the database (they also guard against a second embedded process by
    mistake). The rate budget's clock and counters stay in this process's memory: every worker
    thread sees them, and the budget is consulted inside a step's open write transaction, where
    SQLite, which allows one writer at a time, would make a second connection wait on the first.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        self._moments: dict[str, float] = {}
        self._counts: dict[tuple[str, int], int] = {}

    def try_lock(self, name: str, *, ttl_s: float) -> str | None:
        token = _holder_id()
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=ttl_s)
        with self._sessions() as session, session.begin():
            taken = session.execute(
                update(Lease)
                .where(Lease.name == name, Lease.expires_at < now)
                .values(holder=token, expires_at=expires)
            ).rowcount  # type: ignore[attr-defined]
            if taken:
                return token
            if session.get(Lease, name) is not None:
                return None
            try:
                with session.begin_nested():
                    session.add(Lease(name=name, holder=token, expires_at=expires))
            except IntegrityError:
                return None
        return token

    def release(self, name: str, token: str) -> None:
        with self._sessions() as session, session.begin():
            session.execute(delete(Lease).where(Lease.name == name, Lease.holder == token))

    def incr(self, name: str, *, window_s: int) -> int:
        window = int(time.time()) // window_s
        with self._lock:
            for stale in [key for key in self._counts if key[1] < window - 1]:
                del self._counts[stale]
            self._counts[name, window] = self._counts.get((name, window), 0) + 1
            return self._counts[name, window]

    def moment(self, name: str) -> float:
        with self._lock:
            return self._moments.get(name, 0.0)

    def push_back(self, name: str, until: float) -> None:
        with self._lock:
            self._moments[name] = max(self._moments.get(name, 0.0), until)

    def reserve_slot(
        self, name: str, *, interval_s: float, burst: int, max_wait_s: float
    ) -> float | None:
        with self._lock:
            now = time.time()
            tat = self._moments.get(name, 0.0)
            earliest = max(now, tat - interval_s * burst)
            if earliest - now > max_wait_s:
                return None
            self._moments[name] = max(tat, earliest) + interval_s
            return earliest - now
