from __future__ import annotations

from sqlalchemy import Engine, inspect

from ci_remediator.db import migrate
from tests.conftest import TEST_DATABASE_URL


def test_models_and_migrations_agree(engine: Engine) -> None:
    # alembic's own check: raises if autogenerate would produce any operation.
    migrate.check(TEST_DATABASE_URL)


def test_migrations_made_every_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert tables == {
        "alembic_version",
        "monitored_repositories",
        "failures",
        "analyses",
        "gate_decisions",
        "approval_requests",
        "remediations",
        "audit_entries",
        "metric_samples",
        "leases",
        "disabled_credentials",
        "notifications",
        "notification_threads",
        "decision_memories",
        "breaker_trips",
        "flaky_evidence",
        "task_stats",
        "observed_conclusions",
    }
