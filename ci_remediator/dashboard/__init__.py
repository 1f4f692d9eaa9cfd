"""The read-only dashboard at `/` of the web process: failures, approvals and metrics.

`page.dashboard_view` is the route; `access` the rules of who may see it (also read by the
web process's start, so it imports nothing heavy); `read` the data; `render` the HTML.
"""
