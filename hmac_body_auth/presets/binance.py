"""Binance spot REST ``SIGNED`` endpoints (``TRADE`` and ``USER_DATA``).

Docs: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
(and the "SIGNED Endpoint Examples for POST /api/v3/order" of
https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md).

The key goes in the ``X-MBX-APIKEY`` header. A signed request carries a
``timestamp`` parameter (Unix milliseconds), optionally ``recvWindow``, and a
``signature`` parameter: the hex HMAC-SHA256 of ``totalParams``, which is the
query string concatenated with the request body (no ``&`` between them): "the query
string concatenated without separator to the HTTP body" (rest-api.md at commit
a5e0bc3ddc0fd7e6bb696849323b74423fa3a54d). The docs' "Example 3: Mixed query string and
request body" (signature ``0fd168b8...``, in rest-api.md up to commit
6ad97145cfa9d48977e9c8b6f6ec8ad9d7eb8e86) is reproduced byte for byte by the tests.

Where the parameters go follows the docs: ``GET`` endpoints take everything in
the query string; ``POST``/``PUT``/``DELETE`` may use the query string, a form
body (``application/x-www-form-urlencoded``) or both. The auth appends
``recvWindow`` (if configured and not already given), ``timestamp`` and then
``signature`` as the last parameter of the body when the request has one, and
of the query string otherwise, exactly as in the documented examples 1-3.
Binance has no nonce: freshness is the timestamp and the receive window.

Clock sync (:func:`binance_clock_sync`): a ``timestamp`` outside the window is
refused with ``-1021 INVALID_TIMESTAMP`` (HTTP 400: "4XX return codes are used for
malformed requests"), "Timestamp for this request is outside of the recvWindow."
or "... was 1000ms ahead of the server's time."
(https://developers.binance.com/docs/binance-spot-api-docs/errors#-1021-invalid_timestamp;
``binance.error.ClientError: (400, -1021, ...)`` in binance-connector-python). Only the
code is read ("Codes are universal, but messages can vary"). The server's time is
``GET /api/v3/time``, ``{"serverTime": 1499827319559}`` (milliseconds).
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
from ..recipe import (
    MILLISECONDS,
    Field,
    Header,
    Option,
    Recipe,
    RecipeAuth,
    RecipeVerifier,
    Verdict,
    milliseconds_window,
)
from ._answers import Refusal, TimeMember

__all__ = ["Binance", "BinanceVerifier", "binance_clock_sync"]


#: Where Binance documents ``-1021`` (and, on the same site, the timing rule and ``GET /api/v3/time``).
BINANCE_TIMESTAMP_DOC = "https://developers.binance.com/docs/binance-spot-api-docs/errors#-1021-invalid_timestamp"
_INVALID_TIMESTAMP = -1021
_DEFAULT_RECV_WINDOW = 5000


# ``{"code": -1021, "msg": "..."}`` with HTTP 400, exactly: any other code (-1022 bad signature,
# -2014/-2015 bad or rejected key, ...) is not a clock problem. No server time in it.
_timestamp_rejection = Refusal(frozenset({400}), {"code": _INVALID_TIMESTAMP}, text=("msg",), only=True)
# ``GET /api/v3/time``: ``{"serverTime": <Unix ms>}``.
_server_time = TimeMember(("serverTime",))


def binance_clock_sync(recv_window: int | None = None) -> ClockSync:
    """Binance's clock-sync recipe: ``-1021`` (HTTP 400) and ``GET /api/v3/time``.

    ``recv_window``: the ``recvWindow`` the auth sends (``None``: Binance's default
    of 5000 ms). Binance processes a request when ``timestamp < serverTime + 1000``
    and ``serverTime - timestamp <= recvWindow`` (the docs' "Timing security").
    """
    return ClockSync(
        rejection=_timestamp_rejection,
        statuses=frozenset({400}),
        time_path="/api/v3/time",
        server_time=_server_time,
        window_ms=_DEFAULT_RECV_WINDOW if recv_window is None else recv_window,
        doc=BINANCE_TIMESTAMP_DOC,
    )


# The clock-sync recipe is immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(binance_clock_sync)


def form_or_query_check(title: str) -> Callable[[Outgoing, Mapping[str, Any]], None]:
    """The ``totalParams`` APIs (Binance, MEXC) take a query string or a form body: refuse JSON and other bodies."""

    def check(out: Outgoing, options: Mapping[str, Any]) -> None:
        kind = media_type(out.content_type)
        if (
            out.body
            and out.method not in ("GET", "HEAD")
            and kind != FORM_CONTENT_TYPE
            and (kind is not None or b"=" not in out.body)
        ):
            raise BodyError(
                f"{title} takes parameters as a query string or a form body (data=dict), not {kind or 'this body'}"
            )

    return check


#: ``recvWindow`` (when set, unless the caller gave one), ``timestamp``, then ``signature`` last:
#: the parameters a ``totalParams`` API adds, in the body when there is one, else the query.
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
    # totalParams: the query string followed by the body, as sent, without the signature.
    message="{params}",
    headers=(Header("X-MBX-APIKEY", "{key}"),),
    fields=TOTAL_PARAMS_FIELDS,
    bodies=frozenset({"form"}),
    timestamp=MILLISECONDS,
    check=form_or_query_check("Binance"),
    options=(RECV_WINDOW,),
    clock_sync=lambda options: _cached_clock_sync(options["recv_window"]),
)


class Binance(RecipeAuth):
    """Auth for Binance spot ``SIGNED`` REST endpoints.

    Send ``GET`` parameters as ``params=``, and ``POST``/``PUT``/``DELETE``
    parameters as ``params=`` or a form (``data=dict``); the auth adds
    ``timestamp`` (and ``recvWindow``) and the ``signature``.

    Args:
        key: the API key (``X-MBX-APIKEY`` header).
        secret: the HMAC secret key.
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``timestamp`` is sent in milliseconds.
        recv_window: the ``recvWindow`` to send, in ms (1 to 60000), or ``None``
            to let Binance use its default of 5000. A ``recvWindow`` already in
            the request's parameters wins.
        clock_sync: when the API refuses a call for its timestamp (``-1021``), learn
            the server's clock (``GET /api/v3/time``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as ``origin=``.

    """

    recipe = RECIPE


class BinanceVerifier(RecipeVerifier):
    """Verify Binance ``SIGNED`` requests as Binance does (for tests and API providers).

    ``totalParams`` is the query string followed by the body, without the
    ``signature`` parameter; the signature is compared case-insensitively, as the docs say.

    Args:
        secrets: API key -> secret key.
        clock: if given (int nanoseconds since the Unix epoch,
            like ``time.time_ns``), also apply Binance's timing rule (in milliseconds):
            ``timestamp < now + 1000`` and ``now - timestamp <= recvWindow`` (default 5000).

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
            return Verdict(False, "bad recvWindow", verdict.key, None, stamp)
        now = self._clock()
        if not (stamp < now + 1000 and now - stamp <= recv_window):
            return Verdict(False, "timestamp outside the recvWindow", verdict.key, None, stamp)
        return verdict
