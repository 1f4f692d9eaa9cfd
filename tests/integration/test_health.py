"""`/healthz` and `/readyz` say what would break, on the real PostgreSQL and Redis: a database
it cannot reach or one not migrated to the schema this code needs (every write would fail), a
broker that does not answer, and (`/healthz`) polling that stopped."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from ci_remediator.config import load_config
from ci_remediator.db import migrate
from ci_remediator.db.base import utcnow
from ci_remediator.db.migrate import head_revision
from ci_remediator.db.models import MonitoredRepository
from ci_remediator.health import health as health_of
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


def health(
    database_url: str, path: str = "/healthz", **overrides: object
) -> tuple[int, dict[str, Any]]:
    services = Services(load_config(env_overrides={"database_url": database_url, **overrides}))
    answer = create_app(services=lambda: services).test_client().get(path)
    return answer.status_code, answer.get_json()


def closed_port() -> int:
    """A port nothing listens on (bound for a moment, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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

    assert health(empty_database) == (
        200,
        {"status": "ok", "broker": "ok", "last_poll_age_s": None},
    )


# ------------------------------------------------------------------------------ readyz ----


def test_ready_when_the_database_is_at_head_and_the_broker_answers(committed_db: Engine) -> None:
    assert health(TEST_DATABASE_URL, "/readyz") == (200, {"status": "ready"})


def test_not_ready_with_the_schema_behind(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0012")

    status, body = health(empty_database, "/readyz")

    assert status == 503
    assert body["status"] == "not ready"
    assert body["schema"].startswith("at 0012, code needs ")
    assert "broker" not in body


def test_not_ready_with_the_broker_down(committed_db: Engine) -> None:
    broker = f"redis://127.0.0.1:{closed_port()}/0"

    status, body = health(TEST_DATABASE_URL, "/readyz", celery_broker_url=broker)

    assert status == 503
    assert body["broker"].startswith("ConnectionError")
    assert "schema" not in body
    assert "database" not in body


def test_not_ready_with_the_database_unreachable() -> None:
    database = f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/none"

    status, body = health(database, "/readyz")

    assert status == 503
    assert body["database"] == "OperationalError"


# ---------------------------------------------------------------- healthz: broker, poll ----


def test_a_broker_that_does_not_answer_is_unhealthy(committed_db: Engine) -> None:
    broker = f"redis://127.0.0.1:{closed_port()}/0"

    status, body = health(TEST_DATABASE_URL, celery_broker_url=broker)

    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["broker"].startswith("ConnectionError")


def polled(engine: Engine, **ago: timedelta) -> None:
    """Monitored repositories whose last successful poll was this long ago."""
    with Session(engine) as session, session.begin():
        session.add_all(
            MonitoredRepository(full_name=name.replace("__", "/"), last_polled_at=utcnow() - age)
            for name, age in ago.items()
        )


def test_the_newest_successful_poll_is_reported(committed_db: Engine) -> None:
    # The default interval is 5 minutes: unhealthy polling is 3 intervals (15 minutes) old.
    polled(committed_db, acme__web=timedelta(minutes=2), acme__old=timedelta(hours=3))

    status, body = health(TEST_DATABASE_URL)

    assert (status, body["status"]) == (200, "ok")
    assert 120 <= body["last_poll_age_s"] < 3 * 300


def test_no_poll_for_three_intervals_is_degraded(committed_db: Engine) -> None:
    polled(committed_db, acme__web=timedelta(minutes=16))

    status, body = health(TEST_DATABASE_URL)

    assert (status, body["status"]) == (200, "degraded")
    assert body["last_poll_age_s"] >= 960
    assert body["poll"] == "no poll succeeded for over 900 s"


def test_a_disabled_repository_does_not_count_as_a_poll(committed_db: Engine) -> None:
    polled(committed_db, acme__web=timedelta(minutes=20))
    with Session(committed_db) as session, session.begin():
        session.add(
            MonitoredRepository(full_name="acme/gone", enabled=False, last_polled_at=utcnow())
        )

    assert health(TEST_DATABASE_URL)[1]["status"] == "degraded"


def test_never_polled_is_degraded_only_once_the_process_is_up_for_three_intervals(
    committed_db: Engine,
) -> None:
    services = Services(load_config(env_overrides={"database_url": TEST_DATABASE_URL}))
    head = head_revision()

    just_started = health_of(services, schema_head=head, started_at=time.monotonic())
    body, status = health_of(services, schema_head=head, started_at=time.monotonic() - 901)

    assert just_started == ({"status": "ok", "broker": "ok", "last_poll_age_s": None}, 200)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["last_poll_age_s"] is None
