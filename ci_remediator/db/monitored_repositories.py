"""The monitored repositories: configured ones, and those organizations expanded to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.db.models import MonitoredRepository


def monitored_repository(session: Session, full_name: str) -> MonitoredRepository:
    """The repository's row (its poll cursors), made on first use."""
    repository = session.scalar(
        select(MonitoredRepository).where(MonitoredRepository.full_name == full_name)
    )
    if repository is None:
        repository = MonitoredRepository(full_name=full_name)
        session.add(repository)
        session.flush()
    return repository


def sync_organization(session: Session, *, organization: str, names: Sequence[str]) -> None:
    """Make the organization's expanded rows match `names`: new ones added, ones that came
    back enabled, ones that left disabled (never deleted: their history stays)."""
    source = f"org:{organization}"
    existing = {
        row.full_name: row
        for row in session.scalars(
            select(MonitoredRepository).where(
                MonitoredRepository.full_name.in_(names) | (MonitoredRepository.source == source)
            )
        )
    }
    for name in names:
        row = existing.get(name)
        if row is None:
            session.add(MonitoredRepository(full_name=name, source=source))
        elif row.source == source:
            row.enabled = True
    for name, row in existing.items():
        if row.source == source and name not in names and row.enabled:
            row.enabled = False


# Rows an organization expanded to and that are still in it.
_EXPANDED_AND_ENABLED = (MonitoredRepository.enabled, MonitoredRepository.source.startswith("org:"))


def repositories_to_poll(session: Session, *, configured: tuple[str, ...]) -> list[str]:
    """The configured repositories, then the enabled ones organizations expanded to."""
    expanded = session.scalars(
        select(MonitoredRepository.full_name)
        .where(*_EXPANDED_AND_ENABLED)
        .order_by(MonitoredRepository.full_name)
    ).all()
    return list(dict.fromkeys([*configured, *expanded]))


def is_monitored(session: Session, repository: str, *, configured: tuple[str, ...]) -> bool:
    """Is the repository watched: configured, or found in a configured organization?

    An organization-wide webhook also reports repositories nobody asked to watch.
    """
    if repository in configured:
        return True
    return (
        session.scalar(
            select(MonitoredRepository.id).where(
                MonitoredRepository.full_name == repository, *_EXPANDED_AND_ENABLED
            )
        )
        is not None
    )
