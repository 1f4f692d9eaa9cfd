"""The tasks: each declares its name, queue and time limits, and calls one pipeline step.

Names are explicit and stable (`ci_remediator.<step>`): renaming a module must not orphan
messages already queued. Every limit and countdown fits inside the broker's visibility timeout
(`workers.app.check_reliability` refuses to start otherwise).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import workers.task_timing  # noqa: F401 - connects the signals that time every task
from ci_remediator.github.credentials import AppCredential
from ci_remediator.github.errors import RateLimitedError
from ci_remediator.pipeline.analyze import analyze_failure
from ci_remediator.pipeline.approve import request_approval as request_approval_step
from ci_remediator.pipeline.detect import poll_repository as poll_repository_step
from ci_remediator.pipeline.execute import execute_remediation
from ci_remediator.pipeline.expire import expire_approvals as expire_approvals_step
from ci_remediator.pipeline.gate import gate_failure
from ci_remediator.pipeline.notify import notify_stage
from ci_remediator.pipeline.poll_cycle import plan_poll_cycle
from ci_remediator.pipeline.reconcile import find_stuck_failures
from ci_remediator.pipeline.retention import purge_old_records as purge_old_records_step
from ci_remediator.pipeline.rollback import roll_back_remediation
from ci_remediator.pipeline.tracking_issues import close_fixed_tracking_issues
from ci_remediator.pipeline.verify import verify_remediation
from workers.app import pipeline_task
from workers.base import PipelineTask

log = logging.getLogger(__name__)

# Kept free at the end of the analyze task's soft time limit for storing the result.
ANALYZE_SOFT_LIMIT_S = 240
ANALYZE_MARGIN_S = 30
POLL_REPOSITORY_HARD_LIMIT_S = 300
# A notifier that stays down is asked again at least every five minutes.
NOTIFY_MAX_BACKOFF_S = 300.0
NOTIFY_HARD_LIMIT_S = 60


@pipeline_task(
    name="ci_remediator.poll_repositories",
    queue="poll",
    soft_time_limit=60,
    time_limit=90,
    # The next beat is the retry: a re-sent fan-out would find this window's lock taken.
    max_retries=0,
    retry_when_rate_limited=False,
)
def poll_repositories(self: PipelineTask) -> None:
    """Fan out one poll per watched repository, once per polling window across all beats."""
    services = self.services
    file = services.config.file
    window_s = file.polling_interval_minutes * 60
    if services.coordinator.try_lock("poll_repositories", ttl_s=window_s * 0.9) is None:
        log.info("another beat already polled in this window")
        return
    if self.credential_is_disabled():
        log.warning("not polling: GitHub refused this credential (fix the configuration)")
        return
    refresh_token = None
    if file.organizations:
        refresh_token = services.coordinator.try_lock(
            "expand_organizations", ttl_s=file.organization_refresh_minutes * 60
        )
    with self.step_scope() as scope:
        plan = scope.send_after_commit(
            plan_poll_cycle(
                scope.session,
                gateway=services.gateway,
                configured=services.config.repositories,
                organizations=file.organizations,
                refresh_organizations=refresh_token is not None,
                via_installation=isinstance(services.github_credential, AppCredential),
                interval_s=window_s,
                max_per_minute=file.github_max_requests_per_minute,
            )
        )
    if refresh_token is not None and not plan.organizations_listed:
        services.coordinator.release("expand_organizations", refresh_token)


@pipeline_task(
    name="ci_remediator.poll_repository",
    queue="poll",
    soft_time_limit=240,
    time_limit=POLL_REPOSITORY_HARD_LIMIT_S,
    retry_when_rate_limited=False,
)
def poll_repository(self: PipelineTask, repository: str) -> None:
    if self.credential_is_disabled():
        log.warning("not polling %s: GitHub refused this credential", repository)
        return
    # Held only while polling (so a retry can take it again), never longer than the hard limit.
    lock_name = f"poll_repository:{repository}"
    token = self.services.coordinator.try_lock(lock_name, ttl_s=POLL_REPOSITORY_HARD_LIMIT_S)
    if token is None:
        log.info("%s is being polled by another worker", repository)
        return
    file = self.services.config.file
    try:
        with self.step_scope() as scope:
            scope.send_after_commit(
                poll_repository_step(
                    scope.session,
                    gateway=self.services.gateway,
                    repository=repository,
                    lookback=timedelta(hours=file.initial_lookback_hours),
                    deep_scan_every=timedelta(minutes=file.deep_scan_interval_minutes),
                )
            )
    except RateLimitedError as limited:
        # The next beat polls again; a poll is never scheduled for the reset hours ahead.
        log.warning("skipping %s until the next beat: %s", repository, limited)
    finally:
        self.services.coordinator.release(lock_name, token)


@pipeline_task(
    name="ci_remediator.analyze",
    queue="analyze",
    soft_time_limit=ANALYZE_SOFT_LIMIT_S,
    time_limit=300,
)
def analyze(self: PipelineTask, failure_id: int) -> None:
    services = self.services
    with self.step_scope(failure_id=failure_id) as scope:
        scope.send_after_commit(
            analyze_failure(
                scope.session,
                failure_id=failure_id,
                gateway=services.gateway,
                knowledge_base=services.knowledge_base,
                model=services.model,
                llm_config=services.config.file.llm,
                max_log_bytes=services.config.file.max_log_bytes,
                model_time_budget_s=ANALYZE_SOFT_LIMIT_S - ANALYZE_MARGIN_S,
                burst_window=timedelta(minutes=services.config.file.noise_window_minutes),
            )
        )


@pipeline_task(
    name="ci_remediator.gate",
    queue="default",
    soft_time_limit=30,
    time_limit=60,
)
def gate(self: PipelineTask, failure_id: int) -> None:
    with self.step_scope(failure_id=failure_id) as scope:
        scope.send_after_commit(
            gate_failure(scope.session, failure_id=failure_id, config=self.services.config)
        )


@pipeline_task(
    name="ci_remediator.request_approval",
    queue="notify",
    soft_time_limit=30,
    time_limit=60,
)
def request_approval(self: PipelineTask, failure_id: int) -> None:
    with self.step_scope(failure_id=failure_id) as scope:
        scope.send_after_commit(request_approval_step(scope.session, failure_id=failure_id))


@pipeline_task(
    name="ci_remediator.execute",
    queue="execute",
    soft_time_limit=90,
    time_limit=120,
)
def execute(self: PipelineTask, failure_id: int) -> None:
    with self.step_scope(failure_id=failure_id) as scope:
        scope.send_after_commit(
            execute_remediation(
                scope.session,
                failure_id=failure_id,
                gateway=self.services.gateway,
                verify_after_s=self.services.config.file.verify_poll_seconds,
            )
        )


@pipeline_task(
    name="ci_remediator.verify",
    queue="execute",
    soft_time_limit=60,
    time_limit=90,
    max_retries=None,
)
def verify(self: PipelineTask, failure_id: int) -> None:
    """Check the new attempt; not done yet means a short countdown retry, never a far ETA."""
    file = self.services.config.file
    with self.step_scope(failure_id=failure_id) as scope:
        scope.send_after_commit(
            verify_remediation(
                scope.session,
                failure_id=failure_id,
                gateway=self.services.gateway,
                timeout=timedelta(minutes=file.verify_timeout_minutes),
                knowledge_base=self.services.knowledge_base,
            )
        )
    if scope.waiting:
        # (Celery reads max_retries=None as "the task's default": allow one more each time;
        # the step itself ends the wait at the verify timeout.)
        raise self.retry(countdown=file.verify_poll_seconds, max_retries=self.request.retries + 1)


@pipeline_task(
    name="ci_remediator.rollback",
    queue="execute",
    soft_time_limit=60,
    time_limit=90,
    max_retries=5,
)
def rollback(self: PipelineTask, failure_id: int) -> None:
    """Undo what the remediation left running at the verify deadline, then tell a human."""
    with self.step_scope(failure_id=failure_id) as scope:
        scope.send_after_commit(
            roll_back_remediation(
                scope.session, failure_id=failure_id, gateway=self.services.gateway
            )
        )


@pipeline_task(
    name="ci_remediator.notify",
    queue="notify",
    soft_time_limit=30,
    time_limit=NOTIFY_HARD_LIMIT_S,
    max_retries=None,
)
def notify(self: PipelineTask, failure_id: int, event: str | None = None) -> None:
    """Deliver the failure's pending messages in order (`event` is informational: the rows
    say what to send). A notifier that is down or rate limited means a countdown retry,
    after its Retry-After when it gave one, for as long as it takes."""
    del event
    # One deliverer per failure at a time, on every backend: row locks order the delivery on
    # Postgres, but SQLite (the embedded form) has none, and two tasks would both send.
    lock = f"notify:{failure_id}"
    token = self.services.coordinator.try_lock(lock, ttl_s=NOTIFY_HARD_LIMIT_S)
    if token is None:
        raise self.retry(countdown=1.0, max_retries=self.request.retries + 1)
    try:
        with self.step_scope(failure_id=failure_id) as scope:
            scope.send_after_commit(
                notify_stage(
                    scope.session,
                    failure_id=failure_id,
                    notifier=self.services.notifier,
                    notifier_credential=self.services.notifier_credential,
                    noise_control=self.services.config.file.noise_window_minutes > 0,
                )
            )
    finally:
        self.services.coordinator.release(lock, token)
    if scope.waiting:
        retry_after = next((r.retry_after_s for r in scope.results if r.retry_after_s), None)
        countdown = retry_after or min(NOTIFY_MAX_BACKOFF_S, 2.0 * 2**self.request.retries)
        raise self.retry(countdown=countdown, max_retries=self.request.retries + 1)


@pipeline_task(
    name="ci_remediator.reconcile",
    queue="default",
    soft_time_limit=120,
    time_limit=180,
)
def reconcile(self: PipelineTask) -> None:
    if self.credential_is_disabled():
        # Every step it would re-send needs GitHub; they resume with a working credential.
        log.warning("not reconciling: GitHub refused this credential")
        return
    with self.step_scope() as scope:
        scope.send_after_commit(
            find_stuck_failures(
                scope.session,
                stuck_after=timedelta(minutes=self.services.config.file.stuck_after_minutes),
            )
        )


@pipeline_task(
    name="ci_remediator.expire_approvals",
    queue="default",
    soft_time_limit=60,
    time_limit=90,
)
def expire_approvals(self: PipelineTask) -> None:
    """Beat, every minute: pending approvals past `approval_timeout_hours` expire."""
    with self.step_scope() as scope:
        scope.send_after_commit(expire_approvals_step(scope.session))


@pipeline_task(
    name="ci_remediator.close_tracking_issues",
    queue="default",
    soft_time_limit=120,
    time_limit=180,
    max_retries=0,  # the next beat is the retry
)
def close_tracking_issues(self: PipelineTask) -> None:
    """Beat, every polling interval: close tracking issues whose workflow passed since."""
    if self.credential_is_disabled():
        log.warning("not closing tracking issues: GitHub refused this credential")
        return
    with self.step_scope() as scope:
        closed = close_fixed_tracking_issues(scope.session, gateway=self.services.gateway)
    if closed:
        log.info("closed %d tracking issue(s) whose workflow passed", closed)


# The purge stops starting batches this long before its soft time limit: a run cut off by the
# limit would roll back everything it deleted, and so would the next day's.
PURGE_SOFT_LIMIT_S = 300
PURGE_MARGIN_S = 60


@pipeline_task(
    name="ci_remediator.purge_old_records",
    queue="default",
    soft_time_limit=PURGE_SOFT_LIMIT_S,
    time_limit=PURGE_SOFT_LIMIT_S + 60,
    max_retries=0,  # the next day's beat is the retry; what is left waits for it
)
def purge_old_records(self: PipelineTask) -> None:
    """Beat, daily: delete finished failures past `retention_days` and audit entries past
    `audit_retention_days` (pipeline.retention says what stays)."""
    file = self.services.config.file
    with self.step_scope() as scope:
        report = purge_old_records_step(
            scope.session,
            retention_days=file.retention_days,
            audit_retention_days=file.audit_retention_days,
            detection_lookback=timedelta(hours=file.initial_lookback_hours),
            time_budget_s=PURGE_SOFT_LIMIT_S - PURGE_MARGIN_S,
        )
    log.info(
        "retention purge deleted %d row(s)%s: %s",
        report.total,
        "" if report.complete else " (more left for the next run)",
        ", ".join(f"{table} {count}" for table, count in report.deleted.items() if count),
    )
