from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

import workers.broker
from ci_remediator.config import load_config
from workers.app import deployment_settings


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[Any]:
    queue = tmp_path / "queue"
    queue.mkdir()
    options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }
    with Connection(
        "filesystem://", transport="workers.broker:Transport", transport_options=options
    ) as connection:
        yield connection.default_channel


def test_the_embedded_default_uses_the_whole_message_transport(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = deployment_settings(load_config())
    assert settings["broker_url"] == "filesystem://"
    assert settings["broker_transport"] == "workers.broker:Transport"


def test_a_configured_broker_keeps_its_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://localhost:6379/0")
    assert deployment_settings(load_config())["broker_transport"] is None


def test_a_consumer_polling_during_a_put_sees_no_message_then_the_whole_one(
    channel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # kombu's own _put creates the final file before writing it: a consumer polling in between
    # read zero bytes, failed to decode them, stopped the worker and lost the message.
    seen_mid_put: list[object] = []
    real_replace = os.replace

    def replace_after_a_poll(src: str, dst: str) -> None:
        try:
            seen_mid_put.append(channel._get("poll"))
        except Empty:
            seen_mid_put.append(Empty)
        assert channel._size("poll") == 0
        real_replace(src, dst)

    monkeypatch.setattr(workers.broker.os, "replace", replace_after_a_poll)
    channel._put("poll", {"body": "x" * 10_000})
    assert seen_mid_put == [Empty]
    assert channel._size("poll") == 1
    assert channel._get("poll") == {"body": "x" * 10_000}
    with pytest.raises(Empty):
        channel._get("poll")


def test_a_failed_put_leaves_no_file(channel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(dst)

    monkeypatch.setattr(workers.broker.os, "replace", refuse)
    with pytest.raises(Exception, match="Cannot add file"):
        channel._put("poll", {"body": "x"})
    assert os.listdir(channel.data_folder_out) == []
