"""Parameters that reach GitHub for dispatch and cache remediations, from config only.

A dispatched workflow, its inputs and a cache key are built from configured templates filled
with run metadata GitHub itself reported (repository, branch, sha, run id ...). Never from
model output or log text. Templates use `{field}` placeholders from a fixed list; anything
else (attribute access, indexing, format specs, unknown names) is refused when the
configuration is loaded, not when a remediation runs.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

FIELDS = ("repository", "owner", "repo", "branch", "sha", "run_id", "run_attempt", "workflow")
_WORKFLOW_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.ya?ml$")
_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A template that could put something other than run metadata into a request."""


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


def validate_template(template: str) -> str:
    """The template unchanged, or TemplateError naming what is wrong with it."""
    if not template.strip():
        raise TemplateError("a template must not be empty")
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as error:
        raise TemplateError(f"{template!r}: {error}") from error
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS:
            raise TemplateError(
                f"{template!r}: unknown placeholder {{{field}}}; allowed: "
                + ", ".join(f"{{{name}}}" for name in FIELDS)
            )
        if spec or conversion:
            raise TemplateError(f"{template!r}: {{{field}}} takes no format spec or conversion")
    return template


def fill_template(template: str, values: RunValues) -> str:
    validate_template(template)
    return template.format_map(values.as_fields())


def validate_workflow_file(name: str) -> str:
    """A dispatch target is a workflow file name in `.github/workflows/`, nothing else."""
    if not _WORKFLOW_FILE.fullmatch(name):
        raise TemplateError(f"{name!r} is not a workflow file name like 'remediate.yml'")
    return name


def dispatch_inputs(values: RunValues) -> dict[str, str]:
    """The inputs a configured remediation workflow receives: the failed run's identity.

    The dispatched workflow must still treat them as data (a branch name is chosen by whoever
    pushed it).
    """
    fields = values.as_fields()
    return {name: fields[name] for name in ("repository", "branch", "sha", "run_id")}
