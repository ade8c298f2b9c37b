"""pandas' hash tables (klib's khash), for the hash flooding budget (kombu_dash.budgets).

pandas hashes an index's labels when it looks one up or checks they are unique (a
Categorical's categories, at decode), and a MultiIndex's level values when it builds the
MultiIndex (``factorize``). Its tables use 32-bit hashes of its own, none randomised:
``(k >> 33) ^ k ^ (k << 11)`` for 64-bit integers and dates, MurmurHash2 of the bits for
floats, the identity for narrower integers, CPython's hash folded to 32 bits for objects,
and X31 (``h = 31*h + byte``) of the UTF-8 text when ``factorize`` sees only strings. They
probe by double hashing: from ``hash & mask`` in steps of ``(murmur2(hash) | 1) & mask``, and
are sized for the values they receive. :func:`check` computes those hashes (with numpy,
for a whole array at once) and replays the table with :func:`kombu_dash.budgets.check_table`.
"""

from __future__ import annotations

import math
from typing import Any

from ..budgets import HASH_MAX_EQUAL, check_table

__all__ = ["check"]

_M32 = 0xFFFFFFFF
_M = 0x5BD1E995  # MurmurHash2's multiplier
_SEED = 0xC70F6907
_UPPER = 0.77  # khash grows past this load
_SIZE_HINT_LIMIT = (1 << 20) + 7  # pandas' largest presized table (hashtable.pyx)


def check(np: Any, values: Any, factorize: bool, what: str = "label") -> None:
    """Refuse ``values`` (a numpy array or a pandas extension array) whose pandas hashes
    flood the table pandas builds for them: for an index's lookups and uniqueness, or,
    with ``factorize``, for a MultiIndex level."""
    n = len(values)
    if n <= HASH_MAX_EQUAL:
        return
    if hasattr(values, "asi8"):  # zoned datetimes and the like: hashed as int64
        values = values.asi8
    mask = getattr(values, "_mask", None)
    if mask is not None:  # nullable: the values under NA are not inserted
        values = values._data[~mask]
    elif not isinstance(values, np.ndarray):
        values = values.to_numpy(dtype=object)
    kind, size = values.dtype.kind, values.dtype.itemsize
    same = None
    if kind in "iuMm" and size == 8:
        u = values.view(np.uint64)
        hashes = ((u >> np.uint64(33)) ^ u ^ (u << np.uint64(11))) & np.uint64(_M32)
    elif kind in "iu":
        hashes = values.astype(np.int64) & np.int64(_M32)
    elif kind == "f" and size in (4, 8):
        hashes = _float_hashes(np, values)
        same = _same_float
    elif kind == "O":
        items = values.tolist()
        if factorize and all(type(x) is str for x in items):
            hashes = _x31(np, items)
        elif all(type(x) is str for x in items):
            return  # a str's hash is randomised: nothing to flood
        else:
            hashes = np.array([_object_hash(x) for x in items], dtype=np.uint64)
            same = _same_object
    else:
        return  # bool (two values), complex and the like: not in a kombu_dash index
    keys = values.view(np.int64).tolist() if kind in "Mm" else values.tolist()
    steps = _murmur32(np, hashes.astype(np.uint64)) | np.uint64(1)
    check_table(keys, hashes.tolist(), steps.tolist(), _bits(len(keys)), what, same)


def _bits(n: int) -> int:
    """log2 of the buckets pandas gives a table for ``n`` values (kh_needed_n_buckets, then
    capped, then grown by doubling past 0.77 full)."""
    buckets = 1 << max(2, math.ceil(math.log2(max(n, 1))))
    if int(buckets * _UPPER + 0.5) < n:
        buckets *= 2
    buckets = min(buckets, 1 << (_SIZE_HINT_LIMIT - 1).bit_length())
    while int(buckets * _UPPER + 0.5) < n:
        buckets *= 2
    return buckets.bit_length() - 1


def _murmur32(np: Any, k: Any) -> Any:
    """khash's murmur2_32to32, on a uint64 array of 32-bit values."""
    m, m32 = np.uint64(_M), np.uint64(_M32)
    k = (k * m) & m32
    k ^= k >> np.uint64(24)
    k = (k * m) & m32
    h = np.uint64(((_SEED ^ 4) * _M) & _M32) ^ k
    h ^= h >> np.uint64(13)
    h = (h * m) & m32
    return h ^ (h >> np.uint64(15))


def _float_hashes(np: Any, values: Any) -> Any:
    """kh_float64_hash_func / kh_float32_hash_func: 0.0, -0.0 and NaN hash to 0."""
    m, m32 = np.uint64(_M), np.uint64(_M32)
    if values.dtype.itemsize == 4:
        hashes = _murmur32(np, values.view(np.uint32).astype(np.uint64))
    else:  # murmur2_64to32: the low word, then the high word
        bits = values.view(np.uint64)
        h = np.uint64(((_SEED ^ 4) * _M) & _M32)
        h = np.full(len(values), h, dtype=np.uint64)
        for word in (bits & m32, bits >> np.uint64(32)):
            word = (word * m) & m32
            word ^= word >> np.uint64(24)
            word = (word * m) & m32
            h = ((h * m) & m32) ^ word
        h ^= h >> np.uint64(13)
        h = (h * m) & m32
        hashes = h ^ (h >> np.uint64(15))
    hashes[(values == 0) | (values != values)] = 0
    return hashes


def _same_float(a: Any, b: Any) -> bool:
    return bool(a == b or (a != a and b != b))  # khash: every NaN is one value


def _object_hash(x: Any) -> int:
    """kh_python_hash_func: CPython's hash (NaN as 0; tuples hashed by pandas' own copy of
    CPython's tuple hash, over these 32-bit hashes), folded to 32 bits."""
    t = type(x)
    if t is float:
        h = 0 if x != x else hash(x)
    elif isinstance(x, tuple):
        h = _tuple_hash(x)
    else:
        h = hash(x)
    h &= 0xFFFFFFFFFFFFFFFF
    return ((h >> 32) ^ h) & _M32


_P1, _P2, _P5 = 11400714785074694791, 14029467366897019727, 2870177450012600261
_M64 = 0xFFFFFFFFFFFFFFFF


def _tuple_hash(x: tuple[Any, ...]) -> int:
    acc = _P5
    for item in x:
        acc = (acc + _object_hash(item) * _P2) & _M64
        acc = ((acc << 31) | (acc >> 33)) & _M64
        acc = (acc * _P1) & _M64
    acc = (acc + (len(x) ^ (_P5 ^ 3527539))) & _M64
    return 1546275796 if acc == _M64 else acc


def _same_object(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:  # noqa: BLE001 - pandas treats a failed comparison as different
        return False


def _x31(np: Any, items: list[str]) -> Any:
    """X31 of each string's UTF-8 bytes (as signed chars), up to its first NUL: what
    pandas' StringHashTable uses (pandas 2 stops at a NUL; counting only up to it is the
    stricter of its two ways)."""
    data = [s.encode("utf-8", "surrogatepass").split(b"\0", 1)[0] for s in items]
    lengths = np.array([len(b) for b in data], dtype=np.int64)
    total = int(lengths.sum())
    out = np.zeros(len(data), dtype=np.int64)
    if not total:
        return out.astype(np.uint64)
    chars = np.frombuffer(b"".join(data), dtype=np.int8).astype(np.int64)
    # 31**(bytes after this one in its string), mod 2**32
    starts = np.cumsum(lengths) - lengths
    after = np.repeat(starts + lengths, lengths) - np.arange(total) - 1
    powers = np.ones(int(lengths.max()), dtype=np.int64)
    done = 1
    while done < len(powers):  # doubling: 31**(k + i) = 31**k * 31**i
        step = min(done, len(powers) - done)
        powers[done : done + step] = (powers[:step] * pow(31, done, 1 << 32)) & _M32
        done += step
    terms = (chars * powers[after]) & np.int64(_M32)
    nonempty = lengths > 0
    out[nonempty] = np.add.reduceat(terms, starts[nonempty]) & np.int64(_M32)
    return out.astype(np.uint64)
