"""The configuration disposes: which action a category gets (policy.action_choice)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ci_remediator.config import FileConfig, RepositoryPolicy, resolve_policy
from ci_remediator.domain import ActionKind, Category
from ci_remediator.policy.action_choice import choose_action

A = ActionKind


def policy(document: dict[str, object], repository: str = "acme/web") -> RepositoryPolicy:
    return resolve_policy(FileConfig.model_validate(document), repository)


def test_by_default_a_transient_failure_keeps_the_rerun_it_was_proposed() -> None:
    choice = choose_action(
        policy({}), category=Category.INFRASTRUCTURE, proposed=A.RERUN_FAILED_JOBS
    )

    assert choice.kind is A.RERUN_FAILED_JOBS
    assert choice.reason is None


def test_by_default_a_real_defect_is_never_re_run_whatever_was_proposed() -> None:
    choice = choose_action(
        policy({}), category=Category.COMPILE_ERROR, proposed=A.RERUN_FAILED_JOBS
    )

    assert choice.kind is A.OPEN_TRACKING_ISSUE
    assert "category_actions allows compile_error only open_tracking_issue" in (choice.reason or "")


def test_a_cache_clear_needs_configured_templates_before_it_can_be_chosen() -> None:
    without = choose_action(
        policy({}), category=Category.DEPENDENCY, proposed=A.CLEAR_CACHE_AND_RERUN
    )
    with_templates = choose_action(
        policy({"cache_key_templates": ["deps-{branch}"]}),
        category=Category.DEPENDENCY,
        proposed=A.CLEAR_CACHE_AND_RERUN,
    )

    assert without.kind is A.RERUN_FAILED_JOBS  # the category's first available action
    assert with_templates.kind is A.CLEAR_CACHE_AND_RERUN


def test_an_empty_list_means_a_category_never_gets_an_action() -> None:
    choice = choose_action(
        policy({"category_actions": {"flaky_test": []}}),
        category=Category.FLAKY_TEST,
        proposed=A.RERUN_FAILED_JOBS,
    )

    assert choice.kind is A.NONE
    assert "allows flaky_test nothing" in (choice.reason or "")


def test_a_repository_override_replaces_only_the_categories_it_names() -> None:
    document = {
        "category_actions": {"timeout": ["rerun_with_debug_logging"]},
        "repository_configs": {"acme/api": {"category_actions": {"timeout": []}}},
    }

    web, api = policy(document), policy(document, "acme/api")

    assert web.category_actions[Category.TIMEOUT] == (A.RERUN_WITH_DEBUG_LOGGING,)
    assert api.category_actions[Category.TIMEOUT] == ()
    assert api.category_actions[Category.FLAKY_TEST] == web.category_actions[Category.FLAKY_TEST]


def test_an_unknown_action_in_category_actions_is_refused_naming_the_key() -> None:
    with pytest.raises(ValidationError, match=r"category_actions\.lint\.0"):
        FileConfig.model_validate({"category_actions": {"lint": ["run_shell"]}})
