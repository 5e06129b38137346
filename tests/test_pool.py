"""KeyPool: one auth= object over several keys; each key ordered, the keys used side by side."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import VerifyingServer
from tests.conftest import CLIENTS, NIQUESTS_ASYNC, NIQUESTS_SYNC, SESSIONS, call, niquests, session

ACCOUNTS = {f"POOL-KEY-{i}": f"pool-secret-{i}" for i in range(4)}
KEYS = list(ACCOUNTS)


class InFlight:
    """A handler that holds each accepted request ``delay`` seconds and records how many were in flight, per key."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.now: Counter[str] = Counter()
        self.most_per_key = 0
        self.most_at_once = 0
        self.keys: list[str] = []
        self.sent_at: list[float] = []

    def __call__(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Count, wait, answer."""
        key = request["headers"].get("Key", "")
        with self.lock:
            self.keys.append(key)
            self.sent_at.append(time.monotonic())
            self.now[key] += 1
            self.most_per_key = max(self.most_per_key, self.now[key])
            self.most_at_once = max(self.most_at_once, sum(self.now.values()))
        time.sleep(self.delay)
        with self.lock:
            self.now[key] -= 1
        return 200, {"ok": True}


@pytest.fixture
def flight() -> InFlight:
    """20 ms per request, as a far API would take."""
    return InFlight(0.02)


@pytest.fixture
def server(flight: InFlight) -> Iterator[VerifyingServer]:
    """A strict server (signatures, increasing nonces per key) that knows the pool's keys."""
    with VerifyingServer(ACCOUNTS, handler=flight) as srv:
        yield srv


def _pool(n: int = 4, **options: Any) -> hba.KeyPool:
    return hba.KeyPool([hba.Poloniex(k, ACCOUNTS[k], **options) for k in KEYS[:n]])


def test_a_pool_refuses_what_it_cannot_order() -> None:
    """No auths, a non-auth, a key twice, auths of different APIs or options, a bad rate: ConfigurationError."""
    with pytest.raises(hba.ConfigurationError):
        hba.KeyPool([])
    with pytest.raises(hba.ConfigurationError):
        hba.KeyPool(["not an auth"])  # type: ignore[list-item]
    with pytest.raises(hba.ConfigurationError, match="same key twice"):
        hba.KeyPool([hba.Poloniex("K-1", "a"), hba.Poloniex("K-1", "b")])
    with pytest.raises(hba.ConfigurationError, match="one API"):
        hba.KeyPool([hba.Poloniex("K-1", "a"), hba.BodyDigestAuth("K-2", secret="b")])
    with pytest.raises(hba.ConfigurationError, match="one API"):
        hba.KeyPool([hba.BodyDigestAuth("K-1", secret="a"), hba.BodyDigestAuth("K-2", secret="b", algorithm="sha256")])
    for rate in [(0, 1.0), (1, 0), (True, 1.0), ("2", 1.0)]:
        with pytest.raises(hba.ConfigurationError):
            hba.KeyPool([hba.Poloniex("K-1", "a")], rate=rate)  # type: ignore[arg-type]


def test_a_pool_keeps_its_secrets() -> None:
    """Neither repr nor pickle reveals a secret; the pool is every client's kind of auth."""
    pool = _pool()
    assert "pool-secret" not in repr(pool)
    with pytest.raises(TypeError):
        pickle.dumps(pool)
    assert isinstance(pool, requests.auth.AuthBase)
    assert isinstance(pool, httpx.Auth)
    assert len(pool) == 4


def test_sequential_requests_go_round_robin(server: VerifyingServer, flight: InFlight) -> None:
    """One request after another: the keys take turns, each accepted."""
    pool = _pool()
    with requests.Session() as session:
        statuses = [session.post(server.url, data={"command": "x"}, auth=pool).status_code for _ in range(8)]
    assert statuses == [200] * 8
    assert flight.keys == KEYS + KEYS


@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_takes_the_keys_in_turn(server: VerifyingServer, flight: InFlight, client: str) -> None:
    """The same pool through each client's auth=: calls one after another take the keys in turn, all accepted."""
    pool = _pool()
    results = [call(client, "POST", server.url, pool, data={"command": "x", "i": str(i)}) for i in range(8)]
    assert [status for status, _ in results] == [200] * 8
    assert flight.keys == KEYS + KEYS
    assert server.stats.rejected == 0


@pytest.mark.parametrize("client", ["requests", "httpx.Client", *NIQUESTS_SYNC])
def test_threads_use_every_key_at_once_and_each_key_in_order(
    server: VerifyingServer, flight: InFlight, client: str
) -> None:
    """8 threads x 20 requests on 4 keys: 0 rejections, at most one request per key in flight, 4 at once."""
    pool = _pool()
    shared = httpx.Client(auth=pool) if client == "httpx.Client" else None

    def send(i: int) -> int:
        if shared is not None:
            return shared.post(server.url, data={"command": "x", "i": str(i)}).status_code
        if client == "niquests.Session":
            return int(niquests.post(server.url, data={"command": "x", "i": str(i)}, auth=pool, timeout=10).status_code)
        return requests.post(server.url, data={"command": "x", "i": str(i)}, auth=pool, timeout=10).status_code

    try:
        with ThreadPoolExecutor(8) as executor:
            statuses = list(executor.map(send, range(160)))
    finally:
        if shared is not None:
            shared.close()
    assert statuses == [200] * 160
    assert server.stats.accepted == 160
    assert server.stats.rejected == 0
    assert flight.most_per_key == 1
    assert flight.most_at_once == 4
    assert set(flight.keys) == set(KEYS)


@pytest.mark.parametrize("client", ["httpx.AsyncClient", *NIQUESTS_ASYNC])
def test_async_tasks_use_every_key_at_once(server: VerifyingServer, flight: InFlight, client: str) -> None:
    """64 tasks of one AsyncClient (or niquests AsyncSession) on 4 keys: 0 rejected, 1 per key in flight, 4 at once."""
    pool = _pool()

    async def main() -> list[int]:
        if client == "niquests.AsyncSession":
            async with niquests.AsyncSession(auth=pool, pool_maxsize=16) as session:
                answers = await asyncio.gather(
                    *(session.post(server.url, data={"command": "x", "i": str(i)}) for i in range(64))
                )
            return [int(r.status_code or 0) for r in answers]
        async with httpx.AsyncClient(auth=pool) as client_:
            responses = await asyncio.gather(
                *(client_.post(server.url, data={"command": "x", "i": str(i)}) for i in range(64))
            )
        return [r.status_code for r in responses]

    assert asyncio.run(main()) == [200] * 64
    assert server.stats.rejected == 0
    assert flight.most_per_key == 1
    assert flight.most_at_once == 4


def test_signed_blocks_take_free_keys_sync_and_async() -> None:
    """pool.signed(): two open blocks hold two different keys; tasks share the keys in turn."""
    pool = _pool(2)
    url = "https://poloniex.com/tradingApi"
    with pool.signed("POST", url, body={"a": "1"}) as first, pool.signed("POST", url, body={"a": "2"}) as second:
        assert {first.headers["Key"], second.headers["Key"]} == set(KEYS[:2])

    async def main() -> set[str]:
        async def one() -> str:
            async with pool.signed("POST", "https://poloniex.com/tradingApi", body={"a": "1"}) as req:
                await asyncio.sleep(0.01)
                return req.headers["Key"]

        return set(await asyncio.gather(*(one() for _ in range(6))))

    assert asyncio.run(main()) == set(KEYS[:2])


def test_a_key_held_past_its_lease_timeout_is_taken_over_by_a_waiter() -> None:
    """A key held past its lease_timeout is taken over by a waiting request then, as a lease's waiter does."""
    pool = _pool(1, lease_timeout=0.2)
    url = "https://poloniex.com/tradingApi"
    taken: list[float] = []

    def other_thread() -> None:
        with pool.signed("POST", url, body={"a": "2"}) as req:
            taken.append(time.monotonic())
            assert req.headers["Key"] == KEYS[0]

    with pool.signed("POST", url, body={"a": "1"}):
        held_at = time.monotonic()  # the hold's bound runs from (just before) here
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(5)
    assert len(taken) == 1
    # Taken over at the holder's bound (0.2 s after it took the key), however late the thread started.
    assert 0.15 < taken[0] - held_at < 2


def test_a_waiter_behind_others_is_bounded_by_lease_timeout() -> None:
    """A request queued behind another that takes the only key for its whole bound waits at most its own bound."""
    pool = _pool(1, lease_timeout=0.3)
    url = "https://poloniex.com/tradingApi"
    outcomes: list[str] = []
    first_has_it = threading.Event()

    def first() -> None:
        with pool.signed("POST", url, body={"a": "1"}):
            first_has_it.set()
            time.sleep(0.5)  # past its bound: taken over at 0.3 s by the second

    def second() -> None:
        with pool.signed("POST", url, body={"a": "2"}):
            outcomes.append("second")
            time.sleep(0.6)

    waited: list[float] = []

    def third() -> None:
        started = time.monotonic()
        try:
            with pool.signed("POST", url, body={"a": "3"}):
                outcomes.append("third")
        except hba.LeaseTimeout:
            outcomes.append("timeout")
        waited.append(time.monotonic() - started)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    first_has_it.wait(5)
    for target in (second, third):
        threads.append(threading.Thread(target=target))
        threads[-1].start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(10)
    assert outcomes[0] == "second"
    # Its bound (0.3 s) passes while the second holds the key for its own: LeaseTimeout, unless this
    # machine was slow enough for the second's bound to pass first (then it takes the key over).
    assert outcomes[1] in ("timeout", "third")
    assert waited[0] < 2


def test_a_request_from_the_holders_own_hook_proceeds_on_its_key(server: VerifyingServer) -> None:
    """A response hook sending through the same one-key pool gets a nested hold and proceeds at once."""
    pool = _pool(1)
    inner: list[Any] = []
    with httpx.Client(auth=pool) as client:

        def hook(response: httpx.Response) -> None:
            if not inner:
                inner.append("started")  # before the inner request, whose own answer runs this hook too
                started = time.monotonic()
                inner.append(client.post(server.url, data={"command": "inner"}).status_code)
                inner.append(time.monotonic() - started)

        client.event_hooks["response"] = [hook]
        assert client.post(server.url, data={"command": "outer"}).status_code == 200
    assert inner[1] == 200
    assert inner[2] < 2
    assert server.stats.bad_nonce == 0


def test_waiters_are_served_first_come_first_served() -> None:
    """With the only key busy, waiting threads get it in the order they asked."""
    pool = _pool(1)
    order: list[int] = []

    def wait_turn(i: int, ready: threading.Event) -> None:
        ready.set()
        with pool.signed("POST", "https://poloniex.com/tradingApi", body={"i": str(i)}):
            order.append(i)

    with pool.signed("POST", "https://poloniex.com/tradingApi", body={"a": "0"}):
        threads = []
        for i in range(5):
            ready = threading.Event()
            thread = threading.Thread(target=wait_turn, args=(i, ready))
            thread.start()
            ready.wait(5)
            time.sleep(0.02)  # it is queued now
            threads.append(thread)
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_cancelled_waiter_does_not_keep_a_key() -> None:
    """An asyncio task cancelled while waiting for a key leaves the pool usable."""
    pool = _pool(1)

    async def main() -> str:
        holder = pool.signed("POST", "https://poloniex.com/tradingApi", body={"a": "0"})
        await holder.__aenter__()

        async def wait() -> None:
            async with pool.signed("POST", "https://poloniex.com/tradingApi", body={"a": "1"}):
                pass

        task = asyncio.create_task(wait())
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await holder.__aexit__(None, None, None)
        async with pool.signed("POST", "https://poloniex.com/tradingApi", body={"a": "2"}) as req:
            return req.headers["Key"]

    assert asyncio.run(asyncio.wait_for(main(), 5)) == KEYS[0]


@pytest.mark.parametrize("client", SESSIONS)
def test_a_resign_after_a_nonce_error_stays_on_the_same_key(
    server: VerifyingServer, flight: InFlight, client: str
) -> None:
    """The server's nonce for key 0 is ahead: its request is rejected, re-signed and resent with key 0 again."""
    # Above the floor an earlier client's run raised for this key (a key's nonce floor is shared process-wide).
    server.last_nonce[KEYS[0]] = 10**19 + time.time_ns()
    pool = _pool(2)
    with session(client) as s:
        response = s.post(server.url, data={"command": "x"}, auth=pool, timeout=10)
    assert response.status_code == 200
    assert [r.headers.get("Key") for r in server.received] == [KEYS[0], KEYS[0]]
    assert [r.status for r in server.received] == [422, 200]


@pytest.mark.parametrize("client", ["httpx.Client", *SESSIONS])
def test_a_same_origin_307_is_resigned_with_the_same_key(server: VerifyingServer, client: str) -> None:
    """A redirect hop is re-signed by the key that signed the call."""
    server.redirect("/old", 307, server.url)
    pool = _pool(3)
    if client == "httpx.Client":
        with httpx.Client(auth=pool, follow_redirects=True) as httpx_client:
            status = httpx_client.post(server.origin + "/old", data={"command": "x"}).status_code
    else:
        with session(client) as s:
            status = s.post(server.origin + "/old", data={"command": "x"}, auth=pool, timeout=10).status_code
    assert status == 200
    keys = [r.headers.get("Key") for r in server.received]
    assert keys == [KEYS[0], KEYS[0]]


def test_a_budget_per_key_is_honoured(server: VerifyingServer, flight: InFlight) -> None:
    """rate=(2, 0.5) on one key: the third request waits until the first is 0.5 s old."""
    pool = hba.KeyPool([hba.Poloniex(KEYS[0], ACCOUNTS[KEYS[0]])], rate=(2, 0.5))
    with requests.Session() as session:
        # A request counts against the budget from when it takes the key, which is after
        # this instant (the server sees the first one later by its connect and send time).
        started = time.monotonic()
        for _ in range(3):
            assert session.post(server.url, data={"command": "x"}, auth=pool).status_code == 200
    assert flight.sent_at[2] - started >= 0.499  # time.sleep() never returns early; 1 ms for float rounding


def test_a_key_the_api_refuses_is_reported_and_kept(caplog: pytest.LogCaptureFixture) -> None:
    """A 403 for a key is logged with the masked key (never the secret) and the key stays in the pool."""
    with VerifyingServer({KEYS[1]: ACCOUNTS[KEYS[1]]}, nonce_field="nonce") as server:
        pool = _pool(2)
        with caplog.at_level(logging.WARNING, logger="hmac_body_auth"), requests.Session() as session:
            statuses = [session.post(server.url, data={"command": "x"}, auth=pool).status_code for _ in range(4)]
    assert statuses == [403, 200, 403, 200]
    assert "answered 403 to key" in caplog.text
    assert KEYS[0] not in caplog.text
    assert "pool-secret" not in caplog.text


def test_a_pool_call_takes_its_member_through_hold_async_only() -> None:
    """hold_now() on a pool's call takes no member (waiting calls queue in hold_async); once held, it is True."""
    pool = _pool(2)
    call = pool.lifecycle.call("POST", "https://poloniex.com/tradingApi", None, "command=buy")
    assert not call.hold_now()
    assert not call.holding

    async def hold() -> bool:
        await call.hold_async()
        return call.hold_now()

    assert asyncio.run(hold())
    assert call.holding
    call.release()
    assert not call.holding


def _free_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tradingApi"  # nothing listens there: connection refused


def test_a_failed_send_gives_the_key_back() -> None:
    """requests: a send that fails (connection refused) ends the call's hold on its key; the next ones proceed."""
    pool = _pool(1, lease_timeout=3)
    url = _free_port_url()
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(requests.ConnectionError):
            requests.post(url, data={"a": "1"}, auth=pool, timeout=2)
        assert time.monotonic() - started < 1.5


def test_an_unsent_prepared_request_holds_its_key_at_most_lease_timeout(server: VerifyingServer) -> None:
    """A prepared request kept and never sent blocks its key for lease_timeout, then the key is taken over."""
    pool = _pool(1, lease_timeout=1)
    with requests.Session() as s:
        kept = s.prepare_request(requests.Request("POST", server.url, data={"command": "x"}, auth=pool))
        durations = []
        for _ in range(2):
            started = time.monotonic()
            assert s.post(server.url, data={"command": "y"}, auth=pool, timeout=5).status_code == 200
            durations.append(time.monotonic() - started)
    assert kept.headers["Key"] == KEYS[0]
    assert durations[0] < 2.5
    assert durations[1] < 0.5


def test_a_redirect_returned_unfollowed_frees_its_key(server: VerifyingServer) -> None:
    """With allow_redirects=False (requests), a same-origin 307 is returned and its key is free again soon."""
    server.redirect("/old", 307, server.url)
    pool = _pool(1, lease_timeout=5)
    with requests.Session() as s:
        answer = s.post(server.origin + "/old", data={"command": "x"}, auth=pool, allow_redirects=False, timeout=5)
        assert answer.status_code == 307
        started = time.monotonic()
        assert s.post(server.url, data={"command": "y"}, auth=pool, timeout=5).status_code == 200
        assert time.monotonic() - started < 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_after_fork_every_key_of_the_pool_is_free_in_the_child() -> None:
    """A key held by another thread when the process forks is free in the child (whose threads are gone)."""
    pool = _pool(1, lease_timeout=30)
    url = "https://poloniex.com/tradingApi"
    held, done = threading.Event(), threading.Event()

    def hold_it() -> None:
        with pool.signed("POST", url, body={"a": "1"}):
            held.set()
            done.wait(10)

    thread = threading.Thread(target=hold_it)
    thread.start()
    held.wait(5)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            started = time.monotonic()
            with pool.signed("POST", url, body={"a": "2"}) as req:
                message = f"{req.headers['Key']} {time.monotonic() - started:.2f}"
        except BaseException as exc:
            message = type(exc).__name__
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    try:
        _, status = os.waitpid(pid, 0)
        answer = os.read(read, 200).decode()
    finally:
        os.close(read)
        done.set()
        thread.join(5)
    assert os.waitstatus_to_exitcode(status) == 0
    key, seconds = answer.split()
    assert key == KEYS[0]
    assert float(seconds) < 1


def test_a_waiter_whose_event_loop_was_closed_does_not_block_the_pool() -> None:
    """A task left waiting for a key by a loop closed under it: the release works, and the next call gets the key."""
    pool = _pool(1, lease_timeout=5)
    url = "https://poloniex.com/tradingApi"
    holder = pool.signed("POST", url, body={"a": "0"})
    holder.__enter__()

    def other_loop() -> None:
        loop = asyncio.new_event_loop()

        async def waits() -> None:
            async with pool.signed("POST", url, body={"a": "1"}):
                pass

        task = loop.create_task(waits())
        loop.run_until_complete(asyncio.sleep(0.1))  # the task is queued for the key now
        loop.close()  # closed without running the task again
        del task

    thread = threading.Thread(target=other_loop)
    thread.start()
    thread.join(5)
    holder.__exit__(None, None, None)
    started = time.monotonic()
    with pool.signed("POST", url, body={"a": "2"}) as req:
        assert req.headers["Key"] == KEYS[0]
    assert time.monotonic() - started < 1


def test_a_request_cancelled_while_it_waits_for_its_budget_gives_the_key_back() -> None:
    """An asyncio request cancelled during the rate= wait frees its key at once, not after lease_timeout."""
    pool = hba.KeyPool([hba.Poloniex(KEYS[0], ACCOUNTS[KEYS[0]], lease_timeout=6)], rate=(1, 1.0))
    url = "https://poloniex.com/tradingApi"

    async def one(index: int) -> None:
        async with pool.signed("POST", url, body={"i": str(index)}):
            pass

    async def main() -> float:
        await one(0)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(one(1), 0.2)  # cancelled while it waits for the budget
        started = time.monotonic()
        await one(2)
        return time.monotonic() - started

    assert asyncio.run(main()) < 2  # the budget's second (not the 6 s bound)


def test_a_waiter_that_stopped_looking_does_not_hold_up_the_pool() -> None:
    """A queued task whose loop stopped running (not closed) keeps no one from a free key for long."""
    pool = _pool(2, lease_timeout=5)
    url = "https://poloniex.com/tradingApi"
    release = threading.Event()
    holding = threading.Barrier(3)

    def hold() -> None:
        with pool.signed("POST", url, body={"a": "1"}):
            holding.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for thread in threads:
        thread.start()
    holding.wait(5)  # both keys are held
    loop = asyncio.new_event_loop()

    async def background() -> None:
        async with pool.signed("POST", url, body={"a": "bg"}):
            pass

    task = loop.create_task(background())
    loop.run_until_complete(asyncio.sleep(0.1))  # queued; then the loop is left, not closed
    release.set()
    for thread in threads:
        thread.join(5)
    started = time.monotonic()
    with pool.signed("POST", url, body={"a": "next"}):
        pass
    assert time.monotonic() - started < 2.5
    task.cancel()
    loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    loop.close()


def test_a_shortened_hold_of_an_unordered_key_is_restored_when_sent() -> None:
    """ordered=False members: a hop shortened then sent keeps its key for the full bound (one request per key)."""
    pool = hba.KeyPool([hba.Poloniex(KEYS[0], ACCOUNTS[KEYS[0]], ordered=False, lease_timeout=5)])
    call = pool.lifecycle.call("POST", "https://poloniex.com/tradingApi", None, "command=buy")
    call.hold()
    call.shorten_hold(0.05)
    call.sending()
    time.sleep(0.1)
    taken: list[Any] = []
    thread = threading.Thread(target=lambda: taken.append(pool.lifecycle.slots.try_take(None)))
    thread.start()
    thread.join(5)
    assert not isinstance(taken[0], tuple), "another request took the key while the sent one holds it"
    pool.lifecycle.slots.leave(taken[0])
    call.release()


def test_a_nested_request_does_not_queue_behind_waiters() -> None:
    """The holder's own request proceeds at once even when other requests are queued for the key."""
    pool = _pool(1, lease_timeout=5)
    url = "https://poloniex.com/tradingApi"
    other: list[float] = []

    def wait_for_the_key() -> None:
        started = time.monotonic()
        with pool.signed("POST", url, body={"a": "other"}):
            other.append(time.monotonic() - started)

    with pool.signed("POST", url, body={"a": "outer"}):
        thread = threading.Thread(target=wait_for_the_key)
        thread.start()
        time.sleep(0.1)  # it is queued now
        started = time.monotonic()
        with pool.signed("POST", url, body={"a": "nested"}) as nested:
            assert nested.headers["Key"] == KEYS[0]
        assert time.monotonic() - started < 0.5
    thread.join(5)
    assert other[0] < 2


def test_a_blocking_request_in_the_loop_of_the_holding_task_proceeds() -> None:
    """A sync request made inside a running event loop whose other task holds the key: nested, not frozen."""
    pool = _pool(1, lease_timeout=4)
    url = "https://poloniex.com/tradingApi"

    async def main() -> float:
        held, done = asyncio.Event(), asyncio.Event()

        async def holder() -> None:
            async with pool.signed("POST", url, body={"a": "1"}):
                held.set()
                await done.wait()

        task = asyncio.create_task(holder())
        await held.wait()
        started = time.monotonic()
        with pool.signed("POST", url, body={"a": "2"}):  # blocks this thread, the holder's
            pass
        elapsed = time.monotonic() - started
        done.set()
        await task
        return elapsed

    assert asyncio.run(main()) < 1


def test_a_waiter_first_after_a_handoff_is_woken_to_look() -> None:
    """Handing a key to the first waiter wakes the next: it looks at once for another key's run-out hold."""
    pool = _pool(2, ordered=False, lease_timeout=30)
    url = "https://poloniex.com/tradingApi"
    calls = [pool.lifecycle.call("POST", url, None, f"command=x{i}") for i in range(2)]
    for each in calls:
        each.hold()
    slots = pool.lifecycle.slots
    # Each waiter in a thread of its own that lives through the test (this one holds both keys
    # and would get a nested hold; a thread that ended could lend its id to the next one).
    with ThreadPoolExecutor(1) as first_thread, ThreadPoolExecutor(1) as second_thread:
        first = first_thread.submit(slots.try_take, None).result(5)
        second = second_thread.submit(slots.try_take, None).result(5)
        assert not isinstance(first, tuple)
        assert not isinstance(second, tuple)
        assert first.event is not None
        assert second.event is not None
        calls[1].release()  # its key goes to the first waiter
        assert first.member is not None
        assert second.event.is_set(), "the waiter that is first now was not woken"

        def look() -> Any:
            return second_thread.submit(slots.retry, second, active=True, collectable=False, blocking=True).result(5)

        assert isinstance(look(), float)  # nothing free yet: it waits, polling as the first
        calls[0].abandon()  # the other key's hold ends by itself (as a run-out one does)
        taken = look()
        assert isinstance(taken, tuple)
        assert taken[0].index == 0
    for member, hold in ((first.member, first.hold), taken):
        slots.give_back(member, hold)
