"""requests adapter: ``PreparedRequest`` <-> the signing core, and the response hook.

requests calls the auth at prepare time and sends later, so the per-key lease
taken here is released by a response hook (which requests runs as soon as a
response arrives, before following redirects). When the request never gets a
response (connection refused, timeout, never sent), the lease is released when
the ``PreparedRequest`` is garbage-collected, when its thread prepares its next
request or leaves requests' send path (see ``Hold.abandoned``), or, at the
latest, after ``lease_timeout``.

The same hook keeps credentials on their origin: requests follows redirects by
copying the request the hook sees, after the hook ran. For a redirect to another
origin the hook strips the key, the signature and the body from that request;
for a same-origin 307/308 (which would resend the body) it re-signs it with a
fresh nonce.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from ._body import encode_body
from ._core import BodyDigestScheme, Outgoing, SignedRequest
from ._lease import Hold
from ._streams import Spool, file_digest, is_seekable_file
from .errors import BodyError

if TYPE_CHECKING:
    import requests

    from ._auth import HmacAuth

__all__ = ["apply"]

log = logging.getLogger("hmac_body_auth")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_BODY_KEPT = frozenset({307, 308})

# Weak references must outlive their request for their callbacks to run: a weakref
# that dies in the same garbage cycle as its referent is cleared without a call.
_PENDING: set[weakref.ref[Any]] = set()


def _put(r: requests.PreparedRequest, signed: SignedRequest, had_body: bool, was_stream: bool) -> None:
    body = signed.body
    headers = r.headers
    if signed.url != r.url:
        r.url = signed.url
    if body or had_body:
        r.body = body
    if was_stream and "Transfer-Encoding" in headers:
        # The body is bytes now: chunked framing would conflict with Content-Length.
        del headers["Transfer-Encoding"]
    if body or r.method not in ("GET", "HEAD"):
        headers["Content-Length"] = str(len(body))
    elif "Content-Length" in headers:
        del headers["Content-Length"]
    if signed.content_type is not None:
        headers["Content-Type"] = signed.content_type
    for name, value in signed.headers.items():
        headers[name] = value


def _content_type(r: requests.PreparedRequest) -> str | None:
    value: str | bytes | None = r.headers.get("Content-Type")
    # requests accepts bytes header values (HTTPie sends only bytes); http.client
    # writes str values as latin-1, so decoding that way names the same bytes.
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _stream_body(auth: HmacAuth, r: requests.PreparedRequest, body: Any) -> bytes | None:
    """Handle a file or generator body; return bytes to sign, or ``None`` when signed streaming."""
    scheme = auth._scheme
    encoding = auth._body_encoding
    streaming = isinstance(scheme, BodyDigestScheme) and auth._nonce is None
    if streaming:
        # No nonce joins a streamed body: check origin and scheme once, before reading it.
        auth._outgoing(r.method or "GET", r.url or "", _content_type(r), b"")
    if streaming and is_seekable_file(body):
        # Hash in chunks and rewind; requests then streams the file as before.
        signature, size = file_digest(auth._signer, body, encoding)
        _put_stream_headers(auth, r, signature, size)
        return None
    if not hasattr(body, "read") and not hasattr(body, "__iter__"):
        raise BodyError(f"cannot sign a body of type {type(body).__name__}")
    spool = Spool.of(body, encoding)
    if streaming:
        signature = auth._signer.sign(spool.chunks())
        spool.file.seek(0)
        # Closed when the request is gone (sent and answered, or dropped).
        weakref.finalize(r, spool.close)
        r.body = spool.file  # type: ignore[assignment]  # requests streams file objects; the stubs say bytes|str
        _put_stream_headers(auth, r, signature, spool.size)
        return None
    # A nonce field or another scheme needs the whole body: it is read into memory.
    return spool.read_all()


def _put_stream_headers(auth: HmacAuth, r: requests.PreparedRequest, signature: str, size: int) -> None:
    scheme = auth._scheme
    assert isinstance(scheme, BodyDigestScheme)
    headers = r.headers
    if "Transfer-Encoding" in headers:
        del headers["Transfer-Encoding"]
    headers["Content-Length"] = str(size)
    headers.update(scheme.headers(auth._key, signature))


def apply(auth: HmacAuth, r: requests.PreparedRequest) -> requests.PreparedRequest:
    """Sign ``r`` in place and register the hook that ends its lease and guards redirects."""
    body = r.body
    had_body = body is not None
    was_stream = False
    if had_body and not isinstance(body, (str, bytes, bytearray)):
        was_stream = True
        body = _stream_body(auth, r, body)
        if body is None:
            _register(auth, r, None, None)
            return r
    # Encode and check before taking the lease or a nonce: bad input costs neither.
    out = auth._outgoing(r.method or "GET", r.url or "", _content_type(r), encode_body(body, auth._body_encoding))
    lease = auth._lease
    if lease is None:
        _put(r, auth._sign(out), had_body, was_stream)
        _register(auth, r, None, out)
        return r

    holder = lease.holder
    if isinstance(holder, Hold) and holder.via_requests and holder.thread == threading.get_ident():
        # This thread prepared a request earlier that never got a response (it was
        # never sent, or sending failed): it cannot still be in flight.
        auth._unhold(holder)
    hold = Hold(via_requests=True)
    auth._hold_sync(hold)
    try:
        _put(r, auth._sign(out), had_body, was_stream)
        _register(auth, r, hold, out)
    except BaseException:
        auth._unhold(hold)
        raise
    return r


def _register(auth: HmacAuth, r: requests.PreparedRequest, hold: Hold | None, out: Outgoing | None) -> None:
    ref: weakref.ref[Any] | None = None
    if hold is not None:

        def on_collect(ref: weakref.ref[Any], hold: Hold = hold) -> None:
            _PENDING.discard(ref)
            auth._unhold(hold)

        # Fires when the request is dropped unanswered (never sent, or sending failed).
        ref = weakref.ref(r, on_collect)
        _PENDING.add(ref)

    def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
        keep = False
        try:
            if response.status_code in _REDIRECTS and response.headers.get("location"):
                keep = _guard_redirect(auth, response, out, hold is not None)
                return response
            if out is None:
                return response
            floor = auth._resign_floor(response.status_code, lambda: response.content)
            if floor is None:
                return response
            return _resend(auth, response, out, floor, kwargs)
        finally:
            if not keep:
                if ref is not None:
                    _PENDING.discard(ref)
                if hold is not None:
                    auth._unhold(hold)

    # requests' register_hook() does an isinstance(Callable) check per call; the
    # hooks dict is public and prepared requests always have a "response" list.
    r.hooks["response"].append(on_response)


def _guard_redirect(auth: HmacAuth, response: requests.Response, out: Outgoing | None, held: bool) -> bool:
    """Make the request requests will copy for the next hop safe; return whether to keep the lease."""
    from ._auth import origin_of

    request = response.request
    target = urljoin(response.url, response.headers["location"])
    if origin_of(target) != origin_of(request.url or ""):
        # Another origin: the hop goes out without key, signature or signed body.
        for name in _signing_header_names(auth, request):
            del request.headers[name]
        if response.status_code in _BODY_KEPT:
            request.body = None
            request.headers["Content-Length"] = "0"
        log.warning("redirect to another origin: credentials and signed body removed from the next hop")
        return False
    if response.status_code in _BODY_KEPT and out is not None and auth._nonce is not None:
        # Same origin, body resent: never with the stale nonce. The lease stays
        # held until the redirected response arrives (the hook runs again).
        target_out = out._replace(url=target)
        _put(request, auth._sign(target_out), True, False)
        return held
    return False


def _signing_header_names(auth: HmacAuth, request: requests.PreparedRequest) -> list[str]:
    names = auth._scheme.header_names
    return [name for name in list(request.headers) if name.lower() in names]


def _resend(
    auth: HmacAuth, response: requests.Response, out: Outgoing, floor: int | bool, kwargs: dict[str, Any]
) -> requests.Response:
    """Re-sign with a fresh nonce and send once more, as requests' digest auth does."""
    auth._apply_floor(floor)
    prep = response.request.copy()
    _put(prep, auth._sign(out), True, False)
    response.content  # noqa: B018  (drain so the connection can be reused)
    response.close()
    new = response.connection.send(prep, **kwargs)
    new.history.append(response)
    new.request = prep
    return new
