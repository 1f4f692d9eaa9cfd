"""Celery settings, and only settings. Broker and schedule follow ci_remediator's configuration.

Imported lazily by `workers.app` the first time Celery needs its configuration, so the
environment (and `config.json`) of the process is read once, at start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kombu import Queue

from ci_remediator.config import AppConfig, get_config

QUEUES = ("poll", "analyze", "default", "execute", "notify")

# (soft, hard) time limits per task, in seconds. Every limit and every countdown must fit
# inside the broker's visibility timeout, or Redis re-delivers a task that is still running.
TIME_LIMITS: dict[str, tuple[int, int]] = {
    "ci_remediator.poll_repositories": (60, 90),
    "ci_remediator.poll_repository": (240, 300),
    "ci_remediator.analyze": (240, 300),
    "ci_remediator.gate": (30, 60),
    "ci_remediator.request_approval": (30, 60),
    "ci_remediator.execute": (90, 120),
    "ci_remediator.verify": (60, 90),
    "ci_remediator.notify": (30, 60),
    "ci_remediator.reconcile": (120, 180),
}

ROUTES: dict[str, str] = {
    "ci_remediator.poll_repositories": "poll",
    "ci_remediator.poll_repository": "poll",
    "ci_remediator.analyze": "analyze",
    "ci_remediator.gate": "default",
    "ci_remediator.request_approval": "notify",
    "ci_remediator.execute": "execute",
    "ci_remediator.verify": "execute",
    "ci_remediator.notify": "notify",
    "ci_remediator.reconcile": "default",
}

VISIBILITY_TIMEOUT_S = 2 * 60 * 60
MAX_RETRY_BACKOFF_S = 600


def celery_settings(config: AppConfig) -> dict[str, Any]:
    settings = config.settings
    file = config.file
    broker_url = settings.broker_url or "filesystem://"
    if settings.broker_url:
        transport_options: dict[str, Any] = {"visibility_timeout": VISIBILITY_TIMEOUT_S}
    else:
        folder = settings.data_dir.resolve() / "broker"
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # Exchange tables; kombu's default is `control/` in the working directory.
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0.1,
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
        }
    return {
        "broker_url": broker_url,
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": "default",
        "task_queues": [Queue(name, routing_key=name) for name in QUEUES],
        "task_routes": {
            name: {"queue": queue, "routing_key": queue} for name, queue in ROUTES.items()
        },
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "result_backend": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_annotations": {
            name: {"soft_time_limit": soft, "time_limit": hard}
            for name, (soft, hard) in TIME_LIMITS.items()
        },
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": {
            "poll-repositories": {
                "task": "ci_remediator.poll_repositories",
                "schedule": timedelta(minutes=file.polling_interval_minutes),
            },
            "reconcile": {
                "task": "ci_remediator.reconcile",
                "schedule": timedelta(minutes=max(1.0, file.stuck_after_minutes / 3)),
            },
        },
        "ci_remediator_max_countdown_s": max(file.verify_poll_seconds, MAX_RETRY_BACKOFF_S),
    }


globals().update(celery_settings(get_config()))
