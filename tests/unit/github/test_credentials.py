"""Choosing the GitHub credential from the environment."""

from __future__ import annotations

import pytest

from ci_remediator.config import ConfigError, Settings
from ci_remediator.github.credentials import (
    AppCredential,
    TokenCredential,
    credential_from_settings,
)

PEM = "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n"


def settings(**values: object) -> Settings:
    base: dict[str, object] = {"github_token": None}
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[call-arg]


def test_token_credential_and_its_fingerprint_follow_the_token() -> None:
    first = credential_from_settings(settings(github_token="ghp_one"))
    again = credential_from_settings(settings(github_token="ghp_one"))
    other = credential_from_settings(settings(github_token="ghp_two"))

    assert isinstance(first, TokenCredential)
    assert first == again
    assert other is not None
    assert other.fingerprint != first.fingerprint
    assert "ghp_one" not in first.fingerprint


def test_app_credential_wins_and_reads_an_escaped_pem() -> None:
    credential = credential_from_settings(
        settings(
            github_token="ghp_also_set",
            github_app_id="42",
            github_app_private_key=PEM.replace("\n", "\\n"),
            github_app_installation_id="7",
        )
    )

    assert isinstance(credential, AppCredential)
    assert credential.private_key == PEM
    assert credential.installation_id == 7


def test_half_configured_app_names_what_is_missing() -> None:
    with pytest.raises(ConfigError, match="GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID"):
        credential_from_settings(settings(github_app_id="42"))


def test_installation_id_must_be_a_number() -> None:
    with pytest.raises(ConfigError, match="GITHUB_APP_INSTALLATION_ID must be a number"):
        credential_from_settings(
            settings(github_app_id="42", github_app_private_key=PEM, github_app_installation_id="x")
        )


def test_no_credential_at_all_is_none() -> None:
    assert credential_from_settings(settings()) is None
