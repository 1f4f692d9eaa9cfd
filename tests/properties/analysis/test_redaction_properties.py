"""Properties of `redact`: generated secrets never survive, and redaction is idempotent."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from ci_remediator.analysis.redaction import redact
from tests.properties.profiles import examples

_ALNUM = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits
_B64URL = _ALNUM + "_-"


def _chars(alphabet: str, size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=max_size or size)


TOKENS = st.one_of(
    st.tuples(st.sampled_from(["ghp_", "gho_", "ghs_", "ghu_", "ghr_"]), _chars(_ALNUM, 36)).map(
        "".join
    ),
    _chars(_ALNUM + "_", 60, 82).map(lambda s: "github_pat_" + s),
    st.tuples(
        st.sampled_from(["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-"]),
        _chars(_ALNUM + "-", 20, 60),
    ).map("".join),
    st.tuples(st.sampled_from(["sk-", "sk-proj-"]), _chars(_ALNUM, 40, 60)).map("".join),
    st.tuples(st.sampled_from(["AKIA", "ASIA"]), _chars(_UPPER_ALNUM, 16)).map("".join),
    _chars(_B64URL, 35).map(lambda s: "AIza" + s),
    st.tuples(_chars(_B64URL, 10, 40), _chars(_B64URL, 10, 80), _chars(_B64URL, 10, 43)).map(
        lambda p: f"eyJ{p[0]}.eyJ{p[1]}.{p[2]}"
    ),
)

# Surrounding text ends in a separator so that the token starts at a token boundary, as it does
# in real logs (a token glued onto a longer identifier is not the same token).
_FILLER = st.text(alphabet=string.printable, max_size=60)
_PREFIX = st.tuples(_FILLER, st.sampled_from([" ", "\n", "=", ": ", "'", '"', "(", "/"])).map(
    "".join
)
_SUFFIX = st.tuples(st.sampled_from([" ", "\n", "'", '"', ")", ",", ";"]), _FILLER).map("".join)


@settings(max_examples=examples(300))
@given(prefix=_PREFIX, token=TOKENS, suffix=_SUFFIX)
def test_generated_token_never_survives(prefix: str, token: str, suffix: str) -> None:
    """Property 60 (Redaction): a generated token with a known prefix never survives redaction."""
    redacted = redact(prefix + token + suffix)
    assert token not in redacted
    assert "[REDACTED:" in redacted


_PAIR_NAMES = st.sampled_from(
    ["password", "DB_PASSWORD", "passwd", "token", "api_key", "client_secret", "secret"]
)
_PAIR_VALUES = _chars(_ALNUM + "!#$%*+-./@^_~", 8, 40)


@settings(max_examples=examples(200))
@given(
    prefix=_PREFIX,
    name=_PAIR_NAMES,
    separator=st.sampled_from(["=", ": ", " = ", ":"]),
    quote=st.sampled_from(["", '"', "'"]),
    value=_PAIR_VALUES,
    suffix=_SUFFIX,
)
def test_secret_pair_value_never_survives(
    *, prefix: str, name: str, separator: str, quote: str, value: str, suffix: str
) -> None:
    """Property 60 (Redaction): the value of any secret-named pair (name=value, name: value, quoted
    or not) never survives redaction."""
    redacted = redact(f"{prefix}{name}{separator}{quote}{value}{quote}{suffix}")
    assert f"{separator}{quote}{value}" not in redacted


@given(text=st.text(max_size=300), token=TOKENS)
def test_redact_is_idempotent(text: str, token: str) -> None:
    """Property 70 (Redaction): redaction is idempotent: redacting redacted text changes nothing."""
    once = redact(text + " " + token + " " + text)
    assert redact(once) == once
    assert redact(redact(text)) == redact(text)


# Lower-case words, digits and plain punctuation: nothing here is shaped like a secret (no
# upper-case key prefixes, no "_" or "-" token bodies, no "=", ":" or "@" separators).
_HARMLESS = st.text(alphabet=string.ascii_lowercase + string.digits + " .,()[]\n\t", max_size=400)


@given(text=_HARMLESS)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    """Property 71 (Redaction): text without secrets passes redaction unchanged."""
    assert redact(text) == text


@given(
    sha=_chars("0123456789abcdef", 40),
    words=st.lists(st.sampled_from(["token", "secret", "key", "commit"]), max_size=6),
)
def test_commit_hashes_and_prose_are_unchanged(sha: str, words: list[str]) -> None:
    """Property 71 (Redaction): commit hashes and prose are never taken for secrets."""
    text = f"HEAD is now at {sha} " + " ".join(words)
    assert redact(text) == text
