"""Bitfinex API v2 authenticated endpoints (``POST https://api.bitfinex.com/v2/auth/...``).

Docs: https://docs.bitfinex.com/docs/rest-auth; vectors: ccxt and the recipe (tests/vectors/generate_bitfinex.py).
A JSON POST with ``bfx-apikey``, ``bfx-nonce`` (increasing per key; microseconds, as the docs' examples) and
``bfx-signature = hex(HMAC-SHA384(secret, "/api/" + apiPath + nonce + body))``, ``apiPath`` being the path without
its leading ``/`` and ``body`` the exact JSON sent (``{}`` when there is none, as in the docs' examples). A stale
nonce, HTTP 500 ``["error", 10114, "nonce: small"]``, was not executed: it is re-signed once.
"""

from __future__ import annotations

from ..nonces import ClockNonce
from ..recipe import Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import json_answer

__all__ = ["Bitfinex", "BitfinexVerifier", "bitfinex_nonce_error"]


def bitfinex_nonce_error(status: int, body: bytes) -> int | None:
    """0 (re-sign) for exactly ``["error", 10114, "nonce..."]`` with an error status (Bitfinex: 500), else ``None``."""
    answer = json_answer(body) if status >= 400 else None
    if not isinstance(answer, list) or len(answer) != 3 or answer[0] != "error" or type(answer[1]) is not int:
        return None
    return 0 if answer[1] == 10114 and isinstance(answer[2], str) and answer[2].startswith("nonce") else None


RECIPE = Recipe(
    name="bitfinex",
    title="Bitfinex",
    doc="https://docs.bitfinex.com/docs/rest-auth",
    origin="https://api.bitfinex.com",
    env_prefix="BITFINEX",
    algorithm="sha384",
    message="/api{path_query}{nonce}{body}",
    headers=(Header("bfx-nonce", "{nonce}"), Header("bfx-apikey", "{key}"), Header("bfx-signature", "{signature}")),
    methods=frozenset({"POST"}),
    empty_body=b"{}",
    nonce=lambda key: ClockNonce.shared(key, unit="us"),
    nonce_error=bitfinex_nonce_error,
    # The 500 of that exact answer means not executed; other 5xx answers may mean the call ran.
    nonce_error_statuses=frozenset({200, 500, *range(400, 500)}),
)


class Bitfinex(RecipeAuth):
    """Bitfinex API v2 auth: ``Bitfinex(key, secret)``, POST ``json={...}`` or nothing; docs/presets.md#bitfinex."""

    recipe = RECIPE


class BitfinexVerifier(RecipeVerifier):
    """Verify Bitfinex-signed requests: ``BitfinexVerifier({key: secret})``."""

    recipe = RECIPE
