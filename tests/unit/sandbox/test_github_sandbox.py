"""The GitHub sandbox at the HTTP level: what a client that is not PyGithub would see."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import github
import pytest
import requests

from ci_remediator.sandbox.github import GitHubSandbox, RecordedRequest

REPO = "acme/widgets"
AUTH = {"Authorization": "Bearer ghp_test"}
RATE_HEADERS = (
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-used",
    "x-ratelimit-resource",
)


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    with GitHubSandbox() as started:
        started.add_repository(REPO)
        yield started


def get(sandbox: GitHubSandbox, path: str, **params: Any) -> requests.Response:
    return requests.get(sandbox.url + path, headers=AUTH, params=params, timeout=5)


def post(sandbox: GitHubSandbox, path: str) -> requests.Response:
    return requests.post(sandbox.url + path, headers=AUTH, timeout=5)


def add_run(sandbox: GitHubSandbox, **overrides: Any) -> int:
    arguments: dict[str, Any] = {"workflow_name": "CI", "job_name": "tests", "log_text": "boom\n"}
    arguments.update(overrides)
    return sandbox.add_failed_run(REPO, **arguments)


def test_start_is_idempotent_and_url_points_at_localhost() -> None:
    sandbox = GitHubSandbox()
    assert sandbox.start() is sandbox
    url = sandbox.url
    assert sandbox.start().url == url
    assert url.startswith("http://127.0.0.1:")
    sandbox.stop()
    sandbox.stop()
    with pytest.raises(RuntimeError, match="not started"):
        _ = sandbox.url


def test_requests_without_authorization_get_401(sandbox: GitHubSandbox) -> None:
    response = requests.get(f"{sandbox.url}/repos/{REPO}", timeout=5)

    assert response.status_code == 401
    assert response.json()["message"] == "Requires authentication"


def test_unknown_things_get_githubs_404_body(sandbox: GitHubSandbox) -> None:
    for path in (
        "/repos/acme/missing",
        f"/repos/{REPO}/actions/runs/1",
        f"/repos/{REPO}/actions/jobs/1",
        f"/repos/{REPO}/no/such/endpoint",
    ):
        response = get(sandbox, path)
        assert response.status_code == 404, path
        assert response.json()["message"] == "Not Found"
        assert response.json()["documentation_url"].startswith("https://docs.github.com/")


def test_every_api_response_carries_rate_limit_headers(sandbox: GitHubSandbox) -> None:
    add_run(sandbox)
    responses = [
        get(sandbox, f"/repos/{REPO}"),
        get(sandbox, f"/repos/{REPO}/actions/runs"),
        get(sandbox, "/repos/acme/missing"),
        requests.get(f"{sandbox.url}/rate_limit", timeout=5),
    ]

    for response in responses:
        assert all(name in response.headers for name in RATE_HEADERS)
    assert responses[1].headers["x-ratelimit-resource"] == "core"
    assert int(responses[1].headers["x-ratelimit-remaining"]) < 5000


def test_rate_limit_endpoint_reports_the_budget_without_spending_it(
    sandbox: GitHubSandbox,
) -> None:
    sandbox.set_rate_limit(remaining=10)

    body = get(sandbox, "/rate_limit").json()
    again = get(sandbox, "/rate_limit").json()

    assert body["resources"]["core"]["remaining"] == 10
    assert again["resources"]["core"]["remaining"] == 10
    assert body["rate"] == body["resources"]["core"]


def test_spent_budget_answers_githubs_rate_limit_403(sandbox: GitHubSandbox) -> None:
    sandbox.set_rate_limit(remaining=1)

    assert get(sandbox, f"/repos/{REPO}").status_code == 200
    limited = get(sandbox, f"/repos/{REPO}")

    assert limited.status_code == 403
    assert limited.json()["message"].startswith("API rate limit exceeded")
    assert limited.headers["x-ratelimit-remaining"] == "0"


def test_run_list_pages_with_githubs_link_header(sandbox: GitHubSandbox) -> None:
    for _ in range(75):
        add_run(sandbox)

    first = get(sandbox, f"/repos/{REPO}/actions/runs", status="failure", per_page=30)
    middle = get(sandbox, f"/repos/{REPO}/actions/runs", status="failure", per_page=30, page=2)
    last = get(sandbox, f"/repos/{REPO}/actions/runs", status="failure", per_page=30, page=3)

    base = f"{sandbox.url}/repos/{REPO}/actions/runs?status=failure&per_page=30"
    assert first.headers["Link"] == (f'<{base}&page=2>; rel="next", <{base}&page=3>; rel="last"')
    assert middle.headers["Link"] == (
        f'<{base}&page=1>; rel="prev", <{base}&page=3>; rel="next", '
        f'<{base}&page=3>; rel="last", <{base}&page=1>; rel="first"'
    )
    assert 'rel="next"' not in last.headers["Link"]
    assert [len(r.json()["workflow_runs"]) for r in (first, middle, last)] == [30, 30, 15]
    assert first.json()["total_count"] == 75


def test_run_list_is_newest_first_and_caps_per_page(sandbox: GitHubSandbox) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    for minutes in (5, 1, 3):
        add_run(sandbox, created_at=start + timedelta(minutes=minutes))
    for _ in range(120):
        add_run(sandbox, created_at=start)

    body = get(sandbox, f"/repos/{REPO}/actions/runs", per_page=500).json()

    created = [run["created_at"] for run in body["workflow_runs"]]
    assert len(created) == 100
    assert created[:3] == ["2024-05-01T00:05:00Z", "2024-05-01T00:03:00Z", "2024-05-01T00:01:00Z"]


def test_run_list_filters_by_status_or_conclusion(sandbox: GitHubSandbox) -> None:
    failed = add_run(sandbox)
    timed_out = add_run(sandbox, conclusion="timed_out")
    rerun = add_run(sandbox, polls_until_complete=3)
    post(sandbox, f"/repos/{REPO}/actions/runs/{rerun}/rerun-failed-jobs")

    def ids(**params: Any) -> set[int]:
        body = get(sandbox, f"/repos/{REPO}/actions/runs", **params).json()
        return {run["id"] for run in body["workflow_runs"]}

    assert ids(status="failure") == {failed}
    assert ids(status="timed_out") == {timed_out}
    assert ids(status="completed") == {failed, timed_out}
    assert ids(status="queued") == {rerun}
    assert ids() == {failed, timed_out, rerun}


def test_run_list_filters_by_created(sandbox: GitHubSandbox) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    old = add_run(sandbox, created_at=start)
    new = add_run(sandbox, created_at=start + timedelta(hours=2))

    def ids(created: str) -> set[int]:
        body = get(sandbox, f"/repos/{REPO}/actions/runs", created=created).json()
        return {run["id"] for run in body["workflow_runs"]}

    assert ids(">=2024-05-01T01:00:00Z") == {new}
    assert ids("<2024-05-01T01:00:00Z") == {old}
    assert ids("2024-05-01T00:00:00Z..2024-05-01T02:00:00Z") == {old, new}


def test_each_run_appears_once_at_its_latest_attempt(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, polls_until_complete=0, rerun_conclusions=("failure",))
    assert (
        post(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/rerun-failed-jobs").status_code == 201
    )

    runs = get(sandbox, f"/repos/{REPO}/actions/runs").json()["workflow_runs"]

    assert [(run["id"], run["run_attempt"]) for run in runs] == [(run_id, 2)]
    assert runs[0]["previous_attempt_url"].endswith(f"/actions/runs/{run_id}/attempts/1")


def test_rerun_lifecycle_and_refusal(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, polls_until_complete=2, rerun_conclusions=("failure", "success"))
    run_path = f"/repos/{REPO}/actions/runs/{run_id}"

    created = post(sandbox, f"{run_path}/rerun-failed-jobs")
    refused = post(sandbox, f"{run_path}/rerun-failed-jobs")
    polls = [get(sandbox, run_path).json() for _ in range(3)]

    assert (created.status_code, created.json()) == (201, {})
    assert refused.status_code == 403
    assert refused.json()["message"] == "This workflow is already running"
    assert [(p["run_attempt"], p["status"], p["conclusion"]) for p in polls] == [
        (2, "queued", None),
        (2, "in_progress", None),
        (2, "completed", "failure"),
    ]
    assert get(sandbox, f"{run_path}/attempts/1").json()["conclusion"] == "failure"
    assert get(sandbox, f"{run_path}/attempts/3").status_code == 404
    assert sandbox.run_attempt(REPO, run_id) == 2

    post(sandbox, f"{run_path}/rerun-failed-jobs")
    for _ in range(2):
        get(sandbox, f"{run_path}/attempts/3")
    assert get(sandbox, run_path).json()["conclusion"] == "success"
    no_failed_jobs = post(sandbox, f"{run_path}/rerun-failed-jobs")
    assert no_failed_jobs.status_code == 403


def test_jobs_latest_all_and_per_attempt(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, job_name="tests", polls_until_complete=0, head_branch="dev")
    run_path = f"/repos/{REPO}/actions/runs/{run_id}"
    post(sandbox, f"{run_path}/rerun-failed-jobs")

    latest = get(sandbox, f"{run_path}/jobs").json()
    every = get(sandbox, f"{run_path}/jobs", filter="all").json()
    first = get(sandbox, f"{run_path}/attempts/1/jobs").json()

    assert {job["run_attempt"] for job in latest["jobs"]} == {2}
    assert every["total_count"] == 4
    assert sorted({job["run_attempt"] for job in every["jobs"]}) == [1, 2]
    failing = next(job for job in first["jobs"] if job["name"] == "tests")
    assert failing["conclusion"] == "failure"
    assert [s["name"] for s in failing["steps"] if s["conclusion"] == "failure"] == ["Run tests"]
    assert (failing["workflow_name"], failing["head_branch"]) == ("CI", "dev")
    assert get(sandbox, f"/repos/{REPO}/actions/jobs/{failing['id']}").json() == failing


def test_job_logs_redirect_to_a_signed_blob_that_needs_no_auth(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, log_text="\ufeffline 1\n##[error]boom\n")
    jobs = get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/jobs").json()["jobs"]
    failing = next(job for job in jobs if job["conclusion"] == "failure")
    passing = next(job for job in jobs if job["conclusion"] == "success")

    redirect = requests.get(
        f"{sandbox.url}/repos/{REPO}/actions/jobs/{failing['id']}/logs",
        headers=AUTH,
        allow_redirects=False,
        timeout=5,
    )
    location = redirect.headers["Location"]
    blob = requests.get(location, timeout=5)
    forged = requests.get(location.replace("sig=", "sig=0"), timeout=5)
    passing_log = get(sandbox, f"/repos/{REPO}/actions/jobs/{passing['id']}/logs")

    assert redirect.status_code == 302
    assert location.startswith(f"{sandbox.url}/_blobs/joblogs/{failing['id']}?")
    assert blob.status_code == 200
    assert blob.headers["Content-Type"].startswith("text/plain")
    assert blob.content.decode("utf-8") == "\ufeffline 1\n##[error]boom\n"
    assert forged.status_code == 403
    assert "All checks passed" in passing_log.text


def test_expired_logs_are_gone(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    jobs = get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/jobs").json()["jobs"]
    sandbox.expire_logs(REPO, run_id)

    response = get(sandbox, f"/repos/{REPO}/actions/jobs/{jobs[0]['id']}/logs")

    assert response.status_code == 410


def test_injected_errors_hit_only_matching_requests_and_run_out(sandbox: GitHubSandbox) -> None:
    sandbox.inject_error(503, path_pattern=r"/repos/[^/]+/[^/]+", times=2)

    statuses = [get(sandbox, f"/repos/{REPO}").status_code for _ in range(3)]
    runs = get(sandbox, f"/repos/{REPO}/actions/runs")

    assert statuses == [503, 503, 200]
    assert runs.status_code == 200


def test_conditional_get_answers_304_without_spending_budget(sandbox: GitHubSandbox) -> None:
    add_run(sandbox)
    first = get(sandbox, f"/repos/{REPO}/actions/runs", status="failure")
    remaining = first.headers["x-ratelimit-remaining"]

    again = requests.get(
        f"{sandbox.url}/repos/{REPO}/actions/runs",
        params={"status": "failure"},
        headers={**AUTH, "If-None-Match": first.headers["ETag"]},
        timeout=5,
    )

    assert again.status_code == 304
    assert again.headers["x-ratelimit-remaining"] == remaining


def test_records_requests_and_counts_by_path_pattern(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    get(sandbox, f"/repos/{REPO}/actions/runs", per_page=5)
    get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}")
    post(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/rerun-failed-jobs")

    recorded = sandbox.requests

    assert [(r.method, r.path) for r in recorded] == [
        ("GET", f"/repos/{REPO}/actions/runs"),
        ("GET", f"/repos/{REPO}/actions/runs/{run_id}"),
        ("POST", f"/repos/{REPO}/actions/runs/{run_id}/rerun-failed-jobs"),
    ]
    assert isinstance(recorded[0], RecordedRequest)
    assert recorded[0].query == {"per_page": ["5"]}
    assert recorded[0].headers["authorization"] == "Bearer ghp_test"
    assert recorded[0].at <= recorded[1].at <= recorded[2].at
    assert sandbox.count("GET", r"/repos/[^/]+/[^/]+/actions/runs(/\d+)?") == 2
    assert sandbox.count("post", r".*/rerun-failed-jobs") == 1
    assert sandbox.count("GET", r"/actions/runs") == 0  # fullmatch, not search


def test_concurrent_clients_are_all_answered(sandbox: GitHubSandbox) -> None:
    run_ids = [add_run(sandbox) for _ in range(8)]
    errors: list[BaseException] = []

    def worker(run_id: int) -> None:
        try:
            for _ in range(10):
                assert get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}").status_code == 200
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sandbox.count("GET", r".*/actions/runs/\d+") == 80


def test_real_pygithub_reads_the_sandbox(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    client = github.Github(
        base_url=sandbox.url, auth=github.Auth.Token("ghp_test"), retry=None, lazy=True
    )

    repo = client.get_repo(REPO)
    run = repo.get_workflow_run(run_id)
    jobs = list(run.jobs())

    assert repo.default_branch == "main"
    assert (run.id, run.conclusion, run.run_attempt) == (run_id, "failure", 1)
    assert {job.name for job in jobs} == {"prepare", "tests"}
    assert client.get_rate_limit().resources.core.limit == 5000
    client.close()
