"""Binance spot REST ``SIGNED`` endpoints (``TRADE`` and ``USER_DATA``).

Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
(and the "SIGNED Endpoint Examples for POST /api/v3/order" of
https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md).

The key goes in the ``X-MBX-APIKEY`` header. A signed request carries a
``timestamp`` parameter (Unix milliseconds), optionally ``recvWindow``, and a
``signature`` parameter: the hex HMAC-SHA256 of ``totalParams``, which is the
query string concatenated with the request body (no ``&`` between them).

Where the parameters go follows the docs: ``GET`` endpoints take everything in
the query string; ``POST``/``PUT``/``DELETE`` may use the query string, a form
body (``application/x-www-form-urlencoded``) or both. The auth appends
``recvWindow`` (if configured and not already given), ``timestamp`` and then
``signature`` as the last parameter of the body when the request has one, and
of the query string otherwise, exactly as in the documented examples 1-3.
Binance has no nonce: freshness is the timestamp and the receive window.

Clock sync (:func:`binance_clock_sync`): a ``timestamp`` outside the window is
refused with ``-1021 INVALID_TIMESTAMP`` (HTTP 400: "4XX return codes are used for
malformed requests"), "Timestamp for this request is outside of the recvWindow."
or "... was 1000ms ahead of the server's time."
(https://developers.binance.com/docs/binance-spot-api-docs/errors#-1021-invalid_timestamp;
``binance.error.ClientError: (400, -1021, ...)`` in binance-connector-python). Only the
code is read ("Codes are universal, but messages can vary"). The server's time is
``GET /api/v3/time``, ``{"serverTime": 1499827319559}`` (milliseconds).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import unquote_to_bytes

from .._auth import HmacAuth
from .._body import FORM_CONTENT_TYPE, media_type
from .._clock import milliseconds, validate_clock
from .._clocksync import ClockSync, TimestampRejection
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..verify import Verdict, header
from ._answers import coded_answer, milliseconds_member

__all__ = ["Binance", "BinanceScheme", "BinanceVerifier", "binance_clock_sync"]

# What the registry reads from this hand-written preset (a recipe declares them): presets.entry().
TITLE = "Binance"
DOC = "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security"
ORIGIN = "https://api.binance.com"
HEADER_NAMES = frozenset({"x-mbx-apikey"})

_FIXED = ("algorithm", "digest_encoding", "secret_encoding", "nonce")
_RESERVED = (b"timestamp", b"signature")
_BODILESS = frozenset({"GET", "HEAD"})


def _names(params: bytes) -> list[bytes]:
    """The decoded parameter names of a query string or form body, in order."""
    names = []
    for piece in params.split(b"&"):
        if piece:
            names.append(unquote_to_bytes(piece.partition(b"=")[0].replace(b"+", b" ")))
    return names


def _join(params: bytes, extra: bytes) -> bytes:
    if not params:
        return extra
    return params + extra if params.endswith(b"&") else params + b"&" + extra


def _split_url(url: str) -> tuple[str, str, str]:
    """``(base, query, fragment)`` of a URL, the query exactly as written."""
    rest, hash_, fragment = url.partition("#")
    base, _, query = rest.partition("?")
    return base, query, hash_ + fragment


def _validate_recv_window(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 60_000:
        # The docs: "The max cannot go beyond 60,000!"
        raise ConfigurationError("recv_window must be None or an int of milliseconds between 1 and 60000")
    return value


#: Where Binance documents ``-1021`` (and, on the same site, the timing rule and ``GET /api/v3/time``).
BINANCE_TIMESTAMP_DOC = "https://developers.binance.com/docs/binance-spot-api-docs/errors#-1021-invalid_timestamp"
_INVALID_TIMESTAMP = -1021
_DEFAULT_RECV_WINDOW = 5000


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """``{"code": -1021, "msg": "..."}`` with HTTP 400, exactly; anything else is ``None``.

    The answer carries no server time (the time endpoint gives it). Any other code
    (-1022 bad signature, -2014/-2015 bad or rejected key, ...) is not a clock problem.
    """
    found = coded_answer(body, "code", "msg") if status == 400 else None
    if found is None or type(found[0]) is not int or found[0] != _INVALID_TIMESTAMP:
        return None
    return TimestampRejection(None)


def _server_time(body: bytes) -> int | None:
    """``GET /api/v3/time``: ``{"serverTime": <Unix ms>}`` in nanoseconds, or ``None``."""
    return milliseconds_member(body, "serverTime")


def binance_clock_sync(recv_window: int | None = None) -> ClockSync:
    """Binance's clock-sync recipe: ``-1021`` (HTTP 400) and ``GET /api/v3/time``.

    ``recv_window``: the ``recvWindow`` the auth sends (``None``: Binance's default
    of 5000 ms). Binance processes a request when ``timestamp < serverTime + 1000``
    and ``serverTime - timestamp <= recvWindow`` (the docs' "Timing security").
    """
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({400}),
        time_path="/api/v3/time",
        server_time=_server_time,
        window_ms=_DEFAULT_RECV_WINDOW if recv_window is None else recv_window,
        doc=BINANCE_TIMESTAMP_DOC,
    )


# The recipe is immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(binance_clock_sync)


class BinanceScheme:
    """What Binance signs: ``totalParams`` (query string + body) with the timestamp added."""

    __slots__ = ("recv_window",)

    header_names: frozenset[str] = HEADER_NAMES

    def __init__(self, *, recv_window: int | None = None) -> None:
        self.recv_window = _validate_recv_window(recv_window)

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse bodies Binance does not take (JSON, a GET body) and parameters the auth owns."""
        kind = media_type(out.content_type)
        if out.body:
            if out.method in _BODILESS:
                raise BodyError(f"Binance takes {out.method} parameters in the query string (params=), not a body")
            if kind != FORM_CONTENT_TYPE and (kind is not None or b"=" not in out.body):
                raise BodyError(
                    f"Binance takes parameters as a query string or a form body (data=dict), not {kind or 'this body'}"
                )
        _, query, _ = _split_url(out.url)
        for name in _names(query.encode("utf-8")) + _names(out.body):
            if name in _RESERVED:
                raise BodyError(f"the request already has a {name.decode()!r} parameter; let the auth add it")

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Append recvWindow and timestamp, sign query + body, and append ``signature`` last."""
        base, query_text, fragment = _split_url(out.url)
        query = query_text.encode("utf-8")
        extra = b"timestamp=%d" % clock()
        if self.recv_window is not None and b"recvWindow" not in _names(query) + _names(out.body):
            extra = b"recvWindow=%d&" % self.recv_window + extra
        headers = {"X-MBX-APIKEY": key} if key is not None else {}
        if out.body:
            body = _join(out.body, extra)
            body += b"&signature=" + signer.sign(query + body).encode("ascii")
            content_type = FORM_CONTENT_TYPE if out.content_type is None else None
            return SignedRequest(out.url, body, headers, content_type, None)
        query = _join(query, extra)
        query += b"&signature=" + signer.sign(query).encode("ascii")
        return SignedRequest(f"{base}?{query.decode('utf-8')}{fragment}", out.body, headers, None, None)

    def __repr__(self) -> str:
        return f"BinanceScheme(recv_window={self.recv_window!r})"


class Binance(HmacAuth):
    """Auth for Binance spot ``SIGNED`` REST endpoints.

    Send ``GET`` parameters as ``params=``, and ``POST``/``PUT``/``DELETE``
    parameters as ``params=`` or a form (``data=dict``); the auth adds
    ``timestamp`` (and ``recvWindow``) and the ``signature``.

    Args:
        key: the API key (``X-MBX-APIKEY`` header).
        secret: the HMAC secret key.
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``timestamp`` is sent in milliseconds.
            Pass one corrected by the server time (``GET /api/v3/time``) if the local clock drifts.
        recv_window: the ``recvWindow`` to send, in ms (1 to 60000), or ``None``
            to let Binance use its default of 5000. A ``recvWindow`` already in
            the request's parameters wins.
        clock_sync: when the API refuses a call for its timestamp (``-1021``), learn
            the server's clock (``GET /api/v3/time``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as ``origin=``.

    """

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``BINANCE_API_KEY`` and ``BINANCE_API_SECRET``.
    env_prefix: ClassVar[str | None] = "BINANCE"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        clock: Callable[[], int] | None = None,
        recv_window: int | None = None,
        clock_sync: bool = True,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        for name in _FIXED:
            if name in options:
                raise ConfigurationError(f"Binance fixes {name}; it cannot be changed")
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        scheme = BinanceScheme(recv_window=recv_window)
        super().__init__(
            scheme,
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="hex",
            nonce=None,
            clock=clock,
            clock_sync=_cached_clock_sync(scheme.recv_window) if clock_sync else None,
            **options,
        )

    def _repr_fields(self) -> str:
        scheme = self._scheme
        assert isinstance(scheme, BinanceScheme)
        return f"{super()._repr_fields()}, recv_window={scheme.recv_window!r}"


def _without_signature(params: bytes) -> tuple[bytes, str | None]:
    """``params`` with its ``signature`` parameter removed, and that signature."""
    kept, found = [], None
    for piece in params.split(b"&"):
        if piece.startswith(b"signature="):
            found = unquote_to_bytes(piece[10:]).decode("ascii", "replace")
        else:
            kept.append(piece)
    return b"&".join(kept), found


def _param(params: bytes, name: bytes) -> str | None:
    value = None
    for piece in params.split(b"&"):
        field, _, raw = piece.partition(b"=")
        if unquote_to_bytes(field.replace(b"+", b" ")) == name:
            value = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", "replace")
    return value


class BinanceVerifier:
    """Verify Binance ``SIGNED`` requests as Binance does (for tests and API providers).

    The signature is looked for in the query string and the body; ``totalParams``
    is the query string followed by the body, each without the ``signature``
    parameter. The signature is compared case-insensitively, as the docs say.

    Args:
        secrets: API key -> secret key.
        clock: if given (int nanoseconds since the Unix epoch,
            like ``time.time_ns``), also apply Binance's timing rule (in milliseconds):
            ``timestamp < now + 1000`` and ``now - timestamp <= recvWindow`` (default 5000).

    """

    def __init__(self, secrets: Mapping[str, str | bytes], *, clock: Callable[[], int] | None = None) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha256", digest_encoding="hex") for key, secret in secrets.items()
        }
        self._clock = milliseconds(validate_clock(clock)) if clock is not None else None

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute the signature over query string + body as received."""
        key = header(headers, "X-MBX-APIKEY")
        signer = self._signers.get(key) if key is not None else None
        if signer is None:
            return Verdict(False, "unknown key", key)
        _, query_text, _ = _split_url(url)
        query, in_query = _without_signature(query_text.encode("utf-8"))
        rest, in_body = _without_signature(body)
        given = in_body if in_body is not None else in_query
        if given is None:
            return Verdict(False, "missing signature", key)
        if not signer.verify(query + rest, given):
            return Verdict(False, "bad signature", key)
        # A parameter sent in both places: the query string's wins (docs, "General Information on Endpoints").
        stamp = _param(query, b"timestamp") or _param(rest, b"timestamp")
        if stamp is None or not stamp.isascii() or not stamp.isdigit():
            return Verdict(False, "missing timestamp", key)
        timestamp = int(stamp)
        if self._clock is not None:
            window = _param(query, b"recvWindow") or _param(rest, b"recvWindow") or "5000"
            try:
                recv_window = float(window)
            except ValueError:
                return Verdict(False, "bad recvWindow", key, None, timestamp)
            now = self._clock()
            if not (timestamp < now + 1000 and now - timestamp <= recv_window):
                return Verdict(False, "timestamp outside the recvWindow", key, None, timestamp)
        return Verdict(True, "", key, None, timestamp)

    def __repr__(self) -> str:
        return f"BinanceVerifier(keys={len(self._signers)}, secret=***)"
