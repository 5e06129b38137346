"""The niquests adapter: what it does differently from requests' (its hooks, its AsyncSession), end to end.

The behaviour niquests shares with requests is tested by parametrization in the
client, redirect, ordering, body-kind, clock-sync and preset suites.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import KEY, NIQUESTS, SECRET, session

niquests = pytest.importorskip("niquests")

pytestmark = pytest.mark.niquests


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A key of its own per test: a nonce floor raised by one test must not reach another."""
    return "NIQ-" + str(abs(hash(request.node.nodeid)))[:12]


@pytest.fixture
def strict(key: str) -> Iterator[PoloniexServer]:
    """A strict Poloniex-like server for this test's key."""
    with PoloniexServer({key: SECRET}) as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def elsewhere() -> Iterator[VerifyingServer]:
    """Another origin that records what reaches it."""
    with VerifyingServer({}, nonce_field=None) as srv:
        yield srv


def _free(auth: hba.HmacAuth) -> bool:
    """Whether the auth's per-key lease is free now (no hold, or only an expired one)."""
    lease = auth.lifecycle.lease
    assert lease is not None
    holder = lease.holder
    return holder is None or holder.expires <= time.monotonic()


@pytest.mark.parametrize("client", NIQUESTS)
def test_niquests_takes_the_auth_as_a_sync_auth_in_both_sessions(server: PoloniexServer, client: str) -> None:
    """Both niquests sessions see a plain callable (its __call__ is no coroutine function) and sign with it."""
    import inspect

    auth = hba.Poloniex(KEY, SECRET)
    assert callable(auth)
    assert not inspect.iscoroutinefunction(auth.__call__)
    with session(client) as s:
        assert s.post(server.url, data={"command": "returnBalances"}, auth=auth, timeout=10).status_code == 200


@pytest.mark.parametrize("client", NIQUESTS)
def test_the_lease_is_free_after_every_kind_of_answer(strict: PoloniexServer, key: str, client: str) -> None:
    """After an accepted call, a nonce-error recovery, a followed 307 and a refused redirect the lease is free."""
    server = strict
    auth = hba.Poloniex(key, SECRET)
    with session(client) as s:
        assert s.post(server.url, data={"command": "x"}, auth=auth, timeout=10).status_code == 200
        assert _free(auth)
        server.last_nonce[key] = 10**18
        assert s.post(server.url, data={"command": "x"}, auth=auth, timeout=10).status_code == 200
        assert _free(auth)
        server.redirect("/old", 307, "/tradingApi")
        assert s.post(server.origin + "/old", data={"command": "x"}, auth=auth, timeout=10).status_code == 200
        assert _free(auth)
        server.redirect("/away", 307, "http://localhost:9/steal")
        with pytest.raises(hba.RedirectError):
            s.post(server.origin + "/away", data={"command": "x"}, auth=auth, timeout=10)
        assert _free(auth)
    assert server.stats.bad_nonce == 1


def test_a_prepared_request_holds_nothing_until_it_is_sent(server: PoloniexServer) -> None:
    """Signed at send time: a prepared, unsent niquests request keeps no lease, and later gets a fresh nonce."""
    auth = hba.Poloniex(KEY, SECRET, lease_timeout=30)
    prepared = niquests.Request("POST", server.url, data={"command": "late"}, auth=auth).prepare()
    assert "Sign" not in prepared.headers
    with ThreadPoolExecutor(1) as pool, niquests.Session() as s:
        start = time.monotonic()
        other = pool.submit(lambda: s.post(server.url, data={"command": "first"}, auth=auth, timeout=10))
        assert other.result(timeout=10).status_code == 200
        assert time.monotonic() - start < 2
        assert s.send(prepared, timeout=10).status_code == 200
    first, late = server.received
    assert late.body.startswith(b"command=late&nonce=")
    assert int(late.body.rpartition(b"=")[2]) > int(first.body.rpartition(b"=")[2])


@pytest.mark.parametrize("client", NIQUESTS)
def test_sending_one_prepared_request_twice_signs_each_send(server: PoloniexServer, client: str) -> None:
    """Each send of the same prepared request is a call of its own, with a fresh nonce: both are accepted."""
    prepared = niquests.Request("POST", server.url, data={"command": "x"}, auth=hba.Poloniex(KEY, SECRET)).prepare()
    with session(client) as s:
        assert s.send(prepared, timeout=10).status_code == 200
        assert s.send(prepared, timeout=10).status_code == 200
    assert (server.stats.accepted, server.stats.bad_nonce) == (2, 0)


@pytest.mark.parametrize("client", NIQUESTS)
def test_user_hooks_see_the_signed_request_and_the_final_answer(strict: PoloniexServer, key: str, client: str) -> None:
    """The user's pre_request hook runs after signing; the user's response hook sees the answer after a re-sign."""
    seen: list[tuple[str, Any]] = []

    def pre(request: Any, **kwargs: Any) -> None:
        seen.append(("pre_request", request.headers.get("Sign")))

    def answered(response: Any, **kwargs: Any) -> None:
        seen.append(("response", response.status_code))

    server = strict
    server.last_nonce[key] = 10**18  # the first answer is a nonce error, re-signed by the auth's own hook
    with session(client) as s:
        r = s.post(
            server.url,
            data={"command": "x"},
            auth=hba.Poloniex(key, SECRET),
            hooks={"pre_request": [pre], "response": [answered]},
            timeout=10,
        )
    assert r.status_code == 200
    assert [name for name, _ in seen] == ["pre_request", "response"]
    assert seen[0][1] is not None  # signed before the user's hook ran
    assert seen[1][1] == 200
    assert server.stats.bad_nonce == 1


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


def test_async_iterable_body_is_spooled_and_signed(open_server: VerifyingServer) -> None:
    """An AsyncSession's async-iterator body is read once (spooled), signed, and sent whole with Content-Length."""
    parts = [b"x" * 70000, b"", b"y" * 5]

    async def go() -> int:
        async with niquests.AsyncSession() as s:
            r = await s.post(open_server.url, data=_chunks(*parts), auth=hba.BodyDigestAuth(KEY, secret=SECRET))
            return int(r.status_code)

    assert asyncio.run(go()) == 200
    (received,) = open_server.received
    assert received.body == b"".join(parts)
    assert received.headers["Content-Length"] == "70005"
    assert "Transfer-Encoding" not in received.headers
    assert open_server.stats.bad_signature == 0


def test_async_iterable_form_body_gets_its_nonce(server: PoloniexServer) -> None:
    """An async-iterator form body with a nonce auth: read, nonce appended, accepted by the strict server."""

    async def go() -> int:
        async with niquests.AsyncSession() as s:
            body = _chunks(b"command=", b"returnBalances")
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            r = await s.post(server.url, data=body, headers=headers, auth=hba.Poloniex(KEY, SECRET))
            return int(r.status_code)

    assert asyncio.run(go()) == 200
    assert server.received[0].body.startswith(b"command=returnBalances&nonce=")


def test_async_body_with_a_sync_session_is_refused_before_sending(open_server: VerifyingServer) -> None:
    """A sync niquests.Session given an async body: a BodyError naming AsyncSession, and nothing is sent."""
    with niquests.Session() as s, pytest.raises(hba.BodyError, match="AsyncSession"):
        s.post(open_server.url, data=_chunks(b"a"), auth=hba.BodyDigestAuth(KEY, secret=SECRET), timeout=5)
    assert open_server.received == []


@pytest.mark.parametrize("client", NIQUESTS)
def test_a_hop_after_a_stripped_one_is_followed_stripped_or_refused(
    server: PoloniexServer, elsewhere: VerifyingServer, client: str
) -> None:
    """After a stripped 302, a same-origin 307 is followed as the unsigned GET it is; another origin is refused."""
    server.redirect("/a", 302, "/b")
    server.redirect("/b", 307, "/c")
    with session(client) as s:
        s.post(server.origin + "/a", data={"command": "x"}, auth=hba.Poloniex(KEY, SECRET), timeout=10)
    signed, *hops = server.received
    assert "Sign" in signed.headers
    assert [(h.method, h.path, "Sign" in h.headers, "Key" in h.headers) for h in hops] == [
        ("GET", "/b", False, False),
        ("GET", "/c", False, False),
    ]
    server.redirect("/b", 307, elsewhere.origin + "/steal")
    with session(client) as s, pytest.raises(hba.RedirectError, match="another origin"):
        s.post(server.origin + "/a", data={"command": "x"}, auth=hba.Poloniex(KEY, SECRET), timeout=10)
    assert elsewhere.received == []


@pytest.mark.parametrize("client", NIQUESTS)
def test_a_same_origin_307_of_a_query_signed_call_is_refused(client: str) -> None:
    """Binance signs the URL: a 307 to another path would need a new URL signature, so it is refused, unsent."""
    from hmac_body_auth.presets.binance import Binance, BinanceVerifier
    from hmac_body_auth.testing import SchemeServer

    with SchemeServer(BinanceVerifier({KEY: SECRET}), window_ms=60_000) as server:
        server.redirect("/api/v3/order", 307, "/api/v3/order2")
        with session(client) as s, pytest.raises(hba.RedirectError, match="URL signature"):
            s.post(server.origin + "/api/v3/order", params={"symbol": "X"}, auth=Binance(KEY, SECRET), timeout=10)
        assert [r.path.partition("?")[0] for r in server.received] == ["/api/v3/order"]


def test_a_failed_async_send_frees_the_lease_when_its_task_ends(server: PoloniexServer) -> None:
    """A refused AsyncSession send whose exception leaves the event loop still frees the lease (its task ended)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    refused = f"http://127.0.0.1:{sock.getsockname()[1]}/tradingApi"
    sock.close()
    auth = hba.Poloniex(KEY, SECRET)

    async def fail() -> None:
        async with niquests.AsyncSession() as s:
            await s.post(refused, data={"a": "1"}, auth=auth, timeout=1)

    with pytest.raises(niquests.ConnectionError):
        asyncio.run(fail())
    assert _free(auth)
    assert niquests.post(server.url, data={"a": "1"}, auth=auth, timeout=5).status_code == 200


def test_a_sync_session_in_a_thread_with_a_running_loop_is_still_sync(server: PoloniexServer) -> None:
    """A blocking niquests.Session call made inside a coroutine (as in a notebook) signs through the sync path."""
    auth = hba.Poloniex(KEY, SECRET)

    async def main() -> int:
        with niquests.Session() as s:
            return int(s.post(server.url, data={"command": "x"}, auth=auth, timeout=10).status_code)

    assert asyncio.run(main()) == 200
    assert _free(auth)


def test_many_threads_each_with_an_async_session_on_one_key(server: PoloniexServer) -> None:
    """Four threads, each running its own event loop with 25 concurrent tasks, on one key: zero rejections."""
    statuses: list[int] = []
    lock = threading.Lock()
    auth = hba.Poloniex(KEY, SECRET, nonce_error=None)

    def loop() -> None:
        async def main() -> list[int]:
            async with niquests.AsyncSession(timeout=30) as s:
                answers = await asyncio.gather(*(s.post(server.url, data={"i": "1"}, auth=auth) for _ in range(25)))
                return [int(a.status_code) for a in answers]

        got = asyncio.run(main())
        with lock:
            statuses.extend(got)

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 100
    assert server.stats.bad_nonce == 0
