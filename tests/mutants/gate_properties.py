"""Hand-written mutants the Analysis, Configuration, Safety Gate and Remediation Execution
properties must kill: one-line changes of the product a review could let through. Each names
the property file that kills it (`scripts/check-mutants` runs it with the mutant applied)."""

from __future__ import annotations

from tests.mutants.mutant import Mutant

ANALYSIS = ("tests/properties/test_analysis_properties.py",)
ACTION_CHOICE = ("tests/properties/test_action_choice_properties.py",)
CONFIGURATION = ("tests/properties/test_configuration_properties.py",)
SAFETY_GATE = ("tests/properties/test_safety_gate_properties.py",)
EXECUTION = ("tests/properties/test_remediation_execution_properties.py",)

MUTANTS: tuple[Mutant, ...] = (
    # ------------------------------------------------------------------ Analysis ----
    Mutant(
        "a new failure never triggers its analysis",
        "ci_remediator/pipeline/detect.py",
        "        FollowUp(Step.ANALYZE, failure_id),\n",
        "",
        ANALYSIS,
    ),
    Mutant(
        "the model may lower the rules' risk",
        "ci_remediator/llm/client.py",
        "risk_score=max(answer.risk_score, rules_result.risk_score),",
        "risk_score=answer.risk_score,",
        ANALYSIS,
    ),
    Mutant(
        "a model answer with extra keys is taken",
        "ci_remediator/llm/client.py",
        'model_config = ConfigDict(extra="forbid", strict=True, frozen=True)',
        'model_config = ConfigDict(extra="ignore", strict=True, frozen=True)',
        ANALYSIS,
    ),
    Mutant(
        "the model's confidence is dropped for the rules'",
        "ci_remediator/llm/client.py",
        "confidence=answer.confidence,",
        "confidence=rules_result.confidence,",
        ANALYSIS,
    ),
    Mutant(
        "the model names any number of components",
        "ci_remediator/llm/client.py",
        "answer.affected_components[:MAX_COMPONENTS]",
        "answer.affected_components",
        ANALYSIS,
    ),
    Mutant(
        "a NUL in the model's words reaches Postgres",
        "ci_remediator/llm/client.py",
        "cleaned = redact(strip_controls(text).strip())",
        "cleaned = redact(text.strip())",
        ANALYSIS,
    ),
    Mutant(
        "the rules name no affected component",
        "ci_remediator/analysis/rules.py",
        "components = (job_name,) if job_name else ()",
        "components = ()",
        ANALYSIS,
    ),
    Mutant(
        "a debug rerun is proposed without its parameter",
        "ci_remediator/policy/templates.py",
        'return {"enable_debug_logging": True}',
        "return {}",
        # Property 57 executes every action kind and checks the body GitHub got.
        (*ANALYSIS, "tests/properties/test_remediation_execution_properties.py"),
    ),
    Mutant(
        "an action whose parameters cannot be filled is kept",
        "ci_remediator/pipeline/gate.py",
        "action = action_spec(ActionKind.NONE if parameter_problem else choice.kind)",
        "action = action_spec(choice.kind)",
        (*ANALYSIS, *ACTION_CHOICE),
    ),
    Mutant(
        "a template is filled with a blank branch",
        "ci_remediator/policy/templates.py",
        "        if name is not None and not fields[name]:",
        "        if False:",
        ANALYSIS,
    ),
    Mutant(
        "any proposal is taken whatever category_actions allows",
        "ci_remediator/policy/action_choice.py",
        "    if proposed in allowed:",
        "    if True:",
        ACTION_CHOICE,
    ),
    # ------------------------------------------------------------- Configuration ----
    Mutant(
        "an override can unprotect a protected repository",
        "ci_remediator/config.py",
        '        explicit.pop("protected", None)',
        "        pass",
        CONFIGURATION,
    ),
    Mutant(
        "a repository's category_actions are ignored",
        "ci_remediator/config.py",
        "        **(overrides.category_actions or {}),\n",
        "",
        CONFIGURATION,
    ),
    Mutant(
        "an empty secret is a secret of ''",
        "ci_remediator/config.py",
        "return None if isinstance(value, str) and not value.strip() else value",
        "return value",
        CONFIGURATION,
    ),
    Mutant(
        "unknown config.json keys are ignored",
        "ci_remediator/config.py",
        'model_config = ConfigDict(extra="forbid", frozen=True, strict=False)',
        'model_config = ConfigDict(extra="ignore", frozen=True, strict=False)',
        CONFIGURATION,
    ),
    Mutant(
        "an audit trail shorter than the failures is accepted",
        "ci_remediator/config.py",
        "if self.audit_retention_days < self.retention_days:",
        "if False:",
        CONFIGURATION,
    ),
    Mutant(
        "a removed config.json is silently ignored",
        "ci_remediator/config_reload.py",
        'return Refused(ConfigError(f"{self.path} was removed"), "removed")',
        "return None",
        CONFIGURATION,
    ),
    Mutant(
        "every process alerts on a bad version",
        "ci_remediator/services.py",
        'services.coordinator.try_lock(f"config-refused:{digest}", ttl_s=7 * 86_400) is not None',
        "True",
        CONFIGURATION,
    ),
    Mutant(
        "config check reads the error as markup",
        "ci_remediator/cli.py",
        '{escape(str(error))}", highlight=False)',
        '{error}", highlight=False)',
        CONFIGURATION,
    ),
    # --------------------------------------------------------------- Safety Gate ----
    Mutant(
        "sensitive job names ignored",
        "ci_remediator/policy/safety_gate.py",
        "candidates = [self.workflow_name, *self.job_names]",
        "candidates = [self.workflow_name]",
        SAFETY_GATE,
    ),
    Mutant(
        "a fork run may be remediated automatically",
        "ci_remediator/policy/safety_gate.py",
        '(run.from_fork, "run comes from a fork"),',
        '(False, "run comes from a fork"),',
        SAFETY_GATE,
    ),
    Mutant(
        "a deployment may be remediated automatically",
        "ci_remediator/policy/safety_gate.py",
        "bool(run.deployment_environments),",
        "False,",
        SAFETY_GATE,
    ),
    Mutant(
        "a protected branch adds no risk",
        "ci_remediator/policy/safety_gate.py",
        "risk += PROTECTED_BRANCH_RISK",
        "risk += 0",
        SAFETY_GATE,
    ),
    Mutant(
        "the hourly cap lets one more through",
        "ci_remediator/policy/safety_gate.py",
        "history.organization_last_hour >= gate_input.max_auto_per_hour,",
        "history.organization_last_hour > gate_input.max_auto_per_hour,",
        SAFETY_GATE,
    ),
    Mutant(
        "the organization count matches LIKE wildcards in its name",
        "ci_remediator/pipeline/gate.py",
        "Remediation.repository.startswith(_owner_prefix(failure.repository), autoescape=True),",
        "Remediation.repository.startswith(_owner_prefix(failure.repository)),",
        SAFETY_GATE,
    ),
    Mutant(
        "human-approved remediations count against the per-run cap",
        "ci_remediator/pipeline/gate.py",
        "        _AUTOMATIC,\n        Remediation.repository == failure.repository,\n",
        "        Remediation.repository == failure.repository,\n",
        SAFETY_GATE,
    ),
    # ----------------------------------------------------- Remediation Execution ----
    Mutant(
        "a debug rerun is sent without debug logging",
        "ci_remediator/actions/reruns.py",
        "gateway.rerun_failed_jobs(target.repository, target.run_id, enable_debug_logging=True)",
        "gateway.rerun_failed_jobs(target.repository, target.run_id)",
        EXECUTION,
    ),
    Mutant(
        "cache keys sent as unfilled templates",
        "ci_remediator/policy/templates.py",
        "keys = dict.fromkeys(fill_template(t, values) for t in policy.cache_key_templates)",
        "keys = dict.fromkeys(policy.cache_key_templates)",
        EXECUTION,
    ),
    Mutant(
        "the dispatched workflow is not told the run",
        "ci_remediator/policy/templates.py",
        'return {name: fields[name] for name in ("repository", "branch", "sha", "run_id")}',
        'return {name: fields[name] for name in ("repository", "branch", "sha")}',
        EXECUTION,
    ),
    Mutant(
        "what GitHub returned is not stored",
        "ci_remediator/pipeline/execute.py",
        "remediation.result = {**(remediation.result or {}), **executed.result}",
        "remediation.result = dict(remediation.result or {})",
        EXECUTION,
    ),
    Mutant(
        "GitHub's refusal is stored unredacted",
        "ci_remediator/pipeline/execute.py",
        "remediation.outcome_detail = redact(detail)",
        "remediation.outcome_detail = detail",
        EXECUTION,
    ),
    Mutant(
        "a completed rerun counts as a success whatever it concluded",
        "ci_remediator/actions/reruns.py",
        "succeeded=attempt.succeeded,",
        "succeeded=attempt.is_completed,",
        EXECUTION,
    ),
    Mutant(
        "verify judges an attempt before it completes",
        "ci_remediator/pipeline/verify.py",
        "    if not outcome.completed:",
        "    if False:",
        EXECUTION,
    ),
)
