"""gunicorn's settings for the web process (`gunicorn --config python:workers.gunicorn_conf`):
only the start check. Where to listen stays on the command line (`--bind`, the Procfile's).

The check reads gunicorn's own final bind list (command line, GUNICORN_CMD_ARGS and its
defaults together), before any socket is opened: without DASHBOARD_AUTH the dashboard may only
be served on loopback addresses, so any other bind stops the start with one line and exit 2.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import ValidationError

from ci_remediator.config import Settings, describe_validation_error
from ci_remediator.dashboard.access import bind_refusal

EXIT_REFUSED = 2


def on_starting(server: Any) -> None:
    """gunicorn's hook, in the master before it listens. `server` is gunicorn's Arbiter."""
    try:
        auth = Settings().dashboard_auth
    except ValidationError as error:
        refusal: str | None = describe_validation_error(error, source="environment")
    else:
        refusal = bind_refusal(server.cfg.bind, dashboard_auth=auth)
    if refusal is not None:
        print(f"ci-remediator web: {refusal}", file=sys.stderr, flush=True)
        sys.exit(EXIT_REFUSED)
