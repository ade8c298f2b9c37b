"""``celery worker`` subprocesses on real brokers: the entry point, and a worker that was
never told about kombu_dash.

* tests.celery_apps.plain_app never imports kombu_dash, it only names the serializer in its
  settings; the installed package's ``kombu.serializers`` entry point must be enough.
* tests.celery_apps.json_only_app has stock settings (accept json only): a kombu_dash message
  must be refused (ContentDisallowed), never run with wrongly decoded data.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd

import kombu_dash

from ._celery_support import BROKER_URLS, BROKERS, celery_worker, make_app, unique
from .harness import CeleryWorker, same, wait_for

pytestmark = [
    pytest.mark.broker,
    pytest.mark.timeout(180),
    pytest.mark.usefixtures("celery_result_consumer_fix"),
]

TIMEOUT = 30
APPS = Path(__file__).parent / "celery_apps"


def fleet_workers(logdir, request):
    """For conftest's ``fleet``: both worker kinds on both brokers."""
    return {
        (kind, broker): celery_worker(
            f"tests.celery_apps.{kind}_app", broker, unique(f"{kind}-{broker}"), logdir
        )
        for kind in ("plain", "json_only")
        for broker in BROKER_URLS
    }


@pytest.fixture(params=BROKERS)
def workers(request, fleet):
    return {"plain": fleet["plain", request.param], "json_only": fleet["json_only", request.param]}


def producer(worker: CeleryWorker):
    """The sending side, in this test process: kombu_dash.configure()d, same queue."""
    return make_app(f"kd_producer_{worker.queue}", worker.broker, worker.queue)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Call) and getattr(
            node.func, "id", getattr(node.func, "attr", "")
        ) in (
            "__import__",
            "import_module",
        ):
            names.add("dynamic:" + ast.unparse(node))
    return names


def test_plain_app_never_imports_kombu_dash():
    # plain_app and the two helper modules it imports
    seen = {m: imported_modules(APPS / m) for m in ("plain_app.py", "_env.py", "tasks.py")}
    assert seen["plain_app.py"] >= {"celery", "._env", ".tasks"}
    for module, names in seen.items():
        assert not [n for n in names if "kombu_dash" in n], (module, names)
        assert not [n for n in names if n.startswith("dynamic:")], (module, names)


def test_entry_point_registers_the_serializer_in_the_worker(workers):
    app = producer(workers["plain"])
    probe = app.send_task("kd.probe").get(timeout=TIMEOUT)
    # loaded by kombu through the entry point, since plain_app never imports it
    assert probe == {
        "kombu_dash_imported": True,
        "entry_points": probe["entry_points"],
        "registered": True,
    }
    assert "kombu_dash" in probe["entry_points"]


@pytest.mark.parametrize(
    "multi",
    [wd.MultiDict([("tag", "a"), ("tag", "b")]), sd.QueryParams("tag=a&tag=b")],
    ids=["werkzeug-MultiDict", "starlette-QueryParams"],
)
def test_worker_without_kombu_dash_import_decodes_messages(workers, multi):
    app = producer(workers["plain"])
    res = app.send_task("kd.getlist", args=(multi, "tag"), serializer=kombu_dash.SERIALIZER)
    out = res.get(timeout=TIMEOUT)
    assert out == {
        "type": f"{type(multi).__module__}.{type(multi).__qualname__}",
        "values": multi.getlist("tag"),
        "item": multi["tag"],
    }
    # and the result came back through kombu_dash too (result_serializer of plain_app)
    _, echoed = app.send_task("kd.echo", args=(multi,)).get(timeout=TIMEOUT)
    same(echoed, multi)


def queue_length(app, queue: str) -> int:
    with app.connection_for_write() as conn:
        # Redis has no empty queues (an empty list is no key), so passive would say "not found"
        passive = conn.transport.driver_type == "amqp"
        return conn.default_channel.queue_declare(queue=queue, passive=passive).message_count


def test_worker_without_kombu_dash_in_accept_content_rejects_the_message(workers):
    worker = workers["json_only"]
    app = producer(worker)
    multi = wd.MultiDict([("tag", "a"), ("tag", "b")])
    refused = app.send_task("kd.getlist", args=(multi, "tag"))

    # the worker says why, in its log, naming the content type
    wait_for(
        lambda: refused.id in worker.text() or "ContentDisallowed" in worker.text(),
        TIMEOUT,
        0.2,
        "the json-only worker to log the refused message",
    )
    log = worker.text()
    assert "ContentDisallowed" in log
    assert (
        "Refusing to deserialize untrusted content of type kombu_dash (application/x-kombu-dash+json)"
        in log
    )

    # a json message queued behind it runs: the worker is alive and has passed the first one
    later = app.send_task("kd.echo", args=(multi,), serializer="json")
    # (what json does to a MultiDict, silently: a plain dict, one value per key)
    assert later.get(timeout=TIMEOUT) == ["builtins.dict", {"tag": "a"}]

    # the refused task never ran: no result, no "succeeded", and it is not left in the queue
    assert refused.state == "PENDING" and refused.result is None
    assert f"kd.getlist[{refused.id}] succeeded" not in worker.text()
    wait_for(
        lambda: f"kd.echo[{later.id}] succeeded" in worker.text(), TIMEOUT, 0.2, "the log line"
    )
    assert queue_length(app, worker.queue) == 0
    time.sleep(1)  # and nothing turns up late
    assert refused.state == "PENDING"
