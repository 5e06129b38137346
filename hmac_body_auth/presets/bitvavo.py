"""Bitvavo REST API v2 (https://docs.bitvavo.com/docs/rest-api/introduction/, "Authentication").

``Bitvavo-Access-Signature``: hex HMAC-SHA256 of ``timestamp + method + path + body``, no delimiter: the
``Bitvavo-Access-Timestamp`` (Unix ms), the method, the path from ``/v2`` with the query as sent (as the
official SDK python-bitvavo-api 1.4.3 = bitvavo/python-bitvavo-api @ 27c0640e, ``createSignature``, and ccxt
sign it; the docs show no query) and the body. ``Bitvavo-Access-Window``: ms, 100 to 60000 ("default value
is 10000"), always sent as the SDK does. Bodies: a JSON object (POST/PUT); GET and DELETE take URL parameters
(errorCode 201). Every request carries ``Content-Type: application/json`` (docs, "API structure").
Clock sync (:func:`bitvavo_clock_sync`): outside the window, ``{"errorCode": 304, "error": "Request was not
received within acceptable window ..."}`` (https://docs.bitvavo.com/docs/errors; HTTP 403, as ccxt/ccxt#8890
shows it). Server time: ``GET /v2/time`` (https://docs.bitvavo.com/docs/rest-api/get-server-time/).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from .._clocksync import ClockSync
from .._core import Outgoing
from ..errors import BodyError, ConfigurationError
from ..recipe import MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import Refusal, TimeMember

__all__ = ["Bitvavo", "BitvavoVerifier", "bitvavo_clock_sync"]


def _access_window(value: Any) -> int:
    # errorCode 303: "Window must be between 100 and 60000 ms".
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 60_000:
        raise ConfigurationError("access_window must be an int of milliseconds between 100 and 60000")
    return value


def _window_sent(wire: Wire) -> str | None:
    """The verifier refuses what Bitvavo refuses (errorCode 303): a window other than 100 to 60000 ms."""
    sent = wire.found.get("access_window", "")
    if sent.isascii() and sent.isdigit() and len(sent) <= 5 and 100 <= int(sent) <= 60_000:
        return None
    return "Bitvavo-Access-Window must be 100 to 60000 ms"


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    if out.body and out.method == "DELETE":
        raise BodyError("Bitvavo DELETE requests carry their parameters in the query string (params=), not a body")


def bitvavo_clock_sync(access_window: int = 10_000) -> ClockSync:
    """Bitvavo's clock-sync recipe: errorCode 304 (HTTP 403) and ``GET /v2/time``, for the window sent."""
    return ClockSync(
        # Exactly the documented answer: 309 (signature) and the rest are not.
        rejection=Refusal(frozenset({403}), {"errorCode": 304}, text=("error",), only=True),
        statuses=frozenset({403}),
        time_path="/v2/time",
        server_time=TimeMember(("time",)),
        window_ms=access_window,
        doc="https://docs.bitvavo.com/docs/errors",
    )


_cached_clock_sync = functools.lru_cache(maxsize=64)(bitvavo_clock_sync)

RECIPE = Recipe(
    name="bitvavo",
    title="Bitvavo",
    doc="https://docs.bitvavo.com/docs/rest-api/introduction/",
    origin="https://api.bitvavo.com",
    env_prefix="BITVAVO",
    message="{timestamp}{method}{path_query}{body}",
    headers=(
        Header("Bitvavo-Access-Key", "{key}"),
        Header("Bitvavo-Access-Signature", "{signature}"),
        Header("Bitvavo-Access-Timestamp", "{timestamp}"),
        Header("Bitvavo-Access-Window", "{access_window}"),
    ),
    bodies=frozenset({"json-object"}),
    timestamp=MILLISECONDS,
    check=_check,
    verify_check=_window_sent,
    options=(Option("access_window", 10_000, _access_window),),
    clock_sync=lambda options: _cached_clock_sync(options["access_window"]),
    bodiless_content_type="application/json",
)


class Bitvavo(RecipeAuth):
    """Auth for the Bitvavo REST API v2: ``Bitvavo(key, secret, access_window=10000)``; see docs/presets.md#bitvavo."""

    recipe = RECIPE


class BitvavoVerifier(RecipeVerifier):
    """Verify Bitvavo requests on the server side (``Bitvavo-Access-Window`` must be 100 to 60000 ms)."""

    recipe = RECIPE
