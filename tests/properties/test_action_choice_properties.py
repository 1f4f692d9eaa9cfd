"""Neither the rules nor the model can choose an action the configuration does not allow."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ci_remediator.config import FileConfig, RepositoryPolicy, resolve_policy
from ci_remediator.domain import ActionKind, Category
from ci_remediator.policy.action_choice import available_actions, choose_action
from ci_remediator.policy.catalog import action_spec

kinds = st.sampled_from(list(ActionKind))
categories = st.sampled_from(list(Category))


@st.composite
def policies(draw: st.DrawFn) -> RepositoryPolicy:
    document: dict[str, object] = {
        "category_actions": draw(
            st.dictionaries(categories, st.lists(kinds, max_size=4, unique=True), max_size=6)
        ),
    }
    if draw(st.booleans()):
        document["cache_key_templates"] = ["deps-{branch}"]
    if draw(st.booleans()):
        document["remediation_workflows"] = ["heal.yml"]
    return resolve_policy(FileConfig.model_validate(document), "acme/web")


@given(policies(), categories, kinds)
def test_the_chosen_action_is_none_or_one_the_category_may_get(
    policy: RepositoryPolicy, category: Category, proposed: ActionKind
) -> None:
    choice = choose_action(policy, category=category, proposed=proposed)

    assert choice.kind is ActionKind.NONE or choice.kind in policy.category_actions[category]
    assert choice.kind is ActionKind.NONE or choice.kind in available_actions(policy, category)
    # Taken as proposed exactly when no reason is given.
    assert (choice.reason is None) == (choice.kind is proposed)


@given(policies(), categories)
def test_none_proposed_stays_none(policy: RepositoryPolicy, category: Category) -> None:
    assert (
        choose_action(policy, category=category, proposed=ActionKind.NONE).kind is ActionKind.NONE
    )


@given(policies(), categories, kinds)
def test_an_action_whose_parameters_are_not_configured_is_never_chosen(
    policy: RepositoryPolicy, category: Category, proposed: ActionKind
) -> None:
    chosen = choose_action(policy, category=category, proposed=proposed).kind
    requires = action_spec(chosen).requires

    assert requires is None or getattr(policy, requires)
