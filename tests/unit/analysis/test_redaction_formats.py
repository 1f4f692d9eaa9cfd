"""Issue 11's redaction gaps: six more token formats, bare key bodies, the process's own secrets."""

from __future__ import annotations

import random
import string

import pytest
from pydantic import SecretStr

from ci_remediator.analysis import redaction
from ci_remediator.analysis.excerpt import build_excerpt
from ci_remediator.analysis.redaction import known_secrets, redact, register_known_secrets
from ci_remediator.config import AppConfig, FileConfig, Settings
from ci_remediator.services import Services

# Fake secrets shaped like real ones, assembled from pieces so that no secret scanner mistakes
# this file for a leak; none of them is valid anywhere.
_SLACK_HOOK_PATH = "T0" + "4ABCDE12F/B0" + "5GHIJK34L/" + "Zq3xR8vL2mN7pK4wT9yB6cD1"
_NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
_NPM_LEGACY = "0f2e6b1c-8d3a-4e5f-9a7b-1c2d3e4f5a6b"
_DOCKER = "dckr_pat_" + "4xQ9rT2mLk8vB1nZ7yW3hJ5cD0f"
_STRIPE = "sk_" + "live_" + "51HqLyjWDarjtT1zdp7dcXYZabcdef0123456789"
_STRIPE_RESTRICTED = "rk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dcTYooMQau"
_AZURE = "q" + "Zx8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBek"
_AZURE_KEY = _AZURE + "soGMGw=="
_PYPI = (
    "pypi-" + "AgEIcHlwaS5vcmc" + "CJGE0M2VjNGQ1LWIxNjYtNGU3Yy1iYTliLTgwNTU3ZjA2MDY5YwACNXsicGVy"
)


def test_fakes_have_the_published_lengths() -> None:
    assert len(_NPM) == len("npm_") + 36
    assert len(_DOCKER) == len("dckr_pat_") + 27
    assert len(_AZURE_KEY) == 88


FORMATS: list[tuple[str, str, str]] = [
    # (id, log line, the same line redacted: everything but the secret kept)
    (
        "slack-webhook",
        "curl -sf -X POST -d @payload.json https://hooks.slack.com/services/"
        f"{_SLACK_HOOK_PATH} (notify step)",
        "curl -sf -X POST -d @payload.json https://hooks.slack.com/services/"
        "[REDACTED:slack_webhook] (notify step)",
    ),
    (
        "npm-token",
        f"npm notice Publishing to https://registry.npmjs.org/ with token {_NPM} (tag latest)",
        "npm notice Publishing to https://registry.npmjs.org/ with token [REDACTED:npm_token]"
        " (tag latest)",
    ),
    (
        "npmrc-auth-token",
        f"echo '//registry.npmjs.org/:_authToken={_NPM_LEGACY}' >> ~/.npmrc",
        "echo '//registry.npmjs.org/:_authToken=[REDACTED:npm_token]' >> ~/.npmrc",
    ),
    (
        "npmrc-github-packages",
        f"//npm.pkg.github.com/:_authToken={_NPM}",
        "//npm.pkg.github.com/:_authToken=[REDACTED:npm_token]",
    ),
    (
        "docker-pat",
        f"docker login -u acme-ci -p {_DOCKER} docker.io",
        "docker login -u acme-ci -p [REDACTED:docker_pat] docker.io",
    ),
    (
        "stripe-live",
        f"stripe.error.AuthenticationError: Invalid API Key provided: {_STRIPE} (req_8xY)",
        "stripe.error.AuthenticationError: Invalid API Key provided: [REDACTED:stripe_key]"
        " (req_8xY)",
    ),
    (
        "stripe-restricted",
        f"Using restricted key {_STRIPE_RESTRICTED} for the refund job",
        "Using restricted key [REDACTED:stripe_key] for the refund job",
    ),
    (
        "azure-connection-string",
        "DefaultEndpointsProtocol=https;AccountName=acmeci;"
        f"AccountKey={_AZURE_KEY};EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acmeci;"
        "AccountKey=[REDACTED:azure_storage_key];EndpointSuffix=core.windows.net",
    ),
    (
        "azure-account-key-in-command",
        f'az storage blob upload --connection-string "AccountName=acmeci;AccountKey={_AZURE_KEY}"'
        " -f dist.zip",
        'az storage blob upload --connection-string "AccountName=acmeci;'
        'AccountKey=[REDACTED:azure_storage_key]" -f dist.zip',
    ),
    (
        "pypi-token",
        f"twine upload --non-interactive -u __token__ -p {_PYPI} dist/*",
        "twine upload --non-interactive -u __token__ -p [REDACTED:pypi_token] dist/*",
    ),
]


@pytest.mark.parametrize(
    ("line", "expected"), [(f[1], f[2]) for f in FORMATS], ids=[f[0] for f in FORMATS]
)
def test_new_format_is_redacted_and_its_line_kept(line: str, expected: str) -> None:
    assert redact(line) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "line",
    [
        "echo '//registry.npmjs.org/:_authToken=${NPM_TOKEN}' > .npmrc",
        "//registry.npmjs.org/:_authToken=***",
        "npm_config_cache=/home/runner/.npm npm ci",
        "task_live_results_0123456789abcdefghijklmn were uploaded",
        "Read more at https://api.slack.com/messaging/webhooks",
        "Installing pypi-simple-index 1.2.0",
        "AccountName=acmeci;EndpointSuffix=core.windows.net",
    ],
)
def test_lookalikes_are_kept(line: str) -> None:
    assert redact(line) == line


# ---------------------------------------------------------------------- key bodies ----

_B64 = string.ascii_letters + string.digits + "+/"


def _key_body(lines: int, width: int = 64, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    body = ["".join(rnd.choice(_B64) for _ in range(width)) for _ in range(lines)]
    body[0] = "MIIEpAIBAAKCAQEA" + body[0][16:]  # how an RSA key begins, and upper/lower/digit
    return [*body, "Zm9vYmFyYmF6cXV4cXV1eA1B2c3=="]


def _timestamped(lines: list[str]) -> str:
    return "".join(
        f"2025-01-07T10:00:{n % 60:02d}.0000000Z {line}\n" for n, line in enumerate(lines)
    )


def test_bare_key_body_is_redacted() -> None:
    body = _key_body(6)
    text = "Copying deploy key\n" + "\n".join(body) + "\nDone copying"
    redacted = redact(text)
    assert redacted == "Copying deploy key\n[REDACTED:private_key]\nDone copying"
    assert redact(redacted) == redacted


def test_openssh_body_lines_of_70_are_redacted() -> None:
    body = _key_body(5, width=70)
    assert not any(line in redact("\n".join(body)) for line in body)


def test_end_of_a_body_cut_from_its_start_is_redacted() -> None:
    body = _key_body(2)
    text = "\n".join([*body, "-----END RSA PRIVATE KEY-----", "Done"])
    assert redact(text) == "[REDACTED:private_key]\nDone"


@pytest.mark.parametrize("budget", [12_000, 800, 300])
def test_key_in_a_log_without_failure_words_is_gone_from_the_tail(budget: int) -> None:
    """The fallback path: no line is a diagnostic, so the excerpt is the log's tail."""
    body = _key_body(25)
    block = ["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"]
    log = _timestamped([f"Preparing workspace {n}" for n in range(40)] + block + ["Done"])
    excerpt = build_excerpt(log, budget_chars=budget)
    assert excerpt.endswith("[REDACTED:private_key]\nDone")
    assert not any(line in excerpt for line in body)
    assert redact(excerpt) == excerpt


_SHA256_LINES = [
    "46108b26cf0b606749e3aee1801677c87caa66b603f7bc929527f9dad2da370e",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    "FCDE2B2EDBA56BF408601FB721FE9B5C338D10EE429EA04FAE5511B68FBF8FB9",
]


def test_digest_lines_are_kept() -> None:
    text = "Checksums of the build artifacts:\n" + "\n".join(_SHA256_LINES)
    assert redact(text) == text


def test_base64_lines_of_a_test_failure_are_kept() -> None:
    blob = "dGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZyAxMjM0"  # 64 characters
    wrapped_76 = "\n".join(
        "".join(random.Random(n).choice(_B64) for _ in range(76)) for n in range(5)
    )
    text = (
        "FAILED tests/test_codec.py::test_roundtrip - AssertionError: payload differs\n"
        f"E       assert 'aGVsbG8=' == '{blob}'\n"
        f"{blob}\n"
        "E       base64 of the response body (76 columns, as `base64` wraps):\n"
        f"{wrapped_76}\n"
    )
    assert redact(text) == text


# ------------------------------------------------------------------- known secrets ----


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registered values are process-wide: each test gets the registry back as it found it."""
    monkeypatch.setattr(redaction, "_known", redaction._known)


_WEBHOOK_SECRET = "d6f1c0a9-webhook-7e42"
_SIGNING_SECRET = "8e2a4b6c8d0f1a3c5e7b9d1f3a5c7e9b"


@pytest.mark.usefixtures("registry")
def test_registered_values_are_redacted_wherever_they_appear() -> None:
    register_known_secrets([_WEBHOOK_SECRET, _SIGNING_SECRET, None, "short7"])
    assert {_WEBHOOK_SECRET, _SIGNING_SECRET} <= known_secrets()
    assert "short7" not in known_secrets()
    text = (
        f"debug: hmac key={_WEBHOOK_SECRET}\n"
        f"signing with {_SIGNING_SECRET}, x-slack-signature v0=abc\n"
        f"glued:{_WEBHOOK_SECRET}{_SIGNING_SECRET}!"
    )
    redacted = redact(text)
    assert _WEBHOOK_SECRET not in redacted
    assert _SIGNING_SECRET not in redacted
    assert "signing with [REDACTED:known_secret], x-slack-signature v0=abc" in redacted
    assert "glued:[REDACTED:known_secret][REDACTED:known_secret]!" in redacted
    assert redact(redacted) == redacted
    assert redact("short7 stays") == "short7 stays"


@pytest.mark.usefixtures("registry")
def test_private_key_lines_are_registered_one_by_one() -> None:
    body = _key_body(3)
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\\n" + "\\n".join(body) + "\\n-----END RSA PRIVATE KEY-----"
    )
    register_known_secrets([pem])  # an env var holding the PEM on one line, with literal \n
    assert set(body) <= known_secrets()
    assert "-----BEGIN RSA PRIVATE KEY-----" not in known_secrets()
    assert (
        redact(f"key line: {body[1]} (from env)") == "key line: [REDACTED:known_secret] (from env)"
    )


@pytest.mark.usefixtures("registry")
def test_values_that_could_reach_into_a_marker_are_ignored() -> None:
    register_known_secrets(["hunter22[REDACTED:jwt]", "hunter22[RED"])
    assert not known_secrets() & {"hunter22[REDACTED:jwt]", "hunter22[RED"}


@pytest.mark.usefixtures("registry")
def test_a_value_is_ignored_when_any_of_its_brackets_could_reach_into_a_marker() -> None:
    # The first "[" of each is harmless; a later one starts a marker or a marker's beginning.
    risky = [
        "[x] hunter22[RED",
        "hunter22[[REDACTED:jwt]",
        "hunter22[REDACTED:jwt] [z",
        "[x] hunter22[REDACTED:jwt] [y",
    ]
    register_known_secrets([*risky, "[x] hunter22 [y]"])
    assert not known_secrets() & set(risky)
    assert "[x] hunter22 [y]" in known_secrets()


@pytest.mark.usefixtures("registry")
def test_a_multi_line_private_key_is_registered_whole_and_line_by_line() -> None:
    body = _key_body(3)
    pem = (
        "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----\n"
    )
    before = known_secrets()
    register_known_secrets([pem])  # a key file's text, with real newlines
    assert known_secrets() - before == {pem.strip(), *body}


@pytest.mark.usefixtures("registry")
def test_a_registered_value_holding_a_shorter_one_is_redacted_whole() -> None:
    shorter, longer = "ab12cd34", "ab12cd34-ef56gh78"
    register_known_secrets([shorter, longer])
    assert redact(f"token {longer} and {shorter}") == (
        "token [REDACTED:known_secret] and [REDACTED:known_secret]"
    )


@pytest.mark.usefixtures("registry")
def test_with_values_registered_a_second_pass_keeps_the_markers_of_the_first() -> None:
    register_known_secrets([_WEBHOOK_SECRET])
    once = redact(f"hmac {_WEBHOOK_SECRET} for ghp_{'x' * 36}")
    assert once == "hmac [REDACTED:known_secret] for [REDACTED:github_token]"
    assert redact(once) == once


@pytest.mark.usefixtures("registry")
def test_services_register_the_process_secrets() -> None:
    settings = Settings(
        github_webhook_secret=SecretStr(_WEBHOOK_SECRET),
        slack_signing_secret=SecretStr(_SIGNING_SECRET),
        openai_api_key=SecretStr("org-internal-llm-key-0042"),
        github_token=SecretStr("a-plain-enterprise-token-77"),
        slack_bot_token=SecretStr("bot-token-without-prefix-9"),
    )
    Services(AppConfig(settings=settings, file=FileConfig()))
    line = (
        f"{_WEBHOOK_SECRET} {_SIGNING_SECRET} org-internal-llm-key-0042 "
        "a-plain-enterprise-token-77 bot-token-without-prefix-9"
    )
    assert redact(line) == " ".join(["[REDACTED:known_secret]"] * 5)


@pytest.mark.usefixtures("registry")
def test_services_register_the_passwords_of_their_urls() -> None:
    settings = Settings(
        database_url="postgresql://ci:db-Passw0rd-77@db/ci",
        redis_url="rediss://:redis%2Fpw-x9y8z7@cache:6380/0",
    )
    Services(AppConfig(settings=settings, file=FileConfig()))
    line = "FATAL: password db-Passw0rd-77 rejected; AUTH redis/pw-x9y8z7 failed"
    assert redact(line) == (
        "FATAL: password [REDACTED:known_secret] rejected; AUTH [REDACTED:known_secret] failed"
    )


# --------------------------------------------------------------- detect-secrets only ----

# Formats no pattern of ours knows (GitLab, SendGrid, Twilio, Telegram), so only
# detect-secrets' plugins find them; fakes, assembled from pieces like those above.
_GITLAB = "glpat" + "-" + "x8Rt2LmQ9vB4nZ7yW3hJ"
_SENDGRID = "SG." + "a1B2c3D4e5F6g7H8i9J0kL" + "." + "m1N2o3P4q5R6s7T8u9V0w1X2y3Z4a5B6c7D8e9F0g1H"
_TWILIO = "S" + "K" + "0123456789abcdef" * 2
_TELEGRAM = "123456789" + ":AA" + "c1d2e3f4g5h6i7j8k9l0m1n2o3p4q5r6s"


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (_GITLAB, "gitlab_token"),
        (_SENDGRID, "sendgrid_api_key"),
        (_TWILIO, "twilio_api_key"),
        (_TELEGRAM, "telegram_bot_token"),
    ],
)
def test_a_token_only_detect_secrets_knows_is_named_and_gone_wherever_and_however_often(
    token: str, kind: str
) -> None:
    # A plugin reports a value once per line, however often the line holds it; the GitLab
    # plugin reports only "glpat", so "k" glued in front is part of the token and goes too.
    text = f"k{token} then x {token} retried ({token})\nnext line {token}"
    gone = f"[REDACTED:{kind}]"
    assert redact(text) == f"{gone} then x {gone} retried ({gone})\nnext line {gone}"
    assert redact(redact(text)) == redact(text)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # The npm plugin reports any "npm_..." after `_authToken=`: one of 8 characters goes,
        # a shorter one is kept (it would hit ordinary words, as for registered values).
        ("//my_registry/:_authToken= npm_abcd", "//my_registry/:_authToken= [REDACTED:npm_tokens]"),
        ("//my_registry/:_authToken= npm_x", "//my_registry/:_authToken= npm_x"),
    ],
)
def test_a_token_a_plugin_reports_goes_from_8_characters_up(line: str, expected: str) -> None:
    assert redact(line) == expected
