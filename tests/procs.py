"""Real processes for the reliability tests: Celery workers running tests/reliability_app.py
and a private redis-server (the shared one on 6379 is never stopped)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(**kd) -> dict:
    """Environment for a worker or CLI process using reliability_app: KD_* settings."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env.update({f"KD_{k.upper()}": str(v) for k, v in kd.items()})
    return env


class Worker:
    """``celery worker`` in its own process group, so SIGKILL reaches its pool too."""

    def __init__(self, name: str, queue: str, log: Path, concurrency: int = 2, pool: str = "prefork",
                 **kd):
        self.name, self.queue, self.log = f"{name}@kd", queue, log
        cmd = [sys.executable, "-m", "celery", "-A", "reliability_app", "worker", "-n", self.name,
               "-Q", queue, "-c", str(concurrency), "-P", pool, "-l", "info",
               "--without-mingle", "--without-gossip"]
        self._out = open(log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=HERE, env=app_env(queue=queue, **kd), stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90.0) -> "Worker":
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"worker {self.name} exited with {self.proc.returncode}:\n{self.text()[-3000:]}")
            if " ready." in self.text():
                return self
            time.sleep(0.2)
        pytest.fail(f"worker {self.name} not ready in {timeout}s:\n{self.text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): a crash, no cleanup."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        else:
            self.kill()  # reap any orphaned pool children of a dead main process
        self._out.close()


class OwnRedis:
    """A redis-server on its own port, started and stopped by the test."""

    def __init__(self, workdir: Path, port: int | None = None, appendonly: bool = True):
        self.port = port or free_port()
        self.workdir = workdir
        self.appendonly = appendonly
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "OwnRedis":
        # appendonly: a restart keeps queued and unacked messages, as a production Redis would
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "yes" if self.appendonly else "no", "--appendfsync", "always",
               "--dir", str(self.workdir)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        end = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > end or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server on port {self.port} did not start")
                time.sleep(0.1)
            finally:
                client.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
