"""Every secret format we know, our own patterns' and detect-secrets' plugins', disappears from
realistic log lines on every path out of the analyzer: the excerpt of a failing step (the line
kept as context of the error), the end of a log without any failure word (the tail the
excerpt always keeps) and the rules' analysis (excerpt, summary, root cause)."""

from __future__ import annotations

import pytest

from ci_remediator.analysis import analyze_with_rules, load_knowledge_base
from ci_remediator.analysis.excerpt import build_excerpt
from tests.unit.analysis.test_redaction import CORPUS
from tests.unit.analysis.test_redaction_formats import FORMATS

KB = load_knowledge_base()

# Fake secrets in the shapes detect-secrets' plugins know and our own patterns do not; built
# from pieces so that no scanner takes this file for a leak. None is valid anywhere.
_DETECT_SECRETS_ONLY: list[tuple[str, str, str]] = [
    (
        "gitlab-pat",
        "glpat-" + "xK9mQ2vL8nR4tY6wZ1bC",
        "git push https://ci:{}@gitlab.example.com/a/b",
    ),
    (
        "discord-bot",
        "MTA4MjQ3NjI0NTkzNTE5NDM2OA" + ".GZ5x3k." + "abcdefghijklmnopqrstuvwxyz0123456789AB",
        "discord.py: logging in with {}",
    ),
    (
        "telegram-bot",
        "123456789:" + "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1",
        "bot api url /bot{}/sendMessage",
    ),
    ("twilio", "SK" + "0123456789abcdef0123456789abcdef", "twilio: auth with api key {}"),
    (
        "sendgrid",
        "SG." + "abcdefghijklmnopqrstuv" + "." + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq",
        "mail: using {} for the digest",
    ),
    ("mailchimp", "0123456789abcdef" + "0123456789abcdef-us12", "newsletter: key {} rejected"),
]


def _common_prefix(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _secret_of(line: str, expected: str) -> str:
    """What `expected` (the line redacted) took out of `line`."""
    start = _common_prefix(line, expected)
    end = _common_prefix(line[::-1], expected[::-1])
    return line[start : len(line) - end]


CATALOG: list[tuple[str, str, str]] = [
    *CORPUS,
    *[(name, line, _secret_of(line, expected)) for name, line, expected in FORMATS],
    *[(name, shape.format(secret), secret) for name, secret, shape in _DETECT_SECRETS_ONLY],
]


def test_the_catalog_holds_at_least_25_formats() -> None:
    assert len({name for name, _, _ in CATALOG}) >= 25
    assert all(len(secret) >= 8 for _, _, secret in CATALOG)


def _pieces(secret: str) -> list[str]:
    # A multi-line secret (a key body) must vanish line by line.
    return [part for part in secret.split("\n") if len(part) >= 8]


@pytest.mark.parametrize(("line", "secret"), [c[1:] for c in CATALOG], ids=[c[0] for c in CATALOG])
def test_secret_never_survives_a_failing_steps_excerpt(line: str, secret: str) -> None:
    log = "\n".join(
        [
            "##[group]Run ./deploy.sh",
            "##[endgroup]",
            *[f"step {n}: uploading artefact part {n}" for n in range(300)],
            line,
            # The last line of the secret as the diagnostic itself: always kept.
            f"error: deploy failed: {line.rsplit(chr(10), maxsplit=1)[-1]}",
            *[f"cleanup {n}" for n in range(300)],
            "##[error]Process completed with exit code 1.",
        ]
    )
    excerpt = build_excerpt(log, budget_chars=2_000)
    result = analyze_with_rules(log, kb=KB, budget_chars=2_000)
    for piece in _pieces(secret):
        for text in (excerpt, result.excerpt, result.summary, result.root_cause):
            assert piece not in text
    if "\n" not in line:  # the line came through, redacted
        assert "[REDACTED:" in excerpt


@pytest.mark.parametrize(("line", "secret"), [c[1:] for c in CATALOG], ids=[c[0] for c in CATALOG])
def test_secret_never_survives_the_tail_of_a_log_without_failure_words(
    line: str, secret: str
) -> None:
    log = "\n".join([*[f"progress {n} of the upload" for n in range(500)], line, "done"])
    excerpt = build_excerpt(log, budget_chars=1_000)
    assert "done" in excerpt.split("\n")  # the tail was the path taken
    for piece in _pieces(secret):
        assert piece not in excerpt
    assert "[REDACTED:" in excerpt
