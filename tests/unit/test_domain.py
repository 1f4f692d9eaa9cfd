from __future__ import annotations

import pytest

from ci_remediator.domain import (
    ALLOWED_TRANSITIONS,
    TERMINAL_STATES,
    ActionKind,
    AnalysisResult,
    Category,
    FailureState,
)


def test_terminal_states_are_exactly_the_design_ones() -> None:
    assert {state.value for state in TERMINAL_STATES} == {
        "resolved",
        "rolled_back",
        "rejected",
        "expired",
        "escalated",
        "errored",
    }


def test_every_non_terminal_state_can_error() -> None:
    for state, targets in ALLOWED_TRANSITIONS.items():
        if state not in TERMINAL_STATES:
            assert FailureState.ERRORED in targets


def test_every_state_is_reachable_from_detected() -> None:
    seen, frontier = {FailureState.DETECTED}, [FailureState.DETECTED]
    while frontier:
        for target in ALLOWED_TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(FailureState)


@pytest.mark.parametrize(("risk", "confidence"), [(-1, 0.5), (11, 0.5), (5, 1.5), (5, -0.1)])
def test_analysis_rejects_out_of_range_scores(risk: int, confidence: float) -> None:
    with pytest.raises(ValueError, match="must be within"):
        AnalysisResult(
            category=Category.UNKNOWN,
            risk_score=risk,
            confidence=confidence,
            flaky=False,
            summary="",
            root_cause="",
            proposed_action=ActionKind.NONE,
            analyzer="rules",
        )
