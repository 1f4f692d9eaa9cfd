"""Transaction-scoped locks by name, for decisions that read counts and then write.

On Postgres, `pg_advisory_xact_lock` makes a second transaction asking for the same name wait
for the first's commit (READ COMMITTED then shows it what the first wrote). SQLite (the
embedded form) has one write lock per database: a write as the transaction's first statement
takes it, so a second caller waits (busy_timeout) for the first's commit and then reads what
it wrote. Without that, SQLite reads before the first write see a snapshot of their own, and
two callers both count what neither has written yet (seen: a daily cap of two let three pass).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session


def lock_for_transaction(session: Session, name: str) -> None:
    """Hold `name` until this transaction ends. On SQLite, call it before the transaction's
    reads that must see other callers' writes."""
    if session.get_bind().dialect.name == "sqlite":
        # A write that changes nothing still begins the write transaction and takes the lock.
        session.execute(text("UPDATE leases SET holder = holder WHERE 1 = 0"))
        return
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(key)))
