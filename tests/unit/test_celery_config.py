from __future__ import annotations

from pathlib import Path

import pytest
from celery import Celery

from celeryconfig import QUEUES
from ci_remediator.config import load_config
from ci_remediator.domain import Step
from workers.app import (
    QUEUE_OF_TASK,
    UnsafeCeleryConfigError,
    app,
    check_reliability,
    deployment_settings,
)
from workers.base import task_name


def configured(**overrides: object) -> Celery:
    """A Celery app with the shipped settings and tasks, plus `overrides`."""
    probe = Celery("probe", set_as_current=False)
    probe.config_from_object("celeryconfig")
    probe.conf.update({**deployment_settings(load_config()), **overrides})
    for name, task in app.tasks.items():
        if name.startswith("ci_remediator."):
            probe.tasks.register(task)
    return probe


def test_shipped_settings_pass_the_reliability_check() -> None:
    check_reliability(configured())


def test_short_visibility_timeout_is_refused() -> None:
    probe = configured(broker_transport_options={"visibility_timeout": 300})
    with pytest.raises(UnsafeCeleryConfigError, match="visibility_timeout 300s must exceed"):
        check_reliability(probe)


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
        check_reliability(configured(**{setting: value}))


def test_every_task_declares_a_known_queue_and_time_limits() -> None:
    ours = [task for name, task in app.tasks.items() if name.startswith("ci_remediator.")]
    assert len(ours) == 13
    for task in ours:
        route = app.amqp.router.route({}, task.name)
        assert route["queue"].name == QUEUE_OF_TASK[task.name], task.name
        assert QUEUE_OF_TASK[task.name] in QUEUES, task.name
        assert task.soft_time_limit < task.time_limit, task.name
        assert task.acks_late, task.name
        assert task.reject_on_worker_lost, task.name


def test_every_step_a_follow_up_can_name_has_its_task() -> None:
    for step in Step:
        assert task_name(step) in app.tasks, step


def test_beat_polls_at_the_configured_interval_and_sends_real_tasks() -> None:
    schedule = deployment_settings(load_config())["beat_schedule"]
    assert schedule["poll-repositories"]["schedule"].total_seconds() == 5 * 60
    for entry in schedule.values():
        assert entry["task"] in app.tasks


def test_an_unknown_queue_is_refused_when_the_task_is_declared() -> None:
    from workers.app import pipeline_task

    with pytest.raises(ValueError, match="unknown queue 'fast'"):
        pipeline_task(name="ci_remediator.nothing", queue="fast", soft_time_limit=1, time_limit=2)


def test_tasks_run_as_this_apps_tasks_in_every_thread() -> None:
    """The thread pool runs `current_app.tasks[name]`: a pool thread must see this app."""
    import threading

    from celery import current_app

    seen: list[str] = []
    thread = threading.Thread(target=lambda: seen.append(current_app.main))
    thread.start()
    thread.join()
    assert seen == [app.main]


def test_importing_the_settings_module_reads_no_configuration() -> None:
    import celeryconfig

    assert not hasattr(celeryconfig, "broker_url")
    assert not hasattr(celeryconfig, "beat_schedule")


def test_the_model_cannot_outlast_the_analyze_tasks_soft_limit() -> None:
    from ci_remediator.services import LLM_MAX_RETRIES, LLM_TIMEOUT_S

    soft_limit = app.tasks["ci_remediator.analyze"].soft_time_limit
    # The client's attempts, twice over (one retry after an unusable answer).
    worst_case = 2 * (1 + LLM_MAX_RETRIES) * LLM_TIMEOUT_S
    assert worst_case < soft_limit


def test_beat_keeps_its_schedule_under_data_dir_whatever_the_working_directory(
    tmp_path: Path,
) -> None:
    config = load_config(env_overrides={"data_dir": tmp_path / "state"})

    filename = deployment_settings(config)["beat_schedule_filename"]

    assert Path(filename) == (tmp_path / "state" / "celerybeat-schedule").resolve()
