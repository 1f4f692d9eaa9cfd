"""The `rediss://` URL -> TLS options mapping every Redis client uses (the real TLS connections
are in tests/integration/test_redis_tls.py), and `postgres://` database URLs."""

from __future__ import annotations

import ssl

import pytest
from sqlalchemy import create_engine

from ci_remediator.config import ConfigError, load_config
from ci_remediator.redis_tls import RedisTls, RedisTlsError, parse_cert_reqs, without_tls_query
from workers.app import deployment_settings


def test_plain_redis_gets_no_tls_options() -> None:
    assert RedisTls().options("redis://h:6379/0") is None
    assert RedisTls("required").options("redis://h:6379/0") is None


def test_rediss_defaults_to_no_verification_as_heroku_requires() -> None:
    assert RedisTls().options("rediss://:pw@h:6380/0") == {"ssl_cert_reqs": ssl.CERT_NONE}


def test_the_setting_turns_verification_on_with_a_ca_file() -> None:
    assert RedisTls("required", "/etc/ca.pem").options("rediss://h:6380") == {
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_ca_certs": "/etc/ca.pem",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ssl_cert_reqs=none", ssl.CERT_NONE),
        ("ssl_cert_reqs=CERT_NONE", ssl.CERT_NONE),
        ("ssl_cert_reqs=optional", ssl.CERT_OPTIONAL),
        ("ssl_cert_reqs=CERT_REQUIRED", ssl.CERT_REQUIRED),
        ("ssl_cert_reqs=Required&socket_timeout=3", ssl.CERT_REQUIRED),
    ],
)
def test_a_url_that_says_ssl_cert_reqs_wins_over_the_setting(
    query: str, expected: ssl.VerifyMode
) -> None:
    options = RedisTls("none").options(f"rediss://h:6380/0?{query}")
    assert options == {"ssl_cert_reqs": expected}


def test_a_url_names_its_ca_file() -> None:
    options = RedisTls("none", "/setting.pem").options(
        "rediss://h/0?ssl_cert_reqs=required&ssl_ca_certs=/url.pem"
    )
    assert options == {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": "/url.pem"}


def test_an_unknown_ssl_cert_reqs_is_refused() -> None:
    with pytest.raises(RedisTlsError, match="must be none, optional or required"):
        parse_cert_reqs("maybe")


def test_the_tls_keys_leave_the_url_and_the_rest_stays() -> None:
    assert (
        without_tls_query("rediss://:p@h:6380/1?ssl_cert_reqs=CERT_NONE&socket_timeout=3")
        == "rediss://:p@h:6380/1?socket_timeout=3"
    )
    assert without_tls_query("rediss://h:6380/1?ssl_cert_reqs=none") == "rediss://h:6380/1"


def test_redis_py_client_gets_the_options_not_the_query() -> None:
    # redis-py knows only lower-case names; CERT_NONE in its query would be refused.
    client = RedisTls().client("rediss://h:6380/2?ssl_cert_reqs=CERT_NONE")
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["ssl_cert_reqs"] == ssl.CERT_NONE
    assert kwargs["db"] == 2
    client.close()


def test_celery_gets_broker_use_ssl_for_rediss(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CELERY_BROKER_URL")
    monkeypatch.setenv("REDIS_URL", "rediss://:pw@h:6380/0?ssl_cert_reqs=CERT_REQUIRED")
    monkeypatch.setenv("REDIS_SSL_CA_CERTS", "/etc/ca.pem")
    settings = deployment_settings(load_config())
    assert settings["broker_url"] == "rediss://:pw@h:6380/0"
    assert settings["broker_use_ssl"] == {
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_ca_certs": "/etc/ca.pem",
    }


def test_celery_gets_no_tls_for_plain_redis() -> None:
    settings = deployment_settings(load_config(env_overrides={"celery_broker_url": "redis://h/0"}))
    assert settings["broker_use_ssl"] is None


def test_the_setting_is_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_SSL_CERT_REQS", "REQUIRED")
    assert load_config().settings.redis_tls == RedisTls("required")


def test_a_bad_setting_or_url_stops_the_start_naming_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_SSL_CERT_REQS", "sometimes")
    with pytest.raises(ConfigError, match="redis_ssl_cert_reqs"):
        load_config()
    monkeypatch.delenv("REDIS_SSL_CERT_REQS")
    monkeypatch.setenv("REDIS_URL", "rediss://h:6380/0?ssl_cert_reqs=sometimes")
    with pytest.raises(ConfigError, match=r"'redis_url'.*must be none, optional or required"):
        load_config()


def test_herokus_postgres_url_reaches_sqlalchemy_as_psycopg2() -> None:
    # Heroku sets DATABASE_URL=postgres://...; SQLAlchemy 1.4+ dropped the `postgres` name.
    settings = load_config(
        env_overrides={"database_url": "postgres://u:p@db.example:5432/d1"}
    ).settings
    assert settings.sqlalchemy_url == "postgresql+psycopg2://u:p@db.example:5432/d1"
    engine = create_engine(settings.sqlalchemy_url)  # no connection is made
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg2")
    assert engine.url.database == "d1"
    engine.dispose()
