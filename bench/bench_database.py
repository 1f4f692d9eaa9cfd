"""A benchmark's own Postgres database, made anew for each run: created if missing, its schema
dropped and migrated to head. Shared by the benches that run the production path on Postgres."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ci_remediator.db import migrate


def fresh_database(url: str, **engine_options: Any) -> sa.Engine:
    server_url, _, name = url.rpartition("/")
    admin = sa.create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(url, **engine_options)
    with engine.begin() as connection:
        # Everything goes, tables of older schemas and their enum types included.
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    migrate.upgrade(url)
    return engine
