from __future__ import annotations

import pytest
from celery import Celery

from celeryconfig import QUEUES, ROUTES, TIME_LIMITS, celery_settings
from ci_remediator.config import load_config
from workers.app import UnsafeCeleryConfigError, app, check_reliability


def configured(**overrides: object) -> Celery:
    probe = Celery("probe", set_as_current=False)
    probe.conf.update({**celery_settings(load_config()), **overrides})
    return probe


def test_shipped_settings_pass_the_reliability_check() -> None:
    check_reliability(configured().conf)


def test_short_visibility_timeout_is_refused() -> None:
    probe = configured(broker_transport_options={"visibility_timeout": 300})
    with pytest.raises(UnsafeCeleryConfigError, match="visibility_timeout 300s must exceed"):
        check_reliability(probe.conf)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("task_acks_late", False, "task_acks_late"),
        ("task_reject_on_worker_lost", False, "task_reject_on_worker_lost"),
        ("worker_prefetch_multiplier", 4, "prefetch"),
        ("accept_content", ["json", "pickle"], "json serializer"),
    ],
)
def test_each_unsafe_setting_is_named(setting: str, value: object, message: str) -> None:
    with pytest.raises(UnsafeCeleryConfigError, match=message):
        check_reliability(configured(**{setting: value}).conf)


def test_every_task_has_a_route_a_time_limit_and_an_explicit_name() -> None:
    ours = {name for name in app.tasks if name.startswith("ci_remediator.")}
    assert ours == set(ROUTES) == set(TIME_LIMITS)
    assert set(ROUTES.values()) <= set(QUEUES)
    for soft, hard in TIME_LIMITS.values():
        assert soft < hard


def test_beat_polls_at_the_configured_interval() -> None:
    schedule = celery_settings(load_config())["beat_schedule"]
    assert schedule["poll-repositories"]["schedule"].total_seconds() == 5 * 60
    assert schedule["reconcile"]["task"] == "ci_remediator.reconcile"


def test_the_model_cannot_outlast_the_analyze_tasks_soft_limit() -> None:
    from ci_remediator.services import LLM_MAX_RETRIES, LLM_TIMEOUT_S

    soft_limit, _ = TIME_LIMITS["ci_remediator.analyze"]
    # The client's attempts, twice over (one retry after an unusable answer).
    worst_case = 2 * (1 + LLM_MAX_RETRIES) * LLM_TIMEOUT_S
    assert worst_case < soft_limit
