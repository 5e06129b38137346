"""Bitfinex API v2 authenticated endpoints (``POST https://api.bitfinex.com/v2/auth/...``).

Docs: https://docs.bitfinex.com/docs/rest-auth

Every authenticated call is a POST with a JSON body and three headers:
``bfx-apikey`` (the key), ``bfx-nonce`` (an integer that must increase with every
call of the key; microseconds are customary) and ``bfx-signature``::

    bfx-signature = hex(HMAC-SHA384(secret, "/api/" + apiPath + nonce + body))

where ``apiPath`` is the request path without its leading ``/`` (for example
``v2/auth/r/wallets``) and ``body`` the exact JSON text sent. A request without a
body is sent with the body ``{}``, as the documented examples do. Bitfinex answers
a stale nonce with HTTP 500 and ``["error", 10114, "nonce: small"]``: the call
was not executed, so the auth re-signs once with a fresh nonce.
"""

from __future__ import annotations

from ..nonces import ClockNonce
from ..recipe import Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import json_answer

__all__ = ["Bitfinex", "BitfinexVerifier", "bitfinex_nonce_error"]

_NONCE_SMALL = 10114


def bitfinex_nonce_error(status: int, body: bytes) -> int | None:
    """Recognise ``["error", 10114, "nonce: small"]``: 0 (re-sign with a fresh nonce), else ``None``.

    Only an error status (Bitfinex uses 500) with exactly that answer counts: a
    JSON array (strict UTF-8, at most 64 KiB) of ``"error"``, the integer code
    10114 and a message about the nonce; never a 2xx, a truncated body or an
    order that echoes the text.
    """
    if status < 400:
        return None
    answer = json_answer(body)
    if not isinstance(answer, list) or len(answer) != 3:
        return None
    kind, code, message = answer
    if kind != "error" or type(code) is not int or code != _NONCE_SMALL:
        return None
    return 0 if isinstance(message, str) and message.startswith("nonce") else None


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
    # Bitfinex reports ["error", 10114, "nonce: small"] with 500 (that exact answer: not executed).
    nonce_error_statuses=frozenset({200, 500, *range(400, 500)}),
)


class Bitfinex(RecipeAuth):
    """Auth for Bitfinex API v2 authenticated endpoints.

    Send the parameters as JSON (``json={...}``, or no body for ``{}``).
    A stale nonce is answered with HTTP 500 (read for a nonce error, unlike
    other 5xx answers, which may mean the call ran).

    Args:
        key: the API key (``bfx-apikey`` header).
        secret: the API secret.
        nonce: a zero-argument callable returning an increasing int; by default
            the process-wide microsecond clock nonce of this key
            (``max(now_us, last + 1)``), as Bitfinex's own examples use
            (``Date.now() * 1000``).
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``ordered=False``, ``lease_timeout=`` or ``origin=``.

    """

    recipe = RECIPE


class BitfinexVerifier(RecipeVerifier):
    """Verify Bitfinex-signed requests (for tests and API providers).

    Args:
        secrets: API key -> secret.

    """

    recipe = RECIPE
