"""The GitHub sandbox's JSON bodies. Each starts as a deep copy of GitHub's published example
(``data/github_examples.json``, see `examples`) with ids, names, urls, states and timestamps
overridden, so field names and types stay what GitHub's clients expect.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast
from urllib.parse import quote

from ci_remediator.sandbox.github.app_registry import Installation, InstallationToken
from ci_remediator.sandbox.github.examples import Examples, node_id
from ci_remediator.sandbox.github.model import (
    Attempt,
    Cache,
    Environment,
    Issue,
    Job,
    Repository,
    Run,
    Workflow,
    iso,
    job_conclusion,
)

__all__ = ["Payloads"]

_STEPS = ("Set up job", "Run actions/checkout@v4", "{failed_step}", "Post Run actions/checkout@v4")


class Payloads(Examples):
    """Builds GitHub's JSON for sandbox state, one method per kind of body."""

    def rate_limit(self, core: dict[str, int]) -> dict[str, Any]:
        body = copy.deepcopy(self._examples["rate-limit-overview"])
        body["resources"]["core"] = core
        body["rate"] = dict(core)
        return cast(dict[str, Any], body)

    def repository(self, repository: Repository) -> dict[str, Any]:
        body = self._rebranded("full-repository", repository.full_name)
        body = self._minimal_repository(body, repository)
        # parent/source only exist for forks; a repository the sandbox serves is never a fork.
        body.pop("parent", None)
        body.pop("source", None)
        body.update(
            template_repository=None,
            default_branch=repository.default_branch,
            visibility="private" if repository.private else "public",
            organization=self._owner(body["organization"], repository.owner),
            has_discussions=False,  # in GET's documented answer, absent from this example
            created_at=iso(repository.created_at),
            updated_at=iso(repository.created_at),
            pushed_at=iso(repository.created_at),
        )
        return body

    def org_repository(self, repository: Repository) -> dict[str, Any]:
        return self._listed_repository(self._examples["minimal-repository-items"][0], repository)

    def installation_repository(self, repository: Repository) -> dict[str, Any]:
        template = self._examples["repository-paginated-2"]["repositories"][0]
        return self._listed_repository(template, repository)

    def run(self, run: Run, attempt: Attempt, repository: Repository) -> dict[str, Any]:
        url = self._base_url()
        body = self._rebranded("workflow-run", run.repository)
        head = run.head_repository or repository  # a run from a fork has the fork as its head
        head_template = body["head_repository"]
        if head is not repository:  # its urls name the fork, not the run's repository
            head_template = self._rebranded(
                self._examples["workflow-run"]["head_repository"], head.full_name
            )
        api = f"{url}/repos/{run.repository}"
        run_url = f"{api}/actions/runs/{run.run_id}"
        updated = attempt.completed_at or attempt.started_at
        check_suite_id = run.run_id * 10 + attempt.number
        body.update(
            id=run.run_id,
            name=run.workflow.name,
            node_id=node_id("WorkflowRun", run.run_id),
            check_suite_id=check_suite_id,
            check_suite_node_id=node_id("CheckSuite", check_suite_id),
            head_branch=run.head_branch,
            head_sha=run.head_sha,
            path=f"{run.workflow.path}@{run.head_branch}",
            run_number=run.run_number,
            event=run.event,
            display_title=f"{run.workflow.name} on {run.head_branch}",
            status=attempt.status,
            conclusion=attempt.conclusion,
            workflow_id=run.workflow.workflow_id,
            url=run_url,
            html_url=f"{url}/{run.repository}/actions/runs/{run.run_id}",
            created_at=iso(run.created_at),
            updated_at=iso(updated),
            run_attempt=attempt.number,
            referenced_workflows=[],
            run_started_at=iso(attempt.started_at),
            jobs_url=f"{run_url}/jobs",
            logs_url=f"{run_url}/logs",
            check_suite_url=f"{api}/check-suites/{check_suite_id}",
            artifacts_url=f"{run_url}/artifacts",
            cancel_url=f"{run_url}/cancel",
            rerun_url=f"{run_url}/rerun",
            previous_attempt_url=(
                f"{run_url}/attempts/{attempt.number - 1}" if attempt.number > 1 else None
            ),
            workflow_url=f"{api}/actions/workflows/{run.workflow.workflow_id}",
            repository=self._minimal_repository(body["repository"], repository),
            head_repository=self._minimal_repository(head_template, head),
        )
        body["head_commit"].update(id=run.head_sha, timestamp=iso(run.created_at))
        return cast(dict[str, Any], body)

    def job(self, run: Run, attempt: Attempt, job: Job) -> dict[str, Any]:
        url = self._base_url()
        body = self._rebranded("job", run.repository)
        api = f"{url}/repos/{run.repository}"
        conclusion = job_conclusion(attempt, job)
        status = attempt.status
        completed = attempt.completed_at if status == "completed" else None
        body.update(
            id=job.job_id,
            run_id=run.run_id,
            run_url=f"{api}/actions/runs/{run.run_id}",
            run_attempt=attempt.number,
            node_id=node_id("CheckRun", job.job_id),
            head_sha=run.head_sha,
            url=f"{api}/actions/jobs/{job.job_id}",
            html_url=f"{url}/{run.repository}/actions/runs/{run.run_id}/job/{job.job_id}",
            status=status,
            conclusion=conclusion,
            created_at=iso(attempt.started_at),
            started_at=iso(attempt.started_at),
            completed_at=iso(completed) if completed else None,
            name=job.name,
            steps=_steps(body["steps"][0], attempt, job, conclusion),
            check_run_url=f"{api}/check-runs/{job.job_id}",
            labels=["ubuntu-latest"],
            runner_id=None if status == "queued" else 1,
            runner_name=None if status == "queued" else "GitHub Actions 1",
            runner_group_id=None if status == "queued" else 1,
            runner_group_name=None if status == "queued" else "GitHub Actions",
            workflow_name=run.workflow.name,
            head_branch=run.head_branch,
        )
        return cast(dict[str, Any], body)

    def workflow(self, workflow: Workflow, default_branch: str) -> dict[str, Any]:
        url = self._base_url()
        body = self._rebranded("workflow", workflow.repository)
        site = f"{url}/{workflow.repository}"
        body.update(
            id=workflow.workflow_id,
            node_id=node_id("Workflow", workflow.workflow_id),
            name=workflow.name,
            path=workflow.path,
            state="active",
            created_at=iso(workflow.created_at),
            updated_at=iso(workflow.created_at),
            url=f"{url}/repos/{workflow.repository}/actions/workflows/{workflow.workflow_id}",
            html_url=f"{site}/blob/{default_branch}/{workflow.path}",
            badge_url=f"{site}/workflows/{workflow.name}/badge.svg",
        )
        return cast(dict[str, Any], body)

    def approvals(self, run: Run, repository: Repository) -> list[dict[str, Any]]:
        """The run's review history: one approved review per environment its jobs deployed
        to, by the repository's owner."""
        template = self._rebranded("environment-approvals-items", run.repository)[0]
        reviews = []
        for environment in run.environments:
            review = copy.deepcopy(template)
            review.update(
                state="approved",
                environments=[self._environment(template["environments"][0], environment)],
                user=self._owner(template["user"], repository.owner),
            )
            reviews.append(review)
        return reviews

    def environments(
        self, repository: Repository, environments: Sequence[Environment]
    ) -> dict[str, Any]:
        """GitHub's list of the repository's environments, each with the example's protection
        rules (a wait timer, required reviewers, a branch policy): the reviewer is the
        repository's owner, who approved the runs that deployed there."""
        example = self._rebranded("environments", repository.full_name)
        template = example["environments"][0]
        listed = []
        for environment in environments:
            body = self._environment(template, environment)
            for number, rule in enumerate(body["protection_rules"]):
                rule_id = environment.environment_id * 10 + number
                rule.update(id=rule_id, node_id=node_id("Gate", rule_id))
                if rule["type"] == "required_reviewers":
                    (user,) = [r for r in rule["reviewers"] if r["type"] == "User"]
                    rule["reviewers"] = [
                        {
                            "type": "User",
                            "reviewer": self._owner(user["reviewer"], repository.owner),
                        }
                    ]
            listed.append(body)
        return {"total_count": len(listed), "environments": listed}

    def cache(self, cache: Cache) -> dict[str, Any]:
        body = copy.deepcopy(self._examples["actions-cache-list"]["actions_caches"][0])
        body.update(
            id=cache.cache_id,
            ref=cache.ref,
            key=cache.key,
            version=hashlib.sha256(f"{cache.key}:{cache.ref}".encode()).hexdigest(),
            last_accessed_at=iso(cache.created_at),
            created_at=iso(cache.created_at),
            size_in_bytes=cache.size_in_bytes,
        )
        return cast(dict[str, Any], body)

    def branch(self, repository: str, name: str, sha: str) -> dict[str, Any]:
        body = self._rebranded("branch-get", repository)
        commit = body["commit"]
        base = self._base_url()
        commit.update(
            sha=sha,
            node_id=node_id("Commit", int(sha[:12], 16)),
            url=f"{base}/repos/{repository}/commits/{sha}",
            html_url=f"{base}/{repository}/commit/{sha}",
            comments_url=f"{base}/repos/{repository}/commits/{sha}/comments",
        )
        body.update(
            name=name,
            protected=False,
            _links={
                "self": f"{base}/repos/{repository}/branches/{name}",
                "html": f"{base}/{repository}/tree/{name}",
            },
        )
        return cast(dict[str, Any], body)

    def issue(self, issue: Issue) -> dict[str, Any]:
        base = self._base_url()
        body = self._rebranded("issue", issue.repository)
        url = f"{base}/repos/{issue.repository}/issues/{issue.number}"
        label_template = body["labels"][0]
        # `pull_request` is only present on issues that are pull requests.
        body.pop("pull_request", None)
        body.update(
            id=issue.issue_id,
            node_id=node_id("Issue", issue.issue_id),
            url=url,
            repository_url=f"{base}/repos/{issue.repository}",
            labels_url=f"{url}/labels{{/name}}",
            comments_url=f"{url}/comments",
            events_url=f"{url}/events",
            html_url=f"{base}/{issue.repository}/issues/{issue.number}",
            number=issue.number,
            state=issue.state,
            state_reason=issue.state_reason,
            title=issue.title,
            body=issue.body,
            labels=[self._label(label_template, issue.repository, n) for n in issue.labels],
            assignee=None,
            assignees=[],
            milestone=None,
            locked=False,
            active_lock_reason=None,
            comments=0,
            pinned_comment=None,
            created_at=iso(issue.created_at),
            updated_at=iso(issue.updated_at or issue.created_at),
            closed_at=iso(issue.closed_at) if issue.closed_at else None,
            closed_by=body["user"] if issue.state == "closed" else None,
        )
        return cast(dict[str, Any], body)

    def installation(self, installation: Installation, account: str) -> dict[str, Any]:
        url = self._base_url()
        body = cast(dict[str, Any], self._rebranded("installation"))
        number = installation.installation_id
        body.update(
            id=number,
            account=self._owner(body["account"], account),
            repository_selection=installation.repository_selection,
            access_tokens_url=f"{url}/app/installations/{number}/access_tokens",
            repositories_url=f"{url}/installation/repositories",
            html_url=f"{url}/organizations/{account}/settings/installations/{number}",
            app_id=installation.app_id,
            app_slug=f"sandbox-app-{installation.app_id}",
            target_id=self._owner_id(account),
            permissions=dict(installation.permissions),
            events=["workflow_run", "workflow_job"],
            created_at=iso(installation.created_at),
            updated_at=iso(installation.created_at),
        )
        return body

    def installation_token(
        self,
        installation: Installation,
        issued: InstallationToken,
        repositories: Sequence[Repository],
    ) -> dict[str, Any]:
        body = copy.deepcopy(self._examples["installation-token"])
        template = body["repositories"][0]
        body.update(
            token=issued.token,
            expires_at=iso(issued.expires_at),
            permissions=dict(issued.permissions),
            repository_selection=installation.repository_selection,
        )
        # GitHub lists the repositories only for a token limited to chosen repositories.
        if installation.repositories is None:
            body.pop("repositories")
        else:
            body["repositories"] = [self._listed_repository(template, r) for r in repositories]
        return cast(dict[str, Any], body)

    def _environment(self, template: dict[str, Any], environment: Environment) -> dict[str, Any]:
        url = self._base_url()
        body = copy.deepcopy(template)
        body.update(
            id=environment.environment_id,
            node_id=node_id("Environment", environment.environment_id),
            name=environment.name,
            url=f"{url}/repos/{environment.repository}/environments/"
            + quote(environment.name, safe=""),
            html_url=f"{url}/{environment.repository}/deployments/activity_log?"
            + f"environments_filter={quote(environment.name)}",
            created_at=iso(environment.created_at),
            updated_at=iso(environment.created_at),
        )
        return body


def _steps(
    template: dict[str, Any], attempt: Attempt, job: Job, conclusion: str | None
) -> list[dict[str, Any]]:
    if attempt.status == "queued":
        return []
    names = [name.format(failed_step=job.failed_step or "Run make") for name in _STEPS]
    names.append("Complete job")
    if attempt.status == "in_progress":
        names = names[:1]
    steps = []
    for number, name in enumerate(names, start=1):
        step = copy.deepcopy(template)
        step_conclusion: str | None = "success"
        if attempt.status != "completed":
            step_conclusion = None
        elif job.failed_step is not None and name == job.failed_step:
            step_conclusion = conclusion
        step.update(
            name=name,
            number=number,
            status="completed" if step_conclusion else "in_progress",
            conclusion=step_conclusion,
            started_at=iso(attempt.started_at + timedelta(seconds=number)),
            completed_at=(
                iso(attempt.started_at + timedelta(seconds=number + 1)) if step_conclusion else None
            ),
        )
        steps.append(step)
    return steps
