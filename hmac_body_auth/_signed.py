"""Signing without a client: ``auth.sign(...)`` and the ordered ``auth.signed(...)`` block.

Pure: no HTTP client is imported. ``signed()`` drives the same lifecycle as the
adapters (check, hold the per-key lease, sign, release exactly once), so a
request sent by any other client (urllib3, aiohttp without the middleware, a
websocket login) is ordered like one sent through ``auth=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from ._body import FORM_CONTENT_TYPE, form_body
from ._core import SignedRequest
from .errors import BodyError

if TYPE_CHECKING:
    from ._lifecycle import Call, Policy

__all__ = ["Body", "Signed", "SignedCall", "request_body"]

#: What ``sign()`` and ``signed()`` take as a body: what ``auth=`` takes through the clients.
Body = Mapping[Any, Any] | Iterable[tuple[Any, Any]] | str | bytes | bytearray | memoryview | None


def request_body(body: object, content_type: str | None) -> tuple[str | bytes | None, str | None]:
    """``body`` as str or bytes, and the Content-Type it needs (a dict or pairs: a form)."""
    if body is None or isinstance(body, (str, bytes)):
        return body, content_type
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body), content_type
    if isinstance(body, (Mapping, list, tuple)):
        return form_body(body), content_type or FORM_CONTENT_TYPE
    raise BodyError(
        f"cannot sign a body of type {type(body).__name__}: pass a dict, a list of pairs, str, bytes or None"
    )


class SignedCall(NamedTuple):
    """A signed request to send with any client: exactly these bytes and headers."""

    method: str
    url: str
    body: bytes
    headers: dict[str, str]
    """The signing headers and the Content-Type the body needs (when it needs one)."""
    nonce: int | str | None


def sendable(method: str, signed: SignedRequest, content_type: str | None) -> SignedCall:
    """The :class:`SignedCall` of a signed request whose caller asked for ``content_type``."""
    headers = dict(signed.headers)
    kind = signed.content_type or content_type
    if kind is not None and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = kind
    return SignedCall(method, signed.url, signed.body, headers, signed.nonce)


class Signed:
    """``with auth.signed(...) as req`` / ``async with``: the key's lease held from the nonce to the block's end.

    The request is checked when the block is built (bad input raises there, no
    nonce spent); the lease is taken and the nonce allocated on entry; the lease
    is released on exit, however the block ends. One use per object.
    """

    __slots__ = ("_call", "_content_type", "_entered", "_method")

    def __init__(self, policy: Policy, method: str, url: str, body: object, content_type: str | None) -> None:
        data, kind = request_body(body, content_type)
        self._call: Call = policy.call(method, url, kind, data)
        self._method = self._call.out.method
        self._content_type = kind
        self._entered = False

    def _enter(self) -> None:
        if self._entered:
            raise RuntimeError("a signed() block can be entered once; call auth.signed(...) again")
        self._entered = True

    def __enter__(self) -> SignedCall:
        self._enter()
        call = self._call
        call.hold()
        try:
            return sendable(self._method, call.sign(), self._content_type)
        except BaseException:
            call.release()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._call.release()

    async def __aenter__(self) -> SignedCall:
        self._enter()
        call = self._call
        await call.hold_async()
        try:
            return sendable(self._method, await call.sign_async(), self._content_type)
        except BaseException:
            await call.release_async()
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._call.release_async()
