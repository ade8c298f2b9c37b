"""The JSON text itself: orjson (a requirement), or the standard library's json module
where orjson is missing or older than :data:`ORJSON_MIN_VERSION`; chosen once, at import.

Both write the same bytes: compact separators, UTF-8 (no ``\\uXXXX`` for non-ASCII),
and floats in orjson's shortest form. The stdlib spells a few small floats
differently (``1e-07`` for orjson's ``1e-7``, ``1.5e-05`` for ``0.000015``), so its
output is rewritten in just those spots. Callers hand this module plain JSON data
only: finite floats, 64-bit ints, str keys.
"""

from __future__ import annotations

import gc
import json
import logging
import re
from collections.abc import Callable
from typing import Any, NoReturn

from . import wire
from .errors import DecodeError, EncodeError

#: the oldest orjson kombu_dash uses (setup.cfg requires it): from 3.9.15 orjson.loads
#: bounds its recursion (CVE-2024-27454), and it parses whatever reaches the broker
ORJSON_MIN_VERSION = (3, 9, 15)


def _load_orjson() -> Any:
    """orjson, or None: missing, too old or broken, it must never stop this module from
    importing (kombu imports it through the entry point in every Celery process)."""
    try:
        import orjson
    except ImportError:
        return None
    except Exception as exc:  # noqa: BLE001 - a broken install: say so, run without it
        _log.warning("kombu_dash: orjson failed to import (%r); using the json module", exc)
        return None
    version = getattr(orjson, "__version__", "0")
    try:
        too_old = tuple(map(int, version.split(".")[:3])) < ORJSON_MIN_VERSION
    except ValueError:
        too_old = False
    if too_old:
        _log.warning(
            "kombu_dash: orjson %s is older than %s; using the json module (slower). "
            "Upgrade it: pip install 'orjson>=%s'",
            version,
            ".".join(map(str, ORJSON_MIN_VERSION)),
            ".".join(map(str, ORJSON_MIN_VERSION)),
        )
        return None
    return orjson


# A log record, not warnings.warn: under -W error a warning would be raised at import.
_log = logging.getLogger("kombu_dash")
orjson = _load_orjson()  # None, or the module (engine_info reads its version)

__all__ = ["dumpb", "loadb", "HAVE_ORJSON", "DEFAULT", "backend", "stdlib_dumpb", "stdlib_loadb"]

HAVE_ORJSON = orjson is not None


# Skip JSON strings, rewrite ``d.ddde-0N`` (Python's zero-padded small exponents).
_SMALL_EXPONENT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?)(\d)(?:\.(\d+))?e-0(\d)')


def _has_small_exponent(text: str) -> bool:
    # "e-0" between two digits; text such as "value-0-1" must not cost a regex pass
    at = text.find("e-0")
    while at != -1:
        if text[at - 1 : at].isdigit() and text[at + 3 : at + 4].isdigit():
            return True
        at = text.find("e-0", at + 3)
    return False


def _orjson_float(m: re.Match[str]) -> str:
    sign, lead, frac, exp = m.groups()
    if lead is None:
        return m.group(0)  # a string: left alone
    if exp == "5":  # orjson writes 1e-5 <= |x| < 1e-4 in positional form
        return f"{sign}0.0000{lead}{frac or ''}"
    return f"{sign}{lead}{'.' + frac if frac else ''}e-{exp}"


def stdlib_dumpb(obj: Any) -> bytes:
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # only on input that is not plain JSON data
        raise EncodeError(f"not plain JSON data: {exc}") from exc
    if "e-0" in text and _has_small_exponent(text):
        text = _SMALL_EXPONENT.sub(_orjson_float, text)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"str is not valid UTF-8 (lone surrogate at position {exc.start})"
        ) from exc


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:
        raise ValueError(f"number {text[:30]} overflows a float")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        # set.add returns None (falsy): the key is recorded and the search goes on
        dup = next(
            k
            for k, _ in pairs
            if k in seen or seen.add(k)  # type: ignore[func-returns-value]
        )
        raise ValueError(f"duplicate key {dup!r:.60}")
    return obj


_CONTAINERS = {dict, list}
_IN_INT64 = range(wire.INT_MIN, wire.INT_MAX + 1).__contains__
_IS_INT = int.__instancecheck__


def _too_deep(obj: Any, limit: int) -> bool:
    """More than ``limit`` levels of containers, counted as kombu_dash writes the value
    back: an integer beyond 64 bits is written as ``{"~int": "..."}``, one level more
    (a value that decodes must also re-encode)."""
    level, depth = [obj], 0
    while True:  # one level per step, at C speed
        if depth == limit and _has_big_int(level):  # only the deepest level allowed
            return True
        if _CONTAINERS.isdisjoint(map(type, level)):
            return False
        depth += 1
        if depth > limit:
            return True
        level = gc.get_referents(*level)


def _has_big_int(level: list[Any]) -> bool:
    return not all(map(_IN_INT64, filter(_IS_INT, level)))


def _check_depth(obj: Any, max_depth: int | None) -> Any:
    if max_depth is not None and type(obj) in (dict, list) and _too_deep(obj, max_depth):
        raise DecodeError(f"nesting deeper than max_depth={max_depth}")
    return obj


def stdlib_loadb(data: str | bytes | bytearray | memoryview, max_depth: int | None = None) -> Any:
    """The strict parser: UTF-8 only, no NaN/Infinity, no duplicate keys, no float
    overflow, no nesting beyond ``max_depth``; integers exact (Python's 4,300-digit
    limit applies)."""
    try:
        if not isinstance(data, str):
            data = bytes(data).decode("utf-8")
        obj = json.loads(
            data,
            object_pairs_hook=_unique_keys,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
        )
        if "\\ud" in data or "\\uD" in data:  # an escaped surrogate: only in valid pairs
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except (
        ValueError,
        RecursionError,
    ) as exc:  # JSONDecodeError and Unicode errors are ValueErrors
        raise DecodeError(f"malformed JSON: {exc}") from exc
    return _check_depth(obj, max_depth)


if orjson is not None:
    _orjson_dumps: Callable[[Any], bytes] = orjson.dumps
    _orjson_loads: Callable[[Any], Any] = orjson.loads
    _OrjsonEncodeError, _OrjsonDecodeError = orjson.JSONEncodeError, orjson.JSONDecodeError

    def dumpb(obj: Any) -> bytes:
        try:
            return _orjson_dumps(obj)
        except _OrjsonEncodeError as exc:
            raise EncodeError(f"not plain JSON data: {exc}") from exc

    def loadb(data: str | bytes | bytearray | memoryview, max_depth: int | None = None) -> Any:
        if type(data) is str:
            try:
                data = data.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise DecodeError(f"malformed JSON: {exc}") from exc
        try:
            obj = _orjson_loads(data)
        except _OrjsonDecodeError as exc:
            raise DecodeError(f"malformed JSON: {exc}") from exc
        # What kombu_dash writes reads back to the very same bytes. Anything else
        # (whitespace, escapes, duplicate keys, integers beyond 64 bits, which orjson
        # would turn into floats) is parsed again by the strict parser.
        try:
            if _orjson_dumps(obj) == data:
                if max_depth is not None and max_depth < wire.MAX_DEPTH:
                    return _check_depth(obj, max_depth)
                return obj
        except _OrjsonEncodeError:
            pass
        return stdlib_loadb(data, max_depth)

else:  # pragma: no cover - exercised by the no-orjson nox session
    dumpb, loadb = stdlib_dumpb, stdlib_loadb


#: the backend a codec uses unless it asks for one
DEFAULT = "orjson" if orjson is not None else "json"


def backend(name: str | None) -> tuple[Callable[[Any], bytes], Callable[..., Any]]:
    """``(dumpb, loadb)`` of the backend ``name`` ("orjson", "json", or None for
    :data:`DEFAULT`); both write the same bytes."""
    name = DEFAULT if name is None else name
    if name == "json":
        return stdlib_dumpb, stdlib_loadb
    if name == "orjson" and orjson is not None:
        return dumpb, loadb
    raise ValueError(
        f"JSON backend must be 'orjson' (where installed), 'json' or None, not {name!r}"
    )
