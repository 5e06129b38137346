"""The transport-neutral signing call: an outgoing request in, what to send out.

A :class:`Scheme` describes one API's signature: given the method, URL, content
type and exact body bytes, plus the key, a nonce and a clock, it returns the URL,
body and headers to send. Both client adapters are thin wrappers around it, and
:class:`BodyDigestScheme` (an HMAC of the body, with an optional nonce form field)
is the simple default. Nothing here imports an HTTP client or does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, Protocol, runtime_checkable

from ._body import FORM_CONTENT_TYPE, add_form_field, check_form
from ._signing import Signer
from .errors import BodyError

__all__ = ["BodyDigestScheme", "Outgoing", "Scheme", "SignedRequest"]

# Methods whose requests carry no body by convention: a nonce field cannot be placed.
_BODILESS = frozenset({"GET", "HEAD"})


class Outgoing(NamedTuple):
    """A request about to be signed: what the client will send, body as bytes."""

    method: str
    url: str
    content_type: str | None
    body: bytes


class SignedRequest(NamedTuple):
    """What to send: the URL, the exact body bytes and the headers that sign them."""

    url: str
    body: bytes
    headers: dict[str, str]
    content_type: str | None
    """A Content-Type to set (``None``: leave the request's as it is)."""
    nonce: int | str | None


@runtime_checkable
class Scheme(Protocol):
    """One API's way of signing a request.

    :meth:`check` runs before a nonce is allocated or a lease taken, so bad input
    costs neither; it raises :class:`~hmac_body_auth.BodyError`. :meth:`sign`
    must be deterministic given its arguments (the nonce and clock are injected).
    :attr:`header_names` lists (lowercase) every header the scheme may set, so
    they can be removed before a redirect to another origin.
    """

    header_names: frozenset[str]

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse a request this scheme cannot sign."""
        ...

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Return what to send; ``clock()`` gives Unix time in milliseconds."""
        ...


class BodyDigestScheme:
    """HMAC over the exact body bytes, with an optional nonce form field.

    The nonce is appended after the caller's fields (``...&nonce=N``, or
    ``nonce=N`` for an empty body), and the signature covers exactly the bytes
    that go on the wire.
    """

    __slots__ = ("_field", "header_names", "key_header", "nonce_field", "signature_header")

    def __init__(self, *, key_header: str, signature_header: str, nonce_field: str) -> None:
        self.key_header = key_header
        self.signature_header = signature_header
        self.nonce_field = nonce_field
        self._field = nonce_field.encode("ascii")
        self.header_names = frozenset({key_header.lower(), signature_header.lower()})

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse bodies a nonce cannot join (JSON, non-forms, GET, a nonce already there)."""
        if with_nonce:
            if out.method in _BODILESS:
                raise BodyError(f"the nonce goes into the form body, and a {out.method} request has none; use POST")
            check_form(out.body, out.content_type, self.nonce_field)

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Append the nonce (if any) and sign the resulting bytes."""
        data = out.body
        content_type = None
        if nonce is not None:
            if type(nonce) is int and data and not data.endswith(b"&"):
                # add_form_field()'s common case, inline (one copy of the body).
                data = b"%b&%b=%d" % (data, self._field, nonce)
            else:
                data = add_form_field(data, self.nonce_field, nonce)
            if out.content_type is None:
                content_type = FORM_CONTENT_TYPE
        signature = signer.sign(data)
        headers = (
            {self.signature_header: signature}
            if key is None
            else {self.key_header: key, self.signature_header: signature}
        )
        return SignedRequest(out.url, data, headers, content_type, nonce)

    def headers(self, key: str | None, signature: str) -> dict[str, str]:
        """The key and signature headers (also used by the adapters for streamed bodies)."""
        if key is None:
            return {self.signature_header: signature}
        return {self.key_header: key, self.signature_header: signature}
