"""`/healthz` says what would break: a database it cannot reach or one not migrated to the
schema this code needs (every write would fail), on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ci_remediator.config import load_config
from ci_remediator.db import migrate
from ci_remediator.services import Services
from ci_remediator.web import create_app
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A fresh database on the test server, never migrated."""
    name = "ci_remediator_health_probe"
    admin = create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def health(database_url: str) -> tuple[int, dict[str, str]]:
    services = Services(load_config(env_overrides={"database_url": database_url}))
    answer = create_app(services=lambda: services).test_client().get("/healthz")
    return answer.status_code, answer.get_json()


def test_an_unmigrated_database_is_unhealthy_and_says_what_to_run(empty_database: str) -> None:
    status, body = health(empty_database)

    assert status == 503
    assert "ci-remediator db upgrade" in body["schema"]


def test_a_database_one_migration_behind_is_unhealthy(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0012")

    status, body = health(empty_database)

    assert status == 503
    assert body["schema"].startswith("at 0012, code needs ")


def test_a_database_at_head_is_healthy(empty_database: str) -> None:
    migrate.upgrade(empty_database)

    assert health(empty_database) == (200, {"status": "ok"})
