"""Neither the rules nor the model can choose an action the configuration does not allow, nor
lower the gate: whatever an analysis says, the action is the catalog's and the risk the gate
weighs is never below the action's floor nor the rules' risk."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from ci_remediator.config import FileConfig, RepositoryPolicy, resolve_policy
from ci_remediator.domain import ActionKind, Category
from ci_remediator.policy.action_choice import available_actions, choose_action
from ci_remediator.policy.catalog import CATALOG, action_spec
from tests.integration.conftest import engine  # noqa: F401 - the session-scoped fixture
from tests.properties.profiles import examples
from tests.properties.test_safety_gate_properties import (
    REPOSITORY,
    GateScenario,
    gate_on_postgres,
    gate_scenarios,
    rolled_back,
)

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
    """Property 61 (Analysis): the chosen action is `none` or one category_actions allows the
    category, and it is the proposal exactly when no reason is given."""
    choice = choose_action(policy, category=category, proposed=proposed)

    assert choice.kind is ActionKind.NONE or choice.kind in policy.category_actions[category]
    assert choice.kind is ActionKind.NONE or choice.kind in available_actions(policy, category)
    # Taken as proposed exactly when no reason is given.
    assert (choice.reason is None) == (choice.kind is proposed)


@given(policies(), categories)
def test_none_proposed_stays_none(policy: RepositoryPolicy, category: Category) -> None:
    """Property 61 (Analysis): an analysis that proposes nothing never gets an action."""
    assert (
        choose_action(policy, category=category, proposed=ActionKind.NONE).kind is ActionKind.NONE
    )


@given(policies(), categories, kinds)
def test_an_action_whose_parameters_are_not_configured_is_never_chosen(
    policy: RepositoryPolicy, category: Category, proposed: ActionKind
) -> None:
    """Property 61 (Analysis): an action whose parameters config.json does not name (cache
    keys, a remediation workflow) is never chosen."""
    chosen = choose_action(policy, category=category, proposed=proposed).kind
    requires = action_spec(chosen).requires

    assert requires is None or getattr(policy, requires)


@settings(max_examples=examples(40))
@given(gate_scenarios())
def test_no_analysis_yields_an_action_outside_the_catalog_or_lowers_the_gate(
    engine: Engine,  # noqa: F811 - the fixture imported above
    scenario: GateScenario,
) -> None:
    """Property 61 (Analysis): whatever category, proposal and risks an analysis stored, the
    gate step on Postgres records an action of the catalog that category_actions allows (or
    `none`), at an effective risk never below that action's floor, the rules' risk or the
    model's."""
    with rolled_back(engine) as session:
        decision = gate_on_postgres(session, scenario).decision

    policy = scenario.config.policy_for(REPOSITORY)
    assert decision.action in CATALOG
    assert decision.action is ActionKind.NONE or decision.action in available_actions(
        policy, scenario.category
    )
    floor = CATALOG[decision.action].min_risk
    assert decision.effective_risk >= min(10, max(floor, scenario.rules_risk, scenario.risk))
    assert 0 <= decision.effective_risk <= 10
