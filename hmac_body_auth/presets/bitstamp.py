"""Bitstamp HTTP API v2, "V2 authentication method" (https://www.bitstamp.net/api/#section/Authentication).

``X-Auth-Signature``: hex HMAC-SHA256 (the secret as is) of ``X-Auth + METHOD + host + path + query +
Content-Type + nonce + timestamp + "v2" + body`` (quoted in ccxt/ccxt#6456): ``X-Auth`` is ``"BITSTAMP " +
key``, the query has no ``?``, the content type is sent and signed only with a body. ``X-Auth-Nonce``: 36
lowercase characters used once in 150 s (a random UUID: no ordering); ``X-Auth-Timestamp``: Unix ms;
``X-Auth-Version: v2``. Lowercase hex is sent (the docs' examples use both cases).
Clock sync: ``API0017`` "X-Auth-Timestamp header is out of boundaries", 150 s either way (the docs' "Possible
authentication errors"; API0018 is a format error). Its status is not documented: 403, as for its siblings
API0004 and API0005 (ccxt/ccxt#4520, gazbert/bxbot#64). No time endpoint: the answer's ``Date`` is read.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from .._body import FORM_CONTENT_TYPE, media_type
from .._clocksync import ClockSync
from .._core import Outgoing
from ..errors import BodyError, NonceError
from ..recipe import MILLISECONDS, Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import Refusal

__all__ = ["BITSTAMP_CLOCK_SYNC", "Bitstamp", "BitstampVerifier", "bitstamp_nonce"]

# A nonce as Bitstamp takes it: 36 visible ASCII characters (no space), none upper case.
_NONCE = re.compile(r"[!-~]{36}")

BITSTAMP_CLOCK_SYNC = ClockSync(
    rejection=Refusal(frozenset({403}), {"status": "error", "code": "API0017"}, text=("reason",)),
    statuses=frozenset({403}),
    window_ms=150_000,
    doc="https://www.bitstamp.net/api/#section/Authentication",
)
"""Bitstamp's clock-sync recipe: API0017 (HTTP 403); no time endpoint; a 150 s window either way."""


def bitstamp_nonce() -> str:
    """A fresh ``X-Auth-Nonce``: a random UUID, 36 lowercase characters."""
    return str(uuid.uuid4())


def _nonce(nonce: object) -> str:
    if isinstance(nonce, str) and _NONCE.fullmatch(nonce) and nonce == nonce.lower():
        return nonce
    raise NonceError("Bitstamp nonces are lowercase 36-character strings (a UUID); the nonce source gave another")


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    if not out.body and media_type(out.content_type) is not None:
        raise BodyError("Bitstamp refuses a Content-Type header on a request without a body; remove it")


RECIPE = Recipe(
    name="bitstamp",
    title="Bitstamp",
    doc="https://www.bitstamp.net/api/#section/Authentication",
    origin="https://www.bitstamp.net",
    env_prefix="BITSTAMP",
    message="BITSTAMP {key}{method}{host}{path}{query}{bitstamp_type}{nonce}{timestamp}v2{body}",
    parts={"bitstamp_type": lambda wire: (wire.content_type or FORM_CONTENT_TYPE) if wire.body else ""},
    headers=(
        Header("X-Auth", "BITSTAMP {key}"),
        Header("X-Auth-Signature", "{signature}"),
        Header("X-Auth-Nonce", "{nonce}"),
        Header("X-Auth-Timestamp", "{timestamp}"),
        Header("X-Auth-Version", "v2"),
    ),
    bodies=frozenset({"form"}),
    timestamp=MILLISECONDS,
    nonce=lambda key: bitstamp_nonce,
    nonce_text=_nonce,
    ordered=False,
    check=_check,
    verify_check=lambda wire: (
        "Content-Type header is not accepted without a body" if wire.content_type and not wire.body else None
    ),
    clock_sync=lambda options: BITSTAMP_CLOCK_SYNC,
)


class Bitstamp(RecipeAuth):
    """Auth for the Bitstamp HTTP API v2: ``Bitstamp(key, secret)``; see docs/presets.md#bitstamp."""

    recipe = RECIPE


class BitstampVerifier(RecipeVerifier):
    """Verify Bitstamp v2 signatures; the verdict's nonce is a string (a ReplayGuard refuses it twice)."""

    recipe = RECIPE
