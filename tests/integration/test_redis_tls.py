"""`rediss://` as Heroku Redis serves it: TLS with a self-signed certificate, on a real
redis-server of this module's own (spare port, certificate made by openssl in a temporary
folder). Every Redis client of ours connects with the deployment's TLS choice: the Celery
broker (a real worker subprocess runs a task sent over TLS and answers a control ping), the
coordinator behind locks and the GitHub rate budget, and the health check."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from celery import Celery
from kombu import Connection
from sqlalchemy import Engine

from ci_remediator.config import load_config
from ci_remediator.coordination import RedisCoordinator
from ci_remediator.health import check_broker
from ci_remediator.redis_tls import RedisTls
from ci_remediator.services import Services
from tests.conftest import TEST_DATABASE_URL
from tests.integration.conftest import wait_until
from tests.integration.test_health import health
from workers.app import deployment_settings

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class TlsRedis:
    port: int
    ca_file: Path

    def url(self, db: int = 0, query: str = "") -> str:
        return f"rediss://127.0.0.1:{self.port}/{db}" + (f"?{query}" if query else "")


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    binary, openssl = shutil.which("redis-server"), shutil.which("openssl")
    if binary is None or openssl is None:
        pytest.fail("redis-server and openssl are needed (apt-get install redis-server openssl)")
    folder = tmp_path_factory.mktemp("tls-redis")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 - fixed argv
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            binary,
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            str(cert),
            "--tls-key-file",
            str(key),
            "--tls-ca-cert-file",
            str(cert),
            "--tls-auth-clients",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=(folder / "redis.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        tls = TlsRedis(port, cert)
        client = RedisTls().client(tls.url())
        started = wait_until(lambda: server.poll() is not None or _answers(client), timeout_s=20)
        client.close()
        said = (folder / "redis.log").read_text(errors="replace")
        if server.poll() is not None and "tls" in said.lower():
            pytest.fail(f"{binary} has no TLS support (built without BUILD_TLS): {said[-300:]}")
        assert started, f"the TLS redis-server did not start: {said[-300:]}"
        yield tls
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_redis_py_alone_refuses_the_self_signed_certificate(tls_redis: TlsRedis) -> None:
    # The problem: what any client does with a bare rediss:// URL of Heroku Redis.
    client = redis.Redis.from_url(tls_redis.url(), socket_connect_timeout=5)
    with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
        client.ping()


def test_the_health_check_connects_with_the_default_and_verifies_when_told(
    tls_redis: TlsRedis,
) -> None:
    assert check_broker(tls_redis.url(), tls=RedisTls()) is None
    # Verification on: the self-signed certificate is refused unless its CA is given.
    refused = check_broker(tls_redis.url(), tls=RedisTls("required"))
    assert refused is not None
    assert refused.startswith("ConnectionError")
    assert check_broker(tls_redis.url(), tls=RedisTls("required", str(tls_redis.ca_file))) is None
    # The URL's own ssl_cert_reqs (Celery's spelling) wins over the setting.
    assert (
        check_broker(tls_redis.url(query="ssl_cert_reqs=CERT_NONE"), tls=RedisTls("required"))
        is None
    )
    assert check_broker(tls_redis.url(query="ssl_cert_reqs=CERT_REQUIRED")) is not None


def test_healthz_is_green_on_a_rediss_broker(engine: Engine, tls_redis: TlsRedis) -> None:
    status, body = health(TEST_DATABASE_URL, celery_broker_url=tls_redis.url(3))
    assert (status, body["broker"]) == (200, "ok")
    status, body = health(
        TEST_DATABASE_URL, celery_broker_url=tls_redis.url(3), redis_ssl_cert_reqs="required"
    )
    assert status == 503
    assert body["broker"].startswith("ConnectionError")


def test_the_coordinator_of_a_rediss_deployment_takes_locks_and_rate_slots(
    tls_redis: TlsRedis,
) -> None:
    services = Services(load_config(env_overrides={"celery_broker_url": tls_redis.url(4)}))
    coordinator = services.coordinator
    # Its keys are on the TLS server (not the test session's plain Redis).
    assert isinstance(coordinator, RedisCoordinator)
    token = coordinator.try_lock("tls-probe", ttl_s=30)
    assert token is not None
    assert coordinator.try_lock("tls-probe", ttl_s=30) is None
    coordinator.release("tls-probe", token)
    assert coordinator.incr("tls-probe", window_s=60) == 1
    assert coordinator.reserve_slot("tls-probe", interval_s=0.1, burst=1, max_wait_s=5) == 0.0
    coordinator.push_back("tls-probe", 2_000_000_000.0)
    assert coordinator.moment("tls-probe") == 2_000_000_000.0
    assert RedisTls().client(tls_redis.url(4)).exists("ci-remediator:moment:tls-probe") == 1


def tls_celery(broker_url: str, monkeypatch: pytest.MonkeyPatch) -> Celery:
    """A producer configured exactly as the product's app is, from a rediss:// REDIS_URL (as
    Heroku sets it). Celery reads CELERY_BROKER_URL from the environment before its own
    settings, so the test session's plain-Redis value is taken away first."""
    monkeypatch.delenv("CELERY_BROKER_URL")
    monkeypatch.setenv("REDIS_URL", broker_url)
    probe = Celery("tls-probe", set_as_current=False)
    probe.config_from_object("celeryconfig")
    probe.conf.update(deployment_settings(load_config()))
    return probe


def test_a_message_round_trips_through_the_rediss_broker(
    tls_redis: TlsRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = tls_celery(tls_redis.url(5), monkeypatch)
    assert probe.conf.broker_url == tls_redis.url(5)
    assert probe.conf.broker_use_ssl is not None
    with probe.connection_for_write() as connection:
        assert isinstance(connection, Connection)
        queue = connection.SimpleQueue("tls-round-trip")
        queue.put({"hello": "tls"})
        message = queue.get(timeout=10)
        message.ack()
        queue.close()
    assert message.payload == {"hello": "tls"}


def test_a_real_worker_runs_a_task_sent_over_rediss(
    engine: Engine, tls_redis: TlsRedis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broker_url = tls_redis.url(6)
    RedisTls().client(broker_url).flushdb()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CELERY_")},
        "REDIS_URL": broker_url,
        "DATABASE_URL": TEST_DATABASE_URL,
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(  # noqa: S603 - fixed argv
            [
                str(BIN / "celery"),
                "-A",
                "workers.app",
                "worker",
                "--pool",
                "solo",
                "--queues",
                "default",
                "--hostname",
                f"tls-probe-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        probe = tls_celery(broker_url, monkeypatch)
        # A control round trip: the worker consumes its pidbox and replies, both over TLS.
        assert wait_until(lambda: bool(probe.control.ping(timeout=1.0)), timeout_s=60), (
            log.read_text(errors="replace")
        )
        sent = probe.send_task("ci_remediator.reconcile", queue="default")
        assert wait_until(
            lambda: f"ci_remediator.reconcile[{sent.id}] succeeded" in log.read_text(), timeout_s=60
        ), log.read_text(errors="replace")
        # kombu's own fallback for a rediss:// URL without options did not have to step in.
        assert "no ssl options" not in log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
