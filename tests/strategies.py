"""Hypothesis strategies for the codec's tests: every supported type, tag look-alikes
included, nested in every container."""

from __future__ import annotations

import datetime as dt

import starlette.datastructures as sd
import werkzeug.datastructures as wd
from dash._utils import AttributeDict as DashAttributeDict
from hypothesis import strategies as st

TAG_LOOKALIKES = st.sampled_from(
    ["~", "~tuple", "~dict", "~set", "~float", "~nope", "~~", "~starlette.QueryParams"]
)
TEXT = st.one_of(st.text(max_size=12), TAG_LOOKALIKES)

HASHABLE = st.one_of(
    TEXT,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.dates(),
    st.uuids(),
    st.binary(max_size=8),
)

SCALARS = st.one_of(
    HASHABLE,
    st.builds(bytearray, st.binary(max_size=8)),
    st.datetimes(),
    st.datetimes(timezones=st.timezones()),
    st.datetimes(
        timezones=st.builds(
            dt.timezone,
            st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)),
        )
    ),
    st.times(),
    st.timedeltas(),
    st.decimals(allow_nan=False),
)

PAIRS = st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=4)


def containers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(TEXT, children, max_size=4),
        st.dictionaries(HASHABLE, children, max_size=3),
        st.frozensets(HASHABLE, max_size=3),
        st.sets(HASHABLE, max_size=3),
        st.dictionaries(st.text(max_size=5), children, max_size=3).map(DashAttributeDict),
        PAIRS.map(wd.MultiDict),
        PAIRS.map(sd.QueryParams),
        PAIRS.map(
            lambda p: sd.Headers(
                raw=[(k.encode("latin-1", "replace"), v.encode("latin-1", "replace")) for k, v in p]
            )
        ),
        st.lists(st.tuples(st.text(max_size=5), children), max_size=3).map(wd.MultiDict),
    )


VALUES = st.recursive(SCALARS, containers, max_leaves=25)
