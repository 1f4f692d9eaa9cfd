"""HTTP-level pieces of the GitHub sandbox: requests and responses as plain values, routes
declared with GitHub's own path templates, error bodies, pagination and conditional requests,
all in the shape GitHub's REST API gives them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import urlencode

__all__ = [
    "Request",
    "Response",
    "Route",
    "conditional",
    "created_matches",
    "error",
    "first",
    "json_response",
    "not_found",
    "paginate",
    "rate_limited",
    "secondary_rate_limited",
    "text_response",
    "validation_failed",
]

_T = TypeVar("_T")

DOCS = "https://docs.github.com/rest"
_RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
_DEFAULT_PER_PAGE = 30
_MAX_PER_PAGE = 100
# A path parameter matches digits unless it can be a name: a workflow is addressed by id or by
# file name, an org by login, and `{owner}/{repo}` is captured whole as `full_name`.
_PARAM_PATTERNS = {
    "full_name": r"[^/]+/[^/]+",
    "workflow_id": r"[^/]+",
    "org": r"[^/]+",
    "branch": r".+",  # branch names may hold slashes
}


@dataclass(frozen=True, slots=True)
class Request:
    """An API request as a route handler sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any] | None:
        """The body as a JSON object; {} when empty; None when it is not a JSON object."""
        if not self.body.strip():
            return {}
        try:
            parsed = json.loads(self.body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    @property
    def token(self) -> str:
        return self.headers.get("authorization", "").split(" ", 1)[-1]


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    counts_against_rate_limit: bool = True


class Route:
    """A method and one of GitHub's path templates (as the OpenAPI description spells it)."""

    def __init__(self, method: str, template: str, handler: Callable[..., Response]) -> None:
        self.method = method
        self.template = template
        pattern = template.replace("{owner}/{repo}", "{full_name}")
        self.regex = re.compile(
            re.sub(
                r"\{(\w+)\}",
                lambda m: f"(?P<{m[1]}>{_PARAM_PATTERNS.get(m[1], r'[0-9]+')})",
                pattern,
            )
        )
        self.handler = handler

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.regex.fullmatch(path)
        return found.groupdict() if found else None


# -- responses ------------------------------------------------------------------------------


def json_response(
    body: Any,
    *,
    status: int = HTTPStatus.OK,
    headers: dict[str, str] | None = None,
    counts: bool = True,
) -> Response:
    payload = json.dumps(body, separators=(",", ":")).encode()
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return Response(status, payload, all_headers, counts)


def text_response(status: int, text: str) -> Response:
    return Response(status, text.encode("utf-8"), {"Content-Type": "text/plain; charset=utf-8"})


def error(
    status: int, message: str, documentation_url: str = DOCS, *, counts: bool = True
) -> Response:
    body = {"message": message, "documentation_url": documentation_url, "status": str(status)}
    return json_response(body, status=status, counts=counts)


def not_found() -> Response:
    return error(HTTPStatus.NOT_FOUND, "Not Found")


def validation_failed(missing: str, documentation_url: str = DOCS) -> Response:
    # GitHub's wording when a required body field or query parameter is absent.
    return error(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        f'Invalid request.\n\n"{missing}" wasn\'t supplied.',
        documentation_url,
    )


def rate_limited() -> Response:
    # GitHub's primary-limit answer; PyGithub recognises it by this message prefix.
    return error(
        HTTPStatus.FORBIDDEN,
        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
        "please include the request ID.",
        _RATE_LIMIT_DOCS,
        counts=False,
    )


def secondary_rate_limited(status: int, request_id: str) -> Response:
    # GitHub's secondary-limit answer (403 or 429); PyGithub recognises the message prefix.
    return error(
        status,
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
        "again. If you reach out to GitHub Support for help, please include the request ID "
        f"{request_id}.",
        f"{_RATE_LIMIT_DOCS}#about-secondary-rate-limits",
    )


def conditional(response: Response, if_none_match: str | None) -> Response:
    """ETag / If-None-Match: a 304 costs no rate budget on GitHub, so pollers can use it.

    The ETag is a hash of the body, so it stays the same while nothing changed and moves as
    soon as a run is added or changes state.
    """
    if response.status != HTTPStatus.OK:
        return response
    etag = 'W/"' + hashlib.sha256(response.body).hexdigest() + '"'
    response.headers["ETag"] = etag
    if if_none_match and if_none_match in (etag, etag.removeprefix("W/")):
        return Response(
            HTTPStatus.NOT_MODIFIED, b"", {"ETag": etag}, counts_against_rate_limit=False
        )
    return response


# -- query parameters -----------------------------------------------------------------------


def first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _page_numbers(query: dict[str, list[str]]) -> tuple[int, int]:
    def as_int(name: str, default: int) -> int:
        try:
            return int(first(query, name) or default)
        except ValueError:
            return default

    per_page = min(max(as_int("per_page", _DEFAULT_PER_PAGE), 1), _MAX_PER_PAGE)
    return max(as_int("page", 1), 1), per_page


def paginate(
    items: list[_T], query: dict[str, list[str]], base_url: str
) -> tuple[list[_T], dict[str, str]]:
    """Slice one page and build GitHub's Link header (prev, next, last, first)."""
    page, per_page = _page_numbers(query)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]

    def link(number: int, rel: str) -> str:
        params = {key: values for key, values in query.items() if key != "page"}
        params["page"] = [str(number)]
        return f'<{base_url}?{urlencode(params, doseq=True)}>; rel="{rel}"'

    rels: list[str] = []
    if page > 1:
        rels.append(link(min(page - 1, last), "prev"))
    if page < last:
        rels += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        rels.append(link(1, "first"))
    return chunk, ({"Link": ", ".join(rels)} if rels else {})


def created_matches(created_at: datetime, expression: str) -> bool:
    """GitHub's `created` search qualifier: >=X, >X, <=X, <X, X..Y (dates or datetimes)."""
    if ".." in expression:
        low, high = expression.split("..", 1)
        return (low == "*" or created_at >= _parse_when(low)) and (
            high == "*" or created_at <= _parse_when(high)
        )
    for operator, test in _CREATED_OPERATORS:
        if expression.startswith(operator):
            return test(created_at, _parse_when(expression[len(operator) :]))
    return created_at.date() == _parse_when(expression).date()


_CREATED_OPERATORS: tuple[tuple[str, Callable[[datetime, datetime], bool]], ...] = (
    (">=", lambda a, b: a >= b),
    ("<=", lambda a, b: a <= b),
    (">", lambda a, b: a > b),
    ("<", lambda a, b: a < b),
)


def _parse_when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
