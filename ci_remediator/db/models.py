"""SQLAlchemy 2.0 typed models. Bigint identity keys throughout; timestamps are UTC.

Every foreign key column is indexed (or leads an index): deleting a referenced row, as the
retention purge does in batches, makes Postgres look up each referencing table once per row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ci_remediator.db.base import Base, utcnow
from ci_remediator.domain import ActionKind, Category, Decision, Effort, FailureState, Verdict

JsonDocument = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY; BIGINT elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    # Stored as strings with a CHECK constraint: adding a member is a migration, not a type ALTER.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class RemediationStatus(StrEnum):
    PENDING = "pending"  # committed before GitHub is called
    REQUESTED = "requested"  # GitHub accepted the call
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"  # GitHub would not do it (already running, too old, ...)


class DetectionSource(StrEnum):
    POLL = "poll"
    WEBHOOK = "webhook"
    MANUAL = "manual"


class MonitoredRepository(Base):
    __tablename__ = "monitored_repositories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200), unique=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    watermark: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    runs_etag: Mapped[str | None] = mapped_column(String(200))
    deep_scanned_at: Mapped[datetime | None]
    # The last deep scan's date bound and the ETag of each of its pages ({"since": "2026-12-01",
    # "pages": [...]}): the next scan asks the same URLs conditionally.
    deep_scan_etags: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    # "config" for listed repositories, "org:<name>" for those an organization expanded to.
    source: Mapped[str] = mapped_column(String(120), default="config", server_default="config")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Failure(Base):
    """One failed (repository, run, attempt). The row the state machine moves."""

    __tablename__ = "failures"
    __table_args__ = (
        UniqueConstraint("repository", "run_id", "run_attempt"),
        Index("ix_failures_state_updated_at", "state", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    repository: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int] = mapped_column(BigInteger)
    run_attempt: Mapped[int]
    workflow_name: Mapped[str] = mapped_column(String(300))
    workflow_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(64))
    head_branch: Mapped[str | None] = mapped_column(String(300))
    # What the gate reads besides the event and workflow name: where the code came from (a
    # fork when it is not `repository`), the workflow file, and the deployment environments
    # the run's jobs used (GitHub's review history of the run; see pipeline.analyze).
    head_repository: Mapped[str | None] = mapped_column(String(200))
    workflow_path: Mapped[str | None] = mapped_column(String(300))
    deployment_environments: Mapped[list[str]] = mapped_column(
        JsonDocument, default=list, server_default="[]"
    )
    head_sha: Mapped[str] = mapped_column(String(64))
    conclusion: Mapped[str | None] = mapped_column(String(32))
    html_url: Mapped[str] = mapped_column(String(500))
    run_created_at: Mapped[datetime]
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[DetectionSource] = mapped_column(_enum(DetectionSource, "detection_source"))
    state: Mapped[FailureState] = mapped_column(
        _enum(FailureState, "failure_state"), default=FailureState.DETECTED
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Noise control: the first failure of a burst with the same fingerprint in this repository.
    # Its Slack message is updated with this run instead of this run starting a thread.
    burst_of: Mapped[int | None] = mapped_column(
        ForeignKey("failures.id", ondelete="SET NULL"), index=True
    )
    # A newer run of the same workflow on the same branch, when GitHub had one: re-running
    # this run would only repeat what that run already answers.
    superseded_by_run_id: Mapped[int | None] = mapped_column(BigInteger)
    # Or the commit the branch points at now, when it moved past the run's commit.
    superseded_by_commit: Mapped[str | None] = mapped_column(String(64))

    analysis: Mapped[Analysis | None] = relationship(back_populates="failure", uselist=False)
    gate_decision: Mapped[GateDecision | None] = relationship(uselist=False)
    remediations: Mapped[list[Remediation]] = relationship(
        back_populates="failure", order_by="Remediation.id"
    )
    approval: Mapped[ApprovalRequest | None] = relationship(uselist=False)

    @property
    def from_fork(self) -> bool:
        return self.head_repository is not None and (
            self.head_repository.lower() != self.repository.lower()
        )


class Analysis(Base):
    __tablename__ = "analyses"
    __table_args__ = (Index("ix_analyses_fingerprint_created_at", "fingerprint", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    failure_id: Mapped[int] = mapped_column(
        ForeignKey("failures.id", ondelete="CASCADE"), unique=True
    )
    category: Mapped[Category] = mapped_column(_enum(Category, "category"))
    risk_score: Mapped[int]
    # What the rules alone said: the gate never lets a model lower the risk below it.
    rules_risk_score: Mapped[int] = mapped_column(server_default="0")
    confidence: Mapped[float]
    flaky: Mapped[bool]
    summary: Mapped[str] = mapped_column(Text)
    root_cause: Mapped[str] = mapped_column(Text)
    proposed_action: Mapped[ActionKind] = mapped_column(_enum(ActionKind, "action_kind"))
    analyzer: Mapped[str] = mapped_column(String(32))
    rule_id: Mapped[str | None] = mapped_column(String(100))
    affected_components: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    effort: Mapped[Effort] = mapped_column(_enum(Effort, "effort"))
    excerpt: Mapped[str] = mapped_column(Text)
    failed_jobs: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    # The failed jobs' pages on GitHub, as its API gave them: {"name": ..., "url": ...}.
    failed_job_links: Mapped[list[dict[str, str]]] = mapped_column(
        JsonDocument, default=list, server_default="[]"
    )
    tokens_used: Mapped[int] = mapped_column(default=0)
    prompt_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    completion_tokens: Mapped[int] = mapped_column(default=0, server_default="0")
    cost_usd: Mapped[float] = mapped_column(default=0.0, server_default="0")
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    reused_from_id: Mapped[int | None] = mapped_column(BigInteger)
    latency_ms: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    failure: Mapped[Failure] = relationship(back_populates="analysis")


class GateDecision(Base):
    __tablename__ = "gate_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    failure_id: Mapped[int] = mapped_column(
        ForeignKey("failures.id", ondelete="CASCADE"), unique=True
    )
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "verdict"))
    action: Mapped[ActionKind] = mapped_column(_enum(ActionKind, "action_kind"))
    effective_risk: Mapped[int]
    reasons: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalRequest(Base):
    __tablename__ = "approval_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    failure_id: Mapped[int] = mapped_column(
        ForeignKey("failures.id", ondelete="CASCADE"), unique=True
    )
    action: Mapped[ActionKind] = mapped_column(_enum(ActionKind, "action_kind"))
    # What the action will send, filled by the gate: the human approves exactly this.
    parameters: Mapped[dict[str, Any]] = mapped_column(
        JsonDocument, default=dict, server_default="{}"
    )
    status: Mapped[ApprovalStatus] = mapped_column(
        _enum(ApprovalStatus, "approval_status"), default=ApprovalStatus.PENDING
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    notified_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    # "slack" or "cli"; for the CLI, `decided_by` is the operating-system user and the
    # `--as` name, if any, is kept here, never instead.
    decided_via: Mapped[str | None] = mapped_column(String(16))
    on_behalf_of: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # Days an "Approve and always" / "Reject and never ask" would be remembered for; None when
    # the gate did not offer them (memory off, a protected repository, a sensitive run).
    memory_days: Mapped[int | None]


class DecisionMemory(Base):
    """A human's "always" or "never" for one action on one failure fingerprint in one
    repository, until it expires or is revoked. The gate reads it; it never covers a protected
    repository or a sensitive run, and never lifts a cap or an open breaker."""

    __tablename__ = "decision_memories"
    __table_args__ = (Index("ix_decision_memories_lookup", "repository", "fingerprint", "action"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    repository: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    action: Mapped[ActionKind] = mapped_column(_enum(ActionKind, "action_kind"))
    decision: Mapped[Decision] = mapped_column(_enum(Decision, "memory_decision"))
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_via: Mapped[str] = mapped_column(String(16))
    # The effective risk the human saw: a remembered approval covers no riskier repeat.
    approved_risk: Mapped[int]
    approval_id: Mapped[int | None] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(100))


class Remediation(Base):
    """One side effect on GitHub. The row exists, committed, before GitHub is called."""

    __tablename__ = "remediations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    failure_id: Mapped[int] = mapped_column(ForeignKey("failures.id", ondelete="CASCADE"))
    action: Mapped[ActionKind] = mapped_column(_enum(ActionKind, "action_kind"))
    status: Mapped[RemediationStatus] = mapped_column(
        _enum(RemediationStatus, "remediation_status"), default=RemediationStatus.PENDING
    )
    repository: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int] = mapped_column(BigInteger)
    # The attempt this remediation starts: a run that ci-remediator re-ran comes back from
    # GitHub as (run_id, target_attempt) and must be judged by verify, not detected anew.
    target_attempt: Mapped[int]
    approved_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    outcome_detail: Mapped[str | None] = mapped_column(Text)
    # What the action sends besides the run's identity, filled by the gate from configured
    # templates (cache keys, the workflow to dispatch, its ref and inputs).
    parameters: Mapped[dict[str, Any]] = mapped_column(
        JsonDocument, default=dict, server_default="{}"
    )
    # What GitHub returned: the attempt, the issue number, the dispatched run, links.
    result: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict, server_default="{}")

    failure: Mapped[Failure] = relationship(back_populates="remediations")

    __table_args__ = (
        UniqueConstraint("failure_id", "action"),
        Index("ix_remediations_repository_run_id", "repository", "run_id"),
    )


class ObservedConclusion(Base):
    """How the attempt a remediation started, or one of its jobs, concluded, as a signed
    `workflow_run` / `workflow_job` delivery said. An attempt and a job conclude once, so a
    replayed delivery says the same: verify takes it instead of asking GitHub again. Only
    attempts a remediation awaits are kept; the rows die with their remediation."""

    __tablename__ = "observed_conclusions"
    __table_args__ = (UniqueConstraint("remediation_id", "job_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    remediation_id: Mapped[int] = mapped_column(ForeignKey("remediations.id", ondelete="CASCADE"))
    # 0: the attempt itself (`workflow_run`); otherwise the job's id (`workflow_job`).
    job_id: Mapped[int] = mapped_column(BigInteger)
    job_name: Mapped[str | None] = mapped_column(String(300))
    conclusion: Mapped[str] = mapped_column(String(30))
    delivery_id: Mapped[str | None] = mapped_column(String(100))
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_failure_id_at", "failure_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    failure_id: Mapped[int | None] = mapped_column(ForeignKey("failures.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32), default="success")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)


class NotificationStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"


class Notification(Base):
    """A stage message to deliver, written in the transaction of the transition it reports.

    The notify task delivers a failure's pending rows in id order; a lost task message is
    re-sent by the reconcile sweep, so a notifier outage delays messages and loses none.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    failure_id: Mapped[int] = mapped_column(
        ForeignKey("failures.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(32))
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationThread(Base):
    """Where a failure's conversation lives (Slack: the parent message's channel and ts)."""

    __tablename__ = "notification_threads"

    failure_id: Mapped[int] = mapped_column(
        ForeignKey("failures.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(100))
    ts: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BreakerTrip(Base):
    """The circuit breaker of one organization, tripped: automatic remediation there stops
    until `ci-remediator breaker reset`. `open_key` is the organization while the trip stands
    and NULL once reset, so a unique constraint lets exactly one trip stand at a time."""

    __tablename__ = "breaker_trips"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    organization: Mapped[str] = mapped_column(String(200), index=True)
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    tripped_at: Mapped[datetime] = mapped_column(default=utcnow)
    success_rate: Mapped[float]
    window: Mapped[int]
    failure_id: Mapped[int | None] = mapped_column(
        ForeignKey("failures.id", ondelete="SET NULL"), index=True
    )
    reset_at: Mapped[datetime | None]
    reset_by: Mapped[str | None] = mapped_column(String(100))
    reset_reason: Mapped[str | None] = mapped_column(Text)


class FlakyEvidence(Base):
    """A job that failed and then passed when its run was re-run on the same commit: history,
    not a label (what a model or a rule calls "flaky" never counts)."""

    __tablename__ = "flaky_evidence"
    __table_args__ = (
        UniqueConstraint("repository", "run_id", "job_name", "passed_attempt"),
        Index("ix_flaky_evidence_job_observed_at", "repository", "job_name", "observed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    repository: Mapped[str] = mapped_column(String(200))
    workflow_name: Mapped[str] = mapped_column(String(300))
    job_name: Mapped[str] = mapped_column(String(300))
    run_id: Mapped[int] = mapped_column(BigInteger)
    head_sha: Mapped[str] = mapped_column(String(64))
    failed_attempt: Mapped[int]
    passed_attempt: Mapped[int]
    failure_id: Mapped[int | None] = mapped_column(
        ForeignKey("failures.id", ondelete="SET NULL"), index=True
    )
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MetricSample(Base):
    __tablename__ = "metric_samples"
    __table_args__ = (Index("ix_metric_samples_name_at", "name", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float]
    failure_id: Mapped[int | None] = mapped_column(
        ForeignKey("failures.id", ondelete="SET NULL"), index=True
    )
    labels: Mapped[dict[str, str]] = mapped_column(JsonDocument, default=dict)


class TaskStat(Base):
    """Running totals of task executions, by task, outcome and histogram bucket: one row is
    one bucket of one kind ("duration" or "wait"), holding how many runs fell in it and their
    seconds. Totals only ever grow (the retention purge leaves them), so `/metrics` exposes
    them as counters and histograms that never reset."""

    __tablename__ = "task_stats"

    task: Mapped[str] = mapped_column(String(100), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True)  # index into TASK_BUCKETS; last: +Inf
    observations: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)


class Lease(Base):
    """A named lock with an expiry: the embedded form's stand-in for a Redis `SET NX PX`."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]


class DisabledCredential(Base):
    """A GitHub credential that answered 401: polling with it stops until the config changes."""

    __tablename__ = "disabled_credentials"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    disabled_at: Mapped[datetime] = mapped_column(default=utcnow)
