"""When each poll of a cycle starts: pure arithmetic over the request cap and the interval."""

from __future__ import annotations

# Polls of one cycle start within at most this share of the polling interval, leaving the rest
# for slow answers and retries before the next beat.
POLL_SPREAD_FRACTION = 0.5


def poll_start_offsets(count: int, *, interval_s: float, max_per_minute: int) -> list[float]:
    """When each of `count` polls should start, in seconds from the beat.

    Spread evenly over the time the request cap needs for one request per repository (so a
    thousand repositories make a steady trickle, not a burst the pacing would queue up), but
    never over more than half the interval, and not at all for a handful.
    """
    if count <= 0:
        return []
    spread_s = min(count * 60.0 / max_per_minute, interval_s * POLL_SPREAD_FRACTION)
    return [index * spread_s / count for index in range(count)]
