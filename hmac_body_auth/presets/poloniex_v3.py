r"""Poloniex spot API, the current one (``https://api.poloniex.com``).

Scheme (https://api-docs.poloniex.com/spot/api#authentication, and the official
SDK https://github.com/poloniex/polo-sdk-python):

* headers ``key`` (the API key), ``signTimestamp`` (Unix milliseconds) and
  ``signature``; optionally ``recvWindow`` (ms). The also optional
  ``signatureMethod``/``signatureVersion`` headers are not sent: their defaults
  (``hmacSHA256``, ``1``) are what this auth does.
* ``signature`` is the base64 HMAC-SHA256, keyed with the secret as is, of::

      METHOD + "\n" + path + "\n" + params

  where ``params`` is, for a request with a JSON body (POST, PUT, DELETE),
  ``requestBody=<the exact body>&signTimestamp=<ts>``; and for a request without a
  body (GET, DELETE), the query parameters plus ``signTimestamp=<ts>``, sorted by
  parameter name in ASCII order and joined with ``&``, each exactly as it appears
  (URL-encoded) in the query string that is sent.

The legacy ``tradingApi`` (nonce in a form body, hex HMAC-SHA512) is
:class:`~hmac_body_auth.presets.Poloniex`. This API has no nonce, only the
timestamp, so requests need no ordering. Everything a request carries is signed:
a GET body, or a query string next to a JSON body, would not be, so both are refused.

Clock sync (:func:`poloniex_v3_clock_sync`): the authentication section
(https://api-docs.poloniex.com/spot/api/#authentication) gives the two refusals:
"400: signTimestamp is more than 1 second from poloniex system time" and "408:
request timeout as recWindow threshold has been breached" (the second only when
``recvWindow`` is sent). Poloniex errors are ``{"code": <int>, "message": "..."}``
and the general error codes are 5xx/6xx (500, 601, 602, 603, 415,
https://api-docs.poloniex.com/spot/error-code): 400 and 408 appear only there. The
docs do not say whether 400/408 is the HTTP status or the body's ``code``, nor
give the message: the strict reading requires both, the same number, and reads no
message. "More than 1 second from" is taken as written, either direction, when no
``recvWindow`` is sent. The time endpoint is ``GET /timestamp``
(https://api-docs.poloniex.com/spot/api/public/reference-data, "System Timestamp";
polo-sdk-python's ``gettimestamp``): ``{"serverTime": 1649371360000}``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._clocksync import ClockSync, TimestampRejection
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..verify import Verdict, constant_time_equal, header
from ._answers import coded_answer, milliseconds_member

__all__ = ["PoloniexV3", "PoloniexV3Scheme", "PoloniexV3Verifier", "poloniex_v3_clock_sync"]

# What the registry reads from this hand-written preset (a recipe declares them): presets.entry().
TITLE = "Poloniex v3"
DOC = "https://api-docs.poloniex.com/spot/api#authentication"
ORIGIN = "https://api.poloniex.com"
HEADER_NAMES = frozenset({"key", "signtimestamp", "signature", "recvwindow"})
SECRET_HEADER_NAMES = frozenset({"key", "signature"})

_JSON = "application/json"
_BODILESS = frozenset({"GET", "HEAD"})
_TIMESTAMP_FIELD = "signTimestamp"


#: Where Poloniex documents the signTimestamp refusals (400 and 408).
POLONIEX_V3_TIMESTAMP_DOC = "https://api-docs.poloniex.com/spot/api/#authentication"
#: 400: signTimestamp more than 1 s from the server's time; 408: older than the request's recvWindow.
_REFUSALS = frozenset({400, 408})


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """``{"code": 400|408, "message": "..."}`` with the same HTTP status; any other code is ``None``."""
    found = coded_answer(body, "code", "message") if status in _REFUSALS else None
    if found is None or type(found[0]) is not int or found[0] != status:
        return None
    return TimestampRejection(None)


def _server_time(body: bytes) -> int | None:
    """``GET /timestamp``: ``{"serverTime": <Unix ms>}`` in nanoseconds, or ``None``."""
    return milliseconds_member(body, "serverTime")


def poloniex_v3_clock_sync(recv_window: int | None = None) -> ClockSync:
    """Poloniex's clock-sync recipe: code 400/408 (same HTTP status) and ``GET /timestamp``.

    ``recv_window``: the ``recvWindow`` the auth sends (``None``: none, and then
    the 1-second rule is the window).
    """
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=_REFUSALS,
        time_path="/timestamp",
        server_time=_server_time,
        window_ms=1000 if recv_window is None else recv_window,
        doc=POLONIEX_V3_TIMESTAMP_DOC,
    )


def _validate_recv_window(recv_window: object) -> int | None:
    if recv_window is None:
        return None
    if isinstance(recv_window, bool) or not isinstance(recv_window, int) or recv_window <= 0:
        raise ConfigurationError("recv_window must be None or a positive number of milliseconds")
    return recv_window


def _field(piece: str) -> str:
    return piece.partition("=")[0]


def _prehash(method: str, url: str, body: bytes, timestamp: str) -> bytes:
    r"""``METHOD\npath\nparams`` as Poloniex signs it."""
    parts = urlsplit(url)
    head = f"{method}\n{parts.path or '/'}\n".encode()
    if body:
        return head + b"requestBody=" + body + f"&{_TIMESTAMP_FIELD}={timestamp}".encode()
    pieces = [piece for piece in parts.query.split("&") if piece]
    pieces.append(f"{_TIMESTAMP_FIELD}={timestamp}")
    # Sorted by parameter name (ASCII); a stable sort keeps repeated names in their order.
    pieces.sort(key=_field)
    return head + "&".join(pieces).encode("utf-8")


# The recipe is immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(poloniex_v3_clock_sync)


class PoloniexV3Scheme:
    r"""The Poloniex spot signature: ``base64(HMAC-SHA256(METHOD\npath\nparams))`` in headers."""

    __slots__ = ("header_names", "recv_window")

    header_names: frozenset[str]
    recv_window: int | None

    def __init__(self, *, recv_window: int | None = None) -> None:
        self.recv_window = _validate_recv_window(recv_window)
        self.header_names = HEADER_NAMES

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse what would go unsigned, a ``signTimestamp`` of the caller's, and non-JSON bodies."""
        query = urlsplit(out.url).query
        if not out.body:
            if any(_field(piece) == _TIMESTAMP_FIELD for piece in query.split("&")):
                raise BodyError("the query already has signTimestamp; the auth adds it to the signature itself")
            return
        if out.method in _BODILESS:
            raise BodyError(f"Poloniex signs the query string of a {out.method} request, so its body would go unsigned")
        if query:
            raise BodyError(
                f"Poloniex signs only the JSON body of a {out.method} request that has one, so its query string "
                "would go unsigned; put the parameters in the JSON body"
            )
        media = (out.content_type or _JSON).split(";", 1)[0].strip().lower()
        if media != _JSON:
            raise BodyError(f"Poloniex takes JSON request bodies; got Content-Type {media!r} (send json=...)")
        try:
            json.loads(out.body)
        except ValueError:
            raise BodyError("the request body is not valid JSON; Poloniex takes JSON request bodies") from None

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        r"""Sign ``METHOD\npath\nparams`` and return the ``key``/``signTimestamp``/``signature`` headers."""
        if key is None:
            raise ConfigurationError("Poloniex needs the API key in the 'key' header")
        timestamp = str(int(clock()))
        headers = {
            "key": key,
            "signTimestamp": timestamp,
            "signature": signer.sign(_prehash(out.method, out.url, out.body, timestamp)),
        }
        if self.recv_window is not None:
            headers["recvWindow"] = str(self.recv_window)
        content_type = _JSON if out.body and out.content_type is None else None
        return SignedRequest(out.url, out.body, headers, content_type, nonce)

    def __repr__(self) -> str:
        return f"PoloniexV3Scheme(recv_window={self.recv_window})"


class PoloniexV3(HmacAuth):
    """Auth for the current Poloniex spot API (``https://api.poloniex.com``).

    Args:
        key: the API key (``key`` header).
        secret: the API secret, used as is.
        recv_window: if given, sent as ``recvWindow`` (ms): Poloniex then rejects
            the request once it is older than that.
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``signTimestamp`` is sent in milliseconds.
        clock_sync: when the API refuses a call for its timestamp (code 400 or 408),
            learn the server's clock (``GET /timestamp``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://api.poloniex.com"``. A ``str`` body is encoded as UTF-8.

    """

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``POLONIEX_V3_API_KEY`` and ``POLONIEX_V3_API_SECRET``.
    env_prefix: ClassVar[str | None] = "POLONIEX_V3"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        recv_window: int | None = None,
        clock: Callable[[], int] | None = None,
        clock_sync: bool = True,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        options.setdefault("body_encoding", "utf-8")
        scheme = PoloniexV3Scheme(recv_window=recv_window)
        super().__init__(
            scheme,
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="base64",
            clock=clock,
            clock_sync=_cached_clock_sync(scheme.recv_window) if clock_sync else None,
            **options,
        )

    def _repr_fields(self) -> str:
        scheme = self._scheme
        assert isinstance(scheme, PoloniexV3Scheme)
        return f"{super()._repr_fields()}, recv_window={scheme.recv_window}"


class PoloniexV3Verifier:
    """Verify current Poloniex spot API signatures on the server side.

    Args:
        secrets: API key -> secret.

    The verdict carries the key and ``signTimestamp`` (as ``timestamp_ms``); wrap
    it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a time window.

    """

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha256", digest_encoding="base64") for key, secret in secrets.items()
        }

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute ``signature`` from the request as received."""
        key = header(headers, "key")
        if key is None:
            return Verdict(False, "missing key")
        signer = self._signers.get(key)
        if signer is None:
            return Verdict(False, "unknown key", key)
        timestamp = header(headers, "signTimestamp")
        if timestamp is None:
            return Verdict(False, "missing signTimestamp", key)
        if not timestamp.isascii() or not timestamp.isdigit():
            return Verdict(False, "bad signTimestamp", key)
        signature = header(headers, "signature")
        if signature is None:
            return Verdict(False, "missing signature", key)
        if not constant_time_equal(signer.sign(_prehash(method.upper(), url, body, timestamp)), signature):
            return Verdict(False, "bad signature", key)
        return Verdict(True, "", key, None, int(timestamp))

    def __repr__(self) -> str:
        return f"PoloniexV3Verifier(keys={len(self._signers)}, secret=***)"
