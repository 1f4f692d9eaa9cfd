"""Locks and shared counters every worker sees: Redis when scaled, the database when embedded.

One small interface so callers (polling locks, the rate budget) never care which.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.db.models import Lease


def _holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Coordinator(Protocol):
    def try_lock(self, name: str, *, ttl_s: float) -> str | None:
        """Take the named lock for at most ttl_s; a token to release it, or None if held."""

    def release(self, name: str, token: str) -> None: ...

    def incr(self, name: str, *, window_s: int) -> int:
        """Add one to the counter of the current fixed window and return the new value."""

    def moment(self, name: str) -> float:
        """The named point in time (epoch seconds), 0.0 if never set."""

    def push_back(self, name: str, until: float) -> None:
        """Move the named moment to `until` if that is later (never earlier)."""

    def reserve_slot(
        self, name: str, *, interval_s: float, burst: int, max_wait_s: float
    ) -> float | None:
        """Take the next slot of a rate of one per `interval_s`, with up to `burst` extra
        slots after a quiet spell (GCRA: no window of length L holds more than L/interval_s
        + burst slots).

        Returns the seconds to wait before using it, or None (and takes nothing) when the
        next free slot is more than `max_wait_s` away.
        """


class RedisCoordinator:
    # Release only our own lock: a lock that expired and was taken by another is not ours.
    _RELEASE = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
        "return 0"
    )

    # Times come from the Redis server, so workers with skewed clocks share one timeline.
    _RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local earliest = math.max(now, tat - interval * tonumber(ARGV[3]))
if earliest - now > tonumber(ARGV[2]) then return nil end
local nxt = math.max(tat, earliest) + interval
redis.call('SET', KEYS[1], string.format('%.6f', nxt), 'PX', math.ceil((nxt - now) * 1000) + 60000)
return string.format('%.6f', earliest - now)
"""
    _PUSH_BACK = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 0
"""

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

    def moment(self, name: str) -> float:
        value = self._redis.get(f"{self._prefix}:moment:{name}")
        return float(value) if value is not None else 0.0

    def push_back(self, name: str, until: float) -> None:
        # Kept a day past the moment at most: a stale "blocked until" must not outlive its use.
        ttl = max(1, int(until - time.time()) + 86_400)
        self._redis.eval(
            self._PUSH_BACK, 1, f"{self._prefix}:moment:{name}", f"{until:.6f}", str(ttl)
        )

    def reserve_slot(
        self, name: str, *, interval_s: float, burst: int, max_wait_s: float
    ) -> float | None:
        wait = self._redis.eval(
            self._RESERVE,
            1,
            f"{self._prefix}:slot:{name}",
            str(interval_s),
            str(max_wait_s),
            str(burst),
        )
        return None if wait is None else float(wait)


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
