"""Binance USD-M futures ``SIGNED`` endpoints (``https://fapi.binance.com/fapi/...``).

Scheme (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info,
"SIGNED (TRADE and USER_DATA) Endpoint Security"; the official SDKs
binance-futures-connector 4.2.0 and binance-sdk-derivatives-trading-usds-futures 18.1.0
with binance-common 4.7.0, as tests/vectors/generate_binance_futures.py records them):
Binance spot's (:mod:`hmac_body_auth.presets.binance`) on another host. The key goes in
``X-MBX-APIKEY``; ``signature`` is the hex HMAC-SHA256 of ``totalParams``, the query
string followed by the form body with no ``&`` between them, as sent. The auth appends
``recvWindow`` (if configured and not given), ``timestamp`` (Unix ms) then ``signature``
to the body when there is one, else to the query string. JSON bodies are refused.

Testnet: https://testnet.binancefuture.com (the docs' "REST baseurl for testnet"), or
binance-common's demo host https://demo-fapi.binance.com: ``testnet=True``. Keys work
in one environment only, so a request to the other one's host is refused (OriginError).

Clock sync (:func:`binance_futures_clock_sync`): a stale ``timestamp`` is refused with
HTTP 400 ``{"code": -1021, "msg": "Timestamp for this request is outside of the
recvWindow."}`` ("-1021 INVALID_TIMESTAMP",
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code); the
server's time is ``GET /fapi/v1/time``, ``{"serverTime": 1499827319559}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from .._clocksync import ClockSync
from ..recipe import MILLISECONDS, Header, Recipe, RecipeAuth
from ._hosts import TESTNET, environment_check
from .binance import (
    RECV_WINDOW,
    TOTAL_PARAMS_FIELDS,
    BinanceVerifier,
    _server_time,
    _timestamp_rejection,
    form_or_query_check,
)

__all__ = ["BinanceFutures", "BinanceFuturesVerifier", "binance_futures_clock_sync"]

_TITLE = "Binance USD-M futures"


def binance_futures_clock_sync(recv_window: int | None = None) -> ClockSync:
    """The clock-sync recipe: spot's ``-1021`` answer (HTTP 400), ``GET /fapi/v1/time``, the window sent (5000 ms)."""
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({400}),
        time_path="/fapi/v1/time",
        server_time=_server_time,
        window_ms=5000 if recv_window is None else recv_window,
        doc="https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code",
    )


# Immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(binance_futures_clock_sync)


RECIPE = Recipe(
    name="binance-futures",
    title=_TITLE,
    doc="https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info",
    origin="https://fapi.binance.com",
    env_prefix="BINANCE_FUTURES",
    message="{params}",
    headers=(Header("X-MBX-APIKEY", "{key}"),),
    fields=TOTAL_PARAMS_FIELDS,
    bodies=frozenset({"form"}),
    timestamp=MILLISECONDS,
    check=environment_check(
        _TITLE,
        live=frozenset({"fapi.binance.com"}),
        testnet=frozenset({"testnet.binancefuture.com", "demo-fapi.binance.com"}),
        then=form_or_query_check(_TITLE),
    ),
    options=(RECV_WINDOW, TESTNET),
    clock_sync=lambda options: _cached_clock_sync(options["recv_window"]),
)


class BinanceFutures(RecipeAuth):
    """Auth for Binance USD-M futures: ``BinanceFutures(key, secret, recv_window=None, testnet=False)``.

    Parameters go in ``params=`` or a form (``data=dict``). ``recv_window``: the
    ``recvWindow`` to send (1 to 60000 ms; ``None``: not sent, Binance's 5000 applies).
    ``clock``: int nanoseconds since the Unix epoch (``time.time_ns``); ``clock_sync``: on
    ``-1021``, learn the server's clock (``GET /fapi/v1/time``), re-sign once and resend.
    """

    recipe = RECIPE


class BinanceFuturesVerifier(BinanceVerifier):
    """Verify USD-M futures ``SIGNED`` requests: ``(secrets, *, clock=None)``, with spot's timing rule given a clock."""

    recipe = RECIPE

    def __init__(self, secrets: Mapping[str, str | bytes], *, clock: Callable[[], int] | None = None) -> None:
        # Spot's constructor (secrets and clock), not the signature derived from the recipe's options.
        super().__init__(secrets, clock=clock)
