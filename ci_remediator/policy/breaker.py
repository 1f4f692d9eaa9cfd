"""The circuit breaker's rule: pure, over the outcomes of the latest automatic remediations."""

from __future__ import annotations

from collections.abc import Sequence


def breaker_is_open(outcomes: Sequence[bool], *, window: int, min_success_rate: float) -> bool:
    """Open when the newest `window` automatic outcomes (True = fixed it) succeed less often
    than `min_success_rate`. Fewer outcomes than the window never open it: two bad reruns on
    a new installation are not a collapse."""
    recent = list(outcomes[:window])
    if len(recent) < window:
        return False
    return sum(recent) / len(recent) < min_success_rate
