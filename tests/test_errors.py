"""Bad input gets an error that says what and where; nothing is lost or changed silently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple

import pytest
import starlette.datastructures as sd
import werkzeug.datastructures as wd
from kombu import serialization as kombu_serialization
from kombu.exceptions import DecodeError as KombuDecodeError
from kombu.exceptions import EncodeError as KombuEncodeError

import kombu_dash
from kombu_dash import DecodeError, EncodeError


class Color(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 2


class Mode(str, enum.Enum):
    FAST = "fast"


@dataclasses.dataclass
class Point:
    x: int


Pair = namedtuple("Pair", "a b")


class MyMultiDict(wd.MultiDict):
    pass


class Markup(str):
    pass


class MyDict(dict):
    pass


class MyList(list):
    pass


class MySet(set):
    pass


class MyCounter(Counter):
    pass


class MyOrderedDict(OrderedDict):
    pass


class Model:
    def __json__(self):
        return {"x": 1}


ADD = "(see 'Adding a type' in the README)"

# The exact message for each kind of value no tag writes: what it is, and what to send instead.
REFUSED = [
    ("object", object(), f"cannot encode builtins.object: no kombu_dash tag for this type {ADD}"),
    (
        "enum",
        Color.RED,
        "cannot encode tests.test_errors.Color: an Enum member; send its .value and "
        "rebuild it with Color(value), or register a Tag for tests.test_errors.Color",
    ),
    (
        "int-enum",
        Level.HIGH,
        "cannot encode tests.test_errors.Level: an IntEnum member (json would send "
        "it as a plain int); send its .value and rebuild it with Level(value), or register a Tag for "
        "tests.test_errors.Level",
    ),
    (
        "str-enum",
        Mode.FAST,
        "cannot encode tests.test_errors.Mode: an Enum member (json would send it as "
        "a plain str); send its .value and rebuild it with Mode(value), or register a Tag for "
        "tests.test_errors.Mode",
    ),
    (
        "defaultdict",
        defaultdict(list, a=[1]),
        "cannot encode collections.defaultdict: a defaultdict's "
        "default_factory cannot travel; send dict(x) (it comes back a dict), or register a Tag",
    ),
    (
        "deque",
        deque([1, 2], maxlen=5),
        "cannot encode collections.deque: no kombu_dash tag for deque; "
        "send list(x) (it comes back a list, without maxlen), or register a Tag",
    ),
    (
        "dict-subclass",
        MyDict(a=1),
        "cannot encode tests.test_errors.MyDict: a subclass of builtins.dict "
        "that no tag writes (json would send it as a plain dict); send dict(x), or register a Tag for "
        f"tests.test_errors.MyDict {ADD}",
    ),
    (
        "list-subclass",
        MyList([1]),
        "cannot encode tests.test_errors.MyList: a subclass of builtins.list "
        "that no tag writes (json would send it as a plain list); send list(x), or register a Tag for "
        f"tests.test_errors.MyList {ADD}",
    ),
    (
        "str-subclass",
        Markup("<b>"),
        "cannot encode tests.test_errors.Markup: a subclass of builtins.str "
        "that no tag writes (json would send it as a plain str); send str(x), or register a Tag for "
        f"tests.test_errors.Markup {ADD}",
    ),
    (
        "set-subclass",
        MySet({1}),
        "tests.test_errors.MySet is a subclass of builtins.set, which ~set would "
        "bring back as set: register a Tag for it or convert it (set(x))",
    ),
    (
        "counter-subclass",
        MyCounter(a=1),
        "tests.test_errors.MyCounter is a subclass of collections.Counter, "
        "which ~Counter would bring back as Counter: register a Tag for it or convert it (Counter(x))",
    ),
    (
        "ordereddict-subclass",
        MyOrderedDict(a=1),
        "tests.test_errors.MyOrderedDict is a subclass of "
        "collections.OrderedDict, which ~OrderedDict would bring back as OrderedDict: register a Tag for it "
        "or convert it (OrderedDict(x))",
    ),
    (
        "namedtuple",
        Pair(1, 2),
        "tests.test_errors.Pair is a subclass of builtins.tuple, which ~tuple would "
        "bring back as tuple: register a Tag for it or convert it (x._asdict() or tuple(x))",
    ),
    (
        "multidict-subclass",
        MyMultiDict(),
        "tests.test_errors.MyMultiDict is a subclass of "
        "werkzeug.datastructures.structures.MultiDict, which ~werkzeug.MultiDict would bring back as "
        "MultiDict: register a Tag for it or convert it (MultiDict(x))",
    ),
    (
        "dataclass",
        Point(1),
        "cannot encode tests.test_errors.Point: a dataclass; send "
        f"dataclasses.asdict(x), or register a Tag {ADD}",
    ),
    (
        "__json__",
        Model(),
        "cannot encode tests.test_errors.Model: kombu_dash does not call __json__ "
        f"(kombu's json hook); send x.__json__(), or register a Tag {ADD}",
    ),
]


@pytest.mark.parametrize("value, message", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refused_value_gets_its_own_hint(value, message):
    with pytest.raises(EncodeError) as info:
        kombu_dash.dumps({"a": [1, value]})
    assert str(info.value) == f"{message} at value['a'][1]"
    with pytest.raises(EncodeError) as info:
        kombu_dash.dumps(value)
    assert str(info.value) == message  # at the root: no path to name


@pytest.mark.parametrize(
    "value, message, path",
    [
        ({"a": [1, Color.RED]}, "cannot encode tests.test_errors.Color", "value['a'][1]"),
        ([Point(1)], "cannot encode tests.test_errors.Point", "value[0]"),
        # a namedtuple would come back as a plain tuple: refused instead of flattened
        ({"p": Pair(1, 2)}, "Pair is a subclass of builtins.tuple", "value['p']"),
        ({1: {"k": object()}}, "cannot encode builtins.object", "value[1]['k']"),
        (
            [{1, 2}, {"s": {object}}],
            "cannot encode builtins.type",
            "value[1]['s'][0]",
        ),  # index in the set's payload
        # a key named like a part of Celery's message is still only a key
        ({"args": [object()]}, "cannot encode builtins.object", "value['args'][0]"),
    ],
    ids=["enum", "dataclass", "namedtuple", "int-key-dict", "set", "key-named-args"],
)
def test_encode_error_names_type_and_path(value, message, path):
    with pytest.raises(EncodeError) as info:
        kombu_dash.dumps(value)
    assert message in str(info.value)
    assert str(info.value).endswith(f" at {path}")


def test_upload_file_is_refused_naming_the_field():
    import io

    form = sd.FormData(
        [("name", "x"), ("file", sd.UploadFile(io.BytesIO(b"data"), filename="a.txt"))]
    )
    with pytest.raises(EncodeError) as info:
        kombu_dash.dumps(((1, 2, {"file": form}), {}, {}))  # a Celery body: (args, kwargs, embed)
    assert "form field 'file'" in str(info.value)
    assert str(info.value).endswith("at value[0][2]['file']['file']")


def test_unknown_tzinfo_is_refused():
    class Weird(dt.tzinfo):
        def utcoffset(self, d):
            return dt.timedelta(0)

    with pytest.raises(EncodeError, match="tzinfo"):
        kombu_dash.dumps(dt.datetime(2024, 1, 1, tzinfo=Weird()))


def test_circular_reference_is_an_encode_error():
    loop = []
    loop.append(loop)
    with pytest.raises(EncodeError, match="max_depth"):
        kombu_dash.dumps(loop)


def test_lone_surrogate_is_an_encode_error():
    with pytest.raises(EncodeError):
        kombu_dash.dumps(["\ud800"])


@pytest.mark.parametrize(
    "wire, message, path",
    [
        ('{"a": [1, {"~nope": 1}]}', "unknown tag '~nope'", "value['a'][1]"),
        ('[{"~tuple": "x"}]', "~tuple payload must be an array, got a string", "value[0]"),
        ('{"~datetime": "yesterday"}', "bad ~datetime payload", None),
        ('{"~bytes": "***"}', "bad ~bytes payload: invalid base64", None),
        ('{"~set": [[1]]}', "bad ~set payload", None),  # unhashable member
        ('{"~dict": [[1]]}', "bad ~dict payload: expected [key, value] pairs", None),
        ('{"~dict": [[[1], 2]]}', "bad ~dict payload", None),  # unhashable key
        ('{"~timedelta": [1, 2]}', "bad ~timedelta payload", None),
        ('{"~float": "1.5"}', "bad ~float payload", None),
        ('{"~int": "12"}', "64-bit integers are written as JSON numbers", None),
        ('{"~int": "1e5"}', "expected decimal digits", None),
        ('{"~starlette.QueryParams": [["a"]]}', "expected [key, value] pairs", None),
        ('{"~starlette.Headers": [["a", 1]]}', "bad ~starlette.Headers payload", None),
        ('{"~werkzeug.CombinedMultiDict": [{"a": 1}]}', "expected werkzeug multi-dicts", None),
        ('{"~datetime": "2024-01-01T00:00:00+00:00[No/Such_Zone]"}', "unknown time zone", None),
        (
            '{"~kombu_dash.MultiDict": {"items": [], "last": 1}}',
            "bad ~kombu_dash.MultiDict payload",
            None,
        ),
        ("[1, 2", "malformed JSON", None),
        ("", "malformed JSON", None),
    ],
)
def test_decode_error_names_tag_and_path(wire, message, path):
    with pytest.raises(DecodeError) as info:
        kombu_dash.loads(wire)
    assert message in str(info.value)
    if path:
        assert str(info.value).endswith(f" at {path}")


def test_errors_keep_their_cause():
    with pytest.raises(DecodeError) as info:
        kombu_dash.loads('{"~uuid": "not-a-uuid"}')
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.tag == "uuid"


def test_kombu_wraps_our_errors_in_its_own():
    kombu_dash.register()
    with pytest.raises(KombuEncodeError):
        kombu_serialization.dumps({"x": object()}, serializer="kombu_dash")
    with pytest.raises(KombuDecodeError):
        kombu_serialization.loads(
            b'{"~nope":1}', kombu_dash.CONTENT_TYPE, "utf-8", accept=[kombu_dash.CONTENT_TYPE]
        )


def test_errors_are_the_usual_python_kinds():
    # Code that catches TypeError/ValueError around serialisation keeps working.
    assert issubclass(EncodeError, TypeError) and issubclass(DecodeError, ValueError)


# -- paths named from Celery's message ------------------------------------------------


class Upload:  # a class no tag writes, as in README's example
    pass


@pytest.fixture
def celery_task():
    """A task on an app configured with kombu_dash; memory:// needs no broker, and the body
    is encoded before anything is sent."""
    from celery import Celery

    app = Celery("kd_errors", broker="memory://", set_as_current=False)
    kombu_dash.configure(app)

    @app.task(name="kd.anything", shared=False)
    def anything(*args, **kwargs):
        return None

    return anything


NO_TAG = f"cannot encode tests.test_errors.Upload: no kombu_dash tag for this type {ADD}"


@pytest.mark.parametrize(
    "send, where",
    [
        (lambda t: t.delay(1, 2, {"file": Upload()}), "args[2]['file']"),  # README's example
        (lambda t: t.apply_async((), {"file": Upload()}), "kwargs['file']"),
        (lambda t: (t.s(1) | t.s({"f": Upload()})).delay(), "chain[0]['args'][0]['f']"),
        (lambda t: t.apply_async((1,), link=t.s(Upload())), "callbacks[0]['args'][0]"),
        (lambda t: t.apply_async((1,), link_error=t.si(x=Upload())), "errbacks[0]['kwargs']['x']"),
    ],
    ids=["args", "kwargs", "chain", "link", "link_error"],
)
def test_task_message_paths_are_named_from_celerys_body(celery_task, send, where):
    # the task message is (args, kwargs, {callbacks, errbacks, chain, chord}): not value[0][2]
    with pytest.raises(KombuEncodeError) as info:
        send(celery_task)
    assert str(info.value) == f"{NO_TAG} at {where}"
    ours = info.value.args[0]  # kombu wraps our error: EncodeError(exc)
    assert type(ours) is EncodeError and ours.root == where.split("[")[0]


def test_protocol_1_message_paths_name_args(celery_task):
    celery_task.app.conf.task_protocol = 1  # the body is a dict: {task, id, args, kwargs, ...}
    with pytest.raises(KombuEncodeError) as info:
        celery_task.delay(1, {"file": Upload()})
    assert str(info.value) == f"{NO_TAG} at args[1]['file']"


def test_result_meta_paths_name_result():
    from kombu_dash.serializer import encode

    meta = {
        "status": "SUCCESS",
        "result": {"rows": [1, Upload()]},
        "traceback": None,
        "children": [],
    }
    with pytest.raises(EncodeError) as info:
        encode(meta)
    assert str(info.value) == f"{NO_TAG} at result['rows'][1]"


def test_decode_error_repr_keeps_the_path():
    # a worker logs an undecodable message with %r: the path must be in the repr
    with pytest.raises(KombuDecodeError) as info:
        kombu_serialization.loads(
            b'[1, {"~nope": 1}]', kombu_dash.CONTENT_TYPE, "utf-8", accept=[kombu_dash.CONTENT_TYPE]
        )
    assert repr(info.value) == "DecodeError(DecodeError(\"unknown tag '~nope' at value[1]\"))"


@pytest.mark.broker
@pytest.mark.timeout(120)
def test_result_that_fails_on_the_worker_reaches_the_client_with_its_path():
    from ._celery_support import in_process_worker, make_app, unique

    app = make_app("kd_errors_result", "redis", unique("errors-result"))

    @app.task(name="kd.bad_result", shared=False)
    def bad_result():
        return {"rows": [1, Upload()]}

    with in_process_worker(app):
        res = bad_result.delay()
        with pytest.raises(KombuEncodeError) as info:
            res.get(timeout=30)
    # the worker stored EncodeError(<kombu_dash error>); the client rebuilds both
    assert str(info.value) == f"{NO_TAG} at result['rows'][1]"
    ours = info.value.args[0]
    assert type(ours) is EncodeError
    assert (ours.root, ours.path) == ("result", ["rows", 1])
    assert res.state == "FAILURE"


def test_readme_error_examples(celery_task):
    import io

    from kombu_dash.serializer import encode

    form = sd.FormData([("file", sd.UploadFile(io.BytesIO(b"data"), filename="a.txt"))])
    with pytest.raises(KombuEncodeError) as info:
        celery_task.apply_async((), {"form": form})
    assert str(info.value).endswith("read and send its content instead at kwargs['form']['file']")
    with pytest.raises(EncodeError) as info:
        encode({"status": "SUCCESS", "result": {"color": Color.RED}, "traceback": None})
    assert str(info.value) == (
        "cannot encode tests.test_errors.Color: an Enum member; send its .value and rebuild it "
        "with Color(value), or register a Tag for tests.test_errors.Color at result['color']"
    )


def test_a_tag_that_returns_its_own_value_is_an_encode_error_not_a_crash(engine):
    # a plain tag's payload stays at its value's level: only a recursion guard stops a
    # to_json that returns its input (the C walk would overflow the C stack without one)
    class Loop:
        pass

    class PlainLoopTag(kombu_dash.Tag):
        key, types, plain = "test.plain-loop", (Loop,), True

        def to_json(self, value):
            return value

    class LoopTag(PlainLoopTag):
        key, plain = "test.loop", False

    for tag in (PlainLoopTag, LoopTag):
        with pytest.raises(kombu_dash.EncodeError, match="max_depth"):
            kombu_dash.Codec([tag], engine=engine).dumps([Loop()])
