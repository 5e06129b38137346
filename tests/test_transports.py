"""httpx / httpx2 with transports other than httpcore's: a redirect-following client is refused up front.

Such transports never call the ``trace`` extension, so the auth cannot see a
redirect's hop before its headers are written. With ``follow_redirects=True``
the auth must refuse before anything is sent; it used to let ``Key``/``Sign`` and
the signed body reach the redirect's target. The transports here are real: they
write each request to the loopback server over a socket, and record it.
"""

from __future__ import annotations

import asyncio
import http.client
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hmac_body_auth as hba
from hmac_body_auth.presets import KuCoin, KuCoinVerifier
from hmac_body_auth.testing import PoloniexServer, SchemeServer, VerifyingServer, mock_transport

KEY = "TRANSPORT-KEY-0123456789"
SECRET = "transport-secret-0123456789"
PASSPHRASE = "transport pass phrase"
HAS_HTTPX2 = importlib.util.find_spec("httpx2") is not None
STATUSES = [301, 302, 303, 307, 308]
MODULES = [
    pytest.param("httpx", id="httpx"),
    pytest.param("httpx2", id="httpx2", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="httpx2 not installed")),
]
BODY = {"command": "buy", "marker": "SIGNED-BODY"}


def _head(request: Any) -> bytes:
    """The request line and headers, ``Connection: close`` instead of httpx's keep-alive."""
    target = request.url.raw_path.decode("ascii")
    lines = [f"{request.method} {target} HTTP/1.1"]
    lines += [
        f"{k.decode('latin-1')}: {v.decode('latin-1')}" for k, v in request.headers.raw if k.lower() != b"connection"
    ]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse(raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (h.partition(":") for h in header_lines)]
    return int(status_line.split(" ")[1]), headers, body


def socket_transports(mod: Any) -> tuple[type[Any], type[Any]]:
    """A sync and an async transport for ``mod`` (httpx or httpx2) that send over real sockets, never calling trace."""

    class SyncSocketTransport(mod.BaseTransport):  # type: ignore[misc]
        """Writes each request with http.client to its URL's host and port."""

        def __init__(self) -> None:
            self.sent: list[str] = []

        def handle_request(self, request: Any) -> Any:
            body = request.read()
            conn = http.client.HTTPConnection(request.url.host, request.url.port, timeout=10)
            try:
                conn.putrequest(
                    request.method, request.url.raw_path.decode("ascii"), skip_host=True, skip_accept_encoding=True
                )
                for name, value in request.headers.raw:  # as given: names keep their case
                    if name.lower() != b"connection":
                        conn.putheader(name.decode("latin-1"), value)
                conn.putheader("Connection", "close")
                conn.endheaders(body or None)
                self.sent.append(f"{request.method} {request.url}")
                response = conn.getresponse()
                return mod.Response(response.status, headers=response.getheaders(), content=response.read())
            finally:
                conn.close()

    class AsyncSocketTransport(mod.AsyncBaseTransport):  # type: ignore[misc]
        """Writes each request with asyncio streams to its URL's host and port."""

        def __init__(self) -> None:
            self.sent: list[str] = []

        async def handle_async_request(self, request: Any) -> Any:
            body = await request.aread()
            reader, writer = await asyncio.open_connection(request.url.host, request.url.port)
            try:
                writer.write(_head(request) + body)
                await writer.drain()
                self.sent.append(f"{request.method} {request.url}")
                raw = await asyncio.wait_for(reader.read(), timeout=10)  # the server closes after its answer
            finally:
                writer.close()
                await writer.wait_closed()
            status, headers, content = _parse(raw)
            return mod.Response(status, headers=headers, content=content)

    return SyncSocketTransport, AsyncSocketTransport


def send(
    mod: Any,
    mode: str,
    url: str,
    auth: Any,
    transport: Any,
    request: dict[str, Any] | None = None,
    setup: Callable[[Any], None] = lambda client: None,
    **client_kwargs: Any,
) -> Any:
    """POST once to ``url`` on a Client / AsyncClient of ``mod`` (``request``: post() arguments, default ``BODY``).

    ``setup`` is given the client before the request.
    """
    post = {"data": BODY} if request is None else request
    if mode == "sync":
        with mod.Client(auth=auth, transport=transport, timeout=10, **client_kwargs) as client:
            setup(client)
            return client.post(url, **post)

    async def go() -> Any:
        async with mod.AsyncClient(auth=auth, transport=transport, timeout=10, **client_kwargs) as client:
            setup(client)
            return await client.post(url, **post)

    return asyncio.run(go())


def _transport(module: str, mode: str) -> tuple[Any, Any]:
    mod = pytest.importorskip(module)
    sync_cls, async_cls = socket_transports(mod)
    return mod, (sync_cls() if mode == "sync" else async_cls())


@pytest.fixture
def api() -> Iterator[PoloniexServer]:
    """A strict Poloniex-like server that knows KEY/SECRET."""
    with PoloniexServer({KEY: SECRET}) as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def elsewhere() -> Iterator[VerifyingServer]:
    """Another origin (another port on 127.0.0.1) that records whatever reaches it."""
    with VerifyingServer({}, nonce_field=None) as srv:
        yield srv


# -- follow_redirects=True: refused before anything is sent ----------------------------------------


@pytest.mark.parametrize("target", ["other-origin", "same-origin"])
@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_following_client_with_custom_transport_sends_nothing(
    module: str, mode: str, status: int, target: str, api: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """A redirect-following client on a socket transport raises RedirectError, and no byte reaches either server."""
    mod, transport = _transport(module, mode)
    location = elsewhere.origin + "/steal" if target == "other-origin" else "/tradingApi"
    api.redirect("/old", status, location)
    with pytest.raises(hba.RedirectError, match="nothing was sent"):
        send(mod, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), transport, follow_redirects=True)
    assert transport.sent == []
    assert api.received == []
    assert elsewhere.received == []


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_header_preset_with_custom_transport_sends_nothing(
    module: str, mode: str, api: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """A header-signed preset (KuCoin, with a passphrase) is refused the same way: nothing sent, no header leaked."""
    mod, transport = _transport(module, mode)
    api.redirect("/old", 307, elsewhere.origin + "/steal")
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE)
    with pytest.raises(hba.RedirectError):
        send(mod, mode, api.origin + "/old", auth, transport, {"json": {"size": "1"}}, follow_redirects=True)
    assert (transport.sent, api.received, elsewhere.received) == ([], [], [])


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_per_request_follow_redirects_is_refused(
    module: str, mode: str, api: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """follow_redirects=True given to one request (the client does not follow) is refused before sending too."""
    mod, transport = _transport(module, mode)
    api.redirect("/old", 307, elsewhere.origin + "/steal")
    auth = hba.Poloniex(KEY, SECRET)
    with pytest.raises(hba.RedirectError):
        send(mod, mode, api.origin + "/old", auth, transport, {"data": BODY, "follow_redirects": True})
    assert (transport.sent, api.received, elsewhere.received) == ([], [], [])


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_mounted_custom_transport_is_refused(
    module: str, mode: str, api: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """A socket transport given through mounts= (the one the URL picks) is refused the same way."""
    mod, transport = _transport(module, mode)
    api.redirect("/old", 302, elsewhere.origin + "/steal")
    with pytest.raises(hba.RedirectError):
        send(
            mod, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), None,
            mounts={"http://127.0.0.1": transport}, follow_redirects=True,
        )  # fmt: skip
    assert (transport.sent, api.received, elsewhere.received) == ([], [], [])


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_mock_transport_following_is_refused(mode: str) -> None:
    """An httpx.MockTransport with follow_redirects=True is refused before its handler sees anything."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"Location": "http://elsewhere.test/steal"})

    with pytest.raises(hba.RedirectError):
        send(httpx, mode, "http://api.test/tradingApi", hba.Poloniex(KEY, SECRET), httpx.MockTransport(handler),
             follow_redirects=True)  # fmt: skip
    assert seen == []


@pytest.mark.parametrize("where", ["instance", "subclass", "httpx's class"])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_client_choosing_its_transport_its_own_way_is_refused(
    module: str, mode: str, where: str, api: PoloniexServer, elsewhere: VerifyingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A _transport_for_url (the client's, a subclass's, httpx's patched) picking a socket transport is refused."""
    mod, transport = _transport(module, mode)
    api.redirect("/old", 307, elsewhere.origin + "/steal")

    def choose(client: Any) -> None:
        if where == "instance":
            client._transport_for_url = lambda url: transport
        elif where == "subclass":

            class Choosing(type(client)):  # type: ignore[misc]
                def _transport_for_url(self, url: Any) -> Any:
                    return transport

            client.__class__ = Choosing

    if where == "httpx's class":
        for kind in (mod.Client, mod.AsyncClient):
            monkeypatch.setattr(kind, "_transport_for_url", lambda self, url: transport)
    with pytest.raises(hba.RedirectError, match="nothing was sent"):
        send(mod, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), None, setup=choose, follow_redirects=True)
    assert (transport.sent, api.received, elsewhere.received) == ([], [], [])


# -- follow_redirects=False: the same transports work normally -------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_custom_transport_not_following_signs_and_sends(module: str, mode: str, api: PoloniexServer) -> None:
    """Without follow_redirects the socket transports carry signed requests: 200, signature and nonces accepted."""
    mod, transport = _transport(module, mode)
    auth = hba.Poloniex(KEY, SECRET)
    responses = [send(mod, mode, api.url, auth, transport) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["command"] for r in responses] == ["buy"] * 3
    assert (api.stats.accepted, api.stats.rejected) == (3, 0)
    nonces = [int(r.json()["nonce"]) for r in responses]
    assert nonces == sorted(set(nonces))
    assert len(transport.sent) == 3
    assert all(b"marker=SIGNED-BODY" in r.body and "Sign" in r.headers for r in api.received)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_custom_transport_header_preset_not_following(module: str, mode: str) -> None:
    """A header-signed preset (KuCoin) through the socket transports: GET with a query and POST with JSON verified."""
    mod, transport = _transport(module, mode)
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE)
    verifier = KuCoinVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE})
    with SchemeServer(verifier, window_ms=60_000) as server:
        if mode == "sync":
            with mod.Client(auth=auth, transport=transport) as client:
                got = client.get(server.origin + "/api/v1/orders", params={"symbol": "BTC-USDT"})
                posted = client.post(server.origin + "/api/v1/orders", json={"size": "1"})
        else:

            async def go() -> tuple[Any, Any]:
                async with mod.AsyncClient(auth=auth, transport=transport) as client:
                    first = await client.get(server.origin + "/api/v1/orders", params={"symbol": "BTC-USDT"})
                    return first, await client.post(server.origin + "/api/v1/orders", json={"size": "1"})

            got, posted = asyncio.run(go())
        assert (got.status_code, posted.status_code) == (200, 200)
        assert (server.stats.accepted, server.stats.rejected) == (2, 0)


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", MODULES)
def test_custom_transport_not_following_returns_the_redirect(
    module: str, mode: str, status: int, api: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """Without follow_redirects a 3xx to another origin is returned as is; nothing reaches that origin."""
    mod, transport = _transport(module, mode)
    api.redirect("/old", status, elsewhere.origin + "/steal")
    r = send(mod, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), transport)
    assert r.status_code == status
    assert r.headers["Location"] == elsewhere.origin + "/steal"
    assert r.history == []
    assert [(x.path, x.status) for x in api.received] == [("/old", status)]
    assert elsewhere.received == []
    assert len(transport.sent) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_mock_transport_without_following_keeps_working(mode: str) -> None:
    """httpx.Client(transport=mock_transport(verifier)) without follow_redirects verifies and accepts in order."""
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE)
    transport = mock_transport(KuCoinVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE}), window_ms=60_000)
    if mode == "sync":
        with httpx.Client(auth=auth, transport=transport) as client:
            codes = [client.post("http://api.test/api/v1/orders", json={"n": i}).status_code for i in range(3)]
    else:

        async def go() -> list[int]:
            async with httpx.AsyncClient(auth=auth, transport=transport) as client:
                return [
                    (await client.post("http://api.test/api/v1/orders", json={"n": i})).status_code for i in range(3)
                ]

        codes = asyncio.run(go())
    assert codes == [200, 200, 200]
    wrong = KuCoin(KEY, "another-secret", passphrase=PASSPHRASE)
    with httpx.Client(auth=wrong, transport=transport) as client:
        assert client.post("http://api.test/api/v1/orders", json={"n": 9}).status_code == 401


def test_mock_transport_poloniex_nonces_without_following() -> None:
    """The Poloniex preset through mock_transport (no follow_redirects): nonce accepted, a stale replay refused."""
    from hmac_body_auth.presets import PoloniexVerifier

    transport = mock_transport(PoloniexVerifier({KEY: SECRET}))
    with httpx.Client(auth=hba.Poloniex(KEY, SECRET), transport=transport) as client:
        r = client.post("http://api.test/tradingApi", data={"command": "returnBalances"})
        assert r.status_code == 200
        assert isinstance(r.json()["nonce"], int)
        stale = httpx.Request(
            "POST", "http://api.test/tradingApi", content=r.request.content, headers=r.request.headers
        )
        assert client.send(stale, auth=None).status_code == 422


# -- HTTPTransport subclasses that never reach httpcore -----------------------------------------------
# A transport that subclasses HTTPTransport / AsyncHTTPTransport but overrides handle_request /
# handle_async_request may never reach httpcore (which is what calls ``trace``): it is refused
# up front like any other transport.


def _subclassed_transports(mod: Any) -> tuple[Any, Any]:
    """HTTPTransport / AsyncHTTPTransport subclasses whose send methods are the socket transports' (no httpcore)."""
    sync_cls, async_cls = socket_transports(mod)

    class SubclassedSync(mod.HTTPTransport):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.inner = sync_cls()
            self.sent = self.inner.sent

        def handle_request(self, request: Any) -> Any:
            return self.inner.handle_request(request)

    class SubclassedAsync(mod.AsyncHTTPTransport):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.inner = async_cls()
            self.sent = self.inner.sent

        async def handle_async_request(self, request: Any) -> Any:
            return await self.inner.handle_async_request(request)

    return SubclassedSync(), SubclassedAsync()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_httptransport_subclass_without_httpcore_is_refused_before_sending(
    mode: str, api: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """An HTTPTransport subclass that bypasses httpcore is refused up front: nothing reaches the other origin."""
    sync_transport, async_transport = _subclassed_transports(httpx)
    transport = sync_transport if mode == "sync" else async_transport
    api.redirect("/old", 307, elsewhere.origin + "/steal")
    with pytest.raises(hba.RedirectError):
        send(httpx, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), transport, follow_redirects=True)
    assert [(r.path, sorted(k for k in r.headers if k in ("Key", "Sign"))) for r in elsewhere.received] == []
    assert transport.sent == []


def test_a_transport_class_patched_after_a_request_is_refused_from_then_on(api: PoloniexServer) -> None:
    """A transport class that bypasses httpcore only after a first request is refused at the next one: nothing sent."""

    class Late(httpx.HTTPTransport):
        pass

    auth = hba.Poloniex(KEY, SECRET)
    with httpx.Client(transport=Late(), follow_redirects=True) as client:
        assert client.post(api.url, data={"command": "returnBalances"}, auth=auth).status_code == 200
        sent: list[Any] = []

        def bypass(self: Any, request: Any) -> httpx.Response:
            sent.append(request)
            return httpx.Response(200)

        Late.handle_request = bypass  # type: ignore[method-assign]
        with pytest.raises(hba.RedirectError):
            client.post(api.url, data={"command": "returnBalances"}, auth=auth)
        assert sent == []
    assert api.stats.accepted == 1


@pytest.mark.parametrize("module", MODULES)
def test_only_httpcores_own_send_counts_as_reporting_hops(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transports of httpx, and subclasses keeping their send, report hops; an overridden send does not."""
    from hmac_body_auth import _httpx

    mod = importlib.import_module(module)

    class Kept(mod.HTTPTransport):  # type: ignore[misc,name-defined]
        pass

    class Overridden(mod.AsyncHTTPTransport):  # type: ignore[misc,name-defined]
        async def handle_async_request(self, request: Any) -> Any:
            raise AssertionError("never sent")

    transports = [mod.HTTPTransport(), mod.AsyncHTTPTransport(), Kept(), Overridden(), mod.MockTransport(lambda r: r)]
    assert [_httpx._reports_hops(t, mod) for t in transports] == [True, True, True, False, False]
    # A send patched onto the subclass after its first use: refused from then on.
    monkeypatch.setattr(Kept, "handle_request", lambda self, request: None)
    assert _httpx._reports_hops(transports[2], mod) is False


_HEADER_NAMES = st.sampled_from(["Content-Type", "content-type", "Content-Length", "X-A", "Date"])
_HEADER_VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=12)


@given(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=8), _HEADER_NAMES)
@settings(max_examples=300, deadline=None)
def test_the_flows_read_a_header_as_httpx_does(pairs: list[tuple[str, str]], name: str) -> None:
    """The flows' header reader gives what ``headers.get(name)`` gives: repeated values joined, Latin-1 decoded."""
    from hmac_body_auth import _httpx

    headers = httpx.Headers([(k, v.encode("latin-1")) for k, v in pairs])  # bytes: httpx takes str as ASCII only
    assert _httpx._value(headers, name.lower().encode("ascii")) == headers.get(name)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Content-Length", "X-A", "x-a", "Key", "sign", "Date"]),
            _HEADER_VALUES.map(str.strip).filter(str.isascii),
        ),
        max_size=8,
    )
)
@settings(max_examples=100, deadline=None)
def test_a_signed_copy_keeps_the_callers_headers_but_the_replaced_ones(pairs: list[tuple[str, str]]) -> None:
    """The request sent has the caller's headers in order, minus framing and the scheme's, plus the signed ones."""
    auth = hba.Poloniex("KEY-COPY", "secret")
    request = httpx.Request("POST", "https://poloniex.com/tradingApi", headers=pairs, data={"command": "x"})
    flow = auth.sync_auth_flow(request)
    sent = next(flow)
    dropped = {"content-length", "transfer-encoding", "key", "sign"}
    kept = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in dropped]
    added = [(k, v) for k, v in sent.headers.multi_items() if k.lower() in ("content-length", "key", "sign")]
    assert sent.headers.multi_items() == kept + added
    assert [k for k, _ in added] == ["content-length", "key", "sign"]
    assert sent.headers["Content-Length"] == str(len(sent.content))
    assert sent.headers.raw[-2:] == [(b"Key", b"KEY-COPY"), (b"Sign", sent.headers["Sign"].encode())]
    flow.close()
