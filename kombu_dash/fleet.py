"""What :func:`kombu_dash.configure` adds to a Celery app so that one fleet can mix
configured, accept-only and plain (json) workers and clients: no worker crashes, no
value is changed on the way back, and each worker says which kombu_dash it runs.

* **Control plane** (mingle's hello at worker start, ``inspect``, ``ping``, ``revoke``,
  ``celery status``, Flower). Celery asks and answers in the app's ``task_serializer``:
  a json-only worker starting next to a configured one then stops on the first kombu_dash
  reply to its hello (``Unrecoverable error: ContentDisallowed``). Here every question is
  sent as json, which every worker reads, and says which content types the asker reads;
  a configured worker answers in kombu_dash only to an asker that reads it, and in json to
  everyone else, as a plain worker would. An asker that does not say (plain Celery, an
  older kombu_dash) is answered in the content type it asked in.
* **Results** are stored in the serializer their task arrived in, whatever
  ``result_serializer`` says: a json task's result as json (the plain client that sent it
  reads it), a kombu_dash task's result as kombu_dash (its sender reads it whole). Results
  are read with kombu_dash's decoder, which reads plain json unchanged.
* **Visibility**: the worker logs :func:`kombu_dash.engine_info` once when it is ready, and
  its ``inspect conf`` answer holds a ``kombu_dash`` entry (version, engine, JSON backend)
  that ``python -m kombu_dash check`` reports per worker.

Imported by ``configure`` only, never at kombu's entry point: it imports kombu and celery.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import time
from typing import Any

from celery import signals
from celery.app.control import Control as _CeleryControl
from celery.utils.log import get_logger
from celery.utils.saferepr import saferepr
from kombu.common import maybe_declare
from kombu.serialization import dumps, prepare_accept_content, registry
from kombu.utils.json import JSONEncoder

from .default import engine_info
from .serializer import CONTENT_ENCODING, CONTENT_TYPE, SERIALIZER

__all__ = ["CONF_KEY", "Control", "adopt"]

logger = get_logger("kombu_dash")

#: The ``inspect conf`` entry a configured worker answers with: its engine_info() fields
#: and ``accept_only``.
CONF_KEY = "kombu_dash"
#: Body key of a control question: the content types the asker reads replies in. Stock
#: kombu passes unknown body keys to ``Node.dispatch(**kwargs)``, which ignores them.
REPLY_ACCEPT = "kombu_dash_reply_accept"
#: Key the worker adds to a task's request: the content type the task message arrived in.
TASK_CONTENT_TYPE = "kombu_dash_content_type"

_JSON_TYPE = "application/json"
#: The serializers a result is switched between; any other result_serializer is left alone.
_BY_CONTENT_TYPE = {_JSON_TYPE: "json", CONTENT_TYPE: SERIALIZER}

#: Celery apps configure() ran on, and whether with accept_only
_APPS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def adopt(app: Any, *, accept_only: bool) -> None:
    """Install all of the above on ``app``; idempotent, in any order with ``app.control``
    and ``app.backend`` (made before, or not yet)."""
    _APPS[app] = accept_only
    info = engine_info()
    app.conf[CONF_KEY] = {**info._asdict(), "accept_only": accept_only}
    _install_control(app)
    _install_backend(app)
    signals.task_received.connect(
        _on_task_received, weak=False, dispatch_uid="kombu_dash.task_received"
    )
    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="kombu_dash.ready")


# -- the control plane ----------------------------------------------------------------------


def _content_type(serializer: str) -> str | None:
    entry = registry._encoders.get(serializer)
    return entry[0] if entry else None


def _encode_reply(data: Any, serializer: str) -> tuple[str, str, Any]:
    """(content type, encoding, body): in ``serializer``, else json; a value json cannot
    write (a set, a starlette QueryParams among ``inspect active``'s arguments) is written
    as its ``saferepr``, as ``inspect().active(safe=True)`` shows arguments, so the plain
    asker still gets an answer instead of none."""
    for name in dict.fromkeys((serializer, "json")):
        try:
            encoded: tuple[str, str, Any] = dumps(data, serializer=name)
            return encoded
        except Exception:  # kombu.exceptions.EncodeError, whatever the encoder raised
            continue
    logger.warning("control reply: json cannot write some values; they are sent as their repr")
    return _JSON_TYPE, "utf-8", json.dumps(data, cls=_ReprEncoder)


class _ReprEncoder(JSONEncoder):
    def default(self, o: Any) -> Any:
        try:
            return super().default(o)  # type: ignore[no-untyped-call]
        except TypeError:
            return saferepr(o)


class _AnswersAsAsked:
    """Mixed into the mailbox's Node (the worker's end): the answer is written in what the
    asker reads."""

    mailbox: Any
    channel: Any
    _kombu_dash_reply_in: str | None = None

    def handle_message(self, body: Any, message: Any = None) -> Any:
        self._kombu_dash_reply_in = self._reply_serializer(body, message)
        try:
            return super().handle_message(body, message)  # type: ignore[misc]
        finally:
            self._kombu_dash_reply_in = None

    def _reply_serializer(self, body: Any, message: Any) -> str:
        own: str = self.mailbox.serializer
        reads = body.get(REPLY_ACCEPT) if isinstance(body, dict) else None
        if isinstance(reads, list):
            return own if _content_type(own) in reads else "json"
        asked_in = registry.type_to_name.get(getattr(message, "content_type", None))
        return asked_in if isinstance(asked_in, str) else "json"

    def reply(self, data: Any, exchange: Any, routing_key: Any, ticket: Any, **_: Any) -> None:
        content_type, encoding, body = _encode_reply(data, self._kombu_dash_reply_in or "json")
        self.mailbox._publish_reply(
            body,
            exchange,
            routing_key,
            ticket,
            channel=self.channel,
            content_type=content_type,
            content_encoding=encoding,
        )


class _AsksInJson:
    """Mixed into the app's control Mailbox (the asker's end): kombu's ``_publish`` with
    the question in json and the asker's accepted content types in the body."""

    accept: Any
    serializer: str
    connection: Any
    exchange: Any
    reply_exchange: Any
    oid: str
    clock: Any

    reply_queue: Any
    producer_or_acquire: Any

    def _publish(
        self,
        type: str,
        arguments: Any,
        destination: Any = None,
        reply_ticket: Any = None,
        channel: Any = None,
        timeout: Any = None,
        serializer: Any = None,
        producer: Any = None,
        pattern: Any = None,
        matcher: Any = None,
    ) -> None:
        message = {
            "method": type,
            "arguments": arguments,
            "destination": destination,
            "pattern": pattern,
            "matcher": matcher,
            REPLY_ACCEPT: sorted(prepare_accept_content(self.accept)),
        }
        chan = channel or self.connection.default_channel
        if reply_ticket:
            maybe_declare(self.reply_queue(chan))
            message.update(
                ticket=reply_ticket,
                reply_to={"exchange": self.reply_exchange.name, "routing_key": self.oid},
            )
        # json for every question Celery sends; a custom command's arguments json cannot
        # write go in the app's serializer (only workers accepting it will read them).
        content_type, encoding, body = _encode_first(message, ("json", self.serializer))
        with self.producer_or_acquire(producer, chan) as publisher:
            publisher.publish(
                body,
                exchange=self.exchange.name,
                declare=[self.exchange],
                headers={
                    "clock": self.clock.forward(),
                    "expires": time() + timeout if timeout else 0,
                },
                content_type=content_type,
                content_encoding=encoding,
                retry=True,
            )


def _encode_first(data: Any, serializers: Iterable[str]) -> tuple[str, str, Any]:
    error: Exception | None = None
    for name in dict.fromkeys(serializers):
        try:
            encoded: tuple[str, str, Any] = dumps(data, serializer=name)
            return encoded
        except Exception as exc:
            error = exc
    assert error is not None
    raise error


_MIXED: dict[tuple[type, type], type] = {}


def _mixed(mixin: type, base: type, **attrs: Any) -> type:
    """``base`` with ``mixin`` in front, made once per pair."""
    if issubclass(base, mixin):
        return base
    key = (mixin, base)
    if key not in _MIXED:
        _MIXED[key] = type(f"KombuDash{base.__name__}", (mixin, base), attrs)
    return _MIXED[key]


def _mailbox_class(base: type) -> type:
    node: type = base.node_cls  # type: ignore[attr-defined]
    return _mixed(_AsksInJson, base, node_cls=_mixed(_AnswersAsAsked, node))


def _adopt_mailbox(mailbox: Any, app: Any) -> None:
    mailbox.__class__ = _mailbox_class(type(mailbox))
    conf = app.conf
    # what replies are written in for askers that read it
    mailbox.serializer = conf.task_serializer
    # questions come in json (and from older askers in their task serializer)
    mailbox.accept = list(dict.fromkeys([*(conf.accept_content or ()), "json"]))


class Control(_CeleryControl):  # type: ignore[misc]  # celery is untyped
    """Celery's ``Control`` with the mailbox described in the module docstring; the
    ``control_cls`` of a configured app whose ``app.control`` was not made yet."""

    def __init__(self, app: Any = None) -> None:
        super().__init__(app)
        _adopt_mailbox(self.mailbox, app)


_CELERY_CONTROL = ("celery.app.control:Control", _CeleryControl)


def _install_control(app: Any) -> None:
    if "control" in vars(app):  # app.control (a cached property) was already made
        _adopt_mailbox(app.control.mailbox, app)
    elif app.control_cls in _CELERY_CONTROL:
        app.control_cls = f"{__name__}:Control"  # a name: the app pickles it
    else:  # the app's own Control class: made now, then adopted
        _adopt_mailbox(app.control.mailbox, app)


# -- results ---------------------------------------------------------------------------------

#: (backend, serializer) while a result is stored for a task that arrived in that serializer
_STORING: ContextVar[tuple[Any, str] | None] = ContextVar("kombu_dash_storing", default=None)


class _ResultsAsTasksCame:
    """Mixed into the app's result backend class: ``serializer`` is the task's own while
    its result is stored. A context variable, not the attribute: a backend can be shared
    by threads (``result_backend_thread_safe``)."""

    __dict__: dict[str, Any]

    @property
    def serializer(self) -> str:
        storing = _STORING.get()
        if storing is not None and storing[0] is self:
            return storing[1]
        name: str = self.__dict__["serializer"]  # what Celery's __init__ set
        return name

    @serializer.setter
    def serializer(self, name: str) -> None:
        self.__dict__["serializer"] = name

    def store_result(
        self,
        task_id: Any,
        result: Any,
        state: Any,
        traceback: Any = None,
        request: Any = None,
        **kwargs: Any,
    ) -> Any:
        with self._as_task_came(request):
            return super().store_result(  # type: ignore[misc]
                task_id, result, state, traceback=traceback, request=request, **kwargs
            )

    def on_chord_part_return(self, request: Any, state: Any, result: Any, **kwargs: Any) -> Any:
        # the header's results are kept for the chord's callback in the backend too
        with self._as_task_came(request):
            return super().on_chord_part_return(request, state, result, **kwargs)  # type: ignore[misc]

    def __reduce__(self, args: Any = (), kwargs: Any = None) -> Any:
        # Celery's backends pickle as (unpickle_backend, (class, args, kwargs)): name the
        # backend's own class, which pickle can find by name (configure() adopts it again).
        reduce: Any = super().__reduce__  # Celery's, with (args, kwargs)
        unpickle, (_, args, kwargs) = reduce(args, kwargs)
        return unpickle, (type(self).__mro__[2], args, kwargs)

    @contextmanager
    def _as_task_came(self, request: Any) -> Iterator[None]:
        name = _task_serializer(request)
        if name is None or self.__dict__["serializer"] not in _BY_CONTENT_TYPE.values():
            yield  # a request from elsewhere (or none), or a result_serializer left alone
            return
        token = _STORING.set((self, name))
        try:
            yield
        finally:
            _STORING.reset(token)


def _task_serializer(request: Any) -> str | None:
    content_type = getattr(request, TASK_CONTENT_TYPE, None)
    if content_type is None:  # AMQP messages carry it in their properties already
        properties = getattr(request, "properties", None)
        content_type = properties.get("content_type") if isinstance(properties, dict) else None
    return _BY_CONTENT_TYPE.get(content_type) if isinstance(content_type, str) else None


def _adopt_backend(backend: Any, app: Any) -> None:
    backend.__class__ = _mixed(_ResultsAsTasksCame, type(backend))
    conf = app.conf
    # A backend made before configure() read the old settings.
    backend.serializer = conf.result_serializer
    backend.encoder = registry._encoders[backend.serializer][2]
    backend.accept = prepare_accept_content(conf.result_accept_content or conf.accept_content)
    backend.content_type, backend.content_encoding = registry._encoders[backend.serializer][:2]
    if backend.serializer in _BY_CONTENT_TYPE.values() and CONTENT_TYPE in backend.accept:
        # A reader of both: plain json decodes the same with kombu_dash's decoder.
        backend.content_type, backend.content_encoding = CONTENT_TYPE, CONTENT_ENCODING


def _install_backend(app: Any) -> None:
    current = app._backend  # this thread's (or the shared one), if one was made
    if current is not None:
        _adopt_backend(current, app)
    if "_get_backend" in vars(app):
        return
    make = app._get_backend

    def _get_backend() -> Any:  # every backend the app makes from now on, in any thread
        backend = make()
        _adopt_backend(backend, app)
        return backend

    app._get_backend = _get_backend


# -- the worker ------------------------------------------------------------------------------


def _on_task_received(sender: Any = None, request: Any = None, **_: Any) -> None:
    # In the worker's main process, before the request reaches any pool: the pool child
    # gets the request dict (it becomes task.request, which the backend is given) but not
    # the message's content type.
    if getattr(sender, "app", None) in _APPS and request is not None:
        message = getattr(request, "message", None)
        request.request_dict[TASK_CONTENT_TYPE] = getattr(message, "content_type", None)


def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None)
    if app not in _APPS:
        return
    how = "configure(app, accept_only=True)" if _APPS[app] else "configure(app)"
    logger.info(
        "%s, %s: results as their task arrived; control replies as each asker reads",
        engine_info(),
        how,
    )
