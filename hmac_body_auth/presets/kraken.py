"""Kraken spot REST private endpoints (``POST https://api.kraken.com/0/private/<Method>``).

Docs: https://docs.kraken.com/api/docs/guides/spot-rest-auth (also served as
https://docs.kraken.com/exchange/guides/rest/authentication).

Each private call is a form-encoded POST whose body carries ``nonce``, an
unsigned 64-bit integer that must increase with every call of the key. The
``API-Key`` header carries the key and ``API-Sign`` the signature::

    API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + postdata)))

where ``uri_path`` is the path starting at ``/0/private`` and ``postdata`` the
exact form body, nonce included. The auth puts ``nonce=N`` first in the body (as
the documented example and most clients do), so the signature covers exactly
the bytes that go on the wire. A stale nonce is answered with
``{"error": ["EAPI:Invalid nonce"]}``: the call was not executed, so the auth
re-signs once with a fresh nonce.
"""

from __future__ import annotations

import hashlib

from ..nonces import ClockNonce
from ..recipe import Field, Header, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import json_answer

__all__ = ["Kraken", "KrakenVerifier", "kraken_nonce_error"]

_NONCE_ERROR = "EAPI:Invalid nonce"


def kraken_nonce_error(status: int, body: bytes) -> int | None:
    """Recognise Kraken's ``{"error": ["EAPI:Invalid nonce"]}`` answer: 0 (re-sign with a fresh nonce), else ``None``.

    Kraken answers it with HTTP 200, so only that shape counts: a JSON object
    (strict UTF-8, at most 64 KiB) with nothing but an ``error`` list of strings
    holding exactly that code and an absent, empty or null ``result``. A result
    that merely mentions the code (an order description, say) was executed.
    Kraken does not say which nonce it last saw, so there is no floor to raise.
    """
    answer = json_answer(body, needle=_NONCE_ERROR.encode())
    if not isinstance(answer, dict) or not answer.keys() <= {"error", "result"}:
        return None
    errors, result = answer.get("error"), answer.get("result")
    if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors) or _NONCE_ERROR not in errors:
        return None
    return 0 if result is None or result == {} else None


def _signature_base(wire: Wire) -> bytes:
    """``uri_path + SHA256(nonce + postdata)``: the bytes Kraken's HMAC covers."""
    return wire.path.encode("utf-8") + hashlib.sha256((wire.nonce or "").encode("ascii") + wire.body).digest()


RECIPE = Recipe(
    name="kraken",
    title="Kraken",
    doc="https://docs.kraken.com/api/docs/guides/spot-rest-auth",
    origin="https://api.kraken.com",
    env_prefix="KRAKEN",
    algorithm="sha512",
    digest_encoding="base64",
    secret_encoding="base64",
    message=_signature_base,
    headers=(Header("API-Key", "{key}"), Header("API-Sign", "{signature}")),
    fields=(Field("nonce", "{nonce}", first=True),),
    bodies=frozenset({"form"}),
    methods=frozenset({"POST"}),
    query=False,
    nonce=lambda key: ClockNonce.shared(key, unit="ms"),
    nonce_error=kraken_nonce_error,
)


class Kraken(RecipeAuth):
    """Auth for Kraken's spot REST private endpoints.

    Use it as ``auth=`` with requests or httpx and send the parameters as a
    form (``data={"pair": "XBTUSD", ...}``); the auth adds the nonce.

    Args:
        key: the API key (``API-Key`` header).
        secret: the private key, base64 as Kraken shows it.
        nonce: a zero-argument callable returning an increasing int; by default
            the process-wide millisecond clock nonce of this key
            (``max(now_ms, last + 1)``), shared by every auth object of the key.
            Milliseconds are what Kraken's example and most clients use, so a key
            can move between them and this package.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``ordered=False``, ``lease_timeout=`` or ``origin=``.

    """

    recipe = RECIPE


class KrakenVerifier(RecipeVerifier):
    """Verify Kraken-signed requests as Kraken does (for tests and API providers).

    Args:
        secrets: API key -> private key (base64).

    """

    recipe = RECIPE
