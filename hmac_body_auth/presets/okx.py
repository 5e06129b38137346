"""OKX v5 REST API (https://www.okx.com/docs-v5/en/#overview-rest-authentication).

``OK-ACCESS-SIGN``: base64 HMAC-SHA256 (the secret as is) of ``timestamp + METHOD + requestPath + body``
(``requestPath`` with a GET's query, ``body`` the raw JSON or empty); ``OK-ACCESS-TIMESTAMP``: UTC ISO 8601
in ms. Demo trading adds ``x-simulated-trading: 1`` (https://www.okx.com/docs-v5/en/#overview-demo-trading-services).
Clock sync: code 50102 with HTTP 401 (https://www.okx.com/docs-v5/en/#error-code-rest-api-public, "API Class");
not 50112, which users meet for a malformed timestamp, nor 50111 (key), 50113 (sign), ... Window: 30 s (the docs'
WebSocket login). Server time: ``GET /api/v5/public/time`` (the same docs, #public-data-rest-api-get-system-time).
"""

from __future__ import annotations

from .._clocksync import ClockSync
from ..recipe import ISO_MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, boolean, plain_passphrase
from ._answers import Refusal, TimeMember

__all__ = ["OKX", "OKX_CLOCK_SYNC", "OKXVerifier", "okx_timestamp"]

OKX_CLOCK_SYNC = ClockSync(
    rejection=Refusal(frozenset({401}), {"code": "50102"}, text=("msg",)),
    statuses=frozenset({401}),
    time_path="/api/v5/public/time",
    server_time=TimeMember(("data", 0, "ts"), where={"code": "0"}, text=True),
    window_ms=30_000,
    doc="https://www.okx.com/docs-v5/en/#error-code-rest-api-public",
)
"""OKX's clock-sync recipe: code 50102 (HTTP 401) and ``GET /api/v5/public/time``; a 30 s window."""

okx_timestamp = ISO_MILLISECONDS.format
"""Format Unix milliseconds as OKX wants them: ``2020-12-08T09:08:57.715Z``."""

RECIPE = Recipe(
    name="okx",
    title="OKX",
    doc="https://www.okx.com/docs-v5/en/#overview-rest-authentication",
    origin="https://www.okx.com",
    env_prefix="OKX",
    digest_encoding="base64",
    message="{timestamp}{method}{path_query}{body}",
    headers=(
        Header("OK-ACCESS-KEY", "{key}"),
        Header("OK-ACCESS-SIGN", "{signature}"),
        Header("OK-ACCESS-TIMESTAMP", "{timestamp}"),
        Header("OK-ACCESS-PASSPHRASE", "{passphrase}"),
        Header("x-simulated-trading", "1", when="demo"),
    ),
    timestamp=ISO_MILLISECONDS,
    passphrase=plain_passphrase,
    options=(Option("demo", False, boolean("demo")),),
    clock_sync=lambda options: OKX_CLOCK_SYNC,
)


class OKX(RecipeAuth):
    """Auth for the OKX v5 REST API: ``OKX(key, secret, passphrase=..., demo=False)``; see docs/presets.md#okx."""

    recipe = RECIPE


class OKXVerifier(RecipeVerifier):
    """Verify OKX v5 signatures (and, given ``passphrases=``, passphrases) on the server side."""

    recipe = RECIPE
