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
  (URL-encoded) in the query string that is sent. The query is sent encoded as the
  official SDK encodes it for its signature (``polosdk/spot/rest/request.py``,
  ``encode_uri_component``, at commit c2f7c623662f5f46f5d2c2a9b1497925d42c9280): names as
  they are, values like JavaScript's ``encodeURIComponent`` (a space is ``%20``;
  ``A-Z a-z 0-9 - _ . ! ~ * ' ( )`` stay as they are), whatever the client made of them
  (requests and httpx send a space as ``+`` and ``(`` as ``%28``; 501 of 1000 random GETs
  were signed differently from the SDK before). The SDK itself hands ``params`` to
  requests, so it sends ``a+b%281%29`` while it signs ``a%20b(1)``; this auth sends what it
  signs, so the signature holds whether the server reads the query as sent or re-encodes
  its decoded values the SDK's way. The docs say the same of the WebSocket signature
  ("all parameters must be URL/UTF-8 encoded i.e. space is encoded as %20",
  https://api-docs.poloniex.com/spot/websocket/authentication).

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
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit

from .._clocksync import ClockSync
from .._core import Outgoing
from ..errors import BodyError, ConfigurationError
from ..recipe import MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import Refusal, TimeMember

__all__ = ["PoloniexV3", "PoloniexV3Verifier", "encode_query", "poloniex_v3_clock_sync"]

_TIMESTAMP_FIELD = "signTimestamp"
# What encodeURIComponent leaves as it is besides letters and digits (quote_from_bytes keeps "_.-~" always).
_URI_COMPONENT_SAFE = "!*'()"


#: Where Poloniex documents the signTimestamp refusals (400 and 408).
POLONIEX_V3_TIMESTAMP_DOC = "https://api-docs.poloniex.com/spot/api/#authentication"
#: 400: signTimestamp more than 1 s from the server's time; 408: older than the request's recvWindow.
_REFUSALS = frozenset({400, 408})


# ``{"code": 400|408, "message": "..."}`` with the same HTTP status; any other code is not.
_timestamp_rejection = Refusal(_REFUSALS, text=("message",), only=True, status_member="code")
# ``GET /timestamp``: ``{"serverTime": <Unix ms>}``.
_server_time = TimeMember(("serverTime",))


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


def _recv_window(recv_window: object) -> int | None:
    if recv_window is None:
        return None
    if isinstance(recv_window, bool) or not isinstance(recv_window, int) or recv_window <= 0:
        raise ConfigurationError("recv_window must be None or a positive number of milliseconds")
    return recv_window


def _field(piece: str) -> str:
    return piece.partition("=")[0]


def encode_query(query: str) -> str:
    """The query as polo-sdk-python signs it: names as they are, values ``encodeURIComponent``-encoded.

    Each value is decoded as a form value (``+`` is a space, ``%XX`` a byte) and encoded again
    like ``encodeURIComponent``, so ``a+b%281%29`` (requests, httpx) and ``a+b(1)`` (aiohttp)
    both become ``a%20b(1)``. The decoded bytes are kept as they are: a value that is not UTF-8
    (``%FF``) goes out as it came, never as U+FFFD. Empty pieces (``a=1&&b=2``) are dropped.
    """
    pieces = []
    for piece in query.split("&"):
        if piece:
            name, eq, value = piece.partition("=")
            raw = unquote_to_bytes(value.replace("+", " "))
            pieces.append(name + eq + quote_from_bytes(raw, safe=_URI_COMPONENT_SAFE))
    return "&".join(pieces)


def _params(wire: Wire) -> bytes:
    """``requestBody=<body>&signTimestamp=<ts>``, or the query's parameters and signTimestamp sorted by name."""
    stamp = f"{_TIMESTAMP_FIELD}={wire.timestamp}"
    if wire.body:
        return b"requestBody=" + wire.body + b"&" + stamp.encode()
    pieces = [piece for piece in wire.query.split("&") if piece]
    pieces.append(stamp)
    # Sorted by parameter name (ASCII); a stable sort keeps repeated names in their order.
    pieces.sort(key=_field)
    return "&".join(pieces).encode("utf-8")


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    """Refuse what would go unsigned and a ``signTimestamp`` of the caller's."""
    query = urlsplit(out.url).query
    if not out.body:
        if any(_field(piece) == _TIMESTAMP_FIELD for piece in query.split("&")):
            raise BodyError("the query already has signTimestamp; the auth adds it to the signature itself")
        return
    if out.method in ("GET", "HEAD"):
        raise BodyError(f"Poloniex signs the query string of a {out.method} request, so its body would go unsigned")
    if query:
        raise BodyError(
            f"Poloniex signs only the JSON body of a {out.method} request that has one, so its query string "
            "would go unsigned; put the parameters in the JSON body"
        )


# The clock-sync recipe is immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(poloniex_v3_clock_sync)

RECIPE = Recipe(
    name="poloniex-v3",
    title="Poloniex",
    doc=POLONIEX_V3_TIMESTAMP_DOC,
    origin="https://api.poloniex.com",
    env_prefix="POLONIEX_V3",
    digest_encoding="base64",
    message="{method}\n{path}\n{poloniex_params}",
    parts={"poloniex_params": _params},
    headers=(
        Header("key", "{key}"),
        Header("signTimestamp", "{timestamp}"),
        Header("signature", "{signature}"),
        Header("recvWindow", "{recv_window}", when="recv_window"),
    ),
    timestamp=MILLISECONDS,
    check=_check,
    requery=encode_query,
    options=(Option("recv_window", None, _recv_window),),
    clock_sync=lambda options: _cached_clock_sync(options["recv_window"]),
)


class PoloniexV3(RecipeAuth):
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

    recipe = RECIPE


class PoloniexV3Verifier(RecipeVerifier):
    """Verify current Poloniex spot API signatures on the server side.

    Args:
        secrets: API key -> secret.

    The verdict carries the key and ``signTimestamp`` (as ``timestamp_ms``); wrap
    it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a time window.

    """

    recipe = RECIPE
