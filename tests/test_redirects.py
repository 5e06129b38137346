"""No key, signature or signed body reaches another origin through a redirect."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import KEY, SECRET

STATUSES = [301, 302, 303, 307, 308]
CLIENTS = ["requests.post", "requests.Session", "httpx.Client", "httpx.AsyncClient", "httpx.post"]


@pytest.fixture
def elsewhere() -> Iterator[VerifyingServer]:
    """Another origin (another port on 127.0.0.1) that records what reaches it."""
    with VerifyingServer({}, nonce_field=None) as srv:
        yield srv


def _send(client: str, url: str, auth: Any, data: dict[str, str]) -> Any:
    if client == "requests.post":
        return requests.post(url, data=data, auth=auth, timeout=10)
    if client == "requests.Session":
        with requests.Session() as s:
            return s.post(url, data=data, auth=auth, timeout=10)
    if client == "httpx.post":
        return httpx.post(url, data=data, auth=auth, follow_redirects=True, timeout=10)
    if client == "httpx.Client":
        with httpx.Client(auth=auth, follow_redirects=True, timeout=10) as c:
            return c.post(url, data=data)

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(auth=auth, follow_redirects=True, timeout=10) as c:
            return await c.post(url, data=data)

    return asyncio.run(go())


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
def test_cross_origin_redirect_never_leaks(
    server: PoloniexServer, elsewhere: VerifyingServer, client: str, status: int
) -> None:
    """For every redirect status and client, the other origin gets no Key, Sign or signed body."""
    server.redirect("/tradingApi", status, elsewhere.origin + "/steal")
    data = {"command": "buy", "marker": "SIGNED-BODY"}
    if client.startswith("httpx"):
        # httpx: a typed error before the hop's headers are sent.
        with pytest.raises(hba.RedirectError, match="another origin"):
            _send(client, server.url, hba.Poloniex(KEY, SECRET), data)
    else:
        # requests: the hop goes out stripped of credentials and body.
        _send(client, server.url, hba.Poloniex(KEY, SECRET), data)
        assert len(elsewhere.received) == 1
    assert _leaked(elsewhere.received, b"SIGNED-BODY") == []


@pytest.mark.parametrize("client", ["requests.post", "requests.Session"])
def test_requests_cross_origin_hop_goes_out_without_credentials(
    server: PoloniexServer, elsewhere: VerifyingServer, client: str
) -> None:
    """With requests the hop itself still happens, stripped: no credentials, no body."""
    server.redirect("/tradingApi", 307, elsewhere.origin + "/steal")
    _send(client, server.url, hba.Poloniex(KEY, SECRET), {"command": "buy"})
    (hop,) = elsewhere.received
    assert hop.body == b""
    assert "Key" not in hop.headers
    assert "Sign" not in hop.headers


def test_other_scheme_or_port_is_another_origin(server: PoloniexServer) -> None:
    """Origins are compared parsed: a different port or scheme is another origin, case and default port are not."""
    from hmac_body_auth._auth import origin_of

    assert origin_of("HTTP://Example.COM:80/a") == origin_of("http://example.com/b")
    assert origin_of("https://example.com") != origin_of("http://example.com")
    assert origin_of("http://example.com:8080") != origin_of("http://example.com")
    assert origin_of("http://example.com.evil.org") != origin_of("http://example.com")


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("client", ["requests.post", "requests.Session"])
def test_requests_same_origin_307_308_is_resigned(server: PoloniexServer, client: str, status: int) -> None:
    """A same-origin 307/308 is sent again with a fresh nonce and signature, never the stale one."""
    server.redirect("/old", status, "/tradingApi")
    r = _send(client, server.origin + "/old", hba.Poloniex(KEY, SECRET), {"command": "returnBalances"})
    assert r.status_code == 200
    assert server.stats.bad_nonce == 0
    assert server.stats.accepted == 1
    first, second = server.received
    assert first.body != second.body  # a new nonce


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("client", ["httpx.Client", "httpx.AsyncClient", "httpx.post"])
def test_httpx_same_origin_307_308_with_nonce_is_a_clear_error(
    server: PoloniexServer, client: str, status: int
) -> None:
    """Httpx cannot re-sign a redirect hop: a same-origin 307/308 raises RedirectError instead of a stale nonce."""
    server.redirect("/old", status, "/tradingApi")
    with pytest.raises(hba.RedirectError, match="stale nonce"):
        _send(client, server.origin + "/old", hba.Poloniex(KEY, SECRET), {"command": "returnBalances"})
    assert len(server.received) == 1  # only the original request; the hop was never sent


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
