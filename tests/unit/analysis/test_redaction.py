"""Every secret format of DESIGN.md section 6 disappears from realistic log lines."""

from __future__ import annotations

import pytest

from ci_remediator.analysis import redaction
from ci_remediator.analysis.redaction import redact

# Fake secrets shaped like real ones; none of them is valid anywhere.
_GH = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
_FINE_GRAINED = "github_pat_11ABCDEFG0" + "x" * 30 + "_" + "Y" * 20
_SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
_SLACK_APP = "xapp-1-A0123456789-1234567890123-" + "f" * 40
_OPENAI = "sk-proj-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0UvWxYz12"
_OPENAI_LEGACY = "sk-" + "T3BlbkFJ" + "z" * 32
_AWS_ID = "AKIA" + "IOSFODNN7EXAMPLE"
_AWS_STS = "ASIA" + "Y3FWJ5N6XK2PQ7RT"
_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
_GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
_BEARER = "mF_9.B5f-4.1JqM" + "abcdefghijkl"
_BASIC = "YWxhZGRpbjpvcGVuc2VzYW1l"
_URL_PASSWORD = "s3cr3t-P4ss"
_PASSWORD = "hunter2-correct-horse"
_PRIVATE_KEY_BODY = "MIIEowIBAAKCAQEA7bq9mFakeKeyMaterialOnlyForTests0123456789abcdef"

CORPUS: list[tuple[str, str, str]] = [
    # (id, log line, secret that must vanish)
    ("github-classic", f"remote: using token {_GH} for https://github.com", _GH),
    ("github-fine", f"export GH_TOKEN={_FINE_GRAINED}", _FINE_GRAINED),
    ("github-app", "x-access-token ghs_" + "Q" * 36 + " expires soon", "ghs_" + "Q" * 36),
    ("slack-bot", f"Posting to Slack with {_SLACK} failed: channel_not_found", _SLACK),
    ("slack-app", f"SLACK_APP_TOKEN is {_SLACK_APP}", _SLACK_APP),
    (
        "openai-project",
        f"openai.AuthenticationError: Incorrect API key provided: {_OPENAI}",
        _OPENAI,
    ),
    ("openai-legacy", f"using key {_OPENAI_LEGACY}.", _OPENAI_LEGACY),
    ("aws-access-key", f"aws configure set aws_access_key_id {_AWS_ID}", _AWS_ID),
    ("aws-sts-key", f"Credentials: AccessKeyId={_AWS_STS} expire at 12:00", _AWS_STS),
    ("aws-secret", f"aws_secret_access_key = {_AWS_SECRET}", _AWS_SECRET),
    ("google", f"GET https://maps.googleapis.com/maps/api/geocode/json?key={_GOOGLE}", _GOOGLE),
    ("jwt", f"id_token received: {_JWT} (valid 3600s)", _JWT),
    (
        "bearer-header",
        f'curl -H "Authorization: Bearer {_BEARER}" https://api.example.com',
        _BEARER,
    ),
    ("basic-header", f"> Authorization: Basic {_BASIC}", _BASIC),
    (
        "url-credentials",
        f"fatal: unable to access 'https://deploy:{_URL_PASSWORD}@git.example.com/acme/app.git/'",
        _URL_PASSWORD,
    ),
    ("password-pair", f"mysql -h db --password={_PASSWORD} -e 'select 1'", _PASSWORD),
    ("password-colon", f"  DB_PASSWORD: {_PASSWORD}", _PASSWORD),
    ("quoted-json", f'{{"username": "ci", "password": "{_PASSWORD}"}}', _PASSWORD),
    (
        "api-key-pair",
        "Using API_KEY='k-9f8e7d6c5b4a3f2e1d0c' for the staging run",
        "k-9f8e7d6c5b4a3f2e1d0c",
    ),
    (
        "secret-pair",
        "client_secret=Zm9vYmFyYmF6cXV4cXV1eA==&grant_type=x",
        "Zm9vYmFyYmF6cXV4cXV1eA==",
    ),
    ("token-query", "GET /hooks?token=tkn_4b1d2e3f5a6c7d8e9f HTTP/1.1", "tkn_4b1d2e3f5a6c7d8e9f"),
    (
        "private-key",
        "Writing key:\n-----BEGIN RSA PRIVATE KEY-----\n"
        f"{_PRIVATE_KEY_BODY}\n{_PRIVATE_KEY_BODY[::-1]}\n-----END RSA PRIVATE KEY-----\ndone",
        _PRIVATE_KEY_BODY,
    ),
    (
        "private-key-openssh",
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        f"{_PRIVATE_KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----",
        _PRIVATE_KEY_BODY,
    ),
]


@pytest.mark.parametrize(
    ("line", "secret"), [(c[1], c[2]) for c in CORPUS], ids=[c[0] for c in CORPUS]
)
def test_secret_is_replaced_by_a_marker(line: str, secret: str) -> None:
    redacted = redact(line)
    assert secret not in redacted
    assert "[REDACTED:" in redacted
    assert redact(redacted) == redacted


def test_corpus_covers_at_least_twelve_formats() -> None:
    assert len(CORPUS) >= 12


def test_url_credentials_keep_scheme_and_host() -> None:
    redacted = redact(f"git clone https://bot:{_URL_PASSWORD}@github.com/acme/app.git")
    assert redacted == "git clone https://[REDACTED:url_credentials]@github.com/acme/app.git"


def test_private_key_block_is_removed_whole() -> None:
    text = f"a\n-----BEGIN PRIVATE KEY-----\n{_PRIVATE_KEY_BODY}\n-----END PRIVATE KEY-----\nb"
    assert redact(text) == "a\n[REDACTED:private_key]\nb"


def test_truncated_private_key_block_is_still_removed() -> None:
    text = f"-----BEGIN EC PRIVATE KEY-----\n{_PRIVATE_KEY_BODY}\n"
    assert _PRIVATE_KEY_BODY not in redact(text)


def test_kind_is_named_in_the_marker() -> None:
    assert redact(_GH) == "[REDACTED:github_token]"
    assert redact(f"token={_GH}") == "token=[REDACTED:github_token]"
    assert redact(f"password={_PASSWORD}") == "password=[REDACTED:credential]"


NOT_SECRETS = [
    "HEAD is now at 3f9c2a7d41e8b0c6a5d2e1f4b7c8a9d0e1f2a3b4 Merge pull request #42",
    "Worker ID: {73522277-17d4-4851-9ca2-cac7199bd5d9}",
    "The token expired; please request a new token from the admin.",
    "Generating a tokenizer for the parser (token count: 12)",
    "  token: ***",
    "SyntaxError: Unexpected token: }",
    "Cache restored from key: node-cache-Linux-x64-npm-8c3f2a7d41e8b0c6a5d2e1f4b7c8a9d0",
    "npm install https://registry.npmjs.org/@babel/core/-/core-7.26.0.tgz",
    "git@github.com:acme/app.git",
    "task-runner-cleanup-step-for-the-integration-suite finished",
    "docker pull ghcr.io/acme/app@sha256:"
    "46108b26cf0b606749e3aee1801677c87caa66b603f7bc929527f9dad2da370e",
    "##[error]Process completed with exit code 1.",
    "--password-stdin was passed to docker login",
]


@pytest.mark.parametrize("line", NOT_SECRETS)
def test_ordinary_text_is_kept(line: str) -> None:
    assert redact(line) == line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('password="hunter2-secret"', 'password="[REDACTED:credential]"'),
        ("db_password: 'hunter2-secret'", "db_password: '[REDACTED:credential]'"),
        # Unquoted, even when it starts with a letter a quote check could take for a quote.
        ("password=Xhunter2secret", "password=[REDACTED:credential]"),
        ("api_key = XYZ-123-abc", "api_key = [REDACTED:credential]"),
    ],
)
def test_a_secret_pair_keeps_its_name_and_quotes_and_loses_its_value(
    line: str, expected: str
) -> None:
    assert redact(line) == expected


def test_the_two_kinds_of_step_redact_is_built_from_replace_every_match() -> None:
    # `redact`'s steps are built once, at import; these are built here, as `_STEPS` builds them.
    token = "ghp_" + "x" * 36
    whole = redaction._replace_all(redaction._GITHUB_TOKEN, "github_token")
    assert whole(f"push {token}, pull {token}") == (
        "push [REDACTED:github_token], pull [REDACTED:github_token]"
    )
    keep = redaction._keep_prefix(redaction._AUTH_HEADER, "authorization")
    assert keep("Authorization: Bearer abc.def-123\nauthorization=token zz9") == (
        "Authorization: Bearer [REDACTED:authorization]\n"
        "authorization=token [REDACTED:authorization]"
    )
