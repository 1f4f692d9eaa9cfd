"""The dashboard as one HTML page: Jinja2 with autoescape on for every value, no script, no
asset from elsewhere (styles inline, charts inline SVG)."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from ci_remediator.dashboard.read import DashboardView, format_duration

# The page's Content-Security-Policy: no script may run at all, nothing is fetched from
# anywhere, and no other site may frame it. Inline styles are its only exception.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("ci_remediator.dashboard", "templates"),
        # Every value is escaped, whatever the template's name: names and summaries come from
        # GitHub, logs and the model.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["duration"] = format_duration
    environment.filters["utc"] = _utc
    return environment


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render_dashboard(view: DashboardView) -> str:
    return _environment().get_template("dashboard.html").render(view=view)
