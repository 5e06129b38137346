"""Poloniex legacy trading API (``POST https://poloniex.com/tradingApi``).

Each call is a form POST carrying a ``nonce`` that must increase per API key;
``Key`` carries the key and ``Sign`` the hex HMAC-SHA512 of the exact body.
The API answers a stale nonce with ``{"error": "Nonce must be greater than X.
You provided Y."}``: the request was not executed, so the auth raises its
nonce floor above X and re-signs once. (The legacy API was retired in 2022; the
current one is :class:`~hmac_body_auth.presets.PoloniexV3`.)
"""

from __future__ import annotations

import re

from ..nonces import ClockNonce
from ..recipe import Field, Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import json_answer, nonce_floor

__all__ = ["Poloniex", "PoloniexVerifier", "poloniex_nonce_error"]

# The whole ``error`` member, as Poloniex wrote it; X and Y are bounded by nonce_floor().
_NONCE_ERROR = re.compile(r"Nonce must be greater than ([0-9]+)\. You provided ([0-9]+)\.", re.ASCII)


def poloniex_nonce_error(status: int, body: bytes) -> int | None:
    """Return X from Poloniex's ``{"error": "Nonce must be greater than X. You provided Y."}``, else ``None``.

    Only that exact answer counts: a JSON object (strict UTF-8, at most 64 KiB)
    whose only member ``error`` is that whole sentence, with X and Y of at most
    20 ASCII digits and Y not above X. A successful call's answer that merely
    contains the sentence (an echoed note, say) is not a nonce error: re-sending
    it would execute the call twice.
    """
    answer = json_answer(body, needle=b"Nonce must be greater than ")
    if not isinstance(answer, dict) or answer.keys() != {"error"} or not isinstance(answer["error"], str):
        return None
    match = _NONCE_ERROR.fullmatch(answer["error"])
    if match is None:
        return None
    last, given = nonce_floor(match[1]), nonce_floor(match[2])
    if last is None or given is None or given > last:
        return None
    return last


RECIPE = Recipe(
    name="poloniex",
    title="Poloniex",
    doc="https://docs.poloniex.com/#http-api (legacy trading API, retired 2022)",
    origin="https://poloniex.com",
    env_prefix="POLONIEX",
    algorithm="sha512",
    message="{body}",
    headers=(Header("Key", "{key}"), Header("Sign", "{signature}")),
    fields=(Field("nonce", "{nonce}"),),
    bodies=frozenset({"form"}),
    body_encoding="latin-1",
    nonce=ClockNonce.shared,
    nonce_error=poloniex_nonce_error,
)


class Poloniex(RecipeAuth):
    """Auth for the Poloniex legacy trading API.

    Args:
        key: the API key (``Key`` header).
        secret: the API secret.
        nonce: a zero-argument callable returning an int; by default the
            process-wide microsecond clock nonce of this key
            (``max(now_us, last + 1)``), shared by every auth object of the key.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``ordered=False`` or ``lease_timeout=``.

    """

    recipe = RECIPE


class PoloniexVerifier(RecipeVerifier):
    """Server side of the Poloniex legacy scheme: ``Key``/``Sign``, hex HMAC-SHA512 of the body."""

    recipe = RECIPE
