"""Binance spot REST ``SIGNED`` endpoints (``TRADE`` and ``USER_DATA``).

Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security and the
"SIGNED Endpoint Examples for POST /api/v3/order" of
https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md (the tests reproduce
"Example 3: Mixed query string and request body", signature ``0fd168b8...``, in rest-api.md up to
commit 6ad97145cfa9d48977e9c8b6f6ec8ad9d7eb8e86). The key goes in ``X-MBX-APIKEY``; ``signature`` is
the hex HMAC-SHA256 of ``totalParams``, "the query string concatenated without separator to the
HTTP body" (rest-api.md at commit a5e0bc3ddc0fd7e6bb696849323b74423fa3a54d). ``recvWindow`` (if set
and not given), ``timestamp`` (Unix ms) then ``signature`` are appended to the form body when there
is one, else to the query string. No nonce: freshness is the timestamp and the receive window.

Clock sync: ``-1021 INVALID_TIMESTAMP`` with HTTP 400
(https://developers.binance.com/docs/binance-spot-api-docs/errors#-1021-invalid_timestamp;
``binance.error.ClientError: (400, -1021, ...)`` in binance-connector-python); only the code is
read ("Codes are universal, but messages can vary"). Server time: ``GET /api/v3/time``,
``{"serverTime": 1499827319559}``. Options and examples: docs/presets.md#binance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from .._body import FORM_CONTENT_TYPE, media_type
from .._clock import milliseconds, validate_clock
from .._clocksync import ClockSync
from .._core import Outgoing
from ..errors import BodyError
from ..recipe import MILLISECONDS, Field, Header, Option, Recipe, RecipeAuth, RecipeVerifier, milliseconds_window
from ..verify import Verdict
from ._answers import Refusal, TimeMember

__all__ = ["Binance", "BinanceVerifier", "binance_clock_sync"]

_DEFAULT_RECV_WINDOW = 5000
# Exactly ``{"code": -1021, "msg": "..."}`` (HTTP 400): -1022 (signature), -2014/-2015 (key) are not clock problems.
_timestamp_rejection = Refusal(frozenset({400}), {"code": -1021}, text=("msg",), only=True)
_server_time = TimeMember(("serverTime",))


def binance_clock_sync(recv_window: int | None = None) -> ClockSync:
    """Binance's clock-sync recipe (``-1021``, ``GET /api/v3/time``) for the ``recvWindow`` sent (``None``: 5000)."""
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({400}),
        time_path="/api/v3/time",
        server_time=_server_time,
        window_ms=_DEFAULT_RECV_WINDOW if recv_window is None else recv_window,
        doc="https://developers.binance.com/docs/binance-spot-api-docs/errors#-1021-invalid_timestamp",
    )


# Immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(binance_clock_sync)


def form_or_query_check(title: str) -> Callable[[Outgoing, Mapping[str, Any]], None]:
    """The ``totalParams`` APIs (Binance, MEXC) take a query string or a form body: refuse JSON and other bodies."""

    def check(out: Outgoing, options: Mapping[str, Any]) -> None:
        kind = media_type(out.content_type)
        if not out.body or out.method in ("GET", "HEAD") or kind == FORM_CONTENT_TYPE:
            return
        if kind is not None or b"=" not in out.body:
            raise BodyError(
                f"{title} takes parameters as a query string or a form body (data=dict), not {kind or 'this body'}"
            )

    return check


#: What a ``totalParams`` API adds, in the body when there is one, else the query: ``recvWindow``
#: (when set, unless the caller gave one), ``timestamp``, then ``signature`` last.
TOTAL_PARAMS_FIELDS = (
    Field("recvWindow", "{recv_window}", into="params", when="recv_window", unless_given=True),
    Field("timestamp", "{timestamp}", into="params"),
    Field("signature", "{signature}", into="params"),
)
RECV_WINDOW = Option("recv_window", None, milliseconds_window("recv_window", optional=True))

RECIPE = Recipe(
    name="binance",
    title="Binance",
    doc="https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security",
    origin="https://api.binance.com",
    env_prefix="BINANCE",
    message="{params}",  # totalParams: the query string then the body, as sent, without the signature
    headers=(Header("X-MBX-APIKEY", "{key}"),),
    fields=TOTAL_PARAMS_FIELDS,
    bodies=frozenset({"form"}),
    timestamp=MILLISECONDS,
    check=form_or_query_check("Binance"),
    options=(RECV_WINDOW,),
    clock_sync=lambda options: _cached_clock_sync(options["recv_window"]),
)


class Binance(RecipeAuth):
    """Auth for Binance spot ``SIGNED`` REST (``recv_window=None``); see docs/presets.md#binance."""

    recipe = RECIPE


class BinanceVerifier(RecipeVerifier):
    """Verify Binance ``SIGNED`` requests; with ``clock`` (int ns, like ``time.time_ns``), also the timing rule.

    Binance's rule, in ms: ``timestamp < now + 1000 and now - timestamp <= recvWindow`` (default 5000).
    """

    recipe = RECIPE

    def __init__(self, secrets: Mapping[str, str | bytes], *, clock: Callable[[], int] | None = None) -> None:
        super().__init__(secrets)
        self._clock = milliseconds(validate_clock(clock)) if clock is not None else None

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Check the signature, then (with a clock) Binance's timing rule."""
        verdict = super().verify(method, url, headers, body)
        stamp = verdict.timestamp_ms
        if not verdict or self._clock is None or stamp is None:
            return verdict
        received = self.read(method, url, headers, body)
        window = received.found.get("recv_window") if not isinstance(received, Verdict) else None
        try:
            recv_window = float(window or _DEFAULT_RECV_WINDOW)
        except ValueError:
            recv_window = -1.0
        if not 0 < recv_window <= 60_000:  # Binance's own cap; also refuses inf and nan
            return Verdict(False, "bad recvWindow", verdict.key, None, stamp)
        now = self._clock()
        if stamp < now + 1000 and now - stamp <= recv_window:
            return verdict
        return Verdict(False, "timestamp outside the recvWindow", verdict.key, None, stamp)
