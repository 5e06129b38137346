"""Per-key ordering: concurrent senders get zero rejections from a strict server."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.nonces import FileNonce
from hmac_body_auth.testing import PoloniexServer

from ._clocks import after_check
from ._workers import post_with_file_nonce
from .conftest import NIQUESTS, NIQUESTS_ASYNC, NIQUESTS_SYNC, SECRET, SESSIONS, aiohttp_session, niquests, session

THREADS, PER_THREAD = 8, 25
#: The asyncio clients: httpx.AsyncClient (an auth flow), aiohttp (a client middleware) and, where
#: installed, niquests.AsyncSession (its hooks; a parameter marked ``niquests``).
ASYNC_CLIENTS = ["httpx.AsyncClient", "aiohttp", *NIQUESTS_ASYNC]


async def _async_client(
    client: str, auth: Any, timeout: float = 30, **options: Any
) -> tuple[Callable[..., Awaitable[int]], Callable[[], Awaitable[None]]]:
    """``(post, close)`` of a new asyncio client signing with ``auth``: ``await post(url, data=...)`` is the status."""
    if client == "aiohttp":
        session = aiohttp_session(auth, timeout=aiohttp.ClientTimeout(total=timeout), **options)

        async def post_aiohttp(url: str, **kwargs: Any) -> int:
            async with session.post(url, **kwargs) as r:
                return r.status

        return post_aiohttp, session.close
    if client == "niquests.AsyncSession":
        nsession = niquests.AsyncSession(auth=auth, timeout=timeout, **options)

        async def post_niquests(url: str, **kwargs: Any) -> int:
            return int((await nsession.post(url, **kwargs)).status_code or 0)

        return post_niquests, nsession.close
    httpx_client = httpx.AsyncClient(auth=auth, timeout=timeout, **options)

    async def post_httpx(url: str, **kwargs: Any) -> int:
        return (await httpx_client.post(url, **kwargs)).status_code

    return post_httpx, httpx_client.aclose


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A key of its own per test, so process-wide nonce state does not leak between tests."""
    return "ORD-" + str(abs(hash(request.node.nodeid)))[:12]


@pytest.fixture
def strict(key: str) -> Iterator[PoloniexServer]:
    """A strict server for this test's key."""
    with PoloniexServer({key: SECRET}) as srv:
        yield srv  # type: ignore[misc]


def _in_threads(call: Callable[[int], int]) -> list[int]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(call, range(THREADS * PER_THREAD)))


def _assert_all_accepted(server: PoloniexServer, statuses: list[int], total: int) -> None:
    assert statuses.count(200) == total, statuses
    assert server.stats.accepted == total
    assert server.stats.bad_nonce == 0
    nonces = [int(r.body.rsplit(b"nonce=", 1)[1]) for r in server.received]
    assert nonces == sorted(nonces)


@pytest.mark.parametrize("client", ["requests.Session", *NIQUESTS_SYNC])
def test_threads_sharing_a_session(strict: PoloniexServer, key: str, client: str) -> None:
    """8 threads x 25 through one requests (or niquests) Session: zero nonce rejections."""
    auth = hba.Poloniex(key, SECRET, nonce_error=None)
    with session(client) as s:
        statuses = _in_threads(lambda i: s.post(strict.url, data={"i": str(i)}, auth=auth, timeout=10).status_code)
    _assert_all_accepted(strict, statuses, THREADS * PER_THREAD)


def test_threads_calling_requests_post_with_separate_auth_objects(strict: PoloniexServer, key: str) -> None:
    """Threads calling requests.post, each with its own auth object of the same key: zero rejections."""
    statuses = _in_threads(
        lambda i: (
            requests.post(
                strict.url, data={"i": str(i)}, auth=hba.Poloniex(key, SECRET, nonce_error=None), timeout=10
            ).status_code
        )
    )
    _assert_all_accepted(strict, statuses, THREADS * PER_THREAD)


def test_threads_sharing_an_httpx_client(strict: PoloniexServer, key: str) -> None:
    """8 threads x 25 through one httpx.Client: zero rejections."""
    with httpx.Client(auth=hba.Poloniex(key, SECRET, nonce_error=None), timeout=10) as c:
        statuses = _in_threads(lambda i: c.post(strict.url, data={"i": str(i)}).status_code)
    _assert_all_accepted(strict, statuses, THREADS * PER_THREAD)


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_hundreds_of_asyncio_tasks(strict: PoloniexServer, key: str, client: str) -> None:
    """200 concurrent tasks on one asyncio client: zero rejections, nonces in order, the loop never blocked for long."""
    stalls: list[float] = []

    async def watch() -> None:
        # The loop's longest gap between two ticks: a lease taken by blocking the thread would show here.
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            stalls.append(now - last - 0.01)
            last = now

    async def main() -> list[int]:
        watcher = asyncio.create_task(watch())
        if client == "aiohttp":
            options: dict[str, Any] = {"connector": aiohttp.TCPConnector(limit=50)}
        elif client == "niquests.AsyncSession":
            options = {"pool_maxsize": 50}
        else:
            options = {"limits": httpx.Limits(max_connections=50)}
        post, close = await _async_client(client, hba.Poloniex(key, SECRET, nonce_error=None), **options)
        try:
            return list(await asyncio.gather(*(post(strict.url, data={"i": str(i)}) for i in range(200))))
        finally:
            await close()
            watcher.cancel()

    _assert_all_accepted(strict, asyncio.run(main()), 200)
    assert max(stalls) < 1.0, max(stalls)


def test_every_client_at_once_on_one_key(strict: PoloniexServer, key: str) -> None:
    """Requests, httpx (, niquests) threads and httpx, aiohttp (, niquests) tasks on one key at once: 0 rejected."""
    statuses: list[int] = []
    lock = threading.Lock()

    def add(values: list[int]) -> None:
        with lock:
            statuses.extend(values)

    def via_requests() -> None:
        auth = hba.Poloniex(key, SECRET, nonce_error=None)
        add([requests.post(strict.url, data={"c": "r"}, auth=auth, timeout=10).status_code for _ in range(30)])

    def via_httpx() -> None:
        with httpx.Client(auth=hba.Poloniex(key, SECRET, nonce_error=None), timeout=10) as c:
            add([c.post(strict.url, data={"c": "h"}).status_code for _ in range(30)])

    def via_async(client: str) -> None:
        async def main() -> list[int]:
            post, close = await _async_client(client, hba.Poloniex(key, SECRET, nonce_error=None))
            try:
                return list(await asyncio.gather(*(post(strict.url) for _ in range(60))))
            finally:
                await close()

        add(asyncio.run(main()))

    def via_niquests() -> None:
        with niquests.Session(auth=hba.Poloniex(key, SECRET, nonce_error=None), timeout=10) as s:
            add([s.post(strict.url, data={"c": "n"}).status_code for _ in range(30)])

    senders = [via_requests, via_requests, via_httpx, via_httpx]
    if niquests is not None:
        senders += [via_niquests]
    workers = [threading.Thread(target=f) for f in senders]
    # One thread of 60 tasks per asyncio client (niquests.AsyncSession where installed).
    async_clients = ["httpx.AsyncClient", "aiohttp"] + (["niquests.AsyncSession"] if niquests is not None else [])
    workers += [threading.Thread(target=via_async, args=(client,)) for client in async_clients]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    _assert_all_accepted(strict, statuses, 240 + (90 if niquests is not None else 0))


def test_ordering_can_be_switched_off(key: str) -> None:
    """ordered=False takes no lease (for APIs that accept a nonce window)."""
    assert not hba.Poloniex(key, SECRET, ordered=False).ordered
    assert hba.Poloniex(key, SECRET).ordered


# -- recovery ---------------------------------------------------------------------


@pytest.mark.parametrize("client", ["requests", "httpx", "httpx-async", "aiohttp", *NIQUESTS])
def test_recovers_from_a_key_driven_far_ahead(strict: PoloniexServer, key: str, client: str) -> None:
    """After "Nonce must be greater than X" the auth re-signs once above X, and later requests stay above X."""
    far = time.time_ns() // 1000 + 10**12  # another program used nanosecond-ish nonces
    strict.last_nonce[key] = far
    auth = hba.Poloniex(key, SECRET)
    for _ in range(3):
        if client == "requests":
            r = requests.post(strict.url, data={"command": "returnBalances"}, auth=auth, timeout=10)
            status, history = r.status_code, len(r.history)
        elif client == "httpx":
            resp = httpx.post(strict.url, data={"command": "returnBalances"}, auth=auth)
            status, history = resp.status_code, 0
        elif client.startswith("niquests"):
            with session(client) as s:
                r = s.post(strict.url, data={"command": "returnBalances"}, auth=auth, timeout=10)
            status, history = r.status_code, len(r.history)
        elif client == "aiohttp":

            async def post() -> int:
                send, close = await _async_client(client, auth)
                try:
                    return await send(strict.url, data={"command": "returnBalances"})
                finally:
                    await close()

            status, history = asyncio.run(post()), 0
        else:

            async def go() -> httpx.Response:
                async with httpx.AsyncClient(auth=auth) as c:
                    return await c.post(strict.url, data={"command": "returnBalances"})

            status, history = asyncio.run(go()).status_code, 0
        assert status == 200
    assert strict.stats.bad_nonce == 1  # only the first request met the stale floor
    assert strict.stats.accepted == 3
    assert int(strict.received[1].body.rsplit(b"nonce=", 1)[1]) > far
    if client == "requests" or client.startswith("niquests"):
        assert history == 0  # the later requests needed no re-sign


@pytest.mark.parametrize("client", SESSIONS)
def test_nonce_error_with_status_200_is_recognised(key: str, client: str) -> None:
    """A nonce error answered with HTTP 200 is recovered from like a 4xx."""
    with PoloniexServer({key: SECRET}, nonce_error_status=200) as srv, session(client) as s:
        srv.last_nonce[key] = 10**18
        auth = hba.Poloniex(key, SECRET)
        r = s.post(srv.url, data={"command": "returnBalances"}, auth=auth, timeout=10)
        assert r.status_code == 200
        assert "error" not in r.json()
        assert (srv.stats.bad_nonce, srv.stats.accepted) == (1, 1)


@pytest.mark.parametrize("client", SESSIONS)
def test_no_resign_without_the_opt_in(strict: PoloniexServer, key: str, client: str) -> None:
    """A 5xx is not re-signed by default (the order may have run); resign_statuses opts in."""
    calls: list[int] = []

    def handler(request: dict[str, object]) -> tuple[int, dict[str, object]]:
        calls.append(1)
        return (503, {"error": "busy"}) if len(calls) == 1 else (200, {"ok": True})

    strict.handler = handler
    with session(client) as s:
        r = s.post(strict.url, data={"a": "1"}, auth=hba.Poloniex(key, SECRET), timeout=10)
    assert r.status_code == 503
    assert len(calls) == 1
    calls.clear()
    auth = hba.Poloniex(key, SECRET, resign_statuses={503})
    with session(client) as s:
        r = s.post(strict.url, data={"a": "1"}, auth=auth, timeout=10)
    assert r.status_code == 200
    assert len(calls) == 2
    assert strict.stats.bad_nonce == 0


# -- failures never leave anyone stuck ----------------------------------------------


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/tradingApi"
    sock.close()


@pytest.fixture
def refused() -> str:
    """A loopback URL where the connection is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/tradingApi"


def _timed_post(url: str, auth: hba.BodyDigestAuth) -> float:
    t = time.monotonic()
    assert requests.post(url, data={"a": "1"}, auth=auth, timeout=10).status_code == 200
    return time.monotonic() - t


@pytest.mark.parametrize("client", SESSIONS)
@pytest.mark.parametrize("failure", ["timeout", "refused"])
def test_requests_like_failures_release_the_lease(
    strict: PoloniexServer, key: str, failure: str, black_hole: str, refused: str, client: str
) -> None:
    """A timed-out or refused requests (or niquests) call does not block the key's next sender in another thread."""
    auth = hba.Poloniex(key, SECRET)
    url = black_hole if failure == "timeout" else refused
    failed: Any = requests.RequestException if client.startswith("requests") else niquests.RequestException
    with pytest.raises(failed), session(client) as s:
        s.post(url, data={"a": "1"}, auth=auth, timeout=0.2)
    with ThreadPoolExecutor(1) as pool:
        elapsed = pool.submit(_timed_post, strict.url, auth).result(timeout=10)
    assert elapsed < 2
    assert strict.stats.bad_nonce == 0


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
@pytest.mark.parametrize("failure", ["timeout", "refused"])
def test_httpx_and_async_failures_release_the_lease(
    strict: PoloniexServer, key: str, failure: str, black_hole: str, refused: str, client: str
) -> None:
    """A timed-out or refused httpx call, and one of the asyncio client, does not block the next sender."""
    auth = hba.Poloniex(key, SECRET)
    url = black_hole if failure == "timeout" else refused
    with pytest.raises(httpx.TransportError):
        httpx.post(url, data={"a": "1"}, auth=auth, timeout=0.2)

    async def failing() -> None:
        post, close = await _async_client(client, auth, timeout=0.2)
        try:
            await post(url, data={"a": "1"})
        finally:
            await close()

    failed: tuple[type[BaseException], ...] = (httpx.TransportError, aiohttp.ClientError, TimeoutError)
    if niquests is not None:
        failed += (niquests.RequestException,)
    with pytest.raises(failed):
        asyncio.run(failing())
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_timed_post, strict.url, auth).result(timeout=10) < 2


def test_prepared_but_never_sent_is_released(strict: PoloniexServer, key: str) -> None:
    """A prepared request that is dropped unsent frees the lease at once; one kept alive, after lease_timeout."""
    auth = hba.Poloniex(key, SECRET, lease_timeout=1.0)
    prepared = requests.Request("POST", strict.url, data={"a": "1"}, auth=auth).prepare()
    with ThreadPoolExecutor(1) as pool:
        # Kept alive: another thread waits at most lease_timeout.
        assert pool.submit(_timed_post, strict.url, auth).result(timeout=10) < 3
        prepared = requests.Request("POST", strict.url, data={"a": "1"}, auth=auth).prepare()
        del prepared
        gc.collect()
        assert pool.submit(_timed_post, strict.url, auth).result(timeout=10) < 0.5


@pytest.mark.parametrize("client", SESSIONS)
def test_exception_in_a_user_hook_releases_the_lease(strict: PoloniexServer, key: str, client: str) -> None:
    """A user's response hook that raises does not keep the lease."""
    auth = hba.Poloniex(key, SECRET)

    def boom(response: requests.Response, **kwargs: object) -> None:
        raise RuntimeError("hook failed")

    with pytest.raises(RuntimeError), session(client) as s:
        s.post(strict.url, data={"a": "1"}, auth=auth, hooks={"response": boom}, timeout=10)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_timed_post, strict.url, auth).result(timeout=10) < 1


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_cancelled_async_task_does_not_leave_the_lease_held(strict: PoloniexServer, key: str, client: str) -> None:
    """Cancelling tasks waiting for or holding the lease leaves it free for the next task."""
    auth = hba.Poloniex(key, SECRET)

    async def main() -> int:
        post, close = await _async_client(client, auth, timeout=10)
        try:
            tasks = [asyncio.create_task(post(strict.url, data={"i": str(i)})) for i in range(20)]
            await asyncio.sleep(0.005)
            for t in tasks[5:]:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return await asyncio.wait_for(post(strict.url, data={"last": "1"}), 2)
        finally:
            await close()

    assert asyncio.run(main()) == 200
    assert strict.stats.bad_nonce == 0


# -- processes --------------------------------------------------------------------


def test_four_processes_share_one_file_nonce(strict: PoloniexServer, key: str, tmp_path: Path) -> None:
    """4 processes x 25 requests through one FileNonce: zero rejections (the lock spans the send)."""
    path = str(tmp_path / "nonce")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.starmap(post_with_file_nonce, [(strict.url, key, SECRET, path, 25)] * 4)
    statuses = [s for result in results for s in result]
    _assert_all_accepted(strict, statuses, 100)


def test_fast_burst_then_immediate_restart(strict: PoloniexServer, key: str, tmp_path: Path) -> None:
    """With second-resolution nonces, a burst runs ahead of the clock; a restarted process continues above it."""
    path = str(tmp_path / "nonce")
    ctx = multiprocessing.get_context("spawn")
    for _ in range(2):  # each run is a fresh process started right after the last one ended
        with ctx.Pool(1) as pool:
            (statuses,) = pool.starmap(post_with_file_nonce, [(strict.url, key, SECRET, path, 40, "s")])
        assert statuses == [200] * 40
    assert strict.stats.bad_nonce == 0
    assert strict.last_nonce[key] >= time.time() + 30  # ran ahead of the clock, and that was fine


def test_file_nonce_survives_a_clock_step_back(tmp_path: Path) -> None:
    """A new FileNonce on the same file continues above the old high-water mark when the clock went back."""
    first = FileNonce(tmp_path / "n", clock=after_check(lambda: 5_000_000_000))
    values = [first() for _ in range(3)]
    first.close()
    second = FileNonce(tmp_path / "n", clock=after_check(lambda: 1_000))
    assert second() == values[-1] + 1
    second.raise_floor(10**9)
    assert second() == 10**9 + 1


@pytest.mark.parametrize("client", SESSIONS)
def test_requests_like_unordered_still_recovers(strict: PoloniexServer, key: str, client: str) -> None:
    """With ordered=False, requests and niquests still raise the floor and re-sign once on a nonce error, like httpx."""
    strict.last_nonce[key] = 10**18
    auth = hba.Poloniex(key, SECRET, ordered=False)
    with session(client) as s:
        r = s.post(strict.url, data={"command": "returnBalances"}, auth=auth, timeout=10)
    assert r.status_code == 200
    assert strict.stats.bad_nonce == 1
