"""Scripting a GitHub sandbox scenario: the repositories, workflows, runs (what each rerun
concludes, how long it stays running, whether GitHub refuses it, where it came from and
deployed to), caches and GitHub Apps it holds. The faults it answers with are `faults`'.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from ci_remediator.sandbox.github.base import RerunCompletion, SandboxBase
from ci_remediator.sandbox.github.model import (
    FAILING_CONCLUSIONS,
    Cache,
    Environment,
    Repository,
    Run,
    Workflow,
    now,
)

__all__ = ["Scripting"]

_FULL_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_WORKFLOW_PATH = re.compile(r"\.github/workflows/[^/]+\.ya?ml")


class Scripting(SandboxBase):
    """The methods tests call to set a scenario up (thread-safe, callable while serving)."""

    # -- repositories, workflows, runs, caches ---------------------------------------------

    def add_repository(
        self, full_name: str, *, default_branch: str = "main", private: bool = False
    ) -> None:
        """Add (or reconfigure) a repository. Adding a run adds its repository implicitly."""
        _validate_full_name(full_name)
        with self._lock:
            existing = self._repositories.get(full_name)
            if existing is not None:
                existing.default_branch, existing.private = default_branch, private
                return
            self._repositories[full_name] = Repository(
                repo_id=self._next_id("repo"),
                owner_id=self._owner_id(full_name.split("/", 1)[0]),
                full_name=full_name,
                default_branch=default_branch,
                private=private,
                created_at=now() - timedelta(days=400),
            )

    def add_workflow(
        self,
        repository: str,
        name: str,
        path: str | None = None,
        dispatchable: bool = True,
        *,
        dispatch_conclusion: str = "success",
        dispatch_polls: int = 1,
    ) -> int:
        """Add (or reconfigure) a workflow; returns its id.

        `path` defaults to `.github/workflows/<name as a slug>.yml`. Only a `dispatchable`
        workflow (one with a `workflow_dispatch` trigger) accepts dispatches; each dispatch
        starts a `workflow_dispatch` run that concludes `dispatch_conclusion` after
        `dispatch_polls` reads of it. Workflows that only appear through
        `add_failed_run`/`add_successful_run` are not dispatchable.
        """
        with self._lock:
            workflow = self._workflow(repository, name)
            workflow.path = path or workflow.path
            workflow.dispatchable = dispatchable
            workflow.dispatch_conclusion = dispatch_conclusion
            workflow.dispatch_polls = dispatch_polls
            return workflow.workflow_id

    def add_failed_run(
        self,
        repository: str,
        *,
        workflow_name: str,
        job_name: str,
        log_text: str,
        rerun_conclusions: Sequence[str] = ("success",),
        conclusion: str = "failure",
        head_branch: str = "main",
        event: str = "push",
        polls_until_complete: int = 1,
        created_at: datetime | None = None,
        head_sha: str | None = None,
        failed_step: str = "Run tests",
        head_repository: str | None = None,
        workflow_path: str | None = None,
        environments: Sequence[str] = (),
    ) -> int:
        """Add a completed run whose job `job_name` failed at `failed_step`; returns its id.

        `conclusion` is one of failure, timed_out, cancelled or startup_failure. Each rerun
        concludes with the next item of `rerun_conclusions` (the last repeats) after staying
        queued/in progress for `polls_until_complete` GETs of the run.

        `head_repository` other than `repository` makes it a run from that fork (its run
        JSON's `head_repository`; the fork itself is not served). `workflow_path` is the
        workflow's file (default `.github/workflows/<workflow name as a slug>.yml`): a path
        not seen before in the repository registers another workflow. `environments` are
        where the run's jobs deployed: the run's review history lists one approved review
        per environment.
        """
        if conclusion not in FAILING_CONCLUSIONS:
            raise ValueError(f"conclusion must be one of {sorted(FAILING_CONCLUSIONS)}")
        return self._add_run(
            repository,
            workflow_name=workflow_name,
            job_name=job_name,
            log_text=log_text,
            conclusion=conclusion,
            failed_step=failed_step,
            rerun_conclusions=rerun_conclusions,
            polls_until_complete=polls_until_complete,
            head_branch=head_branch,
            event=event,
            created_at=created_at,
            head_sha=head_sha,
            head_repository=head_repository,
            workflow_path=workflow_path,
            environments=environments,
        )

    def add_successful_run(
        self,
        repository: str,
        *,
        workflow_name: str,
        job_name: str,
        log_text: str,
        head_branch: str = "main",
        created_at: datetime | None = None,
        event: str = "push",
        head_sha: str | None = None,
    ) -> int:
        """Add a completed, successful run (a baseline) with one job whose log is `log_text`."""
        return self._add_run(
            repository,
            workflow_name=workflow_name,
            job_name=job_name,
            log_text=log_text,
            conclusion="success",
            failed_step=None,
            rerun_conclusions=("success",),
            polls_until_complete=1,
            head_branch=head_branch,
            event=event,
            created_at=created_at,
            head_sha=head_sha,
        )

    def complete_reruns_after(self, seconds: float, announce: Callable[[str, int], None]) -> None:
        """From now on each rerun completes `seconds` after it was requested, however often
        it is read (as on GitHub), and then `announce(repository, run_id)` is called: send the
        `workflow_job` and `workflow_run` deliveries there (`webhook_sender`)."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._rerun_completion = RerunCompletion(seconds, announce)

    def set_branch_head(self, repository: str, branch: str, sha: str) -> None:
        """Point `branch` at commit `sha` (a push with no run yet, say)."""
        with self._lock:
            if repository not in self._repositories:
                self.add_repository(repository)
            self._branch_heads[(repository, branch)] = sha

    def expire_logs(self, repository: str, run_id: int) -> None:
        """Make every job log of the run answer 410 Gone, as GitHub does after retention."""
        with self._lock:
            self._get_run_or_raise(repository, run_id).logs_expired = True

    def refuse_rerun(self, repository: str, run_id: int, status: int, message: str) -> None:
        """Answer every rerun request of this run (either kind) with `status` and `message`."""
        with self._lock:
            self._get_run_or_raise(repository, run_id).refusal = (status, message)

    def add_cache(
        self,
        repository: str,
        key: str,
        ref: str = "refs/heads/main",
        *,
        size_in_bytes: int = 1024,
    ) -> int:
        """Add an Actions cache entry; returns its id."""
        with self._lock:
            if repository not in self._repositories:
                self.add_repository(repository)
            cache = Cache(self._next_id("cache"), repository, key, ref, size_in_bytes, now())
            self._caches[cache.cache_id] = cache
            return cache.cache_id

    # -- GitHub App ------------------------------------------------------------------------

    def register_app(
        self,
        app_id: int,
        *,
        installation_id: int,
        repositories: list[str] | None = None,
        account: str | None = None,
        token_ttl_s: int = 3600,
    ) -> str:
        """Install GitHub App `app_id`; returns the app's private key PEM (one per app).

        The installation covers `repositories` ("selected"), or with None every repository of
        `account` ("all"; every repository of the sandbox when `account` is None too).
        Installation tokens expire after `token_ttl_s` (GitHub: one hour).
        """
        with self._lock:
            for full_name in repositories or ():
                if full_name not in self._repositories:
                    self.add_repository(full_name)
            if account is None and repositories:
                account = repositories[0].split("/", 1)[0]
            return self._apps.register(
                app_id,
                installation_id=installation_id,
                repositories=tuple(repositories) if repositories is not None else None,
                account=account,
                token_ttl_s=token_ttl_s,
            )

    # -- helpers ---------------------------------------------------------------------------

    def _add_run(
        self,
        repository: str,
        *,
        workflow_name: str,
        job_name: str,
        log_text: str,
        conclusion: str,
        failed_step: str | None,
        rerun_conclusions: Sequence[str],
        polls_until_complete: int,
        head_branch: str,
        event: str,
        created_at: datetime | None,
        head_sha: str | None,
        head_repository: str | None = None,
        workflow_path: str | None = None,
        environments: Sequence[str] = (),
    ) -> int:
        if not rerun_conclusions:
            raise ValueError("rerun_conclusions must not be empty")
        if polls_until_complete < 0:
            raise ValueError("polls_until_complete must be >= 0")
        if head_repository is not None:
            _validate_full_name(head_repository)
        if workflow_path is not None and not _WORKFLOW_PATH.fullmatch(workflow_path):
            raise ValueError(
                f"workflow_path must be .github/workflows/<file>.yml, got {workflow_path!r}"
            )
        environment_names = _environment_names(environments)
        started = (created_at or now()).astimezone(UTC).replace(microsecond=0)
        with self._lock:
            if repository not in self._repositories:
                self.add_repository(repository)
            workflow = self._workflow(repository, workflow_name, workflow_path)
            run_id = self._next_id("run")
            run = Run(
                run_id=run_id,
                repository=repository,
                workflow=workflow,
                run_number=self._next_run_number(repository),
                head_branch=head_branch,
                head_sha=head_sha or _fake_sha(f"{repository}:{run_id}"),
                event=event,
                created_at=started,
                job_name=job_name,
                failed_step=failed_step,
                log_text=log_text,
                rerun_conclusions=tuple(rerun_conclusions),
                polls_until_complete=polls_until_complete,
                head_repository=self._head_repository(repository, head_repository),
                environments=tuple(self._environment(repository, n) for n in environment_names),
            )
            self._runs[run.run_id] = run
            first_attempt = self._new_attempt(
                run, conclusion, started_at=started, polls=0, trigger="initial"
            )
            first_attempt.completed_at = started + timedelta(minutes=2)
            return run.run_id

    def _workflow(self, repository: str, name: str, path: str | None = None) -> Workflow:
        """The repository's workflow in the file `path` or, without a path, the first one
        called `name`; registered on first use."""
        for workflow in self._workflows.values():
            if workflow.repository != repository:
                continue
            if path is None and workflow.name == name:
                return workflow
            if path is not None and workflow.path == path:
                if workflow.name != name:
                    raise ValueError(f"{path} of {repository} is workflow {workflow.name!r}")
                return workflow
        if repository not in self._repositories:
            self.add_repository(repository)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "ci"
        workflow = Workflow(
            workflow_id=self._next_id("workflow"),
            repository=repository,
            name=name,
            path=path or f".github/workflows/{slug}.yml",
            dispatchable=False,
            created_at=self._repositories[repository].created_at,
        )
        self._workflows[workflow.workflow_id] = workflow
        return workflow

    def _next_run_number(self, repository: str) -> int:
        self._run_numbers[repository] = self._run_numbers.get(repository, 0) + 1
        return self._run_numbers[repository]

    def _head_repository(self, repository: str, head: str | None) -> Repository | None:
        """None for a run from its own repository, else the fork `head` (known on first use)."""
        if head is None or head == repository:
            return None
        fork = self._forks.get(head)
        if fork is None:
            parent = self._repositories[repository]
            fork = Repository(
                repo_id=self._next_id("repo"),
                owner_id=self._owner_id(head.split("/", 1)[0]),
                full_name=head,
                default_branch=parent.default_branch,
                private=parent.private,  # GitHub: a fork of a private repository is private
                created_at=now(),
                fork=True,
            )
            self._forks[head] = fork
        return fork

    def _environment(self, repository: str, name: str) -> Environment:
        """The repository's environment called `name`, known from the first run deploying to it."""
        key = (repository, name)
        if key not in self._environments:
            created_at = self._repositories[repository].created_at
            self._environments[key] = Environment(
                self._next_id("environment"), repository, name, created_at
            )
        return self._environments[key]


def _validate_full_name(full_name: str) -> None:
    if not _FULL_NAME.fullmatch(full_name):
        raise ValueError(f"repository must look like 'owner/name', got {full_name!r}")


def _environment_names(environments: Sequence[str]) -> list[str]:
    """Each environment once, in order; a bare string is a mistake, not a list of letters."""
    if isinstance(environments, str):
        raise TypeError("environments must be a sequence of names, e.g. ('production',)")
    if not all(isinstance(name, str) and name.strip() for name in environments):
        raise ValueError(f"environment names must be non-empty strings, got {environments!r}")
    return list(dict.fromkeys(environments))


def _fake_sha(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:40]
