"""Every client path and body shape against a real verifying server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import CLIENTS, KEY, REQUESTS_LIKE, SECRET, SESSIONS, call, session


def _expected(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()


def _split_nonce(body: bytes) -> tuple[bytes, int]:
    match = re.fullmatch(rb"(.*?)&?nonce=(\d+)", body, re.S)
    assert match, body
    return match.group(1), int(match.group(2))


# (id, request kwargs, the caller's part of the body as requests puts it on the wire)
FORM_SHAPES: list[tuple[str, dict[str, Any], bytes]] = [
    ("dict", {"data": {"command": "returnBalances", "x": "a b&c"}}, b"command=returnBalances&x=a+b%26c"),
    ("pairs", {"data": [("command", "buy"), ("z", "1"), ("a", "2"), ("z", "3")]}, b"command=buy&z=1&a=2&z=3"),
    ("str-ascii", {"data": "command=returnBalances&a=1"}, b"command=returnBalances&a=1"),
    ("bytes", {"data": b"command=returnBalances&b=\xff"}, b"command=returnBalances&b=\xff"),
    ("empty", {}, b""),
]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("shape", "kwargs", "caller_part"), FORM_SHAPES, ids=[s[0] for s in FORM_SHAPES])
def test_form_bodies_arrive_exactly_as_signed(
    server: PoloniexServer, client: str, shape: str, kwargs: dict[str, Any], caller_part: bytes
) -> None:
    """The server receives the caller's fields in order plus the nonce, signed over those exact bytes."""
    status, answer = call(client, "POST", server.url, hba.Poloniex(KEY, SECRET), **kwargs)
    assert status == 200, answer
    assert server.stats.accepted == 1
    (received,) = server.received
    assert received.headers["Sign"] == _expected(received.body)
    assert received.headers["Key"] == KEY
    assert int(received.headers["Content-Length"]) == len(received.body)
    assert "Transfer-Encoding" not in received.headers
    content_types = [v for k, v in received.headers.items() if k.lower() == "content-type"]
    assert content_types == ["application/x-www-form-urlencoded"]
    head, nonce = _split_nonce(received.body)
    assert head == caller_part
    assert nonce > 1_600_000_000_000_000  # microseconds since the epoch


# httpx encodes a str body as UTF-8 before the auth sees it; requests, niquests and aiohttp give the auth the text.
@pytest.mark.parametrize("client", [*REQUESTS_LIKE, "aiohttp"])
def test_latin1_str_body_is_encoded_by_the_auth(server: PoloniexServer, client: str) -> None:
    """A str body with latin-1 characters goes out as the latin-1 bytes that were signed."""
    status, _ = call(client, "POST", server.url, hba.Poloniex(KEY, SECRET), data="caf\xe9=cr\xe8me")
    assert status == 200
    head, _ = _split_nonce(server.received[0].body)
    assert head == "caf\xe9=cr\xe8me".encode("latin-1")


@pytest.mark.parametrize("client", [*REQUESTS_LIKE, "aiohttp"])
def test_str_body_latin1_cannot_carry_is_refused_before_sending(server: PoloniexServer, client: str) -> None:
    """A str body outside latin-1 raises BodyEncodingError naming the fix, and nothing is sent."""
    with pytest.raises(hba.BodyEncodingError, match="utf-8") as info:
        call(client, "POST", server.url, hba.Poloniex(KEY, SECRET), data="price=\u20ac5")
    assert "latin-1" in str(info.value)
    assert server.received == []


@pytest.mark.parametrize("client", CLIENTS)
def test_utf8_body_encoding_signs_utf8_bytes(server: PoloniexServer, client: str) -> None:
    """With body_encoding='utf-8' a str body goes out and is signed as UTF-8."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=hba.ClockNonce(), body_encoding="utf-8")
    status, _ = call(client, "POST", server.url, auth, data="price=\u20ac5&name=caf\xe9")
    assert status == 200
    head, _ = _split_nonce(server.received[0].body)
    assert head == "price=\u20ac5&name=caf\xe9".encode()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    ("method", "kwargs", "wire"),
    [
        ("GET", {}, b""),
        ("POST", {}, b""),
        ("POST", {"json": {"a": 1}}, b'{"a": 1}'),
        ("PUT", {"data": b"\x00\x01raw"}, b"\x00\x01raw"),
        ("POST", {"data": "plain text"}, b"plain text"),
    ],
    ids=["GET", "POST-empty", "json", "bytes", "str"],
)
def test_without_nonce_any_body_is_signed_as_is(
    open_server: VerifyingServer, client: str, method: str, kwargs: dict[str, Any], wire: bytes
) -> None:
    """Without a nonce source, every body (including none) is signed exactly as sent."""
    if client.startswith("httpx") and "json" in kwargs:
        # httpx's own JSON serialisation (compact since 0.28, with spaces before).
        wire = httpx.Request("POST", "http://x", json=kwargs["json"]).content
    if client.startswith("niquests") and "json" in kwargs:
        # niquests' own (compact when orjson is installed).
        wire = sys.modules["niquests"].Request("POST", "http://x", json=kwargs["json"]).prepare().body
    auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    status, _ = call(client, method, open_server.origin + "/any", auth, **kwargs)
    assert status == 200
    (received,) = open_server.received
    assert received.body == wire
    assert received.headers["Sign"] == _expected(wire)


@pytest.mark.parametrize("client", CLIENTS)
def test_tampered_signature_is_rejected_by_the_server(open_server: VerifyingServer, client: str) -> None:
    """Tamper twin: a request signed with another secret is rejected by the verifying server."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET + "x")
    status, _ = call(client, "POST", open_server.origin, auth, data=b"a=1")
    assert status == 403
    assert open_server.stats.bad_signature == 1


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"command": "x"}}, "application/json"),
        ({"data": {"command": "x", "nonce": "5"}}, "already has"),
        ({"data": b"not a form"}, "does not look like a form"),
    ],
    ids=["json", "nonce-present", "not-a-form"],
)
def test_bodies_the_nonce_cannot_join_are_refused(
    server: PoloniexServer, client: str, kwargs: dict[str, Any], message: str
) -> None:
    """JSON bodies, a caller-supplied nonce and non-form bodies raise BodyError and send nothing."""
    with pytest.raises(hba.BodyError, match=message):
        call(client, "POST", server.url, hba.Poloniex(KEY, SECRET), **kwargs)
    assert server.received == []


@pytest.mark.parametrize("client", CLIENTS)
def test_get_with_a_nonce_is_refused(server: PoloniexServer, client: str) -> None:
    """A GET has no body for the nonce: BodyError, nothing sent."""
    with pytest.raises(hba.BodyError, match="GET"):
        call(client, "GET", server.url, hba.Poloniex(KEY, SECRET))
    assert server.received == []


@pytest.mark.parametrize("client", REQUESTS_LIKE)
def test_generator_body_is_signed_not_sent_empty(server: PoloniexServer, client: str) -> None:
    """A generator body is read once, signed and sent with Content-Length instead of chunked framing."""

    def gen() -> Any:
        yield b"command=returnBalances"
        yield "&a=\xe9"

    status, _ = call(client, "POST", server.url, hba.Poloniex(KEY, SECRET), data=gen())
    assert status == 200
    (received,) = server.received
    assert _split_nonce(received.body)[0] == b"command=returnBalances&a=\xe9"
    assert "Transfer-Encoding" not in received.headers


@pytest.mark.parametrize("client", SESSIONS)
def test_file_body_is_signed_and_rewound(open_server: VerifyingServer, client: str) -> None:
    """A file body is hashed in chunks and rewound, then the client streams the file itself."""
    f = io.BytesIO(b"payload-" * 1000)
    f.seek(8)  # the body starts where the file is, as requests sends it
    auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    package: Any = requests if client.startswith("requests") else sys.modules["niquests"]
    prepared = package.Request("POST", open_server.origin, data=f, auth=auth).prepare()
    assert prepared.body is f
    assert f.tell() == 8
    with session(client) as s:
        assert s.send(prepared, timeout=10).status_code == 200
    (received,) = open_server.received
    assert received.body == b"payload-" * 999
    assert received.headers["Sign"] == _expected(received.body)


def test_base64_digest_encoding(open_server: VerifyingServer) -> None:
    """digest_encoding='base64' sends a standard base64 signature of the body."""
    import base64

    auth = hba.BodyDigestAuth(KEY, secret=SECRET, digest_encoding="base64", algorithm="sha256")
    requests.post(open_server.origin, data=b"x=1", auth=auth, timeout=10)
    expected = base64.b64encode(hmac.new(SECRET.encode(), b"x=1", hashlib.sha256).digest()).decode()
    assert open_server.received[0].headers["Sign"] == expected


def test_key_is_optional(open_server: VerifyingServer) -> None:
    """Without a key only the signature header is sent."""
    requests.post(open_server.origin, data=b"x=1", auth=hba.BodyDigestAuth(secret=SECRET), timeout=10)
    (received,) = open_server.received
    assert "Key" not in received.headers
    assert received.status == 200


def test_custom_nonce_callable_and_field(open_server: VerifyingServer) -> None:
    """Any zero-argument callable returning an int is the nonce source, in a custom field."""
    values = iter(range(100, 200))
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=lambda: next(values), nonce_field="tonce")
    requests.post(open_server.origin, data={"a": "1"}, auth=auth, timeout=10)
    requests.post(open_server.origin, data={"a": "1"}, auth=auth, timeout=10)
    assert [r.body for r in open_server.received] == [b"a=1&tonce=100", b"a=1&tonce=101"]


def test_nonce_source_returning_garbage_is_a_clear_error(server: PoloniexServer) -> None:
    """A nonce source that returns a float raises NonceError and nothing is sent."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=lambda: 1.5)  # type: ignore[arg-type,return-value]
    with pytest.raises(hba.NonceError):
        requests.post(server.url, data={"a": "1"}, auth=auth, timeout=10)
    assert server.received == []


@pytest.mark.parametrize("client", REQUESTS_LIKE)
def test_bytes_header_values(server: PoloniexServer, client: str) -> None:
    """A Content-Type given as bytes (as HTTPie sends it) is understood; the body is signed as usual."""
    headers = {"Content-Type": b"application/x-www-form-urlencoded"}
    auth = hba.Poloniex(KEY, SECRET)
    status, _ = call(client, "POST", server.url, auth, data=b"command=returnBalances", headers=headers)
    assert status == 200
    assert server.received[0].body.startswith(b"command=returnBalances&nonce=")


def test_aiohttp_a_request_sent_again_is_signed_again(server: PoloniexServer) -> None:
    """A retrying middleware before ours sends the same request twice: the second is re-signed, a fresh nonce."""
    import asyncio

    import aiohttp

    server.handler = lambda request: (503, {"error": "busy"}) if len(server.received) == 0 else (200, {"ok": True})

    async def retry(req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        response = await handler(req)
        if response.status == 503:
            response.release()
            response = await handler(req)
        return response

    async def go() -> int:
        middlewares = (retry, hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET)))
        async with (
            aiohttp.ClientSession(middlewares=middlewares) as session,
            session.post(server.url, data={"command": "buy"}) as r,
        ):
            return r.status

    assert asyncio.run(go()) == 200
    first, second = server.received
    assert _split_nonce(second.body)[1] > _split_nonce(first.body)[1]
    assert _split_nonce(second.body)[0] == b"command=buy"
    assert server.stats.accepted == 2
    assert server.stats.bad_nonce == 0


@pytest.mark.parametrize("kind", ["dict", "bytes", "str", "file"])
def test_aiohttp_a_nonce_rejection_is_resent_framed_as_signed(server: PoloniexServer, kind: str, tmp_path: Any) -> None:
    """A nonce rejection re-signs the body: each try is framed by its own Content-Length, the caller's file closed."""
    import asyncio
    import time

    from .conftest import aiohttp_session

    # The server has seen a nonce ahead of our clock: the first try is refused, the answer names that nonce.
    floor = server.last_nonce[KEY] = time.time_ns() // 1000 + 10**9
    form = "command=buy&amount=1"
    (tmp_path / "form").write_bytes(form.encode())
    headers = {} if kind == "dict" else {"Content-Type": "application/x-www-form-urlencoded"}

    async def go(body: Any) -> int:
        async with aiohttp_session(hba.Poloniex(KEY, SECRET)) as s, s.post(server.url, data=body, headers=headers) as r:
            await r.read()
            return r.status

    with open(tmp_path / "form", "rb") as opened:
        data = {"dict": {"command": "buy", "amount": "1"}, "bytes": form.encode(), "str": form, "file": opened}[kind]
        assert asyncio.run(go(data)) == 200
        if kind == "file":
            assert opened.closed  # the caller's payload was closed when the signed body replaced it
    assert server.stats.bad_nonce == 1
    assert server.stats.bad_signature == 0
    assert server.stats.accepted == 1
    first, second = server.received
    for sent in (first, second):
        assert sent.headers["Content-Length"] == str(len(sent.body))
        assert "Transfer-Encoding" not in sent.headers
        assert _split_nonce(sent.body)[0] == form.encode()
    assert _split_nonce(first.body)[1] <= floor < _split_nonce(second.body)[1]


class _DropsTheSecond(BaseHTTPRequestHandler):
    """Answers every PUT, except the second one, whose kept-alive connection it closes unanswered.

    ``executes``: the dropped one ran first (and nonces must increase): a copy of it is refused.
    """

    protocol_version = "HTTP/1.1"
    seen: list[tuple[bytes, str]]
    executes: bool
    ran: list[bytes]  # the caller's part of each body that ran

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((body, self.headers.get("Sign", "")))
        fields, nonce = _split_nonce(body)
        answer, status = b"{}", 200
        if self.executes:
            last = max((n for _, n in map(_split_nonce, (b for b, _ in self.seen[:-1]))), default=0)
            if self.ran and nonce <= last:
                answer, status = b'{"error": "Nonce must be greater than %d. You provided %d."}' % (last, nonce), 422
            else:
                self.ran.append(fields)
        if len(self.seen) == 2:
            self.close_connection = True  # dropped: aiohttp retries an idempotent request
            return
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _drops_the_second(executes: bool) -> tuple[ThreadingHTTPServer, type[_DropsTheSecond]]:
    handler = type("Handler", (_DropsTheSecond,), {"seen": [], "executes": executes, "ran": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    return server, handler


def _put_twice(url: str) -> list[int]:
    import asyncio

    from .conftest import aiohttp_session

    async def go() -> list[int]:
        async with aiohttp_session(hba.Poloniex(KEY, SECRET)) as session:
            statuses = []
            for i in range(2):
                async with session.put(url, data={"command": "buy", "i": str(i)}) as r:
                    statuses.append(r.status)
            return statuses

    return asyncio.run(go())


def test_aiohttp_retry_after_a_dropped_connection_sends_the_identical_bytes() -> None:
    """A PUT whose kept-alive connection dropped is resent by aiohttp: the same bytes and signature, not re-signed."""
    server, handler = _drops_the_second(executes=False)
    try:
        assert _put_twice(f"http://127.0.0.1:{server.server_address[1]}/tradingApi") == [200, 200]
    finally:
        server.shutdown()
        server.server_close()
    (first, _), (dropped, dropped_sign), (resent, resent_sign) = handler.seen
    assert _split_nonce(dropped)[0] == b"command=buy&i=1"
    assert _split_nonce(first)[1] < _split_nonce(dropped)[1]
    assert (resent, resent_sign) == (dropped, dropped_sign)
    assert dropped_sign == _expected(dropped)


def test_aiohttp_retry_of_a_request_that_ran_is_refused_by_its_nonce_not_run_twice() -> None:
    """The dropped PUT had run: aiohttp's copy has the same nonce, the server refuses it, nothing is re-signed."""
    server, handler = _drops_the_second(executes=True)
    try:
        statuses = _put_twice(f"http://127.0.0.1:{server.server_address[1]}/tradingApi")
    finally:
        server.shutdown()
        server.server_close()
    assert statuses == [200, 422]  # the nonce refusal of the copy is the caller's answer
    assert len(handler.seen) == 3  # the first PUT, the dropped one, aiohttp's copy: nothing re-signed
    assert handler.ran == [b"command=buy&i=0", b"command=buy&i=1"]


@pytest.mark.parametrize("follow_redirects", [False, True])
def test_httpx_the_callers_request_is_left_as_it_was(server: PoloniexServer, follow_redirects: bool) -> None:
    """httpx: the auth signs a copy, so the caller's request can be sent again (signed afresh, a new nonce)."""
    auth = hba.Poloniex(KEY, SECRET)
    with httpx.Client(follow_redirects=follow_redirects) as client:
        request = client.build_request("POST", server.url, data={"command": "returnBalances"})
        before = (request.content, list(request.headers.multi_items()))
        first = client.send(request, auth=auth)
        assert (request.content, list(request.headers.multi_items())) == before
        second = client.send(request, auth=auth)
    assert first.status_code == second.status_code == 200
    bodies = [received.body for received in server.received]
    assert len(bodies) == 2
    assert bodies[0] != bodies[1]
    # What the response says was sent is what was sent (and signed).
    assert first.request.content == bodies[0]
    assert second.request.content == bodies[1]
    assert first.request.headers["Content-Length"] == str(len(bodies[0]))


def test_httpx_async_the_callers_request_is_left_as_it_was(server: PoloniexServer) -> None:
    """httpx.AsyncClient: the caller's request is left as it was and can be sent again."""
    import asyncio

    async def main() -> tuple[httpx.Response, httpx.Response, bytes]:
        auth = hba.Poloniex(KEY, SECRET)
        async with httpx.AsyncClient() as client:
            request = client.build_request("POST", server.url, data={"command": "returnBalances"})
            before = request.content
            first = await client.send(request, auth=auth)
            second = await client.send(request, auth=auth)
            return first, second, before

    first, second, before = asyncio.run(main())
    assert before == b"command=returnBalances"
    assert first.status_code == second.status_code == 200
    assert [r.body for r in server.received] == [first.request.content, second.request.content]


@pytest.mark.parametrize("package", ["httpx", "httpx2"])
def test_httpx_signed_headers_are_the_same_on_the_public_path(
    server: PoloniexServer, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signed copy's headers (built from httpx's header list when its layout checks out) equal the public build."""
    from hmac_body_auth import _httpx

    client_package = pytest.importorskip(package)
    assert _httpx._entries_layout(client_package.Headers)  # the fast path is the one taken today

    def send(layout: bool) -> list[tuple[str, str]]:
        _httpx._entries_layout.cache_clear()
        _httpx._LISTED.clear()
        if not layout:
            monkeypatch.setattr(_httpx, "_entries_layout", lambda headers_type: False)
        with client_package.Client() as client:
            headers = {"X-Twice": "a", "x-twice": "b", "Content-Type": "application/x-www-form-urlencoded"}
            response = client.post(server.url, data={"command": "returnBalances"}, headers=headers, auth=auth)
        monkeypatch.undo()
        assert response.status_code == 200
        sent = response.request.headers
        assert sent.get("x-twice") == "a, b"
        assert sent["Content-Length"] == str(len(response.request.content))
        return [(k, v) for k, v in sent.multi_items() if k.lower() not in ("sign", "content-length")]

    auth = hba.Poloniex(KEY, SECRET)
    assert send(True) == send(False)
    assert [r.status for r in server.received] == [200, 200]  # verified, nonces increasing


class _Composed(httpx.Auth):
    """Composes auths the way httpx-auth 0.22's ``_MultiAuth`` (``a + b``) does: ``next(mode.auth_flow(request))``."""

    def __init__(self, *modes: httpx.Auth) -> None:
        self.modes = modes

    def auth_flow(self, request: httpx.Request) -> Any:
        for mode in self.modes:
            next(mode.auth_flow(request))
        yield request


@pytest.mark.parametrize("kind", ["auth", "pool"])
def test_driving_auth_flow_directly_is_refused_not_sent_unsigned(server: PoloniexServer, kind: str) -> None:
    """A composer that drives auth_flow() (it would send its own request, unsigned) gets a TypeError; nothing sent."""
    auth: Any = hba.Poloniex(KEY, SECRET)
    if kind == "pool":
        auth = hba.KeyPool([auth])
    with httpx.Client(auth=_Composed(auth)) as client, pytest.raises(TypeError, match="sync_auth_flow"):
        client.post(server.url, data={"command": "returnBalances"})
    assert server.received == []
    with httpx.Client(auth=auth) as client:  # twin: httpx itself drives sync_auth_flow
        assert client.post(server.url, data={"command": "returnBalances"}).status_code == 200


class _LoggingHeaders(requests.structures.CaseInsensitiveDict):  # type: ignore[type-arg]
    """A user's own headers mapping: every write goes through __setitem__."""

    written: list[str]

    def __setitem__(self, key: str, value: Any) -> None:
        self.__dict__.setdefault("written", []).append(key)
        super().__setitem__(key, value)


@pytest.mark.parametrize("mapping", ["requests' own", "a subclass"])
def test_requests_headers_are_set_exactly_whatever_the_mapping(server: PoloniexServer, mapping: str) -> None:
    """Content-Type is read and Content-Length, Key and Sign written the same on CaseInsensitiveDict and a subclass."""
    prepared = requests.Request(
        "POST",
        server.url,
        data={"command": "returnBalances"},
        headers={"content-type": "application/x-www-form-urlencoded"},
    ).prepare()
    if mapping == "a subclass":
        prepared.headers = _LoggingHeaders(prepared.headers)
    auth = hba.Poloniex(KEY, SECRET)
    with requests.Session() as s:
        signed = auth(prepared)
        if mapping == "a subclass":
            assert {"Content-Length", "Key", "Sign"} <= set(signed.headers.written)
        names = {name for name, _ in signed.headers.lower_items()}
        assert {"content-length", "key", "sign", "content-type"} <= names
        assert [n for n in signed.headers if n.lower() == "key"] == ["Key"]
        assert signed.headers["Content-Length"] == str(len(signed.body))
        assert s.send(signed).status_code == 200
    assert server.stats.accepted == 1
