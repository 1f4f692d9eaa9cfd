"""Parameters that reach GitHub for dispatch and cache remediations, from config only.

A dispatched workflow, its inputs and a cache key are built from configured templates (their
grammar is checked when the configuration loads, `config.validate_template`) filled with run
metadata GitHub itself reported (repository, branch, sha, run id ...). Never from model output
or log text.
"""

from __future__ import annotations

from dataclasses import dataclass

from ci_remediator.config import validate_template


@dataclass(frozen=True, slots=True)
class RunValues:
    """The run metadata a template may use, as GitHub reported it."""

    repository: str
    branch: str
    sha: str
    run_id: int
    run_attempt: int
    workflow: str

    def as_fields(self) -> dict[str, str]:
        owner, _, repo = self.repository.partition("/")
        return {
            "repository": self.repository,
            "owner": owner,
            "repo": repo,
            "branch": self.branch,
            "sha": self.sha,
            "run_id": str(self.run_id),
            "run_attempt": str(self.run_attempt),
            "workflow": self.workflow,
        }


def fill_template(template: str, values: RunValues) -> str:
    validate_template(template)
    return template.format_map(values.as_fields())


def dispatch_inputs(values: RunValues) -> dict[str, str]:
    """The inputs a configured remediation workflow receives: the failed run's identity.

    The dispatched workflow must still treat them as data (a branch name is chosen by whoever
    pushed it).
    """
    fields = values.as_fields()
    return {name: fields[name] for name in ("repository", "branch", "sha", "run_id")}
