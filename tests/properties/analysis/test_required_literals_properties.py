"""Property of the rules analyzer's screen: a pattern skipped for lacking its required literals
could not have matched. Texts come from Hypothesis's own generator of strings that contain a
match of a given regex (cases swapped under IGNORECASE), with ASCII case look-alikes and other
non-ASCII characters spliced in.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ci_remediator.analysis.required_literals import (
    ASCII_CASE_LOOKALIKES,
    may_match,
    required_literals,
    screen,
)
from ci_remediator.analysis.rules import load_knowledge_base

SHIPPED = tuple(
    pattern
    for rule in load_knowledge_base().rules
    for pattern in rule.patterns
    if isinstance(pattern, re.Pattern)
)
LOOKALIKE_SWAPS = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a"}


@st.composite
def pattern_and_text(draw: st.DrawFn) -> tuple[re.Pattern[str], str]:
    pattern = draw(st.sampled_from(SHIPPED))
    text = draw(st.from_regex(pattern))
    if draw(st.booleans()):  # a look-alike where IGNORECASE would accept it
        chars = list(text)
        for index, char in enumerate(chars):
            swaps = LOOKALIKE_SWAPS.get(char.lower())
            if swaps and draw(st.booleans()):
                chars[index] = draw(st.sampled_from(swaps))
        text = "".join(chars)
    noise = draw(st.text(alphabet=ASCII_CASE_LOOKALIKES + "\u2716\u25cf\u00e9 é", max_size=3))
    return pattern, noise + text if draw(st.booleans()) else text + noise


@settings(max_examples=1500, deadline=None)
@given(pattern_and_text())
def test_a_pattern_is_skipped_only_where_it_cannot_match(case: tuple[re.Pattern[str], str]):
    """Property 77 (Analysis): for every shipped pattern and any text, the rules analyzer skips
    the pattern (none of its required literals in the screened text) only where the pattern has
    no match, so skipping never changes a classification."""
    pattern, text = case
    if pattern.search(text) is not None:
        assert may_match(required_literals(pattern), screen(text)), (pattern.pattern, text)
