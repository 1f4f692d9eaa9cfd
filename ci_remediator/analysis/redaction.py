"""Secret redaction for untrusted log text (DESIGN.md sections 6 and 11).

Everything that leaves the analyzer (stored excerpts, LLM prompts, Slack posts) goes through
`redact` first. Patterns are compiled once, use only bounded or single-pass quantifiers (no
nested unbounded repetition, so no catastrophic backtracking) and are applied in a fixed order:
the exact values of the secrets this process holds (`register_known_secrets`), then specific
token formats, then headers and URLs, then generic `key=value` pairs, then the format plugins
of Yelp's detect-secrets (`_detect_secrets`): a well-kept catalogue that catches what our own
patterns do not know yet. Replacement markers never match any pattern again, which is what
makes `redact` idempotent.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import BasePlugin

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

# A bare key body: the log was cut (the excerpt's tail fallback keeps the last lines only) or
# redacted line by line, so the BEGIN line is gone or already a marker and the body is left.
# Rule: 4 or more consecutive lines, each exactly 64 (PEM, RFC 7468) or 70 (OpenSSH) base64
# characters holding an upper-case letter, a lower-case letter and a digit, plus the short last
# line and an END line if present. Hex digests (sha256: 64 hex characters, a single case) never
# qualify, nor do base64 digests (44 or 88 characters, `sha512-...` prefixed) or a lone long
# base64 line a test prints; a public certificate body would, which costs a diagnosis nothing.
_KEY_LINE_CLASSES = r"(?=[^\n]{0,90}[A-Z])(?=[^\n]{0,90}[a-z])(?=[^\n]{0,90}[0-9])"
_KEY_FULL_LINE = (
    rf"[ \t]{{0,16}}{_KEY_LINE_CLASSES}(?:[A-Za-z0-9+/]{{70}}|[A-Za-z0-9+/]{{64}})[ \t]{{0,16}}\r?$"
)
_KEY_LAST_LINE = (
    r"[ \t]{0,16}(?:[A-Za-z0-9+/]{1,69}={1,2}"
    rf"|{_KEY_LINE_CLASSES}[A-Za-z0-9+/]{{1,69}})[ \t]{{0,16}}\r?$"
)
_KEY_END_LINE = r"[ \t]{0,16}-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[ \t]{0,16}\r?$"
_BARE_KEY_BODY = re.compile(
    rf"(?m)^{_KEY_FULL_LINE}(?:\n{_KEY_FULL_LINE}){{3,}}"
    rf"(?:\n{_KEY_LAST_LINE})?(?:\n{_KEY_END_LINE})?"
)
# A piece of a body: 16 to 76 base64 characters with the three classes, or any base64 line
# ending in "=" padding; `_KEY_SHORT_LINE` is a last line of fewer than 16.
_KEY_PIECE_LINE = (
    r"[ \t]{0,16}(?:[A-Za-z0-9+/]{1,76}={1,2}"
    rf"|{_KEY_LINE_CLASSES}[A-Za-z0-9+/]{{16,76}})[ \t]{{0,16}}\r?$"
)
_KEY_SHORT_LINE = rf"[ \t]{{0,16}}{_KEY_LINE_CLASSES}[A-Za-z0-9+/]{{1,15}}[ \t]{{0,16}}\r?$"
# The last few lines of a body just above its END line, when the cut fell inside the body.
# At most 6 pieces: longer runs of 64/70-character lines are `_BARE_KEY_BODY`'s.
_KEY_BODY_BEFORE_END = re.compile(
    rf"(?m)^(?:(?:{_KEY_PIECE_LINE}\n){{1,6}}(?:{_KEY_SHORT_LINE}\n)?|{_KEY_SHORT_LINE}\n)"
    rf"{_KEY_END_LINE}"
)
# What is left of a block after its BEGIN line became a marker on its own (text redacted line
# by line, then joined): pieces, END lines and further key markers right below the marker join
# it. Unbounded but linear: every repetition starts at a newline.
_KEY_BODY_AFTER_MARKER = re.compile(
    r"(?m)\[REDACTED:private_key\](?:[ \t]{0,16}\r?\n(?:"
    rf"{_KEY_PIECE_LINE}|{_KEY_END_LINE}"
    r"|[ \t]{0,16}\[REDACTED:private_key\][ \t]{0,16}\r?$))+"
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
# Incoming webhooks (services/T<team>/B<bot>/<24-char secret>) and workflow triggers: the URL
# is the credential. The host stays, so a reader still sees that Slack was called.
_SLACK_WEBHOOK = re.compile(
    r"(\bhooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/+-]{16,300}"
)
# npm granular and automation tokens: "npm_" + 36 base62 characters (30 random + a 6-character
# checksum, npm's 2021 token format; gitleaks' npm-access-token rule).
_NPM_TOKEN = re.compile(r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36,64}(?![A-Za-z0-9_])")
# `.npmrc` credentials for any registry: `//registry.npmjs.org/:_authToken=<token>` (a legacy
# token is a bare UUID, so the line is the only clue), `:_auth=` (base64 user:password) and
# `:_password=`. `${NPM_TOKEN}` references and the runner's `***` are not secrets and are kept.
_NPMRC_CREDENTIAL = re.compile(
    r"(//[A-Za-z0-9.-]{1,253}(?::\d{1,5})?(?:/[^\s:\"'=]{0,200})?:_(?:authToken|auth|password)"
    r"[ \t]{0,5}=[ \t]{0,5})(?!\$\{|\[REDACTED|\*\*\*)[^\s\"']{1,500}"
)
# Docker Hub personal access tokens: "dckr_pat_" + 27 base64url characters (the format Docker
# Hub issues; SonarSource's and leaktk's Docker rules). A little slack on the length.
_DOCKER_PAT = re.compile(r"(?<![A-Za-z0-9_-])dckr_pat_[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])")
# Stripe live secret and restricted keys: sk_live_/rk_live_ + 24 or more base62 characters (the
# newer ones run past 100; Stripe's API key docs, gitleaks' stripe-access-token rule).
_STRIPE_KEY = re.compile(r"(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{24,247}(?![A-Za-z0-9_])")
# Azure Storage account keys are 64 random bytes, 88 base64 characters ending "==", and appear
# as `AccountKey=...` in connection strings (`DefaultEndpointsProtocol=https;AccountName=...;
# AccountKey=...;EndpointSuffix=...`). Any base64 value of that field goes (Microsoft's
# connection-string docs; detect-secrets' AzureStorageKeyDetector); `;` ends it.
_AZURE_ACCOUNT_KEY = re.compile(
    r"(?i)(\bAccountKey[ \t]{0,5}=[ \t]{0,5})(?!\[REDACTED)[A-Za-z0-9+/]{20,200}={0,2}"
)
# PyPI API tokens are macaroons: "pypi-" + base64url of a binary that always starts with the
# location "pypi.org" (test.pypi.org for TestPyPI), hence the fixed "AgEIcHlwaS5vcmc" /
# "AgENdGVzdC5weXBpLm9yZw" heads (warehouse's token-scanning docs; detect-secrets' PypiToken).
_PYPI_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,8192}"
)
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


def _redact_npmrc(match: re.Match[str]) -> str:
    return match.group(1) + marker("npm_token")


_STEPS: tuple[Callable[[str], str], ...] = (
    _replace_all(_PRIVATE_KEY, "private_key"),
    # Before the marker continuation, so that lines left below a bare body's marker join it
    # in the same pass (a second pass must find nothing left to do).
    _replace_all(_BARE_KEY_BODY, "private_key"),
    _replace_all(_KEY_BODY_BEFORE_END, "private_key"),
    _replace_all(_KEY_BODY_AFTER_MARKER, "private_key"),
    _replace_all(_GITHUB_TOKEN, "github_token"),
    _replace_all(_SLACK_TOKEN, "slack_token"),
    _replace_all(_OPENAI_KEY, "openai_key"),
    _replace_all(_AWS_ACCESS_KEY_ID, "aws_access_key_id"),
    _keep_prefix(_AWS_SECRET_KEY, "aws_secret_access_key"),
    _replace_all(_GOOGLE_API_KEY, "google_api_key"),
    _keep_prefix(_SLACK_WEBHOOK, "slack_webhook"),
    _replace_all(_NPM_TOKEN, "npm_token"),
    lambda text: _NPMRC_CREDENTIAL.sub(_redact_npmrc, text),
    _replace_all(_DOCKER_PAT, "docker_pat"),
    _replace_all(_STRIPE_KEY, "stripe_key"),
    _keep_prefix(_AZURE_ACCOUNT_KEY, "azure_storage_key"),
    _replace_all(_PYPI_TOKEN, "pypi_token"),
    _replace_all(_JWT, "jwt"),
    _keep_prefix(_AUTH_HEADER, "authorization"),
    _keep_prefix(_BARE_BEARER, "bearer_token"),
    lambda text: _URL_CREDENTIALS.sub(lambda m: m.group(1) + marker("url_credentials") + "@", text),
    lambda text: _SECRET_PAIR.sub(_redact_pair, text),
)


# ------------------------------------------------------------------- known secrets ----

# Secrets the process itself holds (webhook and signing secrets, API keys, the GitHub App key)
# have no recognisable shape, so their exact values are looked for. Shorter values would hit
# ordinary words; a value overlapping a marker could make a second pass change the text.
MIN_KNOWN_SECRET_CHARS = 8
_KNOWN_KIND = "known_secret"
_ANY_MARKER = r"\[REDACTED:[a-z0-9_]{1,40}\]"


@dataclass(frozen=True, slots=True)
class _KnownSecrets:
    values: frozenset[str] = frozenset()
    # Markers are matched too (and kept): a value that only occurs inside one is left alone.
    pattern: re.Pattern[str] | None = None


_known = _KnownSecrets()
_known_lock = threading.Lock()


def _could_touch_a_marker(value: str) -> bool:
    """Whether `value` holds a marker or ends with the start of one."""
    start = value.find("[")
    while start != -1:
        tail = value[start:]
        if MARKER_PREFIX.startswith(tail) or tail.startswith(MARKER_PREFIX):
            return True
        start = value.find("[", start + 1)
    return False


def _candidates(value: str) -> list[str]:
    # A PEM key reaches a log line by line (each line with its own timestamp), or on one line
    # with literal "\n"s as an env var: its body lines are secrets on their own.
    found = [value.strip()]
    if "\n" in value or "\\n" in value:
        lines = value.replace("\\n", "\n").split("\n")
        found += [line.strip() for line in lines if not line.strip().startswith("-----")]
    return found


def register_known_secrets(values: Iterable[str | None]) -> None:
    """Add secret values that `redact` replaces wherever they appear, whatever their shape.

    Values are added to those already registered (a process may build more than one set of
    services); None and values under `MIN_KNOWN_SECRET_CHARS` characters are ignored.
    """
    global _known  # noqa: PLW0603 - one registry per process, replaced whole (never mutated)
    wanted = {
        candidate
        for value in values
        if value
        for candidate in _candidates(value)
        if len(candidate) >= MIN_KNOWN_SECRET_CHARS and not _could_touch_a_marker(candidate)
    }
    with _known_lock:
        merged = _known.values | wanted
        if merged == _known.values:
            return
        # Longest first, so a whole key wins over one of its own lines.
        alternatives = "|".join(re.escape(v) for v in sorted(merged, key=lambda v: (-len(v), v)))
        _known = _KnownSecrets(merged, re.compile(f"{_ANY_MARKER}|({alternatives})"))


def known_secrets() -> frozenset[str]:
    """The values registered with `register_known_secrets`."""
    return _known.values


def _redact_known(text: str) -> str:
    pattern = _known.pattern
    if pattern is None:
        return text
    return pattern.sub(lambda m: m.group(0) if m.group(1) is None else marker(_KNOWN_KIND), text)


# ------------------------------------------------------------------ detect-secrets ----

# The format plugins only. Not the entropy ones (every hash, id and base64 blob of a log would
# go), nor the keyword one (our `_SECRET_PAIR` covers `password=...` with the marker kept
# beside the name), nor public IPs and URL credentials (not secrets / ours keep scheme and host).
_NOT_USED = frozenset(
    {
        "Base64HighEntropyString",
        "HexHighEntropyString",
        "KeywordDetector",
        "IPPublicDetector",
        "BasicAuthDetector",
    }
)
# A cheap gate before the plugins run on a line: every format they know holds one of these
# characters runs (a long token-ish word), so lines of prose and short words are skipped.
_TOKENISH = re.compile(r"[A-Za-z0-9_\-.+/=:]{16,}")


@cache
def _plugins() -> tuple[BasePlugin, ...]:
    classes: list[type[BasePlugin]] = list(get_mapping_from_secret_type_to_class().values())
    return tuple(plugin() for plugin in classes if plugin.__name__ not in _NOT_USED)


def _kind(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", secret_type.lower()).strip("_")[:40]


def _detect_secrets(text: str) -> str:
    """Replace what detect-secrets' format plugins find, line by line."""
    if not _TOKENISH.search(text):
        return text
    return "\n".join(_detect_secrets_in_line(line) for line in text.split("\n"))


def _detect_secrets_in_line(line: str) -> str:
    if not _TOKENISH.search(line):
        return line
    redacted = line
    for plugin in _plugins():
        for found in plugin.analyze_line(filename="job.log", line=redacted):
            redacted = _replace_token(redacted, found.secret_value or "", _kind(found.type))
    return redacted


_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.+/=")


def _replace_token(line: str, value: str, kind: str) -> str:
    """`line` with every whole token holding `value` replaced: a plugin may report only a
    part of it (a regex group: "glpat" of a GitLab token), and no part may survive. A plugin
    reports a value once however often the line holds it, so each occurrence goes."""
    start = line.find(value) if value else -1
    while start != -1:
        end = start + len(value)
        while start > 0 and line[start - 1] in _TOKEN_CHARS:
            start -= 1
        while end < len(line) and line[end] in _TOKEN_CHARS:
            end += 1
        token = line[start:end]
        if len(token) >= MIN_KNOWN_SECRET_CHARS and not _could_touch_a_marker(token):
            line = line[:start] + marker(kind) + line[end:]
            end = start + len(marker(kind))
        start = line.find(value, end)
    return line


def redact(text: str) -> str:
    """Replace every secret-shaped substring of `text` with `[REDACTED:<kind>]`."""
    # Known values first: a later pattern could cut one of them and leave part of it behind.
    text = _redact_known(text)
    for step in _STEPS:
        text = step(text)
    return _detect_secrets(text)
