"""``BodyDigestAuth``: one object that is ``auth=`` for requests and httpx.

The class derives from ``httpx.Auth`` (httpx only drives auth objects of that
type through ``sync_auth_flow`` / ``async_auth_flow``, which is where the
per-key lease is held across the send) and is callable for requests. The
signing itself is the client-independent :class:`BodyDigestScheme`.
"""

from __future__ import annotations

import asyncio
import copy as _copy
import os
import sys
import threading
import time
from collections.abc import AsyncGenerator, Callable, Collection, Generator, Hashable
from typing import TYPE_CHECKING, Any

import httpx

from . import _httpx, _requests
from ._body import validate_body_encoding, validate_field_name
from ._core import BodyDigestScheme, SignedBody
from ._lease import Lease, lease_for
from ._signing import DigestEncoding, SecretEncoding, Signer, mask_key, validate_header_name, validate_key
from .errors import ConfigurationError, NonceError
from .nonces import OrderedNonceSource

if TYPE_CHECKING:
    import requests

__all__ = ["BodyDigestAuth", "NonceErrorParser"]

#: Recognises a nonce rejection: ``(status, body) -> the server's last nonce`` or ``None``.
NonceErrorParser = Callable[[int, bytes], "int | None"]


# Code that is on a thread's stack while a requests call is being prepared or sent.
_SENDING_CODE = ("requests" + os.sep + "sessions.py", "requests" + os.sep + "adapters.py", "_requests.py")
# How long a requests holder may sit outside requests' send path before it counts as
# abandoned (its request failed or was never sent). Covers prepare_request() ... send().
_OUTSIDE_GRACE = 0.25


class _Hold:
    """A lease token: who holds the per-key lease, from which thread, through which client."""

    __slots__ = ("__weakref__", "outside_since", "thread", "via_requests")

    def __init__(self, *, via_requests: bool) -> None:
        self.thread = threading.get_ident()
        self.via_requests = via_requests
        self.outside_since: float | None = None

    def abandoned(self) -> bool:
        """Whether this holder's request can no longer be in flight (waiters poll this).

        httpx flows release in ``finally`` and never count as abandoned. A requests
        holder whose thread has ended, or has stayed out of requests' send path for
        ``_OUTSIDE_GRACE`` seconds, has either failed to send (the exception
        skipped the response hook) or dropped the prepared request.
        """
        if not self.via_requests:
            return False
        frame = sys._current_frames().get(self.thread)
        if frame is None:
            return True
        while frame is not None:
            if frame.f_code.co_filename.endswith(_SENDING_CODE):
                self.outside_since = None
                return False
            frame = frame.f_back
        now = time.monotonic()
        if self.outside_since is None:
            self.outside_since = now
        return now - self.outside_since >= _OUTSIDE_GRACE


def _release_if_acquired(source: OrderedNonceSource) -> Callable[[asyncio.Future[None]], None]:
    def done(future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:
            source.release()

    return done


class BodyDigestAuth(httpx.Auth):
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

    """

    requires_request_body = True

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
    ) -> None:
        if key is not None:
            key = validate_key(key)
        key_header = validate_header_name(key_header, argument="key_header")
        signature_header = validate_header_name(signature_header, argument="signature_header")
        if key is not None and key_header.lower() == signature_header.lower():
            raise ConfigurationError("key_header and signature_header must differ")
        if nonce is not None and not callable(nonce):
            raise ConfigurationError("nonce must be None or a zero-argument callable returning an int")
        if not isinstance(lease_timeout, (int, float)) or lease_timeout <= 0:
            raise ConfigurationError("lease_timeout must be a positive number of seconds")
        signer = Signer(secret, algorithm=algorithm, digest_encoding=digest_encoding, secret_encoding=secret_encoding)
        self._scheme = BodyDigestScheme(
            signer=signer,
            key=key,
            key_header=key_header,
            signature_header=signature_header,
            body_encoding=validate_body_encoding(body_encoding),
            nonce_field=validate_field_name(nonce_field, argument="nonce_field"),
        )
        self._nonce = nonce
        self._ordered_source: OrderedNonceSource | None = nonce if isinstance(nonce, OrderedNonceSource) else None
        self._lease: Lease | None = None
        if nonce is not None and ordered:
            self._lease = lease_for(self._lease_scope(key, nonce), float(lease_timeout))
        self._nonce_error = nonce_error
        self._resign_statuses = frozenset(resign_statuses)

    def _lease_scope(self, key: str | None, nonce: Callable[[], int]) -> Hashable:
        if self._ordered_source is not None:
            return self._ordered_source.scope
        if key is not None:
            return ("key", key)
        return ("callable", id(nonce))

    # -- public, client-free -------------------------------------------------

    @property
    def key(self) -> str | None:
        """The API key (sent in the key header); ``repr`` shows it masked."""
        return self._scheme.key

    @property
    def signer(self) -> Signer:
        """The keyed signer; it signs and verifies bytes without exposing the secret."""
        return self._scheme.signer

    @property
    def ordered(self) -> bool:
        """Whether requests of this key are serialized from nonce to response."""
        return self._lease is not None

    def sign(self, method: str, body: str | bytes | None = None, *, content_type: str | None = None) -> SignedBody:
        """Return the exact body bytes and headers for a request, without any client.

        Allocates a nonce when a source is configured but takes no lease: use it
        for inspection and tooling, and ``auth=`` for sending.
        """
        data = self._scheme.body_bytes(method, content_type, body, with_nonce=self._nonce is not None)
        return self._scheme.sign(data, self._next_nonce())

    # -- shared by the adapters ---------------------------------------------

    def _next_nonce(self) -> int | str | None:
        if self._nonce is None:
            return None
        try:
            value = self._nonce()
        except Exception as exc:
            raise NonceError(f"the nonce source failed: {type(exc).__name__}") from exc
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise NonceError(f"the nonce source returned {type(value).__name__}; it must return an int")
        return value

    def _hold_sync(self, hold: _Hold) -> None:
        assert self._lease is not None
        self._lease.acquire(hold)
        if self._ordered_source is not None and self._ordered_source.interprocess:
            try:
                self._ordered_source.acquire(self._lease.hold_timeout)
            except BaseException:
                self._lease.release(hold)
                raise

    async def _hold_async(self, hold: _Hold) -> None:
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

    def _unhold(self, hold: _Hold) -> None:
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
        if floor is True or isinstance(floor, bool):
            return
        source = self._ordered_source
        if source is not None:
            source.raise_floor(floor)
        else:
            raise_floor = getattr(self._nonce, "raise_floor", None)
            if callable(raise_floor):
                raise_floor(floor)

    # -- requests ------------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign a ``requests.PreparedRequest`` (requests calls this at prepare time)."""
        return _requests.apply(self, r)

    # -- httpx ---------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign without ordering (httpx uses the ordered flows below)."""
        yield _httpx.signed_request(self, request, self._next_nonce())

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign under the per-key lease, held until the response arrives."""
        return _httpx.sync_flow(self, request)

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign under the per-key lease without blocking the event loop."""
        return _httpx.async_flow(self, request)

    # -- hygiene ---------------------------------------------------------------

    def __repr__(self) -> str:
        s = self._scheme
        return (
            f"{type(self).__name__}(key={mask_key(s.key)}, secret=***, algorithm={s.signer.algorithm!r}, "
            f"digest_encoding={s.signer.digest_encoding!r}, key_header={s.key_header!r}, "
            f"signature_header={s.signature_header!r}, ordered={self.ordered})"
        )

    def __reduce__(self) -> Any:
        raise TypeError(f"{type(self).__name__} holds a secret and cannot be pickled; build it again from the secret")

    def __copy__(self) -> BodyDigestAuth:
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__)
        return other

    def __deepcopy__(self, memo: dict[int, Any]) -> BodyDigestAuth:
        # The nonce source and the lease stay shared: a copy signs for the same key,
        # so it must keep the same nonce order.
        other = _copy.copy(self)
        s = self._scheme
        other._scheme = BodyDigestScheme(
            signer=s.signer.copy(),
            key=s.key,
            key_header=s.key_header,
            signature_header=s.signature_header,
            body_encoding=s.body_encoding,
            nonce_field=s.nonce_field,
        )
        memo[id(self)] = other
        return other
