"""Every preset, every client (aiohttp too), through a real proxy on 127.0.0.1: CONNECT tunnels to TLS and forwarding.

httpcore calls a request's ``trace`` extension for the proxy's ``CONNECT`` too;
the auth used to take that for the first hop and refuse the real request as a
redirect (``RedirectError`` for every POST of a nonce preset). Here each request
must arrive verified, the proxy must have carried it, and nothing is rejected.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.presets import PRESETS, preset
from hmac_body_auth.testing import PoloniexServer, SchemeServer, VerifyingServer

from ._presets import CALLS, Call
from .proxy import ConnectProxy
from .tls import ThrowawayCA, TLSServer, tls_server

KEY = "PROXY-KEY-0123456789"
# Base64, as Kraken and Coinbase Exchange issue secrets; the other presets sign with the text as it is.
SECRET = "cHJveHktdGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="
PASSPHRASE = "proxy pass phrase"
HAS_HTTPX2 = importlib.util.find_spec("httpx2") is not None

PROXY_VARS = [
    f"{name}{suffix}"
    for name in ("HTTP", "HTTPS", "ALL", "NO", "http", "https", "all", "no")
    for suffix in ("_PROXY", "_proxy")
    if name.isupper() == suffix.isupper()
] + ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"]


#: Presets whose nonce is an integer the server requires to increase.
INTEGER_NONCES = sorted(
    name for name in PRESETS if preset(name)[0].recipe.nonce is not None and preset(name)[0].recipe.ordered
)


def _needs_passphrase(verifier_cls: type[Any]) -> bool:
    return "passphrases" in inspect.signature(verifier_cls).parameters


def _auth(name: str) -> Any:
    auth_cls, verifier_cls = preset(name)
    return auth_cls(KEY, SECRET, **({"passphrase": PASSPHRASE} if _needs_passphrase(verifier_cls) else {}))


def _scheme_server(name: str) -> SchemeServer:
    _, verifier_cls = preset(name)
    options = {"passphrases": {KEY: PASSPHRASE}} if _needs_passphrase(verifier_cls) else {}
    return SchemeServer(verifier_cls({KEY: SECRET}, **options), window_ms=60_000)


def _target(origin: str) -> str:
    return origin.split("://", 1)[1].split("/", 1)[0]


def _httpx(module: str) -> Any:
    return pytest.importorskip(module)


# -- one way to send a list of calls through each client and proxy configuration ------------------

HTTPX_MODULES = [
    pytest.param("httpx", id="httpx"),
    pytest.param("httpx2", id="httpx2", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="httpx2 not installed")),
]
#: How the client is told about the proxy: ``proxy=``, ``mounts=`` with a proxied transport, or HTTPS_PROXY.
HOW = ["proxy", "mounts", "env"]


def _httpx_client_kwargs(mod: Any, how: str, proxy: ConnectProxy, verify: Any, is_async: bool, scheme: str) -> Any:
    if how == "proxy":
        return {"proxy": proxy.url, "verify": verify}
    if how == "mounts":
        transport = mod.AsyncHTTPTransport if is_async else mod.HTTPTransport
        return {"mounts": {f"{scheme}://": transport(proxy=proxy.url, verify=verify)}}
    assert how == "env"
    return {"verify": verify, "trust_env": True}


def send_httpx(mod: Any, is_async: bool, calls: list[Call], origin: str, auth: Any, **client_kwargs: Any) -> list[Any]:
    """Send ``calls`` in order on one httpx / httpx2 Client or AsyncClient; return the responses."""
    if not is_async:
        with mod.Client(auth=auth, timeout=10, **client_kwargs) as client:
            return [client.request(c.method, origin + c.path, **c.kwargs) for c in calls]

    async def go() -> list[Any]:
        async with mod.AsyncClient(auth=auth, timeout=10, **client_kwargs) as client:
            return [await client.request(c.method, origin + c.path, **c.kwargs) for c in calls]

    return asyncio.run(go())


def send_requests(calls: list[Call], origin: str, auth: Any, **kwargs: Any) -> list[requests.Response]:
    """Send ``calls`` in order on one requests Session; return the responses."""
    with requests.Session() as session:
        return [session.request(c.method, origin + c.path, auth=auth, timeout=10, **c.kwargs, **kwargs) for c in calls]


@dataclass(frozen=True)
class _Answer:
    """An aiohttp response, read: what the assertions below use of a requests / httpx response."""

    status_code: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def send_aiohttp(calls: list[Call], origin: str, auth: Any, **request_kwargs: Any) -> list[Any]:
    """Send ``calls`` in order on one signing aiohttp session (``trust_env`` goes to the session); the answers."""
    trust_env = request_kwargs.pop("trust_env", False)

    async def go() -> list[Any]:
        middlewares = (hba.aiohttp_middleware(auth),)
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(middlewares=middlewares, timeout=timeout, trust_env=trust_env) as session:
            answers = []
            for c in calls:
                async with session.request(c.method, origin + c.path, **c.kwargs, **request_kwargs) as r:
                    answers.append(_Answer(r.status, await r.text()))
            return answers

    return asyncio.run(go())


def _assert_all_accepted(responses: list[Any], server: VerifyingServer, calls: list[Call]) -> None:
    assert [r.status_code for r in responses] == [200] * len(calls), [r.text for r in responses]
    assert server.stats.accepted == len(calls)
    assert server.stats.rejected == 0, server.stats
    assert [(r.method, r.path.split("?", 1)[0]) for r in server.received] == [(c.method, c.path) for c in calls]


def _assert_tunnelled(proxy: ConnectProxy, server: TLSServer[Any]) -> None:
    connects = proxy.connects
    assert connects, "no CONNECT reached the proxy: the requests went around it"
    assert set(connects) == {_target(server.origin)}
    assert proxy.forwarded == []
    assert proxy.refused == []
    assert server.handshake_errors == 0


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy, no-proxy or CA variables from the machine (NO_PROXY may list 127.0.0.1)."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def ca() -> Iterator[ThrowawayCA]:
    """A throwaway CA for 127.0.0.1."""
    with ThrowawayCA() as authority:
        yield authority


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    """A running loopback proxy."""
    with ConnectProxy() as p:
        yield p


# -- every preset through a CONNECT tunnel to TLS ---------------------------------------------------


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", HTTPX_MODULES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_httpx_every_preset_through_connect(
    name: str,
    module: str,
    mode: str,
    how: str,
    ca: ThrowawayCA,
    proxy: ConnectProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The httpx / httpx2 clients via proxy=, mounts= or HTTPS_PROXY: every call of the preset is accepted."""
    mod = _httpx(module)
    if how == "env":
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    calls = CALLS[name]
    is_async = mode == "async"
    kwargs = _httpx_client_kwargs(mod, how, proxy, ca.client_context(), is_async, "https")
    with tls_server(_scheme_server(name), ca) as server:
        responses = send_httpx(mod, is_async, calls, server.origin, _auth(name), **kwargs)
        _assert_all_accepted(responses, server.server, calls)
        _assert_tunnelled(proxy, server)


@pytest.mark.parametrize("how", ["proxies", "env"])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_requests_every_preset_through_connect(
    name: str, how: str, ca: ThrowawayCA, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A requests Session via proxies= or HTTPS_PROXY: every call of the preset is accepted through the tunnel."""
    calls = CALLS[name]
    if how == "env":
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        extra: dict[str, Any] = {}
    else:
        extra = {"proxies": {"https": proxy.url}}
    with tls_server(_scheme_server(name), ca) as server:
        responses = send_requests(calls, server.origin, _auth(name), verify=ca.ca_bundle, **extra)
        _assert_all_accepted(responses, server.server, calls)
        _assert_tunnelled(proxy, server)


@pytest.mark.parametrize("how", ["proxy", "env"])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_aiohttp_every_preset_through_connect(
    name: str, how: str, ca: ThrowawayCA, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An aiohttp session via proxy= or HTTPS_PROXY (trust_env): every call of the preset is accepted, tunnelled."""
    calls = CALLS[name]
    if how == "env":
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        extra: dict[str, Any] = {"trust_env": True}
    else:
        extra = {"proxy": proxy.url}
    with tls_server(_scheme_server(name), ca) as server:
        responses = send_aiohttp(calls, server.origin, _auth(name), ssl=ca.client_context(), **extra)
        _assert_all_accepted(responses, server.server, calls)
        _assert_tunnelled(proxy, server)


def test_poloniex_server_through_connect(ca: ThrowawayCA, proxy: ConnectProxy) -> None:
    """The Poloniex preset against the Poloniex-like server (nonce form field, real answers) through the tunnel."""
    auth = hba.Poloniex(KEY, SECRET)
    calls = CALLS["poloniex"]
    with tls_server(PoloniexServer({KEY: SECRET}), ca) as server:
        responses = send_httpx(httpx, False, calls, server.origin, auth, proxy=proxy.url, verify=ca.client_context())
        responses += send_requests(calls, server.origin, auth, proxies={"https": proxy.url}, verify=ca.ca_bundle)
        assert responses[0].json() == {"BTC": "0.00000000", "ETH": "0.00000000"}
        _assert_all_accepted(responses, server.server, calls + calls)
        assert server.server.stats.bad_nonce == 0
        _assert_tunnelled(proxy, server)


# -- absolute-form forwarding to http:// ------------------------------------------------------------


#: Forwarding is slower (a connection per request): every preset on one client, and the whole
#: client matrix for Poloniex (nonce in the body) and OKX (headers signing the path and query).
FORWARD_MATRIX = ["okx", "poloniex"]
FORWARD_CASES = [
    pytest.param(name, "httpx", "sync", "proxy", id=f"{name}-httpx-sync-proxy") for name in sorted(PRESETS)
]
FORWARD_CASES += [
    pytest.param(name, module, mode, how, id=f"{name}-{module}-{mode}-{how}", marks=marks)
    for name in FORWARD_MATRIX
    for module, marks in [("httpx", []), ("httpx2", [pytest.mark.skipif(not HAS_HTTPX2, reason="no httpx2")])]
    for mode in ("sync", "async")
    for how in HOW
    if (module, mode, how) != ("httpx", "sync", "proxy")
]


@pytest.mark.parametrize(("name", "module", "mode", "how"), FORWARD_CASES)
def test_httpx_every_preset_forwarded(
    name: str, module: str, mode: str, how: str, proxy: ConnectProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The httpx / httpx2 clients send http:// calls to the proxy in absolute form; each is forwarded and accepted."""
    mod = _httpx(module)
    if how == "env":
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
    calls = CALLS[name]
    is_async = mode == "async"
    kwargs = _httpx_client_kwargs(mod, how, proxy, True, is_async, "http")
    with _scheme_server(name) as server:
        responses = send_httpx(mod, is_async, calls, server.origin, _auth(name), **kwargs)
        _assert_all_accepted(responses, server, calls)
        assert [f.target.split("?", 1)[0] for f in proxy.forwarded] == [server.origin + c.path for c in calls]
        assert [f.method for f in proxy.forwarded] == [c.method for c in calls]
        assert proxy.connects == []
        assert proxy.refused == []


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_requests_every_preset_forwarded(name: str, proxy: ConnectProxy) -> None:
    """A requests Session sends http:// calls to the proxy in absolute form; each is forwarded and accepted."""
    calls = CALLS[name]
    with _scheme_server(name) as server:
        responses = send_requests(calls, server.origin, _auth(name), proxies={"http": proxy.url})
        _assert_all_accepted(responses, server, calls)
        assert [f.target.split("?", 1)[0] for f in proxy.forwarded] == [server.origin + c.path for c in calls]
        assert proxy.connects == []


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_aiohttp_every_preset_forwarded(name: str, proxy: ConnectProxy) -> None:
    """An aiohttp session sends http:// calls to the proxy in absolute form; each is forwarded and accepted."""
    calls = CALLS[name]
    with _scheme_server(name) as server:
        responses = send_aiohttp(calls, server.origin, _auth(name), proxy=proxy.url)
        _assert_all_accepted(responses, server, calls)
        assert [f.target.split("?", 1)[0] for f in proxy.forwarded] == [server.origin + c.path for c in calls]
        assert proxy.connects == []


# -- several requests in a row on one client --------------------------------------------------------

SEQUENCE_CLIENTS = [
    pytest.param("httpx", "sync", id="httpx-sync"),
    pytest.param("httpx", "async", id="httpx-async"),
    pytest.param("httpx2", "sync", id="httpx2-sync", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="no httpx2")),
    pytest.param("httpx2", "async", id="httpx2-async", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="no httpx2")),
    pytest.param("requests", "sync", id="requests"),
    pytest.param("aiohttp", "async", id="aiohttp"),
]


@pytest.mark.parametrize(("client", "mode"), SEQUENCE_CLIENTS)
@pytest.mark.parametrize("name", INTEGER_NONCES)
def test_nonces_increase_through_one_tunnel(
    name: str, client: str, mode: str, ca: ThrowawayCA, proxy: ConnectProxy
) -> None:
    """Eight requests in a row on one client through the proxy: all accepted, nonces strictly increase, one tunnel."""
    calls = [CALLS[name][0]] * 8
    with tls_server(_scheme_server(name), ca) as server:
        if client == "requests":
            responses = send_requests(
                calls, server.origin, _auth(name), proxies={"https": proxy.url}, verify=ca.ca_bundle
            )
        elif client == "aiohttp":
            responses = send_aiohttp(calls, server.origin, _auth(name), proxy=proxy.url, ssl=ca.client_context())
        else:
            mod = _httpx(client)
            responses = send_httpx(
                mod, mode == "async", calls, server.origin, _auth(name), proxy=proxy.url, verify=ca.client_context()
            )
        _assert_all_accepted(responses, server.server, calls)
        nonces = [r.json()["nonce"] for r in responses]
        assert all(isinstance(n, int) for n in nonces)
        assert nonces == sorted(set(nonces)), nonces
        assert server.server.stats.bad_nonce == 0
        assert proxy.connects == [_target(server.origin)]  # the tunnel is kept alive for all of them
        assert proxy.forwarded == []


# -- redirects through the proxy ----------------------------------------------------------------------

REDIRECT_CLIENTS = [
    pytest.param("httpx", "sync", id="httpx-sync"),
    pytest.param("httpx", "async", id="httpx-async"),
    pytest.param("httpx2", "sync", id="httpx2-sync", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="no httpx2")),
    pytest.param("httpx2", "async", id="httpx2-async", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="no httpx2")),
    pytest.param("requests", "sync", id="requests"),
    pytest.param("aiohttp", "async", id="aiohttp"),
]
ORDER = Call("POST", "/old", {"data": {"command": "buy", "marker": "SIGNED-BODY"}})


def _send_following(client: str, mode: str, url: str, auth: Any, proxies: dict[str, str], verify: Any) -> Any:
    """POST ``ORDER``'s form to ``url`` once, following redirects, through the proxy (requests: ``proxies=``)."""
    if client == "requests":
        with requests.Session() as s:
            return s.post(url, data=ORDER.kwargs["data"], auth=auth, proxies=proxies, verify=verify, timeout=10)
    if client == "aiohttp":
        ssl = verify if not isinstance(verify, bool) else True
        (answer,) = send_aiohttp(
            [Call("POST", "", ORDER.kwargs)], url, auth, proxy=next(iter(proxies.values())), ssl=ssl
        )
        return answer
    mod = _httpx(client)
    proxy_url = next(iter(proxies.values()))
    kwargs = {"proxy": proxy_url, "verify": verify, "follow_redirects": True}
    (response,) = send_httpx(mod, mode == "async", [Call("POST", "", ORDER.kwargs)], url, auth, **kwargs)
    return response


def _nonce(body: bytes) -> int:
    fields = dict(pair.split("=", 1) for pair in body.decode().split("&"))
    return int(fields["nonce"])


def _only_tunnels_to(proxy: ConnectProxy, origin: str) -> list[str]:
    """What the proxy saw addressed to ``origin`` other than a CONNECT (a tunnel carries no credentials by itself)."""
    target = _target(origin)
    return [s.request_line for s in proxy.seen if target in s.target and s.method != "CONNECT"]


@pytest.fixture
def tls_pair(ca: ThrowawayCA) -> Iterator[tuple[TLSServer[PoloniexServer], TLSServer[PoloniexServer]]]:
    """The API over TLS (knows KEY) and another origin over TLS that records what reaches it."""
    with tls_server(PoloniexServer({KEY: SECRET}), ca) as api, tls_server(PoloniexServer({}), ca) as elsewhere:
        yield api, elsewhere


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize(("client", "mode"), REDIRECT_CLIENTS)
def test_same_origin_redirect_through_connect_is_resigned(
    client: str, mode: str, status: int, ca: ThrowawayCA, proxy: ConnectProxy, tls_pair: Any
) -> None:
    """A same-origin 307/308 behind the tunnel is followed re-signed: a fresh nonce and signature, then 200."""
    api, _ = tls_pair
    api.server.redirect("/old", status, "/tradingApi")
    verify = ca.ca_bundle if client == "requests" else ca.client_context()
    r = _send_following(client, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), {"https": proxy.url}, verify)
    assert r.status_code == 200
    first, second = api.server.received
    assert (first.path, first.status, second.path, second.status) == ("/old", status, "/tradingApi", 200)
    assert _nonce(second.body) > _nonce(first.body)
    assert second.headers["Sign"] != first.headers["Sign"]
    assert b"marker=SIGNED-BODY" in second.body
    assert api.server.stats.accepted == 1
    assert api.server.stats.bad_nonce == 0
    assert set(proxy.connects) == {_target(api.origin)}


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize(("client", "mode"), REDIRECT_CLIENTS)
def test_cross_origin_redirect_through_connect_is_refused(
    client: str, mode: str, status: int, ca: ThrowawayCA, proxy: ConnectProxy, tls_pair: Any
) -> None:
    """A redirect behind the tunnel to another origin raises RedirectError; no request reaches that origin."""
    api, elsewhere = tls_pair
    api.server.redirect("/old", status, elsewhere.origin + "/steal")
    verify = ca.ca_bundle if client == "requests" else ca.client_context()
    with pytest.raises(hba.RedirectError):
        _send_following(client, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), {"https": proxy.url}, verify)
    assert elsewhere.server.received == []
    assert _only_tunnels_to(proxy, elsewhere.origin) == []
    assert [r.path for r in api.server.received] == ["/old"]
    assert api.server.stats.accepted == 0


@pytest.fixture
def http_pair() -> Iterator[tuple[PoloniexServer, PoloniexServer]]:
    """The API over plain http (knows KEY) and another origin that records what reaches it."""
    with PoloniexServer({KEY: SECRET}) as api, PoloniexServer({}) as elsewhere:
        yield api, elsewhere  # type: ignore[misc]


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize(("client", "mode"), REDIRECT_CLIENTS)
def test_same_origin_redirect_forwarded_is_resigned(
    client: str, mode: str, status: int, proxy: ConnectProxy, http_pair: Any
) -> None:
    """Through a forwarding proxy the hop's origin is the absolute target's: a same-origin 307/308 is re-signed."""
    api, _ = http_pair
    api.redirect("/old", status, "/tradingApi")
    r = _send_following(client, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), {"http": proxy.url}, True)
    assert r.status_code == 200
    first, second = api.received
    assert _nonce(second.body) > _nonce(first.body)
    assert api.stats.accepted == 1
    assert api.stats.bad_nonce == 0
    assert [f.target for f in proxy.forwarded] == [api.origin + "/old", api.origin + "/tradingApi"]


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize(("client", "mode"), REDIRECT_CLIENTS)
def test_cross_origin_redirect_forwarded_is_refused(
    client: str, mode: str, status: int, proxy: ConnectProxy, http_pair: Any
) -> None:
    """Through a forwarding proxy a redirect to another origin raises RedirectError; nothing is forwarded there."""
    api, elsewhere = http_pair
    api.redirect("/old", status, elsewhere.origin + "/steal")
    with pytest.raises(hba.RedirectError):
        _send_following(client, mode, api.origin + "/old", hba.Poloniex(KEY, SECRET), {"http": proxy.url}, True)
    assert elsewhere.received == []
    assert [f.target for f in proxy.forwarded] == [api.origin + "/old"]
    assert _only_tunnels_to(proxy, elsewhere.origin) == []


@pytest.mark.parametrize("pinned", [False, True], ids=["url-unused", "origin-pinned"])
@pytest.mark.parametrize(("first", "second"), [(307, 302), (302, 307)])
@pytest.mark.parametrize(("client", "mode"), REDIRECT_CLIENTS)
def test_every_hop_of_a_forwarded_chain_is_checked(
    client: str, mode: str, first: int, second: int, pinned: bool, proxy: ConnectProxy, http_pair: Any
) -> None:
    """Through a forwarding proxy, A -> A -> B: the second hop's absolute target is checked, and refused."""
    api, elsewhere = http_pair
    api.redirect("/a", first, "/b")
    api.redirect("/b", second, elsewhere.origin + "/steal")
    auth = hba.Poloniex(KEY, SECRET, origin=api.origin) if pinned else hba.Poloniex(KEY, SECRET)
    with pytest.raises(hba.RedirectError, match="another origin"):
        _send_following(client, mode, api.origin + "/a", auth, {"http": proxy.url}, True)
    assert elsewhere.received == []
    assert [f.target for f in proxy.forwarded] == [api.origin + "/a", api.origin + "/b"]
    assert _only_tunnels_to(proxy, elsewhere.origin) == []
    start, hop = api.received
    if first == 307:  # the body went along: re-signed for the hop, a fresh nonce, and it verifies
        assert api.verifier.verify(hop.method, hop.path, hop.headers, hop.body).ok
        assert _nonce(hop.body) > _nonce(start.body)
    else:  # a bodiless GET: stripped of the key and signature
        assert hop.method == "GET"
        assert "Key" not in hop.headers
        assert "Sign" not in hop.headers
