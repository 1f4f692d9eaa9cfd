"""Which repositories are watched: the configured list, plus every repository of the
configured organizations (or, with GitHub App auth, of the App installation in them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.audit import record_audit
from ci_remediator.db.models import MonitoredRepository

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway


def expand_organizations(
    session: Session,
    *,
    gateway: GitHubGateway,
    organizations: tuple[str, ...],
    via_installation: bool,
) -> list[str]:
    """Sync the organizations' repositories into `monitored_repositories`; the names found.

    With App auth the installation's own list is used (an App sees only what it was granted);
    a repository that left an organization is disabled, never deleted (its history stays).
    """
    if not organizations:
        return []
    if via_installation:
        installed = gateway.list_installation_repositories()
        by_org = {org: [n for n in installed if _owner(n) == org.lower()] for org in organizations}
    else:
        by_org = {org: gateway.list_org_repositories(org) for org in organizations}
    found: list[str] = []
    for org, names in by_org.items():
        source = f"org:{org}"
        existing = {
            row.full_name: row
            for row in session.scalars(
                select(MonitoredRepository).where(
                    MonitoredRepository.full_name.in_(names)
                    | (MonitoredRepository.source == source)
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
        found.extend(names)
    record_audit(
        session,
        actor="monitor",
        action="organizations_expanded",
        detail={"organizations": list(organizations), "repositories": len(found)},
    )
    return found


def _owner(full_name: str) -> str:
    return full_name.split("/", 1)[0].lower()


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


# Polls of one cycle start within at most this share of the polling interval, leaving the rest
# for slow answers and retries before the next beat.
POLL_SPREAD_FRACTION = 0.5


def poll_start_offsets(count: int, *, interval_s: float, max_per_minute: int) -> list[float]:
    """When each of `count` polls should start, in seconds from the beat.

    Spread evenly over the time the request cap needs for one request per repository (so a
    thousand repositories make a steady trickle, not a burst the pacing would queue up), but
    never over more than half the interval, and not at all for a handful.
    """
    if count <= 0:
        return []
    spread_s = min(count * 60.0 / max_per_minute, interval_s * POLL_SPREAD_FRACTION)
    return [index * spread_s / count for index in range(count)]


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
