"""Binance USD-M futures ``SIGNED`` endpoints (``https://fapi.binance.com/fapi/...``).

Docs: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info ("SIGNED
(TRADE and USER_DATA) Endpoint Security"); SDKs binance-futures-connector 4.2.0 and
binance-sdk-derivatives-trading-usds-futures 18.1.0 with binance-common 4.7.0 (the spec and the SDK
calls: tests/vectors/generate_binance_futures.py). Binance spot's scheme
(:mod:`hmac_body_auth.presets.binance`) on another host. ``testnet=True``:
https://testnet.binancefuture.com (the docs' "REST baseurl for testnet") or binance-common's demo
host https://demo-fapi.binance.com; keys work in one environment only, so a request to the other
one's host is refused (OriginError).

Clock sync: HTTP 400 ``{"code": -1021, "msg": "Timestamp for this request is outside of the
recvWindow."}`` (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code);
server time ``GET /fapi/v1/time``, ``{"serverTime": 1499827319559}``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping

from .._clocksync import ClockSync
from ..recipe import MILLISECONDS, Header, Recipe, RecipeAuth
from ._hosts import TESTNET, environment_check
from .binance import RECV_WINDOW, TOTAL_PARAMS_FIELDS, BinanceVerifier, binance_clock_sync, form_or_query_check

__all__ = ["BinanceFutures", "BinanceFuturesVerifier", "binance_futures_clock_sync"]

_TITLE = "Binance USD-M futures"


def binance_futures_clock_sync(recv_window: int | None = None) -> ClockSync:
    """Spot's recipe (the ``-1021`` answer, HTTP 400) with ``GET /fapi/v1/time``, for the ``recvWindow`` sent."""
    spot = binance_clock_sync(recv_window)  # the same window: None is Binance's 5000 ms
    doc = "https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code"
    return dataclasses.replace(spot, time_path="/fapi/v1/time", doc=doc)


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
    """Auth for Binance USD-M futures (``recv_window=``, ``testnet=``); see docs/presets.md#binance-usd-m-futures."""

    recipe = RECIPE


class BinanceFuturesVerifier(BinanceVerifier):
    """Verify USD-M futures ``SIGNED`` requests: ``(secrets, *, clock=None)``, with spot's timing rule given a clock."""

    recipe = RECIPE

    def __init__(self, secrets: Mapping[str, str | bytes], *, clock: Callable[[], int] | None = None) -> None:
        # Spot's constructor (secrets and clock), not the signature derived from the recipe's options.
        super().__init__(secrets, clock=clock)
