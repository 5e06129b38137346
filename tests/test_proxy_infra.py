"""The proxy and TLS test infrastructure (tests/proxy.py, tests/tls.py), with plain clients and no auth.

Every test clears the proxy environment variables first (NO_PROXY may list
127.0.0.1 on some machines) and checks what the proxy recorded, so a request
that went around the proxy fails.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import ssl
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import Verdict

from .proxy import ConnectProxy
from .tls import ThrowawayCA, TLSServer, tls_server

PROXY_VARS = [
    f"{name}{suffix}"
    for name in ("HTTP", "HTTPS", "ALL", "NO", "http", "https", "all", "no")
    for suffix in ("_PROXY", "_proxy")
    if name.isupper() == suffix.isupper()
] + ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"]

HAS_HTTPX2 = importlib.util.find_spec("httpx2") is not None


class AcceptAll:
    """A verifier that accepts every request and remembers the URLs it was shown."""

    # Requests carry neither a nonce nor a timestamp: ReplayGuard must not require them.
    carries_nonce = False
    carries_timestamp = False

    def __init__(self) -> None:
        self.urls: list[str] = []

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Accept, without a nonce."""
        self.urls.append(url)
        return Verdict(True)


def _echo(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return 200, {"path": request["path"], "body": request["body"].decode("latin-1"), "headers": request["headers"]}


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy, no-proxy or CA variables from the machine."""
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


@pytest.fixture
def https_server(ca: ThrowawayCA) -> Iterator[TLSServer[SchemeServer]]:
    """An echoing test server over TLS on 127.0.0.1."""
    with tls_server(SchemeServer(AcceptAll(), handler=_echo), ca) as srv:
        yield srv


@pytest.fixture
def http_server() -> Iterator[SchemeServer]:
    """An echoing plain-HTTP test server on 127.0.0.1."""
    srv = SchemeServer(AcceptAll(), handler=_echo)
    with srv:
        yield srv


def _target(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0]


def _httpx_get(module: Any, url: str, **client_kwargs: Any) -> Any:
    with module.Client(timeout=10, **client_kwargs) as client:
        return client.post(url, content=b"a=1&b=%FF")


def _httpx_async_get(module: Any, url: str, **client_kwargs: Any) -> Any:
    async def go() -> Any:
        async with module.AsyncClient(timeout=10, **client_kwargs) as client:
            return await client.post(url, content=b"a=1&b=%FF")

    return asyncio.run(go())


def _httpx_modules() -> list[Any]:
    return [pytest.param("httpx"), pytest.param("httpx2", marks=pytest.mark.skipif(not HAS_HTTPX2, reason="no httpx2"))]


def test_tls_server_verifies_against_the_ca(ca: ThrowawayCA, https_server: TLSServer[SchemeServer]) -> None:
    """The TLS server answers over https with a certificate the CA vouches for, and the default trust rejects it."""
    assert https_server.url.startswith("https://127.0.0.1:")
    assert https_server.server.origin == https_server.origin
    r = requests.post(https_server.url, data=b"x=1", verify=ca.ca_bundle, timeout=10)
    assert r.status_code == 200
    assert r.json()["body"] == "x=1"
    # The server's own verification URL is https too (SchemeServer signs origin + path).
    assert https_server.server.guard.verifier.urls == [https_server.url]  # type: ignore[attr-defined]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(https_server.url, timeout=10)
    with httpx.Client(verify=ca.client_context(), timeout=10) as client:
        assert client.get(https_server.origin + "/x").status_code == 200
    with pytest.raises(ssl.SSLError), socket.create_connection(("127.0.0.1", https_server.port), timeout=10) as raw:
        ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1")


def test_requests_https_through_connect(
    ca: ThrowawayCA, proxy: ConnectProxy, https_server: TLSServer[SchemeServer]
) -> None:
    """A requests Session reaches an https server through one CONNECT tunnel, verification on; bodies arrive intact."""
    with requests.Session() as s:
        for _ in range(2):
            r = s.post(
                https_server.url, data=b"a=1&b=%FF", proxies={"https": proxy.url}, verify=ca.ca_bundle, timeout=10
            )
            assert r.status_code == 200
            assert r.json()["body"] == "a=1&b=%FF"
    assert proxy.connects == [_target(https_server.url)]  # one tunnel, kept alive for both requests
    assert proxy.forwarded == []
    assert https_server.handshake_errors == 0


def test_requests_https_proxy_env(
    ca: ThrowawayCA, proxy: ConnectProxy, https_server: TLSServer[SchemeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain requests takes the proxy from HTTPS_PROXY (trust_env) and tunnels through it."""
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    r = requests.post(https_server.url, data=b"a=1", verify=ca.ca_bundle, timeout=10)
    assert r.status_code == 200
    assert proxy.connects == [_target(https_server.url)]


def test_requests_http_absolute_form(proxy: ConnectProxy, http_server: SchemeServer) -> None:
    """For http:// targets requests sends absolute-form requests; the proxy forwards them in origin form."""
    r = requests.post(
        http_server.url + "?q=1", data=b"a=1", headers={"X-Test": "yes"}, proxies={"http": proxy.url}, timeout=10
    )
    assert r.status_code == 200
    assert r.json()["path"] == "/tradingApi?q=1"  # origin form upstream
    assert r.json()["body"] == "a=1"
    (fwd,) = proxy.forwarded
    assert fwd.method == "POST"
    assert fwd.target == http_server.url + "?q=1"
    assert fwd.request_line == f"POST {http_server.url}?q=1 HTTP/1.1"
    assert fwd.header("x-test") == "yes"
    assert fwd.body == b"a=1"
    (got,) = http_server.received
    assert got.path == "/tradingApi?q=1"
    assert got.headers["X-Test"] == "yes"
    assert proxy.connects == []


@pytest.mark.parametrize("module", _httpx_modules())
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_httpx_https_through_connect(
    module: str, mode: str, ca: ThrowawayCA, proxy: ConnectProxy, https_server: TLSServer[SchemeServer]
) -> None:
    """The httpx / httpx2 Client and AsyncClient reach an https server through the proxy, verify=SSLContext."""
    mod = pytest.importorskip(module)
    send = _httpx_get if mode == "sync" else _httpx_async_get
    r = send(mod, https_server.url, proxy=proxy.url, verify=ca.client_context())
    assert r.status_code == 200
    assert r.json()["body"] == "a=1&b=%FF"
    assert proxy.connects == [_target(https_server.url)]
    assert https_server.handshake_errors == 0


@pytest.mark.parametrize("module", _httpx_modules())
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_httpx_https_proxy_env(
    module: str,
    mode: str,
    ca: ThrowawayCA,
    proxy: ConnectProxy,
    https_server: TLSServer[SchemeServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The httpx / httpx2 clients take the proxy from HTTPS_PROXY (trust_env) and tunnel through it."""
    mod = pytest.importorskip(module)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    send = _httpx_get if mode == "sync" else _httpx_async_get
    r = send(mod, https_server.url, verify=ca.client_context())
    assert r.status_code == 200
    assert proxy.connects == [_target(https_server.url)]


@pytest.mark.parametrize("module", _httpx_modules())
def test_httpx_http_absolute_form(module: str, proxy: ConnectProxy, http_server: SchemeServer) -> None:
    """The httpx / httpx2 clients forward http:// requests through the proxy, chunked bodies included."""
    mod = pytest.importorskip(module)

    def chunks() -> Iterator[bytes]:
        yield b"a=1"
        yield b"&b=2"

    with mod.Client(proxy=proxy.url, timeout=10) as client:
        assert client.post(http_server.url, content=b"x=\x00\xff").json()["body"] == "x=\x00\xff"
        assert client.post(http_server.url, content=chunks()).json()["body"] == "a=1&b=2"
    first, second = proxy.forwarded
    assert first.body == b"x=\x00\xff"
    assert second.header("Transfer-Encoding") == "chunked"
    assert second.body == b"a=1&b=2"
    assert [r.body for r in http_server.received] == [b"x=\x00\xff", b"a=1&b=2"]
    assert proxy.connects == []


def test_connect_headers_stay_outside_the_tunnel(
    ca: ThrowawayCA, proxy: ConnectProxy, https_server: TLSServer[SchemeServer]
) -> None:
    """Request headers travel inside the tunnel: the proxy sees only the CONNECT head, with proxy credentials."""
    proxy_url = proxy.url.replace("http://", "http://user:pw@")
    with httpx.Client(proxy=proxy_url, verify=ca.client_context(), timeout=10) as client:
        r = client.post(https_server.url, content=b"a=1", headers={"X-Secret-Header": "s3cret"})
    assert r.json()["headers"]["X-Secret-Header"] == "s3cret"
    (seen,) = proxy.seen
    assert seen.method == "CONNECT"
    assert seen.header("X-Secret-Header") is None
    assert seen.header("Proxy-Authorization") is not None
    assert "Proxy-Authorization" not in r.json()["headers"]


def test_forwarding_drops_proxy_headers(proxy: ConnectProxy, http_server: SchemeServer) -> None:
    """Forwarded requests lose hop-by-hop proxy headers (Proxy-Authorization) before the origin server."""
    proxy_url = proxy.url.replace("http://", "http://user:pw@")
    r = requests.post(http_server.url, data=b"a=1", proxies={"http": proxy_url}, timeout=10)
    assert r.status_code == 200
    assert proxy.forwarded[0].header("Proxy-Authorization") is not None
    assert not any(k.lower().startswith("proxy-") for k in http_server.received[0].headers)


@pytest.fixture
def no_resolving(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every host name anything in this process resolves or connects to, recorded."""
    looked_up: list[object] = []
    real_getaddrinfo, real_create_connection = socket.getaddrinfo, socket.create_connection

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(address[0])
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return looked_up


def test_proxy_refuses_non_loopback_connect(proxy: ConnectProxy, no_resolving: list[object]) -> None:
    """CONNECT to a non-loopback host is answered 403 without resolving it (requests, httpx, raw socket)."""
    with pytest.raises(requests.exceptions.ProxyError, match="403"):
        requests.get("https://example.invalid/", proxies={"https": proxy.url}, timeout=10)
    with httpx.Client(proxy=proxy.url, timeout=10) as client, pytest.raises(httpx.ProxyError, match="403"):
        client.get("https://example.invalid:8443/")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as raw:
        raw.sendall(b"CONNECT 10.1.2.3:443 HTTP/1.1\r\nHost: 10.1.2.3:443\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 403 Forbidden\r\n")
    assert proxy.refused == ["example.invalid:443", "example.invalid:8443", "10.1.2.3:443"]
    assert proxy.connects == []
    assert not [h for h in no_resolving if h not in ("127.0.0.1", "localhost")]


def test_proxy_refuses_non_loopback_forwarding(proxy: ConnectProxy, no_resolving: list[object]) -> None:
    """An absolute-form request to a non-loopback host gets 403 from the proxy and goes nowhere."""
    r = requests.post("http://example.invalid/x", data=b"a=1", proxies={"http": proxy.url}, timeout=10)
    assert r.status_code == 403
    with httpx.Client(proxy=proxy.url, timeout=10) as client:
        assert client.get("http://example.invalid:8080/").status_code == 403
    assert proxy.refused == ["http://example.invalid/x", "http://example.invalid:8080/"]
    assert proxy.forwarded == []
    assert not [h for h in no_resolving if h not in ("127.0.0.1", "localhost")]


def test_connect_to_localhost_name(ca: ThrowawayCA, proxy: ConnectProxy, https_server: TLSServer[SchemeServer]) -> None:
    """A CONNECT to ``localhost:PORT`` is tunnelled to 127.0.0.1 (the certificate covers both names)."""
    url = https_server.url.replace("127.0.0.1", "localhost")
    with httpx.Client(proxy=proxy.url, verify=ca.client_context(), timeout=10) as client:
        assert client.get(url).status_code == 200
    assert proxy.connects == [f"localhost:{https_server.port}"]


def test_proxy_answers_bad_requests(proxy: ConnectProxy, http_server: SchemeServer) -> None:
    """Origin-form requests, malformed heads and dead upstream ports get 400/502, not a hang."""

    def ask(head: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as raw:
            raw.sendall(head)
            return raw.recv(100)

    assert ask(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert ask(b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert ask(b"CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    port = http_server.origin.rsplit(":", 1)[1]
    http_server.stop()
    assert ask(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode()).startswith(b"HTTP/1.1 502 ")
