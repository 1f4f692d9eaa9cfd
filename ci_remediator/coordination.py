"""Locks and shared counters every worker sees: Redis when scaled, the database when embedded.

One small interface so callers (polling locks, the rate budget) never care which.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.models import Lease, WindowCounter


def _holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Coordinator(Protocol):
    def try_lock(self, name: str, *, ttl_s: float) -> str | None:
        """Take the named lock for at most ttl_s; a token to release it, or None if held."""

    def release(self, name: str, token: str) -> None: ...

    def incr(self, name: str, *, window_s: int) -> int:
        """Add one to the counter of the current fixed window and return the new value."""


class RedisCoordinator:
    # Release only our own lock: a lock that expired and was taken by another is not ours.
    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
        "return 0"
    )

    def __init__(self, url: str, *, prefix: str = "ci-remediator") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix

    def try_lock(self, name: str, *, ttl_s: float) -> str | None:
        token = _holder_id()
        acquired = self._redis.set(
            f"{self._prefix}:lock:{name}", token, nx=True, px=int(ttl_s * 1000)
        )
        return token if acquired else None

    def release(self, name: str, token: str) -> None:
        self._redis.eval(self._RELEASE, 1, f"{self._prefix}:lock:{name}", token)

    def incr(self, name: str, *, window_s: int) -> int:
        window = int(time.time()) // window_s
        key = f"{self._prefix}:count:{name}:{window}"
        pipeline = self._redis.pipeline()
        pipeline.incr(key)
        pipeline.expire(key, window_s * 2)
        value, _ = pipeline.execute()
        return int(value)


class DatabaseCoordinator:
    """Leases and counters in the database, for the single-process embedded form."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

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
        start = datetime.fromtimestamp(int(time.time()) // window_s * window_s, UTC)
        with self._sessions() as session, session.begin():
            bumped = session.execute(
                update(WindowCounter)
                .where(WindowCounter.name == name, WindowCounter.window_start == start)
                .values(value=WindowCounter.value + 1)
            ).rowcount  # type: ignore[attr-defined]
            if not bumped:
                try:
                    with session.begin_nested():
                        session.add(WindowCounter(name=name, window_start=start, value=1))
                except IntegrityError:
                    session.execute(
                        update(WindowCounter)
                        .where(WindowCounter.name == name, WindowCounter.window_start == start)
                        .values(value=WindowCounter.value + 1)
                    )
            return int(
                session.scalar(
                    select(WindowCounter.value).where(
                        WindowCounter.name == name, WindowCounter.window_start == start
                    )
                )
                or 0
            )
