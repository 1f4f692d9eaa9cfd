"""The demo's verdict on its own scenario: racing runs of a group are judged as a group."""

from __future__ import annotations

from ci_remediator.domain import FailureState
from ci_remediator.sandbox.scenarios import SLACK_DEMO_RUNS
from workers.demo import ScenarioCheck, _match_groups

STORM = [run for run in SLACK_DEMO_RUNS if run.group == "storm"]


def _checks(outcomes: list[tuple[FailureState, int]]) -> list[ScenarioCheck]:
    return [
        ScenarioCheck(run=run, run_id=n, state=state, reruns=reruns)
        for n, (run, (state, reruns)) in enumerate(zip(STORM, outcomes, strict=True))
    ]


def test_a_group_passes_whichever_of_its_runs_the_cap_stopped() -> None:
    stopped_first = [
        (FailureState.EXPIRED, 0),
        (FailureState.RESOLVED, 1),
        (FailureState.RESOLVED, 1),
    ]
    assert all(check.passed for check in _match_groups(_checks(stopped_first)))


def test_a_group_fails_when_the_cap_stopped_none_of_its_runs() -> None:
    storm_got_through = [(FailureState.RESOLVED, 1)] * 3
    assert not all(check.passed for check in _match_groups(_checks(storm_got_through)))
