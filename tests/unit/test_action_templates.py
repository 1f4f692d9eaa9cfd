"""Dispatch targets and cache keys come only from config templates filled with run metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_remediator.config import ConfigError, TemplateError, load_file_config, validate_template
from ci_remediator.policy.templates import (
    RunValues,
    dispatch_inputs,
    fill_template,
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


def test_good_templates_pass_the_grammar_but_are_not_accepted_until_the_catalog_uses_them(
    tmp_path: Path,
) -> None:
    assert validate_template("node-modules-{branch}") == "node-modules-{branch}"
    path = write_config(tmp_path, {"cache_key_templates": ["node-modules-{branch}"]})

    with pytest.raises(ConfigError, match="'cache_key_templates' is not supported yet"):
        load_file_config(path)
