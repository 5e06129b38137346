"""OKX v5 API (``https://www.okx.com/api/v5/...``).

Scheme (https://www.okx.com/docs-v5/en/#overview-rest-authentication):

* ``OK-ACCESS-KEY``: the API key; ``OK-ACCESS-PASSPHRASE``: the passphrase chosen
  when the key was created; ``OK-ACCESS-TIMESTAMP``: UTC ISO-8601 with milliseconds,
  e.g. ``2020-12-08T09:08:57.715Z``;
* ``OK-ACCESS-SIGN``: base64 HMAC-SHA256, keyed with the secret as is, of
  ``timestamp + METHOD + requestPath + body``. The query string of a GET belongs to
  ``requestPath`` (``/api/v5/account/balance?ccy=BTC``); ``body`` is the raw JSON
  body, empty when there is none.
* Demo trading (https://www.okx.com/docs-v5/en/#overview-demo-trading-services)
  adds the header ``x-simulated-trading: 1`` (``demo=True``).

OKX has no nonce, only the timestamp (requests older than 30 s are rejected), so
requests need no ordering.

Clock sync (:data:`OKX_CLOCK_SYNC`): OKX refuses a stale timestamp with code
``50102`` "Timestamp request expired." and HTTP 401
(https://www.okx.com/docs-v5/en/#error-code-rest-api-public, "API Class"), e.g.
``{"msg":"Timestamp request expired","code":"50102","data":[]}``. ``50112``
"Invalid OK-ACCESS-TIMESTAMP." (also 401) is not read: the docs do not say it
means "outside the window" (users meet it for a badly formatted timestamp), and
the strict reading is that it does not. The window: 30 s ("The request will
expire 30 seconds after the timestamp", the docs' WebSocket login; copies of the
REST authentication section differ on whether they state it, recent ones say a
timestamp more than 30 s from the server's time is refused with 50102); how far
ahead a timestamp may be is not stated separately. The time endpoint is ``GET /api/v5/public/time``
(https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time):
``{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}``.
"""

from __future__ import annotations

from .._clocksync import ClockSync
from ..recipe import (
    ISO_MILLISECONDS,
    Header,
    Option,
    Recipe,
    RecipeAuth,
    RecipeVerifier,
    boolean,
    plain_passphrase,
)
from ._answers import Refusal, TimeMember

__all__ = ["OKX", "OKX_CLOCK_SYNC", "OKXVerifier", "okx_timestamp"]

_EXPIRED = "50102"


#: Where OKX documents code 50102 (HTTP 401).
OKX_TIMESTAMP_DOC = "https://www.okx.com/docs-v5/en/#error-code-rest-api-public"
_EXPIRED = "50102"


# ``{"code": "50102", "msg": "..."}`` with HTTP 401; any other code (50111 key, 50113 sign, ...) is not.
_timestamp_rejection = Refusal(frozenset({401}), {"code": _EXPIRED}, text=("msg",))
# ``GET /api/v5/public/time``: ``data[0].ts``, a string of Unix ms.
_server_time = TimeMember(("data", 0, "ts"), where={"code": "0"}, text=True)


OKX_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({401}),
    time_path="/api/v5/public/time",
    server_time=_server_time,
    window_ms=30_000,
    doc=OKX_TIMESTAMP_DOC,
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
    algorithm="sha256",
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
    """Auth for the OKX v5 REST API.

    Args:
        key: the API key (``OK-ACCESS-KEY``).
        secret: the API secret, used as is.
        passphrase: the passphrase set when the key was created (required).
        demo: send ``x-simulated-trading: 1`` for OKX demo trading.
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``OK-ACCESS-TIMESTAMP`` is sent as ISO 8601 with milliseconds.
        clock_sync: when the API refuses a call for its timestamp (code 50102), learn
            the server's clock (``GET /api/v5/public/time``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://www.okx.com"``. A ``str`` body is encoded as UTF-8.

    """

    recipe = RECIPE


class OKXVerifier(RecipeVerifier):
    """Verify OKX v5 signatures (and passphrases) on the server side.

    Args:
        secrets: API key -> secret.
        passphrases: API key -> passphrase; ``None`` to not check passphrases.

    The verdict carries the key and ``OK-ACCESS-TIMESTAMP`` (as ``timestamp_ms``);
    wrap it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a window.

    """

    recipe = RECIPE
