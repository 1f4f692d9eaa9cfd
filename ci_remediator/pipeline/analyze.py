"""The analyze step: re-read the run, read the failed jobs' logs, diagnose, store the
(redacted) analysis.

Cheap by design: a failure whose fingerprint was analyzed within `cache_days` reuses that
analysis at zero tokens, and the model is asked only when the rules are not sure enough.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from ci_remediator.analysis.excerpt import baseline_of_stream, excerpt_stream
from ci_remediator.analysis.fingerprint import failure_fingerprint
from ci_remediator.analysis.log_analysis import (
    AnalyzerMode,
    LogAnalysis,
    ModelAnalyzer,
    analyze_log,
)
from ci_remediator.analysis.rules import KnowledgeBase, analyze_with_rules, classify_excerpt
from ci_remediator.config import LlmConfig
from ci_remediator.db.base import utcnow
from ci_remediator.db.bursts import join_burst
from ci_remediator.db.metric_samples import record_metric
from ci_remediator.db.models import Analysis, Failure
from ci_remediator.db.notices import notice
from ci_remediator.db.transitions import require_transition
from ci_remediator.domain import (
    NOTHING_TO_DO,
    ActionKind,
    AnalysisResult,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
    StepResult,
)
from ci_remediator.github.errors import (
    AuthenticationError,
    GitHubError,
    PermanentGitHubError,
    RateLimitedError,
)
from ci_remediator.github.values import last_success_before
from ci_remediator.pipeline.superseded import supersession

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway
    from ci_remediator.github.values import JobInfo, RunInfo

log = logging.getLogger(__name__)

ACTOR = "analyzer"


@dataclass(frozen=True, slots=True)
class RunDiagnosis:
    result: AnalysisResult
    rules_risk: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


def combine_job_results(results: list[AnalysisResult]) -> AnalysisResult:
    """One verdict for the run: the riskiest job speaks for it, and one job that must not be
    re-run means the run must not be re-run."""
    worst = max(
        results,
        key=lambda result: (result.risk_score, result.proposed_action is ActionKind.NONE),
    )
    if any(result.proposed_action is ActionKind.NONE for result in results):
        worst = replace(worst, proposed_action=ActionKind.NONE)
    components = tuple(dict.fromkeys(c for r in results for c in r.affected_components))
    return replace(worst, affected_components=components)


def combine_job_analyses(analyses: list[LogAnalysis]) -> RunDiagnosis:
    return RunDiagnosis(
        result=combine_job_results([analysis.result for analysis in analyses]),
        rules_risk=max(analysis.rules_result.risk_score for analysis in analyses),
        prompt_tokens=sum(analysis.prompt_tokens for analysis in analyses),
        completion_tokens=sum(analysis.completion_tokens for analysis in analyses),
        cost_usd=sum(analysis.cost_usd for analysis in analyses),
    )


def recent_analysis(session: Session, *, fingerprint: str, days: int) -> Analysis | None:
    if days <= 0:
        return None
    return session.scalar(
        select(Analysis)
        .where(
            Analysis.fingerprint == fingerprint,
            Analysis.created_at >= utcnow() - timedelta(days=days),
            Analysis.reused_from_id.is_(None),
        )
        .order_by(Analysis.created_at.desc())
        .limit(1)
    )


def _reuse(cached: Analysis, excerpt: str) -> RunDiagnosis:
    result = AnalysisResult(
        category=cached.category,
        risk_score=cached.risk_score,
        confidence=cached.confidence,
        flaky=cached.flaky,
        summary=cached.summary,
        root_cause=cached.root_cause,
        proposed_action=cached.proposed_action,
        analyzer="cache",
        rule_id=cached.rule_id,
        affected_components=tuple(cached.affected_components),
        effort=cached.effort,
        excerpt=excerpt,
    )
    return RunDiagnosis(result, cached.rules_risk_score, 0, 0, 0.0)


def analyze_failure(
    session: Session,
    *,
    failure_id: int,
    gateway: GitHubGateway,
    knowledge_base: KnowledgeBase,
    model: ModelAnalyzer | None = None,
    llm_config: LlmConfig | None = None,
    budget_chars: int = 12_000,
    max_log_bytes: int = 50_000_000,
    model_time_budget_s: float | None = None,
    burst_window: timedelta = timedelta(0),
) -> StepResult:
    """Diagnose the failure's failed jobs and store the analysis; the gate and a notice next.

    `model_time_budget_s` is how long, from the start, the step may spend before its last
    model call has surely ended (the task's soft time limit less a margin). A failure that
    repeats the fingerprint of one detected within `burst_window` joins its burst (one Slack
    message for all of them).
    """
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state not in (FailureState.DETECTED, FailureState.ANALYZING):
        return NOTHING_TO_DO
    llm_config = llm_config or LlmConfig()
    started = time.monotonic()
    # GitHub is read before any row is touched: reads are harmless to repeat, and no lock is
    # held while waiting on the network.
    run, branch_runs = _confirmed_run(gateway, failure)
    jobs, rules_only, fingerprint = _rules_pass(
        gateway,
        run,
        knowledge_base=knowledge_base,
        budget_chars=budget_chars,
        max_log_bytes=max_log_bytes,
        branch_runs=branch_runs,
    )
    cached = recent_analysis(session, fingerprint=fingerprint, days=llm_config.cache_days)
    if cached is not None:
        combined_excerpt = "\n".join(result.excerpt for result in rules_only)[:budget_chars]
        diagnosis = _reuse(cached, combined_excerpt)
    elif jobs:
        analyses: list[LogAnalysis] = []
        for job, rules_result in zip(jobs, rules_only, strict=True):
            # A model call that could outlast the task's time is not started: that job keeps
            # the rules' answer (a run with many failed jobs rarely needs the model for each).
            elapsed = time.monotonic() - started
            in_time = model is not None and (
                model_time_budget_s is None or elapsed + model.worst_case_s <= model_time_budget_s
            )
            analyses.append(
                analyze_log(
                    rules_result.excerpt,
                    knowledge_base=knowledge_base,
                    model=model if llm_config.enabled and in_time else None,
                    mode=AnalyzerMode.AUTO,
                    skip_model_at_confidence=llm_config.skip_when_rule_confidence,
                    job_name=job.name,
                    workflow_name=failure.workflow_name,
                    failed_step_names=job.failed_steps,
                    budget_chars=budget_chars,
                    rules_result=rules_result,
                )
            )
        diagnosis = combine_job_analyses(analyses)
    else:
        # GitHub listed no failed job (a startup failure, or logs already gone): say so.
        nothing = analyze_with_rules("", kb=knowledge_base, workflow_name=failure.workflow_name)
        diagnosis = RunDiagnosis(nothing, nothing.risk_score, 0, 0, 0.0)
    latency_ms = int((time.monotonic() - started) * 1000)
    _store(
        session,
        failure=failure,
        diagnosis=diagnosis,
        fingerprint=fingerprint,
        reused_from=cached.id if cached is not None else None,
        job_names=[job.name for job in jobs],
        job_links=[{"name": job.name, "url": job.html_url} for job in jobs if job.html_url],
        latency_ms=latency_ms,
    )
    join_burst(session, failure=failure, fingerprint=fingerprint, window=burst_window)
    return StepResult(
        (
            FollowUp(Step.GATE, failure_id),
            notice(session, failure_id, StageEvent.ANALYZED),
        )
    )


@dataclass(frozen=True, slots=True)
class AttemptDiagnosis:
    """What the rules make of one attempt: verify's look at a rerun that failed."""

    result: AnalysisResult
    fingerprint: str


def _rules_pass(
    gateway: GitHubGateway,
    run: RunInfo,
    *,
    knowledge_base: KnowledgeBase,
    budget_chars: int,
    max_log_bytes: int,
    branch_runs: Sequence[RunInfo] = (),
) -> tuple[list[JobInfo], list[AnalysisResult], str]:
    """The attempt's failed jobs, the rules' answer for each, and the fingerprint.

    Each log is streamed from GitHub into its excerpt: only the excerpt (and the baseline's
    line hashes) is held, whatever the log's size.
    """
    jobs = gateway.list_failed_jobs(run.repository, run.run_id, run.run_attempt)
    baselines = _baselines(gateway, run, [job.name for job in jobs], max_log_bytes, branch_runs)
    rules_only = []
    for job in jobs:
        excerpt = gateway.read_job_log(
            run.repository,
            job.job_id,
            partial(
                excerpt_stream,
                budget_chars=budget_chars,
                failed_step_names=job.failed_steps,
                baseline=baselines.get(job.name),
            ),
            max_bytes=max_log_bytes,
        )
        rules_only.append(
            classify_excerpt(
                excerpt or "",
                kb=knowledge_base,
                job_name=job.name,
                workflow_name=run.workflow_name,
            )
        )
    fingerprint = failure_fingerprint(
        [result.excerpt for result in rules_only],
        job_names=[job.name for job in jobs],
        workflow_name=run.workflow_name,
    )
    return jobs, rules_only, fingerprint


def diagnose_attempt(
    gateway: GitHubGateway,
    run: RunInfo,
    *,
    knowledge_base: KnowledgeBase,
    budget_chars: int = 12_000,
    max_log_bytes: int = 50_000_000,
) -> AttemptDiagnosis:
    """The rules' diagnosis and the fingerprint of a failed attempt (no model: this runs
    inside verify, and the fingerprint, which decides "the same failure", is the rules')."""
    _, rules_only, fingerprint = _rules_pass(
        gateway,
        run,
        knowledge_base=knowledge_base,
        budget_chars=budget_chars,
        max_log_bytes=max_log_bytes,
    )
    if rules_only:
        return AttemptDiagnosis(combine_job_results(rules_only), fingerprint)
    nothing = analyze_with_rules("", kb=knowledge_base, workflow_name=run.workflow_name)
    return AttemptDiagnosis(nothing, fingerprint)


def _confirmed_run(gateway: GitHubGateway, failure: Failure) -> tuple[RunInfo, tuple[RunInfo, ...]]:
    """The attempt as the API describes it now, with what the gate needs from GitHub, and the
    branch's newest runs of the workflow it was read from.

    A webhook payload is never acted on as is: GitHub signs only the body, so what it says is
    re-read before anything follows from it. One read of the branch's newest runs confirms the
    attempt (when it is still the run's latest), finds a newer run and the baseline; the
    attempt itself is read only when the list does not show it.
    """
    branch_runs: tuple[RunInfo, ...] = ()
    listed = (failure.head_branch, failure.workflow_id)
    if failure.head_branch:
        branch_runs = gateway.branch_runs(
            failure.repository, workflow_id=failure.workflow_id, branch=failure.head_branch
        )
    run = next(
        (
            listed
            for listed in branch_runs
            if listed.run_id == failure.run_id and listed.run_attempt == failure.run_attempt
        ),
        None,
    ) or gateway.get_run_attempt(failure.repository, failure.run_id, failure.run_attempt)
    if not run.failed:
        raise PermanentGitHubError(
            f"{failure.repository}#{failure.run_id} attempt {failure.run_attempt} is "
            f"{run.status}/{run.conclusion} according to the API, not failed"
        )
    failure.workflow_name = run.workflow_name
    failure.head_branch = run.head_branch
    failure.head_sha = run.head_sha
    failure.conclusion = run.conclusion or failure.conclusion
    failure.html_url = run.html_url
    failure.event = run.event or failure.event
    failure.head_repository = run.head_repository
    failure.workflow_path = run.workflow_path or failure.workflow_path
    failure.deployment_environments = list(
        gateway.run_deployment_environments(failure.repository, failure.run_id)
    )
    # The list answers for the run only if the API agrees on its branch and workflow.
    same_list = branch_runs and listed == (run.head_branch, run.workflow_id)
    superseded = supersession(gateway, run, branch_runs=branch_runs if same_list else None)
    failure.superseded_by_run_id = superseded.run_id
    failure.superseded_by_commit = superseded.commit
    return run, branch_runs if same_list else ()


def _baselines(
    gateway: GitHubGateway,
    run: RunInfo,
    job_names: list[str],
    max_log_bytes: int,
    branch_runs: Sequence[RunInfo] = (),
) -> dict[str, frozenset[int]]:
    """The line hashes (`baseline_hashes`) of the same jobs' logs in the last successful run
    of the workflow on the same branch.

    Only an aid to the excerpt: when GitHub has none or cannot give it, analysis goes on.
    """
    if not job_names:
        return {}
    try:
        baseline = (
            last_success_before(branch_runs, run.created_at)
            if branch_runs
            else gateway.last_successful_run(
                run.repository,
                workflow_id=run.workflow_id,
                branch=run.head_branch,
                before=run.created_at,
            )
        )
        if baseline is None:
            return {}
        wanted = set(job_names)
        hashes: dict[str, frozenset[int]] = {}
        for job in gateway.list_jobs(run.repository, baseline.run_id, baseline.run_attempt):
            if job.name in wanted and job.name not in hashes:
                found = gateway.read_job_log(
                    run.repository, job.job_id, baseline_of_stream, max_bytes=max_log_bytes
                )
                if found:
                    hashes[job.name] = found
        return hashes
    except GitHubError as error:
        if isinstance(error, AuthenticationError | RateLimitedError):
            raise
        log.info("no baseline log for %s#%s: %s", run.repository, run.run_id, error)
        return {}


def _store(
    session: Session,
    *,
    failure: Failure,
    diagnosis: RunDiagnosis,
    fingerprint: str,
    reused_from: int | None,
    job_names: list[str],
    latency_ms: int,
    job_links: list[dict[str, str]] | None = None,
) -> None:
    result = diagnosis.result
    if failure.state is FailureState.DETECTED:
        require_transition(
            session,
            failure_id=failure.id,
            expected=FailureState.DETECTED,
            to=FailureState.ANALYZING,
            actor=ACTOR,
        )
    require_transition(
        session,
        failure_id=failure.id,
        expected=FailureState.ANALYZING,
        to=FailureState.ANALYZED,
        actor=ACTOR,
        detail={
            "category": result.category.value,
            "risk_score": result.risk_score,
            "proposed_action": result.proposed_action.value,
            "analyzer": result.analyzer,
            "rule_id": result.rule_id,
        },
    )
    session.add(
        Analysis(
            failure_id=failure.id,
            category=result.category,
            risk_score=result.risk_score,
            rules_risk_score=diagnosis.rules_risk,
            confidence=result.confidence,
            flaky=result.flaky,
            summary=result.summary,
            root_cause=result.root_cause,
            proposed_action=result.proposed_action,
            analyzer=result.analyzer,
            rule_id=result.rule_id,
            affected_components=list(result.affected_components),
            effort=result.effort,
            excerpt=result.excerpt,
            failed_jobs=job_names,
            failed_job_links=job_links or [],
            tokens_used=diagnosis.prompt_tokens + diagnosis.completion_tokens,
            prompt_tokens=diagnosis.prompt_tokens,
            completion_tokens=diagnosis.completion_tokens,
            cost_usd=diagnosis.cost_usd,
            fingerprint=fingerprint,
            reused_from_id=reused_from,
            latency_ms=latency_ms,
        )
    )
    record_metric(
        session,
        name="analysis_latency_seconds",
        value=latency_ms / 1000,
        failure_id=failure.id,
        labels={"analyzer": result.analyzer, "category": result.category.value},
    )
    if result.rule_id is None:
        # No rule knew this failure (a step-name guess at most): a gap in the knowledge base.
        record_metric(session, name="analysis_unknown", value=1, failure_id=failure.id)
