"""Bitstamp HTTP API v2 (``https://www.bitstamp.net/api/v2/...``), "V2 authentication method".

Scheme (https://www.bitstamp.net/api/, section "Authentication", "V2 authentication method";
quoted in https://github.com/ccxt/ccxt/issues/6456):

* ``X-Auth``: ``"BITSTAMP " + api_key``;
* ``X-Auth-Nonce``: a client-generated random nonce, a lowercase 36-character
  string used only once within 150 seconds (a UUID such as
  ``f93c979d-b00d-43a9-9b9c-fd4cd9547fa6``);
* ``X-Auth-Timestamp``: the request's departure time, UTC, in milliseconds (refused
  when more than 150 seconds from the server's time);
* ``X-Auth-Version``: ``"v2"``;
* ``Content-Type``: ``application/x-www-form-urlencoded``, sent only with a body
  ("you also do not need to set Content-Type header if there is no body");
* ``X-Auth-Signature``: hex HMAC-SHA256, keyed with the secret as is, of
  ``X-Auth + METHOD + host + path + query + Content-Type + nonce + timestamp + "v2" + body``,
  where the query is the URL's query string without ``?`` (``""`` when there is none,
  as in the documentation's example) and the content type is left out when the
  body is empty. The documentation's Python example sends lowercase hex, its Java
  example uppercase; the server takes either, this auth sends lowercase.

The nonce is a UUID, not a counter: requests need no ordering, so the preset does
not serialize them unless you pass your own ``nonce`` source.

Clock sync (:data:`BITSTAMP_CLOCK_SYNC`): among the documented authentication
errors (https://www.bitstamp.net/api/, "Possible authentication errors") is
``API0017`` "X-Auth-Timestamp header is out of boundaries": "Timestamp you added in
the header is either too old or too new. Check that timestamp is within 150
second timeframe." (``API0011`` is "Wrong API key format", ``API0018`` "X-Auth-Timestamp
header is invalid", a format error: neither is read.) Bitstamp answers its
authentication errors with HTTP 403 and ``{"status": "error", "reason": "...",
"code": "API0..."}`` (as seen for API0004 and API0005 in
https://github.com/ccxt/ccxt/issues/4520 and https://github.com/gazbert/bxbot/issues/64);
the docs give no status for API0017 itself, and the strict reading takes the one
its siblings come with. Bitstamp has no server-time endpoint, so the server's
clock is read from the answer's ``Date`` header.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .._body import FORM_CONTENT_TYPE, media_type
from .._clocksync import ClockSync
from .._core import Outgoing
from ..errors import BodyError, NonceError
from ..recipe import MILLISECONDS, Header, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import Refusal

__all__ = ["BITSTAMP_CLOCK_SYNC", "Bitstamp", "BitstampVerifier", "bitstamp_nonce"]

_NONCE_LENGTH = 36


#: Where Bitstamp documents API0017 (the "Authentication" section).
BITSTAMP_TIMESTAMP_DOC = "https://www.bitstamp.net/api/#section/Authentication"
_OUT_OF_BOUNDARIES = "API0017"


# ``{"status": "error", "code": "API0017", "reason": ...}`` with HTTP 403; any other code (API0005 sign, ...) is not.
_timestamp_rejection = Refusal(frozenset({403}), {"status": "error", "code": _OUT_OF_BOUNDARIES}, text=("reason",))


BITSTAMP_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({403}),
    window_ms=150_000,
    doc=BITSTAMP_TIMESTAMP_DOC,
)
"""Bitstamp's clock-sync recipe: API0017 (HTTP 403); no time endpoint; a 150 s window either way."""


def bitstamp_nonce() -> str:
    """A fresh ``X-Auth-Nonce``: a random UUID, 36 lowercase characters."""
    return str(uuid.uuid4())


def _nonce(nonce: object) -> str:
    if (
        isinstance(nonce, str)
        and len(nonce) == _NONCE_LENGTH
        and nonce.isascii()
        and nonce.isprintable()
        and " " not in nonce
        and nonce == nonce.lower()
    ):
        return nonce
    raise NonceError("Bitstamp nonces are lowercase 36-character strings (a UUID); the nonce source gave another")


def _content_type(wire: Wire) -> str:
    """The content type is part of the message only when there is a body."""
    return (wire.content_type or FORM_CONTENT_TYPE) if wire.body else ""


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    if not out.body and media_type(out.content_type) is not None:
        raise BodyError("Bitstamp refuses a Content-Type header on a request without a body; remove it")


def _verify_check(wire: Wire) -> str | None:
    return "Content-Type header is not accepted without a body" if wire.content_type and not wire.body else None


RECIPE = Recipe(
    name="bitstamp",
    title="Bitstamp",
    doc="https://www.bitstamp.net/api/#section/Authentication",
    origin="https://www.bitstamp.net",
    env_prefix="BITSTAMP",
    message="BITSTAMP {key}{method}{host}{path}{query}{bitstamp_type}{nonce}{timestamp}v2{body}",
    parts={"bitstamp_type": _content_type},
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
    verify_check=_verify_check,
    clock_sync=lambda options: BITSTAMP_CLOCK_SYNC,
)


class Bitstamp(RecipeAuth):
    """Auth for the Bitstamp HTTP API v2 (V2 authentication method).

    Args:
        key: the API key (sent as ``X-Auth: BITSTAMP <key>``).
        secret: the API secret, used as is.
        nonce: a zero-argument callable returning a fresh lowercase 36-character
            string per request; by default :func:`bitstamp_nonce` (a random UUID).
            Requests are then not serialized per key (``ordered=False``) unless you
            ask for it, since UUIDs have no order.
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``X-Auth-Timestamp`` is sent in milliseconds.
        clock_sync: when the API refuses a call for its timestamp (API0017), learn the
            server's clock (from the answer's ``Date``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://www.bitstamp.net"``. A ``str`` body is encoded as UTF-8.

    """

    recipe = RECIPE


class BitstampVerifier(RecipeVerifier):
    """Verify Bitstamp v2 signatures on the server side.

    Args:
        secrets: API key -> secret.

    The verdict carries the key, the nonce (a string: a
    :class:`~hmac_body_auth.verify.ReplayGuard` refuses it a second time) and
    ``X-Auth-Timestamp`` (as ``timestamp_ms``; Bitstamp allows 150 seconds).
    """

    recipe = RECIPE
