"""What every remediation action offers the execute and verify steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import RunInfo


@dataclass(frozen=True, slots=True)
class RemediationTarget:
    """The run a remediation acts on and the attempt it starts, as stored before the call."""

    repository: str
    run_id: int
    target_attempt: int


class RemediationAction(Protocol):
    def execute(self, gateway: GitHubGateway, target: RemediationTarget) -> str:
        """Do it once; what happened, for the remediation's record. Safe to call again after
        a crash: it first checks whether GitHub already has what it would start."""

    def outcome(self, gateway: GitHubGateway, target: RemediationTarget) -> RunInfo:
        """The attempt the remediation started, as GitHub reports it now."""

    def rollback(self, gateway: GitHubGateway, target: RemediationTarget) -> str | None:
        """Undo what is still undoable (the verify deadline passed); what was undone, or None
        when nothing was left to undo. Safe to call again after a crash."""
