"""How a poll cycle's starts are spread."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ci_remediator.policy.poll_schedule import poll_start_offsets


def test_a_handful_of_repositories_start_almost_at_once() -> None:
    offsets = poll_start_offsets(2, interval_s=300, max_per_minute=600)

    assert offsets == pytest.approx([0.0, 0.1])


def test_a_thousand_repositories_trickle_at_the_cap() -> None:
    offsets = poll_start_offsets(1000, interval_s=300, max_per_minute=600)

    assert offsets[-1] == pytest.approx(99.9)  # 1,000 requests at 10/s


@given(
    count=st.integers(min_value=0, max_value=5000),
    interval_s=st.floats(min_value=1, max_value=3600),
    cap=st.integers(min_value=1, max_value=5000),
)
def test_starts_are_ordered_and_within_half_the_interval(
    count: int, interval_s: float, cap: int
) -> None:
    offsets = poll_start_offsets(count, interval_s=interval_s, max_per_minute=cap)

    assert len(offsets) == count
    assert offsets == sorted(offsets)
    assert all(0 <= offset <= interval_s / 2 for offset in offsets)
    # Never faster than the cap allows, unless half the interval is too short for that.
    if count > 1 and count * 60 / cap <= interval_s / 2:
        assert offsets[1] - offsets[0] == pytest.approx(60 / cap)
