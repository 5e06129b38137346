"""HitBTC API 3, HS256 authentication (https://api.hitbtc.com/#authentication).

``signature``: lowercase hex HMAC-SHA256 (the secret as is) of ``METHOD + path + ("?" + query) + body +
timestamp (+ window)``, path and query as on the URL sent; ``Authorization: HS256
base64(key:signature:timestamp[:window])``: Unix ms, and the optional ms the request stays valid after it
(the same text is in the docs of the sister exchange CryptoMarket, https://api.exchange.cryptomkt.com/).
Clock sync (:func:`hitbtc_clock_sync`): every authentication failure, a stale timestamp as a wrong key, is
code ``1002`` with HTTP 401 (https://api.hitbtc.com/#errors; ccxt's hitbtc.py; its causes as listed in
https://support.cryptohopper.com/en/articles/9234473). The answer's top-level ``timestamp`` (ISO 8601 UTC,
the error metadata of https://github.com/cryptomkt/cryptomkt-go models.go) is the server's time: a 1002 is
a clock refusal only when it is more than the window from the signed timestamp. The window: the request's,
else 10 000 ms (the CryptoMarket SDKs: "Use 0 for default window (10 seconds)"). No time endpoint.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime
import functools
import re
from collections.abc import Callable, Mapping

from .._clock import milliseconds, validate_clock
from .._clocksync import ClockSync, TimestampRejection
from ..errors import ConfigurationError
from ..recipe import MILLISECONDS, Codec, Header, Option, Recipe, RecipeAuth, RecipeVerifier, Verdict
from ._answers import json_answer

__all__ = ["HitBTC", "HitBTCVerifier", "hitbtc_clock_sync"]

#: The server's default ``window`` when the request sends none (ms).
DEFAULT_WINDOW_MS = 10_000
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z", re.ASCII)


def _iso_ns(value: object) -> int | None:
    """``2021-06-21T10:45:48.052Z`` (UTC, up to nanoseconds) in Unix nanoseconds, or ``None``."""
    match = _ISO.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(group) for group in match.groups()[:6])
        moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
    except ValueError:  # February 30th, hour 24, ...
        return None
    return calendar.timegm(moment.timetuple()) * 10**9 + int((match.group(7) or "").ljust(9, "0"))


def _rejection(window_ms: int) -> Callable[[int, bytes, int | None], TimestampRejection | None]:
    def timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
        """A 1002 answer (HTTP 401) whose ``timestamp`` is more than the window from ``signed_ms``."""
        if status != 401 or signed_ms is None:
            return None
        answer = json_answer(body)
        error = answer.get("error") if isinstance(answer, dict) and answer.get("status", status) == status else None
        if not isinstance(error, dict) or not isinstance(error.get("message"), str):
            return None
        if type(error.get("code")) is not int or error["code"] != 1002:
            return None
        server_ns = _iso_ns(answer.get("timestamp"))
        if server_ns is None or abs(server_ns // 1_000_000 - signed_ms) <= window_ms:
            return None
        return TimestampRejection(server_ns)

    return timestamp_rejection


def hitbtc_clock_sync(window: int | None = None) -> ClockSync:
    """HitBTC's clock-sync recipe: a 1002 (HTTP 401) whose server time shows the timestamp outside ``window``.

    ``window``: the ``window`` the auth sends, ms (``None``: the server's default, ``DEFAULT_WINDOW_MS``).
    """
    window_ms = DEFAULT_WINDOW_MS if window is None else window
    return ClockSync(
        rejection=_rejection(window_ms),
        statuses=frozenset({401}),
        window_ms=window_ms,
        doc="https://api.hitbtc.com/#errors",
    )


def _window(window: object) -> int | None:
    if window is None:
        return None
    if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
        raise ConfigurationError("window must be None or a positive number of milliseconds")
    return window


def _key_check(key: str) -> None:
    if ":" in key:
        raise ConfigurationError("key must not contain ':' (it separates the fields of the HS256 header)")


def _format(parts: Mapping[str, str]) -> str:
    """``HS256 base64(key:signature:timestamp[:window])``."""
    fields = [parts["key"], parts["signature"], parts["timestamp"]] + ([parts["window"]] if parts["window"] else [])
    return "HS256 " + base64.b64encode(":".join(fields).encode("ascii")).decode("ascii")


def _parse(value: str) -> dict[str, str] | None:
    scheme, _, encoded = value.partition(" ")
    if scheme != "HS256":
        raise ValueError("Authorization is not HS256")
    try:
        fields = base64.b64decode(encoded.strip(), validate=True).decode("ascii").split(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if len(fields) not in (3, 4) or (len(fields) == 4 and not fields[3].isdigit()):
        return None
    return dict(zip(("key", "signature", "timestamp", "window"), fields, strict=False))


# The clock-sync recipe is immutable: one per window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(hitbtc_clock_sync)

RECIPE = Recipe(
    name="hitbtc",
    title="HitBTC",
    doc="https://api.hitbtc.com/#authentication",
    origin="https://api.hitbtc.com",
    env_prefix="HITBTC",
    message="{method}{path_query}{body}{timestamp}{window}",
    headers=(Header("Authorization", Codec(frozenset({"key", "signature", "timestamp", "window"}), _format, _parse)),),
    bodies=frozenset({"json", "form"}),
    timestamp=MILLISECONDS,
    key_check=_key_check,
    options=(Option("window", None, _window),),
    clock_sync=lambda options: _cached_clock_sync(options["window"]),
)


class HitBTC(RecipeAuth):
    """Auth for the HitBTC API 3 (HS256): ``HitBTC(key, secret, window=None)``; see docs/presets.md#hitbtc."""

    recipe = RECIPE


class HitBTCVerifier(RecipeVerifier):
    """Verify HitBTC HS256 signatures; with ``clock=`` (like ``time.time_ns``), also the request's ``window``."""

    recipe = RECIPE

    def __init__(self, secrets: Mapping[str, str | bytes], *, clock: Callable[[], int] | None = None) -> None:
        super().__init__(secrets)
        self._clock = milliseconds(validate_clock(clock)) if clock is not None else None

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Check the signature, then (with a clock) the request's own window."""
        verdict = super().verify(method, url, headers, body)
        received = self.read(method, url, headers, body)
        if not verdict or self._clock is None or isinstance(received, Verdict) or verdict.timestamp_ms is None:
            return verdict
        window = received.found.get("window")
        if window and self._clock() > verdict.timestamp_ms + int(window):
            return Verdict(False, "timestamp outside the request's window", verdict.key, None, verdict.timestamp_ms)
        return verdict
