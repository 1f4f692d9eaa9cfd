"""GitHub App authentication for the GitHub sandbox.

A registered app gets a fresh RSA key pair (the private key PEM is what GitHub lets you
download). Creating an installation token checks the app's JWT the way GitHub does: RS256
signed with the app's key, `iss` the app id, `exp` in the future but at most ten minutes
ahead, `iat` not in the future beyond clock-drift slack. The rejection messages are GitHub's.

`AppRegistry` is not locked itself: the sandbox calls it under its own lock.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "AppRegistry",
    "Installation",
    "InstallationToken",
    "JWTRejectedError",
    "permissions_granted",
]

_MAX_JWT_LIFETIME_S = 600  # GitHub: "no more than 10 minutes into the future"
_IAT_SLACK_S = 60  # clock drift GitHub tolerates on `iat`
_PERMISSION_LEVELS = {"read": 1, "write": 2, "admin": 3}
_TOKEN_ALPHABET = string.ascii_letters + string.digits
# What a CI-remediation app asks for (a superset of what GitHub's examples show).
_DEFAULT_PERMISSIONS = {
    "actions": "write",
    "checks": "write",
    "contents": "read",
    "issues": "write",
    "metadata": "read",
}


class JWTRejectedError(Exception):
    """The JWT was refused; the message is GitHub's 401 message for the reason."""


@dataclass(slots=True)
class Installation:
    installation_id: int
    app_id: int
    account: str | None
    repositories: tuple[str, ...] | None  # None: every repository of the account ("all")
    token_ttl_s: int
    created_at: datetime
    permissions: dict[str, str]

    @property
    def repository_selection(self) -> str:
        return "all" if self.repositories is None else "selected"

    def covers(self, full_name: str) -> bool:
        if self.repositories is not None:
            return full_name in self.repositories
        return self.account is None or full_name.split("/", 1)[0] == self.account


@dataclass(frozen=True, slots=True)
class InstallationToken:
    token: str
    installation_id: int
    expires_at: datetime
    permissions: dict[str, str]

    @property
    def expired(self) -> bool:
        return datetime.now(UTC) >= self.expires_at


class AppRegistry:
    """Apps, their installations and the installation tokens issued so far."""

    def __init__(self) -> None:
        self._keys: dict[int, rsa.RSAPrivateKey] = {}
        self._installations: dict[int, Installation] = {}
        self._tokens: dict[str, InstallationToken] = {}
        self.tokens_issued = 0

    def register(
        self,
        app_id: int,
        *,
        installation_id: int,
        repositories: tuple[str, ...] | None,
        account: str | None,
        token_ttl_s: int,
    ) -> str:
        """Add an installation of the app (generating the app's key once); returns its PEM."""
        existing = self._installations.get(installation_id)
        if existing is not None and existing.app_id != app_id:
            raise ValueError(f"installation {installation_id} belongs to app {existing.app_id}")
        if app_id not in self._keys:
            self._keys[app_id] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._installations[installation_id] = Installation(
            installation_id=installation_id,
            app_id=app_id,
            account=account,
            repositories=repositories,
            token_ttl_s=token_ttl_s,
            created_at=datetime.now(UTC).replace(microsecond=0),
            permissions=dict(_DEFAULT_PERMISSIONS),
        )
        pem = self._keys[app_id].private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.TraditionalOpenSSL,  # GitHub's "RSA PRIVATE KEY"
            encryption_algorithm=serialization.NoEncryption(),
        )
        return pem.decode("ascii")

    def installation(self, installation_id: int) -> Installation | None:
        return self._installations.get(installation_id)

    def installations(self) -> list[Installation]:
        return list(self._installations.values())

    def authenticate_app(self, authorization: str) -> int:
        """The app id a `Bearer <JWT>` header proves; raises JWTRejectedError otherwise."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise JWTRejectedError("A JSON web token could not be decoded")
        app_id = self._claimed_app(token)
        try:
            claims = jwt.decode(
                token,
                self._keys[app_id].public_key(),
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"], "verify_iat": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise JWTRejectedError(
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires"
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise JWTRejectedError("A JSON web token could not be decoded") from exc
        _check_lifetime(claims)
        return app_id

    def issue_token(
        self, installation: Installation, permissions: dict[str, str]
    ) -> InstallationToken:
        """A new `ghs_` token; `permissions` narrows the installation's (empty: all of them)."""
        issued = InstallationToken(
            token="ghs_" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(36)),
            installation_id=installation.installation_id,
            expires_at=datetime.now(UTC).replace(microsecond=0)
            + timedelta(seconds=installation.token_ttl_s),
            permissions=dict(permissions or installation.permissions),
        )
        self._tokens[issued.token] = issued
        self.tokens_issued += 1
        return issued

    def token(self, token: str) -> InstallationToken | None:
        return self._tokens.get(token)

    def _claimed_app(self, token: str) -> int:
        """`iss` before the signature is checked: it says whose public key to check it with."""
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
            app_id = int(claims["iss"])  # GitHub accepts the app id as a string or a number
        except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
            raise JWTRejectedError("A JSON web token could not be decoded") from exc
        if app_id not in self._keys:
            raise JWTRejectedError("A JSON web token could not be decoded")
        return app_id


def _check_lifetime(claims: dict[str, object]) -> None:
    now = time.time()
    exp, iat = claims["exp"], claims["iat"]
    if not isinstance(iat, int) or iat > now + _IAT_SLACK_S:
        raise JWTRejectedError(
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued"
        )
    if not isinstance(exp, int | float) or exp > now + _MAX_JWT_LIFETIME_S:
        raise JWTRejectedError("'Expiration time' claim ('exp') is too far in the future")


def permissions_granted(requested: object, granted: dict[str, str]) -> bool:
    """Whether a token request's `permissions` stay within the installation's."""
    if not isinstance(requested, dict):
        return False
    return all(
        name in granted
        and _PERMISSION_LEVELS.get(str(level), 99) <= _PERMISSION_LEVELS[granted[name]]
        for name, level in requested.items()
    )
