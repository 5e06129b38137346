"""Poloniex legacy trading API (``POST https://poloniex.com/tradingApi``), retired in 2022.

Docs: https://docs.poloniex.com/#http-api (legacy); the full story: docs/poloniex.md. A form POST with a
``nonce`` field increasing per key; ``Key`` carries the key and ``Sign`` the hex HMAC-SHA512 of the exact
body. A stale nonce is answered ``{"error": "Nonce must be greater than X. You provided Y."}``: not executed,
so the auth raises its nonce floor above X and re-signs once. The current API is
:class:`~hmac_body_auth.presets.PoloniexV3`.
"""

from __future__ import annotations

import re

from ..nonces import ClockNonce
from ..recipe import Field, Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import json_answer, nonce_floor, with_needle

__all__ = ["Poloniex", "PoloniexVerifier", "poloniex_nonce_error"]

_NONCE_ERROR = re.compile(r"Nonce must be greater than ([0-9]+)\. You provided ([0-9]+)\.", re.ASCII)


_NEEDLE = b"Nonce must be greater than "


@with_needle(_NEEDLE)
def poloniex_nonce_error(status: int, body: bytes) -> int | None:
    """X from exactly ``{"error": "Nonce must be greater than X. You provided Y."}`` (Y <= X), else ``None``."""
    answer = json_answer(body, needle=_NEEDLE)
    if not isinstance(answer, dict) or answer.keys() != {"error"} or not isinstance(answer["error"], str):
        return None
    match = _NONCE_ERROR.fullmatch(answer["error"])
    last, given = (nonce_floor(match[1]), nonce_floor(match[2])) if match else (None, None)
    return last if last is not None and given is not None and given <= last else None


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
    """Poloniex legacy auth: ``Poloniex(key, secret)``, POST ``data={...}``; docs/presets.md#poloniex-legacy."""

    recipe = RECIPE


class PoloniexVerifier(RecipeVerifier):
    """Server side of the Poloniex legacy scheme: ``Key``/``Sign``, hex HMAC-SHA512 of the body."""

    recipe = RECIPE
