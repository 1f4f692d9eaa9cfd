"""The audit trail query on Postgres, over a scripted history with known times: filters,
kinds, paging in a stable order, empty windows, and the `ci-remediator audit` command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from ci_remediator import cli
from ci_remediator.audit_logger import ActionType, AuditLogEntry, AuditLogger
from ci_remediator.config import get_config
from ci_remediator.db.audit import query_audit
from ci_remediator.db.models import AuditEntry, DetectionSource, Failure
from ci_remediator.domain import FailureState

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
T = "transition"
DAY = 86400

# (label, seconds after T0, failure, actor, action, from_state, to_state); the entries in
# FAILED have the outcome "failure", the others "success".
# The entries about no failure come first, so their ids are the lowest while their times are
# the latest: the order is by time, not by id. "f1 gated" and "f1 executing" share a time.
SCRIPT: list[tuple[str, int, str | None, str, str, str | None, str | None]] = [
    ("refused delivery", 2 * DAY, None, "webhook", "delivery_refused", None, None),
    ("breaker reset", 2 * DAY + 3600, None, "human:carol", "breaker_reset", None, None),
    ("credential", 2 * DAY + 7200, None, "github", "credential_disabled", None, None),
    ("mystery", 2 * DAY + 7300, None, "someone", "mystery_action", None, None),
    ("odd edge", 2 * DAY + 7400, None, "someone", T, "resolved", "analyzing"),
    # f1: acme/web, automatic rerun, resolved.
    ("f1 detected", 0, "f1", "detector:poll", "detected", None, "detected"),
    ("f1 analyzing", 5, "f1", "analyzer", T, "detected", "analyzing"),
    ("f1 analyzed", 30, "f1", "analyzer", T, "analyzing", "analyzed"),
    ("f1 gated", 31, "f1", "safety_gate", T, "analyzed", "gated"),
    ("f1 executing", 31, "f1", "safety_gate", T, "gated", "executing"),
    ("f1 verifying", 32, "f1", "executor", T, "executing", "verifying"),
    ("f1 resolved", 600, "f1", "verifier", T, "verifying", "resolved"),
    ("f1 notified", 601, "f1", "notifier", "notified", None, None),
    # f2: acme/web, approved by alice, the rerun failed, nothing to undo: escalated.
    ("f2 detected", 3600, "f2", "detector:webhook", "detected", None, "detected"),
    ("f2 analyzing", 3640, "f2", "analyzer", T, "detected", "analyzing"),
    ("f2 analyzed", 3650, "f2", "analyzer", T, "analyzing", "analyzed"),
    ("f2 gated", 3660, "f2", "safety_gate", T, "analyzed", "gated"),
    ("f2 awaiting", 3661, "f2", "safety_gate", T, "gated", "awaiting_approval"),
    ("f2 requested", 3662, "f2", "approvals", "approval_requested", None, None),
    ("f2 approved", 4800, "f2", "human:alice", T, "awaiting_approval", "executing"),
    ("f2 failed", 4900, "f2", "executor", T, "executing", "remediation_failed"),
    ("f2 escalated", 4901, "f2", "executor", T, "remediation_failed", "escalated"),
    # f3: acme/api, bob was refused, the approval expired.
    ("f3 detected", 86400, "f3", "detector:poll", "detected", None, "detected"),
    ("f3 analyzing", 86410, "f3", "analyzer", T, "detected", "analyzing"),
    ("f3 analyzed", 86420, "f3", "analyzer", T, "analyzing", "analyzed"),
    ("f3 gated", 86421, "f3", "safety_gate", T, "analyzed", "gated"),
    ("f3 awaiting", 86422, "f3", "safety_gate", T, "gated", "awaiting_approval"),
    ("f3 refused", 86500, "f3", "human:bob", "decision_refused", None, None),
    ("f3 expired", 90000, "f3", "approval_timeout", T, "awaiting_approval", "expired"),
    # f4: acme/api, the analysis ran out of retries.
    ("f4 detected", 93600, "f4", "detector:poll", "detected", None, "detected"),
    ("f4 analyzing", 93610, "f4", "analyzer", T, "detected", "analyzing"),
    ("f4 errored", 93700, "f4", "ci_remediator.analyze", T, "analyzing", "errored"),
]  # fmt: skip
FAILED = {"refused delivery", "credential", "f3 refused"}
REPOSITORIES = {"f1": "acme/web", "f2": "acme/web", "f3": "acme/api", "f4": "acme/api"}
IN_TIME_ORDER = [row[0] for row in sorted(SCRIPT, key=lambda row: row[1])]


@dataclass(frozen=True)
class History:
    ids: dict[str, int]  # label -> audit entry id
    failures: dict[str, int]  # "f1" -> failure id

    def labels(self, entries: Sequence[AuditLogEntry]) -> list[str]:
        by_id = {entry_id: label for label, entry_id in self.ids.items()}
        return [by_id[entry.id] for entry in entries]


def write_history(session: Session) -> History:
    failures: dict[str, int] = {}
    for number, (name, repository) in enumerate(REPOSITORIES.items(), start=1):
        failure = Failure(
            repository=repository,
            run_id=1000 + number,
            run_attempt=1,
            workflow_name="CI",
            workflow_id=7,
            event="push",
            head_sha=f"{number:040x}",
            html_url=f"https://github.com/{repository}/actions/runs/{1000 + number}",
            run_created_at=T0 - timedelta(minutes=5),
            detected_at=T0,
            source=DetectionSource.POLL,
            state=FailureState.DETECTED,
        )
        session.add(failure)
        session.flush()
        failures[name] = failure.id
    ids = {}
    for label, seconds, key, actor, action, from_state, to_state in SCRIPT:
        entry = AuditEntry(
            at=T0 + timedelta(seconds=seconds),
            failure_id=failures[key] if key else None,
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=to_state,
            outcome="failure" if label in FAILED else "success",
            detail={"label": label},
        )
        session.add(entry)
        session.flush()  # one at a time: ids in script order
        ids[label] = entry.id
    return History(ids, failures)


@pytest.fixture
def history(db_session: Session) -> History:
    return write_history(db_session)


@pytest.fixture
def logger(db_session: Session) -> AuditLogger:
    """The logger on the test's own connection: it sees the flushed history, and the
    rollback at the end takes everything away."""
    return AuditLogger(
        sessionmaker(bind=db_session.connection(), join_transaction_mode="create_savepoint")
    )


def test_everything_in_time_order_ties_by_id(logger: AuditLogger, history: History) -> None:
    entries = logger.query_logs(limit=1000)
    assert history.labels(entries) == IN_TIME_ORDER
    assert logger.count_logs() == len(SCRIPT)
    assert history.labels(logger.query_logs()) == IN_TIME_ORDER  # default limit 100 covers it


def test_entries_are_typed_and_complete(logger: AuditLogger, history: History) -> None:
    (approved,) = logger.query_logs({"actor": "human:alice"})
    assert approved == AuditLogEntry(
        id=history.ids["f2 approved"],
        at=T0 + timedelta(seconds=4800),
        action_type=ActionType.APPROVAL,
        actor="human:alice",
        action="transition",
        failure_id=history.failures["f2"],
        repository="acme/web",
        from_state="awaiting_approval",
        to_state="executing",
        outcome="success",
        detail={"label": "f2 approved"},
    )
    assert approved.at.tzinfo is UTC
    (reset,) = logger.query_logs({"actor": "human:carol"})
    assert (reset.failure_id, reset.repository, reset.action_type) == (
        None,
        None,
        ActionType.GATE_DECISION,
    )
    assert approved.as_json()["at"] == "2026-03-02T10:20:00+00:00"


EXPECTED_BY_TYPE = {
    ActionType.DETECTION: [
        "f1 detected", "f2 detected", "f3 detected", "f4 detected", "refused delivery",
    ],
    ActionType.ANALYSIS: [
        "f1 analyzing", "f1 analyzed", "f2 analyzing", "f2 analyzed",
        "f3 analyzing", "f3 analyzed", "f4 analyzing",
    ],
    ActionType.GATE_DECISION: [
        "f1 gated", "f1 executing", "f2 gated", "f2 awaiting", "f3 gated", "f3 awaiting",
        "breaker reset",
    ],
    ActionType.APPROVAL: ["f2 requested", "f2 approved", "f3 refused", "f3 expired"],
    ActionType.REMEDIATION: ["f1 verifying", "f2 failed"],
    ActionType.VERIFICATION: ["f1 resolved"],
    ActionType.ROLLBACK: ["f2 escalated"],
    ActionType.NOTIFICATION: ["f1 notified"],
    ActionType.SYSTEM: ["f4 errored", "credential", "mystery", "odd edge"],
}  # fmt: skip


@pytest.mark.parametrize("action_type", list(ActionType))
def test_each_action_type_selects_its_entries(
    logger: AuditLogger, history: History, action_type: ActionType
) -> None:
    entries = logger.query_logs({"action_type": action_type})
    assert history.labels(entries) == EXPECTED_BY_TYPE[action_type]
    assert {entry.action_type for entry in entries} <= {action_type}
    assert logger.count_logs({"action_type": action_type.value}) == len(entries)


def test_the_types_partition_the_trail(logger: AuditLogger, history: History) -> None:
    by_type = [logger.query_logs({"action_type": kind}, limit=1000) for kind in ActionType]
    labels = [label for entries in by_type for label in history.labels(entries)]
    assert sorted(labels) == sorted(IN_TIME_ORDER)


def test_the_window_is_half_open_and_naive_means_utc(logger: AuditLogger, history: History) -> None:
    resolved_at = T0 + timedelta(seconds=600)
    window = {"start_date": resolved_at, "end_date": T0 + timedelta(seconds=3640)}
    assert history.labels(logger.query_logs(window)) == [
        "f1 resolved",
        "f1 notified",
        "f2 detected",
    ]
    naive = {key: value.replace(tzinfo=None) for key, value in window.items()}
    assert logger.query_logs(naive) == logger.query_logs(window)
    plus_two = {
        key: value.astimezone(timezone(timedelta(hours=2))) for key, value in window.items()
    }
    assert logger.query_logs(plus_two) == logger.query_logs(window)
    before = logger.query_logs({"end_date": resolved_at})
    assert history.labels(before)[-1] == "f1 verifying"
    assert history.labels(
        logger.query_logs({"start_date": T0 + timedelta(days=2, seconds=7200)})
    ) == [
        "credential",
        "mystery",
        "odd edge",
    ]


def test_an_empty_window_is_no_error(logger: AuditLogger, history: History) -> None:
    assert logger.query_logs({"start_date": T0, "end_date": T0}) == []
    assert logger.count_logs({"start_date": T0, "end_date": T0}) == 0
    assert logger.query_logs({"start_date": T0 + timedelta(days=30)}) == []
    assert logger.query_logs({"end_date": T0}) == []
    assert logger.query_logs({"repository": "acme/none"}) == []


def test_repository_joins_through_failures(logger: AuditLogger, history: History) -> None:
    web = history.labels(logger.query_logs({"repository": "acme/web"}))
    assert web == [label for label in IN_TIME_ORDER if label[:2] in {"f1", "f2"}]
    assert history.labels(logger.query_logs({"repository": "ACME/Web"})) == web
    api = logger.query_logs({"repository": "acme/api", "action_type": ActionType.APPROVAL})
    assert history.labels(api) == ["f3 refused", "f3 expired"]


def test_actor_failure_and_outcome(logger: AuditLogger, history: History) -> None:
    assert history.labels(
        logger.query_logs({"actor": "safety_gate", "failure_id": history.failures["f2"]})
    ) == [
        "f2 gated",
        "f2 awaiting",
    ]
    assert history.labels(logger.query_logs({"actor": "human:*"})) == [
        "f2 approved",
        "f3 refused",
        "breaker reset",
    ]
    assert logger.query_logs({"actor": "human"}) == []  # exact unless it ends in *
    assert history.labels(logger.query_logs({"outcome": "failure"})) == [
        "f3 refused",
        "refused delivery",
        "credential",
    ]
    assert len(logger.query_logs({"failure_id": history.failures["f4"]})) == 3
    assert logger.query_logs({"failure_id": 10**12}) == []


def test_pages_neither_overlap_nor_skip(logger: AuditLogger, history: History) -> None:
    for size in range(1, 8):
        pages: list[AuditLogEntry] = []
        offset = 0
        while page := logger.query_logs(limit=size, offset=offset):
            assert len(page) <= size
            pages.extend(page)
            offset += size
        assert history.labels(pages) == IN_TIME_ORDER, f"pages of {size}"
    assert logger.query_logs(limit=10, offset=len(SCRIPT)) == []
    filtered = logger.query_logs({"repository": "acme/api"}, limit=4, offset=4)
    assert history.labels(filtered) == ["f3 awaiting", "f3 refused", "f3 expired", "f4 detected"]


@pytest.mark.parametrize(
    ("filters", "paging", "key"),
    [
        ({"since": T0}, {}, "since"),
        ({"start_date": "2026-03-02"}, {}, "start_date"),
        ({"end_date": T0, "start_date": T0 + timedelta(seconds=1)}, {}, "end_date"),
        ({"action_type": "deployment"}, {}, "action_type"),
        ({"repository": "acme"}, {}, "repository"),
        ({"failure_id": "1"}, {}, "failure_id"),
        ({"outcome": ""}, {}, "outcome"),
        ({}, {"limit": 0}, "limit"),
        ({}, {"limit": 10_001}, "limit"),
        ({}, {"offset": -1}, "offset"),
        ({}, {"limit": "10"}, "limit"),
    ],
)
def test_bad_filters_name_the_key(
    logger: AuditLogger, filters: dict[str, object], paging: dict[str, object], key: str
) -> None:
    with pytest.raises(ValueError, match=f"^{key}: "):
        logger.query_logs(filters, **paging)  # type: ignore[arg-type]


def test_query_audit_keeps_its_contract(db_session: Session, history: History) -> None:
    entries = query_audit(db_session, failure_id=history.failures["f1"], action="transition")
    assert [entry.to_state for entry in entries] == [
        "analyzing",
        "analyzed",
        "gated",
        "executing",
        "verifying",
        "resolved",
    ]
    assert len(query_audit(db_session, actor="human:*")) == 0  # exact, as it always was


# ----------------------------------------------------------------------------- CLI ----


@pytest.fixture
def committed_history(committed_db: Engine) -> Iterator[History]:
    """The history committed: the CLI opens its own engine on the test database."""
    get_config.cache_clear()
    with Session(committed_db) as session:
        history = write_history(session)
        session.commit()
    yield history
    get_config.cache_clear()


def _run(*arguments: str) -> tuple[int, str, str]:
    result = CliRunner(env={"COLUMNS": "250"}).invoke(cli.app, ["audit", *arguments])
    return result.exit_code, result.stdout, result.stderr


def test_cli_json_with_filters(committed_history: History) -> None:
    code, out, err = _run("--type", "approval", "--repository", "acme/web", "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert [entry["detail"]["label"] for entry in document] == ["f2 requested", "f2 approved"]
    assert document[1] == {
        "id": committed_history.ids["f2 approved"],
        "at": "2026-03-02T10:20:00+00:00",
        "action_type": "approval",
        "actor": "human:alice",
        "action": "transition",
        "failure_id": committed_history.failures["f2"],
        "repository": "acme/web",
        "from_state": "awaiting_approval",
        "to_state": "executing",
        "outcome": "success",
        "detail": {"label": "f2 approved"},
    }


def test_cli_csv_pages(committed_history: History) -> None:
    code, out, _ = _run(
        "--since", "2026-03-02T09:00:31", "--until", "2026-03-02T12:00:00+02:00",
        "--limit", "2", "--offset", "1", "--format", "csv",
    )  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["action_type"] for row in rows] == ["gate_decision", "remediation"]
    assert [json.loads(row["detail"])["label"] for row in rows] == ["f1 executing", "f1 verifying"]
    assert rows[0]["at"] == "2026-03-02T09:00:31+00:00"


def test_cli_table_says_where_the_page_is(committed_history: History) -> None:
    code, out, _ = _run("--actor", "human:*", "--limit", "2")
    assert code == 0
    assert "human:alice" in out
    assert "human:bob" in out
    assert "human:carol" not in out
    assert "entries 1-2 of 3; --offset 2 for the next page" in out
    code, out, _ = _run("--outcome", "failure", "--since", "2030-01-01")
    assert code == 0
    assert "no audit entries match these filters" in out
    code, out, _ = _run("--actor", "human:*", "--offset", "3")
    assert code == 0
    assert "no entries past --offset 3 (3 match)" in out


def test_cli_empty_csv_has_its_header(committed_history: History) -> None:
    code, out, _ = _run("--failure", "999999", "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "id,at,action_type,actor,action,failure_id,repository,from_state,to_state,outcome,detail"
    ]


def test_cli_bad_value_is_one_line(committed_history: History) -> None:
    code, out, err = _run("--type", "deploy")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: --type: must be one of detection, analysis, gate_decision, approval, "
        "remediation, verification, rollback, notification, system; got 'deploy'"
    ]
