"""The tasks the broker tests send: each returns what it received, or reports what the
worker saw, so the test can check types on both legs (message in, result out).

``define_tasks(app)`` registers them under fixed names ("kd.echo", ...) on one app
(``shared=False``: several apps live in one test process); this module never imports
kombu_dash (plain_app relies on that).
"""

from __future__ import annotations

import sys
import time


class KDTaskError(Exception):
    """Raised by kd.fail: a user exception whose type must survive the result backend."""


def type_name(value) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def define_tasks(app) -> dict:
    @app.task(name="kd.echo", shared=False)
    def echo(value):
        # the worker's own view of the type, in case the result leg hid a loss on the way in
        return [type_name(value), value]

    @app.task(name="kd.identity", shared=False)
    def identity(value):
        return value

    @app.task(name="kd.echo_all", shared=False)
    def echo_all(*args, **kwargs):
        return {"args": list(args), "kwargs": kwargs}

    @app.task(name="kd.getlist", shared=False)
    def getlist(multi, key):
        getall = getattr(multi, "getlist", None) or multi.getall
        return {"type": type_name(multi), "values": list(getall(key)), "item": multi[key]}

    @app.task(name="kd.describe", shared=False)
    def describe(value):
        return [type_name(value), value]

    @app.task(name="kd.collect", shared=False)
    def collect(results):
        return [type_name(r) for r in results], tuple(results)

    @app.task(name="kd.add", shared=False)
    def add(a, b):
        return a + b

    @app.task(name="kd.fail", shared=False)
    def fail(kind, detail):
        if kind == "value":
            raise ValueError(f"bad value: {detail!r}")
        raise KDTaskError("custom failure", detail)

    @app.task(name="kd.retry", shared=False, bind=True, max_retries=3)
    def retry(self, value, times):
        if self.request.retries < times:
            raise self.retry(countdown=1)
        return {"retries": self.request.retries, "value": value}

    @app.task(name="kd.request_info", shared=False, bind=True)
    def request_info(self, value):
        # eta and message headers (compression) as this worker received them
        return {
            "eta": self.request.eta,
            "compression": getattr(self.request, "compression", None),
            "value": value,
            "ran_at": time.time(),
        }

    @app.task(name="kd.sleep", shared=False, bind=True)
    def sleep(self, seconds, payload=None):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)
        return payload

    @app.task(name="kd.probe", shared=False)
    def probe():
        """Where kombu_dash came from in this worker process."""
        from importlib.metadata import entry_points

        from kombu.serialization import registry

        return {
            "kombu_dash_imported": "kombu_dash" in sys.modules,
            "entry_points": sorted(ep.name for ep in entry_points(group="kombu.serializers")),
            "registered": "kombu_dash" in registry._encoders,
        }

    return {
        t.name: t
        for t in (
            echo,
            identity,
            echo_all,
            getlist,
            describe,
            collect,
            add,
            fail,
            retry,
            request_info,
            sleep,
            probe,
        )
    }
