"""Properties of the excerpt: the budget holds and the failing step's first error survives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ci_remediator.analysis.excerpt import build_excerpt, clean_line

_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="\x7f"),
    max_size=120,
)
_NOISY_LINE = st.one_of(
    _TEXT,
    _TEXT.map(lambda t: f"error: {t}"),
    _TEXT.map(lambda t: f"E       {t}"),
    _TEXT.map(lambda t: f"FAILED tests/test_x.py::t - {t}"),
    _TEXT.map(lambda t: f"##[warning]{t}"),
    st.just("Traceback (most recent call last):"),
    st.just("##[endgroup]"),
)


@settings(max_examples=150, deadline=None)
@given(
    before=st.lists(_NOISY_LINE, max_size=40),
    error=st.text(alphabet="abcdefghij klmnop:/.0123456789", min_size=1, max_size=80),
    after=st.lists(_NOISY_LINE, max_size=40),
    budget=st.integers(min_value=1, max_value=4_000),
    stamped=st.booleans(),
)
def test_budget_holds_and_first_error_survives(
    before: list[str], error: str, after: list[str], budget: int, stamped: bool
) -> None:
    error_line = f"##[error]{error}"
    lines = ["##[group]Run make test", "##[endgroup]", *before, error_line, *after]
    if stamped:
        lines = [f"2024-01-02T03:04:05.0000000Z {line}" for line in lines]
    excerpt = build_excerpt("\ufeff" + "\n".join(lines), budget_chars=budget)
    assert len(excerpt) <= budget
    wanted = clean_line(error_line)
    # Room for the step header, the line and two omission markers.
    if budget >= len("== step: make test ==") + len(wanted) + 2 + 2 * 40:
        assert wanted in excerpt.split("\n")
