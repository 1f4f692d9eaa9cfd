"""Properties of the excerpt: the budget holds, the failing step's first error survives, and
streaming a file in blocks of any size gives what the whole text gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ci_remediator.analysis.excerpt import build_excerpt, clean_line, excerpt_file
from ci_remediator.analysis.redaction import redact
from tests.properties.profiles import examples

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


@settings(max_examples=examples(150), deadline=None)
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
    """Property 73 (Excerpt): for any log the excerpt stays within its budget and keeps the first
    error line."""
    error_line = f"##[error]{error}"
    lines = ["##[group]Run make test", "##[endgroup]", *before, error_line, *after]
    if stamped:
        lines = [f"2024-01-02T03:04:05.0000000Z {line}" for line in lines]
    excerpt = build_excerpt("\ufeff" + "\n".join(lines), budget_chars=budget)
    assert len(excerpt) <= budget
    wanted = clean_line(error_line)
    # What locates the failure gets the half of the budget the tail does not (less room for
    # one omission marker): there, room for the step header, the line and two markers.
    located = len("== step: make test ==") + len(wanted) + 2 + 2 * 40
    if budget - budget // 2 - 40 >= located:
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


@settings(max_examples=examples(120), deadline=None)
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
    """Property 74 (Excerpt): streaming a log in blocks of any sizes gives exactly the in-memory
    excerpt."""
    text = "\ufeff" + "\n".join(lines) + "\n"
    path = tmp_path_factory.mktemp("log") / "job.log"
    path.write_bytes(text.replace("\n", "\r\n" if crlf else "\n").encode("utf-8"))

    streamed = excerpt_file(path, budget_chars=budget, block_bytes=block_bytes)

    assert streamed == build_excerpt(text, budget_chars=budget)


# ------------------------------------------------------------- never worse than tail ----

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ./-_()[]", max_size=90)
_STEP_LINE = st.one_of(
    _WORD,
    _WORD.map(lambda t: f"error: {t}"),
    _WORD.map(lambda t: f"FAILED tests/test_x.py::t - {t}"),
    _WORD.map(lambda t: f"src/app.go:12:3: {t}"),
    _WORD.map(lambda t: f"\x1b[31m{t}\x1b[0m"),
    _WORD.map(lambda t: f"^[[32m{t}^[[0m"),
    _WORD.map(lambda t: f"tests/test_{t}.py ........ [ 40%]"),
    st.just("Traceback (most recent call last):"),
    st.just(""),
    st.just("x" * 600),
)


def _half_budget_tail(lines: list[str], budget: int) -> list[str]:
    """The cleaned lines a character tail of half the budget holds, oldest first."""
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        cleaned = clean_line(line)
        used += len(cleaned) + 1
        if used > budget // 2:
            break
        kept.append(cleaned)
    return kept[::-1]


@settings(max_examples=examples(150), deadline=None)
@given(
    earlier=st.lists(st.lists(_STEP_LINE, max_size=30), max_size=3),
    failing=st.lists(_STEP_LINE, min_size=1, max_size=200),
    budget=st.integers(min_value=300, max_value=6_000),
    stamped=st.booleans(),
    with_steps=st.booleans(),
)
def test_the_failing_steps_half_budget_tail_is_always_kept(
    earlier: list[list[str]], failing: list[str], budget: int, stamped: bool, with_steps: bool
) -> None:
    """Property 68 (Excerpt): the excerpt keeps at least what a same-budget tail keeps: every line
    a character tail of half the budget holds of the failing step.

    Whatever the signals, every line a character tail of half the budget would keep of
    the failing step (of the whole log, without step markers) is in the excerpt."""
    failing = [*failing, "##[error]Process completed with exit code 1."]
    if with_steps:
        lines: list[str] = ["Current runner version: '2.333.1'"]
        for number, body in enumerate(earlier):
            lines += [f"##[group]Run ./step{number}.sh", "##[endgroup]", *body]
        lines += ["##[group]Run make test", "make test", "shell: /usr/bin/bash -e {0}"]
        lines += ["##[endgroup]", *failing, "Post job cleanup.", "Cleaning up orphan processes"]
    else:
        lines = [line for body in earlier for line in body] + failing
    if stamped:
        lines = [f"2024-01-02T03:04:05.0000000Z {line}" for line in lines]
    tail = failing if with_steps else lines

    excerpt = build_excerpt("\ufeff" + "\n".join(lines) + "\n", budget_chars=budget)

    shown = set(excerpt.split("\n"))
    assert len(excerpt) <= budget
    for line in _half_budget_tail(tail, budget):
        assert redact(line) in shown, line
