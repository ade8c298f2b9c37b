"""``TaggedJSONDisk``: a ``diskcache.Disk`` that stores kombu_dash tagged JSON, not pickles.

::

    import diskcache
    from kombu_dash import TaggedJSONDisk

    cache = diskcache.Cache("/tmp/cache", disk=TaggedJSONDisk)

Values: everything the codec carries (multi-dicts, tuples, datetimes...) plus what Dash
stores (components, plotly figures, numpy arrays, ``no_update``, bytes). ``int`` and
``float`` stay native SQLite numbers so ``Cache.incr``/``decr`` keep working. Each stored
value carries a CRC-32 of its JSON: an entry corrupted on disk reads as a miss with a
:class:`CorruptEntryWarning`, never as an exception in the reader.

Keys: ``str``, ``int`` and ``float`` are stored natively (as with diskcache's ``Disk``);
any other key is canonical tagged JSON (object members sorted, set members sorted), so
equal keys find the same entry in every process.

Reading a cache never imports or runs anything named in its files, and never opens or
removes a file whose name the database chose: a row this class did not write (a pickle,
a text file, a bare value, a path outside diskcache's own ``xx/yy/<28 hex>.val`` names)
reads as a miss with a :class:`CorruptEntryWarning`; a key that does not decode comes
back from iteration as an :class:`UnreadableKey`, which can be used to delete the row.
Decoding goes through the codec's registry only.

The CRC-32 detects accidental damage (a torn write, a bad disk block); it is not
authentication: whoever can write the cache directory can write a valid entry. What
such a writer gets is data of the types the codec carries, never code execution or
another file's content.

Multiprocess children (fork or spawn) reopen the cache with this class, which
``Cache.__getstate__`` pickles by reference.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import warnings
import zlib
from typing import Any, NoReturn

from diskcache import UNKNOWN, Disk
from diskcache.core import MODE_BINARY, MODE_RAW

from .default import default_codec
from .errors import KombuDashError
from .wire import wire_key

__all__ = ["TaggedJSONDisk", "CorruptEntryWarning", "CorruptEntryError", "UnreadableKey"]

# b"kd1:" + 8 hex digits of CRC-32(body) + b":" + JSON body
_MAGIC = b"kd1:"
_HEADER = len(_MAGIC) + 9
# SQLite's integers: what it stores natively (anything else is tagged JSON)
_SQLITE_INT_MIN, _SQLITE_INT_MAX = -(2**63), 2**63 - 1
# The only file names diskcache's Disk.filename() makes: two hex levels, 28 hex digits.
_OWN_FILE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{28}\.val")


class CorruptEntryWarning(RuntimeWarning):
    """A cache entry failed its checksum or did not decode; it was read as a miss."""


class _CorruptEntry(OSError):
    # diskcache turns an OSError from Disk.fetch into a miss ("deleted meanwhile").
    pass


class CorruptEntryError(KombuDashError, RuntimeError):
    """An unreadable entry that diskcache keeps retrying (``peekitem`` re-reads the
    same row forever after a miss): raised instead of spinning."""


# A row read again and again with nothing in between, faster than any poller does, is
# diskcache retrying it in a loop that a miss cannot end.
_RETRY_LIMIT, _RETRY_WINDOW = 50, 1.0


class UnreadableKey:
    """A cache key that did not decode (damaged or forged), as iteration yields it.

    ``del cache[k]`` (or ``cache.pop(k)``) with it removes that row. ``raw`` is the key
    column as stored (bytes, or text if forged so); nothing in it was decoded.
    """

    __slots__ = ("raw",)

    def __init__(self, raw: bytes | str) -> None:
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return type(other) is UnreadableKey and other.raw == self.raw

    def __hash__(self) -> int:
        return hash((UnreadableKey, self.raw))

    def __repr__(self) -> str:
        return f"UnreadableKey({self.raw[:60]!r}{'...' if len(self.raw) > 60 else ''})"


def _unordered(codec: Any) -> frozenset[str]:
    """The wire keys of the tags whose payload order does not matter (Tag.unordered)."""
    return frozenset(wire_key(key) for key, tag in codec.tags().items() if tag.unordered)


def _canonical(node: Any, unordered: frozenset[str]) -> Any:
    """Encoded JSON data with every order that does not matter for equality fixed."""
    if type(node) is list:
        return [_canonical(v, unordered) for v in node]
    if type(node) is dict:
        if len(node) == 1:
            ((k, v),) = node.items()
            if k in unordered and type(v) is list:
                items = [_canonical(x, unordered) for x in v]
                return {k: sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
        return {k: _canonical(v, unordered) for k, v in node.items()}
    if type(node) is float and node.is_integer():
        return int(node)  # 1.0 == 1, as for native keys in SQLite
    return node


class TaggedJSONDisk(Disk):  # type: ignore[misc]  # diskcache ships no type information
    """Cache keys and values as kombu_dash tagged JSON (see the module docstring).

    Another set of tags: subclass and set ``codec`` (a class attribute, so multiprocess
    children, which get the Disk class, get it too).
    """

    #: the :class:`kombu_dash.Codec` used (default: :data:`kombu_dash.default_codec`)
    codec = default_codec

    _last_bad: tuple[object, int, float] = (None, 0, 0.0)  # (row, repeats, first seen)

    # -- keys ----------------------------------------------------------------------

    def put(self, key: Any) -> tuple[Any, bool]:
        t = type(key)
        if t is UnreadableKey:
            raw = key.raw
            return (sqlite3.Binary(raw) if type(raw) is bytes else raw), False
        if t is bool:
            key, t = int(key), int  # True == 1: one entry, as in a dict
        if t is str or t is float or (t is int and _SQLITE_INT_MIN <= key <= _SQLITE_INT_MAX):
            return key, True
        encoded = json.loads(self.codec.dumpb(key))
        canon = json.dumps(
            _canonical(encoded, _unordered(self.codec)),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return sqlite3.Binary(canon.encode("utf-8")), False

    def get(self, key: Any, raw: bool) -> Any:
        if raw:
            return key
        try:
            return self.codec.loads(key if type(key) in (bytes, str) else bytes(key))
        except KombuDashError as exc:
            # Iteration must go on past one bad row; the stand-in can delete it.
            warnings.warn(
                f"kombu_dash.TaggedJSONDisk: unreadable cache key ({exc}); "
                "yielded as UnreadableKey",
                CorruptEntryWarning,
                stacklevel=2,
            )
            return UnreadableKey(key if type(key) in (bytes, str) else bytes(key))

    # -- values --------------------------------------------------------------------

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple[int, int, str | None, Any]:
        t = type(value)
        if read or t is float or (t is int and _SQLITE_INT_MIN <= value <= _SQLITE_INT_MAX):
            stored: tuple[int, int, str | None, Any] = super().store(value, read, key=key)
            return stored
        body = self.codec.dumpb(value)
        data = b"%s%08x:%s" % (_MAGIC, zlib.crc32(body), body)
        stored = super().store(data, False, key=key)
        return stored

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        # Only the three shapes store() writes are read; diskcache's own fetch (which
        # unpickles MODE_PICKLE and opens any MODE_TEXT path) is never called.
        where = filename or "the database"
        if mode == MODE_RAW and filename is None:
            if type(value) in (int, float) and not read:
                return value  # a native number store() left to SQLite
            if type(value) is not bytes:
                self._corrupt(
                    (mode, filename, value),
                    where,
                    f"mode 1 row holding {type(value).__name__}, not written here",
                )
            data = value
        elif mode == MODE_BINARY and value is None and _own_file(filename):
            path = f"{self._directory}/{filename}"
            if read:
                return open(path, "rb")  # noqa: SIM115 - the caller owns the handle
            with open(path, "rb") as reader:
                data = reader.read()
        else:
            self._corrupt(
                (mode, filename, value), where, f"mode {mode!r} row not written by TaggedJSONDisk"
            )
        try:
            return self._decode(data, where)
        except _CorruptEntry as exc:
            self._corrupt((mode, filename, value), where, str(exc), warn=False)

    def _corrupt(self, row: object, where: str, why: str, *, warn: bool = True) -> NoReturn:
        last, repeats, since = self._last_bad
        now = time.monotonic()
        if last == row and now - since < _RETRY_WINDOW:
            if repeats + 1 >= _RETRY_LIMIT:
                self._last_bad = (None, 0, 0.0)
                raise CorruptEntryError(
                    f"corrupt cache entry in {where} ({why}) read {_RETRY_LIMIT} times in a "
                    "row: diskcache retries it (peekitem does); delete the entry"
                )
            self._last_bad = (row, repeats + 1, since)
        else:
            self._last_bad = (row, 1, now)
        if warn:
            _corrupt(where, why)
        raise _CorruptEntry(why)

    def _decode(self, data: bytes, where: str) -> Any:
        if data[: len(_MAGIC)] != _MAGIC or data[_HEADER - 1 : _HEADER] != b":":
            _corrupt(where, "no kombu_dash header")
        body = data[_HEADER:]
        try:
            crc = int(data[len(_MAGIC) : _HEADER - 1], 16)
        except ValueError:
            crc = None
        if crc != zlib.crc32(body):
            _corrupt(where, "checksum mismatch")
        try:
            return self.codec.loads(body)
        except KombuDashError as exc:
            _corrupt(where, f"undecodable ({exc})")

    def remove(self, file_path: str) -> None:
        # diskcache removes the file a row names (and its empty parents) on delete,
        # pop, cull and expiry: a forged row must not name a file outside the cache.
        if _own_file(file_path):
            super().remove(file_path)


def _own_file(filename: object) -> bool:
    return type(filename) is str and _OWN_FILE.fullmatch(filename) is not None


def _corrupt(where: str, why: str) -> NoReturn:
    warnings.warn(
        f"kombu_dash.TaggedJSONDisk: corrupt cache entry in {where} ({why}); read as a miss",
        CorruptEntryWarning,
        stacklevel=3,
    )
    raise _CorruptEntry(why)
