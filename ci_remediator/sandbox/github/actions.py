"""The GitHub sandbox's remediation endpoints: rerun a run (whole, or its failed jobs),
cancel a running attempt, list and delete Actions caches, dispatch a workflow, and create,
read and update issues, with GitHub's refusals and validation messages.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from http import HTTPStatus
from typing import Any

from ci_remediator.sandbox.github.base import SandboxBase
from ci_remediator.sandbox.github.model import (
    FAILING_CONCLUSIONS,
    Attempt,
    Cache,
    DispatchRecord,
    Issue,
    Run,
    Workflow,
    label_names,
    now,
    rerun_refusal,
)
from ci_remediator.sandbox.github.rest import (
    Request,
    Response,
    error,
    first,
    json_response,
    not_found,
    paginate,
    validation_failed,
)

__all__ = ["ActionEndpoints"]

log = logging.getLogger(__name__)
# A rerun on a clock (`complete_reruns_after`) stays in progress however often it is read.
_NEVER_BY_POLLS = 2**31

_RUNS_DOCS = "https://docs.github.com/rest/actions/workflow-runs"
_RERUN_DOCS = f"{_RUNS_DOCS}#re-run-failed-jobs-from-a-workflow-run"
_DISPATCH_DOCS = "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event"


class ActionEndpoints(SandboxBase):
    """Route handlers for the actions a remediator takes (called under the lock)."""

    # -- runs ------------------------------------------------------------------------------

    def _rerun_failed_jobs(self, request: Request, full_name: str, run_id: str) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        refused = rerun_refusal(run)
        if refused is not None:
            return error(*refused, _RERUN_DOCS)
        if run.latest.final_conclusion not in FAILING_CONCLUSIONS:
            return error(HTTPStatus.FORBIDDEN, "This workflow run has no failed jobs", _RERUN_DOCS)
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        debug_logging = body.get("enable_debug_logging") is True
        self._start_rerun(run, "rerun-failed-jobs", debug_logging=debug_logging)
        return json_response({}, status=HTTPStatus.CREATED)

    def _rerun(self, request: Request, full_name: str, run_id: str) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        refused = rerun_refusal(run)
        if refused is not None:
            return error(*refused, _RERUN_DOCS)
        self._start_rerun(run, "rerun", debug_logging=body.get("enable_debug_logging") is True)
        return json_response({}, status=HTTPStatus.CREATED)

    def _cancel(self, request: Request, full_name: str, run_id: str) -> Response:
        run = self._find_run(full_name, int(run_id))
        if run is None:
            return not_found()
        if run.latest.status == "completed":
            return error(
                HTTPStatus.CONFLICT,
                "Cannot cancel a workflow run that is completed.",
                f"{_RUNS_DOCS}#cancel-a-workflow-run",
            )
        run.latest.cancel()
        return json_response({}, status=HTTPStatus.ACCEPTED)

    def _start_rerun(self, run: Run, trigger: str, *, debug_logging: bool) -> None:
        attempt = self._new_attempt(
            run,
            run.next_rerun_conclusion(),
            started_at=now(),
            polls=run.polls_until_complete,
            trigger=trigger,
        )
        attempt.debug_logging = debug_logging
        completion = self._rerun_completion
        if completion is not None:
            attempt.polls_until_complete = _NEVER_BY_POLLS
            timer = threading.Timer(completion.seconds, self._complete_rerun, (run, attempt))
            timer.daemon = True
            timer.start()

    def _complete_rerun(self, run: Run, attempt: Attempt) -> None:
        """The rerun's clock ran out: it completes (unless cancelled meanwhile) and says so."""
        completion = self._rerun_completion
        with self._lock:
            if attempt.status != "completed":
                attempt.finish()
        if completion is not None:
            try:
                completion.announce(run.repository, run.run_id)
            except Exception:
                # A receiver that is down misses the delivery, as it would GitHub's.
                log.exception("announcing the completion of run %s failed", run.run_id)

    # -- workflow dispatch -----------------------------------------------------------------

    def _dispatch(self, request: Request, full_name: str, workflow_id: str) -> Response:
        workflow = self._find_workflow(full_name, workflow_id)
        if workflow is None:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON", _DISPATCH_DOCS)
        ref = body.get("ref")
        if not isinstance(ref, str) or not ref:
            return validation_failed("ref", _DISPATCH_DOCS)
        if not workflow.dispatchable:
            return error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "Workflow does not have 'workflow_dispatch' trigger",
                _DISPATCH_DOCS,
            )
        inputs = body.get("inputs") or {}
        if not isinstance(inputs, dict):
            return error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                'Invalid request.\n\n"inputs" is not an object.',
                _DISPATCH_DOCS,
            )
        record = DispatchRecord(workflow.workflow_id, workflow.path, ref, inputs, time.time())
        self._dispatches.setdefault(full_name, []).append(record)
        # GitHub answers 204 with no run id; the run it starts appears in the workflow's runs.
        self._start_dispatched_run(workflow, ref.removeprefix("refs/heads/"))
        return Response(HTTPStatus.NO_CONTENT)

    def _start_dispatched_run(self, workflow: Workflow, branch: str) -> None:
        started = now()
        repository = self._repositories[workflow.repository]
        run = Run(
            run_id=self._next_id("run"),
            repository=workflow.repository,
            workflow=workflow,
            run_number=self._run_numbers.get(workflow.repository, 0) + 1,
            head_branch=branch,
            head_sha=hashlib.sha256(f"{workflow.repository}:{branch}".encode()).hexdigest()[:40],
            event="workflow_dispatch",
            created_at=started.replace(microsecond=0),
            job_name=workflow.name,
            failed_step=None if workflow.dispatch_conclusion == "success" else "Remediate",
            log_text=f"Remediating {repository.full_name} on {branch}\n",
            rerun_conclusions=(workflow.dispatch_conclusion,),
            polls_until_complete=workflow.dispatch_polls,
        )
        self._run_numbers[workflow.repository] = run.run_number
        self._runs[run.run_id] = run
        self._new_attempt(
            run,
            workflow.dispatch_conclusion,
            started_at=started,
            polls=workflow.dispatch_polls,
            trigger="workflow_dispatch",
        )

    # -- caches ----------------------------------------------------------------------------

    def _list_caches(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        key, ref = first(request.query, "key"), first(request.query, "ref")
        caches = [
            cache
            for cache in self._caches.values()
            if cache.repository == full_name
            and (key is None or cache.key.startswith(key))  # GitHub: "a key or prefix"
            and (ref is None or cache.ref == ref)
        ]
        sort = first(request.query, "sort") or "last_accessed_at"
        ascending = first(request.query, "direction") == "asc"
        caches.sort(key=lambda cache: _cache_sort_key(cache, sort), reverse=not ascending)
        page, links = paginate(caches, request.query, self.url + request.path)
        body = {
            "total_count": len(caches),
            "actions_caches": [self._payloads.cache(cache) for cache in page],
        }
        return json_response(body, headers=links)

    def _delete_caches(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        key, ref = first(request.query, "key"), first(request.query, "ref")
        if not key:
            return validation_failed("key")
        deleted = [
            cache
            for cache in self._caches.values()
            if cache.repository == full_name
            and cache.key == key  # deletion takes the complete key, not a prefix
            and (ref is None or cache.ref == ref)
        ]
        if not deleted:
            return not_found()
        for cache in deleted:
            del self._caches[cache.cache_id]
        body = {
            "total_count": len(deleted),
            "actions_caches": [self._payloads.cache(cache) for cache in deleted],
        }
        return json_response(body)

    # -- issues ----------------------------------------------------------------------------

    def _create_issue(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            return validation_failed("title")
        number = self._issue_numbers.get(full_name, 0) + 1
        self._issue_numbers[full_name] = number
        issue = Issue(
            issue_id=self._next_id("issue"),
            number=number,
            repository=full_name,
            title=title,
            body=body.get("body"),
            labels=label_names(body.get("labels")),
            created_at=now(),
        )
        self._issues[(full_name, number)] = issue
        payload = self._payloads.issue(issue)
        return json_response(
            payload, status=HTTPStatus.CREATED, headers={"Location": payload["url"]}
        )

    def _get_branch(self, request: Request, full_name: str, branch: str) -> Response:
        sha = self._branch_heads.get((full_name, branch))
        if sha is None:
            return error(
                HTTPStatus.NOT_FOUND,
                "Branch not found",
                "https://docs.github.com/rest/branches/branches#get-a-branch",
            )
        return json_response(self._payloads.branch(full_name, branch, sha))

    def _list_issues(self, request: Request, full_name: str) -> Response:
        if full_name not in self._repositories:
            return not_found()
        state = first(request.query, "state") or "open"
        wanted = {name for name in (first(request.query, "labels") or "").split(",") if name}
        issues = [
            issue
            for (repository, _), issue in self._issues.items()
            if repository == full_name
            and state in ("all", issue.state)
            and wanted <= set(issue.labels)
        ]
        issues.sort(key=lambda issue: issue.number, reverse=True)  # GitHub: newest first
        page, links = paginate(issues, request.query, self.url + request.path)
        return json_response([self._payloads.issue(issue) for issue in page], headers=links)

    def _get_issue(self, request: Request, full_name: str, issue_number: str) -> Response:
        issue = self._issues.get((full_name, int(issue_number)))
        if issue is None:
            return not_found()
        return json_response(self._payloads.issue(issue))

    def _update_issue(self, request: Request, full_name: str, issue_number: str) -> Response:
        issue = self._issues.get((full_name, int(issue_number)))
        if issue is None:
            return not_found()
        body = request.json()
        if body is None:
            return error(HTTPStatus.BAD_REQUEST, "Problems parsing JSON")
        state = body.get("state", issue.state)
        if state not in ("open", "closed"):
            return error(HTTPStatus.UNPROCESSABLE_ENTITY, "Validation Failed")
        issue.title = str(body.get("title", issue.title))
        issue.body = body.get("body", issue.body)
        if "labels" in body:
            issue.labels = label_names(body["labels"])
        issue.set_state(state, body.get("state_reason"))
        issue.updated_at = now()
        return json_response(self._payloads.issue(issue))


def _cache_sort_key(cache: Cache, sort: str) -> tuple[Any, int]:
    if sort == "size_in_bytes":
        return (cache.size_in_bytes, cache.cache_id)
    return (cache.created_at, cache.cache_id)  # created and last accessed are the same here
