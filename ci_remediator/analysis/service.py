"""The analyze step: read the failed jobs' logs, diagnose, store the (redacted) analysis."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ci_remediator.analysis.rules import KnowledgeBase, analyze_with_rules
from ci_remediator.db.models import Analysis, Failure
from ci_remediator.domain import (
    ActionKind,
    AnalysisResult,
    FailureState,
    FollowUp,
    StageEvent,
    Step,
)
from ci_remediator.lifecycle import require_transition
from ci_remediator.metrics import record_metric

if TYPE_CHECKING:
    from ci_remediator.github.gateway import GitHubGateway

ACTOR = "analyzer"


def combine_job_results(results: list[AnalysisResult]) -> AnalysisResult:
    """One verdict for the run: the riskiest job speaks for it, and one job that must not be
    re-run means the run must not be re-run."""
    worst = max(
        results, key=lambda result: (result.risk_score, result.proposed_action is ActionKind.NONE)
    )
    if any(result.proposed_action is ActionKind.NONE for result in results):
        worst = replace(worst, proposed_action=ActionKind.NONE)
    components = tuple(dict.fromkeys(c for r in results for c in r.affected_components))
    return replace(worst, affected_components=components)


def analyze_failure(
    session: Session,
    *,
    failure_id: int,
    gateway: GitHubGateway,
    knowledge_base: KnowledgeBase,
    budget_chars: int = 12_000,
    max_log_bytes: int = 5_000_000,
) -> list[FollowUp]:
    failure = session.get(Failure, failure_id)
    if failure is None or failure.state not in (FailureState.DETECTED, FailureState.ANALYZING):
        return []
    started = time.monotonic()
    # GitHub is read before any row is touched: reads are harmless to repeat, and no lock is
    # held while waiting on the network.
    jobs = gateway.list_failed_jobs(failure.repository, failure.run_id, failure.run_attempt)
    results = []
    for job in jobs:
        log_text = gateway.download_job_log(failure.repository, job.job_id, max_bytes=max_log_bytes)
        results.append(
            analyze_with_rules(
                log_text or "",
                kb=knowledge_base,
                job_name=job.name,
                workflow_name=failure.workflow_name,
                failed_step_names=job.failed_steps,
                budget_chars=budget_chars,
            )
        )
    if not results:
        results.append(
            analyze_with_rules(
                "",
                kb=knowledge_base,
                workflow_name=failure.workflow_name,
                budget_chars=budget_chars,
            )
        )
    result = combine_job_results(results)
    latency_ms = int((time.monotonic() - started) * 1000)

    if failure.state is FailureState.DETECTED:
        require_transition(
            session,
            failure_id=failure_id,
            expected=FailureState.DETECTED,
            to=FailureState.ANALYZING,
            actor=ACTOR,
        )
    require_transition(
        session,
        failure_id=failure_id,
        expected=FailureState.ANALYZING,
        to=FailureState.ANALYZED,
        actor=ACTOR,
        detail={
            "category": result.category.value,
            "risk_score": result.risk_score,
            "proposed_action": result.proposed_action.value,
            "rule_id": result.rule_id,
        },
    )
    session.add(
        Analysis(
            failure_id=failure_id,
            category=result.category,
            risk_score=result.risk_score,
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
            failed_jobs=[job.name for job in jobs],
            tokens_used=result.tokens_used,
            latency_ms=latency_ms,
        )
    )
    record_metric(
        session,
        name="analysis_latency_seconds",
        value=latency_ms / 1000,
        failure_id=failure_id,
        labels={"analyzer": result.analyzer, "category": result.category.value},
    )
    return [
        FollowUp(Step.GATE, failure_id),
        FollowUp(Step.NOTIFY, failure_id, event=StageEvent.ANALYZED),
    ]
