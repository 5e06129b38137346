"""RedisNonce with ordering costs one Redis round trip per request, counted by a real redis-server.

The auth takes the cross-process lock and the nonce in one script, and a release
followed at once by the next request of the same object rides with that
request's script; the last release is sent by itself a few milliseconds later.
Counted with MONITOR (every command a client sent; not those a script runs
inside), against a strict server that checks every signature and that the nonces increase.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis
import requests

import hmac_body_auth as hba
from hmac_body_auth._redis import RedisNonce
from hmac_body_auth.testing import PoloniexServer

from .redis_server import RedisServer, find_redis_server

pytestmark = [pytest.mark.redis]

KEY = "ROUND-TRIP-KEY-0001"
SECRET = "0123456789abcdef-secret"
REQUESTS = 40
#: Commands outside the per-request ones: the last release, sent by itself, and a new
#: connection's handshake and script load (the asyncio client connects on first use).
SLACK = 4
#: On a loaded machine a request may come later than the few milliseconds a release
#: waits to ride with it; that release then goes alone. Without the shared round trip
#: each request costs three commands (lock, nonce, release).
MOST = REQUESTS + REQUESTS // 4 + SLACK


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A private redis-server for this module."""
    binary = find_redis_server()
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server); the RedisNonce tests need it"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run them")
        pytest.skip(message)
    with RedisServer(binary) as server:
        yield server.url


class _Monitor:
    """Counts the commands clients send to the server (MONITOR; the commands scripts run inside are not counted)."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.monitor = self.client.monitor()
        self.monitor.__enter__()
        self.commands: list[str] = []
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        with contextlib.suppress(Exception):  # the connection closes when the test is done
            for entry in self.monitor.listen():
                if entry.get("client_type") != "lua":
                    self.commands.append(str(entry.get("command", "")))

    def settled(self) -> int:
        """The count once no command has come for a while (the last deferred release goes out by itself)."""
        count, quiet_since = len(self.commands), time.monotonic()
        while time.monotonic() - quiet_since < 0.3:
            time.sleep(0.02)
            if len(self.commands) != count:
                count, quiet_since = len(self.commands), time.monotonic()
        return count

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.monitor.connection.disconnect()
        self.client.close()


def test_requests_one_round_trip_per_ordered_request(redis_url: str) -> None:
    """Requests through RedisNonce: about one Redis command per request (lock, nonce and release in one)."""
    nonce = RedisNonce(redis_url, name=f"rt-{uuid.uuid4().hex}")
    auth = hba.Poloniex(KEY, SECRET, nonce=nonce)
    with PoloniexServer({KEY: SECRET}) as server, requests.Session() as session:
        session.post(server.url, data={"command": "warm-up"}, auth=auth, timeout=10).raise_for_status()
        monitor = _Monitor(redis_url)
        start = monitor.settled()
        for i in range(REQUESTS):
            session.post(
                server.url, data={"command": "returnBalances", "i": str(i)}, auth=auth, timeout=10
            ).raise_for_status()
        commands = monitor.settled() - start
        monitor.close()
        assert server.stats.rejected == 0
    nonce.close()
    assert REQUESTS <= commands <= MOST, f"{commands} Redis commands for {REQUESTS} ordered requests"


def test_httpx_async_one_round_trip_per_ordered_request(redis_url: str) -> None:
    """httpx.AsyncClient through RedisNonce (redis-py's asyncio client): about one command per request."""
    nonce = RedisNonce(redis_url, name=f"rt-{uuid.uuid4().hex}")
    auth = hba.Poloniex(KEY + "-A", SECRET, nonce=nonce)
    monitor = _Monitor(redis_url)
    start: list[int] = []

    async def main(url: str) -> None:
        async with httpx.AsyncClient() as client:
            (await client.post(url, data={"command": "warm-up"}, auth=auth)).raise_for_status()
            start.append(await asyncio.to_thread(monitor.settled))
            for i in range(REQUESTS):
                (await client.post(url, data={"command": "returnBalances", "i": str(i)}, auth=auth)).raise_for_status()
        await nonce.aclose()

    with PoloniexServer({KEY + "-A": SECRET}) as server:
        asyncio.run(main(server.url))
        commands = monitor.settled() - start[0]
        monitor.close()
        assert server.stats.rejected == 0
    nonce.close()
    assert REQUESTS <= commands <= MOST, f"{commands} Redis commands for {REQUESTS} ordered requests"


def test_a_deferred_release_lets_another_process_in_soon(redis_url: str) -> None:
    """The last request's lock is given back by itself within milliseconds: another holder is not kept waiting."""
    name = f"rt-{uuid.uuid4().hex}"
    first = RedisNonce(redis_url, name=name)
    second = RedisNonce(redis_url, name=name)
    auth = hba.Poloniex(KEY + "-B", SECRET, nonce=first)
    with PoloniexServer({KEY + "-B": SECRET}) as server, requests.Session() as session:
        for _ in range(3):
            session.post(server.url, data={"command": "returnBalances"}, auth=auth, timeout=10).raise_for_status()
        start = time.monotonic()
        second.acquire(5.0)
        waited = time.monotonic() - start
        second.release()
    first.close()
    second.close()
    assert waited < 0.5, f"another holder waited {waited:.3f} s for a released lock"
