"""Bitget v2 REST API (``https://api.bitget.com/api/v2/...``), HMAC keys.

Docs: https://www.bitget.com/api-doc/common/signature, demo trading (``paptrading: 1``) at
https://www.bitget.com/api-doc/common/demotrading/restapi; official SDK BitgetLimited/v3-bitget-api-sdk,
``bitget-python-sdk-api`` @ 9bdab50a, ``bitget/utils.py`` (the spec: tests/vectors/generate_bitget.py).
``ACCESS-SIGN``: base64 HMAC-SHA256 of ``timestamp + METHOD + path + "?" + query + body`` (no ``?``
without a query), the query percent-decoded and sorted by key (the SDK and ccxt sign the raw text,
ccxt PR #28890). So the auth sends the query sorted by key (stably, as the SDK), non-ASCII, spaces and
``+`` as ``%XX``; the verifier signs it as it arrives. ``Content-Type: application/json`` goes on
every request, as the SDK sends it ("set to application/json for all POST request").

Clock sync: code ``40008`` "Request timestamp expired", HTTP 400 (as users report it; the status is
not on bitget.com); the window is not documented (30 s, third parties). Server time:
``GET /api/v2/public/time`` (https://www.bitget.com/api-doc/common/public/Get-Server-Time).
"""

from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes, urlsplit

from .._clocksync import ClockSync
from ..recipe import MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, Wire, boolean, plain_passphrase
from ._answers import Refusal, TimeMember

__all__ = ["BITGET_CLOCK_SYNC", "Bitget", "BitgetVerifier"]

BITGET_CLOCK_SYNC = ClockSync(
    # Code 40008 only: 40009 (sign), 40037 (key) and the rest are not clock problems.
    rejection=Refusal(frozenset({400}), {"code": "40008"}, text=("msg",)),
    statuses=frozenset({400}),
    time_path="/api/v2/public/time",
    server_time=TimeMember(("data", "serverTime"), where={"code": "00000"}, text=True),
    window_ms=30_000,
    doc="https://www.bitget.com/api-doc/common/signature",
)
"""Bitget's clock-sync recipe: code 40008 (HTTP 400) and ``GET /api/v2/public/time``."""


def _sorted_query(query: str) -> str:
    """The query sorted by key (stably), as Bitget signs it; non-ASCII, spaces and ``+`` sent as ``%XX``."""
    pairs = [p for p in quote(query.replace("+", "%20"), safe="!$%&'()*,/:;=?@[]~").split("&") if p]
    pairs.sort(key=lambda pair: unquote_to_bytes(pair.partition("=")[0]))
    return "&".join(pairs)


def _request_path(wire: Wire) -> bytes:
    """``path`` or ``path?query``, the query percent-decoded (``+`` stays ``+``)."""
    parts = urlsplit(wire.url)
    path = (parts.path or "/").encode("utf-8")
    return path + b"?" + unquote_to_bytes(parts.query) if parts.query else path


RECIPE = Recipe(
    name="bitget",
    title="Bitget",
    doc="https://www.bitget.com/api-doc/common/signature",
    origin="https://api.bitget.com",
    env_prefix="BITGET",
    digest_encoding="base64",
    message="{timestamp}{method}{request_path}{body}",
    parts={"request_path": _request_path},
    headers=(
        Header("ACCESS-KEY", "{key}"),
        Header("ACCESS-SIGN", "{signature}"),
        Header("ACCESS-TIMESTAMP", "{timestamp}"),
        Header("ACCESS-PASSPHRASE", "{passphrase}"),
        Header("paptrading", "1", when="demo"),
    ),
    timestamp=MILLISECONDS,
    passphrase=plain_passphrase,
    options=(Option("demo", False, boolean("demo")),),
    clock_sync=lambda options: BITGET_CLOCK_SYNC,
    requery=_sorted_query,
    bodiless_content_type="application/json",
)


class Bitget(RecipeAuth):
    """Auth for the Bitget v2 API: ``Bitget(key, secret, passphrase=..., demo=False)``; see docs/presets.md#bitget."""

    recipe = RECIPE


class BitgetVerifier(RecipeVerifier):
    """Verify Bitget v2 signatures (and passphrases, given ``passphrases=``) on the server side."""

    recipe = RECIPE
