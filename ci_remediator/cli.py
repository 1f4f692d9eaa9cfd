"""The `ci-remediator` command.

The CLI is a composition root: it may start workers (imported lazily), while the rest of
`ci_remediator` stays free of Celery.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ci_remediator.analysis.log_analysis import AnalyzerMode
from ci_remediator.config import AppConfig, ConfigError, get_config, masked_view
from ci_remediator.domain import Decision
from ci_remediator.supervisor import run_supervised

if TYPE_CHECKING:
    from ci_remediator.audit_logger import AuditLogEntry
    from ci_remediator.metrics_tracker import LatencySummary, MetricsReport

app = typer.Typer(
    help="Watch GitHub Actions failures and fix what is provably safe to fix.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
approvals_app = typer.Typer(
    help="Pending approvals: list them, approve or reject one (what the Slack buttons do).",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
memories_app = typer.Typer(
    help='Remembered decisions ("Approve and always", "Reject and never ask"): list, revoke.',
    no_args_is_help=True,
)
breaker_app = typer.Typer(
    help="Circuit breakers: which organizations stopped automatic remediation; reset one.",
    no_args_is_help=True,
)
app.add_typer(approvals_app, name="approvals")
app.add_typer(breaker_app, name="breaker")
app.add_typer(memories_app, name="memories")

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line per error, however narrow

EXIT_CONFIG = 2
EXIT_DATABASE = 3


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _config_or_exit() -> AppConfig:
    try:
        return get_config()
    except ConfigError as error:
        # The message quotes config.json's own text: shown as text, never read as markup.
        errors.print(f"[bold red]configuration error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from error


def _migrate_or_exit(config: AppConfig) -> None:
    """Migrate to head, or one line saying which database could not be reached and why."""
    from sqlalchemy.exc import SQLAlchemyError

    from ci_remediator.config import masked_view
    from ci_remediator.db import migrate

    try:
        migrate.upgrade(config.settings.sqlalchemy_url)
    except SQLAlchemyError as error:
        where = masked_view(config)["environment"]["database_url"]
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        errors.print(f"[bold red]database error:[/] {where}: {cause}", highlight=False)
        raise typer.Exit(EXIT_DATABASE) from error


@config_app.command("check")
def config_check() -> None:
    """Print the resolved configuration (secrets masked), or name the bad key and exit 2.

    A `knowledge_base_file` is loaded too: a rule RE2 refuses (or any invalid rule) is named
    with its file and the reason, as the workers would refuse it at start.
    """
    from ci_remediator.analysis.rules import KnowledgeBaseError, load_knowledge_base

    config = _config_or_exit()
    console.print_json(json.dumps(masked_view(config)))
    if config.file.knowledge_base_file is not None:
        try:
            load_knowledge_base(config.file.knowledge_base_file)
        except KnowledgeBaseError as error:
            errors.print(
                f"[bold red]knowledge base error:[/] {escape(str(error))}", highlight=False
            )
            raise typer.Exit(EXIT_CONFIG) from error


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to head (the Procfile's release step)."""
    config = _config_or_exit()
    _migrate_or_exit(config)
    console.print("database is at the latest revision")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models have changes no migration captures."""
    from ci_remediator.db import migrate

    migrate.check(_config_or_exit().settings.sqlalchemy_url)
    console.print("models and migrations agree")


@approvals_app.command("list")
def approvals_list(
    show_all: Annotated[bool, typer.Option("--all", help="Decided ones too.")] = False,
) -> None:
    """Approval requests, oldest first: id, repository, run, action, age, status."""
    from rich.table import Table

    from ci_remediator.db.approvals import list_approvals
    from ci_remediator.services import Services

    services = Services(_config_or_exit())
    with services.sessions() as session:
        rows = list_approvals(session, pending_only=not show_all)
    table = Table(title="Approval requests", title_justify="left")
    for column in ("id", "repository", "run", "action", "requested", "expires", "status", "by"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.repository,
            f"{row.workflow_name} #{row.run_id}/{row.run_attempt}",
            row.action,
            f"{row.requested_at:%Y-%m-%d %H:%M}",
            f"{row.expires_at:%Y-%m-%d %H:%M}",
            row.status,
            row.decided_by or "",
        )
    console.print(table)


def _decide(
    approval_id: int,
    decision: Decision,
    reason: str | None,
    on_behalf_of: str | None,
    *,
    remember: bool = False,
) -> None:
    import getpass

    from ci_remediator.pipeline.decide import decide_approval
    from ci_remediator.services import Services

    config = _config_or_exit()
    services = Services(config)
    with services.sessions() as session, session.begin():
        result = decide_approval(
            session,
            approval_id=approval_id,
            decision=decision,
            # The operating-system user decides; `--as` is recorded beside it, never instead.
            decided_by=getpass.getuser(),
            via="cli",
            config=config,
            on_behalf_of=on_behalf_of,
            reason=reason,
            remember=remember,
        )
    if not result.changed:
        errors.print(f"[bold red]refused:[/] {escape(result.message)}", highlight=False)
        raise typer.Exit(1)
    if result.follow_ups:
        # After the commit. With the broker down the decision stands and the reconcile sweep
        # sends the execute task once it is back.
        from workers.app import app as celery_app
        from workers.base import send_follow_ups

        try:
            send_follow_ups(celery_app, result.follow_ups)
        except Exception as error:  # noqa: BLE001 - the sweep re-sends; say so, do not fail
            errors.print(f"broker unreachable ({error}); the reconcile sweep will send it")
    console.print(escape(result.message), highlight=False)


@approvals_app.command("approve")
def approvals_approve(
    approval_id: Annotated[int, typer.Argument(help="The request's id (approvals list).")],
    on_behalf_of: Annotated[
        str | None, typer.Option("--as", help="Recorded as 'on behalf of'.")
    ] = None,
    always: Annotated[
        bool,
        typer.Option(
            "--always",
            help="Also approve this action for this failure in this repository from now on "
            "(trust_memory_days; where allow_trust_memory is on).",
        ),
    ] = False,
) -> None:
    """Approve: the remediation runs (you must be in `approvers`)."""
    _decide(approval_id, Decision.APPROVE, None, on_behalf_of, remember=always)


@approvals_app.command("reject")
def approvals_reject(
    approval_id: Annotated[int, typer.Argument(help="The request's id (approvals list).")],
    reason: Annotated[str, typer.Option(help="Why: kept in the audit trail.")],
    on_behalf_of: Annotated[
        str | None, typer.Option("--as", help="Recorded as 'on behalf of'.")
    ] = None,
    never: Annotated[
        bool,
        typer.Option(
            "--never",
            help="Also never ask about this action for this failure in this repository again "
            "(trust_memory_days; where allow_trust_memory is on).",
        ),
    ] = False,
) -> None:
    """Reject: nothing runs, the failure is closed as rejected."""
    _decide(approval_id, Decision.REJECT, reason, on_behalf_of, remember=never)


@memories_app.command("list")
def memories_list(
    show_all: Annotated[bool, typer.Option("--all", help="Expired and revoked ones too.")] = False,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TEXT,
) -> None:
    """Remembered decisions in force (oldest first): id, repository, action, decision, who."""
    from rich.table import Table

    from ci_remediator.db.decision_memories import list_memories
    from ci_remediator.services import Services

    services = Services(_config_or_exit())
    with services.sessions() as session:
        memories = list_memories(session, include_inactive=show_all)
        rows = [
            {
                "id": memory.id,
                "repository": memory.repository,
                "fingerprint": memory.fingerprint,
                "action": memory.action.value,
                "decision": memory.decision.value,
                "decided_by": memory.decided_by,
                "via": memory.decided_via,
                "approved_risk": memory.approved_risk,
                "created_at": memory.created_at.isoformat(),
                "expires_at": memory.expires_at.isoformat(),
                "revoked_by": memory.revoked_by,
            }
            for memory in memories
        ]
    if output is OutputFormat.JSON:
        console.print_json(json.dumps(rows))
        return
    table = Table(title="Remembered decisions", title_justify="left")
    for column in ("id", "repository", "failure", "action", "decision", "by", "until", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["repository"]),
            str(row["fingerprint"])[:12],
            str(row["action"]),
            str(row["decision"]),
            f"{row['decided_by']} via {row['via']}",
            str(row["expires_at"])[:16],
            str(row["revoked_by"] or ""),
        )
    console.print(table)


@memories_app.command("revoke")
def memories_revoke(
    memory_id: Annotated[int, typer.Argument(help="The memory's id (memories list).")],
    reason: Annotated[str | None, typer.Option(help="Why: kept in the audit trail.")] = None,
) -> None:
    """Forget a remembered decision: the next such failure asks again. Audited."""
    import getpass

    from ci_remediator.db.decision_memories import revoke_memory
    from ci_remediator.services import Services

    services = Services(_config_or_exit())
    with services.sessions() as session, session.begin():
        memory = revoke_memory(
            session, memory_id=memory_id, revoked_by=getpass.getuser(), reason=reason
        )
    if memory is None:
        errors.print(f"[bold red]refused:[/] no memory {memory_id} in force", highlight=False)
        raise typer.Exit(1)
    console.print(f"memory {memory_id} revoked: {escape(memory.repository)} asks again")


@app.command("analyze-log")
def analyze_log_command(  # noqa: PLR0917 - one parameter per command-line option
    log_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    job_name: Annotated[str, typer.Option(help="Job name, as GitHub shows it.")] = "",
    analyzer: Annotated[AnalyzerMode, typer.Option(help="rules, llm, or auto.")] = (
        AnalyzerMode.AUTO
    ),
    budget: Annotated[int, typer.Option(min=500, help="Excerpt budget in characters.")] = 12_000,
    baseline: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="Log of the same job's last successful run: lines it shares are left out.",
        ),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TEXT,
) -> None:
    """Diagnose one job log: category, risk, proposed action and the excerpt that explains it.

    The file is streamed: memory stays bounded however large the log is.
    """
    from ci_remediator.analysis.excerpt import excerpt_file
    from ci_remediator.analysis.log_analysis import ModelUnavailableError, analyze_log
    from ci_remediator.analysis.rules import KnowledgeBaseError, classify_excerpt
    from ci_remediator.services import Services

    config = _config_or_exit()
    services = Services(config)
    try:
        excerpt = excerpt_file(log_file, budget_chars=budget, baseline_path=baseline)
        rules_result = classify_excerpt(excerpt, kb=services.knowledge_base, job_name=job_name)
        analysis = analyze_log(
            "",  # already excerpted: `rules_result` carries the excerpt
            rules_result=rules_result,
            knowledge_base=services.knowledge_base,
            model=services.model if analyzer is not AnalyzerMode.RULES else None,
            mode=analyzer,
            skip_model_at_confidence=config.file.llm.skip_when_rule_confidence,
            job_name=job_name,
            budget_chars=budget,
        )
    except (ModelUnavailableError, KnowledgeBaseError) as error:
        errors.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from error
    result = analysis.result
    document = {
        "category": result.category.value,
        "flaky": result.flaky,
        "risk_score": result.risk_score,
        "rules_risk_score": analysis.rules_result.risk_score,
        "confidence": result.confidence,
        "proposed_action": result.proposed_action.value,
        "summary": result.summary,
        "root_cause": result.root_cause,
        "affected_components": list(result.affected_components),
        "effort": result.effort.value,
        "analyzer": result.analyzer,
        "rule_id": result.rule_id,
        "prompt_tokens": analysis.prompt_tokens,
        "completion_tokens": analysis.completion_tokens,
        "cost_usd": analysis.cost_usd,
        "excerpt": result.excerpt,
    }
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps(document, indent=2))
        return
    console.print(
        f"[bold]{result.category.value}[/] · risk {result.risk_score}/10 · confidence "
        f"{result.confidence:.2f} · flaky {result.flaky} · proposes "
        f"[bold]{result.proposed_action.value}[/] · by {result.analyzer}",
        highlight=False,
    )
    console.print(escape(result.summary), highlight=False)
    console.print(escape(result.root_cause), style="dim", highlight=False)
    console.rule("excerpt")
    # The excerpt is log text: printed as data, never as markup.
    console.print(result.excerpt, highlight=False, markup=False)


@app.command()
def demo(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the pipeline.")] = 50.0,
) -> None:
    """Run the pipeline end to end on the embedded default against the GitHub sandbox."""
    from workers.demo import run_demo

    raise typer.Exit(run_demo(console, timeout_s=timeout))


@app.command()
def sandbox(
    workdir: Annotated[Path, typer.Option(help="Where the demo's config.json is written.")] = Path(
        "var/sandbox"
    ),
    env_file: Annotated[
        Path | None, typer.Option(help="Also write the variables here (honcho's --env).")
    ] = None,
    webhook_url: Annotated[
        str | None,
        typer.Option(
            help="Also deliver the failed runs as signed workflow_run webhooks here, e.g. "
            "http://127.0.0.1:5000/webhooks/github (the secret is printed with the rest)."
        ),
    ] = None,
) -> None:
    """Serve the GitHub, Slack and OpenAI sandboxes with the demo's failed runs, and print the
    environment that points the real processes (web, worker, beat) at them."""
    from workers.sandbox_stack import serve_sandboxes

    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise typer.BadParameter(f"{webhook_url!r} is no http(s) URL", param_hint="'--webhook-url'")
    raise typer.Exit(
        serve_sandboxes(console, workdir.resolve(), env_file=env_file, webhook_url=webhook_url)
    )


@app.command()
def run(
    restart_delay: Annotated[
        float, typer.Option(help="Seconds before restarting a dead worker.")
    ] = 5.0,
) -> None:
    """Run the service on this machine: one worker with beat, restarted if it dies."""
    config = _config_or_exit()
    settings = config.settings
    if settings.github_token is None and settings.github_app_id is None:
        errors.print(
            "[bold red]configuration error:[/] no GitHub credential: set GITHUB_TOKEN, or "
            "GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY",
            highlight=False,
        )
        raise typer.Exit(EXIT_CONFIG)
    _migrate_or_exit(config)
    embedded = config.settings.embedded
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "workers.app",
        "worker",
        "--beat",
        "--queues",
        "poll,analyze,default,execute,notify",
        "--schedule",
        str(config.settings.data_dir / "celerybeat-schedule"),
        "--loglevel",
        config.settings.log_level,
        # SQLite and the filesystem broker are per machine: threads, not forked children.
        "--pool",
        "threads" if embedded else "prefork",
        "--concurrency",
        "4",
    ]
    config.settings.data_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]ci-remediator[/] running ({'embedded' if embedded else 'scaled'} form)")

    def restarting(code: int) -> None:
        errors.print(f"worker exited with {code}; restarting in {restart_delay:.0f}s")

    code = run_supervised(
        command,
        restart_delay_s=restart_delay,
        config_error_code=EXIT_CONFIG,
        on_restart=restarting,
    )
    raise typer.Exit(code)


def main() -> None:
    app()


@app.command()
def flaky(
    days: Annotated[int, typer.Option(min=1, max=365, help="How far back.")] = 7,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TEXT,
) -> None:
    """The flakiest jobs: how often each failed and then passed on a rerun of the same commit."""
    from datetime import timedelta

    from rich.table import Table

    from ci_remediator.db.flaky_evidence import flakiest_jobs
    from ci_remediator.services import Services

    services = Services(_config_or_exit())
    with services.sessions() as session:
        jobs = flakiest_jobs(session, window=timedelta(days=days))
    if output is OutputFormat.JSON:
        console.print_json(
            json.dumps(
                [
                    {
                        "repository": job.repository,
                        "workflow": job.workflow_name,
                        "job": job.job_name,
                        "flakes": job.flakes,
                        "last_seen": job.last_seen.isoformat(),
                    }
                    for job in jobs
                ]
            )
        )
        return
    table = Table(title=f"Flaky jobs, last {days} days", title_justify="left")
    for column in ("repository", "workflow", "job", "flakes", "last seen"):
        table.add_column(column)
    for job in jobs:
        table.add_row(
            escape(job.repository),
            escape(job.workflow_name),
            escape(job.job_name),
            str(job.flakes),
            f"{job.last_seen:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@breaker_app.command("status")
def breaker_status(
    show_all: Annotated[bool, typer.Option("--all", help="Reset trips too.")] = False,
) -> None:
    """Tripped breakers (organization, when, the success rate that tripped it, reset by)."""
    from rich.table import Table

    from ci_remediator.db.breaker_trips import list_trips
    from ci_remediator.services import Services

    services = Services(_config_or_exit())
    with services.sessions() as session:
        trips = list_trips(session, standing_only=not show_all)
        rows = [
            (
                trip.organization,
                f"{trip.tripped_at:%Y-%m-%d %H:%M}",
                f"{trip.success_rate:.0%} of the last {trip.window}",
                "open" if trip.reset_at is None else f"reset {trip.reset_at:%Y-%m-%d %H:%M}",
                trip.reset_by or "",
            )
            for trip in trips
        ]
    if not rows:
        console.print("no breaker is open: automatic remediation runs where the gate allows it")
        return
    table = Table(title="Circuit breakers", title_justify="left")
    for column in ("organization", "tripped", "success rate", "state", "reset by"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)


@breaker_app.command("reset")
def breaker_reset(
    organization: Annotated[str, typer.Argument(help="The organization (repository owner).")],
    reason: Annotated[str | None, typer.Option(help="Why: kept in the audit trail.")] = None,
) -> None:
    """Close a tripped breaker: automatic remediation resumes, counted afresh. Audited."""
    import getpass

    from ci_remediator.db.breaker_trips import reset_breaker
    from ci_remediator.services import Services

    services = Services(_config_or_exit())
    with services.sessions() as session, session.begin():
        trip = reset_breaker(
            session, organization=organization, reset_by=getpass.getuser(), reason=reason
        )
    if trip is None:
        errors.print(
            f"[bold red]refused:[/] no breaker is open for {escape(organization)}", highlight=False
        )
        raise typer.Exit(1)
    console.print(
        f"breaker for {escape(organization)} reset: automatic remediation resumes", highlight=False
    )


# ------------------------------------------------------------------ audit and metrics ----

EXIT_USAGE = 2  # what click answers a bad option with: scripts tell it from a runtime failure


class AuditFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class MetricsFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


# The audit filter each option sets, for naming the option when the filter is refused.
_AUDIT_OPTIONS = {
    "start_date": "--since",
    "end_date": "--until",
    "action_type": "--type",
    "repository": "--repository",
    "actor": "--actor",
    "failure_id": "--failure",
    "outcome": "--outcome",
    "limit": "--limit",
    "offset": "--offset",
}
_METRICS_OPTIONS = {"since": "--since", "until": "--until", "repository": "--repository"}
# The columns of `audit --format csv`: AuditLogEntry.as_json, `detail` as a JSON string.
_AUDIT_CSV_COLUMNS = (
    "id",
    "at",
    "action_type",
    "actor",
    "action",
    "failure_id",
    "repository",
    "from_state",
    "to_state",
    "outcome",
    "detail",
)


def _usage_error(option: str, problem: str) -> typer.Exit:
    # One line, never wrapped: the option and what is wrong with its value.
    errors.print(
        f"[bold red]error:[/] {option}: {escape(problem)}", highlight=False, soft_wrap=True
    )
    return typer.Exit(EXIT_USAGE)


def _parse_time(option: str, value: str | None) -> datetime | None:
    """ISO 8601, a date or a date and time; without an offset it is UTC."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise _usage_error(
            option, f"{value!r} is not an ISO 8601 date or time (2026-01-31, 2026-01-31T09:30Z)"
        ) from None


def _parse_int(option: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise _usage_error(option, f"{value!r} is not a whole number") from None


def _parse_choice(option: str, value: str, choices: type[StrEnum]) -> str:
    wanted = value.strip().lower()
    if wanted not in {member.value for member in choices}:
        allowed = ", ".join(member.value for member in choices)
        raise _usage_error(option, f"{value!r} is not one of {allowed}")
    return wanted


def _csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: actors, reasons and repository names come from
    outside, and a cell starting with =, +, - or @ would run as a formula (OWASP's advice)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


@app.command("audit")
def audit_command(  # noqa: PLR0917 - one parameter per command-line option
    since: Annotated[
        str | None, typer.Option(metavar="ISO", help="From this time on (UTC unless it says).")
    ] = None,
    until: Annotated[str | None, typer.Option(metavar="ISO", help="Before this time.")] = None,
    action_type: Annotated[
        str | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="detection, analysis, gate_decision, approval, remediation, verification, "
            "rollback, notification or system.",
        ),
    ] = None,
    repository: Annotated[
        str | None, typer.Option(metavar="OWNER/NAME", help="Entries about its failures.")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(metavar="ACTOR", help="Who: exact, or a prefix ending in * ('human:*')."),
    ] = None,
    failure: Annotated[
        str | None, typer.Option(metavar="ID", help="One failure's entries.")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option(metavar="OUTCOME", help="success, failure or partial.")
    ] = None,
    limit: Annotated[str, typer.Option(metavar="N", help="At most this many entries.")] = "100",
    offset: Annotated[str, typer.Option(metavar="N", help="Skip this many first.")] = "0",
    output: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="table, json or csv.")
    ] = AuditFormat.TABLE.value,
) -> None:
    """The audit trail, oldest first: who decided what, when, and how it turned out."""
    from ci_remediator.audit_logger import AuditLogger, FilterError
    from ci_remediator.services import Services

    chosen_format = AuditFormat(_parse_choice("--format", output, AuditFormat))
    filters: dict[str, object] = {
        "start_date": _parse_time("--since", since),
        "end_date": _parse_time("--until", until),
        "action_type": action_type,
        "repository": repository,
        "actor": actor,
        "failure_id": _parse_int("--failure", failure),
        "outcome": outcome,
    }
    page_size, skip = _parse_int("--limit", limit), _parse_int("--offset", offset)
    logger = AuditLogger(Services(_config_or_exit()).sessions)
    try:
        entries = logger.query_logs(filters, limit=page_size or 0, offset=skip or 0)
        total = logger.count_logs(filters) if chosen_format is AuditFormat.TABLE else len(entries)
    except FilterError as error:
        raise _usage_error(_AUDIT_OPTIONS.get(error.key, error.key), error.problem) from error
    if chosen_format is AuditFormat.JSON:
        typer.echo(json.dumps([entry.as_json() for entry in entries], indent=2))
        return
    if chosen_format is AuditFormat.CSV:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(_AUDIT_CSV_COLUMNS)
        for entry in entries:
            document = entry.as_json()
            document["detail"] = json.dumps(document["detail"], sort_keys=True)
            writer.writerow([_csv_cell(document[column]) for column in _AUDIT_CSV_COLUMNS])
        typer.echo(buffer.getvalue(), nl=False)
        return
    _print_audit_table(entries, total=total, offset=skip or 0)


def _print_audit_table(entries: Sequence[AuditLogEntry], *, total: int, offset: int) -> None:
    from rich.table import Table

    if not entries:
        console.print(
            f"no entries past --offset {offset} ({total} match)"
            if total
            else "no audit entries match these filters",
            highlight=False,
        )
        return
    table = Table(title="Audit trail", title_justify="left")
    for column in (
        "at (UTC)",
        "type",
        "actor",
        "what",
        "failure",
        "repository",
        "outcome",
        "detail",
    ):
        table.add_column(column)
    for entry in entries:
        what = (
            f"{entry.from_state} -> {entry.to_state}"
            if entry.action == "transition"
            else entry.action
        )
        detail = json.dumps(entry.detail, sort_keys=True) if entry.detail else ""
        table.add_row(
            f"{entry.at:%Y-%m-%d %H:%M:%S}",
            entry.action_type.value,
            escape(entry.actor),
            escape(what),
            "" if entry.failure_id is None else str(entry.failure_id),
            escape(entry.repository or ""),
            entry.outcome if entry.outcome == "success" else f"[red]{escape(entry.outcome)}[/]",
            escape(detail if len(detail) <= 80 else detail[:79] + "…"),
        )
    console.print(table)
    shown_to = offset + len(entries)
    more = f"; --offset {shown_to} for the next page" if shown_to < total else ""
    console.print(f"entries {offset + 1}-{shown_to} of {total}{more}", highlight=False)


@app.command("metrics")
def metrics_command(
    repository: Annotated[
        str | None, typer.Option(metavar="OWNER/NAME", help="One repository only.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(metavar="ISO", help="From this time on (UTC unless it says).")
    ] = None,
    until: Annotated[str | None, typer.Option(metavar="ISO", help="Before this time.")] = None,
    output: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="table or json.")
    ] = MetricsFormat.TABLE.value,
) -> None:
    """Remediation success rate, time to resolution, risk and category mix, stage latencies
    and model cost, over a window (each figure counts the events that happened in it)."""
    from ci_remediator.audit_logger import FilterError
    from ci_remediator.metrics_tracker import MetricsTracker
    from ci_remediator.services import Services

    chosen_format = MetricsFormat(_parse_choice("--format", output, MetricsFormat))
    start, end = _parse_time("--since", since), _parse_time("--until", until)
    tracker = MetricsTracker(Services(_config_or_exit()).sessions)
    try:
        report = tracker.report(repository, start, end)
    except FilterError as error:
        raise _usage_error(_METRICS_OPTIONS.get(error.key, error.key), error.problem) from error
    if chosen_format is MetricsFormat.JSON:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    _print_metrics_table(report)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f}s"
    if value < 7200:
        return f"{value / 60:.1f}min"
    return f"{value / 3600:.1f}h"


def _print_metrics_table(report: MetricsReport) -> None:
    from rich.table import Table

    window = report.window
    scope = escape(window.repository or "all repositories")
    span = (f"{window.since:%Y-%m-%d %H:%M} " if window.since else "the beginning ") + (
        f"to {window.until:%Y-%m-%d %H:%M} UTC" if window.until else "to now"
    )
    table = Table(title=f"Metrics: {scope}, {span}", title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value")
    outcomes = report.remediations
    rate = outcomes.success_rate
    table.add_row(
        "remediation success rate",
        "-" if rate is None else f"{rate:.1%}",
    )
    table.add_row(
        "remediations finished",
        f"{outcomes.succeeded} succeeded, {outcomes.failed} failed, {outcomes.refused} refused",
    )
    table.add_row(
        "average resolution time",
        f"{_seconds(report.average_resolution_seconds)} ({report.resolved} resolved)",
    )
    for stage in ("detection", "analysis", "remediation"):
        summary: LatencySummary = getattr(report.latency, stage)
        table.add_row(
            f"{stage} latency p50 / p95",
            f"{_seconds(summary.p50)} / {_seconds(summary.p95)} ({summary.count} samples)",
        )
    risks = " ".join(f"{score}:{count}" for score, count in report.risk_scores.items() if count)
    table.add_row("risk scores", risks or "-")
    categories = ", ".join(
        f"{category.value} {count}"
        for category, count in sorted(report.categories.items(), key=lambda item: -item[1])
        if count
    )
    table.add_row("categories", categories or "-")
    usage = report.model_usage
    table.add_row(
        "model usage",
        f"{usage.model_analyses} of {usage.analyses} analyses called a model: "
        f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens, "
        f"${usage.cost_usd:.4f}",
    )
    console.print(table)


if __name__ == "__main__":
    main()
