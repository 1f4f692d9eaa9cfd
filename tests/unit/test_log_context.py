"""Every line the processes log is redacted, in both formats, exceptions included."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from ci_remediator.log_context import bind_log_context, configure_logging

_TOKEN = "ghp_" + "Zq3xR8vL2mN7pK4wT9yB6cD1eF5gH0jA2sL4"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_lines_and_tracebacks_are_redacted(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", fmt)
    log = logging.getLogger("ci_remediator.test")
    with bind_log_context(failure_id=7):
        log.warning("GitHub answered 401 for token %s", _TOKEN)
        try:
            raise RuntimeError(f"push with {_TOKEN} refused")
        except RuntimeError:
            log.exception("rerun failed")
    written = capsys.readouterr().err
    assert _TOKEN not in written
    assert written.count("[REDACTED:github_token]") == 2  # the message, the exception's
    assert "failure_id" in written
