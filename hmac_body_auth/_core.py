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

from ._body import FORM_CONTENT_TYPE, FormScan, add_form_field, check_form, form_suffix
from ._signing import Partial, Signer
from .errors import BodyError

#: ``tuple.__new__``: what a NamedTuple's generated ``__new__`` calls, for the per-request tuples.
_new = tuple.__new__

__all__ = ["DIGEST_CHUNK", "BodyDigestScheme", "Digested", "Digester", "Outgoing", "Scheme", "SignedRequest"]

# Methods whose requests carry no body by convention: a nonce field cannot be placed.
_BODILESS = frozenset({"GET", "HEAD"})

#: Large bodies are checked and hashed in pieces of this size, each scanned while still in the CPU cache.
DIGEST_CHUNK = 256 << 10


class Digested(NamedTuple):
    """A body already checked and hashed, to which the nonce field is appended without hashing it again."""

    partial: Partial
    """The keyed HMAC state after the body's bytes (``partial.size`` of them)."""
    ends_with_amp: bool
    """The body ends with ``&`` (the nonce field then follows without one)."""
    streamed: bool
    """The body is not in :attr:`Outgoing.body`: the adapter streams it, then sends the signed suffix."""


class Outgoing(NamedTuple):
    """A request about to be signed: what the client will send, body as bytes."""

    method: str
    url: str
    content_type: str | None
    body: bytes
    digest: Digested | None = None
    """The body, checked and hashed already (a large body, or a streamed one)."""


class SignedRequest(NamedTuple):
    """What to send: the URL, the exact body bytes and the headers that sign them."""

    url: str
    body: bytes
    headers: dict[str, str]
    content_type: str | None
    """A Content-Type to set (``None``: leave the request's as it is)."""
    nonce: int | str | None
    stream_size: int | None = None
    """A streamed body: the wire carries the stream's ``stream_size`` bytes, then ``body`` (``None``: no stream)."""


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

    def copy(self) -> BodyDigestScheme:
        """A scheme of the same names (what a preset's auth gets: one of its own, built without the checks)."""
        other = object.__new__(type(self))
        other.key_header, other.signature_header, other.nonce_field = (
            self.key_header,
            self.signature_header,
            self.nonce_field,
        )
        other._field, other.header_names = self._field, self.header_names
        return other

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
        digest = out.digest
        data = out.body
        if digest is None and type(nonce) is int and data and not data.endswith(b"&"):
            # The common case (a form body in memory, an int nonce): add_form_field() inline,
            # one copy of the body; the tuple built as SignedRequest's own __new__ builds it.
            data = b"%b&%b=%d" % (data, self._field, nonce)
            content_type = FORM_CONTENT_TYPE if out.content_type is None else None
            # self.headers(): a subclass may add its own.
            headers = self.headers(key, signer.sign(data))
            return _new(SignedRequest, (out.url, data, headers, content_type, nonce, None))
        if digest is not None and digest.partial.signer is signer:
            return self._sign_digested(out, digest, key, nonce)
        if digest is not None and digest.streamed:
            raise BodyError("the streamed body was hashed under another key; it cannot be signed with this one")
        content_type = None
        if nonce is not None:
            data = add_form_field(data, self.nonce_field, nonce)
            if out.content_type is None:
                content_type = FORM_CONTENT_TYPE
        return SignedRequest(out.url, data, self.headers(key, signer.sign(data)), content_type, nonce)

    def _sign_digested(
        self, out: Outgoing, digest: Digested, key: str | None, nonce: int | str | None
    ) -> SignedRequest:
        # The body was hashed when it was checked: only the nonce field is hashed now,
        # and a body in memory is joined to it in one copy, the bytes sent.
        partial = digest.partial
        suffix = b""
        content_type = None
        if nonce is not None:
            suffix = form_suffix(self.nonce_field, nonce, empty=partial.size == 0, ends_with_amp=digest.ends_with_amp)
            if out.content_type is None:
                content_type = FORM_CONTENT_TYPE
        headers = self.headers(key, partial.sign(suffix))
        if digest.streamed:
            return SignedRequest(out.url, suffix, headers, content_type, nonce, partial.size)
        return SignedRequest(out.url, b"%b%b" % (out.body, suffix), headers, content_type, nonce)

    def digester(self, out: Outgoing, signer: Signer) -> Digester:
        """Check ``out`` as :meth:`check` does (with a nonce), but for a body given in pieces to the digester."""
        if out.method in _BODILESS:
            raise BodyError(f"the nonce goes into the form body, and a {out.method} request has none; use POST")
        return Digester(out, FormScan(out.content_type, self.nonce_field), signer.partial())

    def digested(self, out: Outgoing, signer: Signer) -> Outgoing:
        """Check a large body as :meth:`check` does (with a nonce) and hash it in the same pass."""
        digester = self.digester(out, signer)
        body = out.body
        for start in range(0, len(body), DIGEST_CHUNK):
            digester.update(body, start, min(start + DIGEST_CHUNK, len(body)))
        return digester.done(streamed=False)

    def headers(self, key: str | None, signature: str) -> dict[str, str]:
        """The key and signature headers (also used by the adapters for streamed bodies)."""
        if key is None:
            return {self.signature_header: signature}
        return {self.key_header: key, self.signature_header: signature}


class Digester:
    """A body given in pieces: each is hashed, then checked as a form while it is still in the CPU cache."""

    __slots__ = ("_out", "_partial", "_scan")

    def __init__(self, out: Outgoing, scan: FormScan, partial: Partial) -> None:
        self._out = out
        self._scan = scan
        self._partial = partial

    def update(self, buf: bytes, start: int = 0, end: int | None = None) -> None:
        """The next bytes of the body: ``buf[start:end]`` (not copied)."""
        if end is None:
            end = len(buf)
        self._partial.update(memoryview(buf)[start:end] if start or end != len(buf) else buf)
        self._scan.feed(buf, start, end)

    def done(self, *, streamed: bool) -> Outgoing:
        """The body ended: check its last field; the request to sign (``streamed``: the body is not in it)."""
        self._scan.finish()
        return self._out._replace(digest=Digested(self._partial, self._scan.ends_with_amp, streamed))
