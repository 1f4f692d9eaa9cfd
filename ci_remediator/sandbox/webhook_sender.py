"""Deliver GitHub webhooks the way GitHub does, for tests, benchmarks and the demo.

GitHub POSTs the event's raw JSON with `X-GitHub-Event`, a unique `X-GitHub-Delivery`, the
hook's id and `X-Hub-Signature-256`: an HMAC-SHA256 of the exact body bytes under the hook's
secret. Payloads start from GitHub's published examples (``data/webhook_*.json``, copied from
octokit/webhooks under the MIT licence, see ``data/LICENSE-webhook-examples.md``) with the
fields the receiver acts on filled in from a `GitHubSandbox`, so a receiver can follow a
delivery up with API calls against the same sandbox.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Callable
from importlib import resources
from types import TracebackType
from typing import Any, Self, cast

import requests

from ci_remediator.sandbox.github import GitHubSandbox

__all__ = [
    "WebhookSender",
    "completion_announcer",
    "ping_payload",
    "sign_payload",
    "workflow_job_payload",
    "workflow_run_payload",
]

_USER_AGENT = "GitHub-Hookshot/8e03811"  # GitHub sends its build's short hash here


def sign_payload(secret: bytes | str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body` under `secret`."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class WebhookSender:
    """POSTs webhook deliveries to one receiver URL, signed with the hook's secret."""

    def __init__(self, url: str, secret: str, *, hook_id: int = 1, timeout_s: float = 10.0) -> None:
        self._url = url
        self._secret = secret
        self._hook_id = hook_id
        self._timeout_s = timeout_s
        self._session = requests.Session()

    def deliver(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        *,
        delivery_id: str | None = None,
        signature: str | None = None,
    ) -> requests.Response:
        """Send one delivery. Bytes are sent as they are (to test exact-body signing);
        `signature` replaces the computed one (to test that a receiver rejects it)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": _USER_AGENT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
            "X-GitHub-Hook-ID": str(self._hook_id),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
            "X-Hub-Signature-256": signature or sign_payload(self._secret, body),
        }
        repository = payload.get("repository") if isinstance(payload, dict) else None
        if isinstance(repository, dict) and "id" in repository:
            headers["X-GitHub-Hook-Installation-Target-ID"] = str(repository["id"])
        return self._session.post(self._url, data=body, headers=headers, timeout=self._timeout_s)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def workflow_run_payload(
    sandbox: GitHubSandbox, repository: str, run_id: int, *, action: str = "completed"
) -> dict[str, Any]:
    """A `workflow_run` delivery for the run's latest attempt as the sandbox holds it."""
    payload = _example("webhook_workflow_run.json")
    run = sandbox.run_json(repository, run_id)
    payload["action"] = action
    workflow_run = payload["workflow_run"]
    _fill(workflow_run, run)
    # The webhook names the workflow file without the `@ref` the REST answer appends.
    workflow_run["path"] = run["path"].split("@", 1)[0]
    workflow_run["head_commit"]["id"] = run["head_sha"]
    for key in ("repository", "head_repository"):
        _fill_repository(workflow_run[key], run[key])
    _fill(
        payload["workflow"],
        {
            "id": run["workflow_id"],
            "name": run["name"],
            "path": workflow_run["path"],
            "url": run["workflow_url"],
        },
    )
    _fill_repository_and_owner(payload, sandbox.repository_json(repository))
    return payload


def workflow_job_payload(
    sandbox: GitHubSandbox,
    repository: str,
    run_id: int,
    *,
    job_name: str | None = None,
    action: str = "completed",
) -> dict[str, Any]:
    """A `workflow_job` delivery for a job of the run's latest attempt: `job_name`, or the
    first job that did not succeed (the one a receiver cares about), or the first job."""
    payload = _example("webhook_workflow_job.json")
    jobs = sandbox.jobs_json(repository, run_id)
    if job_name is not None:
        matching = [job for job in jobs if job["name"] == job_name]
        if not matching:
            raise KeyError(f"run {run_id} has no job {job_name!r}")
        job = matching[0]
    else:
        job = next((j for j in jobs if j["conclusion"] not in (None, "success")), jobs[0])
    payload["action"] = action
    _fill(payload["workflow_job"], job)
    payload["workflow_job"]["steps"] = job["steps"]
    payload["workflow_job"]["labels"] = job["labels"]
    _fill_repository_and_owner(payload, sandbox.repository_json(repository))
    return payload


def completion_announcer(
    sandbox: GitHubSandbox, sender: WebhookSender
) -> Callable[[str, int], None]:
    """What GitHub sends when an attempt completes, for `GitHubSandbox.complete_reruns_after`:
    a `workflow_job` delivery for each job of the attempt, then the `workflow_run` one."""
    lock = threading.Lock()  # one requests.Session, and timers run in their own threads

    def announce(repository: str, run_id: int) -> None:
        with lock:
            for job in sandbox.jobs_json(repository, run_id):
                payload = workflow_job_payload(sandbox, repository, run_id, job_name=job["name"])
                sender.deliver("workflow_job", payload)
            sender.deliver("workflow_run", workflow_run_payload(sandbox, repository, run_id))

    return announce


def ping_payload(*, hook_id: int = 1) -> dict[str, Any]:
    """The `ping` GitHub sends when a hook is created."""
    payload = _example("webhook_ping.json")
    payload["hook_id"] = hook_id
    payload["hook"]["id"] = hook_id
    return payload


def _example(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(f"data/{name}").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


def _fill(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Copy `source`'s scalar values onto the keys `target` already has, keeping the example's
    shape: a value of another JSON type (a REST field the webhook spells differently) is
    skipped, and null counts as any type (conclusion, completed_at, ...)."""
    for key, value in source.items():
        if key not in target or isinstance(value, dict | list):
            continue
        current = target[key]
        if current is None or value is None or _json_type(current) == _json_type(value):
            target[key] = copy.deepcopy(value)


def _fill_repository(target: dict[str, Any], source: dict[str, Any]) -> None:
    _fill(target, source)
    _fill(target["owner"], source["owner"])


def _fill_repository_and_owner(payload: dict[str, Any], repository: dict[str, Any]) -> None:
    _fill_repository(payload["repository"], repository)
    if "organization" in payload:
        _fill(payload["organization"], repository["owner"])


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
