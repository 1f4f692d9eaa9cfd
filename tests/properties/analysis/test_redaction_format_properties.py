"""Properties of issue 11's formats: generated tokens and key bodies never survive `redact`,
and redacting them is idempotent."""

from __future__ import annotations

import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ci_remediator.analysis.redaction import redact
from tests.properties.profiles import examples

_ALNUM = string.ascii_letters + string.digits
_B64 = _ALNUM + "+/"
_B64URL = _ALNUM + "_-"


def _chars(alphabet: str, size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=max_size or size)


# Prefixes are split so that no secret scanner takes this file for a leak.
TOKENS = st.one_of(
    st.tuples(_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8, 11), _chars(_ALNUM, 24)).map(
        lambda p: f"https://hooks.slack.com/services/T{p[0]}/B{p[0]}/{p[1]}"
    ),
    _chars(_ALNUM, 36).map(lambda s: "npm_" + s),
    _chars(_B64URL, 27).map(lambda s: "dckr_" + "pat_" + s),
    st.tuples(st.sampled_from(["sk_", "rk_"]), _chars(_ALNUM, 24, 99)).map(
        lambda p: p[0] + "live_" + p[1]
    ),
    _chars(_B64URL, 50, 200).map(lambda s: "pypi-" + "AgEIcHlwaS5vcmc" + s),
)
_FILLER = st.text(alphabet=string.printable, max_size=60)
_PREFIX = st.tuples(_FILLER, st.sampled_from([" ", "\n", "=", ": ", "'", '"', "("])).map("".join)
_SUFFIX = st.tuples(st.sampled_from([" ", "\n", "'", '"', ")", ",", ";"]), _FILLER).map("".join)


@settings(max_examples=examples(300))
@given(prefix=_PREFIX, token=TOKENS, suffix=_SUFFIX)
def test_generated_token_never_survives(prefix: str, token: str, suffix: str) -> None:
    """Property 60 (Redaction): secrets never survive redaction: a token of any known format, in
    any surrounding text."""
    secret = token.rsplit("/", 1)[-1]  # a webhook URL's host and ids may stay
    assume(secret not in prefix + suffix)
    redacted = redact(prefix + token + suffix)
    assert secret not in redacted
    assert redact(redacted) == redacted


@given(key=_chars(_B64, 86), prefix=_PREFIX, suffix=_SUFFIX)
def test_azure_account_key_never_survives(key: str, prefix: str, suffix: str) -> None:
    """Property 60 (Redaction): an Azure storage account key never survives redaction."""
    assume(key not in prefix + suffix)
    text = f"{prefix}DefaultEndpointsProtocol=https;AccountName=ci;AccountKey={key}==;{suffix}"
    redacted = redact(text)
    assert key not in redacted
    assert redact(redacted) == redacted


_KEY_LINE = _chars(_B64, 64).filter(
    lambda line: (
        any(c.isupper() for c in line)
        and any(c.islower() for c in line)
        and any(c.isdigit() for c in line)
    )
)


@settings(max_examples=examples(200))
@given(
    body=st.lists(_KEY_LINE, min_size=4, max_size=12),
    before=st.lists(st.sampled_from(["Done", "ok", "Copying key", "", "step 3"]), max_size=3),
    after=st.lists(st.sampled_from(["Done", "ok", "Cleaning up", "", "step 4"]), max_size=3),
    end=st.booleans(),
)
def test_bare_key_body_never_survives(
    body: list[str], before: list[str], after: list[str], end: bool
) -> None:
    """Property 60 (Redaction): a private key body never survives redaction, framed or bare."""
    lines = [*before, *body, *(["-----END PRIVATE KEY-----"] if end else []), *after]
    redacted = redact("\n".join(lines))
    assert not any(line in redacted for line in body)
    assert redact(redacted) == redacted


# Formats only detect-secrets' plugins know (no pattern of ours): GitLab, Twilio, SendGrid,
# Telegram. Whatever part of the token a plugin reports, none of the token may survive.
_HEX = "0123456789abcdef"
DETECT_SECRETS_TOKENS = st.one_of(
    _chars(_B64URL, 20, 50).map(lambda s: "glpat" + "-" + s),
    _chars(_HEX, 32).map(lambda s: "S" + "K" + s),
    st.tuples(_chars(_B64URL, 22), _chars(_B64URL, 43)).map(lambda p: f"SG.{p[0]}.{p[1]}"),
    st.tuples(st.integers(10**8, 10**10 - 1), _chars(_B64URL, 35)).map(
        lambda p: f"{p[0]}:AA{p[1][2:]}"
    ),
)


@settings(max_examples=examples(200), deadline=None)
@given(prefix=_PREFIX, token=DETECT_SECRETS_TOKENS, suffix=_SUFFIX)
def test_tokens_only_detect_secrets_knows_never_survive(
    prefix: str, token: str, suffix: str
) -> None:
    """Property 60 (Redaction): tokens only detect-secrets' plugins know never survive redaction."""
    assume(token[:12] not in prefix + suffix and token[-12:] not in prefix + suffix)
    redacted = redact(prefix + token + suffix)
    # Not a byte of it left at either end (a plugin that reports part of a token).
    assert token[:12] not in redacted
    assert token[-12:] not in redacted
    assert redact(redacted) == redacted
