"""The embedded store's transaction lock: a second caller waits for the first's commit and then
reads what it wrote (SQLite's own snapshots would otherwise hide it, and both would pass a cap).
SQLite here is the embedded default's store itself, not a stand-in for Postgres."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from ci_remediator.db import migrate
from ci_remediator.db.locks import lock_for_transaction
from ci_remediator.db.models import MetricSample
from ci_remediator.db.session import session_factory


def test_a_second_caller_waits_for_the_first_commit_and_sees_its_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    migrate.upgrade(url)
    sessions = session_factory(url)
    seen: list[int] = []

    def second() -> None:
        with sessions() as session, session.begin():
            lock_for_transaction(session, "gate:acme")
            seen.append(session.scalar(select(func.count(MetricSample.id))) or 0)

    with sessions() as session, session.begin():
        lock_for_transaction(session, "gate:acme")
        assert (session.scalar(select(func.count(MetricSample.id))) or 0) == 0
        session.add(MetricSample(name="remediation", value=1.0))
        session.flush()
        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive()  # waiting for this transaction's commit
    other.join(timeout=30)
    assert seen == [1]
