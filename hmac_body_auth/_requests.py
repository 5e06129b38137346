"""requests adapter: ``PreparedRequest`` <-> the signing core, and the response hook.

requests calls the auth at prepare time and sends later, so the per-key lease
taken here is released by a response hook (which requests runs as soon as a
response arrives, before following redirects). When the request never gets a
response (connection refused, timeout, never sent), the lease is released when
the ``PreparedRequest`` is garbage-collected, when the same thread prepares its
next request, or, at the latest, after ``lease_timeout``.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from ._body import encode_body
from .errors import BodyError

if TYPE_CHECKING:
    import requests

    from ._auth import BodyDigestAuth, _Hold
    from ._core import SignedBody

__all__ = ["apply"]


def _read_stream(body: Any, encoding: str) -> bytes:
    """Read a file or generator body into bytes, rewinding files afterwards."""
    if hasattr(body, "read"):
        start = None
        if hasattr(body, "seek") and hasattr(body, "tell"):
            try:
                start = body.tell()
            except OSError:
                start = None
        data = body.read()
        if start is not None:
            body.seek(start)
        return encode_body(data, encoding)
    if hasattr(body, "__iter__"):
        return b"".join(encode_body(chunk, encoding) for chunk in body)
    raise BodyError(f"cannot sign a body of type {type(body).__name__}")


def _put_body(r: requests.PreparedRequest, signed: SignedBody, content_type: str | None) -> None:
    r.body = signed.body
    # The body is bytes now: chunked framing would conflict with Content-Length.
    r.headers.pop("Transfer-Encoding", None)
    r.headers.pop("Content-Length", None)
    r.prepare_content_length(signed.body)
    if content_type is not None:
        r.headers["Content-Type"] = content_type
    r.headers.update(signed.headers)


def apply(auth: BodyDigestAuth, r: requests.PreparedRequest) -> requests.PreparedRequest:
    """Sign ``r`` in place and register the hook that ends its lease."""
    from ._auth import _Hold

    scheme = auth._scheme
    body = r.body
    if body is not None and not isinstance(body, (str, bytes, bytearray)):
        body = _read_stream(body, scheme.body_encoding)
    method = r.method or "GET"
    content_type = r.headers.get("Content-Type")
    with_nonce = auth._nonce is not None
    # Check the body before taking the lease or a nonce: bad input costs neither.
    data = scheme.body_bytes(method, content_type, body, with_nonce=with_nonce)
    lease = auth._lease
    if lease is None:
        signed = scheme.sign(data, auth._next_nonce())
        _put_body(r, signed, scheme.form_content_type(content_type, signed))
        return r

    holder = lease.holder
    me = threading.get_ident()
    if holder is not None and getattr(holder, "via_requests", False) and holder.thread == me:  # type: ignore[attr-defined]
        # This thread prepared a request earlier that never got a response (it was
        # never sent, or sending failed): it cannot still be in flight.
        auth._unhold(holder)  # type: ignore[arg-type]
    hold = _Hold(via_requests=True)
    auth._hold_sync(hold)
    try:
        signed = scheme.sign(data, auth._next_nonce())
        _put_body(r, signed, scheme.form_content_type(content_type, signed))
        _register(auth, r, hold, data, content_type)
    except BaseException:
        auth._unhold(hold)
        raise
    return r


# Weak references must outlive their request for their callbacks to run: a weakref
# that dies in the same garbage cycle as its referent is cleared without a call.
_PENDING: set[weakref.ref[Any]] = set()


def _register(
    auth: BodyDigestAuth, r: requests.PreparedRequest, hold: _Hold, data: bytes, content_type: str | None
) -> None:
    def on_collect(ref: weakref.ref[Any], hold: _Hold = hold) -> None:
        _PENDING.discard(ref)
        auth._unhold(hold)

    # Fires when the request is dropped unanswered (never sent, or sending failed).
    ref = weakref.ref(r, on_collect)
    _PENDING.add(ref)

    def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
        _PENDING.discard(ref)
        try:
            floor = auth._resign_floor(response.status_code, lambda: response.content)
            if floor is None:
                return response
            return _resend(auth, response, data, content_type, floor, kwargs)
        finally:
            auth._unhold(hold)

    r.register_hook("response", on_response)  # type: ignore[no-untyped-call]  # untyped in types-requests


def _resend(
    auth: BodyDigestAuth,
    response: requests.Response,
    data: bytes,
    content_type: str | None,
    floor: int | bool,
    kwargs: dict[str, Any],
) -> requests.Response:
    """Re-sign with a fresh nonce and send once more, as requests' digest auth does."""
    auth._apply_floor(floor)
    prep = response.request.copy()
    signed = auth._scheme.sign(data, auth._next_nonce())
    _put_body(prep, signed, auth._scheme.form_content_type(content_type, signed))
    response.content  # noqa: B018  (drain so the connection can be reused)
    response.close()
    new = response.connection.send(prep, **kwargs)
    new.history.append(response)
    new.request = prep
    return new
