"""The few Docker Engine API calls the fault tests make, over the engine's unix socket
(mounted into the tests container by docker-compose.yml). Standard library only."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any
from urllib.parse import quote, urlencode

SOCKET = "/var/run/docker.sock"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


class DockerError(RuntimeError):
    pass


class Docker:
    def __init__(self, path: str = SOCKET):
        self.path = path

    def call(
        self,
        method: str,
        url: str,
        body: Any = None,
        timeout: float = 60,
        ok: tuple[int, ...] = (200, 201, 204, 304),
    ) -> Any:
        conn = _UnixConnection(self.path, timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if data is not None else {}
            conn.request(method, url, body=data, headers=headers)
            answer = conn.getresponse()
            raw = answer.read()
        finally:
            conn.close()
        if answer.status not in ok:
            raise DockerError(f"{method} {url}: {answer.status} {raw[:500]!r}")
        if answer.getheader("Content-Type", "").startswith("application/json") and raw:
            return json.loads(raw)
        return raw

    # -- containers ------------------------------------------------------------------
    def inspect(self, ref: str) -> dict:
        return self.call("GET", f"/containers/{quote(ref)}/json")

    def containers(self, project: str, service: str, *, all: bool = False) -> list[dict]:
        labels = [f"com.docker.compose.project={project}", f"com.docker.compose.service={service}"]
        query = urlencode({"all": int(all), "filters": json.dumps({"label": labels})})
        return self.call("GET", f"/containers/json?{query}")

    def kill(self, ref: str) -> None:
        self.call("POST", f"/containers/{quote(ref)}/kill?signal=KILL")

    def stop(self, ref: str, seconds: int = 0) -> None:
        self.call("POST", f"/containers/{quote(ref)}/stop?t={seconds}", timeout=seconds + 60)

    def restart_policy(self, ref: str, name: str) -> None:
        self.call("POST", f"/containers/{quote(ref)}/update", {"RestartPolicy": {"Name": name}})

    def start(self, ref: str) -> None:
        self.call("POST", f"/containers/{quote(ref)}/start")

    def remove(self, ref: str) -> None:
        self.call("DELETE", f"/containers/{quote(ref)}?force=1&v=1", ok=(204, 404))

    def create(self, name: str, config: dict) -> str:
        return self.call("POST", f"/containers/create?name={quote(name)}", config)["Id"]

    def logs(self, ref: str) -> str:
        raw = self.call("GET", f"/containers/{quote(ref)}/logs?stdout=1&stderr=1")
        # Without a TTY the stream is multiplexed: 8-byte frame headers, then the payload.
        out, i = [], 0
        while i + 8 <= len(raw):
            size = int.from_bytes(raw[i + 4 : i + 8], "big")
            out.append(raw[i + 8 : i + 8 + size])
            i += 8 + size
        return b"".join(out).decode(errors="replace")

    def wait_healthy(self, ref: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while True:
            state = self.inspect(ref)["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return
            if time.monotonic() > end:
                raise DockerError(f"{ref} not healthy after {timeout}s: {state}")
            time.sleep(0.5)
