"""The GitHub sandbox's read endpoints for Actions: workflow runs (per repository or per
workflow, filtered and paginated), attempts, jobs, job logs (a 302 to a short-lived signed
blob URL, as GitHub does), workflows, and a run's review history (its approved deployments).

A GET of a run counts as a poll: it is what moves a rerun from queued to completed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from http import HTTPStatus
from urllib.parse import urlencode

from ci_remediator.sandbox.github.base import SandboxBase
from ci_remediator.sandbox.github.model import Attempt, Job, Run, Workflow, job_log, run_matches
from ci_remediator.sandbox.github.rest import (
    Request,
    Response,
    error,
    first,
    json_response,
    not_found,
    paginate,
    text_response,
)

__all__ = ["RunEndpoints"]

_BLOB_LINK_TTL_S = 60  # GitHub's signed log links expire after one minute


class RunEndpoints(SandboxBase):
    """Route handlers for runs, attempts, jobs, logs and workflows (called under the lock)."""

    def _list_runs(
        self, request: Request, full_name: str, workflow_id: str | None = None
    ) -> Response:
        if full_name not in self._repositories:
            return not_found()
        runs = [run for run in self._runs.values() if run.repository == full_name]
        if workflow_id is not None:
            workflow = self._find_workflow(full_name, workflow_id)
            if workflow is None:
                return not_found()
            runs = [run for run in runs if run.workflow is workflow]
        runs = [run for run in runs if run_matches(run, request.query)]
        runs.sort(key=lambda run: (run.created_at, run.run_id), reverse=True)
        page, links = paginate(runs, request.query, self.url + request.path)
        body = {
            "total_count": len(runs),
            "workflow_runs": [self._run_json(run, run.latest) for run in page],
        }
        return json_response(body, headers=links)

    def _get_run(
        self,
        request: Request,
        full_name: str,
        run_id: str,
        attempt_number: str | None = None,
    ) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        attempt = run.latest if attempt_number is None else run.attempt(int(attempt_number))
        if attempt is None:
            return not_found()
        body = self._run_json(run, attempt)
        attempt.observe()  # the answer shows the state before this poll advanced it
        return json_response(body)

    def _list_jobs(
        self,
        request: Request,
        full_name: str,
        run_id: str,
        attempt_number: str | None = None,
    ) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        if attempt_number is not None:
            attempt = run.attempt(int(attempt_number))
            if attempt is None:
                return not_found()
            attempts = [attempt]
        elif first(request.query, "filter") == "all":
            attempts = list(run.attempts)
        else:
            attempts = [run.latest]
        jobs = [(attempt, job) for attempt in attempts for job in attempt.jobs]
        page, links = paginate(jobs, request.query, self.url + request.path)
        body = {
            "total_count": len(jobs),
            "jobs": [self._payloads.job(run, attempt, job) for attempt, job in page],
        }
        return json_response(body, headers=links)

    def _get_run_approvals(self, request: Request, full_name: str, run_id: str) -> Response:
        """GitHub's "review history for a workflow run": not paginated, [] without reviews."""
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        return json_response(self._payloads.approvals(run, self._repositories[full_name]))

    def _list_environments(self, request: Request, full_name: str) -> Response:
        repository = self._repositories.get(full_name)
        if repository is None:
            return not_found()
        known = [env for (name, _), env in self._environments.items() if name == full_name]
        return json_response(self._payloads.environments(repository, known))

    def _get_job(self, request: Request, full_name: str, job_id: str) -> Response:
        found = self._find_job(full_name, int(job_id))
        if found is None:
            return not_found()
        return json_response(self._payloads.job(*found))

    def _get_job_logs(self, request: Request, full_name: str, job_id: str) -> Response:
        found = self._find_job(full_name, int(job_id))
        if found is None:
            return not_found()
        run, attempt, _job = found
        if run.logs_expired:
            return error(HTTPStatus.GONE, "Logs have expired and are no longer available.")
        if attempt.status != "completed":
            return not_found()  # GitHub has no downloadable log until the job finishes
        expires = int(time.time()) + _BLOB_LINK_TTL_S
        location = f"{self.url}/_blobs/joblogs/{job_id}?" + urlencode(
            {"expires": expires, "sig": self._sign(job_id, expires)}
        )
        return Response(HTTPStatus.FOUND, headers={"Location": location})

    def _serve_blob(self, path: str, query: dict[str, list[str]]) -> Response:
        """The signed log download GitHub redirects to: no auth header, a short-lived link."""
        match = re.fullmatch(r"/_blobs/joblogs/(\d+)", path)
        if match is None:
            return text_response(HTTPStatus.NOT_FOUND, "BlobNotFound")
        job_id, expires = match.group(1), first(query, "expires") or "0"
        signature = first(query, "sig") or ""
        if not hmac.compare_digest(signature, self._sign(job_id, int(expires))):
            return text_response(HTTPStatus.FORBIDDEN, "AuthenticationFailed")
        if int(expires) < time.time():
            return text_response(HTTPStatus.FORBIDDEN, "AuthenticationFailed: link expired")
        found = self._jobs.get(int(job_id))
        if found is None:
            return text_response(HTTPStatus.NOT_FOUND, "BlobNotFound")
        _run, attempt, job = found
        return text_response(HTTPStatus.OK, job_log(attempt, job))

    def _list_workflows(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        workflows = [w for w in self._workflows.values() if w.repository == full_name]
        page, links = paginate(workflows, request.query, self.url + request.path)
        body = {
            "total_count": len(workflows),
            "workflows": [
                self._payloads.workflow(workflow, self._default_branch(workflow))
                for workflow in page
            ],
        }
        return json_response(body, headers=links)

    def _get_workflow(self, request: Request, full_name: str, workflow_id: str) -> Response:
        workflow = self._find_workflow(full_name, workflow_id)
        if workflow is None:
            return not_found()
        return json_response(self._payloads.workflow(workflow, self._default_branch(workflow)))

    # -- helpers ---------------------------------------------------------------------------

    def _find_job(self, full_name: str, job_id: int) -> tuple[Run, Attempt, Job] | None:
        found = self._jobs.get(job_id)
        return found if found is not None and found[0].repository == full_name else None

    def _default_branch(self, workflow: Workflow) -> str:
        return self._repositories[workflow.repository].default_branch

    def _sign(self, job_id: str, expires: int) -> str:
        message = f"{job_id}:{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()
