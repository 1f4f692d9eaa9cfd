"""Celery settings, and only settings: constants, no environment, no side effects at import.

What depends on the deployment (the broker URL, the beat intervals from `config.json`) is
added by `workers.app` from ci-remediator's configuration when Celery first needs it. Each
task's queue and time limits are declared on its decorator (`workers/tasks.py`).
"""

from __future__ import annotations

from kombu import Queue

QUEUES = ("poll", "analyze", "default", "execute", "notify")

# Every task time limit plus the longest countdown must fit inside the broker's visibility
# timeout, or Redis re-delivers a task that is still running (checked at worker start).
VISIBILITY_TIMEOUT_S = 2 * 60 * 60
MAX_RETRY_BACKOFF_S = 600

task_default_queue = "default"
task_queues = [Queue(name, routing_key=name) for name in QUEUES]
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
task_ignore_result = True
result_backend = None
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_hijack_root_logger = False
broker_connection_retry_on_startup = True
timezone = "UTC"
enable_utc = True
