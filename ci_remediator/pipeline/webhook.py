"""The webhook step: record the failing run a signed GitHub delivery reports, nothing more.

The signature is checked before this runs (`github.webhook_signature`, in the web process).

GitHub signs only the body, so a replayed delivery cannot be told from a redelivery: both are
harmless because recording is idempotent by (repository, run id, run attempt). Nothing in the
payload is acted on directly: the analyze step re-reads the run through the API first. The
handler only records and enqueues, to answer within GitHub's 10 seconds.

One exception, for the rate budget: how an attempt a rerun of ours started concluded, and each
of its jobs (`workflow_run` / `workflow_job` `completed`), is kept as said and verify takes it
without asking GitHub. That is safe to believe from a signed body: an attempt concludes once,
so a replay says the same, and it decides only whether the failure is resolved, never a call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from sqlalchemy import String
from sqlalchemy.orm import Session

from ci_remediator.config import REPO_NAME_PATTERN
from ci_remediator.db.audit import record_audit
from ci_remediator.db.base import Base
from ci_remediator.db.models import DetectionSource, Failure, ObservedConclusion, Remediation
from ci_remediator.db.monitored_repositories import is_monitored
from ci_remediator.db.observed_conclusions import awaited_remediation, record_observed
from ci_remediator.domain import FollowUp, Step, StepResult
from ci_remediator.github.values import FAILING_CONCLUSIONS, RunInfo, run_info
from ci_remediator.pipeline.detect import follow_ups_for_new_failure, record_failure

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
REPOSITORY_NAME = re.compile(REPO_NAME_PATTERN)


class InvalidPayloadError(ValueError):
    """The body was signed but is not the event it claims to be."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookOutcome(StepResult):
    """The step's result plus the HTTP answer the web process sends GitHub."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


# What the failures table holds: a value beyond it is no GitHub payload.
_MAX_ID = 2**63 - 1


def _column_length(name: str, model: type[Base] = Failure) -> int:
    column_type = model.__table__.c[name].type
    if not isinstance(column_type, String) or column_type.length is None:
        raise TypeError(f"{model.__tablename__}.{name} is not a string column of bounded length")
    return column_type.length


_TEXT_LIMITS: dict[str, int] = {
    name: _column_length(name)
    for name in (
        "repository",
        "workflow_name",
        "event",
        "head_branch",
        "head_repository",
        "workflow_path",
        "head_sha",
        "conclusion",
        "html_url",
    )
}

_OBSERVED_LIMITS = {
    name: _column_length(name, ObservedConclusion) for name in ("job_name", "conclusion")
}


def check_storable(run: RunInfo) -> None:
    """InvalidPayloadError naming the field, for a signed payload no real run could have sent:
    ids out of range, text longer than GitHub's or holding a NUL (PostgreSQL refuses both)."""
    for name, value in (("id", run.run_id), ("workflow_id", run.workflow_id)):
        if not 1 <= value <= _MAX_ID:
            raise InvalidPayloadError(f"workflow_run.{name} is out of range")
    if not 1 <= run.run_attempt <= 1_000_000:
        raise InvalidPayloadError("workflow_run.run_attempt is out of range")
    for name, limit in _TEXT_LIMITS.items():
        value = getattr(run, name)
        if value is not None:
            _storable(value, f"workflow_run.{name}", limit)


def record_refused_delivery(
    session: Session, *, event: str | None, delivery_id: str | None, reason: str, remote: str | None
) -> None:
    """Audit a refused delivery by its metadata only: an unsigned body is not worth keeping."""
    record_audit(
        session,
        actor="webhook",
        action="delivery_refused",
        outcome="failure",
        detail={
            "event": (event or "")[:100],
            "delivery": (delivery_id or "")[:100],
            "reason": reason,
            "remote": (remote or "")[:100],
        },
    )


def handle_delivery(
    session: Session,
    *,
    event: str,
    delivery_id: str,
    payload: dict[str, Any],
    configured_repositories: tuple[str, ...],
) -> WebhookOutcome:
    """Act on one signed delivery; the answer to send and the tasks to enqueue after commit."""
    if event == "ping":
        return WebhookOutcome(status=200, body={"ok": True, "zen": "pong"})
    if event == "workflow_job":
        return _workflow_job(session, payload, delivery_id)
    if event != "workflow_run":
        return WebhookOutcome(status=204, body={})
    return _workflow_run(session, payload, delivery_id, configured_repositories)


def _workflow_run(
    session: Session,
    payload: dict[str, Any],
    delivery_id: str,
    configured_repositories: tuple[str, ...],
) -> WebhookOutcome:
    if payload.get("action") != "completed":
        return WebhookOutcome(status=202, body={"ignored": f"action {payload.get('action')!r}"})
    run_data = payload.get("workflow_run")
    repository = (payload.get("repository") or {}).get("full_name")
    if not isinstance(run_data, dict) or not isinstance(repository, str):
        raise InvalidPayloadError(
            "workflow_run delivery lacks workflow_run or repository.full_name"
        )
    if len(repository) > _TEXT_LIMITS["repository"] or not REPOSITORY_NAME.fullmatch(repository):
        raise InvalidPayloadError(f"repository.full_name {repository[:80]!r} is no owner/name")
    observed = _observed(session, repository, run_data, delivery_id)
    if observed is not None:
        return observed
    if run_data.get("conclusion") not in FAILING_CONCLUSIONS:
        return WebhookOutcome(
            status=202, body={"ignored": f"conclusion {run_data.get('conclusion')!r}"}
        )
    if not is_monitored(session, repository, configured=configured_repositories):
        return WebhookOutcome(status=202, body={"ignored": f"{repository} is not monitored"})
    try:
        run = run_info(repository, run_data)
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise InvalidPayloadError(f"workflow_run.{error} is missing or malformed") from error
    check_storable(run)
    failure_id = record_failure(
        session, run=run, source=DetectionSource.WEBHOOK, delivery_id=delivery_id
    )
    if failure_id is None:
        return WebhookOutcome(status=200, body={"recorded": False, "reason": "already known"})
    return WebhookOutcome(
        status=201,
        body={"recorded": True, "failure_id": failure_id},
        follow_ups=follow_ups_for_new_failure(session, failure_id),
    )


def _workflow_job(session: Session, payload: dict[str, Any], delivery_id: str) -> WebhookOutcome:
    """A job of an attempt a remediation awaits concluded: kept for verify's flaky evidence.
    Any other job: its run's `workflow_run.completed` says the same with the whole run."""
    job = payload.get("workflow_job")
    repository = (payload.get("repository") or {}).get("full_name")
    if payload.get("action") == "completed" and isinstance(job, dict):
        remediation = _awaiting(session, repository, job.get("run_id"), job.get("run_attempt"))
        conclusion = _conclusion(job, "workflow_job")
        if remediation is not None and conclusion is not None:
            job_id, name = job.get("id"), job.get("name")
            if not _is_id(job_id) or not isinstance(name, str) or not name:
                raise InvalidPayloadError("workflow_job.id or workflow_job.name is malformed")
            record_observed(
                session,
                remediation_id=remediation.id,
                job_id=job_id,
                job_name=_storable(name, "workflow_job.name", _OBSERVED_LIMITS["job_name"]),
                conclusion=conclusion,
                delivery_id=delivery_id,
            )
            return WebhookOutcome(
                status=200, body={"observed": True, "failure_id": remediation.failure_id}
            )
    return WebhookOutcome(status=202, body={"ignored": "workflow_job is not recorded on its own"})


def _observed(
    session: Session, repository: str, run_data: dict[str, Any], delivery_id: str
) -> WebhookOutcome | None:
    """The attempt a rerun of ours started has concluded: keep what GitHub said and verify now
    (verify would otherwise ask GitHub at its next poll). None for any other run."""
    remediation = _awaiting(session, repository, run_data.get("id"), run_data.get("run_attempt"))
    conclusion = _conclusion(run_data, "workflow_run")
    if remediation is None or conclusion is None:
        return None
    record_observed(
        session, remediation_id=remediation.id, conclusion=conclusion, delivery_id=delivery_id
    )
    return WebhookOutcome(
        status=200,
        body={"observed": True, "failure_id": remediation.failure_id},
        follow_ups=(FollowUp(Step.VERIFY, remediation.failure_id),),
    )


def _awaiting(
    session: Session, repository: object, run_id: object, run_attempt: object
) -> Remediation | None:
    if not (isinstance(repository, str) and _is_id(run_id) and _is_id(run_attempt)):
        return None
    return awaited_remediation(
        session, repository=repository, run_id=run_id, run_attempt=run_attempt
    )


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_ID


def _conclusion(data: dict[str, Any], where: str) -> str | None:
    """The conclusion a delivery states; None when it states none (nothing to keep: verify
    asks GitHub, as before); a value no real conclusion has is a 400."""
    conclusion = data.get("conclusion")
    if conclusion is None or conclusion == "":
        return None
    if not isinstance(conclusion, str):
        raise InvalidPayloadError(f"{where}.conclusion is not a string")
    return _storable(conclusion, f"{where}.conclusion", _OBSERVED_LIMITS["conclusion"])


def _storable(value: str, where: str, limit: int) -> str:
    """`value`, or InvalidPayloadError naming `where`: longer than its column, or holding a
    NUL (PostgreSQL refuses both)."""
    if len(value) > limit:
        raise InvalidPayloadError(f"{where} is longer than {limit} characters")
    if "\x00" in value:
        raise InvalidPayloadError(f"{where} holds a NUL character")
    return value
