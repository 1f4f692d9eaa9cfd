"""The poll-cycle step: which repositories one beat polls, and when each poll starts.

Watched are the configured repositories plus every repository of the configured organizations
(or, with GitHub App auth, of the App installation in them), re-listed when the task says the
list is due. The polls are spread over the time the request cap needs for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ci_remediator.db.audit import record_audit
from ci_remediator.db.monitored_repositories import repositories_to_poll, sync_organization
from ci_remediator.domain import FollowUp, Step, StepResult
from ci_remediator.github.errors import AuthenticationError, GitHubError
from ci_remediator.policy.poll_schedule import poll_start_offsets

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PollPlan(StepResult):
    repositories: int = 0
    # False when an organization could not be listed this time (the task lets the next beat
    # try again; the repositories already known are polled meanwhile).
    organizations_listed: bool = True


def plan_poll_cycle(
    session: Session,
    *,
    gateway: GitHubGateway,
    configured: tuple[str, ...],
    organizations: tuple[str, ...],
    refresh_organizations: bool,
    via_installation: bool,
    interval_s: float,
    max_per_minute: int,
) -> PollPlan:
    listed = True
    if refresh_organizations and organizations:
        try:
            expand_organizations(
                session,
                gateway=gateway,
                organizations=organizations,
                via_installation=via_installation,
            )
        except AuthenticationError:
            raise
        except GitHubError as error:
            log.warning("organizations not re-listed this time: %s", error)
            listed = False
    repositories = repositories_to_poll(session, configured=configured)
    offsets = poll_start_offsets(
        len(repositories), interval_s=interval_s, max_per_minute=max_per_minute
    )
    return PollPlan(
        follow_ups=tuple(
            FollowUp(Step.POLL_REPOSITORY, repository=repository, countdown_s=offset)
            for repository, offset in zip(repositories, offsets, strict=True)
        ),
        repositories=len(repositories),
        organizations_listed=listed,
    )


def expand_organizations(
    session: Session,
    *,
    gateway: GitHubGateway,
    organizations: tuple[str, ...],
    via_installation: bool,
) -> list[str]:
    """Sync the organizations' repositories into `monitored_repositories`; the names found.

    With App auth the installation's own list is used (an App sees only what it was granted).
    Every organization is listed before anything is written, so a failed listing changes
    nothing.
    """
    if via_installation:
        installed = gateway.list_installation_repositories()
        by_org = {org: [n for n in installed if _owner(n) == org.lower()] for org in organizations}
    else:
        by_org = {org: gateway.list_org_repositories(org) for org in organizations}
    found: list[str] = []
    for org, names in by_org.items():
        sync_organization(session, organization=org, names=names)
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
