r"""HTX (Huobi) spot REST, signature version 2 (``https://api.huobi.pro/v1/...``, ``/v2/...``).

Docs: https://www.htx.com/en-us/opend/newApiPages/ "Authentication", as in
https://huobiapi.github.io/docs/spot/v1/en/#authentication; SDK: HuobiRDCenter/huobi_Python @ 7d66d883,
``huobi/utils/api_signature.py`` (spec and vectors: tests/vectors/generate_htx.py). ``Signature`` (base64
HMAC-SHA256 of ``METHOD\nhost\n/path\n`` and the query, re-encoded and sorted) and the other auth parameters go in
the query string, in the SDK's order; ``Timestamp`` is UTC ``2017-05-11T15:19:30``; a POST's JSON body is not signed.

Clock sync (:data:`HTX_CLOCK_SYNC`): code 12001's answer on Huobi's "API 安全认证变更" wiki page (``doc`` below, a
copy of Huobi's API docs; the same text in ccxt/ccxt#25931, 2025), with HTTP 200 (huobiapi/REST-API-demos#4). Its
``err-code`` is every signature error's, so the ``err-msg`` is matched exactly. Window: "less than 1 minute" (FAQ Q6;
"valid within 5 minutes" in "Signature Method"). Server time: ``GET /v1/common/timestamp``.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from .._clocksync import ClockSync
from ..recipe import ISO_SECONDS, UNRESERVED, Field, Recipe, RecipeAuth, RecipeVerifier, Wire, percent_encoded
from ._answers import Refusal, TimeMember

__all__ = ["HTX", "HTX_CLOCK_SYNC", "HTXVerifier"]

_STALE = "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间\uff0c或时间格式错误]"

HTX_CLOCK_SYNC = ClockSync(
    # Exactly the documented answer; every HTX answer is a 200, so one without its text is not parsed.
    rejection=Refusal(
        frozenset({200}),
        {"status": "error", "err-code": "api-signature-not-valid", "err-msg": _STALE, "data": None},
        only=True,
        needle=b"Invalid submission time",
    ),
    statuses=frozenset({200}),
    time_path="/v1/common/timestamp",
    server_time=TimeMember(("data",), where={"status": "ok"}),  # {"status": "ok", "data": <Unix ms>}
    window_ms=60_000,
    doc="https://github.com/jinxue447461686/Huobi-API-Docs/wiki/REST_authentication",
)
"""HTX's clock-sync recipe: the "Invalid submission time" answer (HTTP 200) and ``GET /v1/common/timestamp``."""


def _recode(text: bytes) -> str:
    """Decoded as the server reads it (``+`` is a space), then encoded as the docs say (``%20``, hex upper case)."""
    if not text.translate(None, UNRESERVED):
        return text.decode("ascii")  # nothing to decode or encode: the same text
    return percent_encoded(unquote_to_bytes(text.replace(b"+", b" "))).decode("ascii")


def _signed_query(wire: Wire) -> bytes:
    """The query's parameters but ``Signature``, re-encoded and sorted by encoded name (stable for repeats)."""
    pieces = (piece.partition(b"=") for piece in wire.query.encode("utf-8").split(b"&") if piece)
    pairs = sorted(((_recode(name), _recode(value)) for name, _, value in pieces), key=lambda pair: pair[0])
    return "&".join(f"{name}={value}" for name, value in pairs if name != "Signature").encode("ascii")


def _one_signature(wire: Wire) -> str | None:
    """The verifier's rule: no ``Signature`` left once the checked one is taken out (a copy is not signed)."""
    names = [_recode(p.partition(b"=")[0]) for p in wire.url.partition("?")[2].encode("utf-8").split(b"&") if p]
    return None if "Signature" not in names else "more than one Signature parameter"


RECIPE = Recipe(
    name="htx",
    verify_check=_one_signature,
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
    """HTX (Huobi) spot auth: ``HTX(key, secret)``; GET ``params=``, POST ``json=``. Options: docs/presets.md#htx."""

    recipe = RECIPE


class HTXVerifier(RecipeVerifier):
    """Verify HTX signature version 2 requests on the server side (the query string; the body is not signed)."""

    recipe = RECIPE
