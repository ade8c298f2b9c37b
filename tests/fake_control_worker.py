"""A process that answers Celery's control mailbox the way a hostile or broken node could.

    python tests/fake_control_worker.py BROKER_URL QUEUE MODE

It binds a queue to the ``celery.pidbox`` fanout exchange exactly as a worker does (so
it sees every ``inspect``/``control`` question) and answers each question that asks
for a reply on the asker's reply queue, with the asker's ticket: only the content of
the answer differs from a real worker's. It prints "ready" once it listens.

Modes (see tests/test_cli.py): ``not-a-dict``, ``queues-not-a-list``, ``conf-not-a-dict``,
``accept-not-a-list``, ``undecodable``, ``huge`` (2 MiB), ``drip`` (a well-formed answer from a new
hostname every 0.3 s, for ever, to each question: a queue elsewhere, a plain json conf).
Sent as kombu_dash, for tests/test_bounded_printing.py: ``nested-errors`` (errors nested in
each other's path, which printed 134 million characters from 2.5 KB) and ``error-list`` (big
errors full of escapes).
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from typing import Any

from kombu import Connection, Consumer, Exchange, Producer, Queue

HOST = "fake@kd"


def error(message: str, path: list[Any]) -> Any:
    return {
        "~kombu_dash.Error": {
            "kind": "DecodeError",
            "message": message,
            "root": "value",
            "path": path,
            "tag": None,
        }
    }


def nested_errors(depth: int = 25) -> Any:
    value = error("'\"", [])
    for _ in range(depth):
        value = error("'\"\\", [value, "k"])
    return value


def answer(mode: str, method: str, queue: str) -> Any:
    """The (decoded) reply body for one question."""
    if mode == "nested-errors":
        return {HOST: [nested_errors()]}
    if mode == "error-list":
        return {HOST: [error("\x1b[2J'\"\n" * 5000, ["\x1b" * 50] * 200)] * 3}
    if mode == "not-a-dict":
        return ["not", "a", "dict"]
    if mode == "huge":
        return {HOST: "x" * (2 << 20)}
    if mode == "queues-not-a-list" and method == "active_queues":
        return {HOST: 5}
    if method == "active_queues":
        return {HOST: [{"name": queue}]}
    if mode == "conf-not-a-dict" and method == "conf":
        return {HOST: "not a dict"}
    if mode == "accept-not-a-list" and method == "conf":
        return {HOST: {"accept_content": 5, "result_serializer": "json"}}
    return {HOST: {"accept_content": ["json", "kombu_dash"], "result_serializer": "kombu_dash"}}


def main(broker: str, queue: str, mode: str) -> None:
    conn = Connection(broker)
    pidbox = Exchange("celery.pidbox", type="fanout", durable=False, delivery_mode="transient")
    listen = Queue(
        f"{HOST}.celery.pidbox.{uuid.uuid4().hex}", exchange=pidbox, durable=False, auto_delete=True
    )
    producer = Producer(conn.channel())

    def reply(request: dict[str, Any], body: Any, producer: Producer = producer) -> None:
        target = request["reply_to"]
        exchange = Exchange(
            target["exchange"], type="direct", durable=False, delivery_mode="transient"
        )
        headers = {"ticket": request["ticket"], "clock": 1}
        if mode == "undecodable":
            producer.publish(
                b'{"fake@kd": [1, 2',
                exchange=exchange,
                routing_key=target["routing_key"],
                headers=headers,
                content_type="application/x-kombu-dash+json",
                content_encoding="utf-8",
            )
        else:
            tagged = mode in ("nested-errors", "error-list")
            producer.publish(
                json.dumps(body),
                exchange=exchange,
                routing_key=target["routing_key"],
                headers=headers,
                content_type="application/x-kombu-dash+json" if tagged else "application/json",
                content_encoding="utf-8",
            )

    def drip(request: dict[str, Any]) -> None:
        # Never-ending, each reply well-formed: Celery's broadcast restarts its wait at
        # every reply, so this alone held `check` for ever.
        own = Producer(Connection(broker).channel())  # connections are not thread-safe
        if request.get("method") == "conf":
            shaped: Any = {"accept_content": ["json"], "result_serializer": "json"}
        else:
            shaped = [{"name": "elsewhere"}]
        n = 0
        while True:
            n += 1
            reply(request, {f"drip-{n}@kd": shaped}, own)
            time.sleep(0.3)

    def on_message(body: Any, message: Any) -> None:
        if not isinstance(body, dict) or not body.get("reply_to"):
            return
        if mode == "drip":
            threading.Thread(target=drip, args=(body,), daemon=True).start()
        else:
            reply(body, answer(mode, body.get("method", ""), queue))

    with Consumer(conn.channel(), [listen], callbacks=[on_message], accept=["json"], no_ack=True):
        try:
            conn.drain_events(timeout=0.2)  # Redis subscribes to the fanout here
        except TimeoutError:  # socket.timeout
            pass
        print("ready", flush=True)
        while True:
            try:
                conn.drain_events(timeout=1)
            except TimeoutError:  # socket.timeout
                pass


if __name__ == "__main__":
    main(*sys.argv[1:4])
