"""Bybit v5 API (``https://api.bybit.com/v5/...``).

Scheme (https://bybit-exchange.github.io/docs/v5/guide, "Authentication"):

* ``X-BAPI-API-KEY``: the API key; ``X-BAPI-TIMESTAMP``: Unix time in milliseconds;
  ``X-BAPI-RECV-WINDOW``: how long the request is valid, in ms (default 5000);
* ``X-BAPI-SIGN``: lowercase hex HMAC-SHA256, keyed with the secret as is, of
  ``timestamp + api_key + recv_window + payload``, where ``payload`` is the query
  string of a GET request exactly as sent ("no need to sort"), or the raw JSON body
  of a POST request;
* ``X-BAPI-SIGN-TYPE: 2`` (HMAC), as in the guide's request examples and the
  official SDK ``pybit``.

Bybit has no nonce, only the timestamp and its receive window
(``server_time - recv_window <= timestamp < server_time + 1000``), so requests need
no ordering. Everything a request carries is signed: a GET body or a POST query
string would not be, so they are refused before anything is sent.

Clock sync (:func:`bybit_clock_sync`): a timestamp outside the window is refused
with ``retCode`` 10002, "The request time exceeds the time window range."
(https://bybit-exchange.github.io/docs/v5/error), in an HTTP 200 answer (pybit
checks the status is 200 before it reads ``retCode``, and retries 10002). Its
``retMsg`` carries the server's time: "invalid request, please check your server
timestamp or recv_window param. req_timestamp[1706972576658],
server_timestamp[1706972587026],recv_window[5000]" (as reported in
https://github.com/bybit-exchange/pybit/issues/191); the code alone recognises the
refusal, the message only supplies the time. The time endpoint is
``GET /v5/market/time`` (https://bybit-exchange.github.io/docs/v5/market/time):
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
from ..recipe import MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import json_answer

__all__ = ["Bybit", "BybitVerifier", "bybit_clock_sync"]

# Methods whose parameters travel (and are signed) in the query string.
_QUERY_SIGNED = frozenset({"GET", "HEAD"})


#: Where Bybit documents retCode 10002.
BYBIT_TIMESTAMP_DOC = "https://bybit-exchange.github.io/docs/v5/error"
_TIME_WINDOW = 10002
# The numbers at the end of 10002's retMsg (the words before them may vary; they are not read).
_TIMES = re.compile(
    r"[^\[\]]*req_timestamp\[([0-9]{1,16})\],server_timestamp\[([0-9]{1,16})\],recv_window\[([0-9]{1,16})\]",
    re.ASCII,
)


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """``retCode`` 10002 in an HTTP 200 answer; the server's time from its ``retMsg``.

    The time is read only when the message names this call's timestamp
    (``req_timestamp[signed_ms]``); a message about another timestamp is not this
    call's refusal (``None``). Without that message, the answer's ``time`` field
    (the server's time in ms, every v5 answer has it) is used, else none.
    """
    if status != 200:
        return None
    # Every v5 answer is a 200: only one with the code's digits is parsed.
    answer = json_answer(body, needle=b"%d" % _TIME_WINDOW)
    if not isinstance(answer, dict):
        return None
    code, message = answer.get("retCode"), answer.get("retMsg")
    if type(code) is not int or code != _TIME_WINDOW or not isinstance(message, str):
        return None
    times = _TIMES.fullmatch(message)
    if times is not None:
        if signed_ms is not None and int(times.group(1)) != signed_ms:
            return None
        return TimestampRejection(milliseconds_ns(times.group(2)))
    stamp = answer.get("time")
    return TimestampRejection(milliseconds_ns(stamp) if type(stamp) is int else None)


def _digits(value: object, most: int) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= most:
        return int(value)
    return None


def _server_time(body: bytes) -> int | None:
    """``GET /v5/market/time``: ``result.timeNano`` (else ``time`` in ms), in nanoseconds, or ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict) or type(answer.get("retCode")) is not int or answer["retCode"] != 0:
        return None
    result = answer.get("result")
    if not isinstance(result, dict):
        return None
    nano = _digits(result.get("timeNano"), 19)  # 19 digits of nanoseconds: until the year 2286
    if nano is not None:
        return nano if nano > 0 else None
    stamp = answer.get("time")
    return milliseconds_ns(stamp) if type(stamp) is int else None


def bybit_clock_sync(recv_window: int = 5000) -> ClockSync:
    """Bybit's clock-sync recipe: retCode 10002 (HTTP 200) and ``GET /v5/market/time``.

    ``recv_window``: the ``X-BAPI-RECV-WINDOW`` the auth sends; Bybit accepts
    ``server_time - recv_window <= timestamp < server_time + 1000``
    (https://bybit-exchange.github.io/docs/v5/guide, "Authentication").
    """
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({200}),
        time_path="/v5/market/time",
        server_time=_server_time,
        time_resolution_ns=1,  # timeNano is in nanoseconds
        window_ms=recv_window,
        doc=BYBIT_TIMESTAMP_DOC,
    )


def _recv_window(recv_window: object) -> int:
    if isinstance(recv_window, bool) or not isinstance(recv_window, int) or recv_window <= 0:
        raise ConfigurationError("recv_window must be a positive number of milliseconds (Bybit's default is 5000)")
    return recv_window


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    """Refuse what would go unsigned: a GET body, a POST query string."""
    if out.method in _QUERY_SIGNED:
        if out.body:
            raise BodyError(
                f"Bybit signs the query string of a {out.method} request, so its body would go unsigned; "
                "send the parameters as query parameters"
            )
    elif urlsplit(out.url).query:
        raise BodyError(
            f"Bybit signs the JSON body of a {out.method} request, so its query string would go unsigned; "
            "send the parameters in the JSON body"
        )


def _payload(wire: Wire) -> str | bytes:
    """What Bybit signs after the recv window: the raw query (GET) or the raw body (POST)."""
    return wire.query if wire.method in _QUERY_SIGNED else wire.body


# The clock-sync recipe is immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(bybit_clock_sync)

RECIPE = Recipe(
    name="bybit",
    title="Bybit",
    doc="https://bybit-exchange.github.io/docs/v5/guide",
    origin="https://api.bybit.com",
    env_prefix="BYBIT",
    message="{timestamp}{key}{recv_window}{bybit_payload}",
    parts={"bybit_payload": _payload},
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
    """Auth for the Bybit v5 API (HMAC keys).

    Args:
        key: the API key (``X-BAPI-API-KEY``).
        secret: the API secret, used as is.
        recv_window: ``X-BAPI-RECV-WINDOW`` in milliseconds (default 5000).
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``X-BAPI-TIMESTAMP`` is sent in milliseconds.
        clock_sync: when the API refuses a call for its timestamp (retCode 10002),
            learn the server's clock (from the refusal, else ``GET /v5/market/time``),
            re-sign once and resend; ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://api.bybit.com"``. A ``str`` body is encoded as UTF-8.

    """

    recipe = RECIPE


class BybitVerifier(RecipeVerifier):
    """Verify Bybit v5 signatures on the server side.

    Args:
        secrets: API key -> secret.

    The verdict carries the key and ``X-BAPI-TIMESTAMP`` (as ``timestamp_ms``); wrap
    it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a time window.

    """

    recipe = RECIPE
