"""What an installed binary wheel must give, checked in the environment it was installed in.

    python tests/wheels/engine_check.py                      # C engine and orjson (the default)
    python tests/wheels/engine_check.py --engine python --json json

Run by cibuildwheel after each build (pyproject.toml, test-command) and by
tests/wheels/test_wheel_in_container.py inside a container that has no compiler. It
imports nothing from the source tree: only what was installed.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="c", choices=("c", "python"))
    ap.add_argument("--json", default="orjson", choices=("orjson", "json"))
    args = ap.parse_args(argv)

    # As Celery starts: kombu loads every kombu.serializers entry point here, kombu_dash's too.
    import kombu.serialization as ks

    import kombu_dash

    info = kombu_dash.engine_info()
    print(f"{info} from {kombu_dash.__file__}")
    problems = []
    if (info.engine, info.json) != (args.engine, args.json):
        problems.append(f"want engine {args.engine!r} with {args.json!r}, got {info!r}")
    if "kombu_dash" not in ks.registry._encoders:
        problems.append("the kombu.serializers entry point did not register kombu_dash")
    else:
        value = {"args": (1, 2), "tags": {"a", "b"}}
        content_type, encoding, body = ks.dumps(value, serializer="kombu_dash")
        back = ks.loads(body, content_type, encoding, accept={content_type})
        if back != value or type(back["args"]) is not tuple or type(back["tags"]) is not set:
            problems.append(f"kombu round trip gave {back!r} for {value!r}")
    for problem in problems:
        print(f"engine_check: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
