"""TLS for `rediss://` URLs, one rule for every Redis client: Celery's broker (kombu), the
coordinator behind locks and the GitHub rate budget, and the health check.

Heroku Redis (like other managed Redis behind TLS) presents a self-signed certificate. redis-py
verifies by default and refuses it, so Heroku's documented requirement is
`ssl_cert_reqs=none`; that is the default here for `rediss://`. `REDIS_SSL_CERT_REQS=required`
(with `REDIS_SSL_CA_CERTS` for a private CA) turns verification on. A URL that carries
`ssl_cert_reqs=` (Celery's documented form: `none`/`optional`/`required` or
`CERT_NONE`/`CERT_OPTIONAL`/`CERT_REQUIRED`) or `ssl_ca_certs=` wins over the settings.

The URL is read here once and handed to every client as options, because the clients disagree
about the query: kombu ignores it for Redis (so a URL's `ssl_cert_reqs` would silently not
apply to the broker), and redis-py reads it but knows only the lower-case names.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    import redis

CertReqs = Literal["none", "optional", "required"]
CERT_REQS: dict[str, ssl.VerifyMode] = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}
# The query keys read here (and taken out of the URL before redis-py sees it).
TLS_QUERY_KEYS = ("ssl_cert_reqs", "ssl_ca_certs")


class RedisTlsError(ValueError):
    """A `rediss://` URL whose TLS options cannot be used."""


def is_tls(url: str) -> bool:
    return url.startswith("rediss://")


def parse_cert_reqs(value: str) -> ssl.VerifyMode:
    """`none`, `CERT_NONE`, ... (any case) as the `ssl` constant, or RedisTlsError."""
    key = value.strip().lower().removeprefix("cert_")
    if key not in CERT_REQS:
        raise RedisTlsError(f"ssl_cert_reqs={value!r}: must be none, optional or required")
    return CERT_REQS[key]


def without_tls_query(url: str) -> str:
    """The URL without the query keys this module reads (the rest of the query is kept)."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in TLS_QUERY_KEYS]
    return urlunsplit(parts._replace(query=urlencode(kept)))


@dataclass(frozen=True, slots=True)
class RedisTls:
    """The deployment's TLS choice for `rediss://` (`Settings.redis_tls`).

    `optional` verifies like `required` on a client (Python's `ssl`: in client mode
    CERT_OPTIONAL has the same meaning as CERT_REQUIRED); it is accepted because Celery's
    documentation offers it.
    """

    cert_reqs: CertReqs = "none"
    ca_certs: str | None = None

    def options(self, url: str) -> dict[str, Any] | None:
        """For a `rediss://` URL, the TLS options every client takes (`ssl_cert_reqs` as an
        `ssl` constant, `ssl_ca_certs` when known): Celery's `broker_use_ssl`, redis-py's
        keyword arguments. None for any other URL."""
        if not is_tls(url):
            return None
        query = dict(parse_qsl(urlsplit(url).query))
        given = query.get("ssl_cert_reqs")
        options: dict[str, Any] = {
            "ssl_cert_reqs": parse_cert_reqs(given) if given else CERT_REQS[self.cert_reqs]
        }
        ca_certs = query.get("ssl_ca_certs") or self.ca_certs
        if ca_certs:
            options["ssl_ca_certs"] = ca_certs
        return options

    def client(self, url: str, **kwargs: Any) -> redis.Redis:
        """`redis.Redis.from_url(url, **kwargs)`, with this TLS choice for `rediss://`."""
        import redis

        options = self.options(url)
        if options is not None:
            url = without_tls_query(url)
            kwargs = {**kwargs, **options}
        return redis.Redis.from_url(url, **kwargs)
