"""``HmacAuth`` and ``BodyDigestAuth``: one object that is ``auth=`` for requests and httpx.

The classes derive from ``httpx.Auth`` (httpx only drives auth objects of that
type through ``sync_auth_flow`` / ``async_auth_flow``, which is where the
per-key lease is held across the send) and are callable for requests. The
signing itself is a client-independent :class:`~hmac_body_auth.Scheme`.
"""

from __future__ import annotations

import asyncio
import copy as _copy
import time
from collections.abc import AsyncGenerator, Callable, Collection, Generator, Hashable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from . import _httpx, _requests
from ._body import encode_body, validate_body_encoding, validate_field_name
from ._core import BodyDigestScheme, Outgoing, Scheme, SignedRequest
from ._lease import Hold, Lease, lease_for
from ._signing import DigestEncoding, SecretEncoding, Signer, mask_key, validate_header_name, validate_key
from .errors import ConfigurationError, NonceError, OriginError
from .nonces import OrderedNonceSource

if TYPE_CHECKING:
    import requests

__all__ = ["BodyDigestAuth", "HmacAuth", "NonceErrorParser", "origin_of"]

#: Recognises a nonce rejection: ``(status, body) -> the server's last nonce`` or ``None``.
NonceErrorParser = Callable[[int, bytes], "int | None"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int]:
    """Return ``(scheme, host, port)`` of ``url``, parsed, lowercase, default ports filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise OriginError("the URL has an invalid port") from None
    host = (parts.hostname or "").lower().rstrip(".")
    return scheme, host, port if port is not None else _DEFAULT_PORTS.get(scheme, -1)


def _clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _release_if_acquired(source: OrderedNonceSource) -> Callable[[asyncio.Future[None]], None]:
    def done(future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:
            source.release()

    return done


def _auth_base() -> type:
    # httpx drives only instances of its own Auth class through the auth flows;
    # httpx2 (the maintained continuation, same interface) likewise. Derive from
    # both when httpx2 is installed, so one object works with either client.
    try:
        import httpx2
    except ImportError:
        return httpx.Auth
    return type("_AuthBase", (httpx.Auth, httpx2.Auth), {"__module__": __name__})


if TYPE_CHECKING:
    _AuthBase = httpx.Auth
else:
    _AuthBase = _auth_base()


class HmacAuth(_AuthBase):
    """Sign requests with a :class:`~hmac_body_auth.Scheme`; ``auth=`` for requests and httpx.

    The generic base of :class:`BodyDigestAuth` and every preset. It owns the
    keyed signer, the nonce source and clock, the per-key ordering lease,
    nonce-error recovery, origin pinning and redirect safety; the scheme only
    says what is signed and where things go.

    Args:
        scheme: what is signed and where the key, nonce and signature go.
        key: the API key (validated: visible ASCII, no whitespace).
        secret: the shared secret, ``str`` (UTF-8) or ``bytes``.
        algorithm: a ``hashlib`` algorithm name or constructor.
        digest_encoding: ``"hex"`` (lowercase) or ``"base64"``.
        secret_encoding: ``"raw"``, ``"base64"`` or ``"hex"``: how the secret
            is decoded into key bytes.
        body_encoding: how a ``str`` body becomes bytes.
        nonce: ``None`` or a zero-argument callable returning the nonce.
        clock: a zero-argument callable returning Unix time in milliseconds.
        ordered: hold a per-key lease from nonce allocation until the response.
        lease_timeout: the longest a vanished lease holder can block others (s).
        nonce_error: recognises the API's "nonce too low" answer.
        resign_statuses: statuses after which to re-sign and send once more.
        origin: if given, refuse to sign requests to any other origin.

    """

    requires_request_body = True

    def __init__(
        self,
        scheme: Scheme,
        *,
        key: str | None,
        secret: str | bytes,
        algorithm: str | Callable[..., Any] = "sha256",
        digest_encoding: DigestEncoding = "hex",
        secret_encoding: SecretEncoding = "raw",
        body_encoding: str = "latin-1",
        nonce: Callable[[], int | str] | None = None,
        clock: Callable[[], int] | None = None,
        ordered: bool = True,
        lease_timeout: float = 30.0,
        nonce_error: NonceErrorParser | None = None,
        resign_statuses: Collection[int] = (),
        origin: str | None = None,
    ) -> None:
        if key is not None:
            key = validate_key(key)
        if nonce is not None and not callable(nonce):
            raise ConfigurationError("nonce must be None or a zero-argument callable")
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock must be a zero-argument callable returning Unix time in milliseconds")
        if isinstance(lease_timeout, bool) or not isinstance(lease_timeout, (int, float)) or lease_timeout <= 0:
            raise ConfigurationError("lease_timeout must be a positive number of seconds")
        self._scheme = scheme
        self._signer = Signer(
            secret, algorithm=algorithm, digest_encoding=digest_encoding, secret_encoding=secret_encoding
        )
        self._key = key
        self._body_encoding = validate_body_encoding(body_encoding)
        self._nonce = nonce
        self._clock = clock if clock is not None else _clock_ms
        self._ordered_source: OrderedNonceSource | None = nonce if isinstance(nonce, OrderedNonceSource) else None
        self._lease: Lease | None = None
        if nonce is not None and ordered:
            self._lease = lease_for(self._lease_scope(key, nonce), float(lease_timeout))
        self._nonce_error = nonce_error
        self._resign_statuses = frozenset(resign_statuses)
        self._origin: tuple[str, str, int] | None = None
        if origin is not None:
            pinned = origin_of(origin)
            if pinned[0] not in _DEFAULT_PORTS or not pinned[1]:
                raise ConfigurationError("origin must be an http(s) URL such as 'https://api.example.com'")
            self._origin = pinned

    def _lease_scope(self, key: str | None, nonce: Callable[[], int | str]) -> Hashable:
        if self._ordered_source is not None:
            return self._ordered_source.scope
        if key is not None:
            return ("key", type(self._scheme).__name__, key)
        return ("callable", id(nonce))

    # -- public, client-free -------------------------------------------------

    @property
    def key(self) -> str | None:
        """The API key; ``repr`` shows it masked."""
        return self._key

    @property
    def signer(self) -> Signer:
        """The keyed signer; it signs and verifies bytes without exposing the secret."""
        return self._signer

    @property
    def scheme(self) -> Scheme:
        """The scheme that decides what is signed."""
        return self._scheme

    @property
    def ordered(self) -> bool:
        """Whether requests of this key are serialized from nonce to response."""
        return self._lease is not None

    def sign(
        self,
        method: str,
        body: str | bytes | None = None,
        *,
        url: str = "http://localhost/",
        content_type: str | None = None,
    ) -> SignedRequest:
        """Return the exact URL, body bytes and headers for a request, without any client.

        Allocates a nonce when a source is configured but takes no lease: use it
        for inspection and tooling, and ``auth=`` for sending.
        """
        out = self._outgoing(method, url, content_type, encode_body(body, self._body_encoding))
        return self._sign(out)

    # -- shared by the adapters ---------------------------------------------

    def _outgoing(self, method: str, url: str, content_type: str | None, data: bytes) -> Outgoing:
        """Build and check the outgoing request; raises before any nonce or lease."""
        out = Outgoing(method if method.isupper() else method.upper(), url, content_type, data)
        if self._origin is not None and origin_of(url) != self._origin:
            raise OriginError("this auth is pinned to another origin; it signs nothing else")
        self._scheme.check(out, with_nonce=self._nonce is not None)
        return out

    def _sign(self, out: Outgoing) -> SignedRequest:
        return self._scheme.sign(out, self._signer, self._key, self._next_nonce(), self._clock)

    def _next_nonce(self) -> int | str | None:
        if self._nonce is None:
            return None
        try:
            value = self._nonce()
        except Exception as exc:
            raise NonceError(f"the nonce source failed: {type(exc).__name__}") from exc
        if type(value) is int:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise NonceError(f"the nonce source returned {type(value).__name__}; it must return an int or a str")
        return value

    def _hold_sync(self, hold: Hold) -> None:
        assert self._lease is not None
        self._lease.acquire(hold)
        source = self._ordered_source
        if source is not None and source.interprocess:
            try:
                source.acquire(self._lease.hold_timeout)
            except BaseException:
                self._lease.release(hold)
                raise

    async def _hold_async(self, hold: Hold) -> None:
        assert self._lease is not None
        await self._lease.acquire_async(hold)
        source = self._ordered_source
        if source is not None and source.interprocess:
            # A cross-process lock blocks: wait for it in a worker thread.
            acquiring = asyncio.ensure_future(asyncio.to_thread(source.acquire, self._lease.hold_timeout))
            try:
                await asyncio.shield(acquiring)
            except BaseException:
                # Cancelled while the thread still waits: whenever it gets the lock,
                # give it straight back, or it stays held until it expires.
                acquiring.add_done_callback(_release_if_acquired(source))
                self._lease.release(hold)
                raise

    def _unhold(self, hold: Hold) -> None:
        lease = self._lease
        if lease is None or lease.holder is not hold:
            return
        source = self._ordered_source
        try:
            if source is not None and source.interprocess:
                source.release()
        finally:
            lease.release(hold)

    def _inspects(self, status: int) -> bool:
        """Whether a response with ``status`` is read to look for a nonce error."""
        return self._nonce is not None and self._nonce_error is not None and (status == 200 or 400 <= status < 500)

    def _resign_floor(self, status: int, read_body: Callable[[], bytes]) -> int | bool | None:
        """Decide whether to re-sign after a response: a floor, ``True`` (no floor) or ``None``."""
        if self._nonce is None:
            return None
        if self._nonce_error is not None and self._inspects(status):
            floor = self._nonce_error(status, read_body())
            if floor is not None:
                return floor
        if status in self._resign_statuses:
            return True
        return None

    def _apply_floor(self, floor: int | bool) -> None:
        if isinstance(floor, bool):
            return
        raise_floor = getattr(self._nonce, "raise_floor", None)
        if callable(raise_floor):
            raise_floor(floor)

    # -- requests ------------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign a ``requests.PreparedRequest`` (requests calls this at prepare time)."""
        return _requests.apply(self, r)

    # -- httpx ---------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign without ordering (httpx itself uses the ordered flows below)."""
        yield _httpx.signed_request(self, request, self._sign(_httpx.outgoing(self, request)))

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign under the per-key lease, held until the response arrives."""
        return _httpx.sync_flow(self, request)

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign under the per-key lease without blocking the event loop."""
        return _httpx.async_flow(self, request)

    # -- hygiene ---------------------------------------------------------------

    def _repr_fields(self) -> str:
        return f"algorithm={self._signer.algorithm!r}, digest_encoding={self._signer.digest_encoding!r}"

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(key={mask_key(self._key)}, secret=***, {self._repr_fields()}, ordered={self.ordered})"

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} holds a secret and cannot be pickled; build it again from the secret")

    def __copy__(self) -> HmacAuth:
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        return other

    def __deepcopy__(self, memo: dict[int, Any]) -> HmacAuth:
        # The nonce source and the lease stay shared: a copy signs for the same key,
        # so it must keep the same nonce order. The scheme is immutable configuration.
        other = _copy.copy(self)
        other._signer = self._signer.copy()
        memo[id(self)] = other
        return other


class BodyDigestAuth(HmacAuth):
    """Sign each request with an HMAC of its exact body bytes.

    Use it as ``auth=`` with ``requests`` (functions and ``Session``),
    ``httpx.Client``, ``httpx.AsyncClient`` and the ``httpx`` functions.

    Args:
        key: the API key, sent in ``key_header`` when given.
        secret: the shared secret, ``str`` (encoded as UTF-8) or ``bytes``.
        key_header: the header that carries the key.
        signature_header: the header that carries the signature.
        algorithm: a ``hashlib`` algorithm name or constructor.
        digest_encoding: ``"hex"`` (lowercase) or ``"base64"``.
        body_encoding: how a ``str`` body becomes bytes (``latin-1`` by default,
            as ``http.client`` does).
        nonce: ``None``, or a zero-argument callable returning an ``int``; each
            request then gets ``nonce_field=<value>`` appended to its form body.
        nonce_field: the form field the nonce is added to.
        ordered: hold a per-key lease from nonce allocation until the response
            arrives, so concurrent requests reach the server in nonce order.
            Switch off for APIs that accept a window of nonces.
        lease_timeout: the longest a vanished lease holder (a request prepared
            but never sent) can block others, in seconds.
        nonce_error: recognises the API's "nonce too low" answer; the auth then
            raises the nonce floor above the server's value and re-signs once.
        resign_statuses: statuses after which to re-sign with a fresh nonce and
            send again, once. Off by default: a 5xx may mean the order ran.
        secret_encoding: ``"raw"`` (default), ``"base64"`` or ``"hex"``: how the
            secret is decoded into key bytes.
        origin: if given (``"https://poloniex.com"``), refuse to sign requests to
            any other scheme, host or port.

    """

    def __init__(
        self,
        key: str | None = None,
        *,
        secret: str | bytes,
        key_header: str = "Key",
        signature_header: str = "Sign",
        algorithm: str | Callable[..., Any] = "sha512",
        digest_encoding: DigestEncoding = "hex",
        body_encoding: str = "latin-1",
        nonce: Callable[[], int] | None = None,
        nonce_field: str = "nonce",
        ordered: bool = True,
        lease_timeout: float = 30.0,
        nonce_error: NonceErrorParser | None = None,
        resign_statuses: Collection[int] = (),
        secret_encoding: SecretEncoding = "raw",
        origin: str | None = None,
    ) -> None:
        key_header = validate_header_name(key_header, argument="key_header")
        signature_header = validate_header_name(signature_header, argument="signature_header")
        if key is not None and key_header.lower() == signature_header.lower():
            raise ConfigurationError("key_header and signature_header must differ")
        scheme = BodyDigestScheme(
            key_header=key_header,
            signature_header=signature_header,
            nonce_field=validate_field_name(nonce_field, argument="nonce_field"),
        )
        super().__init__(
            scheme,
            key=key,
            secret=secret,
            algorithm=algorithm,
            digest_encoding=digest_encoding,
            secret_encoding=secret_encoding,
            body_encoding=body_encoding,
            nonce=nonce,
            ordered=ordered,
            lease_timeout=lease_timeout,
            nonce_error=nonce_error,
            resign_statuses=resign_statuses,
            origin=origin,
        )

    def _repr_fields(self) -> str:
        scheme = self._scheme
        assert isinstance(scheme, BodyDigestScheme)
        return (
            f"{super()._repr_fields()}, key_header={scheme.key_header!r}, signature_header={scheme.signature_header!r}"
        )
