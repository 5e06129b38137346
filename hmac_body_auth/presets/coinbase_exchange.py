"""Coinbase Exchange REST API, formerly Coinbase Pro (https://docs.cdp.coinbase.com/exchange/rest-api/authentication).

``CB-ACCESS-SIGN``: base64 HMAC-SHA256, keyed with the *base64-decoded* secret, of ``timestamp + METHOD +
requestPath + body`` (the path with the query as sent; the raw JSON body, or empty). ``CB-ACCESS-TIMESTAMP``:
Unix seconds (the docs allow decimals: sent whole, both verified); ``CB-ACCESS-KEY``, ``CB-ACCESS-PASSPHRASE``.
Clock sync: "Your timestamp must be within 30 seconds of the API service time" (the same page). The refusal
is HTTP 401 ``{"message":"request timestamp expired"}`` (danpaquin/coinbasepro-python#453,
coinbase/coinbase-pro-node#222), read exactly: Coinbase errors have no code, and 401 is also a bad key,
passphrase or signature. Server time: ``GET /time``, ``{"iso": "...", "epoch": 1420674445.201}`` (seconds).
"""

from __future__ import annotations

import math

from .._clocksync import ClockSync
from ..recipe import SECONDS, Header, Recipe, RecipeAuth, RecipeVerifier, plain_passphrase
from ._answers import Refusal, json_answer

__all__ = ["COINBASE_EXCHANGE_CLOCK_SYNC", "CoinbaseExchange", "CoinbaseExchangeVerifier"]


def _server_time(body: bytes) -> int | None:
    """``GET /time``: ``epoch`` (seconds, a JSON number) in nanoseconds, to the microsecond, or ``None``."""
    answer = json_answer(body)
    epoch = answer.get("epoch") if isinstance(answer, dict) else None
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or not math.isfinite(epoch):
        return None
    return round(epoch * 1_000_000) * 1000 if 0 < epoch < 10**11 else None


COINBASE_EXCHANGE_CLOCK_SYNC = ClockSync(
    rejection=Refusal(frozenset({401}), {"message": "request timestamp expired"}, only=True),
    statuses=frozenset({401}),
    time_path="/time",
    server_time=_server_time,
    window_ms=30_000,
    doc="https://docs.cdp.coinbase.com/exchange/rest-api/authentication",
)
"""Coinbase Exchange's clock-sync recipe: "request timestamp expired" (HTTP 401) and ``GET /time``; 30 s."""

RECIPE = Recipe(
    name="coinbase-exchange",
    title="Coinbase Exchange",
    doc="https://docs.cdp.coinbase.com/exchange/rest-api/authentication",
    origin="https://api.exchange.coinbase.com",
    env_prefix="COINBASE_EXCHANGE",
    digest_encoding="base64",
    secret_encoding="base64",
    message="{timestamp}{method}{path_query}{body}",
    headers=(
        Header("CB-ACCESS-KEY", "{key}"),
        Header("CB-ACCESS-SIGN", "{signature}"),
        Header("CB-ACCESS-TIMESTAMP", "{timestamp}"),
        Header("CB-ACCESS-PASSPHRASE", "{passphrase}"),
    ),
    timestamp=SECONDS,
    passphrase=plain_passphrase,
    clock_sync=lambda options: COINBASE_EXCHANGE_CLOCK_SYNC,
)


class CoinbaseExchange(RecipeAuth):
    """Auth for ``CoinbaseExchange(key, secret, passphrase=...)``; see docs/presets.md#coinbase-exchange."""

    recipe = RECIPE


class CoinbaseExchangeVerifier(RecipeVerifier):
    """Verify Coinbase Exchange signatures (and, given ``passphrases=``, passphrases); secrets in base64."""

    recipe = RECIPE
