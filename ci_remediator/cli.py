"""The `ci-remediator` command.

The CLI is a composition root: it may start workers (imported lazily), while the rest of
`ci_remediator` stays free of Celery.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import typer
from rich.console import Console

from ci_remediator.config import ConfigError, get_config, masked_view

app = typer.Typer(
    help="Watch GitHub Actions failures and fix what is provably safe to fix.",
    no_args_is_help=True,
    add_completion=False,
)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")

console = Console()
errors = Console(stderr=True)

EXIT_CONFIG = 2


def _config_or_exit():
    try:
        return get_config()
    except ConfigError as error:
        errors.print(f"[bold red]configuration error:[/] {error}", highlight=False)
        raise typer.Exit(EXIT_CONFIG) from error


@config_app.command("check")
def config_check() -> None:
    """Print the resolved configuration (secrets masked), or name the bad key and exit 2."""
    config = _config_or_exit()
    console.print_json(json.dumps(masked_view(config)))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to head (the Procfile's release step)."""
    from ci_remediator.db import migrate

    config = _config_or_exit()
    migrate.upgrade(config.settings.sqlalchemy_url)
    console.print("database is at the latest revision")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models have changes no migration captures."""
    from ci_remediator.db import migrate

    migrate.check(_config_or_exit().settings.sqlalchemy_url)
    console.print("models and migrations agree")


@app.command()
def demo(timeout: float = typer.Option(50.0, help="Seconds to wait for the pipeline.")) -> None:
    """Run the pipeline end to end on the embedded default against the GitHub sandbox."""
    from workers.demo import run_demo

    raise typer.Exit(run_demo(console, timeout_s=timeout))


@app.command()
def run(
    restart_delay: float = typer.Option(5.0, help="Seconds before restarting a dead worker."),
) -> None:
    """Run the service on this machine: one worker with beat, restarted if it dies."""
    from ci_remediator.db import migrate

    config = _config_or_exit()
    migrate.upgrade(config.settings.sqlalchemy_url)
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
    while True:
        started = time.monotonic()
        code = subprocess.call(command, env=os.environ.copy())  # noqa: S603 - fixed argv
        if code == 0:
            raise typer.Exit(0)
        errors.print(f"worker exited with {code}; restarting in {restart_delay:.0f}s")
        # A worker that dies at once every time is a configuration problem, not a blip.
        if time.monotonic() - started < 2 and code == EXIT_CONFIG:
            raise typer.Exit(code)
        time.sleep(restart_delay)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
