"""Hash flooding: the budget every tag that builds a hash table from a payload checks first.

A set, a frozenset, a dict, an OrderedDict, a Counter, every multi-dict, and pandas'
categories and indexes are hash tables. Python randomises the hashes of ``str`` and
``bytes`` only: an int, a float, a Decimal, a UUID, a timedelta, an aware datetime and a
tuple or frozenset of them hash alike in every process, so a message chooses them. Two
attacks follow; both are checked here, before the table is built, in time linear in the
payload:

* **Equal hashes.** N distinct values with one hash cost N**2/2 comparisons (every
  multiple of 2**61-1 hashes to 0; a Decimal or a UUID hashes as the equal int; CPython's
  tuple hash can be inverted). At most :data:`HASH_MAX_EQUAL` distinct values may share a
  hash; any number of *equal* values (a multi-dict's repeated key) may.
* **Probe chains.** Distinct hashes can be chosen so that every insertion walks the slots
  of the ones before it: CPython probes ``i = 5*i + 1 + perturb`` with ``perturb >>= 5``,
  so once a hash's bits are spent (13 jumps at most) every key walks the same cycle of
  slots, and a key whose first probes land on taken slots follows the others to the end
  of their run. The build is replayed on a list of slots, growing as CPython's table
  grows (nothing is hashed but the values, once); the walks along the cycle are found
  with a union-find, so the replay costs no more when they are long: more than
  :data:`HASH_MAX_PROBES` such probes per value, on average, is refused.

docs/security.rst, "Decode budgets", lists both bounds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from .errors import DecodeError

__all__ = [
    "HASH_MAX_EQUAL",
    "HASH_MAX_PROBES",
    "check_hashes",
    "check_keys",
    "check_table",
]

#: distinct values one payload may hold with the same hash
HASH_MAX_EQUAL = 8
#: probes per value, on average, that its own hash does not steer: in CPython's tables the
#: probes once ``perturb`` is spent (the first 13 jumps are steered by the hash's bits, so
#: each value costs at most that many before), in a double-hashing table every probe after
#: the first. Ordinary data needs 0 to 1; a dict's keys that share their low 16 bits or
#: more, on which CPython itself is slow, need up to 47 at 100,000 keys (docs/security.rst).
HASH_MAX_PROBES = 64
# Probes any table may spend whatever its size: a small container is never refused for
# bad luck, and a message of many small ones stays linear (each costs at most this).
_SLACK = 1024

# Types whose hash is keyed by the process's secret (unless PYTHONHASHSEED fixes it).
_RANDOMISED = frozenset((str, bytes) if sys.flags.hash_randomization else ())
_M64 = (1 << 64) - 1
# Hashes that reach the cycle are grouped in a dict keyed by bytes, a keyed hash the
# payload cannot flood; the salt keeps those bytes unknown even when PYTHONHASHSEED is set.
_SALT = int.from_bytes(os.urandom(8), "little")


def check_hashes(values: Sequence[Any], table: str, what: str = "value") -> None:
    """Refuse ``values`` whose hashes would make building a CPython ``set`` (``table="set"``)
    or ``dict`` (``table="dict"``) from them, in this order, cost more than linear time.

    ``what`` names a value in the error (``"key"`` for a dict). Raises :class:`DecodeError`
    whose path is the index of the value that broke the bound; an unhashable value raises
    the ``TypeError`` that building the container would.
    """
    if len(values) <= HASH_MAX_EQUAL or _RANDOMISED.issuperset(map(type, values)):
        return
    build = _Build(values, list(map(hash, values)), what, table)
    if table == "set":
        build.set()
    else:
        build.dict()


def check_table(
    values: Sequence[Any],
    hashes: list[int],
    steps: list[int],
    bits: int,
    what: str = "value",
    same: Callable[[Any, Any], bool] | None = None,
) -> None:
    """As :func:`check_hashes`, for a double-hashing table of ``2**bits`` slots built for
    ``values`` (pandas' khash): value ``i`` starts at ``hashes[i]`` and, on a collision,
    steps by ``steps[i]`` (both masked by the table size); ``same`` is the library's
    equality (default ``==``). The table compares values at every probe, so every probe
    after the first counts against :data:`HASH_MAX_PROBES`."""
    if len(values) > HASH_MAX_EQUAL:
        _Build(values, hashes, what, "table", same).double(steps, bits)


# CPython's sets look at this many slots after the probed one before they jump
# (setobject.c LINEAR_PROBES): one cache line, one probe. Dicts jump at once.
_LINEAR_PROBES = 9
_EMPTY = -1
_FOUND = -1


class _Build:
    """One container's build, replayed; ``at`` is the value being inserted.

    The tables grow as CPython 3.10-3.13's do (tests/test_hash_flooding.py checks them
    against sys.getsizeof): a set from 8 slots, grown once 3/5 of them are filled to 4
    times its values (2 times past 50,000) rounded up to a power of two, its values
    re-inserted in slot order; a dict from 8 slots holding 2/3 of their number, doubled
    when full, its keys re-inserted in insertion order.
    """

    def __init__(
        self,
        values: Sequence[Any],
        hashes: list[int],
        what: str,
        table: str,
        same: Callable[[Any, Any], bool] | None = None,
    ) -> None:
        self.values, self.hashes, self.what, self.table = values, hashes, what, table
        self.same = same
        self.allowed = HASH_MAX_PROBES * len(values) + _SLACK
        self.spent = 0  # probes no hash steered, over the whole build
        self.at = 0
        self.last: _Table | None = None  # the last table, once built

    def set(self) -> None:
        t = _Table(8, self, _LINEAR_PROBES)
        owner, taken, hash_at, mask = t.owner, t.taken, t.hash_at, t.mask
        hashes = self.hashes
        fill = 0
        for i, h in enumerate(hashes):
            j = h & mask
            if owner[j] != _EMPTY:
                self.at = i
                j = t.walk_set(i, h, j, True)
                if j == _FOUND:
                    continue
            owner[j], hash_at[j], taken[j] = i, h, 1
            fill += 1
            if fill * 5 >= mask * 3:
                old = owner
                t = _Table(1 << (fill * (2 if fill > 50000 else 4)).bit_length(), self)
                owner, taken, hash_at, mask = t.owner, t.taken, t.hash_at, t.mask
                for k in old:  # in slot order, nothing compared (set_insert_clean)
                    if k != _EMPTY:
                        h = hashes[k]
                        j = h & mask
                        if owner[j] != _EMPTY:
                            j = t.walk_set(k, h, j, False)
                        owner[j], hash_at[j], taken[j] = k, h, 1
        self.last = t

    def dict(self) -> None:
        t = _Table(8, self, 0)
        owner, taken, hash_at, mask = t.owner, t.taken, t.hash_at, t.mask
        hashes = self.hashes
        order: list[int] = []  # the dict's entries, in insertion order
        for i, h in enumerate(hashes):
            j = h & mask
            if owner[j] != _EMPTY:  # a dict looks the key up, then finds a free slot
                self.at = i
                if t.walk_dict(i, h, j, True) == _FOUND:
                    continue
                if len(order) < ((mask + 1) << 1) // 3:
                    j = t.walk_dict(i, h, j, False)
            if len(order) == ((mask + 1) << 1) // 3:  # full: double, re-insert every key
                self.at = i
                t = _Table((mask + 1) << 1, self, 0)
                owner, taken, hash_at, mask = t.owner, t.taken, t.hash_at, t.mask
                for k in order:
                    kh = hashes[k]
                    j = kh & mask
                    if owner[j] != _EMPTY:
                        j = t.walk_dict(k, kh, j, False)
                    owner[j], hash_at[j], taken[j] = k, kh, 1
                j = h & mask
                if owner[j] != _EMPTY:
                    j = t.walk_dict(i, h, j, False)
            owner[j], hash_at[j], taken[j] = i, h, 1
            order.append(i)
        self.last = t

    def double(self, steps: list[int], bits: int) -> None:
        mask = (1 << bits) - 1
        owner = [_EMPTY] * (mask + 1)
        hashes = self.hashes
        for i, h in enumerate(hashes):
            self.at = i
            j = h & mask
            k = owner[j]
            if k == _EMPTY:
                owner[j] = i
                continue
            step = steps[i] & mask
            met: list[int] = []
            start, probes = j, 0
            while True:  # khash compares the values at every probe
                if hashes[k] == h and self.equal(k, i, met):
                    break
                j = (j + step) & mask
                probes += 1
                if self.spent + probes > self.allowed:
                    self.charge(probes)  # refuses
                k = owner[j]
                if k == _EMPTY:
                    owner[j] = i
                    break
                if j == start:  # every slot seen: khash gives up the same way
                    break
            self.spent += probes

    def equal(self, k: int, i: int, met: list[int]) -> bool:
        """Whether value ``k``, which has value ``i``'s hash, is equal to it (the
        comparison the table makes); refuses the one too many distinct values."""
        x, y = self.values[k], self.values[i]
        if x is y or (self.same(x, y) if self.same else x == y):
            return True
        if k not in met:  # perturb can bring a walk back to the same slot
            met.append(k)
            if len(met) >= HASH_MAX_EQUAL:
                raise DecodeError(
                    f"more than {HASH_MAX_EQUAL} distinct {self.what}s share one hash "
                    "(HASH_MAX_EQUAL; hash flooding)",
                    path=[self.at],
                )
        return False

    def charge(self, probes: int) -> None:
        self.spent += probes
        if self.spent > self.allowed:
            raise DecodeError(
                f"building this {self.table} of {len(self.values)} {self.what}s would take "
                f"more than {self.allowed} probes that their hashes do not steer "
                f"(HASH_MAX_PROBES={HASH_MAX_PROBES} per {self.what}; hash flooding)",
                path=[self.at],
            )


class _Table:
    """A CPython set's or dict's slots: ``owner[j]`` is the index of the value in slot
    ``j`` (``_EMPTY``: free), ``hash_at[j]`` its hash. A position is where a probe lands:
    a set looks at its slot and the next ``linear``, a dict at its slot only; it is full
    when they are all taken."""

    def __init__(self, size: int, build: _Build, linear: int = _LINEAR_PROBES) -> None:
        self.mask = size - 1
        self.build = build
        self.linear = linear
        self.owner = [_EMPTY] * size
        self.hash_at: list[int | None] = [None] * size
        self.taken = bytearray(size)
        # union-find over positions, along the cycle j -> 5*j + 1 that every walk ends on:
        # a full position points further along it (positions only ever fill up)
        self.parent: list[int] = []
        self.steps: list[int] = []
        # values whose walk reached the cycle, by hash (salted bytes), and how far they went
        self.cycled: dict[bytes, list[int]] = {}
        self.went: dict[int, int] = {}

    def walk_set(self, i: int, h: int, j: int, compare: bool) -> int:
        """CPython's set probing (setobject.c) for value ``i`` with hash ``h`` from its
        taken first slot ``j`` to the free slot it takes, or ``_FOUND`` when ``compare``
        meets an equal value on the way: at each position the slot and the next
        ``_LINEAR_PROBES`` (one cache line: one probe), then a jump."""
        taken, hash_at, mask = self.taken, self.hash_at, self.mask
        met: list[int] = []
        perturb = h & _M64  # C's (size_t)hash
        while True:  # at most 13 jumps, each steered by 5 more bits of the hash
            end = j + _LINEAR_PROBES + 1 if j + _LINEAR_PROBES < mask else j + 1
            free = taken.find(0, j, end)
            if compare and h in hash_at[j : free if free >= 0 else end]:
                for k in self.owner[j : free if free >= 0 else end]:
                    if self.build.hashes[k] == h and self.build.equal(k, i, met):
                        return _FOUND
            if free >= 0:
                return free
            perturb >>= 5
            j = (j * 5 + perturb + 1) & mask
            if not perturb:
                return self.cycle(i, h, j, compare, met)

    def walk_dict(self, i: int, h: int, j: int, compare: bool) -> int:
        """As :meth:`walk_set`, for CPython's dicts (dictobject.c): one slot per jump."""
        owner, hash_at, mask = self.owner, self.hash_at, self.mask
        met: list[int] = []
        perturb = h & _M64
        while True:
            if compare and hash_at[j] == h and self.build.equal(owner[j], i, met):
                return _FOUND
            perturb >>= 5
            j = (j * 5 + perturb + 1) & mask
            if not perturb:
                return self.cycle(i, h, j, compare, met)
            if owner[j] == _EMPTY:
                return j

    def cycle(self, i: int, h: int, j: int, compare: bool, met: list[int]) -> int:
        """The rest of a walk whose hash is spent: from position ``j`` (one jump) along
        the cycle to a free slot, found with the union-find, charged per jump."""
        build = self.build
        at, went = self.follow(j)
        went += 1  # the jump that reached j
        key = ((h ^ _SALT) & _M64).to_bytes(8, "little")
        same_hash = self.cycled.setdefault(key, [])
        if compare:
            for k in same_hash:  # a lookup stops at an equal value: it costs that far
                if build.equal(k, i, met):
                    build.charge(self.went[k])
                    return _FOUND
        build.charge(went)
        if not same_hash or same_hash[-1] != i:  # a dict's lookup, then its insertion
            same_hash.append(i)
        self.went[i] = went
        linear = self.linear
        return self.taken.find(0, at, at + linear + 1 if at + linear < self.mask else at + 1)

    def follow(self, j: int) -> tuple[int, int]:
        """The first position from ``j`` along the cycle that is not full, and how many
        jumps away it is (path compression keeps this near constant per walk)."""
        if not self.parent:
            self.parent = list(range(self.mask + 1))
            self.steps = [0] * (self.mask + 1)
        parent, steps, taken = self.parent, self.steps, self.taken
        mask, linear = self.mask, self.linear
        path = []
        while True:
            up = parent[j]
            if up == j:
                if taken.find(0, j, j + linear + 1 if j + linear < mask else j + 1) >= 0:
                    break
                up = parent[j] = (j * 5 + 1) & mask
                steps[j] = 1
            path.append(j)
            j = up
        far = 0
        for node in reversed(path):
            far += steps[node]
            parent[node], steps[node] = j, far
        return j, (steps[path[0]] if path else 0)


def check_keys(pairs: Sequence[Sequence[Any]]) -> None:
    """:func:`check_hashes` for the keys of ``[[key, value], ...]`` pairs, the payload of a
    dict or a multi-dict (a dict from each key); the error's path ends at the key."""
    if len(pairs) <= HASH_MAX_EQUAL:  # as check_hashes: too few to flood, no list built
        return
    try:
        check_hashes(list(map(itemgetter(0), pairs)), "dict", "key")
    except DecodeError as exc:
        exc.path.append(0)
        raise
