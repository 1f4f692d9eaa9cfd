"""The engine, made once per process and never at import.

Celery's prefork pool forks children from the parent; a connection pool inherited across a fork
shares sockets between processes. So the engine is keyed by PID and made on first use, and the
worker disposes of it after the fork (workers/app.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from ci_remediator.config import normalize_database_url

_lock = threading.Lock()
_engines: dict[tuple[int, str], Engine] = {}


def make_engine(url: str) -> Engine:
    url = normalize_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    # WAL lets the in-process worker threads read while one writes; foreign keys are off by
    # default in SQLite and the cascade rules depend on them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine(url: str) -> Engine:
    key = (os.getpid(), normalize_database_url(url))
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = make_engine(url)
        return engine


def forget_engines() -> None:
    """Drop engines inherited from a parent process without closing the parent's sockets."""
    with _lock:
        for (pid, _url), engine in list(_engines.items()):
            if pid != os.getpid():
                engine.dispose(close=False)
        _engines.clear()


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """One explicit unit of work: commit on success, roll back on any exception."""
    with session_factory(url)() as session, session.begin():
        yield session
