"""RedisNonce: one nonce sequence and one sender lock for every host of a key, against a real redis-server."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import socket
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

import hmac_body_auth as hba
from hmac_body_auth._redis import RedisNonce
from hmac_body_auth.errors import ConfigurationError, LeaseTimeout, NonceError
from hmac_body_auth.testing import PoloniexServer

from ._clocks import after_check
from ._nonce_fork_worker import in_child
from ._redis_worker import post_many
from .conftest import KEY, SECRET
from .redis_server import RedisServer, find_redis_server
from .test_nonce_faults import _held_in_thread

pytestmark = pytest.mark.redis

MakeNonce = Callable[..., RedisNonce]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free loopback port, for this module."""
    binary = find_redis_server()
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server); the RedisNonce tests need it"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run them")
        pytest.skip(message)
    with RedisServer(binary) as server:
        yield server.url


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client of the test server, for looking behind the nonce source's back."""
    with redis.Redis.from_url(redis_url) as c:
        yield c
        c.connection_pool.disconnect()


@pytest.fixture
def name() -> str:
    """A sequence name no other test uses."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def make_nonce(redis_url: str, name: str) -> Iterator[MakeNonce]:
    """Build RedisNonce objects on the test server (this test's name by default) and close them afterwards."""
    made: list[RedisNonce] = []

    def make(url: str | None = None, **kwargs: Any) -> RedisNonce:
        kwargs.setdefault("name", name)
        nonce = RedisNonce(url or redis_url, **kwargs)
        made.append(nonce)
        return nonce

    yield make
    for nonce in made:
        nonce.close()


def _server_time_us(c: redis.Redis) -> int:
    seconds, micros = c.time()
    return int(seconds) * 1_000_000 + int(micros)


def _increasing(values: list[int]) -> bool:
    return all(b > a for a, b in itertools.pairwise(values))


# -- the sequence -------------------------------------------------------------------


def test_nonces_strictly_increase(make_nonce: MakeNonce) -> None:
    """Consecutive nonces strictly increase, also from two objects sharing one name."""
    a, b = make_nonce(), make_nonce()
    values = [(a if i % 2 else b)() for i in range(500)]
    assert _increasing(values)


def test_nonces_are_never_below_the_server_clock(make_nonce: MakeNonce, client: redis.Redis) -> None:
    """Each microsecond nonce lies between the Redis server's clock before and after the call."""
    nonce = make_nonce()
    for _ in range(50):
        before = _server_time_us(client)
        value = nonce()
        after = _server_time_us(client)
        assert before <= value <= after


@pytest.mark.parametrize(("unit", "scale"), [("s", 1), ("ms", 1_000), ("us", 1_000_000), ("ns", 1_000_000_000)])
def test_each_unit_follows_the_server_clock(make_nonce: MakeNonce, client: redis.Redis, unit: str, scale: int) -> None:
    """Every unit yields the server's Unix time in that unit (or just above it)."""
    before = _server_time_us(client) * scale // 1_000_000
    value = make_nonce(unit=unit)()
    after = (_server_time_us(client) + 1) * scale // 1_000_000
    assert before <= value <= after + 1


def test_sequence_recovers_after_data_loss(make_nonce: MakeNonce, client: redis.Redis, name: str) -> None:
    """After FLUSHALL the time-based sequence resumes above every nonce issued before (a plain INCR restarts at 1)."""
    nonce = make_nonce()
    issued = [nonce() for _ in range(200)]
    client.flushall()
    assert client.get(f"hmac-body-auth:nonce:{name}") is None
    assert nonce() > max(issued)


def test_raise_floor_makes_the_next_nonce_greater(make_nonce: MakeNonce) -> None:
    """After raise_floor(x), every host's next nonce is greater than x; a lower floor changes nothing."""
    a, b = make_nonce(), make_nonce()
    floor = a() + 10**12
    a.raise_floor(floor)
    assert b() == floor + 1
    a.raise_floor(5)
    assert a() == floor + 2


def test_nanosecond_nonces_are_exact_beyond_float_precision(make_nonce: MakeNonce) -> None:
    """Nanosecond values (~1.7e18, above 2**53) are computed exactly, and a carry through all 9s works."""
    now = 1_700_000_000_123_456_789
    nonce = make_nonce(unit="ns", clock=lambda: now)
    assert nonce() == now
    assert nonce() == now + 1
    nonce.raise_floor(10**25 - 1)
    assert nonce() == 10**25


def test_injected_clock_is_used_instead_of_server_time(make_nonce: MakeNonce) -> None:
    """An injected clock (ns) replaces the server's TIME, converted to the unit by truncation."""
    nonce = make_nonce(unit="ms", clock=after_check(lambda: 5_999_999))
    assert nonce() == 5
    assert nonce() == 6


def test_a_corrupt_stored_value_fails_loudly(make_nonce: MakeNonce, client: redis.Redis, name: str) -> None:
    """A stored value that is not a non-negative integer raises NonceError (from the server's reply), untouched."""
    client.set(f"hmac-body-auth:nonce:{name}", "not-a-number")
    nonce = make_nonce()
    with pytest.raises(NonceError, match="stored nonce") as allocating:
        nonce()
    assert isinstance(allocating.value.__cause__, redis.ResponseError)
    with pytest.raises(NonceError, match="stored nonce") as raising:
        nonce.raise_floor(10)
    assert isinstance(raising.value.__cause__, redis.ResponseError)
    assert client.get(f"hmac-body-auth:nonce:{name}") == b"not-a-number"
    with pytest.raises(TypeError):
        nonce.raise_floor("10")  # type: ignore[arg-type]


def test_works_with_a_decoding_client(redis_url: str, name: str) -> None:
    """An existing client with decode_responses=True is used as is, and close() leaves it open."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        nonce = RedisNonce(c, name=name, clock=after_check(lambda: 10_000))
        assert nonce() == 10
        nonce.acquire(1)
        nonce.release()
        nonce.close()
        assert c.ping()
        c.connection_pool.disconnect()


@settings(max_examples=50, deadline=None)
@given(
    clock_values=st.lists(st.integers(min_value=0, max_value=2**64), min_size=1, max_size=40),
    unit=st.sampled_from(["s", "ms", "us", "ns"]),
)
def test_any_clock_gives_strictly_increasing_nonces(redis_url: str, clock_values: list[int], unit: str) -> None:
    """For any clock (steps back, stalls, jumps), nonces are exactly max(clock, last + 1): strictly increasing."""
    divisor = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    ticks = iter(clock_values)
    nonce = RedisNonce(redis_url, name=f"prop-{uuid.uuid4().hex}", unit=unit, clock=after_check(lambda: next(ticks)))  # type: ignore[arg-type]
    try:
        values = [nonce() for _ in clock_values]
    finally:
        nonce.close()
    expected, last = [], 0
    for tick in clock_values:
        last = max(tick // divisor, last + 1)
        expected.append(last)
    assert values == expected
    assert _increasing(values)


# -- configuration and hygiene ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "unit": "min"}, "unit"),
        ({"name": "x", "lock_timeout": 0}, "lock_timeout"),
        ({"name": "x", "lock_timeout": True}, "lock_timeout"),
        ({"name": "x", "clock": 5}, "clock"),
    ],
)
def test_bad_arguments_fail_at_construction(redis_url: str, kwargs: dict[str, Any], match: str) -> None:
    """Bad arguments raise ConfigurationError when the source is built, naming the argument."""
    with pytest.raises(ConfigurationError, match=match):
        RedisNonce(redis_url, **kwargs)


def test_not_a_url_or_client_is_refused() -> None:
    """Anything but a redis URL or a client is refused at construction."""
    with pytest.raises(ConfigurationError, match="url_or_client"):
        RedisNonce("http://example.invalid/", name="x")
    with pytest.raises(ConfigurationError, match="url_or_client"):
        RedisNonce(42, name="x")  # type: ignore[arg-type]


def test_missing_redis_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the redis package, construction names the extra to install."""
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ConfigurationError, match=r"pip install hmac-body-auth\[redis\]"):
        RedisNonce("redis://127.0.0.1:1/0", name="x")


def test_a_bad_clock_is_a_nonce_error(make_nonce: MakeNonce) -> None:
    """A clock returning a negative or non-int time raises NonceError rather than issuing a nonce."""
    with pytest.raises(NonceError):
        make_nonce(clock=after_check(lambda: -1))()
    with pytest.raises(NonceError):
        make_nonce(clock=after_check(lambda: 1.5))()  # type: ignore[arg-type, return-value]


def test_repr_masks_the_password(redis_url: str, name: str) -> None:
    """The repr shows where the sequence lives but never the password of the URL."""
    url = redis_url.replace("redis://", "redis://user:hunter2@") + "?password=hunter3&socket_timeout=5"
    nonce = RedisNonce(url, name=name)
    try:
        text = repr(nonce)
    finally:
        nonce.close()
    assert "hunter2" not in text
    assert "hunter3" not in text
    assert "user:***@127.0.0.1" in text
    assert name in text


def test_pickling_is_refused(make_nonce: MakeNonce) -> None:
    """A RedisNonce holds a connection: pickling it raises TypeError."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(make_nonce())


def test_scope_is_per_server_and_name(make_nonce: MakeNonce, redis_url: str) -> None:
    """Objects of one name on one server share the in-process scope; other names do not."""
    a, b, other = make_nonce(), make_nonce(redis_url.removesuffix("/0")), make_nonce(name="other")
    assert a.scope == b.scope
    assert a.scope != other.scope
    assert a.interprocess is True
    assert isinstance(a, hba.OrderedNonceSource)


# -- the lock -----------------------------------------------------------------------


def test_a_held_lock_times_out_with_lease_timeout(make_nonce: MakeNonce) -> None:
    """acquire() raises LeaseTimeout when another holder keeps the lock past the timeout."""
    holder, waiter = make_nonce(), make_nonce()
    holder.acquire(1)
    try:
        started = time.monotonic()
        with pytest.raises(LeaseTimeout):
            waiter.acquire(0.1)
        assert time.monotonic() - started < 2
    finally:
        holder.release()
    waiter.acquire(1)
    waiter.release()


def test_a_vanished_holder_blocks_others_only_until_lock_timeout(make_nonce: MakeNonce) -> None:
    """A holder that never releases (a crashed host) frees the lock after lock_timeout; its late release is harmless."""
    crashed = make_nonce(lock_timeout=0.5)
    crashed.acquire(1)
    survivor = make_nonce()
    started = time.monotonic()
    survivor.acquire(timeout=5)
    waited = time.monotonic() - started
    assert 0.2 < waited < 5
    # The crashed holder's late release ignores its expired lock and leaves the survivor's alone.
    crashed.release()
    third = make_nonce()
    with pytest.raises(LeaseTimeout):
        third.acquire(0.05)
    survivor.release()
    third.acquire(1)
    third.release()


def test_release_may_run_in_another_thread(make_nonce: MakeNonce) -> None:
    """The lock taken in one thread is released from another (as the async flow does)."""
    nonce, other = make_nonce(), make_nonce()
    worker = threading.Thread(target=nonce.acquire, args=(1,))
    worker.start()
    worker.join()
    nonce.release()
    other.acquire(0.5)
    other.release()
    # Nothing held any more: a second release does nothing.
    nonce.release()


def test_release_surfaces_connection_errors(make_nonce: MakeNonce, client: redis.Redis, name: str) -> None:
    """release() ignores only an expired lock: a server error reaches the caller."""
    nonce = make_nonce()
    nonce.acquire(1)
    # Replace the lock key by a hash: the release script then fails with WRONGTYPE.
    client.delete(f"hmac-body-auth:lock:{name}")
    client.hset(f"hmac-body-auth:lock:{name}", "x", "y")
    with pytest.raises(redis.ResponseError):
        nonce.release()


# -- end to end: a strict server, many senders --------------------------------------


def test_processes_sharing_a_key_are_never_rejected(redis_url: str, name: str) -> None:
    """4 processes x 25 requests through one RedisNonce name reach a strict server in nonce order: 0 rejections."""
    ctx = multiprocessing.get_context("spawn")
    processes, per_process = 4, 25
    with PoloniexServer({KEY: SECRET}) as server:
        barrier = ctx.Barrier(processes)
        results = ctx.Queue()
        workers = [
            ctx.Process(
                target=post_many,
                args=(redis_url, server.url, KEY, SECRET, name, per_process, barrier, results),
            )
            for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        try:
            reports = [results.get(timeout=60) for _ in workers]
        finally:
            for worker in workers:
                worker.join(timeout=30)
                if worker.is_alive():
                    worker.kill()
                    worker.join()
        results.close()
        results.join_thread()
        stats = server.stats
    assert [error for _, _, error in reports] == [""] * processes
    assert len({pid for pid, _, _ in reports}) == processes
    assert all(statuses == [200] * per_process for _, statuses, _ in reports)
    assert stats.accepted == processes * per_process
    assert stats.bad_nonce == 0
    assert stats.rejected == 0


def test_threads_and_async_tasks_sharing_a_key_are_never_rejected(make_nonce: MakeNonce, redis_url: str) -> None:
    """Threads (httpx.Client) and 100 httpx.AsyncClient tasks, ordered only by the Redis lock: 0 rejections."""
    # Two names for one server stand for two hosts: different in-process scopes, so
    # the two groups below are ordered by the Redis lock alone.
    threads_source = make_nonce(redis_url)
    async_source = make_nonce(redis_url.replace("127.0.0.1", "localhost"))
    assert threads_source.scope != async_source.scope
    thread_count, per_thread, tasks = 4, 25, 100
    errors: list[BaseException] = []
    statuses: list[int] = []
    statuses_lock = threading.Lock()

    with PoloniexServer({KEY: SECRET}) as server:
        thread_auth = hba.Poloniex(KEY, SECRET, nonce=threads_source)
        async_auth = hba.Poloniex(KEY, SECRET, nonce=async_source)
        start = threading.Barrier(thread_count + 1)

        def in_thread() -> None:
            try:
                with httpx.Client(auth=thread_auth, timeout=30) as c:
                    start.wait(timeout=30)
                    for i in range(per_thread):
                        status = c.post(server.url, data={"command": "buy", "n": str(i)}).status_code
                        with statuses_lock:
                            statuses.append(status)
            except BaseException as exc:
                errors.append(exc)

        async def in_tasks() -> list[int]:
            async with httpx.AsyncClient(auth=async_auth, timeout=30) as c:
                start.wait(timeout=30)
                responses = await asyncio.gather(
                    *(c.post(server.url, data={"command": "sell", "n": str(i)}) for i in range(tasks))
                )
            return [r.status_code for r in responses]

        workers = [threading.Thread(target=in_thread) for _ in range(thread_count)]
        for worker in workers:
            worker.start()
        try:
            async_statuses = asyncio.run(in_tasks())
        finally:
            for worker in workers:
                worker.join(timeout=60)
        stats = server.stats
    assert errors == []
    assert statuses == [200] * (thread_count * per_thread)
    assert async_statuses == [200] * tasks
    assert stats.accepted == thread_count * per_thread + tasks
    assert stats.bad_nonce == 0
    assert stats.rejected == 0


# -- faults: a dead, silent or emptied Redis ------------------------------------------


def _redis_binary() -> str:
    binary = find_redis_server()
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server); the RedisNonce tests need it"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI must run them")
        pytest.skip(message)
    return binary


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of this test alone, which the test may stop or reconfigure."""
    server = RedisServer(_redis_binary()).start()
    try:
        yield server
    finally:
        server.stop()


class _SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers (a hung or black-holed Redis)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._connections.append(connection)

    def close(self) -> None:
        self._listener.close()
        for connection in self._connections:
            connection.close()


class _Relay:
    """A TCP relay on 127.0.0.1 to a real server that delays every chunk, or (silent) drops it."""

    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        self._target = target_port
        self.delay = delay
        self.silent = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, password: str | None = None) -> str:
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

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
            if self.delay:
                time.sleep(self.delay)
            if self.silent.is_set():
                continue
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


@pytest.fixture
def silent() -> Iterator[_SilentServer]:
    """A TCP server that accepts and never replies."""
    server = _SilentServer()
    yield server
    server.close()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "hmac_body_auth" and r.levelno == logging.WARNING]


def test_release_after_redis_died_logs_and_returns(own_redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    """Redis dying between acquire and release: release logs a WARNING (no password, no URL) and returns."""
    with redis.Redis.from_url(own_redis.url) as admin:
        admin.config_set("requirepass", "hunter2")
    url = own_redis.url.replace("redis://", "redis://:hunter2@")
    nonce = RedisNonce(url, name="dies", socket_timeout=1)
    nonce.acquire(1)
    assert nonce() > 0
    own_redis.stop()
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        started = time.monotonic()
        nonce.release()
    assert time.monotonic() - started < 2
    [record] = _warnings(caplog)
    assert "lock_timeout" in record.getMessage()
    assert "hunter2" not in caplog.text
    assert "redis://" not in caplog.text
    nonce.release()  # nothing held any more
    with pytest.raises(NonceError) as raised:
        nonce.acquire(1)  # before a request: a typed error, chained
    assert isinstance(raised.value.__cause__, redis.ConnectionError)
    assert "hunter2" not in str(raised.value)
    nonce.close()


def test_release_when_redis_went_silent_is_bounded(redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Redis going silent before release: release returns after about socket_timeout, logging a WARNING."""
    relay = _Relay(int(redis_url.rsplit(":", 1)[1].split("/")[0]))
    nonce = RedisNonce(relay.url(), name=f"silent-{uuid.uuid4().hex}", socket_timeout=0.3)
    try:
        nonce.acquire(1)
        relay.silent.set()
        with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
            started = time.monotonic()
            nonce.release()
            waited = time.monotonic() - started
        assert 0.2 < waited < 1.5
        assert len(_warnings(caplog)) == 1
    finally:
        nonce.close()
        relay.close()


def test_release_after_redis_restarted_empty_logs_and_returns(
    make_nonce: MakeNonce, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis losing everything (data, scripts, connections) before release: release logs a WARNING and returns."""
    nonce = make_nonce()
    nonce.acquire(1)
    client.flushall()
    client.script_flush()
    client.client_kill_filter(_type="normal", skipme=True)
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        nonce.release()
    assert len(_warnings(caplog)) == 1
    nonce.acquire(1)  # and the sequence and lock work again
    assert nonce() > 0
    nonce.release()


def _bounded(call: Callable[[], object], limit: float) -> BaseException:
    """Run ``call`` in a thread; fail if it is still running after ``limit`` s; return what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            raised.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"still blocked after {limit} s"
    assert raised, "returned instead of raising"
    return raised[0]


def test_a_silent_redis_blocks_each_call_at_most_socket_timeout(silent: _SilentServer) -> None:
    """Against a Redis that never answers, acquire, nonces and raise_floor raise NonceError after socket_timeout."""
    url = f"redis://:hunter2@127.0.0.1:{silent.port}/0"
    nonce = RedisNonce(url, name="silent", socket_timeout=0.3)
    for call in (lambda: nonce.acquire(None), nonce, lambda: nonce.raise_floor(10)):
        started = time.monotonic()
        error = _bounded(call, 3)
        assert 0.2 < time.monotonic() - started < 1.5
        assert isinstance(error, NonceError)
        assert not isinstance(error, LeaseTimeout)
        assert isinstance(error.__cause__, redis.RedisError)
        assert "hunter2" not in str(error)
    nonce.release()  # nothing held: nothing to do
    nonce.close()


def test_a_given_client_without_socket_timeout_is_bounded_too(silent: _SilentServer) -> None:
    """A user's redis.Redis with socket_timeout=None still cannot block a call longer than socket_timeout."""
    with redis.Redis(host="127.0.0.1", port=silent.port, socket_timeout=None, socket_connect_timeout=None) as user:
        nonce = RedisNonce(user, name="silent", socket_timeout=0.3)
        started = time.monotonic()
        error = _bounded(lambda: nonce.acquire(5), 3)
        assert time.monotonic() - started < 1.5
        assert isinstance(error, NonceError)
        assert isinstance(_bounded(nonce, 3), NonceError)
        nonce.close()
        user.connection_pool.disconnect()


@pytest.mark.parametrize("bad", [0, -1, True, float("inf"), "5"])
def test_socket_timeout_must_be_a_positive_number(redis_url: str, bad: object) -> None:
    """A socket_timeout that is not a positive, finite number of seconds fails at construction."""
    with pytest.raises(ConfigurationError, match="socket_timeout"):
        RedisNonce(redis_url, name="x", socket_timeout=bad)  # type: ignore[arg-type]


# -- fork --------------------------------------------------------------------------------


def test_a_child_forked_while_the_lock_mutex_was_held_works_and_holds_nothing(
    redis_url: str, name: str, client: redis.Redis
) -> None:
    """A child forked while a thread held the mutex (and the parent the lock) holds nothing, on its own connections."""
    user = redis.Redis.from_url(redis_url)
    nonce = RedisNonce(user, name=name)
    parent_connection = user.client_id()
    nonce.acquire(1)
    try:
        first = nonce()

        def child() -> tuple[int, int, bool]:
            nonce.release()  # the parent's lock is not the child's: nothing happens
            try:
                nonce.acquire(0.05)
            except LeaseTimeout:
                blocked = True
            else:
                blocked = False
            return user.client_id(), nonce(), blocked

        with _held_in_thread(nonce._held_mutex):
            child_connection, value, blocked = in_child(child)
        assert child_connection != parent_connection
        assert value > first
        assert blocked
        assert client.exists(f"hmac-body-auth:lock:{name}")  # still the parent's
        assert nonce() > value
        assert user.client_id() == parent_connection
    finally:
        nonce.release()
        user.close()
        user.connection_pool.disconnect()


# -- asyncio -------------------------------------------------------------------------------


async def _max_gap_while(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Run the coroutine ``work()`` beside a 5 ms ticker; return the ticker's longest gap and the result."""
    gaps: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
            if stop.is_set():
                return

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)  # the ticker runs before the work starts
    try:
        result = await work()
    finally:
        stop.set()
        await ticker
    return max(gaps), result


def test_async_methods_do_not_block_the_loop_with_redis_100ms_away(redis_url: str, name: str) -> None:
    """With Redis 100 ms away each way, the async API keeps the loop ticking (gaps < 150 ms); the sync one blocks it."""
    relay = _Relay(int(redis_url.rsplit(":", 1)[1].split("/")[0]), delay=0.1)
    nonce = RedisNonce(relay.url(), name=name)
    assert isinstance(nonce, hba.nonces.AsyncOrderedNonceSource)
    try:

        async def work() -> list[int]:
            values = []
            for _ in range(2):
                await nonce.acquire_async(10)
                values.append(await nonce.next_async())
                await nonce.release_async()
            return values

        async def blocking() -> int:
            return nonce()

        # A blocked loop would stop for a whole 200 ms round trip, every time; 150 ms leaves
        # room for a loaded CI machine, and up to three runs for a scheduler hiccup there.
        for _ in range(3):
            gap, values = asyncio.run(_max_gap_while(work))
            assert values[1] > values[0]
            if gap < 0.15:
                break
        assert gap < 0.15
        started = time.monotonic()
        sync_gap, _ = asyncio.run(_max_gap_while(blocking))
        assert time.monotonic() - started >= 0.2
        assert sync_gap >= 0.1
    finally:
        nonce.close()
        relay.close()


def test_async_and_sync_locks_are_one_lock(make_nonce: MakeNonce) -> None:
    """acquire_async excludes sync holders and times out with LeaseTimeout; a lock taken async is released sync."""
    nonce, other = make_nonce(clock=after_check(lambda: 1_000)), make_nonce()

    async def work() -> list[int]:
        await nonce.acquire_async(1)
        values = [await nonce.next_async()]
        await nonce.raise_floor_async(100)
        values.append(await nonce.next_async())
        with pytest.raises(LeaseTimeout):
            await other.acquire_async(0.05)
        return values

    assert asyncio.run(work()) == [1, 101]
    with pytest.raises(LeaseTimeout):
        other.acquire(0.05)
    nonce.release()
    other.acquire(1)

    async def release() -> None:
        await other.release_async()
        await nonce.acquire_async(1)
        await nonce.release_async()
        await nonce.aclose()

    asyncio.run(release())


def test_async_methods_work_with_a_given_client(redis_url: str, name: str) -> None:
    """An existing client (decode_responses=True, no socket_timeout) yields a working asyncio client per loop."""
    with redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=None) as user:
        nonce = RedisNonce(user, name=name, clock=after_check(lambda: 10_000))

        async def work() -> int:
            await nonce.acquire_async(1)
            try:
                return await nonce.next_async()
            finally:
                await nonce.release_async()

        assert asyncio.run(work()) == 10
        assert asyncio.run(work()) == 11  # a second loop gets a client of its own
        nonce.close()
        user.connection_pool.disconnect()
