"""The sandbox's JSON has the shape of GitHub's published examples.

Compared against the full OpenAPI description in the shared fixtures (not the copy the package
ships), so drift between the shipped copy and GitHub's description shows up here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ci_remediator.sandbox.github import GitHubSandbox

REPO_ROOT = Path(__file__).resolve().parents[3]
OPENAPI = REPO_ROOT / ".." / "shared" / "fixtures" / "github" / "openapi-actions-subset.json"
REPO = "acme/widgets"
AUTH = {"Authorization": "Bearer ghp_test"}
# GitHub sends `parent` and `source` only for forks; a sandbox repository is never a fork.
FORK_ONLY_KEYS = frozenset({"parent", "source"})

pytestmark = pytest.mark.skipif(
    not OPENAPI.exists(), reason=f"GitHub OpenAPI fixture not found at {OPENAPI}"
)


@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    document = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return {name: example["value"] for name, example in document["examples"].items()}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as started:
        started.add_repository(REPO)
        yield started


@pytest.fixture(scope="module")
def run_id(sandbox: GitHubSandbox) -> int:
    return sandbox.add_failed_run(REPO, workflow_name="CI", job_name="tests", log_text="boom\n")


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def shape_mismatches(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Every key of `expected` is in `actual` with the same JSON type, recursively.

    Null on either side matches anything: nullable fields (conclusion, completed_at,
    previous_attempt_url, ...) are null in one state and set in another.
    """
    if expected is None or actual is None:
        return []
    if json_type(expected) != json_type(actual):
        return [f"{where}: {json_type(actual)}, example has {json_type(expected)}"]
    if isinstance(expected, dict):
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += shape_mismatches(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list) and expected and actual:
        return shape_mismatches(expected[0], actual[0], f"{where}[0]")
    return []


def fetch(sandbox: GitHubSandbox, path: str) -> Any:
    response = requests.get(sandbox.url + path, headers=AUTH, timeout=5)
    response.raise_for_status()
    return response.json()


def first_job_id(sandbox: GitHubSandbox, run_id: int) -> int:
    return int(fetch(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/jobs")["jobs"][0]["id"])


CASES: dict[str, tuple[str, Callable[[GitHubSandbox, int], str]]] = {
    "run": ("workflow-run", lambda sb, run: f"/repos/{REPO}/actions/runs/{run}"),
    "run attempt": ("workflow-run", lambda sb, run: f"/repos/{REPO}/actions/runs/{run}/attempts/1"),
    "run list": ("workflow-run-paginated", lambda sb, run: f"/repos/{REPO}/actions/runs"),
    "jobs list": ("job-paginated", lambda sb, run: f"/repos/{REPO}/actions/runs/{run}/jobs"),
    "attempt jobs list": (
        "job-paginated",
        lambda sb, run: f"/repos/{REPO}/actions/runs/{run}/attempts/1/jobs",
    ),
    "job": ("job", lambda sb, run: f"/repos/{REPO}/actions/jobs/{first_job_id(sb, run)}"),
    "repository": ("full-repository", lambda sb, run: f"/repos/{REPO}"),
    "rate limit": ("rate-limit-overview", lambda sb, run: "/rate_limit"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sandbox_json_has_the_examples_shape(
    case: str, examples: dict[str, Any], sandbox: GitHubSandbox, run_id: int
) -> None:
    example_name, path_of = CASES[case]
    expected = examples[example_name]
    if example_name == "full-repository":
        expected = {k: v for k, v in expected.items() if k not in FORK_ONLY_KEYS}

    actual = fetch(sandbox, path_of(sandbox, run_id))

    assert shape_mismatches(expected, actual) == []


def test_shipped_examples_match_the_openapi_description(examples: dict[str, Any]) -> None:
    shipped_path = REPO_ROOT / "ci_remediator" / "sandbox" / "data" / "github_examples.json"
    shipped = json.loads(shipped_path.read_text(encoding="utf-8"))["examples"]

    for name, value in shipped.items():
        assert value == examples[name], name


def test_shape_check_catches_a_wrong_type_and_a_missing_key() -> None:
    expected = {"id": 1, "steps": [{"name": "x"}], "conclusion": None}

    assert shape_mismatches(expected, {"id": "1", "steps": [{}], "conclusion": "failure"}) == [
        "$.id: string, example has integer",
        "$.steps[0].name: missing",
    ]
