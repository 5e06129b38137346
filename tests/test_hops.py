"""After a redirect hop: where the call's one resend goes, and what a stripped hop's answer decides.

Also what an unfollowed redirect's next request carries. Found by attacking the adapters.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import KEY, SECRET, aiohttp_session

HTTPX_MODULES = [
    pytest.param("httpx", id="httpx"),
    pytest.param(
        "httpx2",
        id="httpx2",
        marks=pytest.mark.skipif(importlib.util.find_spec("httpx2") is None, reason="httpx2 not installed"),
    ),
]
#: The clients whose redirects the auth follows itself (niquests: tests/test_niquests.py).
FOLLOWING = ["requests", "httpx.Client", "httpx.AsyncClient", "aiohttp"]


@pytest.fixture
def elsewhere() -> Iterator[VerifyingServer]:
    """Another origin (another port on 127.0.0.1) that records what reaches it."""
    with VerifyingServer({}, nonce_field=None) as srv:
        yield srv


def _post(client: str, url: str, auth: Any, data: Any) -> tuple[int, list[str]]:
    """POST through ``client``, following redirects; the final status and the URLs of the hops' answers."""
    if client == "requests":
        with requests.Session() as s:
            r = s.post(url, data=data, auth=auth, timeout=10)
            return r.status_code, [h.url for h in r.history]
    if client == "httpx.Client":
        with httpx.Client(auth=auth, follow_redirects=True, timeout=10) as c:
            response = c.post(url, data=data)
            return response.status_code, [str(h.url) for h in response.history]
    if client == "aiohttp":

        async def via_aiohttp() -> tuple[int, list[str]]:
            async with aiohttp_session(auth) as session, session.post(url, data=data) as r:
                await r.read()
                return r.status, [str(h.url) for h in r.history]

        return asyncio.run(via_aiohttp())

    async def go() -> tuple[int, list[str]]:
        async with httpx.AsyncClient(auth=auth, follow_redirects=True, timeout=10) as c:
            response = await c.post(url, data=data)
            return response.status_code, [str(h.url) for h in response.history]

    return asyncio.run(go())


# -- the resend after a re-signed hop ----------------------------------------------------------


@pytest.mark.parametrize("client", FOLLOWING)
def test_a_nonce_rejection_after_a_resigned_hop_is_resent_to_the_hop(server: PoloniexServer, client: str) -> None:
    """POST /old -> 307 /tradingApi, which rejects the nonce: the one resend goes to /tradingApi and is accepted."""
    server.redirect("/old", 307, server.url)
    server.last_nonce[KEY] = time.time_ns() // 1000 + 10**9  # ahead of the auth's clock: the hop is rejected
    status, _ = _post(client, server.origin + "/old", hba.Poloniex(KEY, SECRET), {"command": "buy"})
    assert status == 200
    assert [r.path for r in server.received] == ["/old", "/tradingApi", "/tradingApi"]
    assert (server.stats.bad_nonce, server.stats.accepted, server.stats.bad_signature) == (1, 1, 0)


# -- a hop followed stripped decides nothing ----------------------------------------------------


class _PostRedirectGet(BaseHTTPRequestHandler):
    """POST /order runs the order and answers 302 /result; GET /result echoes a nonce error's words."""

    protocol_version = "HTTP/1.1"
    executed: list[bytes]

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.executed.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(302)
        self.send_header("Location", "/result")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        body = b'{"error": "Nonce must be greater than 99999999999999999. You provided 1."}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("client", FOLLOWING)
def test_the_answer_of_a_stripped_hop_never_resends_the_call(client: str) -> None:
    """POST (executed) -> 302 -> GET whose answer reads like a nonce error: the POST is not sent again."""
    handler = type("Handler", (_PostRedirectGet,), {"executed": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True).start()
    try:
        status, _ = _post(
            client, f"http://127.0.0.1:{httpd.server_address[1]}/order", hba.Poloniex(KEY, SECRET), {"command": "buy"}
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert status == 200
    assert len(handler.executed) == 1


# -- a 307 after a 302 -----------------------------------------------------------------------


@pytest.mark.parametrize("client", FOLLOWING)
def test_a_307_of_the_get_a_302_made_is_followed_stripped(server: PoloniexServer, client: str) -> None:
    """POST -> 302 /app -> 307 /app/ (same origin): both hops are GETs without key, signature or body."""
    server.redirect("/tradingApi", 302, "/app")
    server.redirect("/app", 307, "/app/")
    status, _ = _post(client, server.url, hba.Poloniex(KEY, SECRET), {"command": "buy"})
    assert status == 403  # the unsigned GET /app/ is not an API call: refused by the API, not by the auth
    first, *hops = server.received
    assert (first.method, first.path) == ("POST", "/tradingApi")
    assert [(r.method, r.path, r.body) for r in hops] == [("GET", "/app", b""), ("GET", "/app/", b"")]
    assert all({"key", "sign"}.isdisjoint(k.lower() for k in r.headers) for r in hops)


# -- requests: bodies and refusals on a hop -------------------------------------------------------


@pytest.mark.filterwarnings("ignore::requests.exceptions.FileModeWarning")
def test_requests_a_text_file_body_is_resigned_on_a_307(server: PoloniexServer, tmp_path: Any) -> None:
    """A text-mode file body on a same-origin 307 is re-signed like a binary one (not UnrewindableBodyError)."""
    (tmp_path / "form").write_text("command=buy&amount=1")
    server.redirect("/old", 307, server.url)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with open(tmp_path / "form") as text, requests.Session() as s:
        r = s.post(server.origin + "/old", data=text, headers=headers, auth=hba.Poloniex(KEY, SECRET), timeout=10)
    assert r.status_code == 200
    assert [x.path for x in server.received] == ["/old", "/tradingApi"]
    assert server.stats.accepted == 1  # (the redirect of /old is answered unverified)
    assert all(x.body.startswith(b"command=buy&amount=1&nonce=") for x in server.received)


def test_requests_a_refused_hop_can_be_shown_but_not_sent(server: PoloniexServer, elsewhere: VerifyingServer) -> None:
    """r.next of a cross-origin redirect: its headers print (and a traceback with locals renders); sending raises."""
    server.redirect("/tradingApi", 307, elsewhere.origin + "/steal")
    auth = hba.Poloniex(KEY, SECRET)
    r = requests.post(server.url, data={"command": "buy"}, auth=auth, allow_redirects=False, timeout=10)
    assert r.next is not None
    assert repr(r.next.headers) == "<headers of a refused redirect hop>"
    with requests.Session() as s:
        try:
            s.send(r.next)
        except hba.RedirectError as exc:
            text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
        else:  # pragma: no cover - refused
            raise AssertionError("a refused hop was sent")
    assert "another origin" in text
    assert elsewhere.received == []


# -- httpx: the next_request of a redirect the client does not follow -----------------------------


def _unfollowed(module: str, mode: str, url: str, auth: Any) -> httpx.Response:
    """POST with follow_redirects=False (httpx's default): the 3xx and its next_request."""
    mod = importlib.import_module(module)
    if mode == "sync":
        with mod.Client(auth=auth, timeout=10) as c:
            response: httpx.Response = c.post(url, data={"command": "buy"})
            return response

    async def go() -> httpx.Response:
        async with mod.AsyncClient(auth=auth, timeout=10) as c:
            response: httpx.Response = await c.post(url, data={"command": "buy"})
            return response

    return asyncio.run(go())


def _send(module: str, mode: str, request: Any, auth: Any = None) -> Any:
    mod = importlib.import_module(module)
    if mode == "sync":
        with mod.Client(timeout=10) as c:
            return c.send(request, auth=auth)

    async def go() -> Any:
        async with mod.AsyncClient(timeout=10) as c:
            return await c.send(request, auth=auth)

    return asyncio.run(go())


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", HTTPX_MODULES)
def test_httpx_the_next_request_of_a_cross_origin_redirect_is_refused(
    module: str, mode: str, status: int, server: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """follow_redirects=False: next_request to another origin cannot be sent (nor read): RedirectError, nothing sent."""
    server.redirect("/tradingApi", status, elsewhere.origin + "/steal")
    response = _unfollowed(module, mode, server.url, hba.Poloniex(KEY, SECRET))
    assert response.status_code == status
    hop = response.next_request
    assert hop is not None
    assert repr(hop.headers) == "<headers of a refused redirect hop>"
    assert hop.headers.get("Key") is None
    assert hop.headers.get("Sign") is None
    with pytest.raises(hba.RedirectError, match="another origin"):
        _send(module, mode, hop)
    with pytest.raises(hba.RedirectError, match="another origin"):
        _send(module, mode, hop, auth=hba.Poloniex(KEY, SECRET))
    assert elsewhere.received == []


@pytest.mark.parametrize("status", [302, 307, 308])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", HTTPX_MODULES)
def test_httpx_the_next_request_of_a_same_origin_redirect_carries_no_signature(
    module: str, mode: str, status: int, server: PoloniexServer
) -> None:
    """follow_redirects=False: a same-origin next_request has no key or signature; with the auth it is signed anew."""
    server.redirect("/old", status, server.url)
    response = _unfollowed(module, mode, server.origin + "/old", hba.Poloniex(KEY, SECRET))
    hop = response.next_request
    assert hop is not None
    assert "key" not in hop.headers
    assert "sign" not in hop.headers
    keeps_body = status in (307, 308)
    assert hop.read() == (b"command=buy" if keeps_body else b"")
    if keeps_body:
        assert hop.headers["Content-Length"] == str(len(b"command=buy"))
    # A POST kept is sent with the auth (signed afresh); the GET a 302 made, as it is (no API call).
    answer = _send(module, mode, hop, auth=hba.Poloniex(KEY, SECRET) if keeps_body else None)
    assert answer.status_code == (200 if keeps_body else 403)
    first, second = server.received
    assert first.path == "/old"
    assert second.path == "/tradingApi"
    if keeps_body:
        assert second.body.startswith(b"command=buy&nonce=")
        assert server.stats.accepted == 1  # (the redirect of /old is answered unverified)
    else:
        assert "key" not in {k.lower() for k in second.headers}
        assert second.body == b""


# -- aiohttp's own copy of a request whose kept-alive connection dropped -----------------------


class _DropsOne(BaseHTTPRequestHandler):
    """Records every request; the second one's kept-alive connection is closed unanswered.

    ``routes``: path -> (status, headers) answered instead of a 200 ``{}``.
    """

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, dict[str, str], bytes]]
    routes: dict[str, tuple[int, dict[str, str]]]

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def _any(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.command, self.path, dict(self.headers), body))
        if len(self.seen) == 2:
            self.close_connection = True  # dropped: aiohttp sends an idempotent request again
            return
        status, headers = self.routes.get(self.path, (200, {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_PUT = do_DELETE = do_POST = _any  # noqa: N815 - http.server's handler names


@pytest.fixture
def dropping() -> Iterator[tuple[str, type[_DropsOne]]]:
    """A loopback server that drops the connection of its second request; its origin and handler class."""
    handler = type("Handler", (_DropsOne,), {"seen": [], "routes": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


async def _aiohttp_twice(auth: Any, method: str, urls: list[str], **kwargs: Any) -> list[int]:
    async with aiohttp_session(auth) as session:
        statuses = []
        for url in urls:
            async with session.request(method, url, **kwargs) as r:
                await r.read()
                statuses.append(r.status)
        return statuses


def _auth_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower().startswith("x-auth") or k.lower() in ("key", "sign")}


@pytest.mark.parametrize("method", ["DELETE", "GET"])
def test_aiohttp_resends_a_bodiless_request_as_it_was_signed(
    dropping: tuple[str, type[_DropsOne]], method: str
) -> None:
    """A DELETE (header nonce, no body) whose connection dropped: aiohttp's copy has the same nonce and signature."""
    from hmac_body_auth.presets import Bitstamp

    origin, handler = dropping
    url = origin + "/api/v2/order/"
    assert asyncio.run(_aiohttp_twice(Bitstamp("KEY", "SECRET"), method, [url, url])) == [200, 200]
    (_, _, first, _), (_, _, dropped, _), (_, _, copy, _) = handler.seen
    assert _auth_headers(copy) == _auth_headers(dropped)
    assert _auth_headers(dropped)["X-Auth-Nonce"] != _auth_headers(first)["X-Auth-Nonce"]


def test_aiohttp_resends_a_stripped_hop_stripped(dropping: tuple[str, type[_DropsOne]]) -> None:
    """GET -> 302 to a page of the same origin whose connection drops: aiohttp's copy of the hop goes unsigned too."""
    origin, handler = dropping
    handler.routes["/api"] = (302, {"Location": "/public/page"})
    auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    assert asyncio.run(_aiohttp_twice(auth, "GET", [origin + "/api"])) == [200]
    (_, path, signed, _), *hops = handler.seen
    assert path == "/api"
    assert "Sign" in signed
    assert [(p, "Key" in h or "Sign" in h) for _, p, h, _ in hops] == [("/public/page", False)] * 2


def test_aiohttp_a_redirect_answering_a_resent_copy_is_guarded(
    dropping: tuple[str, type[_DropsOne]], elsewhere: VerifyingServer
) -> None:
    """The copy aiohttp sends of a dropped PUT is answered 307 to another origin: refused, nothing reaches it."""
    origin, handler = dropping
    handler.routes["/tradingApi"] = (307, {"Location": elsewhere.origin + "/steal"})
    auth = hba.Poloniex(KEY, SECRET)
    with pytest.raises(hba.RedirectError):
        asyncio.run(_aiohttp_twice(auth, "PUT", [origin + "/first", origin + "/tradingApi"], data={"command": "buy"}))
    assert [p for _, p, _, _ in handler.seen] == ["/first", "/tradingApi", "/tradingApi"]
    assert elsewhere.received == []


def test_aiohttp_a_copy_for_another_url_is_refused() -> None:
    """A copy on the chain of a dropped request but for another URL (no hop was answered): nothing is sent."""
    import aiohttp
    from yarl import URL

    async def go() -> list[Any]:
        sent: list[Any] = []

        async def handler(req: aiohttp.ClientRequest) -> Any:
            sent.append(req)
            if len(sent) == 1:
                raise aiohttp.ServerDisconnectedError()
            raise AssertionError("a copy for another URL was sent")

        loop = asyncio.get_running_loop()
        middleware = hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET))
        chain: list[Any] = []
        first = aiohttp.ClientRequest(
            "PUT", URL("http://127.0.0.1:9/a"), data={"command": "buy"}, loop=loop, traces=chain
        )
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await middleware(first, handler)  # type: ignore[operator]
        moved = aiohttp.ClientRequest("PUT", URL("http://127.0.0.1:9/b"), data=first.body, loop=loop, traces=chain)
        with pytest.raises(hba.RedirectError, match="another URL"):
            await middleware(moved, handler)  # type: ignore[operator]
        return sent

    assert len(asyncio.run(go())) == 1


# -- httpx: what a refused next_request keeps --------------------------------------------------


@pytest.mark.parametrize("module", HTTPX_MODULES)
def test_httpx_the_body_of_a_refused_next_request_cannot_be_read(
    module: str, server: PoloniexServer, elsewhere: VerifyingServer
) -> None:
    """A 307 to another origin, not followed: its next_request's signed body (with the nonce) is not readable."""
    server.redirect("/tradingApi", 307, elsewhere.origin + "/steal")
    hop = _unfollowed(module, "sync", server.url, hba.Poloniex(KEY, SECRET)).next_request
    assert hop is not None
    assert "_content" not in vars(hop)
    with pytest.raises(hba.RedirectError, match="another origin"):
        hop.read()
    with pytest.raises(hba.RedirectError, match="another origin"):
        b"".join(hop.stream)  # type: ignore[arg-type]


@pytest.mark.parametrize("module", HTTPX_MODULES)
def test_httpx_a_streamed_body_on_an_unfollowed_same_origin_307_is_refused(module: str, server: PoloniexServer) -> None:
    """A generator body, 307 to the same origin, not followed: the next_request cannot carry it again unsigned."""
    mod = importlib.import_module(module)
    server.redirect("/old", 307, server.url)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with mod.Client(auth=hba.Poloniex(KEY, SECRET), timeout=10) as c:
        response = c.post(server.origin + "/old", content=iter([b"command=buy"]), headers=headers)
    hop = response.next_request
    assert hop is not None
    assert {b"key", b"sign"}.isdisjoint(entry[1] for entry in hop.headers._list)
    with pytest.raises(hba.RedirectError, match="streamed body"):
        _send(module, "sync", hop)
    assert [r.path for r in server.received] == ["/old"]


def test_requests_a_refused_hop_says_why(open_server: VerifyingServer, tmp_path: Any) -> None:
    """A streamed body (no nonce) on a same-origin 307 is refused saying so (a streamed body), not "another origin"."""
    (tmp_path / "big").write_bytes(b"x" * 1000)
    open_server.redirect("/old", 307, open_server.url)
    with open(tmp_path / "big", "rb") as body, pytest.raises(hba.RedirectError, match="streamed body"):
        requests.post(open_server.origin + "/old", data=body, auth=hba.BodyDigestAuth(KEY, secret=SECRET), timeout=10)
    assert [r.path for r in open_server.received] == ["/old"]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", HTTPX_MODULES)
def test_httpx_a_streamed_signature_s_unfollowed_cross_origin_redirect_is_refused(
    module: str, mode: str, open_server: VerifyingServer, elsewhere: VerifyingServer
) -> None:
    """A body signed as a stream (no nonce), 302 to another origin, not followed: next_request has no Key or Sign."""
    open_server.redirect("/tradingApi", 302, elsewhere.origin + "/steal")
    mod = importlib.import_module(module)
    auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    chunks = [b"command=", b"buy"]
    if mode == "sync":
        with mod.Client(auth=auth, timeout=10) as c:
            response = c.post(open_server.url, content=iter(chunks))
    else:

        async def body() -> Any:
            for chunk in chunks:
                yield chunk

        async def go() -> Any:
            async with mod.AsyncClient(auth=auth, timeout=10) as c:
                return await c.post(open_server.url, content=body())

        response = asyncio.run(go())
    hop = response.next_request
    assert hop is not None
    assert {b"key", b"sign"}.isdisjoint(entry[1] for entry in hop.headers._list)
    with pytest.raises(hba.RedirectError, match="another origin"):
        dict(hop.headers)
    assert elsewhere.received == []


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("module", HTTPX_MODULES)
def test_httpx_an_unfollowed_301_of_a_put_keeps_the_callers_body(
    module: str, mode: str, server: PoloniexServer
) -> None:
    """A 301 of a PUT keeps method and body in httpx: next_request carries the caller's body, signed anew when sent."""
    mod = importlib.import_module(module)
    server.redirect("/old", 301, server.url)

    async def go() -> Any:
        async with mod.AsyncClient(auth=hba.Poloniex(KEY, SECRET), timeout=10) as c:
            return await c.put(server.origin + "/old", data={"command": "buy"})

    if mode == "sync":
        with mod.Client(auth=hba.Poloniex(KEY, SECRET), timeout=10) as c:
            response = c.put(server.origin + "/old", data={"command": "buy"})
    else:
        response = asyncio.run(go())
    hop = response.next_request
    assert hop is not None
    assert hop.method == "PUT"
    assert hop.read() == b"command=buy"
    assert _send(module, mode, hop, auth=hba.Poloniex(KEY, SECRET)).status_code == 200
    assert server.received[-1].body.startswith(b"command=buy&nonce=")


def test_aiohttp_a_connection_never_made_leaves_nothing_to_retry() -> None:
    """A PUT to a port that refuses connections: nothing was sent, nothing is kept for a copy (memory stays flat)."""
    import aiohttp

    middleware = hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET))

    async def go() -> None:
        async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
            for _ in range(20):
                with pytest.raises(aiohttp.ClientConnectorError):
                    async with session.put("http://127.0.0.1:9/tradingApi", data={"command": "buy"}):
                        pass  # pragma: no cover - refused

    asyncio.run(go())
    assert middleware._retries == {}  # type: ignore[attr-defined]


def test_aiohttp_requests_whose_connection_dropped_are_kept_boundedly() -> None:
    """Dropped connections aiohttp does not retry leave at most a bounded number of copies waiting."""
    import aiohttp
    from yarl import URL

    from hmac_body_auth import _aiohttp

    async def go() -> int:
        async def handler(req: aiohttp.ClientRequest) -> Any:
            raise aiohttp.ServerDisconnectedError()

        loop = asyncio.get_running_loop()
        middleware = hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET))
        for i in range(_aiohttp._RETRIES_KEPT * 2):
            req = aiohttp.ClientRequest("PUT", URL(f"http://127.0.0.1:9/{i}"), data={"n": str(i)}, loop=loop, traces=[])
            with pytest.raises(aiohttp.ServerDisconnectedError):
                await middleware(req, handler)  # type: ignore[operator]
        return len(middleware._retries)  # type: ignore[attr-defined]

    assert asyncio.run(go()) == _aiohttp._RETRIES_KEPT
