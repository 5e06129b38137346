"""Coinbase Exchange REST API (``https://api.exchange.coinbase.com``).

Scheme (https://docs.cdp.coinbase.com/exchange/rest-api/authentication):

* ``CB-ACCESS-KEY``: the API key; ``CB-ACCESS-PASSPHRASE``: the passphrase chosen
  when the key was created; ``CB-ACCESS-TIMESTAMP``: seconds since the Unix epoch
  (the docs allow decimals; this auth sends whole seconds, the verifier accepts both);
* ``CB-ACCESS-SIGN``: base64 HMAC-SHA256, keyed with the *base64-decoded* secret, of
  ``timestamp + METHOD + requestPath + body``, where ``requestPath`` is the path with
  the query string as sent (``/orders?status=open``) and ``body`` the raw JSON body,
  empty when there is none.

There is no nonce, only the timestamp (within 30 s of the server's clock), so
requests need no ordering.

Clock sync (:data:`COINBASE_EXCHANGE_CLOCK_SYNC`): "Your timestamp must be within
30 seconds of the API service time or your request will be considered expired
and rejected. We recommend using the time endpoint to query for the API server
time" (https://docs.cdp.coinbase.com/exchange/rest-api/authentication, "Selecting
a Timestamp"). The refusal is HTTP 401 with ``{"message":"request timestamp
expired"}`` (seen in https://github.com/danpaquin/coinbasepro-python/issues/453
and https://github.com/coinbase/coinbase-pro-node/issues/222). Coinbase errors have
no code, and 401 is also a wrong key, passphrase or signature, so the message is
read, exactly. The time endpoint is ``GET /time`` (the Exchange REST API's "Get
server time", public): ``{"iso":"2015-01-07T23:47:25.201Z","epoch":1420674445.201}``
(epoch in seconds, decimals allowed).
"""

from __future__ import annotations

import math

from .._clocksync import ClockSync
from ..recipe import SECONDS, Header, Recipe, RecipeAuth, RecipeVerifier, plain_passphrase
from ._answers import Refusal, json_answer

__all__ = ["COINBASE_EXCHANGE_CLOCK_SYNC", "CoinbaseExchange", "CoinbaseExchangeVerifier"]


#: Where Coinbase Exchange documents the 30-second rule (and the time endpoint).
COINBASE_EXCHANGE_TIMESTAMP_DOC = "https://docs.cdp.coinbase.com/exchange/rest-api/authentication"
_EXPIRED = "request timestamp expired"


# Exactly ``{"message": "request timestamp expired"}`` with HTTP 401; any other message is not.
_timestamp_rejection = Refusal(frozenset({401}), {"message": _EXPIRED}, only=True)


def _server_time(body: bytes) -> int | None:
    """``GET /time``: ``epoch`` (seconds, a JSON number) in nanoseconds, to the microsecond, or ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict):
        return None
    epoch = answer.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or not math.isfinite(epoch):
        return None
    if not 0 < epoch < 10**11:
        return None
    return round(epoch * 1_000_000) * 1000


COINBASE_EXCHANGE_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({401}),
    time_path="/time",
    server_time=_server_time,
    window_ms=30_000,
    doc=COINBASE_EXCHANGE_TIMESTAMP_DOC,
)
"""Coinbase Exchange's clock-sync recipe: "request timestamp expired" (HTTP 401) and ``GET /time``; 30 s."""


RECIPE = Recipe(
    name="coinbase-exchange",
    title="Coinbase Exchange",
    doc=COINBASE_EXCHANGE_TIMESTAMP_DOC,
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
    """Auth for the Coinbase Exchange REST API (formerly Coinbase Pro / GDAX).

    Args:
        key: the API key (``CB-ACCESS-KEY``).
        secret: the API secret as issued, base64 (it is decoded into the HMAC key).
        passphrase: the passphrase set when the key was created (required).
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``CB-ACCESS-TIMESTAMP`` is sent in whole seconds.
        clock_sync: when the API refuses a call for its timestamp ("request timestamp
            expired"), learn the server's clock (``GET /time``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://api.exchange.coinbase.com"``. A ``str`` body is encoded as UTF-8.

    """

    recipe = RECIPE


class CoinbaseExchangeVerifier(RecipeVerifier):
    """Verify Coinbase Exchange signatures (and passphrases) on the server side.

    Args:
        secrets: API key -> secret (base64, as issued).
        passphrases: API key -> passphrase; ``None`` to not check passphrases.

    The verdict carries the key and ``CB-ACCESS-TIMESTAMP`` (as ``timestamp_ms``; whole
    or decimal seconds); wrap it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a window.

    """

    recipe = RECIPE
