"""RedisNonce: one Redis round trip per ordered request, counted by a real redis-server's MONITOR.

The lock and the nonce come back from one script (``acquire_next``); a lock
released between back-to-back requests rides with the next request's script
(``defer_release``), or a background thread gives it back after
``release_delay``, at ``close()`` and at exit. A host that starts waiting is
handed the lock instead of being starved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import httpx
import pytest
import redis
import requests

import hmac_body_auth as hba
from hmac_body_auth._redis import RedisNonce
from hmac_body_auth.errors import ConfigurationError, LeaseTimeout, NonceError
from hmac_body_auth.testing import PoloniexServer

from ._nonce_fork_worker import in_child
from .conftest import KEY, SECRET, aiohttp_session
from .redis_server import RedisServer, find_redis_server

pytestmark = pytest.mark.redis

MakeNonce = Callable[..., RedisNonce]
# One MONITOR line: "+<time> [<db> <client or lua>] "<command>" ...".
_LINE = re.compile(rb'^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"')


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    """A private redis-server on a free loopback port, for this module."""
    binary = find_redis_server()
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install redis-server); the RedisNonce tests need it")
    with RedisServer(binary) as server:
        yield server


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain client of the test server, for looking behind the nonce source's back."""
    with redis.Redis.from_url(redis_server.url) as c:
        yield c
        c.connection_pool.disconnect()


@pytest.fixture
def name() -> str:
    """A sequence name no other test uses."""
    return f"rtt-{uuid.uuid4().hex}"


@pytest.fixture
def make_nonce(redis_server: RedisServer, name: str) -> Iterator[MakeNonce]:
    """Build RedisNonce objects on the test server (this test's name by default) and close them afterwards."""
    made: list[RedisNonce] = []

    def make(**kwargs: Any) -> RedisNonce:
        kwargs.setdefault("name", name)
        nonce = RedisNonce(redis_server.url, **kwargs)
        made.append(nonce)
        return nonce

    yield make
    for nonce in made:
        nonce.close()


class _Monitor:
    """Every command clients send to the server (not those a script runs), as MONITOR reports them."""

    def __init__(self, port: int, ignore: str) -> None:
        self._ignore = ignore  # the address of the test's own client
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._sock.sendall(b"MONITOR\r\n")
        self._buffer = b""
        self._read_line()  # +OK
        self.commands: list[tuple[str, str]] = []  # (client address, command)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _read_line(self) -> bytes | None:
        while b"\r\n" not in self._buffer:
            try:
                data = self._sock.recv(65536)
            except OSError:
                return None
            if not data:
                return None
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line

    def _run(self) -> None:
        while (line := self._read_line()) is not None:
            match = _LINE.match(line)
            if match and match.group(1) == self._ignore.encode() and b'"echo" "marker-' in line.lower():
                with self._lock:
                    self.commands.append(("marker", "echo"))
            elif match and match.group(1) not in (b"lua", self._ignore.encode()):
                with self._lock:
                    self.commands.append((match.group(1).decode(), match.group(2).decode().lower()))

    def sync(self, admin: redis.Redis) -> list[tuple[str, str]]:
        """Wait until the monitor saw everything sent before now; return the commands (without the marker)."""
        marker = f"marker-{uuid.uuid4().hex}"
        admin.echo(marker)
        deadline = time.monotonic() + 10
        while True:
            with self._lock:
                if any(where == "marker" for where, _ in self.commands):
                    commands = [c for c in self.commands if c[0] != "marker"]
                    self.commands.clear()
                    return commands
            assert time.monotonic() < deadline, "MONITOR did not report the marker"
            time.sleep(0.005)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(5)


@pytest.fixture
def monitor(redis_server: RedisServer, client: redis.Redis) -> Iterator[_Monitor]:
    """A MONITOR connection to the test server, started empty."""
    watching = _Monitor(redis_server.port, str(client.client_info()["addr"]))
    watching.sync(client)
    yield watching
    watching.close()


def _post(client_name: str, url: str, auth: Any, n: int) -> list[int]:
    """``n`` sequential form POSTs through ``client_name``; their statuses."""
    data = {"command": "returnBalances"}
    if client_name == "requests":
        with requests.Session() as s:
            return [s.post(url, data=data, auth=auth, timeout=10).status_code for _ in range(n)]
    if client_name == "httpx.Client":
        with httpx.Client(auth=auth, timeout=10) as c:
            return [c.post(url, data=data).status_code for _ in range(n)]

    async def go() -> list[int]:
        if client_name == "aiohttp":
            statuses = []
            async with aiohttp_session(auth) as session:
                for _ in range(n):
                    async with session.post(url, data=data) as response:
                        statuses.append(response.status)
            return statuses
        async with httpx.AsyncClient(auth=auth, timeout=10) as c:
            return [(await c.post(url, data=data)).status_code for _ in range(n)]

    return asyncio.run(go())


# -- one round trip per request ---------------------------------------------------------


@pytest.mark.parametrize("client_name", ["requests", "httpx.Client", "httpx.AsyncClient", "aiohttp"])
def test_back_to_back_ordered_requests_cost_one_redis_round_trip_each(
    make_nonce: MakeNonce, monitor: _Monitor, client: redis.Redis, client_name: str
) -> None:
    """30 back-to-back ordered POSTs send 30 Redis commands (one script each) and one release when closed."""
    # A long release_delay: every next request comes within it, even on a loaded machine.
    nonce = make_nonce(release_delay=5.0, lock_timeout=30)
    auth = hba.Poloniex(KEY, SECRET, nonce=nonce)
    requests_sent = 30
    with PoloniexServer({KEY: SECRET}) as server:
        # Warm-up: the scripts are loaded, and this request releases with its own round
        # trip (no request followed it yet).
        assert _post(client_name, server.url, auth, 1) == [200]
        monitor.sync(client)
        assert _post(client_name, server.url, auth, requests_sent) == [200] * requests_sent
        commands = monitor.sync(client)
        stats = server.stats
    scripts = [c for c in commands if c[1] == "evalsha"]
    # A new event loop's client sets up its connection (HELLO, CLIENT SETINFO): no round trip of a request.
    setup = [c for c in commands if c[1] != "evalsha"]
    assert all(command in ("client", "hello", "select") for _, command in setup), setup
    assert len(scripts) == requests_sent
    assert stats.accepted == requests_sent + 1
    assert stats.rejected == 0
    assert stats.bad_nonce == 0
    lock = f"hmac-body-auth:lock:{nonce.name}"
    assert client.exists(lock)  # the last request's lock waits for a next request
    nonce.close()
    assert not client.exists(lock)
    # One release (the sync client of an async-only program connects for it first).
    assert [c[1] for c in monitor.sync(client) if c[1] not in ("client", "hello", "select")] == ["evalsha"]


def test_direct_calls_cost_one_round_trip_per_acquire_next(
    make_nonce: MakeNonce, monitor: _Monitor, client: redis.Redis
) -> None:
    """acquire_next + defer_release, back to back 100 times: 100 commands, one script each; nonces increase."""
    nonce = make_nonce(release_delay=5.0)
    nonce.acquire(1)  # loads the script
    nonce.release()
    monitor.sync(client)
    values = []
    deferred = []
    for _ in range(100):
        values.append(nonce.acquire_next(1))
        deferred.append(nonce.defer_release())
        if not deferred[-1]:
            nonce.release()
    assert values == sorted(set(values))
    assert deferred == [True] * 100  # each followed the previous release at once
    assert [c[1] for c in monitor.sync(client)] == ["evalsha"] * 100


def test_release_delay_zero_gives_every_lock_back_at_once(
    make_nonce: MakeNonce, monitor: _Monitor, client: redis.Redis
) -> None:
    """With release_delay=0, defer_release declines and each request pays its own release round trip."""
    nonce = make_nonce(release_delay=0)
    nonce.acquire(1)  # loads the scripts
    nonce.release()
    monitor.sync(client)
    for _ in range(10):
        nonce.acquire_next(1)
        assert nonce.defer_release() is False
        nonce.release()
        assert not client.exists(f"hmac-body-auth:lock:{nonce.name}")
    assert [c[1] for c in monitor.sync(client)] == ["evalsha"] * 20


@pytest.mark.parametrize("bad", [-0.1, True, 30.0, float("nan"), "0.002"])
def test_release_delay_must_be_below_lock_timeout(make_nonce: MakeNonce, bad: object) -> None:
    """A release_delay that is negative, not a number, or not below lock_timeout fails at construction."""
    with pytest.raises(ConfigurationError, match="release_delay"):
        make_nonce(release_delay=bad, lock_timeout=30)


# -- a deferred lock is always given back ---------------------------------------------------


def _hot(nonce: RedisNonce) -> None:
    """Two back-to-back holds: the second one's release is deferred."""
    nonce.acquire_next(1)
    nonce.release()
    nonce.acquire_next(1)
    assert nonce.defer_release()


def test_a_deferred_lock_nobody_picks_up_is_given_back_after_release_delay(
    make_nonce: MakeNonce, client: redis.Redis
) -> None:
    """With no next request, the background thread gives the deferred lock back release_delay later."""
    nonce = make_nonce(release_delay=0.1)
    lock = f"hmac-body-auth:lock:{nonce.name}"
    _hot(nonce)
    deferred_at = time.monotonic()
    assert client.exists(lock)
    while client.exists(lock):
        assert time.monotonic() - deferred_at < 5, "the deferred lock was never given back"
        time.sleep(0.002)
    assert time.monotonic() - deferred_at >= 0.09
    other = make_nonce()
    other.acquire(0.05)  # free for everyone else
    other.release()


def test_close_gives_back_a_deferred_lock(make_nonce: MakeNonce, client: redis.Redis) -> None:
    """close() sends a deferred release at once, whatever release_delay is."""
    nonce = make_nonce(release_delay=20.0)
    _hot(nonce)
    assert client.exists(f"hmac-body-auth:lock:{nonce.name}")
    nonce.close()
    assert not client.exists(f"hmac-body-auth:lock:{nonce.name}")


def test_a_deferred_lock_is_given_back_when_the_program_exits(
    redis_server: RedisServer, client: redis.Redis, name: str
) -> None:
    """A program that ends right after a deferred release leaves no lock behind (not lock_timeout=60 s)."""
    program = (
        "import hmac_body_auth as hba\n"
        f"n = hba.RedisNonce({redis_server.url!r}, name={name!r}, release_delay=20.0, lock_timeout=60)\n"
        "for _ in range(3):\n"
        "    n.acquire_next(1)\n"
        "    n.defer_release() or n.release()\n"
        "print(n.defer_release(), flush=True)\n"
    )
    # A fixed program, no shell.
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, timeout=60, check=True)
    assert done.stdout.strip() == b"False"  # nothing held at the end: the last release was deferred
    assert not client.exists(f"hmac-body-auth:lock:{name}")
    assert int(client.get(f"hmac-body-auth:nonce:{name}") or 0) > 0


def _defer_and_return(url: str, name: str) -> None:
    """A multiprocessing child's work: back-to-back holds, the last release deferred, then the target returns."""
    import hmac_body_auth as hba

    n = hba.RedisNonce(url, name=name, release_delay=20.0, lock_timeout=60)
    for _ in range(3):
        n.acquire_next(1)
        n.defer_release() or n.release()


@pytest.mark.skipif(sys.platform == "win32", reason="the fork start method is POSIX")
def test_a_deferred_lock_is_given_back_when_a_forked_multiprocessing_child_ends(
    redis_server: RedisServer, client: redis.Redis, name: str
) -> None:
    """A fork-started multiprocessing child (it ends with os._exit, skipping atexit) leaves no lock behind."""
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=_defer_and_return, args=(redis_server.url, name))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert int(client.get(f"hmac-body-auth:nonce:{name}") or 0) > 0
    assert not client.exists(f"hmac-body-auth:lock:{name}")


def test_a_lost_deferred_lock_is_logged_when_the_next_request_takes_the_lock(
    make_nonce: MakeNonce, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A deferred lock that vanished (expired, flushed) is logged by the next acquire, which still takes the lock."""
    nonce = make_nonce(release_delay=20.0)
    _hot(nonce)
    client.delete(f"hmac-body-auth:lock:{nonce.name}")
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        value = nonce.acquire_next(1)
    assert value > 0
    [record] = [r for r in caplog.records if r.name == "hmac_body_auth"]
    assert "expired, or Redis lost it" in record.getMessage()
    assert client.exists(f"hmac-body-auth:lock:{nonce.name}")
    nonce.release()


def test_a_child_forked_with_a_deferred_lock_neither_gives_it_back_nor_uses_it(
    make_nonce: MakeNonce, client: redis.Redis
) -> None:
    """A forked child does not own its parent's deferred lock: it waits for it, and its close() leaves it alone."""
    nonce = make_nonce(release_delay=20.0)
    _hot(nonce)
    lock = f"hmac-body-auth:lock:{nonce.name}"

    def child() -> bool:
        try:
            nonce.acquire_next(0.05)
        except LeaseTimeout:
            blocked = True
        else:
            blocked = False
        nonce.close()
        return blocked

    assert in_child(child) is True
    assert client.exists(lock)  # still the parent's
    assert nonce.acquire_next(1) > 0  # handed on to the parent's next request
    nonce.release()
    assert not client.exists(lock)


# -- no host starves -------------------------------------------------------------------------


def test_a_host_that_starts_waiting_gets_the_lock_from_a_back_to_back_sender(make_nonce: MakeNonce) -> None:
    """While one host sends back to back, another host's acquire gets the lock within milliseconds, in nonce order."""
    busy, waiter = make_nonce(release_delay=5.0), make_nonce()  # two objects: two hosts
    stop = threading.Event()
    busy_values: list[int] = []
    errors: list[BaseException] = []

    def back_to_back() -> None:
        try:
            while not stop.is_set():
                busy_values.append(busy.acquire_next(10))
                if not busy.defer_release():
                    busy.release()
        except BaseException as exc:
            errors.append(exc)

    sender = threading.Thread(target=back_to_back)
    sender.start()
    try:
        while len(busy_values) < 20:
            time.sleep(0.001)
        waits = []
        for _ in range(5):
            started = time.monotonic()
            value = waiter.acquire_next(5)
            waits.append(time.monotonic() - started)
            before = len(busy_values)
            time.sleep(0.01)
            assert len(busy_values) == before  # nobody else holds it meanwhile
            assert value > busy_values[-1]
            waiter.release()
            time.sleep(0.01)
    finally:
        stop.set()
        sender.join(30)
    assert errors == []
    assert max(waits) < 1.0, waits  # never the 5 s a starved waiter would wait
    assert busy_values == sorted(set(busy_values))


# -- the protocol: any source may offer acquire_next -------------------------------------------


class _OneStepSource:
    """An interprocess source that returns the first nonce with its lock, and counts its calls."""

    interprocess = True

    def __init__(self) -> None:
        self.scope: Hashable = ("one-step", uuid.uuid4().hex)
        self.last = 100
        self.calls: list[str] = []

    def _next(self) -> int:
        self.last += 1
        return self.last

    def __call__(self) -> int:
        self.calls.append("next")
        return self._next()

    def raise_floor(self, value: int) -> None:
        self.last = max(self.last, value)

    def acquire(self, timeout: float | None) -> None:
        self.calls.append("acquire")

    def acquire_next(self, timeout: float | None) -> int:
        self.calls.append("acquire_next")
        return self._next()

    def release(self) -> None:
        self.calls.append("release")


def test_the_lifecycle_signs_with_the_nonce_a_source_returns_with_its_lock() -> None:
    """A source with acquire_next is asked once for lock and nonce; re-signing draws a new nonce as usual."""
    source = _OneStepSource()
    assert isinstance(source, hba.nonces.OrderedNonceSource)
    auth = hba.Poloniex(KEY, SECRET, nonce=source)
    with auth.signed("POST", "https://poloniex.com/tradingApi", body={"command": "buy"}) as req:
        assert req.nonce == 101
    assert source.calls == ["acquire_next", "release"]
    with PoloniexServer({KEY: SECRET}) as server:
        server.last_nonce[KEY] = 10**6  # the first try is rejected, then re-signed above the floor
        response = requests.post(server.url, data={"command": "buy"}, auth=auth, timeout=10)
    assert response.status_code == 200
    assert source.calls[2:] == ["acquire_next", "next", "release"]


# -- a reply lost, the lock taken anyway -------------------------------------------------------


def _lost_reply(script: Any) -> Any:
    """The script, run, with its reply lost (as when Redis answers after socket_timeout)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        script(*args, **kwargs)
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    return run


def _gone(client: redis.Redis, key: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while client.exists(key):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_lock_taken_by_an_acquire_whose_reply_was_lost_is_given_back(
    make_nonce: MakeNonce, client: redis.Redis, mode: str
) -> None:
    """The acquire ran in Redis but its reply was lost: NonceError, and the lock it took is given back at once."""
    nonce = make_nonce(lock_timeout=30)
    lock = f"hmac-body-auth:lock:{nonce.name}"
    if mode == "sync":
        nonce._acquire = _lost_reply(nonce._acquire)  # type: ignore[method-assign]
        with pytest.raises(NonceError, match="taking the lock failed"):
            nonce.acquire_next(1)
    else:

        async def go() -> None:
            entry = await nonce._aclient()
            script = entry.acquire

            async def lost(*args: Any, **kwargs: Any) -> Any:
                await script(*args, **kwargs)
                raise redis.exceptions.TimeoutError("Timeout reading from socket")

            entry.acquire = lost  # type: ignore[assignment]
            with pytest.raises(NonceError, match="taking the lock failed"):
                await nonce.acquire_next_async(1)

        asyncio.run(go())
    assert _gone(client, lock, within=5), "the lock a lost reply took was not given back"
    other = make_nonce()
    assert other.acquire_next(0.1) > 0  # free for everyone
    other.release()


def test_a_lost_acquire_that_runs_late_is_still_given_back(make_nonce: MakeNonce, client: redis.Redis) -> None:
    """The lost command runs only after the first release was tried ("not held"): a later try gives it back."""
    nonce = make_nonce(lock_timeout=30)
    lock = f"hmac-body-auth:lock:{nonce.name}"
    nonce._orphan("late-token")
    time.sleep(0.05)  # the first release finds nothing to give back
    client.set(lock, "late-token", px=30_000)  # the queued command runs now
    assert _gone(client, lock, within=5)


def test_a_lock_that_stays_unreachable_is_logged_once_tries_run_out(
    make_nonce: MakeNonce, caplog: pytest.LogCaptureFixture
) -> None:
    """Every release of a lost lock fails (Redis unreachable): after a few tries a WARNING says it expires by itself."""
    nonce = make_nonce(lock_timeout=30)

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise redis.exceptions.ConnectionError("Connection refused")

    nonce._release = unreachable  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        nonce._orphan("lost-token")
        deadline = time.monotonic() + 5
        while not any("expires by itself" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "no WARNING after the last try"
            time.sleep(0.01)
    [record] = [r for r in caplog.records if "expires by itself" in r.getMessage()]
    assert "ConnectionError" in record.getMessage()
    assert not nonce._orphans


def test_close_keeps_trying_a_lost_lock_then_says_it_could_not(
    make_nonce: MakeNonce, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """close() while a lost lock's release fails: later tries give it back once Redis answers, else a WARNING."""
    nonce = make_nonce(lock_timeout=30)
    lock = f"hmac-body-auth:lock:{nonce.name}"
    client.set(lock, "lost-token", px=30_000)
    release = nonce._release
    failures = [2]  # Redis answers again at the third try

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures[0]:
            failures[0] -= 1
            raise redis.exceptions.TimeoutError("Timeout reading from socket")
        return release(*args, **kwargs)

    nonce._release = flaky  # type: ignore[method-assign]
    nonce._orphans.append(("lost-token", time.monotonic() + 30, 5))
    nonce.close()
    assert not client.exists(lock)

    other = make_nonce()
    client.set(lock, "other-lost", px=30_000)

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise redis.exceptions.ConnectionError("Connection refused")

    other._release = unreachable  # type: ignore[method-assign]
    other._orphans.append(("other-lost", time.monotonic() + 30, 5))
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        other.close()
    assert any("expires by itself" in r.getMessage() for r in caplog.records)  # logged, not dropped silently
    assert not other._orphans
    client.delete(lock)
