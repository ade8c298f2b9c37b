"""The benchmark payloads, built deterministically (same bytes on every run).

Each typed payload has a *plain* twin holding the same information in plain JSON
types (multi-dicts as ``[[key, value], ...]``, AttributeDicts as dicts), so every
serializer, including those that refuse the typed one, can be timed on equal data.
"""

from __future__ import annotations

import json
import random

__all__ = ["PAYLOADS", "build", "to_plain", "same", "Payload"]


class Payload:
    def __init__(self, name, title, make, typed, plain_of=None):
        self.name, self.title, self.make, self.typed, self.plain_of = (
            name,
            title,
            make,
            typed,
            plain_of,
        )


def _attribute_dict():
    try:  # the class Dash itself puts in callback_context
        from dash._utils import AttributeDict
    except ImportError:  # pragma: no cover - dash not installed
        from kombu_dash import AttributeDict
    return AttributeDict


def dash_context():
    """What Dash's CeleryManager ships as ``context`` for one background callback
    (dash/dash.py ``_initialize_context`` + ``_prepare_callback``), about 2 KB,
    except that ``args`` stays the request's QueryParams (as kombu_dash's managers send it)."""
    from starlette.datastructures import QueryParams

    AD = _attribute_dict()

    def item(cid, prop, value):  # as the browser sends it in the request body
        return {"id": cid, "property": prop, "value": value}

    def grouped(d, changed=("run-button.n_clicks",)):  # dash._grouping.update_args_group
        str_id = (
            d["id"]
            if isinstance(d["id"], str)
            else json.dumps(d["id"], sort_keys=True, separators=(",", ":"))
        )
        return AD(
            d,
            str_id=str_id,
            triggered=f"{str_id}.{d['property']}" in changed,
            id=AD(d["id"]) if isinstance(d["id"], dict) else d["id"],
        )

    inputs_list = [
        item("run-button", "n_clicks", 3),
        item("dropdown-region", "value", ["emea", "apac"]),
        [item({"type": "filter", "index": i}, "value", f"v{i}") for i in range(2)],
    ]
    states_list = [item("date-range", "start_date", "2024-01-01"), item("threshold", "value", 0.75)]
    outputs_list = [
        {"id": "result-graph", "property": "figure"},
        {"id": "status", "property": "children"},
    ]
    ctx = AD()
    ctx.inputs_list = inputs_list
    ctx.states_list = states_list
    ctx.outputs_list = outputs_list
    ctx.input_values = AD({"run-button.n_clicks": 3, "dropdown-region.value": ["emea", "apac"]})
    ctx.state_values = AD({"date-range.start_date": "2024-01-01", "threshold.value": 0.75})
    ctx.triggered_inputs = [{"prop_id": "run-button.n_clicks", "value": 3}]
    ctx.cookies = {"session": "eyJ1c2VyIjoiYWxpY2UifQ.ZmFrZS5zaWduYXR1cmU", "theme": "dark"}
    ctx.headers = {
        "host": "dash.example.com",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        "accept": "application/json",
        "accept-language": "en-GB,en;q=0.9",
        "content-type": "application/json",
        "origin": "https://dash.example.com",
        "referer": "https://dash.example.com/reports?region=emea&region=apac",
        "cookie": "session=eyJ1c2VyIjoiYWxpY2UifQ.ZmFrZS5zaWduYXR1cmU; theme=dark",
    }
    ctx.args = QueryParams("region=emea&region=apac&tag=a&tag=b&page=2")
    ctx.path = "/_dash-update-component?region=emea&region=apac&tag=a&tag=b&page=2"
    ctx.remote = "10.0.0.17"
    ctx.origin = "https://dash.example.com"
    ctx.updated_props = {}
    ctx.ignore_register_page = True
    ctx.args_grouping = [
        grouped(inputs_list[0]),
        grouped(inputs_list[1]),
        [grouped(d) for d in inputs_list[2]],
        *map(grouped, states_list),
    ]
    ctx.using_args_grouping = False
    ctx.outputs_grouping = outputs_list
    ctx.using_outputs_grouping = False
    ctx.custom_data = AD({"auth": AD({"user": "alice", "roles": ["analyst", "viewer"]})})
    return ctx


def containers():
    """A message with 100 multi-dicts and 100 header sets (werkzeug and starlette)."""
    from starlette.datastructures import Headers as SHeaders
    from starlette.datastructures import QueryParams
    from werkzeug.datastructures import Headers as WHeaders
    from werkzeug.datastructures import MultiDict

    rng = random.Random(4)
    out = []
    for i in range(100):
        pairs = [(f"k{j % 4}", f"value-{i}-{j}-{rng.randrange(1000)}") for j in range(8)]
        hdrs = [
            ("content-type", "text/html; charset=utf-8"),
            ("set-cookie", f"a={i}"),
            ("set-cookie", f"b={i}"),
            ("x-request-id", f"{rng.getrandbits(64):016x}"),
            ("cache-control", "no-cache"),
        ]
        if i % 2:
            md = MultiDict(pairs)
            h = WHeaders(hdrs)
        else:
            md = QueryParams(pairs)
            h = SHeaders(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in hdrs])
        out.append({"id": i, "query": md, "headers": h})
    return {"requests": out}


def table(rows: int):
    """A Dash DataTable ``data``: list of row dicts with str/int/float/bool/None values."""
    rng = random.Random(rows)
    regions = ["emea", "apac", "amer", "latam"]
    data = []
    for i in range(rows):
        data.append(
            {
                "id": i,
                "name": f"cust-{i}",
                "region": regions[i % 4],
                "revenue": round(rng.uniform(0, 1e5), 2),
                "units": rng.randrange(10_000),
                "active": bool(i % 3),
                "note": None if i % 5 else "flagged",
            }
        )
    return data


def celery_body(ctx):
    """What kombu actually serializes for Dash's background task: Celery's message body
    ``(args, kwargs, embed)``, args = ``(result_key, progress_key, user_args, context)``."""
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    key = "4f1c2b9e8d7a6c5b4a39281706f5e4d3c2b1a098"
    return ((key, key + "-progress", [3], ctx), {}, embed)


def celery_small():
    """The most common Celery message: the body of ``add.delay(1, 2)``."""
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    return ((1, 2), {}, embed)


def requests_300():
    """100 werkzeug MultiDicts, 100 Headers (werkzeug and starlette) and 100 starlette
    QueryParams, about 55 KB."""
    from starlette.datastructures import Headers as SHeaders
    from starlette.datastructures import QueryParams
    from werkzeug.datastructures import Headers as WHeaders
    from werkzeug.datastructures import MultiDict

    rng = random.Random(12)
    out = []
    for i in range(100):
        pairs = [(f"k{j % 4}", f"value-{i}-{j}-{rng.randrange(1000)}") for j in range(8)]
        hdrs = [
            ("content-type", "text/html; charset=utf-8"),
            ("set-cookie", f"a={i}"),
            ("set-cookie", f"b={i}"),
            ("x-request-id", f"{rng.getrandbits(64):016x}"),
        ]
        h = (
            WHeaders(hdrs)
            if i % 2
            else SHeaders(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in hdrs])
        )
        out.append(
            {"id": i, "form": MultiDict(pairs), "headers": h, "query": QueryParams(pairs[:5])}
        )
    return {"requests": out}


def to_plain(value):
    """The same information in plain JSON types."""
    from starlette.datastructures import Headers as SHeaders
    from werkzeug.datastructures import Headers as WHeaders
    from werkzeug.datastructures import MultiDict

    if hasattr(value, "multi_items"):  # starlette QueryParams / multi-dicts
        return [[k, v] for k, v in value.multi_items()]
    if isinstance(value, SHeaders):
        return [[k.decode("latin-1"), v.decode("latin-1")] for k, v in value.raw]
    if isinstance(value, MultiDict):
        return [[k, v] for k, v in value.items(multi=True)]
    if isinstance(value, WHeaders):
        return [[k, v] for k, v in value.items()]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return value


def same(a, b) -> bool:
    """Equal *and* of the same type at every level (what "round-trips" means here)."""
    if type(a) is not type(b):
        return False
    if hasattr(a, "multi_items"):
        return list(a.multi_items()) == list(b.multi_items())
    if hasattr(a, "raw") and isinstance(a.raw, list):  # starlette Headers
        return a.raw == b.raw
    if hasattr(a, "to_wsgi_list"):  # werkzeug Headers
        return list(a.items()) == list(b.items())
    if hasattr(a, "getlist") and isinstance(a, dict):  # werkzeug MultiDict
        return list(a.items(multi=True)) == list(b.items(multi=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def build(quick: bool = False) -> list[tuple[Payload, object]]:
    """All payloads, built. ``quick`` shrinks the tables (CI smoke: same shapes, less data)."""
    small, big = (10_000, 100_000) if not quick else (200, 1_000)
    ctx = dash_context()
    cont = containers()
    reqs = requests_300()
    small_body = celery_small()
    return [
        (Payload("celery_small", "Celery body of add(1, 2)", celery_small, True), small_body),
        (
            Payload(
                "celery_small_plain",
                "Celery body of add(1, 2), plain twin",
                None,
                False,
                "celery_small",
            ),
            to_plain(small_body),
        ),
        (
            Payload(
                "dash_context", "Dash context (QueryParams, AttributeDicts)", dash_context, True
            ),
            ctx,
        ),
        (
            Payload("dash_context_plain", "Dash context, plain twin", None, False, "dash_context"),
            to_plain(ctx),
        ),
        (Payload("celery_body", "Celery body (Dash context)", None, True), celery_body(ctx)),
        (
            Payload(
                "celery_body_plain", "Celery body, plain-twin context", None, False, "celery_body"
            ),
            celery_body(to_plain(ctx)),
        ),
        (Payload("containers", "100 multi-dicts + headers", containers, True), cont),
        (
            Payload(
                "containers_plain",
                "100 multi-dicts + headers, plain twin",
                None,
                False,
                "containers",
            ),
            to_plain(cont),
        ),
        (
            Payload(
                "requests_300", "100 MultiDicts + 100 Headers + 100 QueryParams", requests_300, True
            ),
            reqs,
        ),
        (
            Payload(
                "requests_300_plain",
                "100 MultiDicts + 100 Headers + 100 QueryParams, plain twin",
                None,
                False,
                "requests_300",
            ),
            to_plain(reqs),
        ),
        (Payload("table_10k", f"{small:,}-row table", None, False), table(small)),
        (Payload("table_100k", f"{big:,}-row table", None, False), table(big)),
    ]


PAYLOADS = [
    "celery_small",
    "celery_small_plain",
    "dash_context",
    "dash_context_plain",
    "celery_body",
    "celery_body_plain",
    "containers",
    "containers_plain",
    "requests_300",
    "requests_300_plain",
    "table_10k",
    "table_100k",
]
