"""Thin tasks: take ids, call one domain function in one transaction, send what comes next.

Names are explicit and stable (`ci_remediator.<step>`): renaming a module must not orphan
messages already queued.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Task

from celeryconfig import TIME_LIMITS
from ci_remediator.actions.executor import (
    VerifyStatus,
    execute_remediation,
    verification_timed_out,
    verify_remediation,
)
from ci_remediator.analysis.service import analyze_failure
from ci_remediator.approvals import request_approval as request_approval_step
from ci_remediator.detection import poll_repository as poll_repository_step
from ci_remediator.domain import StageEvent, Step
from ci_remediator.gating import gate_failure
from ci_remediator.github.credentials import AppCredential
from ci_remediator.github.errors import GitHubError, RateLimitedError
from ci_remediator.monitoring import (
    expand_organizations,
    poll_start_offsets,
    repositories_to_poll,
)
from ci_remediator.notify.notifier import notify_stage
from ci_remediator.reconcile import find_stuck_failures
from workers.app import app
from workers.base import PipelineTask

log = logging.getLogger(__name__)

# Kept free at the end of the analyze task's soft time limit for storing the result.
ANALYZE_MARGIN_S = 30


@app.task(
    bind=True,
    base=PipelineTask,
    name="ci_remediator.poll_repositories",
    # The next beat is the retry: a re-sent fan-out would find this window's lock taken.
    max_retries=0,
    retry_when_rate_limited=False,
)
def poll_repositories(self: PipelineTask) -> int:
    """Fan out one poll per watched repository, once per polling window across all beats.

    The polls are spread (countdowns) over the time the request cap needs for them, at most
    half the window, so a thousand repositories make a steady trickle of requests.
    """
    services = self.services
    config = services.config
    window_s = config.file.polling_interval_minutes * 60
    if services.coordinator.try_lock("poll_repositories", ttl_s=window_s * 0.9) is None:
        log.info("another beat already polled in this window")
        return 0
    if self.credential_is_disabled():
        log.warning("not polling: GitHub refused this credential (fix the configuration)")
        return 0
    if config.file.organizations:
        _refresh_organizations(self)
        if self.credential_is_disabled():
            return 0
    with services.sessions() as session:
        repositories = repositories_to_poll(session, configured=config.repositories)
    offsets = poll_start_offsets(
        len(repositories),
        interval_s=window_s,
        max_per_minute=config.file.github_max_requests_per_minute,
    )
    for repository, offset in zip(repositories, offsets, strict=True):
        poll_repository.apply_async(kwargs={"repository": repository}, countdown=offset or None)
    return len(repositories)


def _refresh_organizations(task: PipelineTask) -> None:
    """Re-list the organizations' repositories at most every `organization_refresh_minutes`.

    If GitHub cannot answer now, the repositories already known are still polled and the next
    beat tries again.
    """
    services = task.services
    file = services.config.file
    token = services.coordinator.try_lock(
        "expand_organizations", ttl_s=file.organization_refresh_minutes * 60
    )
    if token is None:
        return
    try:
        task.run_step(
            expand_organizations,
            gateway=services.gateway,
            organizations=file.organizations,
            via_installation=isinstance(services.github_credential, AppCredential),
        )
    except GitHubError as error:
        services.coordinator.release("expand_organizations", token)
        log.warning("organizations not re-listed this time: %s", error)


@app.task(
    bind=True,
    base=PipelineTask,
    name="ci_remediator.poll_repository",
    retry_when_rate_limited=False,
)
def poll_repository(self: PipelineTask, repository: str) -> None:
    if self.credential_is_disabled():
        log.warning("not polling %s: GitHub refused this credential", repository)
        return
    # Held only while polling (so a retry can take it again), never longer than the hard limit.
    lock_name = f"poll_repository:{repository}"
    token = self.services.coordinator.try_lock(lock_name, ttl_s=TIME_LIMITS[self.name][1])
    if token is None:
        log.info("%s is being polled by another worker", repository)
        return
    file = self.services.config.file
    try:
        self.run_step(
            poll_repository_step,
            gateway=self.services.gateway,
            repository=repository,
            lookback=timedelta(hours=file.initial_lookback_hours),
            deep_scan_every=timedelta(minutes=file.deep_scan_interval_minutes),
        )
    except RateLimitedError as limited:
        # The next beat polls again; a poll is never scheduled for the reset hours ahead.
        log.warning("skipping %s until the next beat: %s", repository, limited)
    finally:
        self.services.coordinator.release(lock_name, token)


@app.task(bind=True, base=PipelineTask, name="ci_remediator.analyze")
def analyze(self: PipelineTask, failure_id: int) -> None:
    self.run_step(
        analyze_failure,
        failure_id=failure_id,
        gateway=self.services.gateway,
        knowledge_base=self.services.knowledge_base,
        model=self.services.model,
        llm_config=self.services.config.file.llm,
        max_log_bytes=self.services.config.file.max_log_bytes,
        model_time_budget_s=TIME_LIMITS[self.name][0] - ANALYZE_MARGIN_S,
    )


@app.task(bind=True, base=PipelineTask, name="ci_remediator.gate")
def gate(self: PipelineTask, failure_id: int) -> None:
    self.run_step(gate_failure, failure_id=failure_id, config=self.services.config)


@app.task(bind=True, base=PipelineTask, name="ci_remediator.request_approval")
def request_approval(self: PipelineTask, failure_id: int) -> None:
    self.run_step(request_approval_step, failure_id=failure_id)


@app.task(bind=True, base=PipelineTask, name="ci_remediator.execute")
def execute(self: PipelineTask, failure_id: int) -> None:
    self.run_step(
        execute_remediation,
        failure_id=failure_id,
        gateway=self.services.gateway,
        verify_after_s=self.services.config.file.verify_poll_seconds,
    )


@app.task(bind=True, base=PipelineTask, name="ci_remediator.verify", max_retries=None)
def verify(self: PipelineTask, failure_id: int) -> None:
    """Check the new attempt; not done yet means a short countdown retry, never a far ETA."""
    file = self.services.config.file
    outcome = self.run_step(
        verify_remediation, failure_id=failure_id, gateway=self.services.gateway
    )
    if outcome is None or outcome.status is not VerifyStatus.PENDING:
        return
    checks_allowed = int(file.verify_timeout_minutes * 60 / file.verify_poll_seconds)
    if self.request.retries >= checks_allowed:
        self.run_step(verification_timed_out, failure_id=failure_id)
        return
    raise self.retry(countdown=file.verify_poll_seconds, max_retries=checks_allowed)


@app.task(bind=True, base=PipelineTask, name="ci_remediator.notify")
def notify(self: PipelineTask, failure_id: int, event: str) -> None:
    self.run_step(
        notify_stage,
        failure_id=failure_id,
        event=StageEvent(event),
        notifier=self.services.notifier,
    )


@app.task(bind=True, base=PipelineTask, name="ci_remediator.reconcile")
def reconcile(self: PipelineTask) -> None:
    if self.credential_is_disabled():
        # Every step it would re-send needs GitHub; they resume with a working credential.
        log.warning("not reconciling: GitHub refused this credential")
        return
    self.run_step(
        find_stuck_failures,
        stuck_after=timedelta(minutes=self.services.config.file.stuck_after_minutes),
    )


TASK_FOR_STEP: dict[Step, Task[Any, Any]] = {
    Step.ANALYZE: analyze,
    Step.GATE: gate,
    Step.REQUEST_APPROVAL: request_approval,
    Step.EXECUTE: execute,
    Step.VERIFY: verify,
    Step.NOTIFY: notify,
}
