"""A throwaway ``redis-server`` on a free loopback port, for the Redis nonce tests.

The server keeps nothing on disk (``--save ''``, ``--appendonly no``) and runs
in a temporary directory that is removed when it stops.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["RedisServer", "find_redis_server"]


def find_redis_server() -> str | None:
    """Return the path of the ``redis-server`` binary, or ``None``."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int) -> bool:
    """Whether a Redis server on ``port`` answers ``PING`` with ``+PONG``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """Start and stop one ``redis-server`` process on 127.0.0.1.

    Args:
        binary: the ``redis-server`` executable; found on ``PATH`` by default.
        startup_timeout: how long to wait for the first ``PONG``, in seconds.

    """

    def __init__(self, binary: str | None = None, *, startup_timeout: float = 10.0) -> None:
        found = binary or find_redis_server()
        if found is None:
            raise FileNotFoundError("redis-server is not on PATH")
        self.binary = found
        self.startup_timeout = startup_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        assert self._process is not None, "the server is not running"
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers ``PING``; retry once on a port race."""
        self._dir = tempfile.TemporaryDirectory(prefix="hmac-body-auth-redis-")
        last_error = ""
        for _ in range(3):
            self.port = _free_port()
            log = Path(self._dir.name) / f"redis-{self.port}.log"
            with log.open("wb") as out:
                self._process = subprocess.Popen(
                    [
                        self.binary,
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(self.port),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--dir",
                        self._dir.name,
                        "--daemonize",
                        "no",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline and self._process.poll() is None:
                if _ping(self.port):
                    return self
                time.sleep(0.02)
            last_error = log.read_text(errors="replace")[-2000:]
            self._terminate()
        self.stop()
        raise RuntimeError(f"redis-server did not start; its log ends with:\n{last_error}")

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        self._terminate()
        if self._dir is not None:
            with contextlib.suppress(OSError):
                self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
