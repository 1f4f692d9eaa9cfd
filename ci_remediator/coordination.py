"""Locks and shared counters every worker sees: Redis when scaled (here), the database when
embedded (`ci_remediator.db.leases`). One small interface so callers (polling locks, the rate
budget) never care which.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from typing import Protocol

from ci_remediator.redis_tls import RedisTls


def holder_id() -> str:
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

    def __init__(
        self, url: str, *, prefix: str = "ci-remediator", tls: RedisTls | None = None
    ) -> None:
        # `tls`: the deployment's choice for a `rediss://` URL (Settings.redis_tls).
        self._redis = (tls or RedisTls()).client(url)
        self._prefix = prefix

    def try_lock(self, name: str, *, ttl_s: float) -> str | None:
        token = holder_id()
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
        # repr: the moment read back is the one pushed, to the last bit (six decimals rounded
        # a wait of exactly the longest allowed to just over it, or just under).
        self._redis.eval(
            self._PUSH_BACK, 1, f"{self._prefix}:moment:{name}", repr(float(until)), str(ttl)
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
