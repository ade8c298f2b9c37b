"""Bad input gets an error that says what and where; nothing is lost or changed silently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections import namedtuple

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


@dataclasses.dataclass
class Point:
    x: int


Pair = namedtuple("Pair", "a b")


class MyMultiDict(wd.MultiDict):
    pass


class Markup(str):
    pass


@pytest.mark.parametrize(
    "value, message, path",
    [
        (object(), "cannot encode builtins.object", "value"),
        ({"a": [1, Color.RED]}, "cannot encode tests.test_errors.Color", "value['a'][1]"),
        ([Point(1)], "cannot encode tests.test_errors.Point", "value[0]"),
        # a namedtuple would come back as a plain tuple: refused instead of flattened
        ({"p": Pair(1, 2)}, "Pair is a subclass of builtins.tuple", "value['p']"),
        ([MyMultiDict()], "MyMultiDict is a subclass of werkzeug.datastructures.structures.MultiDict", "value[0]"),
        (("x", Markup("<b>")), "cannot encode tests.test_errors.Markup", "value[1]"),
        ({1: {"k": object()}}, "cannot encode builtins.object", "value[1]['k']"),
        ([{1, 2}, {"s": {object}}], "cannot encode builtins.type", "value[1]['s'][0]"),  # index in the set's payload
    ],
    ids=["object", "enum", "dataclass", "namedtuple", "multidict-subclass", "str-subclass", "int-key-dict", "set"],
)
def test_encode_error_names_type_and_path(value, message, path):
    with pytest.raises(EncodeError) as info:
        kombu_dash.dumps(value)
    assert message in str(info.value)
    assert str(info.value).endswith(f" at {path}") or path == "value"


def test_upload_file_is_refused_naming_the_field():
    import io

    form = sd.FormData([("name", "x"), ("file", sd.UploadFile(io.BytesIO(b"data"), filename="a.txt"))])
    with pytest.raises(EncodeError) as info:
        kombu_dash.dumps(((1, 2, {"file": form}), {}, {}))  # a Celery body: (args, kwargs, embed)
    assert "form field 'file'" in str(info.value)
    assert str(info.value).endswith("at value[0][2]['file']['file']")


def test_celery_body_paths_name_args():
    from kombu_dash.errors import format_path

    assert format_path(["args", 2, "file"]) == "args[2]['file']"


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
        ('{"~kombu_dash.MultiDict": {"items": [], "last": 1}}', "bad ~kombu_dash.MultiDict payload", None),
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
        kombu_serialization.loads(b'{"~nope":1}', kombu_dash.CONTENT_TYPE, "utf-8", accept=[kombu_dash.CONTENT_TYPE])


def test_errors_are_the_usual_python_kinds():
    # Code that catches TypeError/ValueError around serialisation keeps working.
    assert issubclass(EncodeError, TypeError) and issubclass(DecodeError, ValueError)
