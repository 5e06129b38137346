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
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._clocksync import ClockSync, TimestampRejection, milliseconds_ns
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..verify import Verdict, constant_time_equal, header
from ._answers import json_answer

__all__ = ["Bybit", "BybitScheme", "BybitVerifier", "bybit_clock_sync"]

_JSON = "application/json"
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


def _validate_recv_window(recv_window: object) -> int:
    if isinstance(recv_window, bool) or not isinstance(recv_window, int) or recv_window <= 0:
        raise ConfigurationError("recv_window must be a positive number of milliseconds (Bybit's default is 5000)")
    return recv_window


def _check_json(out: Outgoing) -> None:
    """Refuse a body that is not JSON: Bybit's POST endpoints take JSON only."""
    if not out.body:
        return
    media = (out.content_type or _JSON).split(";", 1)[0].strip().lower()
    if media != _JSON:
        raise BodyError(f"Bybit takes JSON request bodies; got Content-Type {media!r} (send json=...)")
    try:
        json.loads(out.body)
    except ValueError:
        raise BodyError("the request body is not valid JSON; Bybit takes JSON request bodies") from None


def _payload(method: str, url: str, body: bytes) -> bytes:
    """What Bybit signs after the recv window: the raw query (GET) or the raw body (POST)."""
    if method in _QUERY_SIGNED:
        return urlsplit(url).query.encode("utf-8")
    return body


# The recipe is immutable: one per receive window, not one per auth built.
_cached_clock_sync = functools.lru_cache(maxsize=64)(bybit_clock_sync)


class BybitScheme:
    """The Bybit v5 signature: ``hex(HMAC-SHA256(ts + key + recv_window + query|body))`` in headers."""

    __slots__ = ("header_names", "recv_window")

    header_names: frozenset[str]
    recv_window: int

    def __init__(self, *, recv_window: int = 5000) -> None:
        self.recv_window = _validate_recv_window(recv_window)
        self.header_names = frozenset(
            {"x-bapi-api-key", "x-bapi-timestamp", "x-bapi-recv-window", "x-bapi-sign", "x-bapi-sign-type"}
        )

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse what would go unsigned (a GET body, a POST query) and non-JSON bodies."""
        if out.method in _QUERY_SIGNED:
            if out.body:
                raise BodyError(
                    f"Bybit signs the query string of a {out.method} request, so its body would go unsigned; "
                    "send the parameters as query parameters"
                )
            return
        if urlsplit(out.url).query:
            raise BodyError(
                f"Bybit signs the JSON body of a {out.method} request, so its query string would go unsigned; "
                "send the parameters in the JSON body"
            )
        _check_json(out)

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Sign ``timestamp + key + recv_window + payload`` and return the X-BAPI headers."""
        if key is None:
            raise ConfigurationError("Bybit signs the API key: an auth without a key cannot sign")
        timestamp = str(int(clock()))
        recv_window = str(self.recv_window)
        prefix = (timestamp + key + recv_window).encode("utf-8")
        signature = signer.sign(prefix + _payload(out.method, out.url, out.body))
        headers = {
            "X-BAPI-API-KEY": key,
            "X-BAPI-TIMESTAMP": timestamp,
            "X-BAPI-RECV-WINDOW": recv_window,
            "X-BAPI-SIGN": signature,
            "X-BAPI-SIGN-TYPE": "2",
        }
        content_type = _JSON if out.body and out.content_type is None else None
        return SignedRequest(out.url, out.body, headers, content_type, nonce)

    def __repr__(self) -> str:
        return f"BybitScheme(recv_window={self.recv_window})"


class Bybit(HmacAuth):
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

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``BYBIT_API_KEY`` and ``BYBIT_API_SECRET``.
    env_prefix: ClassVar[str | None] = "BYBIT"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        recv_window: int = 5000,
        clock: Callable[[], int] | None = None,
        clock_sync: bool = True,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        options.setdefault("body_encoding", "utf-8")
        scheme = BybitScheme(recv_window=recv_window)
        super().__init__(
            scheme,
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="hex",
            clock=clock,
            clock_sync=_cached_clock_sync(scheme.recv_window) if clock_sync else None,
            **options,
        )

    def _repr_fields(self) -> str:
        scheme = self._scheme
        assert isinstance(scheme, BybitScheme)
        return f"{super()._repr_fields()}, recv_window={scheme.recv_window}"


class BybitVerifier:
    """Verify Bybit v5 signatures on the server side.

    Args:
        secrets: API key -> secret.

    The verdict carries the key and ``X-BAPI-TIMESTAMP`` (as ``timestamp_ms``); wrap
    it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a time window.

    """

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha256", digest_encoding="hex") for key, secret in secrets.items()
        }

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute ``X-BAPI-SIGN`` from the request as received."""
        key = header(headers, "X-BAPI-API-KEY")
        if key is None:
            return Verdict(False, "missing X-BAPI-API-KEY")
        signer = self._signers.get(key)
        if signer is None:
            return Verdict(False, "unknown key", key)
        timestamp = header(headers, "X-BAPI-TIMESTAMP")
        if timestamp is None:
            return Verdict(False, "missing X-BAPI-TIMESTAMP", key)
        if not timestamp.isascii() or not timestamp.isdigit():
            return Verdict(False, "bad X-BAPI-TIMESTAMP", key)
        signature = header(headers, "X-BAPI-SIGN")
        if signature is None:
            return Verdict(False, "missing X-BAPI-SIGN", key)
        # The receive window is optional; when absent it is absent from the prehash too.
        recv_window = header(headers, "X-BAPI-RECV-WINDOW") or ""
        if not recv_window.isascii():
            return Verdict(False, "bad X-BAPI-RECV-WINDOW", key)
        prefix = (timestamp + key + recv_window).encode("utf-8")
        expected = signer.sign(prefix + _payload(method.upper(), url, body))
        if not constant_time_equal(expected, signature.lower()):
            return Verdict(False, "bad signature", key)
        return Verdict(True, "", key, None, int(timestamp))

    def __repr__(self) -> str:
        return f"BybitVerifier(keys={len(self._signers)}, secret=***)"
