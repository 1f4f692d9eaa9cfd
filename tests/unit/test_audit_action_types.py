"""The ActionType mapping covers every audit entry the code writes, and the filters of the
audit and metrics queries refuse bad values by name (no database: these fail before any)."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ci_remediator.audit_logger import FilterError, audit_criteria
from ci_remediator.cli import app
from ci_remediator.db.audit import (
    ACTION_TYPES,
    STAGE_OF_STATE,
    TRANSITION,
    TRANSITION_TYPES,
    ActionType,
    classify_audit,
)
from ci_remediator.domain import ALLOWED_TRANSITIONS, FailureState
from ci_remediator.metrics_tracker import Window, percentile

ROOT = Path(__file__).resolve().parents[2]


def _recorded_actions() -> dict[str, str]:
    """Each `action=` given to `record_audit` in ci_remediator/ and workers/, with where:
    string literals, and module-level string constants passed by name."""
    found: dict[str, str] = {}
    for path in [*(ROOT / "ci_remediator").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name != "record_audit":
                continue
            for keyword in node.keywords:
                if keyword.arg != "action":
                    continue
                value = keyword.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    action = value.value
                elif isinstance(value, ast.Name) and value.id in constants:
                    action = constants[value.id]
                else:  # computed: the writer itself (record_audit's own `action=action`)
                    continue
                found[action] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def test_every_recorded_action_is_classified() -> None:
    recorded = _recorded_actions()
    assert "detected" in recorded  # the scan finds the call sites at all
    assert "time_limit_exceeded" in recorded  # and constants passed by name (workers/base.py)
    missing = {
        action: where
        for action, where in recorded.items()
        if action != TRANSITION and action not in ACTION_TYPES
    }
    assert not missing, f"add these to ACTION_TYPES in ci_remediator/db/audit.py: {missing}"


def test_every_edge_of_the_state_machine_has_a_type() -> None:
    edges = {
        (source.value, target.value)
        for source, targets in ALLOWED_TRANSITIONS.items()
        for target in targets
    }
    assert set(TRANSITION_TYPES) == edges
    non_terminal = {state for state in FailureState if not state.is_terminal}
    assert set(STAGE_OF_STATE) == non_terminal


@pytest.mark.parametrize(
    ("from_state", "to_state", "expected"),
    [
        ("detected", "analyzing", ActionType.ANALYSIS),
        ("analyzing", "analyzed", ActionType.ANALYSIS),
        ("analyzed", "gated", ActionType.GATE_DECISION),
        ("gated", "executing", ActionType.GATE_DECISION),
        ("gated", "awaiting_approval", ActionType.GATE_DECISION),
        ("gated", "escalated", ActionType.GATE_DECISION),
        ("awaiting_approval", "executing", ActionType.APPROVAL),
        ("awaiting_approval", "rejected", ActionType.APPROVAL),
        ("awaiting_approval", "expired", ActionType.APPROVAL),
        ("executing", "verifying", ActionType.REMEDIATION),
        ("executing", "remediation_failed", ActionType.REMEDIATION),
        ("verifying", "resolved", ActionType.VERIFICATION),
        ("verifying", "escalated", ActionType.VERIFICATION),
        ("remediation_failed", "rolled_back", ActionType.ROLLBACK),
        ("remediation_failed", "escalated", ActionType.ROLLBACK),
        ("verifying", "errored", ActionType.SYSTEM),
        ("detected", "errored", ActionType.SYSTEM),
        ("resolved", "analyzing", ActionType.SYSTEM),  # no such edge
    ],
)
def test_transitions_take_the_stage_of_the_state_they_leave(
    from_state: str, to_state: str, expected: ActionType
) -> None:
    assert classify_audit(TRANSITION, from_state, to_state) is expected


def test_an_action_nothing_names_is_system() -> None:
    assert classify_audit("detected", None, "detected") is ActionType.DETECTION
    assert classify_audit("notified", None, None) is ActionType.NOTIFICATION
    assert classify_audit("something_new", None, None) is ActionType.SYSTEM


# ------------------------------------------------------------------------- filters ----


def test_filters_are_converted() -> None:
    plus_two = timezone(timedelta(hours=2))
    criteria = audit_criteria(
        {
            "start_date": datetime(2026, 1, 1, 9, 0),  # noqa: DTZ001 - naive means UTC
            "end_date": datetime(2026, 1, 2, 11, 0, tzinfo=plus_two),
            "action_type": "Gate-Decision",
            "repository": " acme/web ",
            "actor": "human:*",
            "failure_id": 7,
            "outcome": "failure",
        }
    )
    assert criteria.since == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert criteria.until == datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    assert criteria.action_type is ActionType.GATE_DECISION
    assert criteria.repository == "acme/web"
    assert (criteria.actor, criteria.actor_prefix) == (None, "human:")
    assert (criteria.failure_id, criteria.outcome) == (7, "failure")
    assert audit_criteria({"actor": "safety_gate", "repository": None}).actor == "safety_gate"


@pytest.mark.parametrize(
    ("filters", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"start_date": "2026-01-01"}, "start_date"),
        ({"end_date": date(2026, 1, 1)}, "end_date"),
        (
            {"start_date": datetime(2026, 1, 2, tzinfo=UTC), "end_date": datetime(2026, 1, 1)},  # noqa: DTZ001
            "end_date",
        ),
        ({"action_type": "deploy"}, "action_type"),
        ({"action_type": 3}, "action_type"),
        ({"repository": "web"}, "repository"),
        ({"repository": ["acme/web"]}, "repository"),
        ({"actor": ""}, "actor"),
        ({"failure_id": "12"}, "failure_id"),
        ({"failure_id": True}, "failure_id"),
        ({"failure_id": 0}, "failure_id"),
        ({"outcome": 1}, "outcome"),
    ],
)
def test_a_bad_filter_is_named(filters: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=f"^{key}: ") as raised:
        audit_criteria(filters)
    assert isinstance(raised.value, FilterError)
    assert raised.value.key == key


def test_filters_must_be_a_mapping() -> None:
    with pytest.raises(ValueError, match=r"^filters: must be a mapping"):
        audit_criteria([("actor", "x")])  # type: ignore[arg-type]


def test_metrics_window_is_checked() -> None:
    window = Window.checked("acme/web", datetime(2026, 1, 1), None)  # noqa: DTZ001
    assert window.since == datetime(2026, 1, 1, tzinfo=UTC)
    for arguments, key in (
        (("acme", None, None), "repository"),
        ((None, "2026-01-01", None), "since"),
        ((None, datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)), "until"),
    ):
        with pytest.raises(ValueError, match=f"^{key}: "):
            Window.checked(*arguments)


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.5) == 25.0
    assert percentile([10.0, 20.0, 30.0, 40.0, 50.0], 0.95) == pytest.approx(48.0)


# ----------------------------------------------------------------------------- CLI ----


@pytest.mark.parametrize(
    ("arguments", "option"),
    [
        (["audit", "--since", "yesterday"], "--since"),
        (["audit", "--until", "31/01/2026"], "--until"),
        (["audit", "--since", "2026-02-01", "--until", "2026-01-01"], "--until"),
        (["audit", "--type", "deploy"], "--type"),
        (["audit", "--repository", "web"], "--repository"),
        (["audit", "--failure", "twelve"], "--failure"),
        (["audit", "--failure", "0"], "--failure"),
        (["audit", "--limit", "0"], "--limit"),
        (["audit", "--limit", "1000000"], "--limit"),
        (["audit", "--offset", "-1"], "--offset"),
        (["audit", "--format", "xml"], "--format"),
        (["metrics", "--since", "last week"], "--since"),
        (["metrics", "--repository", "acme"], "--repository"),
        (["metrics", "--since", "2026-02-01", "--until", "2026-01-01"], "--until"),
        (["metrics", "--format", "csv"], "--format"),
    ],
)
def test_a_bad_option_is_one_line_naming_it_and_exit_2(arguments: list[str], option: str) -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, arguments)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {option}: "), lines[0]
