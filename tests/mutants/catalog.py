"""Hand-written mutants of the safety promises: one-line changes a review made that the whole
suite once let through. `scripts/check-mutants` applies each, runs the tests named beside it
and fails unless every mutant is killed (some test fails).

Each mutant is a plain text substitution (`old` must occur exactly once in `path`), so it
stays readable and breaks loudly when the code it targets moves.
"""

from __future__ import annotations

from tests.mutants.mutant import Mutant

GATE_RULES = ("tests/integration/test_gate_rules.py",)
SAFETY_PROPERTIES = ("tests/properties/test_safety_gate_properties.py",)
MEMORIES = ("tests/integration/test_decision_memories.py",)
SCREEN_PROPERTY = (
    "tests/properties/analysis/test_required_literals_properties.py",
    "tests/unit/analysis/test_required_literals.py",
)
NOISE = ("tests/integration/test_noise_control.py",)
STEPS = ("tests/integration/test_steps.py",)
REDACTION = (
    "tests/unit/analysis/test_redaction.py",
    "tests/unit/analysis/test_redaction_formats.py",
    "tests/properties/analysis/test_redaction_properties.py",
    "tests/properties/analysis/test_known_secret_properties.py",
)

MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "gate never told the run comes from a fork",
        "ci_remediator/pipeline/gate.py",
        "from_fork=failure.from_fork,",
        "from_fork=False,",
        GATE_RULES,
    ),
    Mutant(
        "gate never told a job deployed to an environment",
        "ci_remediator/pipeline/gate.py",
        "deployment_environments=tuple(failure.deployment_environments or ()),",
        "deployment_environments=(),",
        GATE_RULES,
    ),
    Mutant(
        "breaker never passed to the gate",
        "ci_remediator/pipeline/gate.py",
        "        breaker_open=is_open,",
        "        breaker_open=False,",
        GATE_RULES,
    ),
    Mutant(
        "gate blind to pull_request_target",
        "ci_remediator/pipeline/gate.py",
        "event=failure.event,",
        'event="push",',
        GATE_RULES,
    ),
    Mutant(
        "gate blind to the workflow name",
        "ci_remediator/pipeline/gate.py",
        "workflow_name=failure.workflow_name,",
        'workflow_name="",',
        GATE_RULES,
    ),
    Mutant(
        "per-run cap counts every run of the repository",
        "ci_remediator/pipeline/gate.py",
        "        Remediation.run_id == failure.run_id,\n",
        "",
        GATE_RULES,
    ),
    Mutant(
        "daily window inverted",
        "ci_remediator/pipeline/gate.py",
        "Remediation.created_at >= now - timedelta(days=1),",
        "Remediation.created_at < now - timedelta(days=1),",
        GATE_RULES,
    ),
    Mutant(
        "hourly cap at 10^9",
        "ci_remediator/pipeline/gate.py",
        "max_auto_per_hour=config.file.max_auto_per_hour,",
        "max_auto_per_hour=10**9,",
        GATE_RULES,
    ),
    Mutant(
        "reconcile forgets verifying",
        "ci_remediator/pipeline/reconcile.py",
        "    FailureState.VERIFYING: Step.VERIFY,\n",
        "",
        ("tests/integration/test_reconcile.py",),
    ),
    Mutant(
        "is_transient always false",
        "workers/base.py",
        "    return isinstance(error, TRANSIENT_ERRORS)",
        "    return False",
        ("tests/integration/test_task_errors.py",),
    ),
    Mutant(
        "verify deadline x1000",
        "ci_remediator/pipeline/verify.py",
        "if now - requested_at >= timeout:",
        "if now - requested_at >= timeout * 1000:",
        ("tests/integration/test_steps.py",),
    ),
    Mutant(
        "protected repository ignored by the gate",
        "ci_remediator/policy/safety_gate.py",
        '(policy.protected, "repository is protected"),',
        '(False, "repository is protected"),',
        ("tests/unit/test_safety.py", *SAFETY_PROPERTIES),
    ),
    Mutant(
        "transition without its state guard",
        "ci_remediator/db/transitions.py",
        ".where(Failure.id == failure_id, Failure.state == source)",
        ".where(Failure.id == failure_id)",
        ("tests/integration/test_lifecycle.py",),
    ),
)

MUTANTS += (
    Mutant(
        "thread-pool workers run Celery's default app's copies of the tasks",
        "workers/app.py",
        "app.set_default()\n",
        "",
        ("tests/unit/test_celery_config.py",),
    ),
    Mutant(
        "embedded broker writes message files in place (readers see them half-written)",
        "workers/app.py",
        'broker_transport = "workers.broker:Transport"',
        "broker_transport = None",
        ("tests/unit/test_embedded_broker.py",),
    ),
)

APPROVALS = ("tests/integration/test_approvals.py",)
SLACK = ("tests/integration/test_slack_interactivity.py",)

MUTANTS += (
    Mutant(
        "anyone may decide an approval",
        "ci_remediator/pipeline/decide.py",
        "    if decided_by not in config.policy_for(failure.repository).approvers:",
        "    if False:",
        APPROVALS,
    ),
    Mutant(
        "approvals never expire",
        "ci_remediator/pipeline/expire.py",
        "ApprovalRequest.expires_at <= now",
        "ApprovalRequest.expires_at >= now",
        APPROVALS,
    ),
    Mutant(
        "a click after the deadline still counts",
        "ci_remediator/pipeline/decide.py",
        "    if now >= approval.expires_at:",
        "    if False:",
        APPROVALS,
    ),
    Mutant(
        "unsigned Slack requests pass the web process's own check (unaudited)",
        "ci_remediator/web.py",
        "            return verifier.is_valid_request(body, dict(request.headers))",
        "            return True",
        SLACK,
    ),
    Mutant(
        "a remembered decision covers a protected repository or a sensitive run",
        "ci_remediator/policy/safety_gate.py",
        "memory = gate_input.remembered if not always_asked else None",
        "memory = gate_input.remembered",
        (*SAFETY_PROPERTIES, *MEMORIES),
    ),
    Mutant(
        "a remembered approval covers a riskier repeat",
        "ci_remediator/policy/safety_gate.py",
        "risk <= memory.approved_risk",
        "True",
        SAFETY_PROPERTIES,
    ),
    Mutant(
        "the gate reads memories while allow_trust_memory is off",
        "ci_remediator/pipeline/gate.py",
        "        if policy.allow_trust_memory\n        else None,",
        "        if True\n        else None,",
        MEMORIES,
    ),
    Mutant(
        "a click remembers what the request never offered",
        "ci_remediator/pipeline/decide.py",
        "if approval.memory_days is None or not policy.allow_trust_memory or policy.protected:",
        "if False:",
        MEMORIES,
    ),
    Mutant(
        "a revoked memory still applies",
        "ci_remediator/db/decision_memories.py",
        "            DecisionMemory.revoked_at.is_(None),\n",
        "",
        MEMORIES,
    ),
    Mutant(
        "an expired memory still applies",
        "ci_remediator/db/decision_memories.py",
        "            DecisionMemory.expires_at > (now or utcnow()),\n        )\n        .order_by",
        "        )\n        .order_by",
        MEMORIES,
    ),
    Mutant(
        "two repeats analyzed at once both lead a burst",
        "ci_remediator/db/bursts.py",
        "    _serialize_joiners(session, repository=failure.repository, fingerprint=fingerprint)\n",
        "",
        NOISE,
    ),
    Mutant(
        "a burst never ends: the window is not read",
        "ci_remediator/db/bursts.py",
        "            Failure.detected_at >= failure.detected_at - window,\n",
        "",
        NOISE,
    ),
    Mutant(
        "a repeat starts a thread of its own",
        "ci_remediator/pipeline/notify.py",
        "leader_id = failure.burst_of if own is None else None",
        "leader_id = None",
        NOISE,
    ),
    Mutant(
        "a tripped breaker closes by itself when outcomes improve",
        "ci_remediator/pipeline/gate.py",
        "    if standing_trip(session, organization) is not None:\n        return True, None\n",
        "",
        GATE_RULES,
    ),
    Mutant(
        "a reset breaker counts the history before the reset again",
        "ci_remediator/pipeline/gate.py",
        "        since=last_reset_at(session, organization),\n",
        "",
        GATE_RULES,
    ),
    Mutant(
        "the gate never told the run was superseded",
        "ci_remediator/pipeline/gate.py",
        "superseded_by_run_id=failure.superseded_by_run_id,",
        "superseded_by_run_id=None,",
        GATE_RULES,
    ),
    Mutant(
        "an approval after a newer run still re-runs the old one",
        "ci_remediator/pipeline/execute.py",
        "        if newer is not None:\n            # An approval",
        "        if False:\n            # An approval",
        GATE_RULES,
    ),
    Mutant(
        "the verify deadline escalates and leaves the attempt running",
        "ci_remediator/pipeline/verify.py",
        "    if action_spec(remediation.action).reversible:\n",
        "    if False:\n",
        STEPS,
    ),
    Mutant(
        "a rollback cancels an attempt that already finished",
        "ci_remediator/actions/reruns.py",
        "        if attempt.is_completed:\n",
        "        if False:\n",
        STEPS,
    ),
    Mutant(
        "a passing rerun leaves no flaky evidence",
        "ci_remediator/pipeline/verify.py",
        "        if outcome.passed_attempt is not None:\n",
        "        if False:\n",
        ("tests/integration/test_flaky_evidence.py",),
    ),
    Mutant(
        "two gates at once each count the other's remediation as not there yet",
        "ci_remediator/pipeline/gate.py",
        "    lock_for_transaction(session, f\"gate:{organization_of(repository or '')}\")\n",
        "",
        GATE_RULES,
    ),
    Mutant(
        "a redelivered execute calls GitHub again without asking what it already did",
        "ci_remediator/actions/reruns.py",
        "        if latest.run_attempt >= target.target_attempt:\n",
        "        if False:\n",
        ("tests/reliability/test_worker_kills.py",),
    ),
    Mutant(
        "a redelivered rollback does not recognise its own cancel",
        "ci_remediator/actions/reruns.py",
        '            if attempt.conclusion == "cancelled":',
        "            if False:",
        ("tests/reliability/test_worker_kills.py",),
    ),
    Mutant(
        "the embedded store's gates read a snapshot of their own (caps overshoot)",
        "ci_remediator/db/locks.py",
        '        session.execute(text("UPDATE leases SET holder = holder WHERE 1 = 0"))\n',
        "",
        ("tests/unit/db/test_sqlite_transaction_lock.py",),
    ),
)

CATALOG_ACTIONS = ("tests/integration/test_catalog_actions.py",)
ACTION_CHOICE = (
    "tests/unit/test_action_choice.py",
    "tests/properties/test_action_choice_properties.py",
)

CATALOG_MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "any proposed action is taken, allowed or not",
        "ci_remediator/policy/action_choice.py",
        "    if proposed in allowed:\n",
        "    if True:\n",
        ACTION_CHOICE,
    ),
    Mutant(
        "an action whose parameters are not configured is available",
        "ci_remediator/policy/action_choice.py",
        "        if kind is not ActionKind.NONE and configured[action_spec(kind).requires]\n",
        "        if kind is not ActionKind.NONE\n",
        ACTION_CHOICE,
    ),
    Mutant(
        "the gate ignores category_actions",
        "ci_remediator/pipeline/gate.py",
        "    action = action_spec(ActionKind.NONE if parameter_problem else choice.kind)\n",
        "    action = action_spec(analysis.proposed_action)\n",
        CATALOG_ACTIONS,
    ),
    Mutant(
        "tracking issues opened count as fixes for the breaker",
        "ci_remediator/pipeline/gate.py",
        "            Remediation.action.in_(FIXES_RUN),\n",
        "",
        GATE_RULES,
    ),
    Mutant(
        "a repeat of a tracked failure opens another issue",
        "ci_remediator/actions/tracking_issue.py",
        "            if draft.marker in issue.body:\n",
        "            if False:\n",
        CATALOG_ACTIONS,
    ),
    Mutant(
        "a redelivered dispatch dispatches again",
        "ci_remediator/actions/dispatch.py",
        "        if existing is not None:\n",
        "        if False:\n",
        CATALOG_ACTIONS,
    ),
    Mutant(
        "a redelivered cache clear reruns again",
        "ci_remediator/actions/reruns.py",
        "        if latest.run_attempt >= target.target_attempt:\n",
        "        if latest.run_attempt > target.target_attempt:\n",
        CATALOG_ACTIONS,
    ),
    Mutant(
        "every failed rerun called the same failure",
        "ci_remediator/pipeline/verify.py",
        '"same_failure": first is not None and first == diagnosis.fingerprint,',
        '"same_failure": True,',
        CATALOG_ACTIONS,
    ),
    Mutant(
        "a fork's branch read from the base repository",
        "ci_remediator/pipeline/superseded.py",
        "    if run.head_branch and run.head_sha and not run.from_fork:\n",
        "    if run.head_branch and run.head_sha:\n",
        GATE_RULES,
    ),
    Mutant(
        "any branch head supersedes, even the run's own commit",
        "ci_remediator/pipeline/superseded.py",
        "        if head is not None and head != run.head_sha:\n",
        "        if head is not None:\n",
        GATE_RULES,
    ),
    Mutant(
        "a moved branch never told to the gate",
        "ci_remediator/pipeline/gate.py",
        "            superseded_by_commit=failure.superseded_by_commit,\n",
        "",
        GATE_RULES,
    ),
    Mutant(
        "a step past its time limit is errored at once (its half-done rerun stranded)",
        "workers/base.py",
        "        if earlier + 1 >= MAX_TIME_LIMIT_OVERRUNS:\n",
        "        if True:\n",
        ("tests/integration/test_task_errors.py",),
    ),
    Mutant(
        "a step that keeps overrunning is re-sent forever",
        "workers/base.py",
        "        if earlier + 1 >= MAX_TIME_LIMIT_OVERRUNS:\n",
        "        if False:\n",
        ("tests/integration/test_task_errors.py",),
    ),
    Mutant(
        "an issue's fence can be closed by the text inside it",
        "ci_remediator/actions/issue_text.py",
        '    fence = "`" * max(3, longest + 1)\n',
        '    fence = "```"\n',
        ("tests/unit/test_issue_text.py",),
    ),
    Mutant(
        "redaction misses fine-grained GitHub tokens (github_pat_)",
        "ci_remediator/analysis/redaction.py",
        "|github_pat_[A-Za-z0-9_]{20,255})",
        ")",
        REDACTION,
    ),
    Mutant(
        "a token only detect-secrets knows is replaced at its first occurrence on a line only",
        "ci_remediator/analysis/redaction.py",
        "        start = line.find(value, end)\n",
        "        start = -1\n",
        REDACTION,
    ),
    Mutant(
        "configured secret values are not redacted first",
        "ci_remediator/analysis/redaction.py",
        "    text = _redact_known(text)\n",
        "",
        REDACTION,
    ),
    Mutant(
        "redaction skips the detect-secrets plugins",
        "ci_remediator/analysis/redaction.py",
        "    return _detect_secrets(text)\n",
        "    return text\n",
        REDACTION,
    ),
    Mutant(
        "a delivery of any attempt of the run is taken for the awaited one",
        "ci_remediator/db/observed_conclusions.py",
        "            Remediation.target_attempt == run_attempt,\n",
        "",
        ("tests/integration/test_webhook_verify.py",),
    ),
    Mutant(
        "flaky evidence from deliveries when some failed job had none",
        "ci_remediator/pipeline/verify.py",
        "    if all(name in observed for name in analysis.failed_jobs):\n",
        "    if observed:\n",
        ("tests/integration/test_webhook_verify.py",),
    ),
    Mutant(
        "a failed attempt a delivery reported is taken as passed",
        "ci_remediator/actions/reruns.py",
        '        if target.observed_conclusion == "success":\n',
        "        if target.observed_conclusion is not None:\n",
        ("tests/integration/test_webhook_verify.py",),
    ),
    Mutant(
        "the review history is skipped where an environment requires reviewers",
        "ci_remediator/github/gateway.py",
        '        return any("required_reviewers" in environment["rules"]'
        " for environment in listed)\n",
        "        return False\n",
        ("tests/unit/github/test_deployment_environments.py",),
    ),
    Mutant(
        "a cache clear deletes the caches again on the try after its preparation",
        "ci_remediator/actions/reruns.py",
        "        if not self.clears_caches or CACHES_DELETED in target.result:",
        "        if not self.clears_caches:",
        ("tests/integration/test_catalog_actions.py",),
    ),
    Mutant(
        "a cache clear deletes and reruns in one step (the deletion's record dies with the rerun)",
        "ci_remediator/pipeline/execute.py",
        "                return _prepared(session, remediation=remediation, prepared=prepared)\n",
        "                remediation.result = {**(remediation.result or {}), **prepared.result}\n"
        "                target = target_of(remediation, issue=issue, latest=latest)\n",
        ("tests/integration/test_catalog_actions.py",),
    ),
    # The rules analyzer's literal screen: a pattern is skipped only where it cannot match.
    Mutant(
        "an optional repeat's literals are taken as required",
        "ci_remediator/analysis/required_literals.py",
        "elif op in _REPEATS and value[0] >= 1:",
        "elif op in _REPEATS and value[0] >= 0:",
        SCREEN_PROPERTY,
    ),
    Mutant(
        "a branch requires its first alternative's literals only",
        "ci_remediator/analysis/required_literals.py",
        "        required |= literals\n",
        "        required |= literals\n        break\n",
        SCREEN_PROPERTY,
    ),
    Mutant(
        "a branch with an alternative that requires nothing is screened anyway",
        "ci_remediator/analysis/required_literals.py",
        "        if literals is None:\n            return None\n",
        "        if literals is None:\n            continue\n",
        SCREEN_PROPERTY,
    ),
    Mutant(
        "a text with an ASCII case look-alike is screened",
        "ci_remediator/analysis/required_literals.py",
        "    if not text.isascii() and _LOOKALIKE.search(text):",
        "    if False:",
        SCREEN_PROPERTY,
    ),
    Mutant(
        "the screen compares the text's own case",
        "ci_remediator/analysis/required_literals.py",
        "    return text.lower()\n",
        "    return text\n",
        SCREEN_PROPERTY,
    ),
)

MUTANTS = MUTANTS + CATALOG_MUTANTS

# One module of mutants per property group (tests/properties/), each killed by its properties.
from tests.mutants import (  # noqa: E402 - the groups' mutants join the catalog's own
    approval_properties,
    gate_properties,
    lifecycle_properties,
    monitoring_properties,
)

MUTANTS = (
    MUTANTS
    + approval_properties.MUTANTS
    + gate_properties.MUTANTS
    + lifecycle_properties.MUTANTS
    + monitoring_properties.MUTANTS
)
