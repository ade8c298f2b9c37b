"""Helpers for the tests that run real Celery workers on real brokers.

Brokers: Redis at REDIS_URL and RabbitMQ at AMQP_URL; the result backend is Redis for both.
Every app gets its own queue and control exchange, so concurrent runs on the shared brokers
never take each other's messages or broadcasts.
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

from .celery_apps.tasks import define_tasks
from .harness import AMQP_URL, REDIS_URL, CeleryWorker

BROKER_URLS = {"redis": REDIS_URL, "amqp": AMQP_URL}
BROKERS = [pytest.param(name, id=name) for name in BROKER_URLS]

ROOT = Path(__file__).resolve().parent.parent


def unique(prefix: str) -> str:
    return f"kd-{prefix}-{uuid.uuid4().hex[:10]}"


def app_conf(broker: str, queue: str) -> dict:
    """The settings tests.celery_apps._env builds from the environment, for in-process apps."""
    return dict(
        broker_url=BROKER_URLS[broker],
        result_backend=REDIS_URL,
        task_default_queue=queue,
        control_exchange=queue + "-control",
        result_expires=600,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )


def worker_env(broker: str, queue: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        KD_BROKER=BROKER_URLS[broker],
        KD_BACKEND=REDIS_URL,
        KD_QUEUE=queue,
        KD_CONTROL_EXCHANGE=queue + "-control",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def make_app(name: str, broker: str, queue: str, *, configure: bool = True, **conf) -> Celery:
    """A producer (or in-process worker) app with the tasks of tests.celery_apps.tasks,
    set up with ``kombu_dash.configure`` unless ``configure=False``."""
    import kombu_dash

    app = Celery(name, set_as_current=False)
    app.conf.update(app_conf(broker, queue))
    app.conf.update(conf)
    if configure:
        # before the tasks are bound: a bound task keeps the task_serializer it saw
        kombu_dash.configure(app)
    define_tasks(app)
    return app


def broker_of(app: Celery) -> str:
    return next(name for name, url in BROKER_URLS.items() if url == app.conf.broker_url)


@contextlib.contextmanager
def in_process_worker(app: Celery, **kwargs):
    """Celery's own embedded test worker (celery.contrib.testing), solo pool, in a thread."""
    from celery import _state
    from celery.contrib.testing.worker import start_worker

    kwargs.setdefault("pool", "solo")
    kwargs.setdefault("shutdown_timeout", 30)
    # start_worker makes this app the process's default and current app: undo that after
    previous = _state.default_app, _state._tls.current_app
    try:
        with start_worker(app, perform_ping_check=False, **kwargs) as worker:
            try:
                yield worker
            finally:
                # What start_worker does on exit, plus a broadcast to wake the event loop:
                # on RabbitMQ, after an eta task, it would otherwise sleep ~10 s first.
                from celery.worker import state

                state.should_terminate = 0
                app.control.broadcast("ping", destination=[worker.hostname], reply=False)
    finally:
        _state.default_app, _state._tls.current_app = previous
        # The worker's kombu Hub stays the process-wide event loop, and the next embedded
        # worker would reuse it with the old worker's timer: on kombu 5.3 its eta/countdown
        # tasks (retries too) then never fire.
        from kombu.asynchronous import set_event_loop

        set_event_loop(None)
        delete_queue(broker_of(app), app.conf.task_default_queue)


@contextlib.contextmanager
def events_received(app: Celery):
    """The events a monitor such as Flower decodes, collected in a thread while the block
    runs (the list fills as they arrive)."""
    import threading
    import traceback

    events: list = []
    receivers: list = []

    def receive():
        try:
            with app.connection_for_read() as conn:
                recv = app.events.Receiver(conn, handlers={"*": events.append})
                receivers.append(recv)
                # one capture for the whole block: its consumer checks should_stop every
                # second. (A loop of short captures re-subscribes each time; on kombu 5.3's
                # Redis transport such a loop received nothing at all.)
                recv.capture(limit=None, timeout=None, wakeup=False)
        except BaseException:  # a dead receiver must not look like a silent worker
            traceback.print_exc()
            raise

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        yield events
    finally:
        for recv in receivers:
            recv.should_stop = True
        thread.join(5)


def delete_queue(broker: str, queue: str) -> None:
    """Remove a test queue from the shared broker (RabbitMQ keeps durable queues forever)."""
    from kombu import Connection

    try:
        with Connection(BROKER_URLS[broker], connect_timeout=5) as conn:
            conn.default_channel.queue_delete(queue)
    except Exception as exc:  # cleanup only: never hide the test's own outcome
        print(f"could not delete queue {queue!r} on {broker}: {exc!r}", file=sys.stderr)


def celery_worker(
    module: str,
    broker: str,
    queue: str,
    logdir: Path,
    *,
    pool: str = "solo",
    concurrency: int = 1,
    extra_args=(),
    env=None,
    ready_timeout: float = 90,
) -> CeleryWorker:
    """A ``celery worker`` for one of tests.celery_apps on ``broker`` ("redis" or "amqp"),
    consuming ``queue`` (deleted from the broker when the worker stops)."""
    return CeleryWorker(
        module,
        queue,
        Path(logdir) / f"{queue}.log",
        pool=pool,
        concurrency=concurrency,
        env=worker_env(broker, queue, **(env or {})),
        extra_args=extra_args,
        ready_timeout=ready_timeout,
        broker=broker,
        on_stop=lambda: delete_queue(broker, queue),
    )


def app_env(**kd) -> dict:
    """Environment for a process running tests.celery_apps.reliability_app: KD_* settings
    (``mode``, ``queue``, ``broker``, ``backend``, ``record``, ``visibility``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update({f"KD_{k.upper()}": str(v) for k, v in kd.items()})
    return env


def reliability_worker(
    name: str, queue: str, log: Path, *, concurrency: int = 2, pool: str = "prefork", **kd
) -> CeleryWorker:
    """A ``celery worker`` on tests.celery_apps.reliability_app (acks late, prefetch one),
    started; its KD_* settings come from ``kd`` (see :func:`app_env`)."""
    worker = CeleryWorker(
        "tests.celery_apps.reliability_app",
        queue,
        log,
        pool=pool,
        concurrency=concurrency,
        name=f"{name}@kd",
        env=app_env(queue=queue, **kd),
    )
    worker.start()
    return worker


def make_signing_material(directory: Path) -> dict:
    """A throwaway RSA key and self-signed certificate for Celery message signing.

    Returns the KD_SECURITY_* environment of tests.celery_apps.signed_app (key file,
    certificate file, and a store directory holding the certificate).
    """
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kombu_dash test signer")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    store = Path(directory) / "store"
    store.mkdir(parents=True)
    key_file, cert_file = Path(directory) / "worker.key", Path(directory) / "worker.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file.write_bytes(cert_pem)
    (store / "worker.pem").write_bytes(cert_pem)
    return {
        "KD_SECURITY_KEY": str(key_file),
        "KD_SECURITY_CERT": str(cert_file),
        "KD_SECURITY_STORE": str(store),
    }


@contextlib.contextmanager
def kombu_registry_restored():
    """``setup_security`` changes kombu's process-wide registry (disables every other
    content type, makes "auth" the default): put it back for the tests that follow."""
    from kombu.serialization import registry

    saved = {k: (v.copy() if isinstance(v, (dict, set)) else v) for k, v in vars(registry).items()}
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(registry, k, v)
