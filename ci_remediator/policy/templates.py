"""Parameters that reach GitHub for dispatch and cache remediations, from config only.

A dispatched workflow, its inputs and a cache key are built from configured templates (their
grammar is checked when the configuration loads, `config.validate_template`) filled with run
metadata GitHub itself reported (repository, branch, sha, run id ...). Never from model output
or log text.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import Any

from ci_remediator.config import RepositoryPolicy, validate_template
from ci_remediator.domain import ActionKind


@dataclass(frozen=True, slots=True)
class RunValues:
    """The run metadata a template may use, as GitHub reported it."""

    repository: str
    branch: str  # "" for a run with no branch
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
    """The template filled with the run's metadata; ParameterError when it names a field the
    run does not have (a branch): "deps-{branch}" filled as "deps-" would name another
    cache, "heal-{branch}" another ref."""
    validate_template(template)
    fields = values.as_fields()
    for _, name, _, _ in Formatter().parse(template):
        if name is not None and not fields[name]:
            raise ParameterError(f"{template!r} needs {{{name}}}, and the run has no {name}")
    return template.format_map(fields)


def dispatch_inputs(values: RunValues) -> dict[str, str]:
    """The inputs a configured remediation workflow receives: the failed run's identity.

    The dispatched workflow must still treat them as data (a branch name is chosen by whoever
    pushed it).
    """
    fields = values.as_fields()
    return {name: fields[name] for name in ("repository", "branch", "sha", "run_id")}


class ParameterError(ValueError):
    """The run lacks the metadata a configured template needs (a branch, say)."""


def remediation_parameters(
    kind: ActionKind, policy: RepositoryPolicy, values: RunValues
) -> dict[str, Any]:
    """What `kind` will send to GitHub besides the run's identity, filled now (at the gate) so
    that an approval shows exactly that and a later change of config.json cannot alter it."""
    if kind is ActionKind.RERUN_WITH_DEBUG_LOGGING:
        return {"enable_debug_logging": True}
    if kind is ActionKind.CLEAR_CACHE_AND_RERUN:
        keys = dict.fromkeys(fill_template(t, values) for t in policy.cache_key_templates)
        return {"cache_keys": list(keys)}
    if kind is ActionKind.DISPATCH_REMEDIATION_WORKFLOW:
        workflow = policy.remediation_workflows[0]
        ref = fill_template(workflow.ref, values)
        if not ref:
            raise ParameterError(f"{workflow.workflow}: the run has no branch to dispatch on")
        inputs = (
            {name: fill_template(t, values) for name, t in workflow.inputs.items()}
            if workflow.inputs is not None
            else dispatch_inputs(values)
        )
        return {"workflow": workflow.workflow, "ref": ref, "inputs": inputs}
    return {}
