r"""Poloniex spot API, the current one (``https://api.poloniex.com``).

Docs: https://api-docs.poloniex.com/spot/api#authentication; official SDK
https://github.com/poloniex/polo-sdk-python @ c2f7c623662f5f46f5d2c2a9b1497925d42c9280,
``polosdk/spot/rest/request.py`` (tests/vectors/generate_poloniex_v3_sdk.py). Headers ``key``,
``signTimestamp`` (Unix ms), ``signature`` and, if set, ``recvWindow`` (ms); ``signatureMethod`` and
``signatureVersion`` keep their defaults (``hmacSHA256``, ``1``). ``signature``: base64 HMAC-SHA256
of ``METHOD + "\n" + path + "\n" + params``, ``params`` being ``requestBody=<body>&signTimestamp=<ts>``
with a JSON body, else the query parameters and ``signTimestamp`` sorted by name (ASCII), each as
sent. The query is sent encoded as the SDK encodes what it signs (``encode_uri_component``, like
JavaScript's ``encodeURIComponent``; the SDK itself sends other bytes, see the vector file), so the
signature holds whether the server reads the query as sent or re-encodes it the SDK's way (the
docs' WebSocket page: "space is encoded as %20", https://api-docs.poloniex.com/spot/websocket/authentication).
A GET body, or a query next to a JSON body, would go unsigned: both are refused. No nonce. The
legacy ``tradingApi`` is :class:`~hmac_body_auth.presets.Poloniex`.

Clock sync (the authentication section): "400: signTimestamp is more than 1 second from poloniex
system time", "408: request timeout as recWindow threshold has been breached" (with ``recvWindow``).
The docs (error codes: https://api-docs.poloniex.com/spot/error-code) say neither whether 400/408 is
the HTTP status or the body's ``code`` nor the message: the strict reading requires both, the same
number, and reads no message. Server time: ``GET /timestamp``
(https://api-docs.poloniex.com/spot/api/public/reference-data), ``{"serverTime": 1649371360000}``.
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
#: Where Poloniex documents the signTimestamp refusals (400 and 408).
POLONIEX_V3_TIMESTAMP_DOC = "https://api-docs.poloniex.com/spot/api/#authentication"
#: 400: signTimestamp more than 1 s from the server's time; 408: older than the request's recvWindow.
_REFUSALS = frozenset({400, 408})
# ``{"code": 400|408, "message": "..."}`` with the same HTTP status; any other code is not.
_timestamp_rejection = Refusal(_REFUSALS, text=("message",), only=True, status_member="code")
_server_time = TimeMember(("serverTime",))


def poloniex_v3_clock_sync(recv_window: int | None = None) -> ClockSync:
    """Poloniex's clock-sync recipe (400/408, ``GET /timestamp``) for the ``recvWindow`` sent (``None``: 1 s)."""
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=_REFUSALS,
        time_path="/timestamp",
        server_time=_server_time,
        window_ms=1000 if recv_window is None else recv_window,
        doc=POLONIEX_V3_TIMESTAMP_DOC,
    )


# Immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(poloniex_v3_clock_sync)


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

    Each value is decoded as a form value (``+`` is a space, ``%XX`` a byte) and encoded again, so
    ``a+b%281%29`` (requests, httpx) and ``a+b(1)`` (aiohttp) both become ``a%20b(1)``. Bytes that are
    not UTF-8 (``%FF``) go out as they came, never as U+FFFD. Empty pieces (``a=1&&b=2``) are dropped.
    """
    pieces = []
    for piece in filter(None, query.split("&")):
        name, eq, value = piece.partition("=")
        # encodeURIComponent also keeps "!*'()" (quote_from_bytes keeps letters, digits and "_.-~").
        pieces.append(name + eq + quote_from_bytes(unquote_to_bytes(value.replace("+", " ")), safe="!*'()"))
    return "&".join(pieces)


def _params(wire: Wire) -> bytes:
    """``requestBody=<body>&signTimestamp=<ts>``, or the query's parameters and signTimestamp sorted by name."""
    stamp = f"{_TIMESTAMP_FIELD}={wire.timestamp}"
    if wire.body:
        return b"requestBody=" + wire.body + b"&" + stamp.encode()
    # Sorted by parameter name (ASCII); a stable sort keeps repeated names in their order.
    pieces = sorted([*filter(None, wire.query.split("&")), stamp], key=_field)
    return "&".join(pieces).encode("utf-8")


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    """Refuse what would go unsigned and a ``signTimestamp`` of the caller's."""
    query = urlsplit(out.url).query
    if not out.body:
        if any(_field(piece) == _TIMESTAMP_FIELD for piece in query.split("&")):
            raise BodyError("the query already has signTimestamp; the auth adds it to the signature itself")
    elif out.method in ("GET", "HEAD"):
        raise BodyError(f"Poloniex signs the query string of a {out.method} request, so its body would go unsigned")
    elif query:
        raise BodyError(
            f"Poloniex signs only the JSON body of a {out.method} request that has one, so its query string "
            "would go unsigned; put the parameters in the JSON body"
        )


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
    """Auth for the current Poloniex spot API (``recv_window=None``); see docs/presets.md#poloniex-v3."""

    recipe = RECIPE


class PoloniexV3Verifier(RecipeVerifier):
    """Verify current Poloniex spot API signatures on the server side."""

    recipe = RECIPE
