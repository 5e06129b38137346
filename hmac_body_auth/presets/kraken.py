"""Kraken spot REST private endpoints (``POST https://api.kraken.com/0/private/<Method>``).

Docs: https://docs.kraken.com/api/docs/guides/spot-rest-auth (= .../exchange/guides/rest/authentication); vectors:
the docs' example and ccxt (tests/vectors/generate_kraken.py). A form POST, ``nonce`` (unsigned 64-bit, increasing
per key) first in the body; ``API-Key``; ``API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path +
SHA256(nonce + body)))``. A stale nonce (HTTP 200 ``{"error": ["EAPI:Invalid nonce"]}``; not run) is re-signed once.
"""

from __future__ import annotations

import hashlib

from ..nonces import ClockNonce
from ..recipe import Field, Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import json_answer, with_needle

__all__ = ["Kraken", "KrakenVerifier", "kraken_nonce_error"]

_NONCE_ERROR = "EAPI:Invalid nonce"


@with_needle(_NONCE_ERROR.encode())
def kraken_nonce_error(status: int, body: bytes) -> int | None:
    """0 (re-sign; Kraken names no floor) for an ``error`` list with the code and no result (it ran), else ``None``."""
    answer = json_answer(body, needle=_NONCE_ERROR.encode())
    if not isinstance(answer, dict) or answer.keys() - {"error", "result"} or answer.get("result") not in (None, {}):
        return None
    errors = answer.get("error")
    return 0 if type(errors) is list and all(isinstance(e, str) for e in errors) and _NONCE_ERROR in errors else None


RECIPE = Recipe(
    name="kraken",
    title="Kraken",
    doc="https://docs.kraken.com/api/docs/guides/spot-rest-auth",
    origin="https://api.kraken.com",
    env_prefix="KRAKEN",
    algorithm="sha512",
    digest_encoding="base64",
    secret_encoding="base64",
    message=lambda w: w.path.encode() + hashlib.sha256((w.nonce or "").encode("ascii") + w.body).digest(),
    headers=(Header("API-Key", "{key}"), Header("API-Sign", "{signature}")),
    fields=(Field("nonce", "{nonce}", first=True),),
    bodies=frozenset({"form"}),
    methods=frozenset({"POST"}),
    query=False,
    nonce=lambda key: ClockNonce.shared(key, unit="ms"),
    nonce_error=kraken_nonce_error,
)


class Kraken(RecipeAuth):
    """Kraken spot REST auth: ``Kraken(key, base64_secret)``, POST ``data={...}``. Options: docs/presets.md#kraken."""

    recipe = RECIPE


class KrakenVerifier(RecipeVerifier):
    """Verify Kraken-signed requests as Kraken does: ``KrakenVerifier({key: base64_secret})``."""

    recipe = RECIPE
