"""Failure fingerprints: the same error in the same job and workflow hashes the same.

Numbers, hex ids, timestamps, durations and temp paths are normalized away so a failure that
repeats on another commit or runner is recognised and its analysis reused at zero tokens.
"""

from __future__ import annotations

import hashlib
import re

_ERROR_LINE = re.compile(
    r"##\[error\]|\berror\b|\bfailed\b|\bfailure\b|exception|traceback|panic|fatal|"
    r"assert|E\d{3,4}\b|TS\d{4}|exit code",
    re.IGNORECASE,
)
_VOLATILE = (
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?"), "<ts>"),
    (re.compile(r"\b[0-9a-f]{7,64}\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"(/tmp|/var/folders|/home/runner/work/_temp)/\S*"), "<tmp>"),
    (re.compile(r"\b\d+(\.\d+)?\s*(ms|s|sec|seconds|m|min)\b"), "<dur>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
)
MAX_LINES = 40


def normalize_line(line: str) -> str:
    for pattern, replacement in _VOLATILE:
        line = pattern.sub(replacement, line)
    return line.strip()


def failure_fingerprint(excerpts: list[str], *, job_names: list[str], workflow_name: str) -> str:
    error_lines: list[str] = []
    for excerpt in excerpts:
        for line in excerpt.splitlines():
            if _ERROR_LINE.search(line):
                normalized = normalize_line(line)
                if normalized and normalized not in error_lines:
                    error_lines.append(normalized)
    digest = hashlib.sha256()
    for part in (workflow_name, *sorted(job_names), *sorted(error_lines[:MAX_LINES])):
        digest.update(part.encode("utf-8", "replace"))
        digest.update(b"\x00")
    return digest.hexdigest()
