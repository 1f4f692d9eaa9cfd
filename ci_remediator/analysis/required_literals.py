"""What every match of a pattern must contain: a test that skips patterns which cannot match.

The rules analyzer searches the excerpt with every pattern of the knowledge base (about 250),
and most of them find nothing. `required_literals` reads a shipped pattern's parse tree
(Python's own parser) for a set of strings at least one of which every match contains, so a
text containing none of them is not searched. This never changes a result: the strings are a
necessary condition, and anything the reading does not understand yields None ("search
anyway"). Only ASCII characters count, compared in lower case on `screen(text)`, which is
None (search everything) when the text holds a character that Python's IGNORECASE takes for an
ASCII letter (`ASCII_CASE_LOOKALIKES`). User patterns are RE2's, whose syntax Python's parser
reads differently (`[[:alpha:]]`), so they are always searched.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

# re's own parser and its opcodes (Python 3.11+; typeshed has no stubs for them). A tree the
# reading does not recognise yields None (search anyway); the unit tests fail on a Python whose
# parser reads patterns differently.
_parser: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

Literals = frozenset[str]

# Non-ASCII characters that re's IGNORECASE matches with an ASCII letter (Python 3.11: the
# dotted capital I, the dotless i, the long s, the Kelvin sign). A unit test recomputes the
# set from `re` itself, so a Python whose table differs fails it.
ASCII_CASE_LOOKALIKES = "\u0130\u0131\u017f\u212a"
_LOOKALIKE = re.compile(f"[{ASCII_CASE_LOOKALIKES}]")

_REPEATS = frozenset({sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT})


def required_literals(pattern: re.Pattern[str]) -> Literals | None:
    """Lower-case strings one of which every match of `pattern` contains, or None."""
    try:
        return _sequence(_parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # noqa: BLE001 - an unreadable tree only means "always search"
        return None


def screen(text: str) -> str | None:
    """The text the literals are looked for in, or None when they may not be used on it."""
    if not text.isascii() and _LOOKALIKE.search(text):
        return None
    return text.lower()


def may_match(literals: Literals | None, screened: str | None) -> bool:
    if literals is None or screened is None:
        return True
    return any(literal in screened for literal in literals)


def _sequence(items: Sequence[tuple[Any, Any]]) -> Literals | None:
    """Items match one after another: any one item's literals, or a run of literal
    characters, are required. The candidate whose shortest string is longest wins."""
    best: Literals | None = None
    run: list[str] = []

    def consider(candidate: Literals | None) -> None:
        nonlocal best
        if candidate and (best is None or _strength(candidate) > _strength(best)):
            best = candidate

    for op, value in items:
        if op is sre.LITERAL and value < 128:
            run.append(chr(value).lower())
            continue
        # Anything else ends the run, zero-width or not (so a run is always contiguous text).
        if run:
            consider(frozenset({"".join(run)}))
            run = []
        if op is sre.SUBPATTERN:
            consider(_sequence(value[-1]))
        elif op is sre.ATOMIC_GROUP:
            consider(_sequence(value))
        elif op is sre.BRANCH:
            consider(_branch(value[1]))
        elif op in _REPEATS and value[0] >= 1:
            consider(_sequence(value[2]))
        # Classes, any character, anchors, look-arounds, back-references: nothing required.
    if run:
        consider(frozenset({"".join(run)}))
    return best


def _branch(alternatives: Sequence[Sequence[tuple[Any, Any]]]) -> Literals | None:
    """A match is one alternative's: each must require something, and any of that will do."""
    required: set[str] = set()
    for alternative in alternatives:
        literals = _sequence(alternative)
        if literals is None:
            return None
        required |= literals
    return frozenset(required)


def _strength(literals: Literals) -> tuple[int, int]:
    return min(len(literal) for literal in literals), -len(literals)
