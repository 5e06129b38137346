"""MEXC spot v3 ``SIGNED`` endpoints (``https://api.mexc.com/api/v3/...``).

Scheme (https://mexcdevelop.github.io/apidocs/spot_v3_en/#signed; the official SDK
mexcdevelop/mexc-api-sdk 1.0.0 @ e2559d4b, ``src/modules/base.ts`` ``signRequest``),
Binance's: the key goes in ``X-MEXC-APIKEY``; a signed request carries ``timestamp``
(Unix ms), optionally ``recvWindow``, and ``signature``: the lowercase hex
HMAC-SHA256 of ``totalParams``, the query string as sent (percent-encoded) followed
by the form body, with no ``&`` between them. The auth appends ``recvWindow`` (if
configured and not given), ``timestamp`` then ``signature`` to the body when the
request has one, else to the query string (the SDK puts everything in the query).

The docs allow a JSON body without saying how it enters ``totalParams``: JSON bodies
are refused. MEXC refuses a call without a ``Content-Type`` (code 700013, as users
report it): a request without a body goes with ``application/json``, as the SDK sends.

Clock sync (:func:`mexc_clock_sync`): "if (timestamp < (serverTime + 1000) &&
(serverTime - timestamp) <= recvWindow)" else code ``700003`` "Timestamp for this
request is outside of the recvWindow." (HTTP 400, as ccxt #22619 reports it).
Server time: ``GET /api/v3/time``, ``{"serverTime": 1645539742000}``.
"""

from __future__ import annotations

import functools

from .._clocksync import ClockSync
from ..recipe import MILLISECONDS, Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import Refusal, TimeMember
from .binance import RECV_WINDOW, TOTAL_PARAMS_FIELDS, form_or_query_check

__all__ = ["MEXC", "MEXCVerifier", "mexc_clock_sync"]

_OUTSIDE_WINDOW = 700003


# ``{"code": 700003, "msg": "..."}`` with HTTP 400, exactly; 700002 (signature) and the rest are not.
_timestamp_rejection = Refusal(frozenset({400}), {"code": _OUTSIDE_WINDOW}, text=("msg",), only=True)
# ``GET /api/v3/time``: ``{"serverTime": <Unix ms>}``.
_server_time = TimeMember(("serverTime",))


def mexc_clock_sync(recv_window: int | None = None) -> ClockSync:
    """MEXC's clock-sync recipe for the ``recvWindow`` the auth sends (``None``: MEXC's default, 5000 ms)."""
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({400}),
        time_path="/api/v3/time",
        server_time=_server_time,
        window_ms=5000 if recv_window is None else recv_window,
        doc="https://mexcdevelop.github.io/apidocs/spot_v3_en/#timing-security",
    )


# Immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(mexc_clock_sync)


RECIPE = Recipe(
    name="mexc",
    title="MEXC",
    doc="https://mexcdevelop.github.io/apidocs/spot_v3_en/#signed",
    origin="https://api.mexc.com",
    env_prefix="MEXC",
    message="{params}",
    headers=(Header("X-MEXC-APIKEY", "{key}"),),
    fields=TOTAL_PARAMS_FIELDS,
    bodies=frozenset({"form"}),
    timestamp=MILLISECONDS,
    check=form_or_query_check("MEXC"),
    options=(RECV_WINDOW,),
    clock_sync=lambda options: _cached_clock_sync(options["recv_window"]),
    bodiless_content_type="application/json",
)


class MEXC(RecipeAuth):
    """Auth for MEXC spot v3 ``SIGNED`` endpoints: ``MEXC(key, secret, recv_window=None)``.

    Parameters go in ``params=`` or a form (``data=dict``). ``recv_window``: the
    ``recvWindow`` to send (1 to 60000 ms; ``None``: not sent, MEXC's 5000 applies).
    ``clock``: int nanoseconds since the Unix epoch (``time.time_ns``); ``clock_sync``: on
    code 700003, learn the server's clock (``GET /api/v3/time``), re-sign once and resend.
    """

    recipe = RECIPE


class MEXCVerifier(RecipeVerifier):
    """Verify MEXC ``SIGNED`` requests on the server side (``totalParams`` without ``signature``)."""

    recipe = RECIPE
