"""The kombu binding: serializer ``kombu_dash``, content type
``application/x-kombu-dash+json``, and Celery configuration.

kombu is imported inside the functions: this module is loaded through the
``kombu.serializers`` entry point while ``kombu.serialization`` itself is still
importing, and importing kombu or celery here would be circular (kombu issue 473).
"""

from __future__ import annotations

from .default import default_codec

__all__ = ["SERIALIZER", "CONTENT_TYPE", "CONTENT_ENCODING", "register", "configure",
           "encode", "decode", "ENTRY_POINT"]

SERIALIZER = "kombu_dash"
CONTENT_TYPE = "application/x-kombu-dash+json"
CONTENT_ENCODING = "utf-8"


def encode(obj) -> bytes:
    return default_codec.dumpb(obj)


def decode(data):
    return default_codec.loads(data)


#: What the ``kombu.serializers`` entry point names: (encoder, decoder, type, encoding).
ENTRY_POINT = (encode, decode, CONTENT_TYPE, CONTENT_ENCODING)


def register() -> None:
    """Register the ``kombu_dash`` serializer with kombu (idempotent).

    Installing the package already does this through its entry point; call it where
    entry points are not loaded (a zipapp, a frozen build).
    """
    from kombu.serialization import register as kombu_register, registry

    if registry._encoders.get(SERIALIZER) == (CONTENT_TYPE, CONTENT_ENCODING, encode):
        return
    kombu_register(SERIALIZER, encode, decode, content_type=CONTENT_TYPE, content_encoding=CONTENT_ENCODING)


_JSON = ("json", "application/json")


def _accept(names, keep_json: bool) -> list:
    out = [n for n in (names or ()) if keep_json or n not in _JSON]
    for name in (SERIALIZER, "json") if keep_json else (SERIALIZER,):
        if name not in out:
            out.append(name)
    return out


def configure(app, *, keep_json: bool = True, accept_only: bool = False):
    """Make a Celery app send tasks and results as kombu_dash and accept them.

    Sets ``task_serializer`` and ``result_serializer`` to ``kombu_dash`` and adds it
    to ``accept_content`` and ``result_accept_content``. With ``keep_json`` (the
    default) ``json`` stays accepted. Events keep their own serializer. Returns the app.

    A fleet upgrades in steps (README, "Rolling upgrade"): ``accept_only=True``
    everywhere first (only the accept lists change, nothing is sent as kombu_dash),
    then ``configure(app)`` everywhere, and ``keep_json=False`` once no json is left.
    """
    register()
    conf = app.conf
    before = conf.task_serializer
    accept = {
        "accept_content": _accept(conf.accept_content, keep_json),
        # result_accept_content falls back to accept_content when unset
        "result_accept_content": _accept(conf.result_accept_content or conf.accept_content, keep_json),
    }
    if accept_only:
        conf.update(accept)
        return app
    conf.update(task_serializer=SERIALIZER, result_serializer=SERIALIZER, **accept)
    # A task already bound (its name or .delay was used) copied task_serializer when it
    # was bound: give it the new one (one that set serializer= to the old default too).
    for task in list(getattr(app, "_tasks", {}).values()):
        if getattr(task, "serializer", None) == before and not task.name.startswith("celery."):
            task.serializer = SERIALIZER
            task._exec_options = None  # Celery caches the options it sends with
    return app
