"""The GitHub sandbox at the HTTP level: what a client that is not PyGithub would see."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import github
import pytest
import requests

from ci_remediator.sandbox.github import GitHubSandbox, IssueRecord, RecordedRequest

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


# -- baselines, workflows and run lists ------------------------------------------------------


def test_successful_run_is_a_downloadable_baseline(sandbox: GitHubSandbox) -> None:
    log = "\ufeff2024-05-01T10:00:00.0000000Z all 120 tests passed\n"
    run_id = sandbox.add_successful_run(
        REPO, workflow_name="CI", job_name="tests", log_text=log, head_branch="dev"
    )

    run = get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}").json()
    (job,) = get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/jobs").json()["jobs"]
    downloaded = get(sandbox, f"/repos/{REPO}/actions/jobs/{job['id']}/logs")

    assert (run["status"], run["conclusion"], run["head_branch"]) == ("completed", "success", "dev")
    assert (job["name"], job["conclusion"]) == ("tests", "success")
    assert downloaded.content.decode("utf-8") == log


def test_failed_run_conclusions_are_githubs_failing_ones(sandbox: GitHubSandbox) -> None:
    startup = add_run(sandbox, conclusion="startup_failure")

    assert get(sandbox, f"/repos/{REPO}/actions/runs/{startup}").json()["conclusion"] == (
        "startup_failure"
    )
    with pytest.raises(ValueError, match="conclusion"):
        add_run(sandbox, conclusion="success")


def test_run_list_filters_by_branch_event_and_success(sandbox: GitHubSandbox) -> None:
    failed = add_run(sandbox, head_branch="main", event="push")
    passed = sandbox.add_successful_run(REPO, workflow_name="CI", job_name="t", log_text="ok\n")
    other_branch = add_run(sandbox, head_branch="dev", event="pull_request")

    def ids(**params: Any) -> set[int]:
        body = get(sandbox, f"/repos/{REPO}/actions/runs", **params).json()
        return {run["id"] for run in body["workflow_runs"]}

    assert ids(status="success") == {passed}
    assert ids(branch="main") == {failed, passed}
    assert ids(event="pull_request") == {other_branch}
    assert ids(branch="dev", status="failure") == {other_branch}


def test_workflows_are_listed_and_found_by_id_or_file_name(sandbox: GitHubSandbox) -> None:
    ci_run = add_run(sandbox, workflow_name="CI")
    add_run(sandbox, workflow_name="Lint")
    deploy_id = sandbox.add_workflow(REPO, "Deploy", path=".github/workflows/deploy.yaml")

    listed = get(sandbox, f"/repos/{REPO}/actions/workflows").json()
    by_file = get(sandbox, f"/repos/{REPO}/actions/workflows/deploy.yaml").json()
    ci = next(w for w in listed["workflows"] if w["name"] == "CI")
    runs_by_id = get(sandbox, f"/repos/{REPO}/actions/workflows/{ci['id']}/runs").json()
    runs_by_file = get(sandbox, f"/repos/{REPO}/actions/workflows/ci.yml/runs").json()

    assert listed["total_count"] == 3
    assert {w["path"] for w in listed["workflows"]} >= {".github/workflows/ci.yml"}
    assert (by_file["id"], by_file["state"]) == (deploy_id, "active")
    assert [run["id"] for run in runs_by_id["workflow_runs"]] == [ci_run]
    assert runs_by_file == runs_by_id
    assert runs_by_id["workflow_runs"][0]["workflow_id"] == ci["id"]
    assert get(sandbox, f"/repos/{REPO}/actions/workflows/nope.yml").status_code == 404
    assert get(sandbox, f"/repos/{REPO}/actions/workflows/nope.yml/runs").status_code == 404


def test_workflow_run_list_pages_with_link_header(sandbox: GitHubSandbox) -> None:
    for _ in range(5):
        add_run(sandbox)

    first = get(sandbox, f"/repos/{REPO}/actions/workflows/ci.yml/runs", per_page=2)

    assert len(first.json()["workflow_runs"]) == 2
    assert first.json()["total_count"] == 5
    assert 'rel="next"' in first.headers["Link"]
    assert f"{sandbox.url}/repos/{REPO}/actions/workflows/ci.yml/runs?" in first.headers["Link"]


# -- conditional requests and what counts --------------------------------------------------


def conditional_get(sandbox: GitHubSandbox, path: str, etag: str) -> requests.Response:
    return requests.get(sandbox.url + path, headers={**AUTH, "If-None-Match": etag}, timeout=5)


def test_etag_is_stable_until_a_run_is_added_or_changes_state(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, polls_until_complete=0)
    runs = f"/repos/{REPO}/actions/runs"
    etag = get(sandbox, runs).headers["ETag"]

    unchanged = conditional_get(sandbox, runs, etag)
    add_run(sandbox)
    after_add = conditional_get(sandbox, runs, etag)
    post(sandbox, f"{runs}/{run_id}/rerun-failed-jobs")
    after_rerun = conditional_get(sandbox, runs, after_add.headers["ETag"])

    assert (unchanged.status_code, unchanged.content) == (304, b"")
    assert unchanged.headers["ETag"] == etag
    assert after_add.status_code == 200
    assert after_add.headers["ETag"] != etag
    assert after_rerun.status_code == 200


def test_every_get_answers_304_to_its_own_etag(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    for path in (f"/repos/{REPO}", f"/repos/{REPO}/actions/runs/{run_id}/jobs", "/rate_limit"):
        etag = get(sandbox, path).headers["ETag"]
        assert conditional_get(sandbox, path, etag).status_code == 304, path


def test_requests_record_whether_they_spent_rate_budget(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    before = time.time()
    etag = get(sandbox, f"/repos/{REPO}").headers["ETag"]
    conditional_get(sandbox, f"/repos/{REPO}", etag)
    get(sandbox, "/rate_limit")
    requests.get(f"{sandbox.url}/repos/{REPO}", timeout=5)  # no credentials: 401
    (job,) = [
        j
        for j in get(sandbox, f"/repos/{REPO}/actions/runs/{run_id}/jobs").json()["jobs"]
        if j["conclusion"] == "failure"
    ]
    get(sandbox, f"/repos/{REPO}/actions/jobs/{job['id']}/logs")  # 302 + blob download

    counted = [(r.method, r.path) for r in sandbox.requests]
    flags = [r.counted for r in sandbox.requests]

    assert flags == [True, False, False, False, True, True, False]
    assert counted[-1][1].startswith("/_blobs/")
    assert [r.path for r in sandbox.counted_requests(since=before)] == [
        f"/repos/{REPO}",
        f"/repos/{REPO}/actions/runs/{run_id}/jobs",
        f"/repos/{REPO}/actions/jobs/{job['id']}/logs",
    ]
    assert sandbox.counted_requests(since=time.time() + 60) == []
    assert all(before <= r.arrived_at <= time.time() for r in sandbox.requests)


def test_max_requests_in_window_counts_api_requests_only(sandbox: GitHubSandbox) -> None:
    for _ in range(3):
        get(sandbox, f"/repos/{REPO}")
    get(sandbox, "/rate_limit")
    time.sleep(0.6)
    for _ in range(2):
        get(sandbox, f"/repos/{REPO}")

    assert sandbox.max_requests_in_window(60) == 5
    assert sandbox.max_requests_in_window(0.5) == 3
    assert GitHubSandbox().max_requests_in_window() == 0


# -- remediation actions -------------------------------------------------------------------


def post_json(sandbox: GitHubSandbox, path: str, body: object) -> requests.Response:
    return requests.post(sandbox.url + path, headers=AUTH, json=body, timeout=5)


def test_full_rerun_records_debug_logging_on_the_new_attempt(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox, polls_until_complete=0)
    baseline = sandbox.add_successful_run(REPO, workflow_name="CI", job_name="t", log_text="ok")
    path = f"/repos/{REPO}/actions/runs/{run_id}/rerun"

    debug = post_json(sandbox, path, {"enable_debug_logging": True})
    plain = post(sandbox, path)
    of_success = post(sandbox, f"/repos/{REPO}/actions/runs/{baseline}/rerun")

    assert (debug.status_code, debug.json()) == (201, {})
    assert plain.status_code == 201
    assert of_success.status_code == 201  # unlike rerun-failed-jobs, any completed run
    assert [(a.number, a.trigger, a.debug_logging) for a in sandbox.attempts(REPO, run_id)] == [
        (1, "initial", False),
        (2, "rerun", True),
        (3, "rerun", False),
    ]
    assert post(sandbox, f"/repos/{REPO}/actions/runs/1/rerun").status_code == 404


def test_reruns_are_refused_as_github_refuses_them(sandbox: GitHubSandbox) -> None:
    old = add_run(sandbox, created_at=datetime.now(UTC) - timedelta(days=31))
    worn = add_run(sandbox, polls_until_complete=0, rerun_conclusions=("failure",))
    scripted = add_run(sandbox)
    for _ in range(50):
        assert post(sandbox, f"/repos/{REPO}/actions/runs/{worn}/rerun").status_code == 201
    sandbox.refuse_rerun(REPO, scripted, 403, "Resource not accessible by integration")

    too_old = post(sandbox, f"/repos/{REPO}/actions/runs/{old}/rerun-failed-jobs")
    too_many = post(sandbox, f"/repos/{REPO}/actions/runs/{worn}/rerun-failed-jobs")
    refused = [
        post(sandbox, f"/repos/{REPO}/actions/runs/{scripted}/{kind}")
        for kind in ("rerun", "rerun-failed-jobs")
    ]

    assert too_old.status_code == 403
    assert too_old.json()["message"] == (
        "Unable to retry this workflow run because it was created over a month ago"
    )
    assert too_many.status_code == 403
    assert "maximum number" in too_many.json()["message"]
    assert sandbox.run_attempt(REPO, worn) == 51
    assert [(r.status_code, r.json()["message"]) for r in refused] == [
        (403, "Resource not accessible by integration")
    ] * 2
    assert sandbox.run_attempt(REPO, scripted) == 1


def test_cancel_stops_a_running_attempt_and_conflicts_on_a_finished_one(
    sandbox: GitHubSandbox,
) -> None:
    run_id = add_run(sandbox, polls_until_complete=5)
    run_path = f"/repos/{REPO}/actions/runs/{run_id}"
    post(sandbox, f"{run_path}/rerun-failed-jobs")

    cancelled = post(sandbox, f"{run_path}/cancel")
    state = get(sandbox, run_path).json()
    again = post(sandbox, f"{run_path}/cancel")

    assert (cancelled.status_code, cancelled.json()) == (202, {})
    assert (state["run_attempt"], state["status"], state["conclusion"]) == (
        2,
        "completed",
        "cancelled",
    )
    assert again.status_code == 409
    assert again.json()["message"] == "Cannot cancel a workflow run that is completed."
    assert post(sandbox, f"{run_path}/rerun-failed-jobs").status_code == 201  # cancelled fails


def test_caches_are_listed_filtered_and_deleted_by_key(sandbox: GitHubSandbox) -> None:
    key = "Linux-pip-abc123"
    main_cache = sandbox.add_cache(REPO, key)
    branch_cache = sandbox.add_cache(REPO, key, ref="refs/heads/dev", size_in_bytes=2048)
    sandbox.add_cache(REPO, "Linux-npm-def456")
    caches = f"/repos/{REPO}/actions/caches"

    by_prefix = get(sandbox, caches, key="Linux-pip").json()
    by_ref = get(sandbox, caches, ref="refs/heads/dev").json()
    deleted = requests.delete(
        sandbox.url + caches, headers=AUTH, params={"key": key, "ref": "refs/heads/dev"}, timeout=5
    )
    rest = requests.delete(sandbox.url + caches, headers=AUTH, params={"key": key}, timeout=5)
    gone = requests.delete(sandbox.url + caches, headers=AUTH, params={"key": key}, timeout=5)
    keyless = requests.delete(sandbox.url + caches, headers=AUTH, timeout=5)

    assert {c["id"] for c in by_prefix["actions_caches"]} == {main_cache, branch_cache}
    assert [c["id"] for c in by_ref["actions_caches"]] == [branch_cache]
    assert deleted.status_code == 200
    assert deleted.json()["total_count"] == 1
    assert deleted.json()["actions_caches"][0]["size_in_bytes"] == 2048
    assert [c["id"] for c in rest.json()["actions_caches"]] == [main_cache]
    assert gone.status_code == 404
    assert keyless.status_code == 422
    assert get(sandbox, caches).json()["total_count"] == 1


def test_issues_are_created_read_and_closed(sandbox: GitHubSandbox) -> None:
    created = post_json(
        sandbox,
        f"/repos/{REPO}/issues",
        {"title": "CI fails: flaky test", "body": "Run 42 failed.", "labels": ["ci", "flaky"]},
    )
    number = created.json()["number"]
    issue_path = f"/repos/{REPO}/issues/{number}"
    closed = requests.patch(
        sandbox.url + issue_path, headers=AUTH, json={"state": "closed"}, timeout=5
    )

    assert created.status_code == 201
    assert created.headers["Location"] == created.json()["url"]
    assert created.json()["title"] == "CI fails: flaky test"
    assert [label["name"] for label in created.json()["labels"]] == ["ci", "flaky"]
    assert "pull_request" not in created.json()
    assert (closed.json()["state"], closed.json()["state_reason"]) == ("closed", "completed")
    assert closed.json()["closed_at"] is not None
    assert get(sandbox, issue_path).json()["state"] == "closed"
    (record,) = sandbox.issues(REPO)
    assert record == IssueRecord(
        number=number,
        title="CI fails: flaky test",
        body="Run 42 failed.",
        labels=("ci", "flaky"),
        state="closed",
        state_reason="completed",
    )
    assert post_json(sandbox, f"/repos/{REPO}/issues", {"body": "x"}).status_code == 422
    assert get(sandbox, f"/repos/{REPO}/issues/999").status_code == 404


def test_dispatch_needs_a_dispatchable_workflow_and_a_ref(sandbox: GitHubSandbox) -> None:
    deploy = sandbox.add_workflow(REPO, "Deploy", path=".github/workflows/deploy.yml")
    add_run(sandbox, workflow_name="CI")  # known from its runs: no workflow_dispatch trigger
    dispatches = "/repos/{}/actions/workflows/{}/dispatches"

    by_id = post_json(sandbox, dispatches.format(REPO, deploy), {"ref": "main", "inputs": {"a": 1}})
    by_file = post_json(sandbox, dispatches.format(REPO, "deploy.yml"), {"ref": "v1.2"})
    not_dispatchable = post_json(sandbox, dispatches.format(REPO, "ci.yml"), {"ref": "main"})
    no_ref = post_json(sandbox, dispatches.format(REPO, deploy), {"inputs": {}})
    unknown = post_json(sandbox, dispatches.format(REPO, "nope.yml"), {"ref": "main"})

    assert (by_id.status_code, by_id.content) == (204, b"")
    assert by_file.status_code == 204
    assert not_dispatchable.status_code == 422
    assert not_dispatchable.json()["message"] == (
        "Workflow does not have 'workflow_dispatch' trigger"
    )
    assert no_ref.status_code == 422
    assert unknown.status_code == 404
    assert [
        (d.workflow_id, d.workflow_path, d.ref, d.inputs) for d in sandbox.dispatches(REPO)
    ] == [
        (deploy, ".github/workflows/deploy.yml", "main", {"a": 1}),
        (deploy, ".github/workflows/deploy.yml", "v1.2", {}),
    ]


def test_org_repositories_are_paginated(sandbox: GitHubSandbox) -> None:
    for name in ("api", "web", "docs"):
        sandbox.add_repository(f"acme/{name}")
    sandbox.add_repository("other/thing")

    first = get(sandbox, "/orgs/acme/repos", per_page=2, sort="full_name")
    second = get(sandbox, "/orgs/acme/repos", per_page=2, sort="full_name", page=2)

    assert [r["full_name"] for r in first.json()] == ["acme/api", "acme/docs"]
    assert [r["full_name"] for r in second.json()] == ["acme/web", "acme/widgets"]
    assert 'rel="next"' in first.headers["Link"]
    assert first.json()[0]["owner"]["login"] == "acme"
    assert get(sandbox, "/orgs/nobody/repos").status_code == 404


# -- errors and latency ----------------------------------------------------------------------


def test_injected_403_and_429_carry_githubs_secondary_limit_body(sandbox: GitHubSandbox) -> None:
    sandbox.inject_error(403)
    sandbox.inject_error(429, retry_after_s=7)
    sandbox.inject_error(403, message="Resource not accessible by integration")

    secondary = get(sandbox, f"/repos/{REPO}")
    too_many = get(sandbox, f"/repos/{REPO}")
    forbidden = get(sandbox, f"/repos/{REPO}")

    assert secondary.status_code == 403
    assert secondary.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert secondary.headers["X-GitHub-Request-Id"] in secondary.json()["message"]
    assert secondary.json()["documentation_url"].endswith("#about-secondary-rate-limits")
    assert "Retry-After" not in secondary.headers
    assert too_many.status_code == 429
    assert too_many.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert too_many.headers["Retry-After"] == "7"
    assert forbidden.json()["message"] == "Resource not accessible by integration"


def test_latency_delays_matching_requests_without_blocking_others(sandbox: GitHubSandbox) -> None:
    sandbox.set_latency(0.8, path_pattern=r".*/actions/runs", method="GET", times=1)
    slow: list[float] = []

    def slow_call() -> None:
        started = time.monotonic()
        get(sandbox, f"/repos/{REPO}/actions/runs")
        slow.append(time.monotonic() - started)

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    get(sandbox, f"/repos/{REPO}")
    fast = time.monotonic() - started
    thread.join(timeout=5)
    started = time.monotonic()
    get(sandbox, f"/repos/{REPO}/actions/runs")  # `times` ran out
    after = time.monotonic() - started

    assert slow[0] >= 0.8
    assert fast < 0.5
    assert after < 0.5


def test_latency_makes_a_timed_out_post_ambiguous(sandbox: GitHubSandbox) -> None:
    run_id = add_run(sandbox)
    sandbox.set_latency(1.0, method="POST")

    with pytest.raises(requests.Timeout):
        requests.post(
            f"{sandbox.url}/repos/{REPO}/actions/runs/{run_id}/rerun-failed-jobs",
            headers=AUTH,
            timeout=0.3,
        )
    sandbox.set_latency(0)

    assert sandbox.run_attempt(REPO, run_id) == 2  # it happened although the client gave up
    assert get(sandbox, f"/repos/{REPO}").status_code == 200


# -- the real PyGithub against the remediation endpoints -----------------------------------


@pytest.fixture
def client(sandbox: GitHubSandbox) -> Iterator[github.Github]:
    gh = github.Github(
        base_url=sandbox.url, auth=github.Auth.Token("ghp_test"), retry=None, lazy=True
    )
    yield gh
    gh.close()


def test_pygithub_lists_runs_with_filters_and_per_workflow(
    sandbox: GitHubSandbox, client: github.Github
) -> None:
    failed = add_run(sandbox, head_branch="main")
    passed = sandbox.add_successful_run(REPO, workflow_name="CI", job_name="t", log_text="ok")
    add_run(sandbox, workflow_name="Lint", head_branch="dev")
    repo = client.get_repo(REPO)

    successes = [run.id for run in repo.get_workflow_runs(status="success")]
    on_main = [run.id for run in repo.get_workflow_runs(branch="main")]
    ci_runs = [run.id for run in repo.get_workflow("ci.yml").get_runs()]

    assert successes == [passed]
    assert on_main == [passed, failed]
    assert ci_runs == [passed, failed]
    assert {w.name for w in repo.get_workflows()} == {"CI", "Lint"}


def test_pygithub_remediation_actions(sandbox: GitHubSandbox, client: github.Github) -> None:
    run_id = add_run(sandbox, polls_until_complete=3)
    deploy = sandbox.add_workflow(REPO, "Deploy")
    repo = client.get_repo(REPO)
    run = repo.get_workflow_run(run_id)

    assert run.rerun() is True
    assert run.cancel() is True
    assert run.cancel() is False  # 409: already completed
    assert repo.get_workflow(deploy).create_dispatch("main", {"reason": "retry"}) is True
    issue = repo.create_issue(title="CI broken", body="details", labels=["ci"])
    issue.edit(state="closed")

    assert [(a.trigger, a.conclusion) for a in sandbox.attempts(REPO, run_id)] == [
        ("initial", "failure"),
        ("rerun", "cancelled"),
    ]
    assert sandbox.dispatches(REPO)[0].inputs == {"reason": "retry"}
    assert repo.get_issue(issue.number).state == "closed"
    assert [i.labels for i in sandbox.issues(REPO)] == [("ci",)]


def test_pygithub_lists_an_organisations_repositories(
    sandbox: GitHubSandbox, client: github.Github
) -> None:
    for index in range(35):
        sandbox.add_repository(f"acme/repo-{index:02d}")

    names = [repo.full_name for repo in client.get_organization("acme").get_repos()]

    assert len(names) == 36
    assert sandbox.count("GET", r"/orgs/acme/repos") == 2
