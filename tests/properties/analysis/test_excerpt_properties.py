"""Properties of the excerpt: the budget holds, the failing step's first error survives, and
streaming a file in blocks of any size gives what the whole text gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ci_remediator.analysis.excerpt import build_excerpt, clean_line, excerpt_file

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


_LOG_LINE = st.one_of(
    _NOISY_LINE,
    st.just("##[group]Run pytest -q"),
    st.just("Post job cleanup."),
    st.just("##[error]Process completed with exit code 1."),
    _TEXT.map(lambda t: f"src/app.go:12:3: {t}"),
    _TEXT.map(lambda t: f"\x1b[31m{t}\x1b[0m"),
    st.just("    at Object.<anonymous> (src/a.test.ts:3:5)"),
    st.just("--- FAIL: TestParse (0.00s)"),
)


@settings(max_examples=120, deadline=None)
@given(
    lines=st.lists(_LOG_LINE, min_size=1, max_size=120),
    block_bytes=st.integers(min_value=1, max_value=2_000),
    budget=st.integers(min_value=200, max_value=3_000),
    crlf=st.booleans(),
)
def test_streaming_a_file_in_any_blocks_gives_the_in_memory_excerpt(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    block_bytes: int,
    budget: int,
    crlf: bool,
) -> None:
    text = "\ufeff" + "\n".join(lines) + "\n"
    path = tmp_path_factory.mktemp("log") / "job.log"
    path.write_bytes(text.replace("\n", "\r\n" if crlf else "\n").encode("utf-8"))

    streamed = excerpt_file(path, budget_chars=budget, block_bytes=block_bytes)

    assert streamed == build_excerpt(text, budget_chars=budget)
