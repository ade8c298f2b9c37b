"""``python -m kombu_dash decode [FILE]``: print what a queued message holds.

Reads a kombu_dash message body from FILE or stdin, decodes it with the same codec a
worker uses (so a body a worker would refuse is refused here, with the path to the
bad value), and prints the value. It also takes the envelope kombu's Redis transport
stores (``redis-cli LINDEX <queue> 0``): a JSON object whose ``body`` is base64, with
its content type and optional compression in the envelope.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import pprint
import sys

__all__ = ["main", "unwrap"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m kombu_dash decode",
        description="Decode a kombu_dash message body (or a kombu Redis envelope holding one) "
                    "and print the value.",
        epilog="exit codes: 0 decoded; 1 not decodable (the error names the path and tag); "
               "2 bad arguments or unreadable file",
    )
    p.add_argument("file", nargs="?", default="-", help="file to read (default: stdin)")
    p.add_argument("--json", action="store_true",
                   help="print the tagged wire form, pretty-printed, instead of the Python repr")
    return p


def unwrap(data: bytes):
    """``(body, content_type, info)``: the body inside a kombu Redis envelope, or ``data``
    itself (content type None) when it is not one."""
    from . import CONTENT_TYPE

    stripped = data.lstrip()
    if not stripped.startswith(b"{") or b'"properties"' not in data or b'"body"' not in data:
        return data, None, {}
    try:
        env = json.loads(data)
    except ValueError:
        return data, None, {}
    if not (isinstance(env, dict) and isinstance(env.get("properties"), dict)
            and isinstance(env.get("body"), str) and len(env) <= 6):
        return data, None, {}
    props, headers = env["properties"], env.get("headers") or {}
    body = env["body"]
    if props.get("body_encoding") == "base64":
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"envelope body is not valid base64: {exc}") from None
    else:
        raw = body.encode("utf-8")
    compression = headers.get("compression") if isinstance(headers, dict) else None
    if compression:
        from kombu.compression import decompress

        raw = decompress(raw, compression)
    info = {k: headers.get(k) for k in ("task", "id") if isinstance(headers, dict) and headers.get(k)}
    return raw, env.get("content-type") or CONTENT_TYPE, info


def main(argv=None) -> int:
    from . import CONTENT_TYPE, DecodeError
    from .default import default_codec

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
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    try:
        body, content_type, info = unwrap(data)
    except Exception as exc:
        print(f"cannot unwrap the message envelope: {exc}", file=sys.stderr)
        return 1
    if content_type is not None:
        desc = " ".join(f"{k}={v}" for k, v in info.items())
        print(f"# kombu envelope: content-type {content_type} {desc}".rstrip(), file=sys.stderr)
        if content_type not in (CONTENT_TYPE, "application/json"):
            print(f"content type {content_type!r} is neither kombu_dash nor json: not decoded",
                  file=sys.stderr)
            return 1
    try:
        value = default_codec.loads(body)
    except DecodeError as exc:
        print(f"not a valid kombu_dash message: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    else:
        print(pprint.pformat(value, width=100, sort_dicts=False))
    return 0
