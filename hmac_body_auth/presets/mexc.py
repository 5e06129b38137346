"""MEXC spot v3 ``SIGNED`` endpoints (``https://api.mexc.com/api/v3/...``).

Docs: https://mexcdevelop.github.io/apidocs/spot_v3_en/#signed; official SDK
mexcdevelop/mexc-api-sdk 1.0.0 @ e2559d4b, ``src/modules/base.ts`` ``signRequest`` (the spec:
tests/vectors/generate_mexc.py). Binance's scheme (:mod:`hmac_body_auth.presets.binance`): the key
in ``X-MEXC-APIKEY``, ``signature`` the lowercase hex HMAC-SHA256 of ``totalParams`` (the query as
sent, then the form body). The docs allow a JSON body without saying how it is signed: refused.
MEXC refuses a call without a ``Content-Type`` (code 700013, as users report it): a request without
a body goes with ``application/json``, as the SDK sends.

Clock sync: code ``700003`` "Timestamp for this request is outside of the recvWindow." (HTTP 400,
as ccxt #22619 reports it), https://mexcdevelop.github.io/apidocs/spot_v3_en/#timing-security.
Server time: ``GET /api/v3/time``, ``{"serverTime": 1645539742000}``.
"""

from __future__ import annotations

import functools

from .._clocksync import ClockSync
from ..recipe import MILLISECONDS, Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import Refusal, TimeMember
from .binance import RECV_WINDOW, TOTAL_PARAMS_FIELDS, form_or_query_check

__all__ = ["MEXC", "MEXCVerifier", "mexc_clock_sync"]

# Exactly ``{"code": 700003, "msg": "..."}`` (HTTP 400); 700002 (signature) and the rest are not.
_timestamp_rejection = Refusal(frozenset({400}), {"code": 700003}, text=("msg",), only=True)


def mexc_clock_sync(recv_window: int | None = None) -> ClockSync:
    """MEXC's clock-sync recipe for the ``recvWindow`` the auth sends (``None``: MEXC's default, 5000 ms)."""
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({400}),
        time_path="/api/v3/time",
        server_time=TimeMember(("serverTime",)),
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
    """Auth for MEXC spot v3 ``SIGNED`` endpoints: ``MEXC(key, secret, recv_window=None)``; see docs/presets.md#mexc."""

    recipe = RECIPE


class MEXCVerifier(RecipeVerifier):
    """Verify MEXC ``SIGNED`` requests on the server side (``totalParams`` without ``signature``)."""

    recipe = RECIPE
