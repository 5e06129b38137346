r"""HTX (Huobi) spot REST, signature version 2 (``https://api.huobi.pro/v1/...``, ``/v2/...``).

Scheme (https://www.htx.com/en-us/opend/newApiPages/ "Authentication", as in
https://huobiapi.github.io/docs/spot/v1/en/#authentication; the official SDK
HuobiRDCenter/huobi_Python @ 7d66d883, ``huobi/utils/api_signature.py``): the auth
appends ``AccessKeyId``, ``SignatureVersion=2``, ``SignatureMethod=HmacSHA256``,
``Timestamp`` (UTC ``2017-05-11T15:19:30``, percent-encoded) and ``Signature`` to the
query string, in the SDK's order. ``Signature``: base64 HMAC-SHA256 of
``METHOD\nhost\n/path\n`` and every query parameter but itself, decoded and
re-encoded (``%20`` for a space, hex upper case), sorted by encoded name. A POST's
JSON body is not signed; there are no headers. Signed endpoints take GET and POST.

Clock sync (:data:`HTX_CLOCK_SYNC`): the refusal is code 12001's answer on Huobi's "API
安全认证变更" wiki page (:data:`HTX_TIMESTAMP_DOC`, a copy of Huobi's API docs wiki; the
same text in ccxt/ccxt#25931, 2025), with HTTP 200 (huobiapi/REST-API-demos#4: that
demo returns only 200 bodies). Its ``err-code`` is every signature error's, so the
``err-msg`` is matched exactly. The window: "less than 1 minute" (FAQ Q6; "valid within
5 minutes" in "Signature Method"). Server time: ``GET /v1/common/timestamp``.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes, unquote_to_bytes

from .._clocksync import ClockSync
from ..recipe import ISO_SECONDS, Field, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import Refusal, TimeMember

__all__ = ["HTX", "HTX_CLOCK_SYNC", "HTXVerifier"]

#: Where the refusal's answer is documented (Huobi's 2018 authentication page, response code 12001).
HTX_TIMESTAMP_DOC = "https://github.com/jinxue447461686/Huobi-API-Docs/wiki/REST_authentication"
_STALE = "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间\uff0c或时间格式错误]"

# Exactly the documented answer, with HTTP 200: a bad signature or key (the same err-code) is not.
# Every HTX answer is a 200: one without the message's text is not parsed.
_timestamp_rejection = Refusal(
    frozenset({200}),
    {"status": "error", "err-code": "api-signature-not-valid", "err-msg": _STALE, "data": None},
    only=True,
    needle=b"Invalid submission time",
)
# ``GET /v1/common/timestamp``: ``{"status": "ok", "data": <Unix ms>}``.
_server_time = TimeMember(("data",), where={"status": "ok"})


HTX_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({200}),
    time_path="/v1/common/timestamp",
    server_time=_server_time,
    window_ms=60_000,
    doc=HTX_TIMESTAMP_DOC,
)
"""HTX's clock-sync recipe: the "Invalid submission time" answer (HTTP 200) and ``GET /v1/common/timestamp``."""


def _recode(text: bytes) -> str:
    """Decoded as the server reads it (``+`` is a space), then encoded as the docs say (``%20``, hex upper case)."""
    return quote_from_bytes(unquote_to_bytes(text.replace(b"+", b" ")), safe="")


def _signed_query(wire: Wire) -> bytes:
    """The query's parameters but ``Signature``, re-encoded and sorted by encoded name (stable for repeats)."""
    pieces = (piece.partition(b"=") for piece in wire.query.encode("utf-8").split(b"&") if piece)
    pairs = sorted(((_recode(name), _recode(value)) for name, _, value in pieces), key=lambda pair: pair[0])
    return "&".join(f"{name}={value}" for name, value in pairs if name != "Signature").encode("ascii")


RECIPE = Recipe(
    name="htx",
    title="HTX",
    doc="https://www.htx.com/en-us/opend/newApiPages/",
    origin="https://api.huobi.pro",
    env_prefix="HTX",
    digest_encoding="base64",
    message="{method}\n{host}\n{path}\n{signed_query}",
    parts={"signed_query": _signed_query},
    headers=(),
    fields=(
        Field("AccessKeyId", "{key}", into="query", quote=True),
        Field("SignatureVersion", "2", into="query"),
        Field("SignatureMethod", "HmacSHA256", into="query"),
        Field("Timestamp", "{timestamp}", into="query", quote=True),
        Field("Signature", "{signature}", into="query", quote=True),
    ),
    methods=frozenset({"GET", "POST"}),
    timestamp=ISO_SECONDS,
    clock_sync=lambda options: HTX_CLOCK_SYNC,
)


class HTX(RecipeAuth):
    """Auth for HTX (Huobi) spot REST: ``HTX(key, secret)``; GET parameters in ``params=``, POST ones in ``json=``.

    ``clock``: int nanoseconds since the Unix epoch (``time.time_ns``), sent in whole
    seconds; ``clock_sync``: on the "Invalid submission time" answer, learn the server's
    clock (``GET /v1/common/timestamp``), re-sign once and resend.
    """

    recipe = RECIPE


class HTXVerifier(RecipeVerifier):
    """Verify HTX signature version 2 requests on the server side (the query string; the body is not signed)."""

    recipe = RECIPE
