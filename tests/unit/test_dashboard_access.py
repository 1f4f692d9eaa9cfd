"""Who may see the dashboard: HTTP Basic compared whole, the loopback rule for a web process
without DASHBOARD_AUTH, and the format DASHBOARD_AUTH must have."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from ci_remediator.config import ConfigError, load_config
from ci_remediator.dashboard.access import (
    bind_host,
    bind_refusal,
    credentials_match,
    is_loopback_host,
)

CONFIGURED = SecretStr("ops:s3cret:with-colon")


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_the_configured_user_and_password_match() -> None:
    assert credentials_match(basic("ops:s3cret:with-colon"), CONFIGURED)
    assert credentials_match("basic " + basic("ops:s3cret:with-colon")[6:], CONFIGURED)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        basic("ops:s3cret"),
        basic("ops:s3cret:with-colon\n"),
        basic("OPS:s3cret:with-colon"),
        basic(""),
        "Basic !!!",
        "Bearer " + base64.b64encode(b"ops:s3cret:with-colon").decode(),
    ],
)
def test_anything_else_does_not(header: str | None) -> None:
    assert not credentials_match(header, CONFIGURED)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.8.7", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "example.com", "192.168.1.1"])  # noqa: S104
def test_hosts_reachable_from_elsewhere(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    ("bind", "host"),
    [
        ("127.0.0.1:8000", "127.0.0.1"),
        ("0.0.0.0:8000", "0.0.0.0"),  # noqa: S104
        ("[::1]:8000", "::1"),
        ("::1", "::1"),
        ("localhost", "localhost"),
        ("unix:/run/web.sock", None),
        ("fd://3", None),
    ],
)
def test_the_host_of_a_gunicorn_bind(bind: str, host: str | None) -> None:
    assert bind_host(bind) == host


def test_loopback_binds_start_without_auth() -> None:
    assert bind_refusal(["127.0.0.1:8000", "[::1]:8000"], dashboard_auth=None) is None


@pytest.mark.parametrize("bind", ["0.0.0.0:8000", "[::]:8000", "unix:/run/web.sock", "fd://3"])
def test_any_other_bind_needs_auth(bind: str) -> None:
    refusal = bind_refusal(["127.0.0.1:8000", bind], dashboard_auth=None)

    assert refusal is not None
    assert bind in refusal
    assert "DASHBOARD_AUTH" in refusal
    assert "\n" not in refusal
    assert bind_refusal([bind], dashboard_auth=CONFIGURED) is None


@pytest.mark.parametrize("value", ["nocolon-secret", ":only-password", "only-user:"])
def test_dashboard_auth_must_be_user_colon_password(value: str) -> None:
    with pytest.raises(ConfigError, match="'dashboard_auth': must be user:password") as error:
        load_config(env_overrides={"dashboard_auth": value})
    assert value not in str(error.value)  # the value is a secret: never printed


def test_an_empty_dashboard_auth_means_unset() -> None:
    assert load_config(env_overrides={"dashboard_auth": "  "}).settings.dashboard_auth is None
