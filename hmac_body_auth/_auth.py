"""``HmacAuth`` and ``BodyDigestAuth``: the one object users pass as ``auth=``.

It is what each client expects: a ``requests.auth.AuthBase`` (requests calls it
with a ``PreparedRequest``) and an ``httpx.Auth`` (and ``httpx2.Auth`` when that is
installed: httpx drives only its own Auth instances through the auth flows); niquests
calls it as requests does. It holds the configuration and builds the client-free
:class:`~hmac_body_auth._lifecycle.Policy` (``auth.lifecycle``); the adapters in
``_requests``, ``_httpx`` and ``_niquests`` drive a request through it and use nothing else.
"""

from __future__ import annotations

import copy as _copy
import importlib
import inspect
import os
import re
import sys
import time
from collections.abc import AsyncGenerator, Callable, Collection, Generator, Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from . import _clients
from ._body import validate_body_encoding, validate_field_name
from ._clock import milliseconds, validate_clock
from ._clocksync import ClockSync
from ._core import BodyDigestScheme, Scheme, SignedRequest
from ._lease import lease_for
from ._lifecycle import DEFAULT_NONCE_ERROR_STATUSES, NonceErrorParser, Policy, PolicyTemplate
from ._origin import DEFAULT_PORTS, origin_of
from ._pool import build as build_pool
from ._signed import Body, Signed, request_body
from ._signing import DigestEncoding, SecretEncoding, Signer, mask_key, validate_header_name, validate_key
from .errors import ConfigurationError
from .nonces import _is_ordered

if TYPE_CHECKING:
    import httpx
    import requests
    import requests.auth

    from . import _httpx, _niquests, _requests

__all__ = ["BodyDigestAuth", "HmacAuth", "KeyPool", "NonceErrorParser", "origin_of"]


_Auth = TypeVar("_Auth", bound="HmacAuth")
# An environment variable name (POSIX portable characters), and so a prefix of one.
_ENV_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
_FROM_ENV = ("key", "secret", "passphrase")
# The default clock's millisecond view, made once rather than per auth.
_TIME_NS_MS = milliseconds(time.time_ns)
# BodyDigestAuth's schemes by (key_header, signature_header, nonce_field), each built once
# (the names validated then): an auth built per call finds its scheme with one lookup.
_BODY_DIGEST_SCHEMES: dict[tuple[str, str, str], BodyDigestScheme] = {}


class _Adapter:
    """Stands for a client adapter module in this module's globals until first used, then puts the module there.

    The requests adapter imports requests (and the niquests adapter the requests
    one), the httpx adapter the streaming helpers (tempfile, shutil, bz2, lzma):
    each is loaded when its client first calls an auth, not when the auth module
    is imported. After the first call the global is the module itself, so the
    entry points below pay nothing per call.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(f".{self._name}", __package__)
        globals()[self._name] = module
        return getattr(module, attr)


if TYPE_CHECKING:
    # One object for every client: requests' AuthBase, httpx's Auth, and httpx2's
    # Auth (the maintained continuation, same interface) when it is installed.
    class _AuthBase(requests.auth.AuthBase, httpx.Auth):
        pass

else:
    # The same bases, added by _clients as each client is (or gets) imported: importing
    # this module or building an auth imports no HTTP client.
    _AuthBase = _clients.Root
    _httpx = _Adapter("_httpx")
    _niquests = _Adapter("_niquests")
    _requests = _Adapter("_requests")


class _ClientAuth(_AuthBase):
    """What the clients call on an ``auth=`` object, shared by :class:`HmacAuth` and :class:`KeyPool`.

    Each entry point hands the request to its client's adapter with the object's
    lifecycle (``self._policy``): an auth's one key, or a pool that picks a free key
    when the lease is taken. requests and niquests call ``__call__``; httpx (and
    httpx2) drive the auth flows.
    """

    _policy: Policy

    # -- requests, niquests ------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign a ``requests.PreparedRequest`` (requests calls this at prepare time).

        niquests calls it too, for ``Session`` and ``AsyncSession`` alike: a niquests
        request is checked now and signed by its hooks when it is sent.
        """
        if "niquests" in sys.modules and _niquests.handles(r):  # not imported: no niquests request
            # niquests' own PreparedRequest (typed loosely there: niquests is optional).
            prepared: requests.PreparedRequest = _niquests.apply(self._policy, r)
            return prepared
        return _requests.apply(self._policy, r)

    # -- httpx ---------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Not a flow to drive: raises ``TypeError`` (httpx calls ``sync_auth_flow`` / ``async_auth_flow``).

        ``httpx.Auth.auth_flow`` yields the request unchanged: inherited, it would
        send a caller that drives it (httpx-auth's ``a + b`` does, ``next(a.auth_flow(request))``)
        an unsigned request. Such a caller keeps its own request object, not the one a
        signing flow yields (a new one when the body changes), so it cannot be served
        either: it is refused loudly.
        """
        raise TypeError(
            f"{type(self).__name__} is driven through sync_auth_flow()/async_auth_flow(), as httpx.Client does; "
            "a caller of auth_flow() (such as httpx-auth's `+`) would send the request unsigned"
        )

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign under the key's lease (a pool's: a free key's), held until the response arrives."""
        hops = _httpx.check_transport(request, sys._getframe(1))
        return _httpx.sync_flow(self._policy, request, hops=hops)

    def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Sign under the key's lease (a pool's: a free key's) without blocking the event loop."""
        hops = _httpx.check_transport(request, sys._getframe(1))
        return _httpx.async_flow(self._policy, request, hops=hops)


# requests.auth.AuthBase, httpx.Auth and httpx2.Auth become bases of every auth class as those load.
_clients.attach(_ClientAuth)


class HmacAuth(_ClientAuth):
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
        clock: a zero-argument callable returning int nanoseconds since the Unix
            epoch (``time.time_ns``, the default); a first reading that is not
            plausibly nanoseconds raises :class:`~hmac_body_auth.ConfigurationError`.
            The scheme's :meth:`~hmac_body_auth.Scheme.sign` receives it in milliseconds.
        ordered: hold a per-key lease from nonce allocation until the response.
        lease_timeout: the longest a vanished lease holder can block others (s).
        nonce_error: recognises the API's "nonce too low" answer.
        resign_statuses: statuses after which to re-sign and send once more.
        origin: if given, refuse to sign requests to any other origin.
        clock_sync: the API's :class:`~hmac_body_auth.ClockSync` recipe: when the API
            refuses a call for its timestamp, learn the server's clock (shared by
            every auth of that origin), re-sign once and send again. ``None``: sign
            with ``clock`` only and learn nothing.

    """

    requires_request_body = True

    nonce_error_statuses: ClassVar[frozenset[int]] = DEFAULT_NONCE_ERROR_STATUSES
    """Statuses whose (small) body is read to recognise the API's nonce rejection."""

    env_prefix: ClassVar[str | None] = None
    """The default prefix of :meth:`~hmac_body_auth.HmacAuth.from_env` (``None``: a prefix must be given)."""

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
        clock_sync: ClockSync | None = None,
    ) -> None:
        if key is not None:
            key = validate_key(key)
        if nonce is not None and not callable(nonce):
            raise ConfigurationError("nonce must be None or a zero-argument callable")
        clock = validate_clock(clock) if clock is not None else time.time_ns
        if isinstance(lease_timeout, bool) or not isinstance(lease_timeout, (int, float)) or not lease_timeout > 0:
            raise ConfigurationError("lease_timeout must be a positive number of seconds")
        if nonce_error is not None and not callable(nonce_error):
            raise ConfigurationError("nonce_error must be None or a callable (status, body) -> int | None")
        try:
            resign = frozenset(resign_statuses)
        except TypeError:
            raise ConfigurationError("resign_statuses must be a collection of HTTP status codes") from None
        if resign and not all(type(code) is int and 100 <= code <= 599 for code in resign):
            raise ConfigurationError("resign_statuses must be a collection of HTTP status codes")
        if clock_sync is not None and not isinstance(clock_sync, ClockSync):
            raise ConfigurationError("clock_sync must be None or a ClockSync recipe")
        pinned = None
        if origin is not None:
            if not isinstance(origin, str):
                raise ConfigurationError("origin must be an http(s) URL such as 'https://api.example.com'")
            pinned = origin_of(origin)
            if pinned[0] not in DEFAULT_PORTS or not pinned[1]:
                raise ConfigurationError("origin must be an http(s) URL such as 'https://api.example.com'")
        self._scheme = scheme
        self._signer = Signer(
            secret, algorithm=algorithm, digest_encoding=digest_encoding, secret_encoding=secret_encoding
        )
        self._key = key
        self._nonce = nonce
        self._nonce_error = nonce_error
        lease = lease_for(self._lease_scope(key, nonce)) if nonce is not None and ordered else None
        self._policy = Policy(
            scheme=scheme,
            signer=self._signer,
            key=key,
            body_encoding=validate_body_encoding(body_encoding),
            nonce=nonce,
            clock=_TIME_NS_MS if clock is time.time_ns else milliseconds(clock),
            lease=lease,
            lease_timeout=float(lease_timeout),
            nonce_error=nonce_error,
            nonce_error_statuses=self.nonce_error_statuses,
            resign_statuses=resign,
            origin=pinned,
            clock_sync=clock_sync,
            local_clock=clock,
        )

    def _assume(
        self,
        template: PolicyTemplate,
        scheme: Scheme,
        signer: Signer,
        key: str | None,
        nonce: Callable[[], int | str] | None,
        nonce_error: NonceErrorParser | None,
        ordered: bool,
        clock_sync: ClockSync | None,
    ) -> bool:
        """What ``__init__`` leaves, with ``template``'s configuration and these checked credentials.

        For a subclass that builds every auth of a class the same way but for the
        credentials (:class:`~hmac_body_auth.recipe.RecipeAuth`): the default clock,
        as ``__init__`` reads it now. ``False``: the template does not fit them (see
        :meth:`PolicyTemplate.build`); ``__init__`` is to run then.
        """
        # As __init__ sets them, before _lease_scope() (which a subclass may give its own), reads them.
        self._scheme = scheme
        self._signer = signer
        self._key = key
        self._nonce = nonce
        self._nonce_error = nonce_error
        lease = lease_for(self._lease_scope(key, nonce)) if nonce is not None and ordered else None
        policy = template.build(
            scheme=scheme,
            signer=signer,
            key=key,
            nonce=nonce,
            lease=lease,
            clock_sync=clock_sync,
            local_clock=time.time_ns,
        )
        if policy is None:
            return False
        self._policy = policy
        return True

    @classmethod
    def from_env(cls: type[_Auth], prefix: str | None = None, **kwargs: Any) -> _Auth:
        """Build the auth from ``{PREFIX}_API_KEY`` and ``{PREFIX}_API_SECRET`` in the environment.

        A class whose constructor takes a ``passphrase`` (OKX, KuCoin, Coinbase
        Exchange) also reads ``{PREFIX}_API_PASSPHRASE``. ``prefix`` defaults to the
        class's :attr:`~hmac_body_auth.HmacAuth.env_prefix` (``BINANCE`` for
        :class:`~hmac_body_auth.presets.binance.Binance`, ``HMAC_BODY_AUTH`` for
        :class:`~hmac_body_auth.BodyDigestAuth`); every other keyword goes to the
        constructor (``HmacAuth.from_env(prefix="MY_API", scheme=...)``).

        Raises:
            ConfigurationError: no prefix, a prefix that is not the start of an
                environment variable name, a variable that is missing or empty
                (the message names the variable, never a value), or a keyword that
                from_env reads itself (``key``, ``secret``, ``passphrase``).

        """
        if prefix is None:
            prefix = cls.env_prefix
            if prefix is None:
                raise ConfigurationError(f"{cls.__name__}.from_env needs prefix= (it has no default prefix)")
        # Never echo the prefix: a secret pasted into the wrong argument must not be printed.
        if not isinstance(prefix, str) or not _ENV_PREFIX.fullmatch(prefix):
            raise ConfigurationError(
                "prefix must start an environment variable name: ASCII letters, digits and _, not starting with a digit"
            )
        given = sorted(name for name in _FROM_ENV if name in kwargs)
        if given:
            raise ConfigurationError(
                f"{cls.__name__}.from_env reads {', '.join(given)} from the environment; "
                "pass them to the constructor instead"
            )
        wanted = {"key": f"{prefix}_API_KEY", "secret": f"{prefix}_API_SECRET"}
        if "passphrase" in inspect.signature(cls).parameters:
            wanted["passphrase"] = f"{prefix}_API_PASSPHRASE"
        missing = [name for name in wanted.values() if not os.environ.get(name)]
        if missing:
            raise ConfigurationError(
                f"{cls.__name__}.from_env: environment variable{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} missing or empty"
            )
        values: dict[str, Any] = {argument: os.environ[name] for argument, name in wanted.items()}
        try:
            return cls(**values, **kwargs)
        except ConfigurationError as exc:
            # The constructor's message names the argument and never its value; add where it came from.
            raise ConfigurationError(f"{exc} (credentials read from {', '.join(wanted.values())})") from exc

    def _lease_scope(self, key: str | None, nonce: Callable[[], int | str]) -> Hashable:
        if _is_ordered(nonce):
            return nonce.scope
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
        return self._policy.lease is not None

    @property
    def lifecycle(self) -> Policy:
        """The client-free request lifecycle every adapter drives (one ``Call`` per request)."""
        return self._policy

    def sign(self, method: str, url: str, *, body: Body = None, content_type: str | None = None) -> SignedRequest:
        """Return the exact URL, body bytes and headers for a request, without any client.

        ``body`` takes what ``auth=`` takes: a dict or a list of pairs (sent as a
        form, ``application/x-www-form-urlencoded``), ``str`` (encoded with
        ``body_encoding``), ``bytes`` or ``None``. Allocates a nonce when a source
        is configured but takes no lease: use it for inspection and tooling, and
        :meth:`signed` (or ``auth=``) for sending.
        """
        data, kind = request_body(body, content_type)
        signed = self._policy.call(method, url, kind, data).sign()
        if signed.content_type is None and kind is not None and kind != content_type:
            return signed._replace(content_type=kind)
        return signed

    def signed(self, method: str, url: str, *, body: Body = None, content_type: str | None = None) -> Signed:
        """Sign for any other client, ordered: ``with auth.signed(...) as req:`` (or ``async with``).

        The key's lease is held from the nonce until the block ends, so requests
        sent inside the block (with urllib3, a websocket, ...) reach the API in
        nonce order with those sent through ``auth=``. ``req`` has ``.method``,
        ``.url``, ``.body`` (bytes), ``.headers`` (dict, with the Content-Type the
        body needs) and ``.nonce``. The same body types as :meth:`sign`.
        """
        return Signed(self._policy, method, url, body, content_type)

    # The client entry points (requests, niquests, httpx) are :class:`_ClientAuth`'s.

    # -- hygiene ---------------------------------------------------------------

    def _repr_fields(self) -> str:
        return f"algorithm={self._signer.algorithm!r}, digest_encoding={self._signer.digest_encoding!r}"

    def __repr__(self) -> str:
        # Never raises, even for an object whose __init__ failed half-way (a
        # traceback with capture_locals=True calls repr on it).
        name = type(self).__name__
        try:
            fields = self._repr_fields()
        except Exception:
            fields = "incomplete"
        policy = self.__dict__.get("_policy")
        ordered = policy is not None and policy.lease is not None
        return f"{name}(key={mask_key(self.__dict__.get('_key'))}, secret=***, {fields}, ordered={ordered})"

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
        other._policy = self._policy.with_signer(other._signer)
        memo[id(self)] = other
        return other


class KeyPool(_ClientAuth):
    """One ``auth=`` object over several keys of the same API: N keys, about N times the ordered throughput.

    Each request takes a free key (round-robin among the free ones; when all are
    busy, the first to free up, in arrival order), and keeps it for its whole life:
    a re-sign after a nonce error or a redirect hop stays on that key. Every key
    stays strictly ordered, as with one auth. Works wherever an auth does: ``auth=``
    for requests, niquests (``Session`` and ``AsyncSession``), httpx and httpx2,
    ``hba.aiohttp_middleware(pool)``, and
    :meth:`signed` / :meth:`sign`.

    Args:
        auths: auth objects of one API (the same class and scheme options), each
            with its own key; a key given twice, or auths of different APIs, raise
            :class:`~hmac_body_auth.ConfigurationError`.
        rate: an optional budget per key, ``(requests, seconds)``: a key sends at
            most ``requests`` requests in any ``seconds``; a request whose key is
            over budget waits for it (the pool prefers keys with budget left).

    A request that finds no free key waits at most the members' (smallest)
    ``lease_timeout``, then raises :class:`~hmac_body_auth.LeaseTimeout`. A key the
    API refuses (401, 403) is logged with its masked key and stays in the pool: a
    pool never drops a key by itself. A pool signs a streamed body whole (which key
    signs is known only once one is free).
    """

    requires_request_body = True

    def __init__(self, auths: Sequence[HmacAuth], *, rate: tuple[int, float] | None = None) -> None:
        self._policy = build_pool(auths, rate)
        self._size = len(self._policy.slots.members)

    @property
    def lifecycle(self) -> Policy:
        """The pool's client-free lifecycle (calls choose their key when they take the lease)."""
        return self._policy

    def __len__(self) -> int:
        return self._size

    def sign(self, method: str, url: str, *, body: Body = None, content_type: str | None = None) -> SignedRequest:
        """As :meth:`HmacAuth.sign`, with the next free key (no lease is kept)."""
        with self.signed(method, url, body=body, content_type=content_type) as req:
            return SignedRequest(req.url, req.body, req.headers, None, req.nonce)

    def signed(self, method: str, url: str, *, body: Body = None, content_type: str | None = None) -> Signed:
        """As :meth:`HmacAuth.signed`: a free key, its lease held until the block ends."""
        return Signed(self._policy, method, url, body, content_type)

    # requests, niquests and httpx call the entry points of :class:`_ClientAuth`, as for an auth.

    def __repr__(self) -> str:
        return f"KeyPool(keys={self.__dict__.get('_size', '?')}, secret=***)"

    def __reduce__(self) -> Any:
        raise TypeError("a KeyPool holds secrets and cannot be pickled; build it again from the secrets")


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

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``HMAC_BODY_AUTH_API_KEY`` and ``HMAC_BODY_AUTH_API_SECRET``.
    env_prefix: ClassVar[str | None] = "HMAC_BODY_AUTH"

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
        names = (key_header, signature_header, nonce_field)
        try:
            scheme = _BODY_DIGEST_SCHEMES.get(names)
        except TypeError:  # an unhashable argument: validated (and refused) below
            scheme = None
        if scheme is None:
            key_header = validate_header_name(key_header, argument="key_header")
            signature_header = validate_header_name(signature_header, argument="signature_header")
        if key is not None and key_header.lower() == signature_header.lower():
            raise ConfigurationError("key_header and signature_header must differ")
        if scheme is None:
            scheme = BodyDigestScheme(
                key_header=key_header,
                signature_header=signature_header,
                nonce_field=validate_field_name(nonce_field, argument="nonce_field"),
            )
            if len(_BODY_DIGEST_SCHEMES) < 64:
                _BODY_DIGEST_SCHEMES[names] = scheme
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
        if not isinstance(scheme, BodyDigestScheme):  # pragma: no cover - set in __init__
            return super()._repr_fields()
        return (
            f"{super()._repr_fields()}, key_header={scheme.key_header!r}, signature_header={scheme.signature_header!r}"
        )
