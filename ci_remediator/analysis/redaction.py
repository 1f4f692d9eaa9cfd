"""Secret redaction for untrusted log text (DESIGN.md sections 6 and 11).

Everything that leaves the analyzer (stored excerpts, LLM prompts, Slack posts) goes through
`redact` first. Patterns are compiled once, use only bounded or single-pass quantifiers (no
nested unbounded repetition, so no catastrophic backtracking) and are applied in a fixed order:
specific token formats first, then headers and URLs, then generic `key=value` pairs. Replacement
markers never match any pattern again, which is what makes `redact` idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MARKER_PREFIX = "[REDACTED:"


def marker(kind: str) -> str:
    return f"{MARKER_PREFIX}{kind}]"


# Token formats with a recognisable prefix. The look-behinds stop a match from starting in the
# middle of a longer identifier (e.g. "task-..." must not look like an OpenAI "sk-" key).
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    # A bounded lazy body: an END marker is normally close; a truncated block (no END within
    # reach) is still redacted up to the end of its base64-looking body.
    r"(?:[\s\S]{0,20000}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"|[A-Za-z0-9+/=\s:,.-]{0,20000})"
)
_GITHUB_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})"
)
_SLACK_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])(?:xox[abprse]|xapp)-[A-Za-z0-9-]{10,255}")
_OPENAI_KEY = re.compile(r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,255}")
_AWS_ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])")
_AWS_SECRET_KEY = re.compile(
    r"(?i)(aws_?secret_?access_?key[\"']?[ \t]{0,5}[=:][ \t]{0,5}[\"']?)"
    r"(?!\[REDACTED)[A-Za-z0-9/+=]{20,80}"
)
_GOOGLE_API_KEY = re.compile(r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,8192}\.[A-Za-z0-9_-]{0,4096}"
)

# Headers and URLs: keep the part that tells a reader what it was, drop the credential.
_AUTH_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?[ \t]{0,5}[:=][ \t]{0,5}[\"']?"
    r"(?:bearer|basic|token|bot|digest)[ \t]{1,5})"
    r"(?!\[REDACTED)[A-Za-z0-9._~+/=:-]{1,4096}"
)
_BARE_BEARER = re.compile(r"(\bBearer[ \t]{1,5})(?!\[REDACTED)[A-Za-z0-9._~+/-]{16,4096}=*")
_URL_CREDENTIALS = re.compile(
    r"(\b[A-Za-z][A-Za-z0-9+.-]{1,20}://)[^\s/@:\"'<>]{1,256}(?::[^\s/@\"'<>]{0,256})?@"
)

# Generic `name=value`, `name: value`, `"name": "value"` pairs whose name says it is a secret.
# Name parts are bounded so that scanning a long identifier stays linear.
_SENSITIVE_NAME = (
    r"(?:[A-Za-z0-9]{1,40}[_.-]){0,4}"
    r"(?:password|passwd|passphrase|token|secret|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|credentials?)"
    r"(?:[_.-][A-Za-z0-9]{1,40}){0,2}"
)
_SECRET_PAIR = re.compile(
    rf"(?i)(?<![A-Za-z0-9])({_SENSITIVE_NAME}[\"']?[ \t]{{0,5}}[=:][ \t]{{0,5}})"
    r"(?![\"']?\[REDACTED)"
    r"(\"[^\"\r\n]{3,500}\"|'[^'\r\n]{3,500}'|[^\s\"',;&)\]}]{3,500})"
)


def _replace_all(pattern: re.Pattern[str], kind: str) -> Callable[[str], str]:
    return lambda text: pattern.sub(marker(kind), text)


def _keep_prefix(pattern: re.Pattern[str], kind: str) -> Callable[[str], str]:
    return lambda text: pattern.sub(lambda m: m.group(1) + marker(kind), text)


def _redact_pair(match: re.Match[str]) -> str:
    value = match.group(2)
    if value == "***":  # already masked by the GitHub runner; nothing left to hide
        return match.group(0)
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match.group(1)}{quote}{marker('credential')}{quote}"


_STEPS: tuple[Callable[[str], str], ...] = (
    _replace_all(_PRIVATE_KEY, "private_key"),
    _replace_all(_GITHUB_TOKEN, "github_token"),
    _replace_all(_SLACK_TOKEN, "slack_token"),
    _replace_all(_OPENAI_KEY, "openai_key"),
    _replace_all(_AWS_ACCESS_KEY_ID, "aws_access_key_id"),
    _keep_prefix(_AWS_SECRET_KEY, "aws_secret_access_key"),
    _replace_all(_GOOGLE_API_KEY, "google_api_key"),
    _replace_all(_JWT, "jwt"),
    _keep_prefix(_AUTH_HEADER, "authorization"),
    _keep_prefix(_BARE_BEARER, "bearer_token"),
    lambda text: _URL_CREDENTIALS.sub(lambda m: m.group(1) + marker("url_credentials") + "@", text),
    lambda text: _SECRET_PAIR.sub(_redact_pair, text),
)


def redact(text: str) -> str:
    """Replace every secret-shaped substring of `text` with `[REDACTED:<kind>]`."""
    for step in _STEPS:
        text = step(text)
    return text
