"""Is re-running this run still worth anything? Not when a newer run of its workflow on its
branch exists (that run answers whether the branch is green), nor when the branch has moved
past the run's commit (a rerun would test code the branch no longer holds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ci_remediator.github.values import newer_than

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import RunInfo


@dataclass(frozen=True, slots=True)
class Supersession:
    run_id: int | None = None  # a newer run of the workflow on the branch
    commit: str | None = None  # or the commit the branch points at now

    def describe(self, branch: str | None) -> str | None:
        if self.run_id is not None:
            return f"run {self.run_id} of this workflow on {branch} is newer"
        if self.commit is not None:
            return f"{branch} has moved on to {self.commit[:7]}"
        return None


def supersession(
    gateway: GitHubGateway, run: RunInfo, *, branch_runs: Sequence[RunInfo] | None = None
) -> Supersession:
    """`branch_runs`: the branch's newest runs of the workflow, when the caller read them
    already (`GitHubGateway.branch_runs`)."""
    newer = gateway.newer_run(run) if branch_runs is None else newer_than(branch_runs, run)
    if newer is not None:
        return Supersession(run_id=newer.run_id)
    # A fork's branch lives in the fork: the base repository's branch of that name is another.
    if run.head_branch and run.head_sha and not run.from_fork:
        head = gateway.branch_head(run.repository, run.head_branch)
        if head is not None and head != run.head_sha:
            return Supersession(commit=head)
    return Supersession()
