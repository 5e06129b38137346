"""httpx adapter: ``httpx.Request`` <-> the signing core, inside the auth flows.

The per-key lease is held inside ``sync_auth_flow`` / ``async_auth_flow``: httpx
closes the flow when the response arrives or sending fails, so the ``finally``
below always releases it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._auth import BodyDigestAuth

__all__ = ["async_flow", "signed_request", "sync_flow"]

_FRAMING = frozenset({"content-length", "transfer-encoding"})


def _checked(auth: BodyDigestAuth, request: httpx.Request) -> bytes:
    return auth._scheme.body_bytes(
        request.method,
        request.headers.get("Content-Type"),
        request.content,
        with_nonce=auth._nonce is not None,
    )


def signed_request(
    auth: BodyDigestAuth, request: httpx.Request, nonce: int | str | None, data: bytes | None = None
) -> httpx.Request:
    """Return the request to send: ``request`` itself or a rebuilt one with the new body."""
    scheme = auth._scheme
    if data is None:
        data = _checked(auth, request)
    signed = scheme.sign(data, nonce)
    content_type = scheme.form_content_type(request.headers.get("Content-Type"), signed)
    if signed.body == request.content and "Transfer-Encoding" not in request.headers and content_type is None:
        request.headers.update(signed.headers)
        return request
    # Rebuild rather than poke at private attributes; drop the old framing
    # headers (a stale Content-Length makes h11 refuse the request) and keep
    # the extensions (timeouts, trace hooks).
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _FRAMING]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    rebuilt = httpx.Request(
        request.method, request.url, headers=headers, content=signed.body, extensions=request.extensions
    )
    rebuilt.headers["Content-Length"] = str(len(signed.body))
    rebuilt.headers.update(signed.headers)
    return rebuilt


def sync_flow(auth: BodyDigestAuth, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
    """The sync auth flow: lease, nonce, sign, send, maybe re-sign once, release."""
    from ._auth import _Hold

    request.read()
    data = _checked(auth, request)
    hold = _Hold(via_requests=False)
    if auth._lease is not None:
        auth._hold_sync(hold)
    try:
        response = yield signed_request(auth, request, auth._next_nonce(), data)
        floor = auth._resign_floor(response.status_code, response.read)
        if floor is not None:
            auth._apply_floor(floor)
            yield signed_request(auth, request, auth._next_nonce(), data)
    finally:
        auth._unhold(hold)


async def async_flow(auth: BodyDigestAuth, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
    """The async auth flow: as :func:`sync_flow`, waiting without blocking the loop."""
    from ._auth import _Hold

    await request.aread()
    data = _checked(auth, request)
    hold = _Hold(via_requests=False)
    if auth._lease is not None:
        await auth._hold_async(hold)
    try:
        response = yield signed_request(auth, request, auth._next_nonce(), data)
        body = await response.aread() if auth._inspects(response.status_code) else b""
        floor = auth._resign_floor(response.status_code, lambda: body)
        if floor is not None:
            auth._apply_floor(floor)
            yield signed_request(auth, request, auth._next_nonce(), data)
    finally:
        auth._unhold(hold)
