"""Bybit v5 API (``https://api.bybit.com/v5/...``), HMAC keys.

Docs: https://bybit-exchange.github.io/docs/v5/guide ("Authentication"); vectors from ccxt
(tests/vectors/generate_bybit.py). ``X-BAPI-SIGN``: lowercase hex HMAC-SHA256 of
``timestamp + api_key + recv_window + payload``, the payload being a GET's query string exactly as
sent ("no need to sort") or a POST's raw JSON body; ``X-BAPI-TIMESTAMP`` in Unix ms,
``X-BAPI-RECV-WINDOW`` in ms, ``X-BAPI-SIGN-TYPE: 2`` (HMAC, as the guide's examples and the SDK
pybit send). No nonce: Bybit accepts ``server_time - recv_window <= timestamp < server_time + 1000``.
A GET body or a POST query string would go unsigned: both are refused.

Clock sync: ``retCode`` 10002 "The request time exceeds the time window range."
(https://bybit-exchange.github.io/docs/v5/error) in an HTTP 200 answer (pybit checks for 200
before it reads ``retCode``, and retries 10002). Only the code recognises the refusal; its
``retMsg`` supplies the server's time, "... req_timestamp[1706972576658],
server_timestamp[1706972587026],recv_window[5000]" (https://github.com/bybit-exchange/pybit/issues/191).
Time endpoint: ``GET /v5/market/time`` (https://bybit-exchange.github.io/docs/v5/market/time),
``{"retCode": 0, "result": {"timeSecond": "...", "timeNano": "..."}, "time": ...}``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._clocksync import ClockSync, TimestampRejection, milliseconds_ns
from .._core import Outgoing
from ..errors import BodyError, ConfigurationError
from ..recipe import MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier
from ._answers import Refusal, json_answer

__all__ = ["Bybit", "BybitVerifier", "bybit_clock_sync"]

# Methods whose parameters travel (and are signed) in the query string.
_QUERY_SIGNED = frozenset({"GET", "HEAD"})
# Every v5 answer is a 200: only one with the code's digits is parsed.
_refusal = Refusal(frozenset({200}), {"retCode": 10002}, text=("retMsg",), needle=b"10002")
# The numbers at the end of 10002's retMsg (the words before them may vary; they are not read).
_TIMES = re.compile(
    r"[^\[\]]*req_timestamp\[([0-9]{1,16})\],server_timestamp\[([0-9]{1,16})\],recv_window\[([0-9]{1,16})\]",
    re.ASCII,
)


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """``retCode`` 10002 (HTTP 200), the server's time from ``retMsg`` if it names ``signed_ms``, else ``time``."""
    if _refusal(status, body, signed_ms) is None:
        return None
    answer = json_answer(body)
    times = _TIMES.fullmatch(answer["retMsg"])
    if times is None:  # every v5 answer has ``time``, the server's in ms
        stamp = answer.get("time")
        return TimestampRejection(milliseconds_ns(stamp) if type(stamp) is int else None)
    # A message about another timestamp is not this call's refusal.
    if signed_ms is not None and int(times.group(1)) != signed_ms:
        return None
    return TimestampRejection(milliseconds_ns(times.group(2)))


def _server_time(body: bytes) -> int | None:
    """``GET /v5/market/time``: ``result.timeNano`` (else ``time`` in ms), in nanoseconds, or ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict) or type(answer.get("retCode")) is not int or answer["retCode"] != 0:
        return None
    if not isinstance(result := answer.get("result"), dict):
        return None
    nano = result.get("timeNano")
    if isinstance(nano, str) and nano.isascii() and nano.isdigit() and len(nano) <= 19:  # ns until the year 2286
        return int(nano) or None
    stamp = answer.get("time")
    return milliseconds_ns(stamp) if type(stamp) is int else None


def bybit_clock_sync(recv_window: int = 5000) -> ClockSync:
    """Bybit's clock-sync recipe (retCode 10002, ``GET /v5/market/time``) for the ``X-BAPI-RECV-WINDOW`` sent."""
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({200}),
        time_path="/v5/market/time",
        server_time=_server_time,
        time_resolution_ns=1,  # timeNano is in nanoseconds
        window_ms=recv_window,
        doc="https://bybit-exchange.github.io/docs/v5/error",
    )


# Immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(bybit_clock_sync)


def _recv_window(recv_window: object) -> int:
    if isinstance(recv_window, bool) or not isinstance(recv_window, int) or recv_window <= 0:
        raise ConfigurationError("recv_window must be a positive number of milliseconds (Bybit's default is 5000)")
    return recv_window


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    """Refuse what would go unsigned: a GET body, a POST query string."""
    if out.method in _QUERY_SIGNED and out.body:
        raise BodyError(
            f"Bybit signs the query string of a {out.method} request, so its body would go unsigned; "
            "send the parameters as query parameters"
        )
    if out.method not in _QUERY_SIGNED and urlsplit(out.url).query:
        raise BodyError(
            f"Bybit signs the JSON body of a {out.method} request, so its query string would go unsigned; "
            "send the parameters in the JSON body"
        )


RECIPE = Recipe(
    name="bybit",
    title="Bybit",
    doc="https://bybit-exchange.github.io/docs/v5/guide",
    origin="https://api.bybit.com",
    env_prefix="BYBIT",
    message="{timestamp}{key}{recv_window}{bybit_payload}",
    # After the recv window: the raw query (GET) or the raw body (POST).
    parts={"bybit_payload": lambda wire: wire.query if wire.method in _QUERY_SIGNED else wire.body},
    headers=(
        Header("X-BAPI-API-KEY", "{key}"),
        Header("X-BAPI-TIMESTAMP", "{timestamp}"),
        Header("X-BAPI-RECV-WINDOW", "{recv_window}"),
        Header("X-BAPI-SIGN", "{signature}"),
        Header("X-BAPI-SIGN-TYPE", "2"),
    ),
    timestamp=MILLISECONDS,
    check=_check,
    options=(Option("recv_window", 5000, _recv_window),),
    clock_sync=lambda options: _cached_clock_sync(options["recv_window"]),
)


class Bybit(RecipeAuth):
    """Auth for the Bybit v5 API (HMAC keys): ``Bybit(key, secret, recv_window=5000)``; see docs/presets.md#bybit."""

    recipe = RECIPE


class BybitVerifier(RecipeVerifier):
    """Verify Bybit v5 signatures on the server side."""

    recipe = RECIPE
