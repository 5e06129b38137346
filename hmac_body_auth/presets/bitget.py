"""Bitget v2 REST API (``https://api.bitget.com/api/v2/...``), HMAC keys.

Scheme (https://www.bitget.com/api-doc/common/signature; the official SDK
BitgetLimited/v3-bitget-api-sdk, ``bitget-python-sdk-api`` @ 9bdab50a, ``bitget/utils.py``):

* ``ACCESS-SIGN``: base64 HMAC-SHA256, keyed with the secret as is, of
  ``timestamp + METHOD + path + "?" + query + body`` (no ``?`` without a query);
  ``body`` is the raw JSON body, nothing when there is none;
* ``ACCESS-KEY``, ``ACCESS-TIMESTAMP`` (Unix milliseconds), ``ACCESS-PASSPHRASE``
  (the passphrase set with the key, as is); demo trading adds ``paptrading: 1``
  (https://www.bitget.com/api-doc/common/demotrading/restapi, ``demo=True``).

The query is signed percent-decoded (``%E9%BE%99`` as ``龙``; the SDK and ccxt sign the
raw text, ccxt PR #28890) and sorted by key ("sorted in ascending alphabetical order
by key"). So that what is signed is what is sent, the auth sends the query sorted by
key (a stable sort, as the SDK's), non-ASCII and spaces percent-encoded and a ``+``
as ``%20`` (a space either way a server decodes it). The verifier signs the query
as it arrives. Bodies are JSON; ``Content-Type: application/json`` goes on every
request, as the SDK sends it ("set to application/json for all POST request").

Clock sync (:data:`BITGET_CLOCK_SYNC`): a stale timestamp is refused with code
``40008`` "Request timestamp expired", HTTP 400 (as users report it; the status is
not on bitget.com); the window is not documented (30 s, third parties). Server time:
``GET /api/v2/public/time`` (https://www.bitget.com/api-doc/common/public/Get-Server-Time).
"""

from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes, urlsplit

from .._clocksync import ClockSync
from ..recipe import MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, Wire, boolean, plain_passphrase
from ._answers import Refusal, TimeMember

__all__ = ["BITGET_CLOCK_SYNC", "Bitget", "BitgetVerifier"]

_EXPIRED = "40008"


# ``{"code": "40008", "msg": "..."}`` with HTTP 400; any other code (40009 sign, 40037 key, ...) is not.
_timestamp_rejection = Refusal(frozenset({400}), {"code": _EXPIRED}, text=("msg",))
# ``{"code": "00000", "data": {"serverTime": "<Unix ms>"}}``.
_server_time = TimeMember(("data", "serverTime"), where={"code": "00000"}, text=True)


BITGET_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({400}),
    time_path="/api/v2/public/time",
    server_time=_server_time,
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
    """Auth for the Bitget v2 REST API: ``Bitget(key, secret, passphrase=..., demo=False)``.

    ``clock``: int nanoseconds since the Unix epoch (``time.time_ns``); ``clock_sync``:
    on code 40008, learn the server's clock (``GET /api/v2/public/time``), re-sign once
    and resend (``False``: ``clock=`` only). The query is sent sorted by key.
    """

    recipe = RECIPE


class BitgetVerifier(RecipeVerifier):
    """Verify Bitget v2 signatures (and passphrases, given ``passphrases=``) on the server side."""

    recipe = RECIPE
