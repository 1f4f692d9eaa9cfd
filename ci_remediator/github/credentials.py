"""Which GitHub credential this process uses: a token, or a GitHub App installation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import github

from ci_remediator.config import ConfigError, Settings


@dataclass(frozen=True, slots=True)
class TokenCredential:
    """A personal access token (or any token GitHub accepts as a bearer)."""

    token: str
    fingerprint: str

    def auth(self) -> github.Auth.Auth:
        return github.Auth.Token(self.token)


@dataclass(frozen=True, slots=True)
class AppCredential:
    """A GitHub App installation: PyGithub mints the installation token from a signed JWT and
    renews it before it expires."""

    app_id: str
    private_key: str
    installation_id: int
    fingerprint: str

    def auth(self) -> github.Auth.Auth:
        return github.Auth.AppAuth(self.app_id, self.private_key).get_installation_auth(
            self.installation_id
        )


# The fingerprint changes whenever the credential does: it names the shared rate budget and
# the "refused with 401" mark, so a fixed configuration starts afresh by itself.
GitHubCredential = TokenCredential | AppCredential


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def credential_from_settings(settings: Settings) -> GitHubCredential | None:
    """The configured credential; None when none is set. A half-configured App is an error."""
    app_settings = {
        "GITHUB_APP_ID": settings.github_app_id,
        "GITHUB_APP_PRIVATE_KEY": settings.github_app_private_key,
        "GITHUB_APP_INSTALLATION_ID": settings.github_app_installation_id,
    }
    if any(value for value in app_settings.values()):
        missing = [name for name, value in app_settings.items() if not value]
        if missing:
            raise ConfigError(f"environment: GitHub App auth also needs {', '.join(missing)}")
        installation = str(settings.github_app_installation_id)
        if not installation.isdigit():
            raise ConfigError("environment: GITHUB_APP_INSTALLATION_ID must be a number")
        secret = settings.github_app_private_key
        # A PEM pasted into one environment line arrives with literal "\n"s.
        key = secret.get_secret_value().replace("\\n", "\n") if secret else ""
        return AppCredential(
            app_id=str(settings.github_app_id),
            private_key=key,
            installation_id=int(installation),
            fingerprint=_fingerprint("app", str(settings.github_app_id), installation, key),
        )
    if settings.github_token is not None and settings.github_token.get_secret_value():
        token = settings.github_token.get_secret_value()
        return TokenCredential(token=token, fingerprint=_fingerprint("token", token))
    return None
