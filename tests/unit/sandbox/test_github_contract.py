"""Every route the GitHub sandbox serves answers in the shape GitHub documents for it.

The routes come from the sandbox itself, so a new route without a case here fails. Each case
makes one request; its answer must have a status the OpenAPI description documents for that
path and method, and the keys and JSON types of the example documented for that status
(or an empty body where GitHub documents none). Compared against the full OpenAPI subset in
the shared fixtures (not the copy the package ships), so drift between the shipped copy and
GitHub's description shows up here too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from ci_remediator.sandbox.github import GitHubSandbox
from tests.shared_fixtures import SHARED_FIXTURES

REPO_ROOT = Path(__file__).resolve().parents[3]
OPENAPI = SHARED_FIXTURES / "github" / "openapi-actions-subset.json"
REPO = "acme/widgets"
USER_TOKEN = "ghp_test"
APP_ID = 11
INSTALLATION_ID = 111
# Keys GitHub sends only in some states: `parent`/`source` for forks (a sandbox repository is
# never one), `pull_request` for issues that are pull requests.
STATE_DEPENDENT_KEYS = frozenset({"parent", "source", "pull_request"})
# GitHub sends Link only when there is another page.
CONDITIONAL_HEADERS = frozenset({"Link"})
# Served, but outside the OpenAPI subset: the example GitHub documents for the same object.
EXAMPLES_OUTSIDE_THE_SUBSET = {("GET", "/app/installations/{installation_id}"): "installation"}
# Served, outside the subset and its examples: GitHub's documented example, shipped with the
# sandbox (data/github_environments_example.json, its provenance in LICENSE-github-examples.md).
SHIPPED_OUTSIDE_THE_SUBSET = {
    ("GET", "/repos/{owner}/{repo}/environments"): "github_environments_example.json"
}

pytestmark = pytest.mark.skipif(
    not OPENAPI.exists(), reason=f"GitHub OpenAPI fixture not found at {OPENAPI}"
)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return dict(json.loads(OPENAPI.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def examples(spec: dict[str, Any]) -> dict[str, Any]:
    return {name: example["value"] for name, example in spec["examples"].items()}


@dataclass
class World:
    """A started sandbox with one of everything, and ways to ask it as a user or as the app."""

    sandbox: GitHubSandbox
    run_id: int
    pem: str

    def request(
        self, method: str, path: str, *, token: str = USER_TOKEN, **kwargs: Any
    ) -> requests.Response:
        headers = {"Authorization": f"token {token}"}
        return requests.request(
            method, self.sandbox.url + path, headers=headers, timeout=5, **kwargs
        )

    def as_app(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        now = int(time.time())
        claims = {"iat": now - 60, "exp": now + 300, "iss": str(APP_ID)}
        token = jwt.encode(claims, self.pem, algorithm="RS256")
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(
            method, self.sandbox.url + path, headers=headers, timeout=5, **kwargs
        )

    def fresh_run(self, **overrides: Any) -> int:
        arguments: dict[str, Any] = {"workflow_name": "CI", "job_name": "tests", "log_text": "x"}
        arguments.update(overrides)
        return self.sandbox.add_failed_run(REPO, **arguments)

    def job_id(self) -> int:
        jobs = self.request("GET", f"/repos/{REPO}/actions/runs/{self.run_id}/jobs").json()
        return int(jobs["jobs"][0]["id"])

    def issue_number(self) -> int:
        created = self.request("POST", f"/repos/{REPO}/issues", json={"title": "CI broken"})
        return int(created.json()["number"])

    def installation_token(self) -> str:
        path = f"/app/installations/{INSTALLATION_ID}/access_tokens"
        return str(self.as_app("POST", path).json()["token"])


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with GitHubSandbox() as sandbox:
        sandbox.add_repository(REPO)
        run_id = sandbox.add_failed_run(REPO, workflow_name="CI", job_name="tests", log_text="x")
        sandbox.add_workflow(REPO, "Deploy", path=".github/workflows/deploy.yml")
        pem = sandbox.register_app(APP_ID, installation_id=INSTALLATION_ID, repositories=[REPO])
        yield World(sandbox, run_id, pem)


def running_rerun(world: World) -> int:
    run_id = world.fresh_run(polls_until_complete=5)
    world.request("POST", f"/repos/{REPO}/actions/runs/{run_id}/rerun-failed-jobs")
    return run_id


def cache_key(world: World) -> str:
    key = f"Linux-pip-{time.monotonic_ns()}"
    world.sandbox.add_cache(REPO, key)
    return key


R = "/repos/{owner}/{repo}"
RUNS = R + "/actions/runs"
CASES: dict[tuple[str, str], Callable[[World], requests.Response]] = {
    ("GET", "/rate_limit"): lambda w: w.request("GET", "/rate_limit"),
    ("GET", R): lambda w: w.request("GET", f"/repos/{REPO}"),
    ("GET", RUNS): lambda w: w.request("GET", f"/repos/{REPO}/actions/runs"),
    ("GET", RUNS + "/{run_id}"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/runs/{w.run_id}"
    ),
    ("GET", RUNS + "/{run_id}/attempts/{attempt_number}"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/runs/{w.run_id}/attempts/1"
    ),
    ("GET", RUNS + "/{run_id}/jobs"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/runs/{w.run_id}/jobs"
    ),
    ("GET", RUNS + "/{run_id}/attempts/{attempt_number}/jobs"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/runs/{w.run_id}/attempts/1/jobs"
    ),
    ("GET", RUNS + "/{run_id}/approvals"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/runs/{w.fresh_run(environments=('production',))}/approvals"
    ),
    ("GET", R + "/environments"): lambda w: (
        w.fresh_run(environments=("production",)),
        w.request("GET", f"/repos/{REPO}/environments"),
    )[1],
    ("GET", R + "/actions/jobs/{job_id}"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/jobs/{w.job_id()}"
    ),
    ("GET", R + "/actions/jobs/{job_id}/logs"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/jobs/{w.job_id()}/logs", allow_redirects=False
    ),
    ("POST", RUNS + "/{run_id}/rerun-failed-jobs"): lambda w: w.request(
        "POST", f"/repos/{REPO}/actions/runs/{w.fresh_run()}/rerun-failed-jobs"
    ),
    ("POST", RUNS + "/{run_id}/rerun"): lambda w: w.request(
        "POST", f"/repos/{REPO}/actions/runs/{w.fresh_run()}/rerun"
    ),
    ("POST", RUNS + "/{run_id}/cancel"): lambda w: w.request(
        "POST", f"/repos/{REPO}/actions/runs/{running_rerun(w)}/cancel"
    ),
    ("GET", R + "/actions/workflows"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/workflows"
    ),
    ("GET", R + "/actions/workflows/{workflow_id}"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/workflows/ci.yml"
    ),
    ("GET", R + "/actions/workflows/{workflow_id}/runs"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/workflows/ci.yml/runs"
    ),
    ("POST", R + "/actions/workflows/{workflow_id}/dispatches"): lambda w: w.request(
        "POST", f"/repos/{REPO}/actions/workflows/deploy.yml/dispatches", json={"ref": "main"}
    ),
    ("GET", R + "/actions/caches"): lambda w: w.request(
        "GET", f"/repos/{REPO}/actions/caches", params={"key": cache_key(w)}
    ),
    ("DELETE", R + "/actions/caches"): lambda w: w.request(
        "DELETE", f"/repos/{REPO}/actions/caches", params={"key": cache_key(w)}
    ),
    ("POST", R + "/issues"): lambda w: w.request(
        "POST", f"/repos/{REPO}/issues", json={"title": "CI broken", "labels": ["ci"]}
    ),
    ("GET", R + "/branches/{branch}"): lambda w: (
        w.sandbox.set_branch_head(REPO, "main", "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"),
        w.request("GET", f"/repos/{REPO}/branches/main"),
    )[1],
    ("GET", R + "/issues"): lambda w: (
        w.issue_number(),
        w.request("GET", f"/repos/{REPO}/issues", params={"state": "open"}),
    )[1],
    ("GET", R + "/issues/{issue_number}"): lambda w: w.request(
        "GET", f"/repos/{REPO}/issues/{w.issue_number()}"
    ),
    ("PATCH", R + "/issues/{issue_number}"): lambda w: w.request(
        "PATCH", f"/repos/{REPO}/issues/{w.issue_number()}", json={"state": "closed"}
    ),
    ("GET", "/orgs/{org}/repos"): lambda w: w.request("GET", "/orgs/acme/repos"),
    ("GET", R + "/installation"): lambda w: w.as_app("GET", f"/repos/{REPO}/installation"),
    ("GET", "/app/installations/{installation_id}"): lambda w: w.as_app(
        "GET", f"/app/installations/{INSTALLATION_ID}"
    ),
    ("POST", "/app/installations/{installation_id}/access_tokens"): lambda w: w.as_app(
        "POST", f"/app/installations/{INSTALLATION_ID}/access_tokens"
    ),
    ("GET", "/installation/repositories"): lambda w: w.request(
        "GET", "/installation/repositories", token=w.installation_token()
    ),
}
ROUTES = GitHubSandbox().routes  # what the sandbox serves, read without starting it

NO_BODY = object()


def documented_answer(
    spec: dict[str, Any], method: str, template: str, status: int
) -> tuple[Any, dict[str, Any]]:
    """(example value or NO_BODY, documented headers) for this path, method and status."""
    shipped = SHIPPED_OUTSIDE_THE_SUBSET.get((method, template))
    if shipped is not None:
        data = REPO_ROOT / "ci_remediator" / "sandbox" / "data" / shipped
        return json.loads(data.read_text(encoding="utf-8"))["example"], {}
    outside = EXAMPLES_OUTSIDE_THE_SUBSET.get((method, template))
    if outside is not None:
        return spec["examples"][outside]["value"], {}
    operation = spec["paths"][template][method.lower()]
    documented = operation["responses"].get(str(status))
    assert documented is not None, f"{method} {template}: status {status} is not documented"
    content = documented.get("content", {}).get("application/json")
    if content is None:
        return NO_BODY, documented.get("headers", {})
    entry = next(iter(content["examples"].values()))
    return resolve(spec, entry), documented.get("headers", {})


def resolve(spec: dict[str, Any], entry: dict[str, Any]) -> Any:
    """An OpenAPI example entry's value, following `$ref`s to components/examples."""
    if "$ref" in entry:
        return resolve(spec, spec["examples"][entry["$ref"].rsplit("/", 1)[-1]])
    value = entry.get("value")
    if isinstance(value, dict) and set(value) == {"$ref"}:
        return resolve(spec, value)
    return value


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
            if key in STATE_DEPENDENT_KEYS:
                continue
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += shape_mismatches(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list) and expected and actual:
        return shape_mismatches(expected[0], actual[0], f"{where}[0]")
    return []


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {t}" for m, t in ROUTES])
def test_every_route_answers_in_the_documented_shape(
    method: str, template: str, spec: dict[str, Any], world: World
) -> None:
    case = CASES.get((method, template))
    assert case is not None, f"no contract case for {method} {template}: add one to CASES"

    response = case(world)

    assert response.status_code < 400, response.text
    expected, headers = documented_answer(spec, method, template, response.status_code)
    assert all(name in response.headers for name in headers if name not in CONDITIONAL_HEADERS)
    if expected is NO_BODY:
        assert response.content == b""
    elif expected is None:  # GitHub documents an empty object with a null example
        assert response.json() == {}
    else:
        assert shape_mismatches(expected, response.json()) == []


def test_a_run_from_a_fork_answers_in_the_documented_shape(
    spec: dict[str, Any], world: World
) -> None:
    run_id = world.fresh_run(head_repository="alice/widgets", event="pull_request")

    response = world.request("GET", f"/repos/{REPO}/actions/runs/{run_id}")

    expected, _ = documented_answer(spec, "GET", RUNS + "/{run_id}", response.status_code)
    assert shape_mismatches(expected, response.json()) == []
    assert response.json()["head_repository"]["fork"] is True


def test_the_review_history_matches_githubs_example_but_for_identities(
    spec: dict[str, Any], world: World
) -> None:
    run_id = world.fresh_run(environments=("staging",))
    example, _ = documented_answer(spec, "GET", RUNS + "/{run_id}/approvals", 200)

    (review,) = world.request("GET", f"/repos/{REPO}/actions/runs/{run_id}/approvals").json()

    assert set(review) == set(example[0])
    assert set(review["environments"][0]) == set(example[0]["environments"][0])
    assert set(review["user"]) == set(example[0]["user"])
    assert (review["state"], review["environments"][0]["name"]) == ("approved", "staging")


def test_every_case_is_a_served_route() -> None:
    assert set(CASES) - set(ROUTES) == set()


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


def test_documented_answer_follows_refs_and_knows_empty_bodies(spec: dict[str, Any]) -> None:
    run_example, _ = documented_answer(spec, "GET", RUNS + "/{run_id}", 200)
    rerun_example, _ = documented_answer(spec, "POST", RUNS + "/{run_id}/rerun", 201)
    logs, headers = documented_answer(spec, "GET", R + "/actions/jobs/{job_id}/logs", 302)

    assert run_example["id"] == spec["examples"]["workflow-run"]["value"]["id"]
    assert rerun_example is None
    assert logs is NO_BODY
    assert "Location" in headers
