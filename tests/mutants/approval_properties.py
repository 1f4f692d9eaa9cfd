"""Hand-written mutants that the approval, notification, audit and metrics, and persistence
properties must kill: one-line changes to who may decide, when a request expires, where and how
a message goes, what the trail and the figures say, and what Postgres keeps or deletes."""

from __future__ import annotations

from tests.mutants.mutant import Mutant

APPROVALS = ("tests/properties/test_approval_properties.py",)
NOTIFICATIONS = ("tests/properties/test_notification_properties.py",)
AUDIT_METRICS = ("tests/properties/test_audit_metrics_properties.py",)
PERSISTENCE = ("tests/properties/test_persistence_properties.py",)

MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------------------ Approval Workflow ----
    Mutant(
        "anyone may decide an approval (the approval workflow properties)",
        "ci_remediator/pipeline/decide.py",
        "    if decided_by not in config.policy_for(failure.repository).approvers:",
        "    if False:",
        APPROVALS,
    ),
    Mutant(
        "a reject click approves",
        "ci_remediator/pipeline/decide.py",
        "    if decision is Decision.APPROVE:\n        open_remediation(",
        "    if True:\n        open_remediation(",
        APPROVALS,
    ),
    Mutant(
        "a refused click audited as the approvals component, not the clicker",
        "ci_remediator/pipeline/decide.py",
        'actor=f"human:{decided_by[:80]}",\n        action="decision_refused",',
        'actor="approvals",\n        action="decision_refused",',
        APPROVALS,
    ),
    Mutant(
        "a request at its deadline does not expire",
        "ci_remediator/pipeline/expire.py",
        "ApprovalRequest.expires_at <= now",
        "ApprovalRequest.expires_at < now",
        APPROVALS,
    ),
    Mutant(
        "a redelivered request_approval announces the request again",
        "ci_remediator/pipeline/approve.py",
        "            ApprovalRequest.notified_at.is_(None),\n",
        "",
        APPROVALS,
    ),
    Mutant(
        "a button's value carries more than the request id",
        "ci_remediator/slack/blocks.py",
        '"value": str(approval_id),',
        '"value": f"{approval_id} {text}",',
        APPROVALS,
    ),
    # ----------------------------------------------------------------- Notification ----
    Mutant(
        "approval requests go to the default approvals channel",
        "ci_remediator/slack/notifier.py",
        "                channel=channels.approvals,",
        "                channel=self._default_channels.approvals,",
        NOTIFICATIONS,
    ),
    Mutant(
        "critical notices go to the alerts channel",
        "ci_remediator/slack/notifier.py",
        "                channel=channels.critical,",
        "                channel=channels.alerts,",
        NOTIFICATIONS,
    ),
    Mutant(
        "the fallback text is sent unescaped",
        "ci_remediator/slack/notifier.py",
        "        text = slack_escape(message.title)",
        "        text = message.title",
        NOTIFICATIONS,
    ),
    Mutant(
        "< is not escaped for Slack",
        "ci_remediator/notify/untrusted.py",
        '.replace("<", "&lt;")',
        "",
        NOTIFICATIONS,
    ),
    Mutant(
        "stage message lines are not redacted",
        "ci_remediator/notify/messages.py",
        "    return [redact(line) for line in lines if line]",
        "    return [line for line in lines if line]",
        NOTIFICATIONS,
    ),
    Mutant(
        "a partial channel override drops the configured channels",
        "ci_remediator/config.py",
        "update=overrides.slack_channels.model_dump(exclude_unset=True)",
        "update=overrides.slack_channels.model_dump()",
        NOTIFICATIONS,
    ),
    # ------------------------------------------------------------- Audit & Metrics ----
    Mutant(
        "a transition is audited under another action",
        "ci_remediator/db/transitions.py",
        '                action="transition",',
        '                action="state_changed",',
        AUDIT_METRICS,
    ),
    Mutant(
        "percentiles take the lower rank",
        "ci_remediator/metrics_tracker.py",
        "low, high = math.floor(rank), math.ceil(rank)",
        "low, high = math.floor(rank), math.floor(rank)",
        AUDIT_METRICS,
    ),
    Mutant(
        "metrics windows compare repositories case-sensitively",
        "ci_remediator/metrics_tracker.py",
        "return statement.where(func.lower(column) == window.repository.lower())",
        "return statement.where(column == window.repository)",
        AUDIT_METRICS,
    ),
    Mutant(
        "refused remediations count as failed",
        "ci_remediator/metrics_tracker.py",
        "        failed=counts.get(RemediationStatus.FAILED, 0),",
        "        failed=counts.get(RemediationStatus.FAILED, 0)"
        " + counts.get(RemediationStatus.REFUSED, 0),",
        AUDIT_METRICS,
    ),
    Mutant(
        "an actor prefix is a LIKE pattern",
        "ci_remediator/db/audit.py",
        "AuditEntry.actor.startswith(criteria.actor_prefix, autoescape=True)",
        "AuditEntry.actor.startswith(criteria.actor_prefix)",
        AUDIT_METRICS,
    ),
    Mutant(
        "metric labels are dropped",
        "ci_remediator/db/metric_samples.py",
        "labels=labels or {}",
        "labels={}",
        AUDIT_METRICS + PERSISTENCE,
    ),
    # ------------------------------------------------------------ Data Persistence ----
    Mutant(
        "times are stored as their wall clock in UTC",
        "ci_remediator/db/base.py",
        "        return value.astimezone(UTC)\n\n    def process_result_value",
        "        return value.replace(tzinfo=UTC)\n\n    def process_result_value",
        PERSISTENCE,
    ),
    Mutant(
        "audit detail loses its nested objects",
        "ci_remediator/db/audit.py",
        "        detail=detail or {},",
        "        detail={k: v for k, v in (detail or {}).items() if not isinstance(v, dict)},",
        PERSISTENCE,
    ),
    Mutant(
        "retention keeps failures a day longer",
        "ci_remediator/pipeline/retention.py",
        "            Failure.updated_at < failures_before,",
        "            Failure.updated_at < failures_before - timedelta(days=1),",
        PERSISTENCE,
    ),
    Mutant(
        "retention purges the audit of failures it keeps",
        "ci_remediator/pipeline/retention.py",
        ".where(AuditEntry.at < audit_before, AuditEntry.failure_id.is_(None))",
        ".where(AuditEntry.at < audit_before)",
        PERSISTENCE,
    ),
    Mutant(
        "retention deletes a failure with a message still owed",
        "ci_remediator/pipeline/retention.py",
        "            ~message_owed,\n",
        "",
        PERSISTENCE,
    ),
    Mutant(
        "pending approvals listed with the decided ones",
        "ci_remediator/db/approvals.py",
        "statement = statement.where(ApprovalRequest.status == ApprovalStatus.PENDING)",
        "statement = statement.where(ApprovalRequest.status != ApprovalStatus.EXPIRED)",
        PERSISTENCE,
    ),
)
