"""The kombu binding: serializer ``kombu_dash``, content type
``application/x-kombu-dash+json``, and Celery configuration.

kombu is imported inside the functions: this module is loaded through the
``kombu.serializers`` entry point while ``kombu.serialization`` itself is still
importing, and importing kombu or celery here would be circular (kombu issue 473).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .default import default_codec
from .errors import KombuDashError

if TYPE_CHECKING:  # never at run time: see the module docstring
    from celery import Celery

__all__ = [
    "SERIALIZER",
    "CONTENT_TYPE",
    "CONTENT_ENCODING",
    "register",
    "configure",
    "encode",
    "decode",
    "ENTRY_POINT",
]

SERIALIZER = "kombu_dash"
CONTENT_TYPE = "application/x-kombu-dash+json"
CONTENT_ENCODING = "utf-8"


def encode(obj: Any) -> bytes:
    try:
        return default_codec.dumpb(obj)
    except KombuDashError as exc:
        _name_celery_path(obj, exc)
        raise  # kombu wraps it: kombu.exceptions.EncodeError(exc)


def decode(data: Any) -> Any:
    return default_codec.loads(data)


_EMBED = frozenset(("callbacks", "errbacks", "chain", "chord"))
_META = frozenset(("result", "args", "kwargs"))


def _name_celery_path(obj: Any, exc: Any) -> None:
    """Name the error's place from Celery's message, as users know it: ``args[0]``,
    ``kwargs['file']``, ``result['rows'][2]``, instead of ``value[0][0]``."""
    path = exc.path
    if not path or exc.root != "value":
        return
    t = type(obj)
    if (
        t is tuple
        and len(obj) == 3
        and type(obj[1]) is dict
        and type(obj[2]) is dict
        and obj[2].keys() <= _EMBED
    ):
        # a task message (protocol 2): (args, kwargs, {callbacks, errbacks, chain, chord})
        if path[0] == 2 and len(path) > 1:
            exc.root, exc.path = path[1], path[2:]  # chain[0]['kwargs']...
        elif path[0] in (0, 1):
            exc.root, exc.path = ("args", "kwargs")[path[0]], path[1:]
    elif t is dict and "status" in obj and "result" in obj and path[0] in _META:
        # a result backend's meta: {status, result, traceback, ..., args, kwargs}
        exc.root, exc.path = path[0], path[1:]
    elif t is dict and "task" in obj and "id" in obj and path[0] in ("args", "kwargs"):
        # a task message (protocol 1): {task, id, args, kwargs, ...}
        exc.root, exc.path = path[0], path[1:]


#: What the ``kombu.serializers`` entry point names: (encoder, decoder, type, encoding).
ENTRY_POINT = (encode, decode, CONTENT_TYPE, CONTENT_ENCODING)


def register() -> None:
    """Register the ``kombu_dash`` serializer with kombu (idempotent).

    Installing the package already does this through its entry point; call it where
    entry points are not loaded (a zipapp, a frozen build).
    """
    from kombu.serialization import register as kombu_register
    from kombu.serialization import registry

    if registry._encoders.get(SERIALIZER) == (CONTENT_TYPE, CONTENT_ENCODING, encode):
        return
    kombu_register(
        SERIALIZER, encode, decode, content_type=CONTENT_TYPE, content_encoding=CONTENT_ENCODING
    )


_JSON = ("json", "application/json")


def _accept(names: Any, keep_json: bool) -> list[str]:
    out = [n for n in (names or ()) if keep_json or n not in _JSON]
    for name in (SERIALIZER, "json") if keep_json else (SERIALIZER,):
        if name not in out:
            out.append(name)
    return out


def configure(app: Celery, *, keep_json: bool = True, accept_only: bool = False) -> Celery:
    """Make a Celery app send tasks and results as kombu_dash and accept them.

    Sets ``task_serializer`` and ``result_serializer`` to ``kombu_dash`` and adds it
    to ``accept_content`` and ``result_accept_content``. With ``keep_json`` (the
    default) ``json`` stays accepted. Events keep their own serializer. Returns the app.

    For a fleet that mixes it with plain workers and clients (``kombu_dash.fleet``):
    control messages (inspect, ping, revoke) are asked in json and answered in what each
    asker reads; a worker stores each result in the serializer its task arrived in; the
    worker logs :func:`kombu_dash.engine_info` when it is ready and reports it in
    ``inspect conf``. Calling it again changes nothing, before or after ``app.control`` or
    ``app.backend`` were first used.

    A fleet upgrades in steps (docs/operations.rst, "Rolling upgrade"): ``accept_only=True``
    everywhere first (only the accept lists change: tasks are still sent as json), then
    ``configure(app)`` everywhere, and ``keep_json=False`` once no json is left.
    """
    register()
    conf = app.conf
    before = conf.task_serializer
    accept = {
        "accept_content": _accept(conf.accept_content, keep_json),
        # result_accept_content falls back to accept_content when unset
        "result_accept_content": _accept(
            conf.result_accept_content or conf.accept_content, keep_json
        ),
    }
    if accept_only:
        conf.update(accept)
    else:
        conf.update(task_serializer=SERIALIZER, result_serializer=SERIALIZER, **accept)
        # A task already bound (its name or .delay was used) copied task_serializer when
        # it was bound: give it the new one (one that set serializer= to the old default
        # too).
        for task in list(getattr(app, "_tasks", {}).values()):
            if getattr(task, "serializer", None) == before and not task.name.startswith("celery."):
                task.serializer = SERIALIZER
                task._exec_options = None  # Celery caches the options it sends with
    from . import fleet  # imports celery: never at the entry point (module docstring)

    fleet.adopt(app, accept_only=accept_only)
    return app
