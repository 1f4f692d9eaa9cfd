"""GitHub's rate budget, shared by every worker through the coordinator.

Three rules, from GitHub's documentation on rate limits:
- with `x-ratelimit-remaining: 0`, make no request until `x-ratelimit-reset`;
- on a 403/429 with `retry-after`, wait that many seconds;
- on a secondary limit without it, wait at least a minute, exponentially longer if it repeats.
Besides, requests are paced to `max_per_minute` (a GCRA slot per request, so no minute ever
holds more than the cap, whatever the number of workers). A wait longer than `max_wait_s` is
not slept: the call raises `RateLimitedError`, so polling skips to the next beat and a task
retries later, instead of a worker sleeping for an hour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ci_remediator.coordination import Coordinator
from ci_remediator.github.errors import RateLimitedError

SECONDARY_BACKOFF_FIRST_S = 60.0
MAX_BURST = 10
SECONDARY_BACKOFF_MAX_S = 3600.0


@dataclass
class RateBudget:
    coordinator: Coordinator
    credential: str  # a fingerprint: one budget per token or App installation
    max_per_minute: int
    max_wait_s: float = 10.0
    clock: Callable[[], float] = field(default=time.time)
    sleep: Callable[[float], None] = field(default=time.sleep)

    def __post_init__(self) -> None:
        if self.max_per_minute < 1:
            raise ValueError("max_per_minute must be at least 1")

    @property
    def _blocked_key(self) -> str:
        return f"github:{self.credential}:blocked-until"

    def acquire(self) -> None:
        """Wait for the right to send one request, or raise RateLimitedError if that is long."""
        now = self.clock()
        blocked_until = self.coordinator.moment(self._blocked_key)
        if blocked_until > now:
            wait = blocked_until - now
            if wait > self.max_wait_s:
                raise RateLimitedError(
                    f"GitHub rate budget spent until {_iso(blocked_until)}",
                    reset_at=datetime.fromtimestamp(blocked_until, UTC),
                    retry_after_s=wait,
                )
            self.sleep(wait)
        # A short burst is allowed after a quiet spell; the steady rate is lowered by as
        # much, so no window of 60 s ever holds more than the cap.
        burst = min(MAX_BURST, self.max_per_minute // 10)
        slot_wait = self.coordinator.reserve_slot(
            f"github:{self.credential}:pace",
            interval_s=60.0 / (self.max_per_minute - burst),
            burst=burst,
            max_wait_s=self.max_wait_s,
        )
        if slot_wait is None:
            raise RateLimitedError(
                f"request pacing: more than {self.max_wait_s:.0f}s of requests already queued",
                retry_after_s=self.max_wait_s,
            )
        if slot_wait > 0:
            self.sleep(slot_wait)

    def observe(self, headers: dict[str, str]) -> None:
        """Read GitHub's rate headers from any answer; a spent budget blocks until its reset."""
        if headers.get("x-ratelimit-remaining") != "0":
            return
        try:
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            reset = self.clock() + SECONDARY_BACKOFF_FIRST_S
        self.coordinator.push_back(self._blocked_key, reset)

    def rate_limited(self, error: RateLimitedError) -> RateLimitedError:
        """Record GitHub's refusal so every worker waits; the error carries how long."""
        now = self.clock()
        if error.retry_after_s is not None:
            until = now + error.retry_after_s
        elif error.reset_at is not None:
            until = error.reset_at.timestamp()
        else:
            hits = self.coordinator.incr(f"github:{self.credential}:secondary", window_s=3600)
            until = now + min(SECONDARY_BACKOFF_FIRST_S * 2 ** (hits - 1), SECONDARY_BACKOFF_MAX_S)
        self.coordinator.push_back(self._blocked_key, until)
        error.retry_after_s = max(0.0, until - now)
        return error


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
