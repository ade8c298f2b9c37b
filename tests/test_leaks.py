"""Round trips keep no memory: a worker decodes millions of messages, so one object kept
per message (a reference the C forgot to drop, an error holding its input) is a leak that
ends in the OOM killer. Counted in allocations still alive (tracemalloc), not in time."""

from __future__ import annotations

import tracemalloc

import pytest

from benchmarks.payloads import build
from kombu_dash.errors import KombuDashError

from .test_decoder_hardening import HOSTILE

ROUNDS = 2_000
#: what a leak of one small object per round trip would exceed several times over
ALLOWED_GROWTH = 32 * 1024
PAYLOADS = ("celery_small", "dash_context", "celery_body", "containers", "table_10k")
# the hostile messages of a few KB at most: each ends in a DecodeError with its path
SMALL_HOSTILE = [data for _, data in HOSTILE if len(data) < 20_000]


def _growth(step) -> int:
    for _ in range(200):  # warm-up: fast tables, caches and interned strings fill here
        step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(ROUNDS):
            step()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", PAYLOADS)
def test_round_trips_of_the_benchmark_payloads_keep_nothing(codec, name):
    value = next(v for p, v in build(quick=True) if p.name == name)
    if name == "containers":
        # both frameworks' multi-dicts and headers are in the first four requests
        value = {"requests": value["requests"][:4]}

    def step():
        codec.loads(codec.dumpb(value))

    assert _growth(step) < ALLOWED_GROWTH


def test_refused_hostile_messages_keep_nothing(codec):
    def step():
        for data in SMALL_HOSTILE:
            try:
                codec.loads(data)
            except KombuDashError:
                pass

    assert _growth(step) < ALLOWED_GROWTH


def test_refused_values_keep_nothing(codec):
    # an encode error deep in a value: the C unwinds its path through every level
    value = {"a": [(1, {"b": [object()]})] * 3}

    def step():
        try:
            codec.dumpb(value)
        except KombuDashError:
            pass

    assert _growth(step) < ALLOWED_GROWTH
