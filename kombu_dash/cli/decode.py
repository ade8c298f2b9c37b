"""``python -m kombu_dash decode [FILE]``: print what a queued message holds.

Reads a kombu_dash message body from FILE or stdin, decodes it with the same codec a
worker uses (so a body a worker would refuse is refused here, with the path to the
bad value), and prints the value. It also takes the envelope kombu's Redis transport
stores (``redis-cli LINDEX <queue> 0``): a JSON object whose ``body`` is base64, with
its content type and optional compression in the envelope.

What it reads may be hostile: a body is never decompressed past ``--max-size`` bytes,
at most ``MAX_OUTPUT`` characters of the value are formatted and printed, every
character it prints that a terminal could act on (ESC, other control and format
characters) is shown escaped, and any failure is a message and exit code 1, never a
traceback.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import bz2
import json
import lzma
import pprint
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..printing import bounded_repr

if TYPE_CHECKING:
    from ..codec import Codec

__all__ = ["DEFAULT_MAX_SIZE", "MAX_OUTPUT", "decompress", "escape", "main", "unwrap"]

#: Bytes a body may have once decompressed (a 1 KB bz2 body can expand to gigabytes).
DEFAULT_MAX_SIZE = 64 * 1024 * 1024
#: Characters of the value (or of ``--json``'s wire form) printed; the rest is cut and the
#: cut is said on stderr. Nothing past it is formatted.
MAX_OUTPUT = 1_000_000
# Values whose repr fits in this are pretty-printed (pprint formats each level again).
_PRETTY = 20_000


class TooBig(ValueError):
    """A body over ``--max-size`` bytes."""


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kombu_dash decode",
        description="Decode a kombu_dash message body (or a kombu Redis envelope holding one) "
        "and print the value. Control characters in the output are escaped.",
        epilog="exit codes: 0 decoded; 1 not decodable (the error names the path and tag), "
        "over --max-size, or not printable; 2 bad arguments or unreadable file",
    )
    p.add_argument("file", nargs="?", default="-", help="file to read (default: stdin)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the tagged wire form, pretty-printed, instead of the Python repr",
    )
    p.add_argument(
        "--max-size",
        type=_size,
        default=DEFAULT_MAX_SIZE,
        metavar="BYTES",
        help=f"refuse a body larger than this once decompressed (default: {DEFAULT_MAX_SIZE})",
    )
    return p


def escape(text: str, *, json_form: bool = False) -> str:
    """``text`` with every non-printable character but newline written as an escape
    (``\\x1b``, ``\\u202e``; JSON's ``\\u001b`` with ``json_form``): nothing in a
    message can drive the terminal (ESC sequences, C1 controls, bidi overrides)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\n" else _escaped(c, json_form) for c in text)


def _escaped(c: str, json_form: bool) -> str:
    n = ord(c)
    if json_form:
        if n > 0xFFFF:  # JSON spells it as a surrogate pair
            n -= 0x10000
            return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"
        return f"\\u{n:04x}"
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"


def _say(text: str, stream: Any = None, *, json_form: bool = False) -> None:
    print(escape(text, json_form=json_form), file=stream or sys.stdout)


class _Output:
    """Decompressed pieces and their total: no buffer that grows by reallocation (a copy
    at each step could hold twice the limit at once); joined once, under the limit."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, piece: bytes) -> None:
        self.parts.append(piece)
        self.size += len(piece)

    def room(self, limit: int) -> int:
        # At most 1 MiB per call, and never more than one byte past the limit.
        return min(1 << 20, limit + 1 - self.size)


def _streamed(make: Callable[[], Any], raw: bytes, limit: int) -> bytes:
    # bz2 and lzma decompressors: ask for at most limit + 1 bytes, then keep asking while
    # output is pending (needs_input False) and the limit is not passed.
    # Concatenated streams are read one after the other, as bz2/lzma.decompress do.
    out = _Output()
    while True:
        d = make()
        out.add(d.decompress(raw, out.room(limit)))
        while out.size <= limit and not d.eof and not d.needs_input:
            out.add(d.decompress(b"", out.room(limit)))
        if out.size > limit:
            raise TooBig(limit)
        if not d.eof:
            raise ValueError("compressed body is truncated")
        raw = d.unused_data
        if not raw:
            return b"".join(out.parts)


def _zlib(raw: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header
    out = _Output()
    out.add(d.decompress(raw, out.room(limit)))
    while out.size <= limit and not d.eof:
        more = d.decompress(d.unconsumed_tail, out.room(limit))
        if not more and not d.unconsumed_tail:
            break  # input exhausted before the end of the stream: truncated
        out.add(more)
    if out.size > limit:
        raise TooBig(limit)
    if not d.eof:
        raise ValueError("compressed body is truncated")
    return b"".join(out.parts)


# kombu's compression content types (kombu.compression), each decompressed with a bound.
_DECOMPRESS: dict[str, Callable[[bytes, int], bytes]] = {
    "application/x-gzip": _zlib,  # kombu's name for zlib (and gzip)
    "application/x-bz2": lambda raw, n: _streamed(bz2.BZ2Decompressor, raw, n),
    "application/x-lzma": lambda raw, n: _streamed(lzma.LZMADecompressor, raw, n),
}


def decompress(raw: bytes, compression: str, limit: int = DEFAULT_MAX_SIZE) -> bytes:
    """``raw`` decompressed, refused with :class:`TooBig` past ``limit`` bytes."""
    try:
        from kombu.compression import _aliases

        compression = _aliases.get(compression, compression)
    except ImportError:  # pragma: no cover - kombu is a dependency
        pass
    if compression not in _DECOMPRESS:
        raise ValueError(
            f"compression {compression!r} is not one decode can bound "
            f"({', '.join(_DECOMPRESS)}): not decompressed"
        )
    try:
        return _DECOMPRESS[compression](raw, limit)
    except (zlib.error, OSError, lzma.LZMAError, EOFError) as exc:
        raise ValueError(f"compressed body is corrupt ({compression}): {exc}") from None


def unwrap(
    data: bytes, max_size: int = DEFAULT_MAX_SIZE
) -> tuple[bytes, str | None, dict[str, Any]]:
    """``(body, content_type, info)``: the body inside a kombu Redis envelope, or ``data``
    itself (content type None) when it is not one."""
    from ..serializer import CONTENT_TYPE

    stripped = data.lstrip()
    if not stripped.startswith(b"{") or b'"properties"' not in data or b'"body"' not in data:
        return data, None, {}
    try:
        env = json.loads(data)
    except ValueError:
        return data, None, {}
    if not (
        isinstance(env, dict)
        and isinstance(env.get("properties"), dict)
        and isinstance(env.get("body"), str)
        and len(env) <= 6
    ):
        return data, None, {}
    props, headers = env["properties"], env.get("headers") or {}
    if not isinstance(headers, dict):
        headers = {}
    body = env["body"]
    if props.get("body_encoding") == "base64":
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"envelope body is not valid base64: {exc}") from None
    else:
        raw = body.encode("utf-8")
    compression = headers.get("compression")
    if compression:
        if not isinstance(compression, str):
            raise ValueError(f"envelope compression is not a name: {compression!r}")
        raw = decompress(raw, compression, max_size)
    info = {k: headers.get(k) for k in ("task", "id") if headers.get(k)}
    content_type = env.get("content-type") or CONTENT_TYPE
    return raw, content_type if isinstance(content_type, str) else repr(content_type), info


def _codec() -> Codec:
    from ..default import default_codec

    return default_codec


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as f:
                data = f.read()
    except OSError as exc:
        _say(f"cannot read {args.file}: {exc}", sys.stderr)
        return 2
    try:
        return _decode(data, args)
    except BrokenPipeError:
        raise  # the reader went away (`| head`): python -m kombu_dash ends quietly
    except Exception as exc:
        # Whatever a hostile body does (a repr that raises, a value too deep to print),
        # the user gets one line and exit 1, not a traceback.
        _say(f"cannot decode or print this message: {type(exc).__name__}: {exc}", sys.stderr)
        return 1


def _decode(data: bytes, args: argparse.Namespace) -> int:
    from ..errors import DecodeError
    from ..serializer import CONTENT_TYPE

    try:
        body, content_type, info = unwrap(data, args.max_size)
    except TooBig:
        _say(
            f"the message body is larger than {args.max_size} bytes once decompressed "
            "(--max-size): not decoded",
            sys.stderr,
        )
        return 1
    except ValueError as exc:
        _say(f"cannot unwrap the message envelope: {exc}", sys.stderr)
        return 1
    if content_type is not None:
        desc = " ".join(f"{k}={v}" for k, v in info.items())
        _say(f"# kombu envelope: content-type {content_type} {desc}".rstrip(), sys.stderr)
        if content_type not in (CONTENT_TYPE, "application/json"):
            _say(
                f"content type {content_type!r} is neither kombu_dash nor json: not decoded",
                sys.stderr,
            )
            return 1
    if len(body) > args.max_size:
        _say(
            f"the message body is larger than {args.max_size} bytes (--max-size): not decoded",
            sys.stderr,
        )
        return 1
    try:
        value = _codec().loads(body)
    except DecodeError as exc:
        _say(f"not a valid kombu_dash message: {exc}", sys.stderr)
        return 1
    if args.json:
        # Outside strings JSON is ASCII, so every escape lands inside a string: still JSON.
        chunks = json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(json.loads(body))
        text, cut = _first(chunks, MAX_OUTPUT)
        _say(text, json_form=True)
    else:
        text = bounded_repr(value, MAX_OUTPUT)
        cut = len(text) > MAX_OUTPUT
        if len(text) <= _PRETTY:  # pprint re-formats each level: only small values
            text, cut = _first(pprint.pformat(value, width=100, sort_dicts=False), MAX_OUTPUT)
        _say(text)
    if cut:
        _say(f"# output cut at {MAX_OUTPUT} characters", sys.stderr)
    return 0


def _first(chunks: Iterable[str], limit: int) -> tuple[str, bool]:
    """The first ``limit`` characters of the chunks (then ``…``), and whether it was cut;
    the chunks past it are never made."""
    out, size = [], 0
    for chunk in chunks:
        if size + len(chunk) > limit:
            out.append(chunk[: limit - size] + "…")
            return "".join(out), True
        out.append(chunk)
        size += len(chunk)
    return "".join(out), False
