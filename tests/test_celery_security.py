"""kombu_dash composes with Celery's own protections, through real ``celery worker`` processes:

* message signing: ``app.setup_security(serializer="kombu_dash")`` signs the kombu_dash
  bytes ("auth" serializer); the worker (tests.celery_apps.signed_app) accepts only signed
  messages and its results are signed too;
* compression on top of signing (kombu compresses the signed body).

Compression of plain kombu_dash messages is in test_celery_roundtrip.
"""

from __future__ import annotations

import pytest
import redis
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from celery import Celery
from celery.security.certificate import FSCertStore
from celery.security.serialization import SecureSerializer

import kombu_dash

from ._celery_support import (
    BROKER_URLS,
    BROKERS,
    REDIS_URL,
    app_conf,
    celery_worker,
    kombu_registry_restored,
    make_app,
    make_signing_material,
    unique,
)
from .celery_apps.tasks import define_tasks, type_name
from .harness import same, wait_for

pytestmark = [
    pytest.mark.broker,
    pytest.mark.timeout(180),
    # Celery 5.3's certificate check reads cryptography's deprecated naive-datetime property
    pytest.mark.filterwarnings(
        "ignore:Properties that return a na:cryptography.utils.CryptographyDeprecationWarning"
    ),
    pytest.mark.usefixtures("celery_result_consumer_fix"),
]

TIMEOUT = 30


@pytest.fixture(scope="module")
def signing(tmp_path_factory):
    return make_signing_material(tmp_path_factory.mktemp("signing"))


def fleet_workers(logdir, request):
    """For conftest's ``fleet``: signed_app on both brokers, with this module's signing key."""
    signing = request.getfixturevalue("signing")
    return {
        broker: celery_worker(
            "tests.celery_apps.signed_app", broker, unique(f"signed-{broker}"), logdir, env=signing
        )
        for broker in BROKER_URLS
    }


@pytest.fixture(scope="module")
def signed_producers(fleet, signing):
    """Producers set up like signed_app, in this process (setup_security is process-wide)."""
    with kombu_registry_restored():
        apps = {}
        for broker, worker in fleet.items():
            app = Celery(f"kd_signed_producer_{broker}", set_as_current=False)
            app.conf.update(app_conf(broker, worker.queue))
            app.conf.update(
                security_key=signing["KD_SECURITY_KEY"],
                security_certificate=signing["KD_SECURITY_CERT"],
                security_cert_store=signing["KD_SECURITY_STORE"],
                task_serializer="auth",
                result_serializer="auth",
                event_serializer="auth",
                accept_content=["auth"],
                result_accept_content=["auth"],
            )
            app.setup_security(serializer="kombu_dash")
            define_tasks(app)
            apps[broker] = app
        yield apps


@pytest.fixture(params=BROKERS)
def broker(request):
    return request.param


MULTI = wd.MultiDict([("tag", "a"), ("tag", "b")])
QUERY = sd.QueryParams("tag=a&tag=b")


def test_signed_messages_carry_kombu_dash_values(signed_producers, signing, broker):
    app = signed_producers[broker]
    for multi in (MULTI, QUERY):
        out = app.tasks["kd.getlist"].delay(multi, "tag").get(timeout=TIMEOUT)
        assert out == {"type": type_name(multi), "values": ["a", "b"], "item": multi["tag"]}
    res = app.tasks["kd.echo"].delay({"when": (1, {2}), "qp": QUERY})
    name, out = res.get(timeout=TIMEOUT)
    assert name == "builtins.dict"
    same(out, {"when": (1, {2}), "qp": QUERY})

    # the stored result is signed, and what was signed is kombu_dash
    raw = redis.Redis.from_url(REDIS_URL).get(f"celery-task-meta-{res.id}")
    checker = SecureSerializer(cert_store=FSCertStore(signing["KD_SECURITY_STORE"]))
    assert checker._unpack(raw)["content_type"] == kombu_dash.CONTENT_TYPE  # (private, stable)
    meta = checker.deserialize(raw)  # verifies the signature, then decodes the body
    same(meta["result"][1], {"when": (1, {2}), "qp": QUERY})


def test_signed_and_compressed(signed_producers, broker):
    app = signed_producers[broker]
    value = {"md": MULTI, "blob": bytes(range(256)) * 40}
    out = (
        app.tasks["kd.request_info"].apply_async((value,), compression="zlib").get(timeout=TIMEOUT)
    )
    assert out["compression"] == "application/x-gzip"
    same(out["value"], value)


def test_unsigned_kombu_dash_message_is_refused(fleet, signed_producers, broker):
    worker = fleet[broker]
    # a producer that does not sign: plain kombu_dash
    unsigned = make_app(f"kd_unsigned_{broker}", broker, worker.queue)
    res = unsigned.tasks["kd.echo"].delay(MULTI)
    wait_for(
        lambda: res.id in worker.text() or "ContentDisallowed" in worker.text(),
        TIMEOUT,
        0.2,
        "the signed worker to refuse the unsigned message",
    )
    assert "Refusing to deserialize untrusted content of type kombu_dash" in worker.text()
    # a signed message after it still runs, the unsigned one never did
    signed = signed_producers[broker]
    _, out = signed.tasks["kd.echo"].delay(MULTI).get(timeout=TIMEOUT)
    same(out, MULTI)
    assert res.state == "PENDING"
    assert f"kd.echo[{res.id}] succeeded" not in worker.text()
