"""What each stage says. Built only from stored fields; log text appears only as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ci_remediator.analysis.redaction import redact
from ci_remediator.db.breaker_trips import organization_of
from ci_remediator.db.bursts import burst_runs
from ci_remediator.db.flaky_evidence import FLAKY_WINDOW, flake_counts
from ci_remediator.db.models import Analysis, ApprovalRequest, Failure, GateDecision, Remediation
from ci_remediator.domain import ActionKind, StageEvent
from ci_remediator.policy.catalog import RERUNS

SEVERITY = {
    StageEvent.DETECTED: "info",
    StageEvent.ANALYZED: "info",
    StageEvent.APPROVAL_REQUESTED: "warning",
    StageEvent.REMEDIATION_STARTED: "info",
    StageEvent.RESOLVED: "success",
    StageEvent.ESCALATED: "warning",
    StageEvent.REJECTED: "info",
    StageEvent.EXPIRED: "critical",
    StageEvent.ERRORED: "critical",
    StageEvent.BURST: "warning",
    StageEvent.BREAKER_TRIPPED: "critical",
    StageEvent.ROLLED_BACK: "warning",
}
# A burst's message lists at most this many runs, then says how many more.
BURST_LIST_LIMIT = 20


@dataclass(frozen=True, slots=True)
class StageMessage:
    """`title` and `lines` are the system's own words; `untrusted` is text that came from a log
    or a model (redacted, but unverified): every notifier shows it framed as such."""

    failure_id: int
    event: StageEvent
    severity: str
    title: str
    lines: tuple[str, ...]
    run_url: str
    repository: str = ""
    untrusted: tuple[str, ...] = ()
    approval_id: int | None = None
    # Set on an approval request that offers "always" / "never": for how many days.
    memory_days: int | None = None
    # (label, url) pairs from GitHub's API (the failed jobs' pages); each notifier shows them
    # as links only after checking the address.
    links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SystemAlert:
    """About ci-remediator itself rather than one failure (a credential GitHub refused)."""

    severity: str
    title: str
    lines: tuple[str, ...]


def _lines_for(
    event: StageEvent,
    *,
    failure: Failure,
    analysis: Analysis | None,
    decision: GateDecision | None,
    remediation: Remediation | None,
    approval: ApprovalRequest | None = None,
) -> list[str]:
    lines: list[str] = []
    if event is StageEvent.DETECTED:
        lines.append(
            f"{failure.conclusion} on {failure.head_branch or '-'} at {failure.head_sha[:7]} "
            f"({failure.event})"
        )
    elif event is StageEvent.ANALYZED and analysis is not None:
        lines.append(
            f"{analysis.category.value} · risk {analysis.risk_score}/10 · "
            f"confidence {analysis.confidence:.2f} · proposes {analysis.proposed_action.value} "
            f"· by {analysis.analyzer}"
        )
    elif event is StageEvent.APPROVAL_REQUESTED and decision is not None:
        lines.append(f"{decision.action.value} at risk {decision.effective_risk}/10")
        if approval is not None and approval.parameters:
            lines.append(f"sends: {describe_parameters(approval.parameters)}")
        lines.extend(decision.reasons)
        if approval is not None:
            always = " [--always]" if approval.memory_days is not None else ""
            lines.append(f"without Slack: ci-remediator approvals approve {approval.id}{always}")
    elif event is StageEvent.REMEDIATION_STARTED and remediation is not None:
        lines.extend(_started_lines(remediation))
    elif event in (StageEvent.RESOLVED, StageEvent.ROLLED_BACK) and remediation is not None:
        lines.append(remediation.outcome_detail or "")
    elif event is StageEvent.ESCALATED:
        lines.extend(_escalated_lines(remediation, decision))
    elif event is StageEvent.REJECTED and approval is not None:
        lines.append(f"rejected by {_decider(approval)}")
        lines.append(approval.decision_reason or "")
    elif event is StageEvent.EXPIRED and approval is not None:
        deadline = f"{approval.expires_at:%Y-%m-%d %H:%M} UTC"
        lines.append(f"nobody decided {approval.action.value} before {deadline}")
    elif event is StageEvent.ERRORED:
        lines.append(failure.last_error or "unknown error")

    # An error's text, what GitHub answered and a human's reason were never redacted when they
    # were stored (an exception can quote a token, a person can paste one): redacted here, as
    # everything bound for people is.
    return [redact(line) for line in lines if line]


def _started_lines(remediation: Remediation) -> list[str]:
    lines = [
        f"{remediation.action.value} -> attempt {remediation.target_attempt}"
        if remediation.action in RERUNS
        else remediation.action.value
    ]
    if remediation.parameters:
        lines.append(f"sends: {describe_parameters(remediation.parameters)}")
    return lines


def _escalated_lines(remediation: Remediation | None, decision: GateDecision | None) -> list[str]:
    """After a remediation, what it did is the news; before one, why none was allowed."""
    if remediation is not None and remediation.action is ActionKind.OPEN_TRACKING_ISSUE:
        return [f"handed to people: {remediation.outcome_detail}"]
    if remediation is not None and remediation.outcome_detail:
        return [
            f"remediation did not fix it: {remediation.outcome_detail}",
            *_rerun_lines(remediation),
        ]
    return list(decision.reasons) if decision is not None else []


def describe_parameters(parameters: dict[str, Any]) -> str:
    """What an action sends besides the run's identity (config templates filled with run
    metadata), in one line."""
    return "; ".join(
        f"{name}={', '.join(map(str, value)) if isinstance(value, list) else value}"
        if not isinstance(value, dict)
        else f"{name}: " + ", ".join(f"{k}={v}" for k, v in value.items())
        for name, value in parameters.items()
    )


def _rerun_lines(remediation: Remediation) -> list[str]:
    """Whether the rerun failed the same way as the first attempt (by fingerprint)."""
    rerun = (remediation.result or {}).get("rerun_analysis")
    if not isinstance(rerun, dict):
        return []
    if rerun.get("same_failure"):
        return [f"attempt {rerun.get('attempt')} failed the same way (same fingerprint)"]
    return [f"attempt {rerun.get('attempt')} failed differently: {rerun.get('category')}"]


def _flake_history(session: Session, *, failure: Failure, analysis: Analysis) -> list[str]:
    """What history says about the failed jobs (never what a model or a rule called flaky)."""
    counts = flake_counts(session, repository=failure.repository, job_names=analysis.failed_jobs)
    days = FLAKY_WINDOW.days
    return [
        f"{name} flaked {count} time{'s' if count > 1 else ''} in {days} days "
        "(failed, then passed on a rerun of the same commit)"
        for name, count in counts.items()
        if count
    ]


def _breaker_lines(failure: Failure) -> list[str]:
    organization = organization_of(failure.repository)
    return [
        f"the latest automatic remediations in {organization} mostly did not fix their runs; "
        "every remediation there now asks a human",
        f"when it is safe again: ci-remediator breaker reset {organization}",
    ]


def _decider(approval: ApprovalRequest) -> str:
    who = f"{approval.decided_by} via {approval.decided_via or 'slack'}"
    return f"{who} on behalf of {approval.on_behalf_of}" if approval.on_behalf_of else who


TITLES = {
    StageEvent.DETECTED: "Failure detected",
    StageEvent.ANALYZED: "Analyzed",
    StageEvent.APPROVAL_REQUESTED: "Approval needed",
    StageEvent.REMEDIATION_STARTED: "Remediating",
    StageEvent.RESOLVED: "Resolved",
    StageEvent.ESCALATED: "Escalated to a human",
    StageEvent.REJECTED: "Remediation rejected",
    StageEvent.EXPIRED: "Approval expired: a human must look",
    StageEvent.ERRORED: "ci-remediator could not process",
    StageEvent.BURST: "Failing again and again",
    StageEvent.BREAKER_TRIPPED: "Circuit breaker open: automatic remediation stopped",
    StageEvent.ROLLED_BACK: "Rolled back at the deadline: a human must look",
}


def build_stage_message(
    session: Session, *, failure_id: int, event: StageEvent
) -> StageMessage | None:
    # One round trip for the failure and everything a stage message may mention (each of
    # analysis, gate decision and approval is unique per failure; the newest remediation).
    newest_remediation = (
        select(func.max(Remediation.id)).where(Remediation.failure_id == failure_id)
    ).scalar_subquery()
    row = session.execute(
        select(Failure, Analysis, GateDecision, ApprovalRequest, Remediation)
        .outerjoin(Analysis, Analysis.failure_id == Failure.id)
        .outerjoin(GateDecision, GateDecision.failure_id == Failure.id)
        .outerjoin(ApprovalRequest, ApprovalRequest.failure_id == Failure.id)
        .outerjoin(Remediation, Remediation.id == newest_remediation)
        .where(Failure.id == failure_id)
    ).first()
    if row is None:
        return None
    failure, analysis, decision, approval, remediation = row
    run = f"{failure.repository} · {failure.workflow_name} #{failure.run_id}/{failure.run_attempt}"
    if event is StageEvent.BURST:
        return _burst_message(session, failure=failure, analysis=analysis)
    lines = (
        _breaker_lines(failure)
        if event is StageEvent.BREAKER_TRIPPED
        else _lines_for(
            event,
            failure=failure,
            analysis=analysis,
            decision=decision,
            remediation=remediation,
            approval=approval,
        )
    )
    if analysis is not None and event in (StageEvent.ANALYZED, StageEvent.APPROVAL_REQUESTED):
        lines += _flake_history(session, failure=failure, analysis=analysis)
    return StageMessage(
        failure_id=failure_id,
        event=event,
        severity=SEVERITY[event],
        title=f"{TITLES[event]}: {run}",
        lines=tuple(lines),
        run_url=failure.html_url,
        repository=failure.repository,
        untrusted=_untrusted_for(event, analysis, remediation),
        approval_id=approval.id if approval is not None else None,
        memory_days=approval.memory_days if approval is not None else None,
        links=(*_job_links(event, analysis), *_result_links(event, remediation)),
    )


def _burst_message(
    session: Session, *, failure: Failure, analysis: Analysis | None
) -> StageMessage:
    """The leader's thread message, rewritten: how many runs failed the same way, and which."""
    runs = burst_runs(session, leader_id=failure.id)
    first, last = runs[0].detected_at, runs[-1].detected_at
    minutes = max(1, round((last - first).total_seconds() / 60))
    lines = [
        f"{len(runs)} runs of {failure.workflow_name} failed the same way in {minutes} min"
        + (f" ({analysis.category.value})" if analysis is not None else "")
    ]
    lines += [
        f"#{run.run_id}/{run.run_attempt} on {run.head_branch or '-'} at {run.head_sha[:7]}: "
        f"{run.html_url}"
        for run in runs[:BURST_LIST_LIMIT]
    ]
    if len(runs) > BURST_LIST_LIMIT:
        lines.append(f"and {len(runs) - BURST_LIST_LIMIT} more")
    return StageMessage(
        failure_id=failure.id,
        event=StageEvent.BURST,
        severity=SEVERITY[StageEvent.BURST],
        title=f"{TITLES[StageEvent.BURST]}: {failure.repository} · {failure.workflow_name} "
        f"· {len(runs)} runs",
        lines=tuple(lines),
        run_url=failure.html_url,
        repository=failure.repository,
    )


def _job_links(event: StageEvent, analysis: Analysis | None) -> tuple[tuple[str, str], ...]:
    if analysis is None or event not in (
        StageEvent.ANALYZED,
        StageEvent.APPROVAL_REQUESTED,
        StageEvent.ESCALATED,
    ):
        return ()
    return tuple(
        (str(link.get("name", "job")), str(link.get("url", "")))
        for link in analysis.failed_job_links or ()
        if link.get("url")
    )


def _result_links(
    event: StageEvent, remediation: Remediation | None
) -> tuple[tuple[str, str], ...]:
    """The tracking issue or dispatched run GitHub returned, linked (GitHub's own URL)."""
    result = (remediation.result or {}) if remediation is not None else {}
    url = result.get("html_url")
    if event not in (StageEvent.ESCALATED, StageEvent.RESOLVED, StageEvent.ROLLED_BACK) or not url:
        return ()
    if "issue_number" in result:
        return ((f"issue #{result['issue_number']}", str(url)),)
    if "dispatched_run_id" in result:
        return ((f"run {result['dispatched_run_id']}", str(url)),)
    return ()


def _untrusted_for(
    event: StageEvent, analysis: Analysis | None, remediation: Remediation | None
) -> tuple[str, ...]:
    rerun = (remediation.result or {}).get("rerun_analysis") if remediation else None
    if event is StageEvent.ESCALATED and analysis is not None and isinstance(rerun, dict):
        # Both analyses: what the first attempt showed, and what the rerun showed.
        texts = (
            f"attempt {analysis.failure.run_attempt}: {analysis.summary}",
            f"attempt {rerun.get('attempt')}: {rerun.get('summary', '')}",
            str(rerun.get("excerpt", "")),
        )
        return tuple(text for text in texts if text)
    if analysis is None or event not in (StageEvent.ANALYZED, StageEvent.APPROVAL_REQUESTED):
        return ()
    return tuple(text for text in (analysis.summary, analysis.excerpt[-1_200:]) if text)
