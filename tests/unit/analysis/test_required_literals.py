"""The literals a pattern requires, and the screen they are looked for in."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from ci_remediator.analysis.excerpt import build_excerpt
from ci_remediator.analysis.required_literals import (
    ASCII_CASE_LOOKALIKES,
    may_match,
    required_literals,
    screen,
)
from ci_remediator.analysis.rules import KnowledgeBase, load_knowledge_base

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r"Connection reset", {"connection reset"}),
        (r"(?i)ETIMEDOUT", {"etimedout"}),
        (r"(?:Read|Connect) timed out", {" timed out"}),
        (r"(?:Read|Connect)ion", {"read", "connect"}),
        (r"foo\d+barbaz", {"barbaz"}),
        (r"\bexit code 137\b", {"exit code 137"}),
        (r"(?:abc)+x", {"abc"}),
        (r"ERR_(?:PNPM|NPM)_\w+", {"err_"}),
        (r"(ab)\1", {"ab"}),  # the back-reference's text is not read, its group's is
        (r"(?>abc)d", {"abc"}),  # an atomic group's text is required like any group's
        (r"(?:abc|def)xyz", {"xyz"}),  # as long, and one string instead of two
    ],
)
def test_the_strongest_required_strings_are_read_off_the_pattern(pattern, literals):
    assert required_literals(re.compile(pattern)) == literals


def test_the_patterns_own_flags_are_read_with_it():
    # Verbose: the spaces are not part of the pattern; "exitcode" is what a match contains.
    verbose = re.compile(r"exit code \d+", re.VERBOSE)
    assert verbose.search("exitcode137") is not None
    assert required_literals(verbose) == {"exitcode"}


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?:abc)?",  # may match nothing
        r"(?:abc)*\d",
        r"\d+\s+\w+",  # no literal at all
        r"(?=needle)",  # a look-ahead consumes nothing of the match
        r"abc|\d+",  # one alternative requires nothing
    ],
)
def test_a_pattern_that_requires_no_string_is_always_searched(pattern):
    assert required_literals(re.compile(pattern)) is None
    assert may_match(None, screen("anything"))


def test_a_character_outside_ascii_ends_a_literal_run():
    # "\u2716 failed": the mark cannot be compared after lower-casing, so only " failed" is.
    assert required_literals(re.compile("\u2716 failed")) == {" failed"}


def test_the_look_alikes_are_exactly_the_characters_ignorecase_takes_for_ascii_letters():
    everything = "".join(
        chr(c) for c in range(128, sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF
    )
    found = set(re.findall(r"(?i)[a-z]", everything))
    assert found == set(ASCII_CASE_LOOKALIKES)


def test_a_look_alike_turns_the_screen_off():
    pattern = re.compile(r"(?i)killed")
    text = "process \u212aILLED"  # the Kelvin sign, which IGNORECASE reads as k
    assert pattern.search(text) is not None
    assert screen(text) is None
    assert may_match(required_literals(pattern), screen(text))


def test_other_non_ascii_text_is_still_screened():
    assert screen("caf\u00e9 \u2716 FAILED") == "caf\u00e9 \u2716 failed"


def test_ascii_text_is_screened_in_lower_case_whatever_the_pattern_flags():
    assert may_match(required_literals(re.compile("OOMKilled")), screen("pod oomkilled"))
    assert not may_match(required_literals(re.compile("OOMKilled")), screen("pod restarted"))


def _logs() -> list[Path]:
    corpus = sorted((ROOT / "tests" / "corpus" / "cases").rglob("raw.log"))
    shared = sorted((ROOT.parent / "shared" / "fixtures").rglob("*.log"))
    sandbox = sorted((ROOT / "ci_remediator" / "sandbox" / "data" / "logs").glob("*.log"))
    return corpus + shared + sandbox


def test_screening_changes_no_match_on_any_log_we_have():
    """Every shipped rule over every log of the corpus, the shared fixtures and the sandbox,
    whole and as excerpts: the same rules match, on the same lines, with the screen as without."""
    kb = load_knowledge_base()
    unscreened = KnowledgeBase(
        rules=tuple(rule.__class__(**{**_fields(rule), "literals": ()}) for rule in kb.rules)
    )
    logs = _logs()
    assert len(logs) >= 90
    skipped_somewhere = False
    for log in logs:
        raw = log.read_bytes().decode("utf-8", errors="replace")
        for text in (build_excerpt(raw), raw[-200_000:]):
            expected = [(m.rule.id, m.line) for m in unscreened.matches(text)]
            assert [(m.rule.id, m.line) for m in kb.matches(text)] == expected, log
            screened = screen(text)
            skipped_somewhere |= any(
                not may_match(literal, screened) for rule in kb.rules for literal in rule.literals
            )
    assert skipped_somewhere  # the screen did skip patterns, so the comparison means something


def _fields(rule: object) -> dict[str, object]:
    return {name: getattr(rule, name) for name in rule.__slots__}  # type: ignore[attr-defined]
