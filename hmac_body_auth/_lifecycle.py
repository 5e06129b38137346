"""The life of one logical call, without any HTTP client: every decision is made here.

An adapter (requests, httpx, httpx2, the next client) only translates its
client's objects into the calls below and does the I/O:

1. ``policy.call(method, url, content_type, body)`` checks the request (origin,
   body, scheme) before any nonce or lease is spent, and returns a :class:`Call`.
2. ``call.hold()`` / ``await call.hold_async()`` takes the per-key ordering
   lease (and, for nonce sources shared between processes or hosts, their lock;
   a source with ``acquire_next`` returns the first nonce with it). An asyncio
   adapter first tries ``call.hold_now()``, which takes a free in-process lease
   without a coroutine; and where ``call.policy.in_process`` (after the hold)
   says nothing but the lease can wait, it calls ``sign``, ``after`` and
   ``release`` rather than their ``_async`` twins, which do the same then.
3. ``call.sign()`` allocates the nonce (or uses the one taken with the lock) and
   returns the exact bytes and headers.
4. When a response's status and headers arrive: ``call.wants_body(...)`` says
   whether a (small) body must be read to decide (``call.wants_length(status,
   length)`` the same, given the Content-Length value); ``call.after(...)`` decides
   :data:`Action.DONE` or :data:`Action.RESEND` (re-signed); a redirect is decided
   by ``call.redirect(...)``: follow it re-signed, follow it stripped, or refuse.
5. ``call.release()`` / ``await call.release_async()`` ends the hold exactly once,
   whatever happened; further calls do nothing.

The decisions themselves are the pure function :func:`decide` over a
:class:`Situation`, tested as a table (tests/test_lifecycle.py) for every client.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import enum
import logging
import threading
import time
import types
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, Final, NamedTuple, cast

from ._body import _MEDIA_TYPES, FORM_CONTENT_TYPE, check_form, encode_body
from ._clocksync import ClockSync, date_header_ns, midpoint_offset, server_clocks
from ._core import _BODILESS, BodyDigestScheme, Digester, Outgoing, Scheme, SignedRequest, _new
from ._lease import Hold, Lease
from ._origin import Origin, origin_of
from ._signing import Signer
from .errors import NonceError, OriginError, RedirectError
from .nonces import ClockNonce, OrderedNonceSource, _is_ordered, _unaltered_clock

__all__ = [
    "BODY_LIMIT",
    "DEFAULT_NONCE_ERROR_STATUSES",
    "REDIRECT_STATUSES",
    "Action",
    "Call",
    "Decision",
    "NonceErrorParser",
    "Policy",
    "Situation",
    "decide",
    "lacks",
    "needle_of",
]

log = logging.getLogger("hmac_body_auth")

#: Recognises a nonce rejection: ``(status, body) -> the server's last nonce`` or ``None``.
#: A parser may carry a ``needle`` attribute (bytes; see :func:`needle_of`).
NonceErrorParser = Callable[[int, bytes], "int | None"]


def needle_of(parser: object) -> bytes | None:
    """The ``needle`` a nonce-error parser declares: bytes the text of every answer it recognises holds.

    A JSON body without those bytes and without a backslash (no string in it has
    an escape, so its text is in the bytes as it is) cannot be that answer, and
    the parser is not called for it: a success costs two substring searches, not
    three Python calls per request.
    """
    needle = getattr(parser, "needle", None)
    return needle if isinstance(needle, bytes) and needle else None


def lacks(body: bytes | bytearray, needle: bytes) -> bool:
    """Whether JSON text ``body`` cannot hold ``needle`` in any string: neither the bytes nor an escape are in it."""
    # Without a backslash no JSON string has an escape, so its text is in the bytes as it is.
    return needle not in body and b"\\" not in body


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Redirects that resend the method and the body (RFC 9110 15.4.8, 15.4.9).
BODY_KEPT = frozenset({307, 308})
#: Statuses whose body may carry the API's nonce rejection (APIs answer it as 200 or 4xx).
DEFAULT_NONCE_ERROR_STATUSES = frozenset({200, *range(400, 500)})
#: The most of a response body read to recognise an error answer (error answers are small).
BODY_LIMIT = 64 * 1024
#: From this size a body the nonce joins is checked and hashed in one pass (and re-signed without rehashing).
DIGEST_FROM = 1 << 20


class Action(enum.Enum):
    """What to do after a response."""

    DONE = "done"
    """Hand the response to the caller."""
    RESEND = "resend"
    """The API said the call was not executed (or the status is in ``resign_statuses``): re-sign, send again."""
    FOLLOW_SIGNED = "follow-signed"
    """Follow the redirect with the request re-signed (fresh nonce) for its new URL."""
    FOLLOW_STRIPPED = "follow-stripped"
    """Follow the redirect without key, signature or signed body."""
    REFUSE = "refuse"
    """Raise :class:`~hmac_body_auth.RedirectError`; nothing of the hop is sent."""
    SYNC_CLOCK = "sync-clock"
    """The API refused the timestamp: ``GET`` :attr:`Decision.probe` (no credentials), then :meth:`Call.probed`."""


#: The actions every answer is checked against, as module names: on CPython 3.11 a member
#: read from the class (``Action.DONE``) goes through ``EnumType.__getattr__``'s slot, about
#: 0.13 us each, a few times per request.
DONE, RESEND, SYNC_CLOCK = Action.DONE, Action.RESEND, Action.SYNC_CLOCK


class Situation(NamedTuple):
    """Everything a decision depends on, as plain values."""

    status: int
    redirect: bool = False
    """The response is a redirect the client is about to follow."""
    same_origin: bool = True
    """The redirect target has the signed request's scheme, host and port."""
    nonce_rejected: bool = False
    """The API's nonce-error parser recognised the answer."""
    resign_status: bool = False
    """The status is one of the auth's ``resign_statuses``."""
    resent: bool = False
    """This call was already re-signed once."""
    has_body: bool = True
    """The call's body is available to sign again (not a one-shot stream)."""
    resends_body: bool | None = None
    """The hop resends the method and body (``None``: as its status says, 307 or 308)."""
    timestamp_rejected: bool = False
    """The API's timestamp-error parser recognised the answer (clock sync on)."""
    clock_known: bool = False
    """The server's clock is known since the call was signed (from the answer, or learned meanwhile)."""
    time_endpoint: bool = False
    """The API has a public server-time endpoint to ask."""


def decide(s: Situation) -> Action:
    """The lifecycle's decision table: one policy for every client.

    ============================  ==================  ==================
    situation                     same origin         other origin
    ============================  ==================  ==================
    301, 302, 303 redirect; a     follow stripped     refuse
    307, 308 of a GET or HEAD
    307, 308 redirect (body)      follow re-signed    refuse
    nonce rejected (not resent)   re-sign and resend
    timestamp rejected, server    re-sign and resend
    clock known (not resent)
    timestamp rejected, clock     ask the time endpoint (``SYNC_CLOCK``)
    unknown, time endpoint
    timestamp rejected, no way    done
    to learn the server's clock
    status in ``resign_statuses`` re-sign and resend
    anything else                 done
    ============================  ==================  ==================
    """
    if s.redirect:
        if not s.same_origin:
            return Action.REFUSE
        resends = s.status in BODY_KEPT if s.resends_body is None else s.resends_body
        if resends:
            return Action.FOLLOW_SIGNED if s.has_body else Action.REFUSE
        return Action.FOLLOW_STRIPPED
    if s.resent or not s.has_body:
        return Action.DONE
    if s.timestamp_rejected and not s.nonce_rejected:
        if s.clock_known:
            return Action.RESEND
        return Action.SYNC_CLOCK if s.time_endpoint else Action.DONE
    if s.nonce_rejected or s.resign_status:
        return Action.RESEND
    return Action.DONE


class Decision(NamedTuple):
    """An action and what the adapter needs to carry it out."""

    action: Action
    signed: SignedRequest | None = None
    """The re-signed request (``RESEND``, ``FOLLOW_SIGNED``)."""
    strip: frozenset[str] = frozenset()
    """Lowercase names of the headers to remove from the hop (``FOLLOW_STRIPPED``)."""
    probe: str | None = None
    """The server-time URL to ``GET`` without credentials (``SYNC_CLOCK``)."""


_NONE: frozenset[int] = frozenset()


def _frozen(statuses: Collection[int]) -> frozenset[int]:
    return statuses if type(statuses) is frozenset else frozenset(statuses)


def _header(headers: Mapping[str, str] | Any, name: str) -> str | None:
    value = headers.get(name)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) or value is None else str(value)


#: Content-Length values with at most this many digits are below :data:`BODY_LIMIT` (a shortcut).
_SHORT_LENGTH: Final = len(str(BODY_LIMIT)) - 1


def _small_length(length: str) -> bool:
    """Whether a Content-Length value is ASCII digits (spaces around) worth at most :data:`BODY_LIMIT`.

    ``isdigit()`` alone takes ``"²"`` (which ``int()`` refuses) and ``int()`` takes other
    scripts' digits; more than 20 digits is no small body (and ``int()`` refuses 4300).
    """
    text = length.strip()
    return text.isascii() and text.isdigit() and len(text) <= 20 and int(text) <= BODY_LIMIT


_DONE = Decision(Action.DONE)
#: What Call._decide returns for "done, no nonce floor".
_DONE_NOTHING: tuple[Action, None] = (Action.DONE, None)

#: What an adapter tells :meth:`Call.after` of the transport sending the signed bytes again:
#: whether it did, or a callable asked only when the answer could lead to a re-sign.
ResentBytes = bool | Callable[[], bool]


class Policy:
    """One auth's client-free configuration; makes a :class:`Call` per request.

    Built by :class:`~hmac_body_auth.HmacAuth` (``auth.lifecycle``); adapters use
    nothing else of the auth.
    """

    def __init__(
        self,
        *,
        scheme: Scheme,
        signer: Signer,
        key: str | None,
        body_encoding: str,
        nonce: Callable[[], int | str] | None,
        clock: Callable[[], int],
        lease: Lease | None,
        lease_timeout: float,
        nonce_error: NonceErrorParser | None,
        nonce_error_statuses: Collection[int],
        resign_statuses: Collection[int],
        origin: Origin | None,
        clock_sync: ClockSync | None = None,
        local_clock: Callable[[], int] | None = None,
    ) -> None:
        self.scheme = scheme
        self.signer = signer
        self.key = key
        self.body_encoding = body_encoding
        self.nonce = nonce
        self.clock = clock
        self.lease = lease
        self.lease_timeout = lease_timeout
        self.nonce_error = nonce_error
        self._needle = needle_of(nonce_error)
        self.nonce_error_statuses = _frozen(nonce_error_statuses)
        self.resign_statuses = _frozen(resign_statuses)
        self.origin = origin
        #: The API's timestamp-refusal recipe (``None``: clock sync off).
        self.clock_sync = clock_sync
        #: The auth's own clock in nanoseconds (``clock`` is its millisecond view).
        self.local_clock = local_clock if local_clock is not None else time.time_ns
        self.with_nonce = nonce is not None
        #: The statuses whose answer may be a nonce error (with a parser) or a timestamp refusal (clock sync).
        answers = self.nonce_error_statuses if nonce is not None and nonce_error is not None else _NONE
        self.answer_statuses = answers if clock_sync is None else answers | clock_sync.statuses
        #: Bodies this auth can sign while streaming them (a body digest without a nonce).
        self.streams = isinstance(scheme, BodyDigestScheme) and nonce is None
        #: Bodies the nonce field joins that are checked and hashed as they are read (large
        #: bodies in memory, files and streams: see :meth:`form_stream`), never hashed twice.
        self.digests = isinstance(scheme, BodyDigestScheme) and nonce is not None
        self.header_names = scheme.header_names
        plain_clock = _unaltered_clock(nonce)
        #: The configuration most calls have, which :meth:`begin` checks, holds and signs in one
        #: step (what :meth:`call`, :meth:`Call.hold` and :meth:`Call.sign` do then, without
        #: their branches for the others): this package's body digest (no subclass), a plain
        #: ``ClockNonce`` and its lease, no origin pin, no clock sync.
        # Policy itself only: a subclass's check(), call() or next_nonce() is never gone around.
        exact = type(self) is Policy
        self._plain = (
            exact and plain_clock and type(scheme) is BodyDigestScheme and lease is not None and origin is None
        ) and clock_sync is None
        #: Whether a call needs the request's URL. ``False``: a body digest (the URL is not
        #: signed) with no origin pin and no clock sync, so an adapter may pass ``""`` rather
        #: than build the URL string (the call only carries it into ``SignedRequest.url``); one
        #: that guards redirect hops keeps the request's URL for them itself.
        self.needs_url = not (exact and type(scheme) is BodyDigestScheme and origin is None and clock_sync is None)
        self.source: OrderedNonceSource | None
        #: The source's asyncio API, when it has one that waits for something (an in-process
        #: source's only calls the source: it is called directly, one coroutine fewer per request).
        self._next_async: Callable[[], Any] | None
        if plain_clock:
            # What the general lookups below find for this package's in-process source,
            # known without them (an auth built per call builds its policy each time).
            self.source = cast(ClockNonce, nonce)
            self.interprocess, self._next_async, self.in_process = False, None, True
            return
        self.source = nonce if _is_ordered(nonce) else None
        self.interprocess = self.source is not None and bool(self.source.interprocess)
        fetch = getattr(nonce, "next_async", None)
        self._next_async = (
            None if fetch is None or getattr(type(nonce), "next_async", None) is ClockNonce.next_async else fetch
        )
        # Looked up as after_async() looks it up: on the source itself (an attribute set on a
        # function or an object counts), then compared with ClockNonce's own.
        raise_async = getattr(nonce, "raise_floor_async", None)
        #: Nothing of a call but a busy lease ever waits: the nonce source and its floor are in this
        #: process, and there is no cross-process lock. An asyncio adapter then calls ``sign``,
        #: ``after`` and ``release`` directly (each is what its ``_async`` twin does, without the
        #: coroutine), and awaits ``hold_async`` only when :meth:`Call.hold_now` cannot take the lease.
        self.in_process = (
            self._next_async is None
            and not self.interprocess
            and (raise_async is None or getattr(raise_async, "__func__", None) is ClockNonce.raise_floor_async)
            and (fetch is None or getattr(fetch, "__func__", None) is ClockNonce.next_async)
        )

    def template(self) -> PolicyTemplate | None:
        """The configuration without its credentials, to make policies for other keys (``None``: it cannot).

        Only a :class:`Policy` itself (no subclass) whose nonce source is ``None``, a
        :class:`~hmac_body_auth.ClockNonce` as its constructor left it, or a plain function
        (see :func:`_nonce_kind`): what the lookups of ``__init__`` find on the source
        depends on nothing but its kind then.
        """
        if type(self) is not Policy:
            return None
        kind = _nonce_kind(self.nonce)
        return None if kind is None else PolicyTemplate(self, kind)

    def with_signer(self, signer: Signer) -> Policy:
        """The same policy (same nonce source and lease) with another signer (for deepcopy)."""
        other = copy.copy(self)
        other.signer = signer
        return other

    def check(self, method: str, url: str, content_type: str | None, body: bytes) -> Outgoing:
        """Build and check the outgoing request; raises before any nonce or lease."""
        out = Outgoing(method if method.isupper() else method.upper(), url, content_type, body)
        if self.origin is not None and origin_of(url) != self.origin:
            raise OriginError("this auth is pinned to another origin; it signs nothing else")
        if self.digests and len(body) >= DIGEST_FROM:
            scheme = self.scheme
            assert isinstance(scheme, BodyDigestScheme)
            return scheme.digested(out, self.signer)
        self.scheme.check(out, with_nonce=self.with_nonce)
        return out

    def call(self, method: str, url: str, content_type: str | None, body: str | bytes | None) -> Call:
        """Check a request whose whole body is known and return its :class:`Call`."""
        if type(body) is bytes:
            data = body
        elif type(body) is str:
            try:
                data = body.encode(self.body_encoding)
            except UnicodeEncodeError:
                data = encode_body(body, self.body_encoding)  # raises the error that says what to do
        else:
            data = encode_body(body, self.body_encoding)
        return Call(self, self.check(method, url, content_type, data))

    def begin(
        self, method: str, url: str, content_type: str | None, body: str | bytes | None, *, active: bool = True
    ) -> tuple[Call, SignedRequest]:
        """Steps 1 to 3 in one: check the request, take the lease (blocking), sign; the call and what to send.

        ``active``: as for :meth:`Call.hold`. A failure to sign ends the hold
        before it is raised.
        """
        begun = self._begin(method, url, content_type, body, active, True)
        if begun is not None:
            return begun
        call = self.call(method, url, content_type, body)
        return call, call.hold_and_sign(active=active)

    def begin_now(
        self, method: str, url: str, content_type: str | None, body: str | bytes | None
    ) -> tuple[Call, SignedRequest | None]:
        """As :meth:`begin`, for asyncio adapters: held and signed only if nothing had to wait.

        ``None`` instead of the signed request: the call is checked but not
        signed, and maybe not held; ``await call.hold_async()`` (nothing when held
        already), then sign (``sign_async`` unless ``call.policy.in_process``).
        """
        begun = self._begin(method, url, content_type, body, True, False)
        if begun is not None:
            return begun
        call = self.call(method, url, content_type, body)
        if not call.hold_now() or not call.policy.in_process:
            return call, None
        return call, call.hold_and_sign()

    def _begin(
        self, method: str, url: str, content_type: str | None, body: str | bytes | None, active: bool, blocking: bool
    ) -> tuple[Call, SignedRequest] | None:
        """:meth:`begin` for the :attr:`_plain` configuration and a small body; ``None`` for the others.

        What call(), hold() and sign() do there, in their order: check, lease, nonce, signature.
        Those methods' code, inline: a method replaced on ``Policy``, ``Call`` or
        ``BodyDigestScheme`` themselves (a monkeypatch) is not called here, where a
        subclass is (it is not :attr:`_plain`); change behaviour by subclassing.
        """
        if not self._plain:
            return None
        if type(body) is not bytes:  # bytes first: what every adapter but a str body gives
            if type(body) is not str:
                return None
            try:
                body = body.encode(self.body_encoding)
            except UnicodeEncodeError:
                return None  # call() raises the error that says what to do
        if len(body) >= DIGEST_FROM:
            return None
        if not method.isupper():
            method = method.upper()
        if method in _BODILESS:
            return None  # call() raises the error
        scheme: BodyDigestScheme = self.scheme  # type: ignore[assignment]  # _plain: exactly one
        # scheme.check() with a nonce, for a method with a body; check_form()'s first answer
        # inline (a form's Content-Type seen before, a body with neither the field's name nor
        # an escape in it: no field can be the nonce field).
        if _MEDIA_TYPES.get(content_type) != FORM_CONTENT_TYPE or scheme._field in body or b"%" in body:  # type: ignore[arg-type]
            check_form(body, content_type, scheme.nonce_field)
        # As Outgoing(...) builds it (a NamedTuple's own __new__ calls tuple.__new__).
        out: Outgoing = _new(Outgoing, (method, url, content_type, body, None))
        call = Call(self, out)
        lease = self.lease
        assert lease is not None
        if blocking:
            hold = lease.acquire(hold_timeout=self.lease_timeout, active=active, collectable=not active)
        else:
            free = lease.try_acquire(hold_timeout=self.lease_timeout)
            if free is None:
                return None
            hold = free
        call._hold = hold
        try:
            try:
                # next_nonce() for a ClockNonce (always an int).
                nonce = self.nonce()  # type: ignore[misc]
            except NonceError:
                raise
            except Exception as exc:
                raise NonceError(f"the nonce source failed: {type(exc).__name__}") from exc
            if type(nonce) is int and body and body[-1] != 38:  # 38: "&"
                # scheme.sign()'s first case and headers(), inline (exactly BodyDigestScheme:
                # no subclass adds headers): the nonce field appended in one copy of the body.
                data = b"%b&%b=%d" % (body, scheme._field, nonce)
                signature = self.signer.sign(data)
                key = self.key
                headers = (
                    {scheme.signature_header: signature}
                    if key is None
                    else {scheme.key_header: key, scheme.signature_header: signature}
                )
                form_type = FORM_CONTENT_TYPE if content_type is None else None
                signed = _new(SignedRequest, (url, data, headers, form_type, nonce, None))
            else:
                if type(nonce) is not int:  # ClockNonce.__call__ patched on the class: checked as next_nonce() checks
                    nonce = _checked_nonce(nonce)
                signed = scheme.sign(out, self.signer, self.key, nonce, self.clock)
        except BaseException:
            call.release()
            raise
        call.signed = signed
        return call, signed

    def stream_call(self, method: str, url: str, content_type: str | None) -> Call:
        """A call whose body is streamed and signed in chunks by the adapter (see :attr:`streams`)."""
        return Call(self, self.check(method, url, content_type, b""), streamed=True)

    def form_stream(self, method: str, url: str, content_type: str | None) -> Digester:
        """Start a streamed body that the nonce field will follow (see :attr:`digests`).

        Method, origin and content type are checked now, before the body is read;
        the adapter gives the digester the body as it reads it (the form checks
        run on it there), then makes the call with :meth:`digested_call`.
        """
        out = self.check(method, url, content_type, b"")
        scheme = self.scheme
        assert isinstance(scheme, BodyDigestScheme)
        return scheme.digester(out, self.signer)

    def digested_call(self, digester: Digester) -> Call:
        """The call of a streamed body read into ``digester``: signed with the stream's size, then the nonce field."""
        return Call(self, digester.done(streamed=True))

    def stream_headers(self, signature: str) -> dict[str, str]:
        """The headers that carry ``signature`` of a streamed body."""
        scheme = self.scheme
        assert isinstance(scheme, BodyDigestScheme)
        return scheme.headers(self.key, signature)

    def next_nonce(self) -> int | str | None:
        """Allocate a nonce (``None`` when the auth has no nonce source)."""
        nonce = self.nonce
        if nonce is None:
            return None
        # Inline, not _failures_as_nonce_error(): this runs for every request.
        try:
            value = nonce()
        except NonceError:
            raise
        except Exception as exc:
            raise NonceError(f"the nonce source failed: {type(exc).__name__}") from exc
        return value if type(value) is int else _checked_nonce(value)

    async def next_nonce_async(self) -> int | str | None:
        """As :meth:`next_nonce`, through the source's asyncio API when it has one."""
        fetch = self._next_async
        if fetch is None:
            return self.next_nonce()
        # Inline, not _failures_as_nonce_error(): this runs for every request.
        try:
            value = await fetch()
        except NonceError:
            raise
        except Exception as exc:
            raise NonceError(f"the nonce source failed: {type(exc).__name__}") from exc
        return _checked_nonce(value)

    def sign(self, out: Outgoing, nonce: int | str | None) -> SignedRequest:
        """Sign ``out`` with ``nonce``: the pure part of signing."""
        return self.scheme.sign(out, self.signer, self.key, nonce, self.clock)

    def parse_nonce_error(self, status: int, body: bytes) -> int | None:
        """The server's last nonce if the answer is the API's nonce rejection."""
        if self.nonce_error is None:
            return None
        needle = self._needle
        if needle is not None and type(body) is bytes and lacks(body, needle):
            return None  # it cannot be the answer the parser recognises (needle_of)
        try:
            floor = self.nonce_error(status, body[:BODY_LIMIT])
        except Exception:
            log.warning("the nonce-error parser failed; the response is returned as it is")
            return None
        if floor is None or isinstance(floor, bool) or not isinstance(floor, int) or floor < 0:
            return None
        return floor


def _checked_nonce(value: object) -> int | str:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise NonceError(f"the nonce source returned {type(value).__name__}; it must return an int or a str")
    return value


def _nonce_kind(nonce: object) -> int | None:
    """0: no nonce; 1: a :class:`ClockNonce` as made; 2: a function with no attribute set on it; ``None``: another.

    For each of the first three, every lookup ``Policy.__init__`` makes on the source
    (ordered? in another process? an asyncio API?) has one answer: a function with an
    empty ``__dict__`` has none of a source's members.
    """
    if nonce is None:
        return 0
    if _unaltered_clock(nonce):
        return 1
    if type(nonce) is types.FunctionType and not nonce.__dict__:
        return 2
    return None


class PolicyTemplate:
    """A :class:`Policy`'s configuration without its credentials: the policy of another key, not decided again.

    An auth class built the same way for every key (a preset called as
    ``Name(key, secret)``) decides its policy once; each later auth of the class
    gets a copy of it with its own scheme, signer, key, nonce source and lease
    (:meth:`build`). The template holds none of those of the auth it was taken
    from, so that auth's nonce source and lease go away with it as before.
    """

    __slots__ = ("_kind", "_leased", "_scheme_type", "_state")

    _PER_AUTH: Final = ("scheme", "signer", "key", "nonce", "lease", "source", "header_names", "local_clock")

    def __init__(self, policy: Policy, kind: int) -> None:
        state = dict(vars(policy))
        for name in self._PER_AUTH:
            state[name] = None
        self._state = state
        self._scheme_type = type(policy.scheme)
        self._kind = kind
        self._leased = policy.lease is not None

    def build(
        self,
        *,
        scheme: Scheme,
        signer: Signer,
        key: str | None,
        nonce: Callable[[], int | str] | None,
        lease: Lease | None,
        clock_sync: ClockSync | None,
        local_clock: Callable[[], int],
    ) -> Policy | None:
        """What ``Policy(...)`` builds with these credentials and the template's configuration.

        ``clock_sync`` and ``local_clock``: as the auth found them now (a test may have
        replaced ``time.time_ns``, or the recipe's clock sync). ``None`` where the policy
        could differ from the template (a nonce source or a lease where it had none, or
        the other way, a nonce source altered since it was made, another type of scheme,
        another clock sync): build a :class:`Policy` then.
        """
        state = self._state
        if type(scheme) is not self._scheme_type or (lease is not None) is not self._leased:
            return None
        if clock_sync is not state["clock_sync"]:
            return None
        if _nonce_kind(nonce) != self._kind:
            return None
        policy: Policy = object.__new__(Policy)
        built = policy.__dict__
        built.update(state)
        built["local_clock"] = local_clock
        built["scheme"] = scheme
        built["signer"] = signer
        built["key"] = key
        built["nonce"] = nonce
        built["lease"] = lease
        # Policy.__init__ takes a plain ClockNonce as the source (and a plain function is none).
        built["source"] = nonce if self._kind == 1 else None
        built["header_names"] = scheme.header_names
        return policy


class Call:
    """One logical call: sign, hold, decide after each response, release exactly once."""

    __slots__ = (
        "_clock",
        "_hold",
        "_hop",
        "_nonce",
        "_released",
        "_shortened",
        "out",
        "policy",
        "resent",
        "signed",
        "stamp_ms",
        "streamed",
    )

    def __init__(self, policy: Policy, out: Outgoing, *, streamed: bool = False) -> None:
        self.policy = policy
        self.out = out
        self.streamed = streamed
        self.signed: SignedRequest | None = None
        self.resent = False
        #: The timestamp the call signed last, in Unix ms (clock sync on and the scheme read its clock).
        self.stamp_ms: int | None = None
        self._clock: _ClockState | None = None
        self._hold: Hold | None = None
        #: The nonce the source allocated with its lock (``acquire_next``), for the first signature.
        self._nonce: object = None
        self._released = False
        self._shortened = False
        # _hop is set only by a redirect hop (read with getattr: most calls have none, and
        # an unset slot costs nothing per request): the URL a re-signed hop moved the call
        # to, or "" once a hop was followed stripped (its answer is not to a signed request).

    # -- ordering -------------------------------------------------------------

    @property
    def ordered(self) -> bool:
        """Whether this call takes the per-key lease (it has a nonce and ordering is on)."""
        return self.policy.lease is not None and not self.streamed

    @property
    def holding(self) -> bool:
        """Whether the call holds the lease now."""
        return self._hold is not None and not self._released

    def hold(self, *, active: bool = True) -> None:
        """Take the per-key lease (blocking this thread), and the source's cross-process lock.

        ``active=False``: the sending thread is not known yet (call :meth:`sending`),
        and the hold ends when the adapter calls :meth:`abandon` from a
        garbage-collection callback if nothing else ends it.
        """
        lease = self.policy.lease
        if lease is None or self.streamed or self._hold is not None:
            return
        hold = lease.acquire(hold_timeout=self.policy.lease_timeout, active=active, collectable=not active)
        self._hold = hold
        source = self.policy.source
        if self.policy.interprocess and not hold.nested and source is not None:
            try:
                # One step where the source offers it: the lock and the first nonce (one Redis round trip).
                acquire_next = getattr(source, "acquire_next", None)
                if acquire_next is None:
                    source.acquire(self.policy.lease_timeout)
                else:
                    with _failures_as_nonce_error("the nonce source"):
                        self._nonce = acquire_next(self.policy.lease_timeout)
            except BaseException:
                self._hold = None
                lease.release(hold)
                raise

    def hold_and_sign(self, *, active: bool = True) -> SignedRequest:
        """:meth:`hold`, then :meth:`sign`; a failure to sign ends the hold before it is raised."""
        self.hold(active=active)
        try:
            return self.sign()
        except BaseException:
            self.release()
            raise

    def hold_now(self) -> bool:
        """Take the lease if that needs no waiting; ``False``: await :meth:`hold_async` instead.

        For asyncio adapters: a free in-process lease is taken as :meth:`hold_async`
        would take it, without a coroutine. A call that takes no lease, or holds it
        already, needs nothing (``True``).
        """
        policy = self.policy
        lease = policy.lease
        if lease is None or self.streamed or self._hold is not None:
            return True
        if policy.interprocess:
            return False
        hold = lease.try_acquire(hold_timeout=policy.lease_timeout)
        if hold is None:
            return False
        self._hold = hold
        return True

    async def hold_async(self) -> None:
        """Take the lease without blocking the event loop."""
        lease = self.policy.lease
        if lease is None or self.streamed or self._hold is not None:
            return
        hold = await lease.acquire_async(hold_timeout=self.policy.lease_timeout)
        self._hold = hold
        source = self.policy.source
        if not (self.policy.interprocess and not hold.nested and source is not None):
            return
        acquire_async = getattr(source, "acquire_async", None)
        acquire_next_async = getattr(source, "acquire_next_async", None)
        try:
            if acquire_next_async is not None:
                with _failures_as_nonce_error("the nonce source"):
                    self._nonce = await acquire_next_async(self.policy.lease_timeout)
            elif acquire_async is not None:
                await acquire_async(self.policy.lease_timeout)
            else:
                # A blocking cross-process lock: wait for it in a worker thread.
                acquiring = asyncio.ensure_future(asyncio.to_thread(source.acquire, self.policy.lease_timeout))
                try:
                    await asyncio.shield(acquiring)
                except BaseException:
                    # Cancelled while the thread still waits: whenever it gets the
                    # lock, give it straight back, or it stays held until it expires.
                    acquiring.add_done_callback(_give_back(source))
                    raise
        except BaseException:
            self._hold = None
            lease.release(hold)
            raise

    def shorten_hold(self, seconds: float) -> None:
        """Let the hold end by itself after ``seconds`` unless the request is sent by then.

        For a redirect hop the client may never send (requests with
        ``allow_redirects=False`` returns the 3xx); :meth:`sending` restores the
        full bound once it is sent.
        """
        hold = self._hold
        if hold is not None and not hold.nested:
            hold.expires = min(hold.expires, time.monotonic() + seconds)
            self._shortened = True

    def sending(self) -> None:
        """The request is being sent by the calling thread now (it owns the hold)."""
        hold = self._hold
        if hold is None:
            return
        if not hold.active:
            hold.activate()
        if self._shortened:
            self._shortened = False
            hold.expires = time.monotonic() + hold.timeout

    def abandon(self) -> None:
        """End the hold from a garbage-collection callback: no locks taken, no I/O in this thread."""
        if self._released:
            return
        self._released = True
        hold, self._hold = self._hold, None
        self._nonce = None
        if hold is None or self.policy.lease is None:
            return
        self.policy.lease.abandon(hold)
        source = self.policy.source
        if self.policy.interprocess and not hold.nested and source is not None:
            threading.Thread(target=_release_quietly, args=(source,), daemon=True).start()

    def release(self) -> None:
        """End the hold, once; a failure to release a cross-process lock is logged, not raised."""
        if self._released:
            return
        self._released = True
        hold, self._hold = self._hold, None
        self._nonce = None
        if hold is None:
            return
        policy = self.policy
        if not policy.interprocess:  # the common case: only the in-process lease to end
            assert policy.lease is not None
            policy.lease.release(hold)
            return
        try:
            source = self.policy.source
            if self.policy.interprocess and not hold.nested and source is not None and not _deferred(source):
                source.release()
        except Exception as exc:  # the response of an executed call must not be lost
            _release_failed(exc)
        finally:
            assert self.policy.lease is not None
            self.policy.lease.release(hold)

    async def release_async(self) -> None:
        """As :meth:`release`, through the source's asyncio API when it has one."""
        if not self.policy.interprocess:
            self.release()  # no cross-process lock: nothing to wait for
            return
        source = self.policy.source
        release_async = getattr(source, "release_async", None)
        hold = self._hold
        if self._released or hold is None or release_async is None or hold.nested or not self.policy.interprocess:
            self.release()
            return
        self._released = True
        self._hold = None
        self._nonce = None
        try:
            if not _deferred(source):
                await release_async()
        except Exception as exc:  # the response of an executed call must not be lost
            _release_failed(exc)
        finally:
            assert self.policy.lease is not None
            self.policy.lease.release(hold)

    # -- signing --------------------------------------------------------------

    def sign(self, url: str | None = None) -> SignedRequest:
        """Allocate a nonce and sign (for ``url`` when a redirect moved the call).

        A call moved by a redirect stays there: a re-sign after the hop's answer
        (a nonce rejection) goes to the hop's URL, not back to the first one.
        """
        if url is not None:
            self._hop = url
        elif getattr(self, "_hop", None):
            url = self._hop
        out = self.out if url is None else self.out._replace(url=url)
        policy = self.policy
        source = policy.nonce
        nonce: int | str | None = None
        if self._nonce is not None:
            nonce = self._taken_nonce()  # allocated with the cross-process lock (acquire_next)
        if nonce is None and source is not None:
            nonce = policy.next_nonce()
        if policy.clock_sync is None:  # the common case, without the _sign() layer
            signed = policy.scheme.sign(out, policy.signer, policy.key, nonce, policy.clock)
        else:
            signed = self._sign(out, nonce)
        self.signed = signed
        return signed

    async def sign_async(self, url: str | None = None) -> SignedRequest:
        """As :meth:`sign`, allocating the nonce without blocking the event loop."""
        if url is not None:
            self._hop = url
        elif getattr(self, "_hop", None):
            url = self._hop
        out = self.out if url is None else self.out._replace(url=url)
        nonce = self._taken_nonce()
        self.signed = self._sign(out, await self.policy.next_nonce_async() if nonce is None else nonce)
        return self.signed

    def _taken_nonce(self) -> int | str | None:
        """The nonce allocated with the lock, once (re-signing allocates new ones)."""
        nonce, self._nonce = self._nonce, None
        if nonce is None or not self.holding:
            return None
        return _checked_nonce(nonce)

    def _sign(self, out: Outgoing, nonce: int | str | None) -> SignedRequest:
        policy = self.policy
        if policy.clock_sync is None:
            return policy.scheme.sign(out, policy.signer, policy.key, nonce, policy.clock)
        # Clock sync: sign with the server's learned clock for this origin, and
        # remember what was signed and when, to learn from a refusal.
        try:
            origin = origin_of(out.url)
        except OriginError:
            self._clock = None
            return policy.sign(out, nonce)
        state = _ClockState(origin, *server_clocks.learned(origin), policy.local_clock)
        self._clock = state
        signed = policy.scheme.sign(out, policy.signer, policy.key, nonce, state.read_ms)
        self.stamp_ms = state.stamp_ms
        return signed

    # -- after a response ---------------------------------------------------------

    @property
    def wants_date(self) -> bool:
        """Whether :meth:`after` uses the response's ``Date`` header (clock sync is on)."""
        return self.policy.clock_sync is not None

    def wants_body(self, status: int, headers: Mapping[str, str] | Any, *, buffered: bool = False) -> bool:
        """Whether the body must be read to decide (only a small one, to find a nonce error).

        ``buffered``: the client reads the whole body anyway (requests without
        ``stream=True``), so reading it costs nothing. Otherwise a body is read
        only if its length is known and at most :data:`BODY_LIMIT`, or, without a
        length, for an error status: a streamed success is never held up.
        """
        if self.resent or self.streamed or status not in self.policy.answer_statuses:  # reads(), inline
            return False
        return buffered or self.body_fits(status, _header(headers, "content-length"))

    def reads(self, status: int) -> bool:
        """Whether an answer with ``status`` may need its body to decide (the cheap half of :meth:`wants_body`)."""
        return not (self.resent or self.streamed or status not in self.policy.answer_statuses)

    def wants_length(self, status: int, length: str | None) -> bool:
        """:meth:`wants_body` (unbuffered) given the Content-Length value (``None``: absent), in one call."""
        if self.resent or self.streamed or status not in self.policy.answer_statuses:  # reads(), inline
            return False
        if length is not None:  # body_fits(), inline: an adapter asks this for every response
            # Four ASCII digits at most (most answers) is below BODY_LIMIT: no strip() and int().
            if len(length) <= _SHORT_LENGTH and length.isascii() and length.isdigit():
                return True
            return _small_length(length)
        return status >= 400

    @staticmethod
    def body_fits(status: int, length: str | None) -> bool:
        """The other half of :meth:`wants_body` (unbuffered), given the Content-Length value (``None``: absent)."""
        if length is not None:
            return _small_length(length)
        return status >= 400

    def _decide(
        self, status: int, body: bytes | None, date: str | None, resent_bytes: ResentBytes = False
    ) -> tuple[Action, int | None]:
        policy = self.policy
        if policy.clock_sync is None and status not in policy.resign_statuses:
            # The common answer, decided before anything else is looked at: no clock sync, not a
            # status to re-sign after, and a body that is not read or cannot hold the nonce error.
            needle = policy._needle
            if body is None or self.resent or (needle is not None and type(body) is bytes and lacks(body, needle)):
                return _DONE_NOTHING
        if getattr(self, "_hop", None) == "":
            # The answer of a hop followed stripped: nothing it says is about a signed request.
            return _DONE_NOTHING
        if resent_bytes is True or (resent_bytes and resent_bytes()):  # a callable: asked only here
            # The transport sent these bytes again (urllib3's Retry after a 5xx or a read error):
            # a refusal may answer the copy of a call that ran. Never run it again.
            if status in policy.resign_statuses or (body is not None and policy.parse_nonce_error(status, body)):
                log.warning("the transport sent this call's bytes more than once: it may have run; not re-signing")
            return _DONE_NOTHING
        floor = None
        if body is not None and not self.resent and policy.nonce is not None:
            floor = policy.parse_nonce_error(status, body)
        if floor is not None and self.signed is not None and self.signed.nonce == floor:
            # The server's last nonce is this call's own: the same bytes arrived twice
            # (a transport retry) and the first copy was executed. Never run it again.
            log.warning("the server already has this call's nonce %d: it was executed; not re-signing", floor)
            floor = None
        rejected = known = False
        state = self._clock
        sync = policy.clock_sync
        if sync is not None and state is not None and body is not None and not self.resent and floor is None:
            rejection = sync.parse(status, body[:BODY_LIMIT], state.stamp_ms)
            if rejection is not None:
                rejected = True
                known = state.learn_from_answer(rejection.server_ns, date, endpoint=sync.time_path is not None)
        resign = status in policy.resign_statuses and policy.nonce is not None
        if floor is None and not rejected and not resign:
            # Nothing says the call was not executed: the table's last row, without building the situation.
            return DONE, None
        situation = Situation(
            status,
            nonce_rejected=floor is not None,
            resign_status=resign,
            resent=self.resent,
            has_body=not self.streamed,
            timestamp_rejected=rejected,
            clock_known=known,
            time_endpoint=sync is not None and sync.time_path is not None,
        )
        action = decide(situation)
        if rejected and action is Action.DONE:
            log.warning("the API refused the call's timestamp and gave no server time to learn from")
        return action, floor

    def _probe(self) -> Decision:
        state, sync, signed = self._clock, self.policy.clock_sync, self.signed
        assert state is not None
        assert sync is not None
        assert sync.time_path is not None
        assert signed is not None
        state.probe_started()
        return Decision(Action.SYNC_CLOCK, probe=_same_origin_url(signed.url, sync.time_path))

    def after(
        self,
        status: int,
        body: bytes | None = None,
        *,
        date: str | None = None,
        resent_bytes: ResentBytes = False,
    ) -> Decision:
        """Decide after a final (not redirected) response; ``body`` if :meth:`wants_body` said so.

        ``date``: the response's ``Date`` header, the last resort for the
        server's clock after a timestamp refusal. ``resent_bytes``: the transport
        sent the signed bytes more than once (a retry after they may have reached
        the server): then nothing is re-signed, whatever the answer says. A
        callable is asked only when the answer could lead to a re-sign.
        """
        policy = self.policy
        if policy.clock_sync is None and status not in policy.resign_statuses:
            # _decide()'s first answer, and lacks(), inline: most responses end here.
            needle = policy._needle
            if (
                body is None
                or self.resent
                or (needle is not None and type(body) is bytes and needle not in body and b"\\" not in body)
            ):
                return _DONE
        action, floor = self._decide(status, body, date, resent_bytes)
        if action is DONE:
            return _DONE
        if action is SYNC_CLOCK:
            return self._probe()
        if action is not RESEND:
            return Decision(action)
        if floor is not None:
            self._log_floor(floor)
            self._raise_floor(floor)
        self.resent = True
        return Decision(action, self.sign())

    def probed(self, status: int | None, body: bytes | None) -> Decision:
        """After ``SYNC_CLOCK``: the time endpoint's answer (``None``, ``None`` if it failed).

        Learns the server's clock (from the answer, else from the refusal's
        ``Date`` header) and returns ``RESEND`` re-signed, or ``DONE`` when
        nothing told the server's time (the refusal is then the caller's answer).
        """
        if not self._learn_from_probe(status, body):
            return Decision(Action.DONE)
        self.resent = True
        return Decision(Action.RESEND, self.sign())

    async def probed_async(self, status: int | None, body: bytes | None) -> Decision:
        """As :meth:`probed`, allocating the nonce without blocking the event loop."""
        if not self._learn_from_probe(status, body):
            return Decision(Action.DONE)
        self.resent = True
        return Decision(Action.RESEND, await self.sign_async())

    def _learn_from_probe(self, status: int | None, body: bytes | None) -> bool:
        state, sync = self._clock, self.policy.clock_sync
        if state is None or sync is None or self.resent:
            return False
        server = None
        if status is not None and body is not None and len(body) <= BODY_LIMIT:
            server = sync.read_server_time(status, body)
        if state.learn_from_probe(server, sync.time_resolution_ns):
            return True
        log.warning("the server-time endpoint gave no time and the refusal no Date; the refusal is returned")
        return False

    async def after_async(
        self,
        status: int,
        body: bytes | None = None,
        *,
        date: str | None = None,
        resent_bytes: ResentBytes = False,
    ) -> Decision:
        """As :meth:`after`, without blocking the event loop for the nonce source."""
        action, floor = self._decide(status, body, date, resent_bytes)
        if action is DONE:
            return _DONE
        if action is SYNC_CLOCK:
            return self._probe()
        if action is not RESEND:
            return Decision(action)
        if floor is not None:
            self._log_floor(floor)
            raise_async = getattr(self.policy.nonce, "raise_floor_async", None)
            if raise_async is None:
                self._raise_floor(floor)
            else:
                with _failures_as_nonce_error("raising the nonce floor"):
                    await raise_async(floor)
        self.resent = True
        return Decision(action, await self.sign_async())

    def _log_floor(self, floor: int) -> None:
        sent = self.signed.nonce if self.signed is not None else None
        log.warning("the server rejected nonce %s; raising the nonce floor to %d and re-signing once", sent, floor)

    def _raise_floor(self, floor: int) -> None:
        raise_floor = getattr(self.policy.nonce, "raise_floor", None)
        if not callable(raise_floor):
            return
        with _failures_as_nonce_error("raising the nonce floor"):
            raise_floor(floor)

    def redirect(self, status: int, from_url: str, location: str, *, method: str | None = None) -> Decision:
        """Decide a redirect hop from ``from_url`` to the absolute ``location`` before it is sent.

        Raises :class:`~hmac_body_auth.RedirectError` for a hop that must not be
        sent; returns ``FOLLOW_SIGNED`` (with the re-signed request, the lease
        still held) or ``FOLLOW_STRIPPED`` (with the header names to remove).
        """
        action = self.check_hop(status, from_url, location, method=method)
        if action is Action.FOLLOW_SIGNED:
            return Decision(action, self.sign(location))
        return Decision(action, strip=self.policy.header_names)

    def check_hop(self, status: int, from_url: str, location: str, *, method: str | None = None) -> Action:
        """As :meth:`redirect` without signing: refuse (raise) or say which follow applies.

        ``method``: that of the request being redirected (default: the call's),
        which a hop after a 301-303 turned into ``GET``: a 307 of that ``GET``
        resends no body. A hop followed stripped ends what the call decides: its
        answer is not to a signed request (:meth:`after` says ``DONE``).
        """
        try:
            same = origin_of(location) == origin_of(from_url)
        except OriginError:
            same = False
        resends = status in BODY_KEPT and (method or self.out.method).upper() not in ("GET", "HEAD")
        situation = Situation(status, redirect=True, same_origin=same, has_body=not self.streamed, resends_body=resends)
        action = decide(situation)
        if action is Action.REFUSE:
            raise RedirectError(_refusal(status, same))
        if action is Action.FOLLOW_STRIPPED:
            self._hop = ""
        return action


class _ClockState:
    """What one call signed with clock sync on, and how to learn from the answer."""

    __slots__ = ("date", "generation", "local", "offset", "origin", "probe_ns", "received_ns", "sent_ns", "stamp_ms")

    def __init__(self, origin: Origin, offset: int, generation: int, local: Callable[[], int]) -> None:
        self.origin = origin
        self.offset = offset
        self.generation = generation
        self.local = local
        self.sent_ns: int | None = None
        self.stamp_ms: int | None = None
        self.received_ns = 0
        self.probe_ns = 0
        self.date: str | None = None

    def read_ms(self) -> int:
        """The scheme's clock: the server's learned time in ms; the first reading is remembered."""
        now = self.local()
        stamp = (now + self.offset) // 1_000_000
        if self.sent_ns is None:
            self.sent_ns, self.stamp_ms = now, stamp
        return stamp

    def learn_from_answer(self, server_ns: int | None, date: str | None, *, endpoint: bool) -> bool:
        """After a refusal: whether the server's clock is now known (``False``: ask the endpoint)."""
        self.received_ns = self.local()
        self.date = date
        sent = self.sent_ns if self.sent_ns is not None else self.received_ns
        if server_ns is not None:
            return self._learn(midpoint_offset(server_ns, sent, self.received_ns, 1_000_000), "the refusal")
        if server_clocks.generation(self.origin) != self.generation:
            return True  # another call learned the clock after this one was signed
        return not endpoint and self._learn_from_date()

    def probe_started(self) -> None:
        self.probe_ns = self.local()

    def learn_from_probe(self, server_ns: int | None, resolution_ns: int) -> bool:
        if server_ns is not None:
            offset = midpoint_offset(server_ns, self.probe_ns, self.local(), resolution_ns)
            if self._learn(offset, "the server-time endpoint"):
                return True
        return self._learn_from_date()

    def _learn_from_date(self) -> bool:
        date_ns = date_header_ns(self.date)
        if date_ns is None:
            return False
        sent = self.sent_ns if self.sent_ns is not None else self.received_ns
        return self._learn(midpoint_offset(date_ns, sent, self.received_ns, 10**9), "the Date header")

    def _learn(self, offset: int, source: str) -> bool:
        return server_clocks.learn(self.origin, offset, source)


def _same_origin_url(url: str, path: str) -> str:
    """``path`` on ``url``'s origin, without userinfo, query or fragment (nothing of the call)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], path, "", ""))


@contextlib.contextmanager
def _failures_as_nonce_error(what: str) -> Iterator[None]:
    # A nonce source's own error type (redis, OSError, ...) becomes a NonceError
    # that names the step, never the source's message (it may hold a URL).
    try:
        yield
    except NonceError:
        raise
    except Exception as exc:
        raise NonceError(f"{what} failed: {type(exc).__name__}") from exc


def _release_failed(exc: Exception) -> None:
    log.warning("could not release the cross-process nonce lock (%s); it expires by itself", type(exc).__name__)


def _refusal(status: int, same_origin: bool) -> str:
    if not same_origin:
        return (
            f"a {status} redirect to another origin would carry the key and signature there; "
            "nothing was sent to it (follow it yourself with a new auth if you trust it)"
        )
    return f"a {status} redirect would resend a streamed body that cannot be signed again; nothing was sent"


def _deferred(source: OrderedNonceSource | None) -> bool:
    """Whether the source took the lock back for its next request (``defer_release``): nothing to send now."""
    defer = getattr(source, "defer_release", None)
    return defer is not None and bool(defer())


def _release_quietly(source: OrderedNonceSource) -> None:
    try:
        source.release()
    except Exception as exc:  # nobody to report to but the log; the lock expires by itself
        _release_failed(exc)


def _give_back(source: OrderedNonceSource) -> Callable[[asyncio.Future[None]], None]:
    def done(future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:
            source.release()

    return done
