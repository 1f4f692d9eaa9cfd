"""The base task: owns the session, sorts errors, binds log context, sends follow-ups late.

A task body reads: open the step's scope, call one step function of `ci_remediator.pipeline`
with the scope's session, hand its StepResult to the scope. The scope commits, then sends the
result's follow-ups (never before: a fast worker must find the rows they name).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import redis.exceptions
from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from ci_remediator.db.audit import count_audit, record_audit
from ci_remediator.db.notices import notice
from ci_remediator.db.refused_credentials import credential_disabled, disable_credential
from ci_remediator.db.transitions import StaleStateError, mark_errored
from ci_remediator.domain import FollowUp, StageEvent, Step, StepResult
from ci_remediator.github.errors import AuthenticationError, RateLimitedError, TransientGitHubError
from ci_remediator.log_context import bind_log_context
from ci_remediator.notify.messages import SystemAlert
from ci_remediator.notify.notifier import raise_alert
from ci_remediator.services import Services, get_services

log = logging.getLogger(__name__)

ResultT = TypeVar("ResultT", bound=StepResult)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientGitHubError,
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)

RATE_LIMIT_COUNTDOWN_CAP_S = 300.0
# A step past its time limit is left for the sweep this many times, then given up as errored.
MAX_TIME_LIMIT_OVERRUNS = 3
OVERRAN = "time_limit_exceeded"


def is_transient(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, TRANSIENT_ERRORS)


def retry_countdown(error: BaseException, retries: int) -> float:
    retry_after = getattr(error, "retry_after_s", None)
    if retry_after:
        return float(retry_after)
    # Exponential with full jitter, so a fleet of retries does not arrive in lockstep.
    return random.uniform(0, min(600.0, 5.0 * 2**retries))  # noqa: S311


def task_name(step: Step) -> str:
    """Every step's task is named after it: renaming a module never orphans queued messages."""
    return f"ci_remediator.{step.value}"


def send_follow_ups(app: Celery, follow_ups: Iterable[FollowUp]) -> None:
    for follow_up in follow_ups:
        app.tasks[task_name(follow_up.step)].apply_async(
            kwargs=follow_up.task_kwargs(), countdown=follow_up.countdown_s or None
        )


@dataclass
class StepScope:
    """One step's unit of work: its session, and the results whose follow-ups go out after
    the commit."""

    session: Session
    results: list[StepResult] = field(default_factory=list)

    def send_after_commit(self, result: ResultT) -> ResultT:
        self.results.append(result)
        return result

    @property
    def waiting(self) -> bool:
        return any(result.waiting for result in self.results)


class PipelineTask(Task):
    abstract = True
    max_retries: int | None = 3
    # For tasks whose retries also count polls (verify): how many transient errors to absorb.
    transient_retry_limit = 1000
    # False for polls: when GitHub's budget is spent the next beat polls again instead.
    retry_when_rate_limited = True
    acks_late = True
    reject_on_worker_lost = True

    @property
    def services(self) -> Services:
        return get_services()

    @contextmanager
    def step_scope(self, *, failure_id: int | None = None) -> Iterator[StepScope]:
        """One transaction around one step; follow-ups after the commit; errors sorted.

        A StaleStateError (another worker moved the failure first) ends the task quietly: the
        transaction is rolled back and nothing is sent.
        """
        with bind_log_context(task=self.name, task_id=self.request.id, failure_id=failure_id):
            try:
                with self.services.sessions() as session, session.begin():
                    scope = StepScope(session)
                    yield scope
            except StaleStateError as stale:
                log.info("another worker moved this failure first: %s", stale)
                scope.results.clear()
                return
            except Exception as error:
                self._handle_error(error, failure_id=failure_id)
                raise
            for result in scope.results:
                send_follow_ups(self.app, result.follow_ups)

    def _handle_error(self, error: Exception, *, failure_id: int | None) -> None:
        if isinstance(error, AuthenticationError):
            # Not the failure's fault: it stays where it is, and the reconcile sweep moves it
            # on once a working credential is configured.
            self.credential_refused(error)
            return
        if isinstance(error, RateLimitedError):
            if not self.retry_when_rate_limited:
                return
            # Waiting for GitHub's budget is not a fault: it spends no retry, and the wait is
            # capped so no message sits in the broker for hours (it asks the budget again).
            countdown = min(error.retry_after_s or 60.0, RATE_LIMIT_COUNTDOWN_CAP_S)
            log.warning("rate limited, next try in %.0fs: %s", countdown, error)
            # (Celery reads max_retries=None as "the task's default": allow one more instead.)
            raise self.retry(
                exc=error, countdown=countdown, max_retries=self.request.retries + 1
            ) from error
        if isinstance(error, SoftTimeLimitExceeded):
            self._over_time(error, failure_id=failure_id)
            return
        if isinstance(error, TransientGitHubError) and error.retried:
            # The gateway already retried this call: retrying the task now would multiply the
            # attempts. The failure keeps its state; the reconcile sweep re-sends it later.
            log.warning("GitHub kept failing after the call's own retries; left for the sweep")
            return
        limit = self.max_retries if self.max_retries is not None else self.transient_retry_limit
        if is_transient(error) and self.request.retries < limit:
            countdown = retry_countdown(error, self.request.retries)
            log.warning(
                "transient error, retry %s in %.1fs: %s", self.request.retries + 1, countdown, error
            )
            raise self.retry(exc=error, countdown=countdown) from error
        log.exception("permanent failure in %s", self.name)
        if failure_id is not None:
            self.fail_permanently(failure_id, error)

    def _over_time(self, error: SoftTimeLimitExceeded, *, failure_id: int | None) -> None:
        """Past its time limit, the step may have half-acted on GitHub (a rerun sent, its record
        not committed): errored would strand that attempt unverified. The failure keeps its
        state and the sweep re-sends the step, which asks GitHub before acting; only a step
        that keeps overrunning (MAX_TIME_LIMIT_OVERRUNS) is given up as errored."""
        if failure_id is None:
            log.warning("%s ran past its time limit", self.name)
            return
        with self.services.sessions() as session, session.begin():
            earlier = count_audit(session, failure_id=failure_id, action=OVERRAN)
            record_audit(
                session,
                actor=self.name,
                action=OVERRAN,
                failure_id=failure_id,
                outcome="failure",
                detail={"time_limit_s": self.soft_time_limit},
            )
        if earlier + 1 >= MAX_TIME_LIMIT_OVERRUNS:
            log.error("%s overran its time limit %d times: giving up", self.name, earlier + 1)
            self.fail_permanently(failure_id, error)
            return
        log.warning("%s ran past its time limit; the sweep re-sends it", self.name)

    def credential_is_disabled(self) -> bool:
        with self.services.sessions() as session:
            return credential_disabled(session, self.services.github_credential.fingerprint)

    def credential_refused(self, error: AuthenticationError) -> None:
        """No retries; mark the credential refused and raise one critical alert for it."""
        fingerprint = self.services.github_credential.fingerprint
        with self.services.sessions() as session, session.begin():
            newly = disable_credential(session, fingerprint=fingerprint, reason=str(error))
        log.error("GitHub refused the credential: %s", error)
        if newly:
            raise_alert(
                self.services.notifier,
                SystemAlert(
                    severity="critical",
                    title="GitHub refused ci-remediator's credential (401 Bad credentials)",
                    lines=(
                        str(error),
                        "polling with this credential has stopped until the configuration changes",
                    ),
                ),
            )

    def fail_permanently(self, failure_id: int, error: BaseException) -> None:
        """Retries exhausted or the error is permanent: errored, and a critical alert."""
        with self.services.sessions() as session, session.begin():
            moved = mark_errored(
                session,
                failure_id=failure_id,
                error=f"{type(error).__name__}: {error}",
                actor=self.name,
            )
            # The critical notice is a row written with the transition, like every other.
            follow_ups = [notice(session, failure_id, StageEvent.ERRORED)] if moved else []
        send_follow_ups(self.app, follow_ups)
