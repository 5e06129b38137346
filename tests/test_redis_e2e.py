"""End to end: real clients -> a strict loopback HTTP server, nonces and ordering through a real redis-server.

Redis fails (killed, frozen, restarted empty) while a request is in flight; the
caller still gets its response, executed once. And the asyncio path never blocks
the event loop, measured with Redis 100 ms away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import requests

import hmac_body_auth as hba
from hmac_body_auth._redis import RedisNonce
from hmac_body_auth.errors import NonceError
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import NIQUESTS, NIQUESTS_ASYNC, aiohttp_session, niquests, session
from .redis_server import RedisServer, find_redis_server

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL/SIGSTOP of redis-server need POSIX"),
]

SECRET = "0123456789abcdef-secret"
ANSWER_DELAY = 0.3  # how long the HTTP server takes to answer: the window in which Redis fails
# Long enough that a loaded CI machine's first script load and connect fit in it (0.5 s once did not).
SOCKET_TIMEOUT = 1.0
# Scheduling slack on top of socket_timeout: CI runs this suite on two cores next to other
# jobs (0.75 s of lag seen there). It stays under a second socket_timeout, so a release that
# waited twice (a retry) still fails the bound.
MARGIN = 0.9


def _redis_binary() -> str:
    binary = find_redis_server()
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server); the RedisNonce tests need it"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run them")
        pytest.skip(message)
    return binary


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


class _FaultyRedis:
    """A redis-server of one test that can be killed, frozen (SIGSTOP) or restarted empty on its port."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self._directory = directory
        self._first = RedisServer(binary).start()
        self.port = self._first.port
        self.url = self._first.url
        self.pid = self._server_pid()
        self._frozen = False
        self._replacement: subprocess.Popen[bytes] | None = None

    def _server_pid(self) -> int:
        with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2) as c:
            pid = int(c.info("server")["process_id"])
            c.connection_pool.disconnect()
        return pid

    def kill(self) -> None:
        """SIGKILL the server and wait until its port refuses connections."""
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while not _refuses(self.port):
            assert time.monotonic() < deadline, "redis-server still accepts connections after SIGKILL"
            time.sleep(0.005)

    def freeze(self) -> None:
        """SIGSTOP the server: the kernel still accepts connections and data, nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)
        self._frozen = True

    def resume(self) -> None:
        """SIGCONT a frozen server: it runs what it was sent meanwhile, then answers again."""
        os.kill(self.pid, signal.SIGCONT)
        self._frozen = False

    def restart_empty(self) -> None:
        """Kill the server and start a new, empty one on the same port."""
        self.kill()
        self._replacement = subprocess.Popen(
            [
                self.binary,
                *("--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"),
                *("--dir", str(self._directory), "--daemonize", "no"),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers_ping(self.port):
            assert self._replacement.poll() is None, "the new redis-server exited"
            assert time.monotonic() < deadline, "the new redis-server did not answer PING"
            time.sleep(0.005)
        self.pid = self._server_pid()

    def flush(self) -> None:
        """FLUSHALL and SCRIPT FLUSH, connections kept: the sequence, the lock and the scripts are gone."""
        with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2) as c:
            c.flushall()
            c.script_flush()
            c.connection_pool.disconnect()

    def stop(self) -> None:
        if self._frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)
        self._first.stop()
        if self._replacement is not None:
            self._replacement.terminate()
            try:
                self._replacement.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._replacement.kill()
                self._replacement.wait(timeout=5)


@pytest.fixture
def faulty_redis(tmp_path: Path) -> Iterator[_FaultyRedis]:
    """A redis-server of this test alone, which it may kill, freeze or restart; resumed and stopped afterwards."""
    server = _FaultyRedis(_redis_binary(), tmp_path)
    try:
        yield server
    finally:
        server.stop()


class _SlowServer:
    """A strict Poloniex-like server: runs ``fault`` on the first request, answers each after ANSWER_DELAY."""

    def __init__(self, key: str, fault: Callable[[], None]) -> None:
        self._fault: Callable[[], None] | None = fault
        self.errors: list[BaseException] = []
        self.answered_at: list[float] = []
        self.server = VerifyingServer({key: SECRET}, handler=self._handle)

    def _handle(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        started = time.monotonic()
        fault, self._fault = self._fault, None
        if fault is not None:
            try:
                fault()
            except BaseException as exc:
                self.errors.append(exc)
        time.sleep(max(0.0, ANSWER_DELAY - (time.monotonic() - started)))
        self.answered_at.append(time.monotonic())
        return 200, {"ok": True, "nonce": request["fields"].get("nonce")}


def _post(client: str, url: str, auth: Any, command: str) -> int:
    """One POST through ``client``; return the status (after the auth released its hold)."""
    data = {"command": command}
    if client == "requests":
        return requests.post(url, data=data, auth=auth, timeout=10).status_code
    if client.startswith("niquests"):
        with session(client) as s:
            return int(s.post(url, data=data, auth=auth, timeout=10).status_code)
    if client == "httpx.Client":
        with httpx.Client(auth=auth, timeout=10) as c:
            return c.post(url, data=data).status_code
    if client == "aiohttp":

        async def via_aiohttp() -> int:
            async with aiohttp_session(auth) as session, session.post(url, data=data) as response:
                return response.status

        return asyncio.run(via_aiohttp())

    async def go() -> int:
        async with httpx.AsyncClient(auth=auth, timeout=10) as c:
            return (await c.post(url, data=data)).status_code

    return asyncio.run(go())


def _release_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "hmac_body_auth" and r.levelno == logging.WARNING and "expires by itself" in r.getMessage()
    ]


CLIENTS = ["requests", "httpx.Client", "httpx.AsyncClient", "aiohttp", *NIQUESTS]


# -- 1. Redis fails while a request is in flight ------------------------------------------


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("fault", ["killed", "silent", "restarted-empty", "flushed"])
def test_redis_failing_mid_request_still_returns_the_response_once(
    faulty_redis: _FaultyRedis, caplog: pytest.LogCaptureFixture, client: str, fault: str
) -> None:
    """Redis killed, frozen, restarted or flushed mid-request: 200 returned, executed once, WARNING, bounded delay."""
    key = f"E2E-{uuid.uuid4().hex[:12]}"
    action = {
        "killed": faulty_redis.kill,
        "silent": faulty_redis.freeze,
        "restarted-empty": faulty_redis.restart_empty,
        "flushed": faulty_redis.flush,
    }
    # Why the release failed: a dead connection, no answer, or the lock (and script) gone.
    reason = {
        "killed": ("(ConnectionError)",),
        "silent": ("(TimeoutError)",),
        # The pooled connection died with the old server: redis-py reconnects (the lock is gone) or fails.
        "restarted-empty": ("(ConnectionError)", "(it had expired, or Redis lost it)"),
        "flushed": ("(it had expired, or Redis lost it)",),
    }
    slow = _SlowServer(key, action[fault])
    nonce = RedisNonce(faulty_redis.url, name=key, lock_timeout=2, socket_timeout=SOCKET_TIMEOUT)
    auth = hba.Poloniex(key, SECRET, nonce=nonce)
    try:
        with slow.server, caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
            started = time.monotonic()
            status = _post(client, slow.server.url, auth, "buy")
            returned = time.monotonic()
            stats = slow.server.stats
            assert slow.errors == []
            assert status == 200
            assert stats.accepted == 1
            assert stats.rejected == 0
            assert len(slow.server.received) == 1
            # What the caller waited for after the server answered: the release of the lock.
            after_answer = returned - slow.answered_at[0]
            assert after_answer < SOCKET_TIMEOUT + MARGIN, f"{after_answer:.3f} s after the answer"
            assert returned - started < ANSWER_DELAY + SOCKET_TIMEOUT + MARGIN + 0.5
            if fault == "silent":
                assert after_answer >= SOCKET_TIMEOUT * 0.8  # it really waited on the frozen Redis, and no longer
            [warning] = _release_warnings(caplog)
            assert "lock_timeout=2s" in warning.getMessage()
            assert any(why in warning.getMessage() for why in reason[fault]), warning.getMessage()

            if fault == "killed":
                # The next call fails before anything is sent: still one execution.
                with pytest.raises(NonceError):
                    _post(client, slow.server.url, auth, "sell")
                assert slow.server.stats.accepted == 1
                assert len(slow.server.received) == 1
            if fault in ("restarted-empty", "flushed"):
                # The emptied Redis resumes the sequence above the nonce issued before it lost it.
                assert _post(client, slow.server.url, auth, "sell") == 200
                assert slow.server.stats.accepted == 2
                assert slow.server.stats.bad_nonce == 0
                first, second = (int(r.answer["nonce"]) for r in slow.server.received)
                assert second > first
    finally:
        nonce.close()


# -- 2. the event loop keeps running with Redis 100 ms away ---------------------------------


class _DelayingRelay:
    """A TCP relay on 127.0.0.1 to a real server that delays every chunk, each way, by ``delay`` seconds."""

    def __init__(self, target_port: int, delay: float) -> None:
        self._target = target_port
        self.delay = delay
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self._listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self._target))
            except OSError:
                return
            self._sockets += [downstream, upstream]
            for src, dst in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                break
            time.sleep(self.delay)
            try:
                dst.sendall(data)
            except OSError:
                return
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            sock.close()


async def _largest_gap_while(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Run ``work()`` beside a ticker sleeping 5 ms at a time; return its largest wake-up gap and the result."""
    gaps: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)  # the ticker is running before the work starts
    try:
        result = await work()
    finally:
        stop.set()
        await ticker
    return max(gaps), result


@pytest.fixture
def far_redis(faulty_redis: _FaultyRedis) -> Iterator[_DelayingRelay]:
    """The test's redis-server behind a relay that delays each chunk by 100 ms each way."""
    relay = _DelayingRelay(faulty_redis.port, delay=0.1)
    try:
        yield relay
    finally:
        relay.close()


@pytest.mark.parametrize("client", ["httpx.AsyncClient", "aiohttp", *NIQUESTS_ASYNC])
def test_async_client_with_redis_100ms_away_never_blocks_the_loop(far_redis: _DelayingRelay, client: str) -> None:
    """2 sequential async posts (Poloniex + RedisNonce 100 ms away): accepted, loop gaps < 150 ms."""
    key = f"E2E-{uuid.uuid4().hex[:12]}"
    nonce = RedisNonce(far_redis.url, name=key, lock_timeout=10)
    auth = hba.Poloniex(key, SECRET, nonce=nonce)
    try:
        with PoloniexServer({key: SECRET}) as server:

            def async_client() -> Any:
                if client == "aiohttp":
                    return aiohttp_session(auth)
                if client == "httpx.AsyncClient":
                    return httpx.AsyncClient(auth=auth, timeout=30)
                return niquests.AsyncSession(auth=auth, timeout=30)

            async def post(session: Any, data: dict[str, str]) -> int:
                if client == "aiohttp":
                    async with session.post(server.url, data=data) as response:
                        return int(response.status)
                return int((await session.post(server.url, data=data)).status_code)

            async def main() -> tuple[float, list[int], float]:
                async with async_client() as session:  # built before the ticker runs

                    async def posts() -> list[int]:
                        return [await post(session, {"command": "buy", "n": str(i)}) for i in range(2)]

                    started = time.monotonic()
                    gap, statuses = await _largest_gap_while(posts)
                    return gap, statuses, time.monotonic() - started

            # A blocked loop stops for a whole 200 ms round trip, every run; up to five runs
            # leave room for scheduler hiccups on a loaded CI machine (three runs of 190 ms
            # gaps, each short of a round trip, were once seen there with two suites running).
            runs, gap = 0, float("inf")
            while runs < 5 and gap >= 0.15:
                runs += 1
                gap, statuses, took = asyncio.run(main())
                assert statuses == [200] * 2
                assert took >= 2 * 0.4  # Redis really was far: at least two round trips of 200 ms per request
            stats = server.stats
        assert stats.accepted == 2 * runs
        assert stats.bad_nonce == 0
        assert stats.rejected == 0
        assert gap < 0.15, f"the event loop was blocked for {gap * 1000:.0f} ms"
    finally:
        nonce.close()


def test_the_gap_measurement_catches_a_sync_redis_call_in_the_loop(far_redis: _DelayingRelay) -> None:
    """The same ticker around the SYNC source() called inside the loop records a gap >= 90 ms."""
    nonce = RedisNonce(far_redis.url, name=f"E2E-{uuid.uuid4().hex[:12]}")
    try:

        async def blocking() -> int:
            return nonce()

        gap, value = asyncio.run(_largest_gap_while(blocking))
        assert value > 0
        assert gap >= 0.09, f"a blocking call went unnoticed (largest gap {gap * 1000:.0f} ms)"
    finally:
        nonce.close()


# -- 3. a reply lost, the command run later --------------------------------------------


@pytest.mark.parametrize("client", ["requests", "httpx.AsyncClient", "aiohttp"])
def test_a_lock_redis_took_after_the_client_gave_up_is_given_back(faulty_redis: _FaultyRedis, client: str) -> None:
    """Redis frozen while a request takes the lock, then resumed: the lost command's lock is given back at once."""
    key = f"LOST-{uuid.uuid4().hex[:12]}"
    lock_timeout = 20.0
    nonce = RedisNonce(faulty_redis.url, name=key, lock_timeout=lock_timeout, socket_timeout=SOCKET_TIMEOUT)
    auth = hba.Poloniex(key, SECRET, nonce=nonce)
    lock_key = f"hmac-body-auth:lock:{key}"
    try:
        with PoloniexServer({key: SECRET}) as server:
            assert _post(client, server.url, auth, "first") == 200
            faulty_redis.freeze()
            with pytest.raises(NonceError, match="taking the lock failed"):
                _post(client, server.url, auth, "lost")
            faulty_redis.resume()
            with redis.Redis(host="127.0.0.1", port=faulty_redis.port, socket_timeout=2) as c:
                # The queued acquire ran at resume (or the background release came first): either way
                # the lock is free again well within lock_timeout.
                deadline = time.monotonic() + lock_timeout / 4
                while c.exists(lock_key) and time.monotonic() < deadline:
                    time.sleep(0.01)
                left = c.pttl(lock_key)
                c.connection_pool.disconnect()
            started = time.monotonic()
            assert _post(client, server.url, auth, "next") == 200
            waited = time.monotonic() - started
            assert [r.body.split(b"&")[0] for r in server.received] == [b"command=first", b"command=next"]
            assert server.stats.accepted == 2
    finally:
        nonce.close()
    assert left == -2  # no lock key
    assert waited < lock_timeout / 4
