"""Test-session environment, set before anything reads the configuration.

Integration tests use the real Postgres and Redis of this machine (defaults below, or
TEST_DATABASE_URL / TEST_REDIS_URL). Redis database 15 keeps test messages apart from anything
else on the server.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ci_remediator.sandbox.scenarios import DEMO_CONFIG

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg2://postgres@localhost:5432/test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://localhost:6379/15")

_workdir = Path(tempfile.mkdtemp(prefix="ci-remediator-tests-"))
_config_file = _workdir / "config.json"
# The demo's policy, with short verification polls so the real worker finishes quickly.
_config_file.write_text(
    json.dumps({**DEMO_CONFIG, "verify_poll_seconds": 0.2, "stuck_after_minutes": 1}),
    encoding="utf-8",
)

os.environ.update(
    {
        "DATABASE_URL": TEST_DATABASE_URL,
        "CELERY_BROKER_URL": TEST_REDIS_URL,
        "CONFIG_FILE": str(_config_file),
        "DATA_DIR": str(_workdir),
        "GITHUB_TOKEN": "ghp_test_token_for_the_sandbox_only",
    }
)
os.environ.pop("REDIS_URL", None)
