"""httpx adapter: ``httpx.Request`` <-> the signing core, inside the auth flows.

The per-key lease is held inside ``sync_auth_flow`` / ``async_auth_flow``: httpx
closes the flow when the response arrives or sending fails, so the ``finally``
below always releases it.

httpx follows redirects below the auth flow and never shows the hops to it. It
does copy request ``extensions`` onto each hop and calls the documented
``trace`` extension before each hop's headers are sent, so the auth installs a
trace callback that raises :class:`~hmac_body_auth.RedirectError` before a hop
to another origin (or a same-origin 307/308 that would resend a stale nonce)
sends anything.

Streamed bodies: httpx exposes a streamed body only as a one-shot byte stream
(``request.stream``); the file object behind it is private. For a body-digest
without a nonce the auth reads that stream once, hashing it and spooling it
(memory up to 8 MiB, then a temporary file), and sends the spool. Other schemes
need the whole body and read it into memory.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import httpx

from ._core import BodyDigestScheme, Outgoing, SignedRequest
from ._lease import Hold
from ._streams import Spool
from .errors import RedirectError

if TYPE_CHECKING:
    from ._auth import HmacAuth

__all__ = ["async_flow", "outgoing", "signed_request", "sync_flow"]

_FRAMING = frozenset({"content-length", "transfer-encoding"})
_HEADERS_EVENT = "send_request_headers.started"


def _client(request: httpx.Request) -> ModuleType:
    """The client package of ``request``: httpx, or httpx2 (same API, its own classes)."""
    return sys.modules[type(request).__module__.partition(".")[0]]


def outgoing(auth: HmacAuth, request: httpx.Request) -> Outgoing:
    """The checked outgoing request for a request whose body has been read."""
    return auth._outgoing(request.method, str(request.url), request.headers.get("Content-Type"), request.content)


def _streams(auth: HmacAuth, request: httpx.Request) -> bool:
    """Whether to sign this request's body as a stream (bounded memory)."""
    return (
        not isinstance(request.stream, _client(request).ByteStream)
        and isinstance(auth._scheme, BodyDigestScheme)
        and auth._nonce is None
    )


class _RedirectGuard:
    """State shared by the trace callbacks of one signed request."""

    def __init__(self, url: str, resends_nonce: bool, inner: Any) -> None:
        from ._auth import origin_of

        self.origin = origin_of(url)
        self.resends_nonce = resends_nonce
        self.inner = inner
        self.hops = 0

    def check(self, name: str, info: dict[str, Any]) -> None:
        if not name.endswith(_HEADERS_EVENT):
            return
        from ._auth import origin_of

        self.hops += 1
        if self.hops == 1:
            return
        request = info.get("request")
        url = getattr(request, "url", None)
        target = origin_of(str(_core_url(url))) if url is not None else None
        if target != self.origin:
            raise RedirectError(
                "a redirect to another origin would carry the key and signature there; "
                "nothing was sent (follow it yourself with a new auth if you trust it)"
            )
        method = getattr(request, "method", b"GET")
        if self.resends_nonce and method not in (b"GET", b"HEAD", "GET", "HEAD"):
            raise RedirectError(
                "a same-origin 307/308 redirect would resend the signed body with a stale nonce; nothing was sent"
            )


def _core_url(url: Any) -> str:
    # httpcore.URL: scheme, host and port as bytes/int, target as bytes.
    scheme = url.scheme.decode() if isinstance(url.scheme, bytes) else str(url.scheme)
    host = url.host.decode() if isinstance(url.host, bytes) else str(url.host)
    port = f":{url.port}" if url.port else ""
    return f"{scheme}://{host}{port}/"


def _sync_trace(guard: _RedirectGuard) -> Callable[[str, dict[str, Any]], None]:
    def trace(name: str, info: dict[str, Any]) -> None:
        guard.check(name, info)
        if guard.inner is not None:
            guard.inner(name, info)

    return trace


def _async_trace(guard: _RedirectGuard) -> Callable[[str, dict[str, Any]], Any]:
    async def trace(name: str, info: dict[str, Any]) -> None:
        guard.check(name, info)
        if guard.inner is not None:
            await guard.inner(name, info)

    return trace


def signed_request(
    auth: HmacAuth,
    request: httpx.Request,
    signed: SignedRequest,
    *,
    is_async: bool = False,
    stream: Iterator[bytes] | AsyncIterator[bytes] | None = None,
    stream_size: int | None = None,
) -> httpx.Request:
    """Return the request to send: rebuilt with the signed URL, body and headers.

    Rebuilt rather than patched through private attributes; the old framing
    headers are dropped (a stale Content-Length makes h11 refuse the request)
    and the extensions (timeouts, trace hooks) are kept.
    """
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _FRAMING]
    if signed.content_type is not None:
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        headers.append(("Content-Type", signed.content_type))
    extensions = dict(request.extensions)
    guard = _RedirectGuard(signed.url, signed.nonce is not None, extensions.get("trace"))
    extensions["trace"] = _async_trace(guard) if is_async else _sync_trace(guard)
    content: Any = signed.body if stream is None else stream
    if stream_size is not None:
        # Given up front, so httpx does not add chunked framing to the stream.
        headers.append(("Content-Length", str(stream_size)))
    rebuilt: httpx.Request = _client(request).Request(
        request.method, signed.url, headers=headers, content=content, extensions=extensions
    )
    if stream is None and (signed.body or request.method not in ("GET", "HEAD")):
        rebuilt.headers["Content-Length"] = str(len(signed.body))
    for name, value in signed.headers.items():
        rebuilt.headers[name] = value
    return rebuilt


def _spooled(auth: HmacAuth, request: httpx.Request, spool: Spool, is_async: bool) -> httpx.Request:
    out = auth._outgoing(request.method, str(request.url), request.headers.get("Content-Type"), b"")
    scheme = auth._scheme
    assert isinstance(scheme, BodyDigestScheme)
    headers = scheme.headers(auth._key, auth._signer.sign(spool.chunks()))
    signed = SignedRequest(out.url, b"", headers, None, None)
    stream: Iterator[bytes] | AsyncIterator[bytes] = _aiter(spool) if is_async else spool.chunks()
    return signed_request(auth, request, signed, is_async=is_async, stream=stream, stream_size=spool.size)


async def _aiter(spool: Spool) -> AsyncIterator[bytes]:
    for chunk in spool.chunks():
        yield chunk


def sync_flow(auth: HmacAuth, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
    """The sync auth flow: lease, nonce, sign, send, maybe re-sign once, release."""
    if _streams(auth, request):
        spool = Spool.of(request.stream, "latin-1")  # type: ignore[arg-type]
        try:
            yield _spooled(auth, request, spool, False)
        finally:
            spool.close()
        return
    request.read()
    out = outgoing(auth, request)
    hold = Hold(via_requests=False)
    if auth._lease is not None:
        auth._hold_sync(hold)
    try:
        response = yield signed_request(auth, request, auth._sign(out))
        floor = auth._resign_floor(response.status_code, response.read)
        if floor is not None:
            auth._apply_floor(floor)
            yield signed_request(auth, request, auth._sign(out))
    finally:
        auth._unhold(hold)


async def async_flow(auth: HmacAuth, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
    """The async auth flow: as :func:`sync_flow`, waiting without blocking the loop."""
    if _streams(auth, request):
        spool = await Spool.of_async(request.stream)  # type: ignore[arg-type]
        try:
            yield _spooled(auth, request, spool, True)
        finally:
            spool.close()
        return
    await request.aread()
    out = outgoing(auth, request)
    hold = Hold(via_requests=False)
    if auth._lease is not None:
        await auth._hold_async(hold)
    try:
        response = yield signed_request(auth, request, auth._sign(out), is_async=True)
        body = await response.aread() if auth._inspects(response.status_code) else b""
        floor = auth._resign_floor(response.status_code, lambda: body)
        if floor is not None:
            auth._apply_floor(floor)
            yield signed_request(auth, request, auth._sign(out), is_async=True)
    finally:
        auth._unhold(hold)
