"""What every remediation action offers the execute, verify and rollback steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ci_remediator.github.errors import PermanentGitHubError

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import RunInfo


@dataclass(frozen=True, slots=True)
class IssueDraft:
    """A tracking issue's text. The body is built by `actions.issue_text` (untrusted parts
    fenced); `marker` finds it again among the open issues."""

    title: str
    body: str
    marker: str


@dataclass(frozen=True, slots=True)
class RemediationTarget:
    """The run a remediation acts on, as stored before the call, and what it is to do there:
    the parameters the gate filled from configured templates, and what GitHub returned so far."""

    repository: str
    run_id: int
    target_attempt: int
    created_at: datetime
    head_branch: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] = field(default_factory=dict)
    issue: IssueDraft | None = None
    # The run as the execute step read it just before (reruns): the action need not ask again.
    latest: RunInfo | None = None
    # How the awaited attempt concluded, as its signed `workflow_run` delivery said (reruns).
    observed_conclusion: str | None = None


@dataclass(frozen=True, slots=True)
class Executed:
    """What carrying the action out did: words for people, and what GitHub returned (attempt,
    issue number, links ...) for the record."""

    detail: str
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    completed: bool
    succeeded: bool = False
    detail: str = ""
    # What GitHub says now, merged into the remediation's result (a dispatched run's id ...).
    result: dict[str, Any] = field(default_factory=dict)
    # The attempt of the failed run itself that passed, for flaky evidence (reruns only).
    passed_attempt: int | None = None
    # That new attempt of the failed run as GitHub reported it (reruns only).
    attempt: RunInfo | None = None


# GitHub's answer to cancelling a run that completed meanwhile.
_ALREADY_COMPLETED = 409


def cancel_if_still_running(gateway: GitHubGateway, repository: str, run_id: int) -> bool:
    """Cancel the run's attempt in progress; False when it completed before the cancel."""
    try:
        gateway.cancel_run(repository, run_id)
    except PermanentGitHubError as error:
        if error.status == _ALREADY_COMPLETED:
            return False
        raise
    return True


class RemediationAction(Protocol):
    def prepare(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed | None:
        """What must be done, and kept, before `execute` (the caches deleted before a rerun):
        the execute step commits its result, then sends itself again for `execute`, so a call
        that fails after it cannot lose the record. None when nothing is (left) to prepare:
        `target.result` holds what an earlier call prepared."""

    def execute(self, gateway: GitHubGateway, target: RemediationTarget) -> Executed:
        """Do it once. Safe to call again after a crash: it first checks whether GitHub
        already has what it would start."""

    def outcome(self, gateway: GitHubGateway, target: RemediationTarget) -> Outcome:
        """Where what it started stands, as GitHub reports it now."""

    def rollback(self, gateway: GitHubGateway, target: RemediationTarget) -> str | None:
        """Undo what is still undoable (the verify deadline passed); what was undone, or None
        when nothing was left to undo. Safe to call again after a crash."""
