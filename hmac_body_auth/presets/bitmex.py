"""BitMEX REST API keys, the ``api-expires`` scheme (https://www.bitmex.com/app/apiKeysUsage).

``api-signature``: hex HMAC-SHA256 of ``verb + path + expires + data``: the method, the path with ``?`` and
the query as sent, ``api-expires`` and the raw body; ``api-key``: the key. ``api-expires``: the expiry in Unix
seconds, "after which the request is no longer valid": now, rounded to the second, plus ``expires_after``
(5 s, the "grace period" of the official ``APIKeyAuthenticator``: PyPI bitmex 0.2.2 = BitMEX/api-connectors
@ 9f8f5e69, ``official-http/python-swaggerpy``). Testnet: https://testnet.bitmex.com (keys work in one
environment only: a request to the other one's host is refused, OriginError).
Clock sync (:func:`bitmex_clock_sync`): HTTP 400 ``{"error":{"message":"This request has expired -
`expires` is in the past. Current time: 1516534870","name":"HTTPError"}}``, the server's time in seconds (not
in the docs; BitMEX's answer in BitMEX/sample-market-maker#49, BitMEX/api-connectors#17, #202). Server
time: ``GET /api/v1``, ``{"name":"BitMEX API","version":"1.2.0","timestamp":<Unix ms>}``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from .._clocksync import ClockSync, TimestampRejection
from ..errors import ConfigurationError
from ..recipe import SECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, TimeFormat
from ._answers import TimeMember, json_answer
from ._hosts import TESTNET, environment_check

__all__ = ["BitMEX", "BitMEXVerifier", "bitmex_clock_sync"]

_EXPIRED = re.compile(r"This request has expired - `expires` is in the past\. Current time: ([0-9]{1,12})", re.ASCII)
# The SDK sends str(int(round(time.time()) + 5)): the second rounded (half up here), not truncated.
_ROUNDED_SECONDS = TimeFormat(lambda ms: str((ms + 500) // 1000), SECONDS.parse)


def _expires_after(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 3600:
        raise ConfigurationError("expires_after must be an int of seconds between 1 and 3600")
    return value


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """HTTP 400 ``{"error": {"message": "This request has expired ... Current time: <s>", "name": "HTTPError"}}``."""
    answer = json_answer(body) if status == 400 else None
    error = answer.get("error") if isinstance(answer, dict) and answer.keys() == {"error"} else None
    if not isinstance(error, dict) or error.keys() != {"message", "name"} or error["name"] != "HTTPError":
        return None
    found = _EXPIRED.fullmatch(error["message"]) if isinstance(error["message"], str) else None
    # Whole seconds: the middle of that second is the best estimate of the server's clock.
    return None if found is None else TimestampRejection(int(found[1]) * 10**9 + 500_000_000)


def bitmex_clock_sync(expires_after: int = 5) -> ClockSync:
    """BitMEX's clock-sync recipe: the "expired" answer (HTTP 400) and ``GET /api/v1``, for the expiry sent."""
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({400}),
        time_path="/api/v1",
        server_time=TimeMember(("timestamp",)),
        window_ms=expires_after * 1000,
        doc="https://github.com/BitMEX/sample-market-maker/issues/49",
    )


_cached_clock_sync = functools.lru_cache(maxsize=64)(bitmex_clock_sync)

RECIPE = Recipe(
    name="bitmex",
    title="BitMEX",
    doc="https://www.bitmex.com/app/apiKeysUsage",
    origin="https://www.bitmex.com",
    env_prefix="BITMEX",
    message="{method}{path_query}{timestamp}{body}",
    headers=(Header("api-expires", "{timestamp}"), Header("api-key", "{key}"), Header("api-signature", "{signature}")),
    bodies=frozenset({"json", "form"}),
    timestamp=_ROUNDED_SECONDS,
    timestamp_ahead=lambda options: options["expires_after"] * 1000,
    check=environment_check(
        "BitMEX", live=frozenset({"www.bitmex.com", "bitmex.com"}), testnet=frozenset({"testnet.bitmex.com"})
    ),
    options=(Option("expires_after", 5, _expires_after), TESTNET),
    clock_sync=lambda options: _cached_clock_sync(options["expires_after"]),
)


class BitMEX(RecipeAuth):
    """Auth for BitMEX API keys: ``BitMEX(key, secret, expires_after=5, testnet=False)``; see docs/presets.md#bitmex."""

    recipe = RECIPE


class BitMEXVerifier(RecipeVerifier):
    """Verify BitMEX requests on the server side; the verdict's timestamp is the ``api-expires`` time."""

    recipe = RECIPE
