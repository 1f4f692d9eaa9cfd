"""`INSERT ... ON CONFLICT` for the dialect in use: Postgres in production, SQLite embedded."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session, table: Any) -> Any:
    """An insert of `table` that has `.on_conflict_do_nothing()` on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
