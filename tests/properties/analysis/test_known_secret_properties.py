"""Properties of the known-secret registry: a registered value never survives `redact`,
wherever it sits in the text, and `redact` stays idempotent with values registered."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from ci_remediator.analysis import redaction
from ci_remediator.analysis.redaction import MIN_KNOWN_SECRET_CHARS, redact
from tests.properties.profiles import examples

# Values shaped like webhook and signing secrets (no prefix, any printable character but the
# "[" a marker starts with, which `register_known_secrets` may refuse).
_VALUE_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@^_{|}~"
_VALUES = st.text(alphabet=_VALUE_ALPHABET, min_size=MIN_KNOWN_SECRET_CHARS, max_size=48).filter(
    lambda value: value == value.strip()
)
_TEXT = st.text(alphabet=string.printable, max_size=120)
_MARKER = re.compile(r"\[REDACTED:[a-z0-9_]+\]")


def _registered(values: list[str]) -> redaction._KnownSecrets:
    """A registry holding exactly `values`, leaving the process's own untouched."""
    saved = redaction._known
    try:
        redaction._known = redaction._KnownSecrets()
        redaction.register_known_secrets(values)
        return redaction._known
    finally:
        redaction._known = saved


@settings(max_examples=examples(300))
@given(
    values=st.lists(_VALUES, min_size=1, max_size=3),
    pieces=st.lists(_TEXT, min_size=1, max_size=4),
    where=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=4),
)
def test_registered_value_never_survives_and_redact_is_idempotent(
    values: list[str], pieces: list[str], where: list[int]
) -> None:
    """Property 72 (Redaction): a configured secret value (token, URL password) never survives
    redaction in any surrounding text."""
    registry = _registered(values)
    # The values glued anywhere into arbitrary text: between pieces, inside words, repeated.
    text = pieces[0]
    for index, piece in enumerate([*pieces[1:], ""]):
        text += values[where[index % len(where)] % len(values)] + piece
    saved = redaction._known
    redaction._known = registry
    try:
        once = redact(text)
        # Outside the markers: a value may be spelt inside one ("known_se" in a marker's kind).
        outside = _MARKER.sub("\x00", once)
        for value in values:
            assert value not in outside
        assert redact(once) == once
    finally:
        redaction._known = saved
