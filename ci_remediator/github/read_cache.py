"""What the gateway last read at a URL, with its ETag, so the next read can be conditional.

GitHub answers a conditional GET whose resource has not changed with 304 Not Modified, which
costs no primary rate budget. The pipeline reads the same things twice in quick succession
(analysis, then the execute step's re-check a few seconds later; verify's polls of an attempt
still running), so a cache every worker shares turns most of those second reads into 304s.

Only the fields the gateway's values are built from are kept (`values.*_fields`), never a
whole response: no commit message or other free text lands in Redis, only what the failure
rows in Postgres hold anyway. Entries expire after `ttl_s` (or the `keep_s` a read asks for:
a repository's environments, which change rarely); a missing or unreadable entry is a plain
unconditional read, never an error. A long-kept entry is never stale: every read of it is
conditional, and GitHub answers anew when the resource changed.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any, Protocol

import redis

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 600
# Larger projections are not worth a Redis round trip (a jobs page of a huge matrix).
MAX_ENTRY_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class CachedRead:
    etag: str
    data: Any  # the projected fields, JSON-serialisable
    next_url: str | None = None


class ReadCache(Protocol):
    def get(self, key: str) -> CachedRead | None: ...

    def put(self, key: str, read: CachedRead, *, keep_s: int | None = None) -> None: ...


def _encode(read: CachedRead) -> bytes | None:
    encoded = json.dumps(
        {"etag": read.etag, "data": read.data, "next": read.next_url}, separators=(",", ":")
    ).encode()
    return encoded if len(encoded) <= MAX_ENTRY_BYTES else None


def _decode(raw: bytes) -> CachedRead | None:
    try:
        entry = json.loads(raw)
        return CachedRead(str(entry["etag"]), entry["data"], entry.get("next"))
    except (ValueError, KeyError, TypeError):
        return None


class RedisReadCache:
    """Shared by every worker of the deployment (the broker's Redis)."""

    def __init__(self, client: redis.Redis, *, prefix: str, ttl_s: int = DEFAULT_TTL_S) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_s = ttl_s

    def get(self, key: str) -> CachedRead | None:
        try:
            raw = self._redis.get(f"{self._prefix}:{key}")
        except redis.RedisError as error:
            log.warning("read cache unavailable, reading unconditionally: %s", error)
            return None
        return _decode(raw) if isinstance(raw, bytes) else None

    def put(self, key: str, read: CachedRead, *, keep_s: int | None = None) -> None:
        """Kept `keep_s` seconds (the cache's TTL unless given)."""
        encoded = _encode(read)
        if encoded is None:
            return
        try:
            self._redis.set(f"{self._prefix}:{key}", encoded, ex=keep_s or self._ttl_s)
        except redis.RedisError as error:
            log.warning("read cache unavailable, not kept: %s", error)


class MemoryReadCache:
    """One process's cache (the embedded mode, which has no Redis): the newest `max_entries`."""

    def __init__(self, max_entries: int = 1024) -> None:
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._max_entries = max_entries
        self._lock = Lock()

    def get(self, key: str) -> CachedRead | None:
        with self._lock:
            raw = self._entries.get(key)
            if raw is not None:
                self._entries.move_to_end(key)
        return _decode(raw) if raw is not None else None

    def put(self, key: str, read: CachedRead, *, keep_s: int | None = None) -> None:
        # Entries leave by age of use (LRU), whatever `keep_s` says.
        encoded = _encode(read)
        if encoded is None:
            return
        with self._lock:
            self._entries[key] = encoded
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
