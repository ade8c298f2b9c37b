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

Reading a cache never imports or runs anything named in its files: decoding goes
through the codec's registry only. Multiprocess children (fork or spawn) reopen the
cache with this class, which ``Cache.__getstate__`` pickles by reference.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
import zlib

from diskcache import UNKNOWN, Disk
from diskcache.core import MODE_BINARY, MODE_RAW

from . import default_codec
from .errors import KombuDashError

__all__ = ["TaggedJSONDisk", "CorruptEntryWarning"]

# b"kd1:" + 8 hex digits of CRC-32(body) + b":" + JSON body
_MAGIC = b"kd1:"
_HEADER = len(_MAGIC) + 9
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_UNORDERED = ("~set", "~frozenset", "~dict")


class CorruptEntryWarning(RuntimeWarning):
    """A cache entry failed its checksum or did not decode; it was read as a miss."""


class _CorruptEntry(OSError):
    # diskcache turns an OSError from Disk.fetch into a miss ("deleted meanwhile").
    pass


def _canonical(node):
    """Encoded JSON data with every order that does not matter for equality fixed."""
    if type(node) is list:
        return [_canonical(v) for v in node]
    if type(node) is dict:
        if len(node) == 1:
            (k, v), = node.items()
            if k in _UNORDERED and type(v) is list:
                items = [_canonical(x) for x in v]
                return {k: sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
        return {k: _canonical(v) for k, v in node.items()}
    if type(node) is float and node.is_integer():
        return int(node)  # 1.0 == 1, as for native keys in SQLite
    return node


class TaggedJSONDisk(Disk):
    """Cache keys and values as kombu_dash tagged JSON (see the module docstring).

    Another set of tags: subclass and set ``codec`` (a class attribute, so multiprocess
    children, which get the Disk class, get it too).
    """

    #: the :class:`kombu_dash.Codec` used (default: :data:`kombu_dash.default_codec`)
    codec = default_codec

    # -- keys ----------------------------------------------------------------------

    def put(self, key):
        t = type(key)
        if t is bool:
            key, t = int(key), int  # True == 1: one entry, as in a dict
        if t is str or t is float or (t is int and _INT_MIN <= key <= _INT_MAX):
            return key, True
        encoded = json.loads(self.codec.dumpb(key))
        canon = json.dumps(_canonical(encoded), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return sqlite3.Binary(canon.encode("utf-8")), False

    def get(self, key, raw):
        if raw:
            return key
        return self.codec.loads(bytes(key))

    # -- values --------------------------------------------------------------------

    def store(self, value, read, key=UNKNOWN):
        t = type(value)
        if read or t is float or (t is int and _INT_MIN <= value <= _INT_MAX):
            return super().store(value, read, key=key)
        body = self.codec.dumpb(value)
        data = b"%s%08x:%s" % (_MAGIC, zlib.crc32(body), body)
        return super().store(data, False, key=key)

    def fetch(self, mode, filename, value, read):
        data = super().fetch(mode, filename, value, read)
        if read or mode not in (MODE_RAW, MODE_BINARY) or type(data) is not bytes:
            return data  # native numbers, or a file handle for read=True
        where = filename or "the database"
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


def _corrupt(where: str, why: str):
    warnings.warn(
        f"kombu_dash.TaggedJSONDisk: corrupt cache entry in {where} ({why}); read as a miss",
        CorruptEntryWarning,
        stacklevel=3,
    )
    raise _CorruptEntry(why)
