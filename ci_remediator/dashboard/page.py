"""The dashboard's route: who may see it (`access.py`), then the page, read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Response, request

from ci_remediator.dashboard.access import REALM, credentials_match, is_loopback_host
from ci_remediator.dashboard.read import ThreadLink, read_dashboard
from ci_remediator.dashboard.render import CONTENT_SECURITY_POLICY, render_dashboard

if TYPE_CHECKING:
    from ci_remediator.services import Services

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _refused(status: int, message: str, **headers: str) -> Response:
    return Response(message + "\n", status, mimetype="text/plain", headers={**HEADERS, **headers})


def _thread_links(services: Services) -> ThreadLink:
    """Links to Slack threads, the workspace's address asked once for the page (and only when
    Slack is the notifier)."""
    workspace = services.slack_workspace_url()
    if workspace is None:
        return lambda _channel, _ts: None
    from ci_remediator.slack.notifier import thread_permalink

    return lambda channel, ts: thread_permalink(workspace, channel=channel, ts=ts)


def dashboard_view(services: Callable[[], Services]) -> Callable[[], Response]:
    def dashboard() -> Response:
        current = services()
        configured = current.config.settings.dashboard_auth
        if configured is not None:
            if not credentials_match(request.headers.get("Authorization"), configured):
                return _refused(
                    401,
                    "credentials required",
                    **{"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
                )
        elif not is_loopback_host(request.remote_addr or ""):
            # Without DASHBOARD_AUTH the process only starts bound to loopback; this covers a
            # server started some other way (or a forwarded port) all the same.
            return _refused(403, "the dashboard without DASHBOARD_AUTH is for local clients")
        view = read_dashboard(current.sessions, thread_link=_thread_links(current))
        return Response(render_dashboard(view), mimetype="text/html", headers=HEADERS)

    return dashboard
