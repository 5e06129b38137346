"""No key, signature or signed body reaches another origin through a redirect."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import CLIENTS, KEY, SECRET, SESSIONS, aiohttp_session, session

STATUSES = [301, 302, 303, 307, 308]


@pytest.fixture
def elsewhere() -> Iterator[VerifyingServer]:
    """Another origin (another port on 127.0.0.1) that records what reaches it."""
    with VerifyingServer({}, nonce_field=None) as srv:
        yield srv


def _send(client: str, url: str, auth: Any, data: dict[str, str] | None, **kwargs: Any) -> Any:
    """POST ``data`` (and ``kwargs``: params=) through ``client``, following redirects."""
    if client == "requests.post":
        return requests.post(url, data=data, auth=auth, timeout=10, **kwargs)
    if client in ("requests.Session", "niquests.Session", "niquests.AsyncSession"):
        with session(client) as s:
            return s.post(url, data=data, auth=auth, timeout=10, **kwargs)
    if client == "httpx.post":
        return httpx.post(url, data=data, auth=auth, follow_redirects=True, timeout=10, **kwargs)
    if client == "httpx.Client":
        with httpx.Client(auth=auth, follow_redirects=True, timeout=10) as c:
            return c.post(url, data=data, **kwargs)
    if client == "aiohttp":
        return asyncio.run(_aiohttp_post(url, auth, data, **kwargs))

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(auth=auth, follow_redirects=True, timeout=10) as c:
            return await c.post(url, data=data, **kwargs)

    return asyncio.run(go())


async def _aiohttp_post(url: str, auth: Any, data: dict[str, str] | None, **kwargs: Any) -> SimpleNamespace:
    """POST through a signing aiohttp session (aiohttp follows redirects by default)."""
    async with aiohttp_session(auth) as session, session.post(url, data=data, **kwargs) as r:
        await r.read()
        return SimpleNamespace(status_code=r.status, history=r.history, headers=r.headers)


def _leaked(received: list[Any], secret_marker: bytes) -> list[str]:
    leaks = []
    for r in received:
        names = {k.lower() for k in r.headers}
        if "key" in names:
            leaks.append("Key header")
        if "sign" in names:
            leaks.append("Sign header")
        if secret_marker in r.body or b"nonce=" in r.body:
            leaks.append("signed body")
    return leaks


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("status", STATUSES)
def test_cross_origin_redirect_is_refused(
    server: PoloniexServer, elsewhere: VerifyingServer, client: str, status: int
) -> None:
    """Every client, every redirect status to another origin: RedirectError, and nothing reaches that origin."""
    server.redirect("/tradingApi", status, elsewhere.origin + "/steal")
    data = {"command": "buy", "marker": "SIGNED-BODY"}
    with pytest.raises(hba.RedirectError, match="another origin"):
        _send(client, server.url, hba.Poloniex(KEY, SECRET), data)
    assert elsewhere.received == []
    assert _leaked(elsewhere.received, b"SIGNED-BODY") == []


@pytest.mark.parametrize("client", SESSIONS)
def test_not_following_returns_the_redirect_and_refuses_its_next(
    server: PoloniexServer, elsewhere: VerifyingServer, client: str
) -> None:
    """With allow_redirects=False the 3xx is returned; sending its prepared next hop raises, sending nothing."""
    server.redirect("/tradingApi", 307, elsewhere.origin + "/steal")
    with session(client) as s:
        r = s.post(server.url, data={"command": "buy"}, auth=hba.Poloniex(KEY, SECRET), allow_redirects=False)
        assert r.status_code == 307
        assert r.next is not None
        with pytest.raises(hba.RedirectError):
            s.send(r.next, timeout=10)
    assert elsewhere.received == []


@pytest.mark.parametrize("client", SESSIONS)
def test_not_following_then_sending_the_same_origin_next_resigns_it(server: PoloniexServer, client: str) -> None:
    """With allow_redirects=False a same-origin 307's next hop, sent later, goes out re-signed with a fresh nonce."""
    server.redirect("/old", 307, "/tradingApi")
    with session(client) as s:
        r = s.post(server.origin + "/old", data={"command": "x"}, auth=hba.Poloniex(KEY, SECRET), allow_redirects=False)
        assert r.status_code == 307
        assert s.send(r.next, timeout=10).status_code == 200
    assert (server.stats.accepted, server.stats.bad_nonce) == (1, 0)
    first, second = server.received
    assert first.body != second.body


def test_other_scheme_or_port_is_another_origin(server: PoloniexServer) -> None:
    """Origins are compared parsed: a different port or scheme is another origin, case and default port are not."""
    from hmac_body_auth._origin import origin_of

    assert origin_of("HTTP://Example.COM:80/a") == origin_of("http://example.com/b")
    assert origin_of("https://example.com") != origin_of("http://example.com")
    assert origin_of("http://example.com:8080") != origin_of("http://example.com")
    assert origin_of("http://example.com.evil.org") != origin_of("http://example.com")


def test_unicode_pinned_origin_matches_its_punycode_url() -> None:
    """An origin pinned with a Unicode host matches the punycode URL clients send, and nothing else."""
    from hmac_body_auth._origin import origin_of

    assert origin_of("https://bücher.example") == origin_of("https://xn--bcher-kva.example/x")
    auth = hba.Poloniex(KEY, SECRET, origin="https://bücher.example")
    assert auth.sign("POST", "https://xn--bcher-kva.example/tradingApi", body="a=1").body.startswith(b"a=1&nonce=")
    with pytest.raises(hba.OriginError):
        auth.sign("POST", "https://xn--bcher-kvb.example/tradingApi", body="a=1")


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("client", CLIENTS)
def test_same_origin_307_308_is_resigned(server: PoloniexServer, client: str, status: int) -> None:
    """Every client: a same-origin 307/308 is sent again with a fresh nonce and signature, never the stale one."""
    server.redirect("/old", status, "/tradingApi")
    r = _send(client, server.origin + "/old", hba.Poloniex(KEY, SECRET), {"command": "returnBalances"})
    assert r.status_code == 200
    assert server.stats.bad_nonce == 0
    assert server.stats.accepted == 1
    first, second = server.received
    assert first.body != second.body  # a new nonce
    assert second.path == "/tradingApi"


@pytest.mark.parametrize("status", [301, 302, 303])
@pytest.mark.parametrize("client", CLIENTS)
def test_same_origin_301_302_303_hop_is_stripped(server: PoloniexServer, client: str, status: int) -> None:
    """Every client: a same-origin 301/302/303 (the hop becomes a bodiless GET) goes out without Key or Sign."""
    server.redirect("/old", status, "/landing")
    _send(client, server.origin + "/old", hba.Poloniex(KEY, SECRET), {"command": "returnBalances"})
    first, hop = server.received
    assert "Key" in first.headers
    assert "Sign" in first.headers
    assert hop.method == "GET"
    assert "Key" not in hop.headers
    assert "Sign" not in hop.headers
    assert hop.body == b""


@pytest.mark.parametrize("pinned", [False, True], ids=["url-unused", "origin-pinned"])
@pytest.mark.parametrize(("first", "second"), [(307, 307), (308, 302), (303, 307), (302, 302)])
@pytest.mark.parametrize("client", CLIENTS)
def test_every_hop_of_a_chain_is_checked(
    server: PoloniexServer, elsewhere: VerifyingServer, client: str, first: int, second: int, pinned: bool
) -> None:
    """Every client: A -> A -> B, the second hop to another origin is refused, whether the call keeps its URL or not."""
    # Pinned, the call needs the request's URL (Policy.needs_url); unpinned, a guard keeps its own.
    auth = hba.Poloniex(KEY, SECRET, origin=server.origin) if pinned else hba.Poloniex(KEY, SECRET)
    assert auth._policy.needs_url is pinned
    server.redirect("/a", first, "/b")
    server.redirect("/b", second, elsewhere.origin + "/steal")
    with pytest.raises(hba.RedirectError, match="another origin"):
        _send(client, server.origin + "/a", auth, {"command": "buy", "marker": "SIGNED-BODY"})
    assert elsewhere.received == []
    assert [r.path for r in server.received] == ["/a", "/b"]
    start, hop = server.received
    if first in (307, 308):
        # The first hop kept the body: re-signed, a fresh nonce, and its signature verifies.
        assert server.verifier.verify(hop.method, hop.path, hop.headers, hop.body).ok
        assert _nonce(hop.body) > _nonce(start.body)
        assert b"SIGNED-BODY" in hop.body
    else:
        # It became a bodiless GET: stripped of the key and signature.
        assert hop.method == "GET"
        assert "Key" not in hop.headers
        assert "Sign" not in hop.headers
        assert hop.body == b""


def _nonce(body: bytes) -> int:
    return int(dict(pair.split(b"=", 1) for pair in body.split(b"&"))[b"nonce"])


@pytest.mark.parametrize("client", CLIENTS)
def test_same_origin_redirect_without_nonce_follows(open_server: VerifyingServer, client: str) -> None:
    """Without a nonce, a same-origin 308 resends the identical signed body, which verifies."""
    open_server.redirect("/old", 308, "/new")
    r = _send(client, open_server.origin + "/old", hba.BodyDigestAuth(KEY, secret=SECRET), {"a": "1"})
    assert r.status_code == 200
    assert open_server.stats.accepted == 1


@pytest.mark.parametrize("client", ["httpx.Client", "httpx.AsyncClient"])
def test_user_trace_extension_still_called(server: PoloniexServer, client: str) -> None:
    """The redirect guard wraps, not replaces, a user's own httpx trace callback."""
    events: list[str] = []
    auth = hba.Poloniex(KEY, SECRET)
    if client == "httpx.AsyncClient":

        async def atrace(name: str, info: dict[str, Any]) -> None:
            events.append(name)

        async def go() -> int:
            async with httpx.AsyncClient(auth=auth) as c:
                r = await c.post(server.url, data={"a": "1"}, extensions={"trace": atrace})
                return r.status_code

        assert asyncio.run(go()) == 200
    else:

        def trace(name: str, info: dict[str, Any]) -> None:
            events.append(name)

        with httpx.Client(auth=auth) as c:
            assert c.post(server.url, data={"a": "1"}, extensions={"trace": trace}).status_code == 200
    assert any(e.endswith("send_request_headers.started") for e in events)


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("client", CLIENTS)
def test_same_origin_hop_that_needs_a_new_url_signature_is_refused(client: str, status: int) -> None:
    """Every client: a 307/308 of a request signed in its URL (Binance's query signature) is refused, not resent."""
    from hmac_body_auth.presets.binance import Binance, BinanceVerifier
    from hmac_body_auth.testing import SchemeServer

    with SchemeServer(BinanceVerifier({KEY: SECRET}), window_ms=60_000) as api:
        api.redirect("/old", status, "/api/v3/order")
        with pytest.raises(hba.RedirectError, match="URL signature"):
            _send(client, api.origin + "/old", Binance(KEY, SECRET), None, params={"symbol": "BTCUSDT"})
        assert [r.path.split("?", 1)[0] for r in api.received] == ["/old"]


@pytest.mark.parametrize("client", CLIENTS)
def test_pinned_origin_refuses_other_origins(server: PoloniexServer, elsewhere: VerifyingServer, client: str) -> None:
    """An auth pinned to an origin signs requests to it and refuses any other, sending nothing."""
    auth = hba.Poloniex(KEY, SECRET, origin=server.origin)
    assert _send(client, server.url, auth, {"command": "returnBalances"}).status_code == 200
    with pytest.raises(hba.OriginError):
        _send(client, elsewhere.origin + "/tradingApi", auth, {"command": "returnBalances"})
    with pytest.raises(hba.OriginError):
        _send(client, server.url.replace("127.0.0.1", "localhost"), auth, {"command": "returnBalances"})
    assert elsewhere.received == []


@pytest.mark.parametrize("origin", ["ftp://example.com", "not a url", "https://"])
def test_bad_pinned_origin(origin: str) -> None:
    """A pinned origin must be an http(s) URL with a host."""
    with pytest.raises(hba.ConfigurationError):
        hba.Poloniex(KEY, SECRET, origin=origin)


# -- aiohttp: middlewares run once per hop, and nothing tells them which request is a hop ------------


@pytest.mark.parametrize("status", STATUSES)
def test_aiohttp_not_following_returns_the_redirect_and_the_next_request_is_a_new_call(
    server: PoloniexServer, status: int
) -> None:
    """allow_redirects=False returns the 3xx; the caller's own request to its Location is then signed as a new call."""
    server.redirect("/old", status, "/tradingApi")

    async def go() -> tuple[int, int]:
        async with aiohttp_session(hba.Poloniex(KEY, SECRET)) as session:
            async with session.post(server.origin + "/old", data={"a": "1"}, allow_redirects=False) as r:
                first = r.status
            async with session.post(server.origin + r.headers["Location"], data={"a": "2"}) as again:
                return first, again.status

    assert asyncio.run(go()) == (status, 200)
    _, followed = server.received
    assert followed.method == "POST"
    assert followed.headers["Key"] == KEY
    assert followed.body.startswith(b"a=2&nonce=")
    assert server.stats.accepted == 1


def test_aiohttp_a_redirect_not_followed_is_forgotten(server: PoloniexServer) -> None:
    """The middleware forgets a redirect it returned once the response is gone (nothing kept per request)."""
    server.redirect("/old", 307, "/tradingApi")
    middleware = hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET))

    async def go() -> None:
        async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
            for _ in range(3):
                async with session.post(server.origin + "/old", data={"a": "1"}, allow_redirects=False) as r:
                    assert r.status == 307

    asyncio.run(go())
    gc.collect()
    assert middleware._hops == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [307, 308])
def test_aiohttp_per_request_middleware_guards_every_hop(
    server: PoloniexServer, elsewhere: VerifyingServer, status: int
) -> None:
    """middlewares= on one request (replacing the session's): a same-origin hop re-signed, another origin refused."""
    server.redirect("/old", status, "/tradingApi")
    server.redirect("/away", status, elsewhere.origin + "/steal")
    middleware = hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET))

    async def go() -> int:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(hba.RedirectError, match="another origin"):
                await session.post(server.origin + "/away", data={"a": "1"}, middlewares=(middleware,))
            async with session.post(server.origin + "/old", data={"a": "1"}, middlewares=(middleware,)) as r:
                return r.status

    assert asyncio.run(go()) == 200
    assert elsewhere.received == []
    _, redirected, hop = server.received
    # The hop's body object is the previous one (stale nonce, typed application/octet-stream): replaced.
    assert hop.body.startswith(b"a=1&nonce=")
    assert hop.body != redirected.body
    assert hop.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert int(hop.headers["Content-Length"]) == len(hop.body)
    assert server.stats.accepted == 1


@pytest.mark.parametrize("status", [301, 302])
def test_aiohttp_put_redirected_keeps_its_body_and_is_resigned(server: PoloniexServer, status: int) -> None:
    """A PUT redirected by 301/302 keeps method and body in aiohttp: the hop is re-signed, a fresh nonce."""
    server.redirect("/old", status, "/tradingApi")

    async def go() -> int:
        async with (
            aiohttp_session(hba.Poloniex(KEY, SECRET)) as session,
            session.put(server.origin + "/old", data={"a": "1"}) as r,
        ):
            return r.status

    assert asyncio.run(go()) == 200
    first, hop = server.received
    assert hop.method == "PUT"
    assert _leaked([hop], b"-") == ["Key header", "Sign header", "signed body"]  # signed again, for this origin
    assert hop.body != first.body
    assert server.stats.accepted == 1
