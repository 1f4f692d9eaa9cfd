"""How the GitHub sandbox answers one API request, in GitHub's order: credentials (missing,
revoked, expired installation tokens), the primary rate budget, scripted errors, then the
route, whose GET answers honour If-None-Match. Every answer carries GitHub's rate-limit and
request-id headers; scripted latency is taken here and slept by the caller, outside the lock.
"""

from __future__ import annotations

import re
import secrets
import time
from http import HTTPStatus

from ci_remediator.sandbox.github.base import RATE_WINDOW_S, SandboxBase
from ci_remediator.sandbox.github.rest import (
    Request,
    Response,
    conditional,
    error,
    json_response,
    not_found,
    rate_limited,
    secondary_rate_limited,
)

__all__ = ["Serving"]


class Serving(SandboxBase):
    """The request pipeline in front of the endpoints (called under the lock)."""

    def _answer_api(self, request: Request) -> Response:
        request_id = secrets.token_hex(8).upper()
        response = self._handle_api(request, request_id)
        if response.counts_against_rate_limit and self._rate_remaining > 0:
            self._rate_remaining -= 1
        response.headers.update(self._rate_headers())
        response.headers.setdefault("X-GitHub-Api-Version-Selected", "2022-11-28")
        response.headers["X-GitHub-Request-Id"] = request_id
        return response

    def _handle_api(self, request: Request, request_id: str) -> Response:
        refused = (
            self._check_auth(request)
            or self._check_rate_budget(request)
            or self._take_injected_error(request, request_id)
        )
        return refused if refused is not None else self._route(request)

    def _route(self, request: Request) -> Response:
        for route in self._routes:
            params = route.match(request.method, request.path)
            if params is None:
                continue
            if not self._token_reaches(request.token, params.get("full_name")):
                return not_found()  # GitHub hides repositories an installation cannot see
            response = route.handler(request, **params)
            if request.method != "GET":
                return response
            return conditional(response, request.headers.get("if-none-match"))
        return not_found()

    def _check_auth(self, request: Request) -> Response | None:
        if not request.headers.get("authorization"):
            return error(HTTPStatus.UNAUTHORIZED, "Requires authentication", counts=False)
        token = request.token
        issued = self._apps.token(token)
        # An installation token is good only if this sandbox issued it and it has not expired.
        dead_installation_token = issued.expired if issued else token.startswith("ghs_")
        if token in self._revoked_tokens or dead_installation_token:
            return error(HTTPStatus.UNAUTHORIZED, "Bad credentials", counts=False)
        return None

    def _token_reaches(self, token: str, full_name: str | None) -> bool:
        issued = self._apps.token(token)
        if issued is None or full_name is None:
            return True
        installation = self._apps.installation(issued.installation_id)
        return installation is not None and installation.covers(full_name)

    def _take_injected_error(self, request: Request, request_id: str) -> Response | None:
        for injected in self._injected:
            if injected.method not in (None, request.method):
                continue
            if not re.fullmatch(injected.path_pattern, request.path):
                continue
            injected.remaining -= 1
            if injected.remaining <= 0:
                self._injected.remove(injected)
            if injected.message is None and injected.status in (403, 429):
                response = secondary_rate_limited(injected.status, request_id)
            else:
                message = injected.message or HTTPStatus(injected.status).phrase
                response = error(injected.status, message)
            if injected.retry_after_s is not None:
                response.headers["Retry-After"] = str(injected.retry_after_s)
            return response
        return None

    def _take_latency(self, method: str, path: str) -> float:
        for latency in reversed(self._latencies):
            if latency.method not in (None, method):
                continue
            if not re.fullmatch(latency.path_pattern, path):
                continue
            if latency.remaining is not None:
                latency.remaining -= 1
                if latency.remaining <= 0:
                    self._latencies.remove(latency)
            return latency.seconds
        return 0.0

    def _check_rate_budget(self, request: Request) -> Response | None:
        if time.time() >= self._rate_reset:
            self._rate_remaining = self._rate_limit
            self._rate_reset = int(time.time()) + RATE_WINDOW_S
        if request.path != "/rate_limit" and self._rate_remaining <= 0:
            return rate_limited()
        return None

    def _rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self._rate_limit),
            "x-ratelimit-remaining": str(self._rate_remaining),
            "x-ratelimit-reset": str(self._rate_reset),
            "x-ratelimit-used": str(self._rate_limit - self._rate_remaining),
            "x-ratelimit-resource": "core",
        }

    def _get_rate_limit(self, request: Request) -> Response:
        core = {
            "limit": self._rate_limit,
            "used": self._rate_limit - self._rate_remaining,
            "remaining": self._rate_remaining,
            "reset": self._rate_reset,
        }
        body = self._payloads.rate_limit(core)
        # GitHub: "Accessing this endpoint does not count against your REST API rate limit."
        return json_response(body, counts=False)
