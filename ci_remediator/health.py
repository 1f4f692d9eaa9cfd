"""What `/healthz` and `/readyz` report: the database and its schema, the broker, Slack, and
how long ago a poll last succeeded.

- `/readyz` (can this process serve?): 200 when the database answers at the schema this code
  needs and the broker answers a ping; 503 naming what is wrong otherwise.
- `/healthz` (is the service doing its job?): `unhealthy` (503) when the database is
  unreachable or not at head, or the broker does not answer (no task can be sent or run);
  `degraded` (200) when Slack refused the bot token, or no poll succeeded for
  `POLL_STALE_INTERVALS` poll intervals (detection rests on webhooks alone: beat or the poll
  workers are stuck, the GitHub credential was refused or its budget is spent). Degraded is
  still 200: the web process itself works and still records webhook deliveries, so a load
  balancer must not take it away for a fault elsewhere.

A poll succeeds when `poll_repository` commits (`monitored_repositories.last_polled_at`); the
newest of those is the last poll. Polls of one cycle are spread over its interval, so the
newest is at most about one interval old while polling works. Before any poll succeeded
(`last_poll_age_s` null), a process up for longer than the stale limit is degraded too; one
just started is not (beat polls as it starts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import func, select, text

from ci_remediator.db.base import utcnow
from ci_remediator.db.migrate import current_revision
from ci_remediator.db.models import MonitoredRepository
from ci_remediator.db.refused_credentials import credential_disabled
from ci_remediator.redis_tls import RedisTls
from ci_remediator.services import Services

BROKER_TIMEOUT_S = 1.0
POLL_STALE_INTERVALS = 3

Answer = tuple[dict[str, Any], int]


@dataclass(frozen=True, slots=True)
class DatabaseCheck:
    problem: dict[str, str] | None = None  # {"database": ...} or {"schema": ...}
    slack_refused: bool = False
    last_poll_at: datetime | None = None


def check_database(services: Services, *, schema_head: str | None) -> DatabaseCheck:
    try:
        with services.sessions() as session:
            session.execute(text("SELECT 1"))
            at = current_revision(session.connection())
            if at != schema_head:
                # Every write would fail: say so before a webhook finds out.
                return DatabaseCheck(
                    {
                        "schema": f"at {at}, code needs {schema_head}"
                        " (run `ci-remediator db upgrade`)"
                    }
                )
            slack = services.notifier_credential
            refused = slack is not None and credential_disabled(session, slack)
            last_poll = session.scalar(
                select(func.max(MonitoredRepository.last_polled_at)).where(
                    MonitoredRepository.enabled
                )
            )
    except Exception as error:  # noqa: BLE001 - health reports any fault as unhealthy
        return DatabaseCheck({"database": type(error).__name__})
    return DatabaseCheck(slack_refused=refused, last_poll_at=last_poll)


def check_broker(url: str | None, *, tls: RedisTls | None = None) -> str | None:
    """None when the broker answers a ping within BROKER_TIMEOUT_S (or is the embedded one,
    which lives in the workers' folder), else what went wrong. `tls`: the deployment's choice
    for a `rediss://` URL, the same the workers connect with."""
    if url is None or not url.startswith(("redis://", "rediss://")):
        return None
    client = (tls or RedisTls()).client(
        url, socket_timeout=BROKER_TIMEOUT_S, socket_connect_timeout=BROKER_TIMEOUT_S
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return f"{type(error).__name__}: no answer to PING"
    finally:
        client.close()
    return None


def broker_field(services: Services, problem: str | None) -> str:
    if problem is not None:
        return problem
    return "ok" if services.config.settings.broker_url else "embedded"


def readiness(services: Services, *, schema_head: str | None) -> Answer:
    database = check_database(services, schema_head=schema_head)
    broker = check_broker(
        services.config.settings.broker_url, tls=services.config.settings.redis_tls
    )
    if database.problem is None and broker is None:
        return {"status": "ready"}, 200
    body: dict[str, Any] = {"status": "not ready", **(database.problem or {})}
    if broker is not None:
        body["broker"] = broker
    return body, 503


def health(services: Services, *, schema_head: str | None, started_at: float) -> Answer:
    """`started_at` is this process's `time.monotonic()` when the app was made."""
    database = check_database(services, schema_head=schema_head)
    if database.problem is not None:
        return {"status": "unhealthy", **database.problem}, 503
    broker = check_broker(
        services.config.settings.broker_url, tls=services.config.settings.redis_tls
    )
    body: dict[str, Any] = {"status": "ok", "broker": broker_field(services, broker)}
    if broker is not None:
        body["status"] = "unhealthy"
        return body, 503
    file = services.config.file
    stale_after_s = POLL_STALE_INTERVALS * file.polling_interval_minutes * 60
    age = (
        None
        if database.last_poll_at is None
        else round(max(0.0, (utcnow() - database.last_poll_at).total_seconds()), 1)
    )
    body["last_poll_age_s"] = age
    polling = bool(services.config.repositories or file.organizations)
    if polling and (
        (age is not None and age > stale_after_s)
        or (age is None and time.monotonic() - started_at > stale_after_s)
    ):
        body["status"] = "degraded"
        body["poll"] = f"no poll succeeded for over {stale_after_s:.0f} s"
    if database.slack_refused:
        # Remediation goes on; people are not being told. Degraded, not down.
        body["status"] = "degraded"
        body["slack"] = "the bot token was refused"
    return body, 200
