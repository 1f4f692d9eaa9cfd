"""Transaction-scoped locks by name, for decisions that read counts and then write.

On Postgres, `pg_advisory_xact_lock` makes a second transaction asking for the same name wait
for the first's commit (READ COMMITTED then shows it what the first wrote). SQLite, the
embedded single-process form, already lets one writing transaction through at a time.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session


def lock_for_transaction(session: Session, name: str) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(key)))
