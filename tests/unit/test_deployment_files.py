"""docker-compose.yml, the Procfile and .env.example agree, read as files (no Docker engine runs
here; where one does, `docker compose config -q` validates compose itself).

The rules:

- compose runs postgres, redis and one service per Procfile process (`release` included: a
  one-shot service that web, worker and beat wait for, `service_completed_successfully`).
- Each app service's command is its Procfile line, argument for argument. The one
  normalisation: `$VAR` and `${VAR}` are the same reference. Defaults (`${PORT:-8000}`) must be
  the same too. The variables are filled in at different moments (compose interpolates from the
  shell and `.env` at `docker compose` time; a platform's shell at process start from its
  config vars) but from the same place in each setup. Intended differences: none.
- Environment: let E be the keys of .env.example (set or commented out: both document a
  variable). Every Settings field's variable, every key compose's app services set under
  `environment:`, and every `${VAR}` compose or the Procfile references is in E; and every key
  of E is read by something (a Settings field, or a `${VAR}` of the Procfile or compose).
- postgres, redis and web have healthchecks; Postgres keeps its data in a named volume.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ci_remediator.config import Settings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat", "flower")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")


def procfile() -> dict[str, str]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def env_example_keys() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {m.group(1) for line in lines if (m := _ENV_LINE.match(line))}


def references(text: str) -> set[str]:
    return {m.group(1) or m.group(3) for m in _REFERENCE.finditer(text)}


def argv(command: str | list[str]) -> list[str]:
    """The command as its arguments, `$VAR` written `${VAR}` (the same reference)."""
    args = shlex.split(command) if isinstance(command, str) else list(command)
    return [re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", r"${\1}", arg) for arg in args]


def all_strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (*all_strings(key), *all_strings(value))]
    if isinstance(node, list):
        return [s for item in node for s in all_strings(item)]
    return []


def test_compose_runs_every_procfile_process_plus_postgres_and_redis() -> None:
    services = compose()["services"]
    assert set(procfile()) == {"release", *APP_SERVICES}
    assert set(services) == {"postgres", "redis", *procfile()}


@pytest.mark.parametrize("process", [*APP_SERVICES, "release"])
def test_each_service_runs_its_procfile_line(process: str) -> None:
    command = compose()["services"][process]["command"]
    # compose runs no shell: `$$` (an escape for one) would reach the process as `$`.
    assert "$$" not in str(command)
    assert argv(command) == argv(procfile()[process])


def test_release_runs_before_web_worker_and_beat_and_only_once() -> None:
    services = compose()["services"]
    for process in ("web", "worker", "beat"):
        assert services[process]["depends_on"] == {
            "release": {"condition": "service_completed_successfully"}
        }, process
    # A restart policy would run the migrations again after they finished.
    assert "restart" not in services["release"]
    assert services["release"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_app_services_read_the_env_file() -> None:
    services = compose()["services"]
    for process in ("release", *APP_SERVICES):
        assert services[process]["env_file"] == [".env"], process


def test_the_published_ports_are_the_ones_the_commands_listen_on() -> None:
    services = compose()["services"]
    assert services["web"]["ports"] == ["${PORT:-8000}:${PORT:-8000}"]
    assert "0.0.0.0:${PORT:-8000}" in procfile()["web"]
    assert services["flower"]["ports"] == ["${FLOWER_PORT:-5555}:${FLOWER_PORT:-5555}"]
    assert "--port=${FLOWER_PORT:-5555}" in procfile()["flower"]


def test_compose_urls_point_at_its_own_postgres_and_redis() -> None:
    services = compose()["services"]
    postgres = services["postgres"]["environment"]
    for process in ("release", *APP_SERVICES):
        environment = services[process]["environment"]
        database = urlsplit(environment["DATABASE_URL"])
        assert (database.hostname, database.username, database.password) == (
            "postgres",
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
        )
        assert database.path == f"/{postgres['POSTGRES_DB']}"
        assert urlsplit(environment["REDIS_URL"]).hostname == "redis"


def test_every_variable_read_is_in_env_example_and_every_listed_one_is_read() -> None:
    listed = env_example_keys()
    settings = {name.upper() for name in Settings.model_fields}
    services = compose()["services"]
    compose_keys = {
        key for process in ("release", *APP_SERVICES) for key in services[process]["environment"]
    }
    referenced = references((ROOT / "Procfile").read_text()) | {
        name for text in all_strings(compose()) for name in references(text)
    }

    assert settings - listed == set(), "Settings fields missing from .env.example"
    assert compose_keys - listed == set(), "compose environment keys missing from .env.example"
    assert referenced - listed == set(), "${VAR} of the Procfile/compose missing from .env.example"
    assert listed - (settings | referenced) == set(), ".env.example keys nothing reads"


def test_healthchecks_and_named_volumes() -> None:
    config = compose()
    services = config["services"]
    for name in ("postgres", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name
    assert "readyz" in " ".join(services["web"]["healthcheck"]["test"])
    volume, _, target = services["postgres"]["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in config["volumes"], "Postgres data must be on a named volume"
    # Beat's schedule lives under DATA_DIR, on a volume of its own.
    data_dir = services["beat"]["environment"]["DATA_DIR"]
    mounts = dict(reversed(v.split(":")[:2]) for v in services["beat"]["volumes"])
    assert mounts[data_dir] in config["volumes"]
