"""Dispatch targets and cache keys come only from config templates filled with run metadata."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ci_remediator.config import (
    ConfigError,
    TemplateError,
    load_file_config,
    resolve_policy,
    validate_template,
)
from ci_remediator.domain import ActionKind
from ci_remediator.policy.templates import (
    ParameterError,
    RunValues,
    dispatch_inputs,
    fill_template,
    remediation_parameters,
)

VALUES = RunValues(
    repository="acme/web",
    branch="feature/x",
    sha="0123abc",
    run_id=42,
    run_attempt=2,
    workflow="CI",
)


def test_a_template_is_filled_from_run_metadata() -> None:
    key = fill_template("node-modules-{owner}-{repo}-{branch}-{run_id}", VALUES)

    assert key == "node-modules-acme-web-feature/x-42"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{excerpt}", "unknown placeholder {excerpt}"),
        ("{run_id.__class__}", "unknown placeholder"),
        ("{branch[0]}", "unknown placeholder"),
        ("{run_id:>99}", "no format spec"),
        ("{branch!r}", "no format spec or conversion"),
        ("{", "Single '{'"),
        ("  ", "must not be empty"),
    ],
)
def test_templates_that_could_carry_anything_else_are_refused(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem.replace("[", r"\[").replace("{", r"\{")):
        validate_template(template)


def test_dispatch_inputs_are_the_runs_identity_only() -> None:
    assert dispatch_inputs(VALUES) == {
        "repository": "acme/web",
        "branch": "feature/x",
        "sha": "0123abc",
        "run_id": "42",
    }


def write_config(tmp_path: Path, document: dict[str, object]) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_bad_cache_key_template_is_refused_at_load_naming_the_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"cache_key_templates": ["deps-{branch}", "deps-{summary}"]})

    with pytest.raises(ConfigError, match=r"'cache_key_templates\.1'.*unknown placeholder"):
        load_file_config(path)


def test_a_dispatch_target_must_be_a_workflow_file_name(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        {"repository_configs": {"acme/web": {"remediation_workflows": ["../../evil.yml"]}}},
    )

    with pytest.raises(ConfigError, match=r"remediation_workflows\.0"):
        load_file_config(path)


def test_the_gate_fills_a_cache_clear_from_the_configured_templates_only(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, {"cache_key_templates": ["deps-{owner}-{branch}", "deps-{owner}-{branch}"]}
    )
    policy = resolve_policy(load_file_config(path), "acme/web")

    parameters = remediation_parameters(ActionKind.CLEAR_CACHE_AND_RERUN, policy, VALUES)

    assert parameters == {"cache_keys": ["deps-acme-feature/x"]}  # one delete per distinct key


def test_a_dispatch_takes_its_workflow_ref_and_inputs_from_config(tmp_path: Path) -> None:
    document = {
        "remediation_workflows": [
            {"workflow": "heal.yml", "ref": "main", "inputs": {"failed_run": "{run_id}"}},
            "other.yml",
        ]
    }
    policy = resolve_policy(load_file_config(write_config(tmp_path, document)), "acme/web")

    parameters = remediation_parameters(ActionKind.DISPATCH_REMEDIATION_WORKFLOW, policy, VALUES)

    assert parameters == {"workflow": "heal.yml", "ref": "main", "inputs": {"failed_run": "42"}}


def test_a_workflow_named_by_file_alone_gets_the_branch_and_the_runs_identity(
    tmp_path: Path,
) -> None:
    document = {"remediation_workflows": ["heal.yml"]}
    policy = resolve_policy(load_file_config(write_config(tmp_path, document)), "acme/web")

    parameters = remediation_parameters(ActionKind.DISPATCH_REMEDIATION_WORKFLOW, policy, VALUES)

    assert parameters == {
        "workflow": "heal.yml",
        "ref": "feature/x",
        "inputs": dispatch_inputs(VALUES),
    }


def test_a_run_without_a_branch_cannot_be_dispatched_on_it(tmp_path: Path) -> None:
    document = {"remediation_workflows": ["heal.yml"]}
    policy = resolve_policy(load_file_config(write_config(tmp_path, document)), "acme/web")

    with pytest.raises(ParameterError, match="no branch"):
        remediation_parameters(
            ActionKind.DISPATCH_REMEDIATION_WORKFLOW, policy, replace(VALUES, branch="")
        )


@pytest.mark.parametrize(
    ("workflow", "key"),
    [
        ({"workflow": "heal.yml", "inputs": {"bad name!": "{run_id}"}}, "inputs"),
        ({"workflow": "heal.yml", "inputs": {"run": "{excerpt}"}}, "inputs.run"),
        ({"workflow": "heal.yml", "ref": "{summary}"}, "ref"),
        ({"workflow": "heal.yml", "shell": "rm -rf /"}, "shell"),
    ],
)
def test_a_dispatch_input_outside_the_grammar_is_refused_naming_it(
    tmp_path: Path, workflow: dict[str, object], key: str
) -> None:
    path = write_config(tmp_path, {"remediation_workflows": [workflow]})

    with pytest.raises(ConfigError, match=rf"remediation_workflows\.0\.{key}"):
        load_file_config(path)


def test_the_other_actions_send_nothing_from_config(tmp_path: Path) -> None:
    policy = resolve_policy(load_file_config(write_config(tmp_path, {})), "acme/web")

    assert remediation_parameters(ActionKind.RERUN_FAILED_JOBS, policy, VALUES) == {}
    assert remediation_parameters(ActionKind.RERUN_WITH_DEBUG_LOGGING, policy, VALUES) == {
        "enable_debug_logging": True
    }
