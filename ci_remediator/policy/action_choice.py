"""Which catalog action a failure gets: the analyzer proposes, the configuration disposes.

Pure. `category_actions` lists the actions each category may get; an action whose parameters
the configuration does not name (no cache key templates, no remediation workflow) is never
available. A proposal outside the list becomes the list's first available action, and `none`
stays `none`: neither the rules nor the model can choose what the configuration does not allow.
"""

from __future__ import annotations

from dataclasses import dataclass

from ci_remediator.config import RepositoryPolicy
from ci_remediator.domain import ActionKind, Category
from ci_remediator.policy.catalog import action_spec


@dataclass(frozen=True, slots=True)
class ActionChoice:
    kind: ActionKind
    # Why the proposal was not taken as it stood; None when it was.
    reason: str | None = None


def available_actions(policy: RepositoryPolicy, category: Category) -> tuple[ActionKind, ...]:
    """The actions `category` may get in this repository, in the configured order."""
    configured = {
        None: True,
        "cache_key_templates": bool(policy.cache_key_templates),
        "remediation_workflows": bool(policy.remediation_workflows),
    }
    return tuple(
        kind
        for kind in policy.category_actions.get(category, ())
        if kind is not ActionKind.NONE and configured[action_spec(kind).requires]
    )


def choose_action(
    policy: RepositoryPolicy, *, category: Category, proposed: ActionKind
) -> ActionChoice:
    if proposed is ActionKind.NONE:
        return ActionChoice(ActionKind.NONE)
    allowed = available_actions(policy, category)
    if proposed in allowed:
        return ActionChoice(proposed)
    listed = ", ".join(allowed) or "nothing"
    if not allowed:
        return ActionChoice(
            ActionKind.NONE,
            f"{proposed} was proposed, but category_actions allows {category} {listed}",
        )
    return ActionChoice(
        allowed[0],
        f"{proposed} was proposed, but category_actions allows {category} only {listed}",
    )
