"""OKX v5 API (``https://www.okx.com/api/v5/...``).

Scheme (https://www.okx.com/docs-v5/en/#overview-rest-authentication):

* ``OK-ACCESS-KEY``: the API key; ``OK-ACCESS-PASSPHRASE``: the passphrase chosen
  when the key was created; ``OK-ACCESS-TIMESTAMP``: UTC ISO-8601 with milliseconds,
  e.g. ``2020-12-08T09:08:57.715Z``;
* ``OK-ACCESS-SIGN``: base64 HMAC-SHA256, keyed with the secret as is, of
  ``timestamp + METHOD + requestPath + body``. The query string of a GET belongs to
  ``requestPath`` (``/api/v5/account/balance?ccy=BTC``); ``body`` is the raw JSON
  body, empty when there is none.
* Demo trading (https://www.okx.com/docs-v5/en/#overview-demo-trading-services)
  adds the header ``x-simulated-trading: 1`` (``demo=True``).

OKX has no nonce, only the timestamp (requests older than 30 s are rejected), so
requests need no ordering.

Clock sync (:data:`OKX_CLOCK_SYNC`): OKX refuses a stale timestamp with code
``50102`` "Timestamp request expired." and HTTP 401
(https://www.okx.com/docs-v5/en/#error-code-rest-api-public, "API Class"), e.g.
``{"msg":"Timestamp request expired","code":"50102","data":[]}``. ``50112``
"Invalid OK-ACCESS-TIMESTAMP." (also 401) is not read: the docs do not say it
means "outside the window" (users meet it for a badly formatted timestamp), and
the strict reading is that it does not. The window: 30 s ("The request will
expire 30 seconds after the timestamp", the docs' WebSocket login; copies of the
REST authentication section differ on whether they state it, recent ones say a
timestamp more than 30 s from the server's time is refused with 50102); how far
ahead a timestamp may be is not stated separately. The time endpoint is ``GET /api/v5/public/time``
(https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time):
``{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}``.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._clocksync import ClockSync, TimestampRejection, milliseconds_ns
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..verify import HeaderVerifier
from ._answers import json_answer

__all__ = ["OKX", "OKX_CLOCK_SYNC", "OKXScheme", "OKXVerifier", "okx_timestamp"]

_JSON = "application/json"
_BODILESS = frozenset({"GET", "HEAD"})
# Printable ASCII, no leading/trailing whitespace: what a header value can carry unchanged.
_PASSPHRASE = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$")


#: Where OKX documents code 50102 (HTTP 401).
OKX_TIMESTAMP_DOC = "https://www.okx.com/docs-v5/en/#error-code-rest-api-public"
_EXPIRED = "50102"


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """``{"code": "50102", "msg": "..."}`` with HTTP 401; any other code (50111 key, 50113 sign, ...) is ``None``."""
    if status != 401:
        return None
    answer = json_answer(body)
    if not isinstance(answer, dict):
        return None
    code, message = answer.get("code"), answer.get("msg")
    if not isinstance(code, str) or code != _EXPIRED or not isinstance(message, str):
        return None
    return TimestampRejection(None)


def _server_time(body: bytes) -> int | None:
    """``GET /api/v5/public/time``: ``data[0].ts`` (a string of Unix ms) in nanoseconds, or ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict) or answer.get("code") != "0":
        return None
    data = answer.get("data")
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        return None
    stamp = data[0].get("ts")
    return milliseconds_ns(stamp) if isinstance(stamp, str) else None


OKX_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({401}),
    time_path="/api/v5/public/time",
    server_time=_server_time,
    window_ms=30_000,
    doc=OKX_TIMESTAMP_DOC,
)
"""OKX's clock-sync recipe: code 50102 (HTTP 401) and ``GET /api/v5/public/time``; a 30 s window."""


def _validate_passphrase(passphrase: object) -> str:
    if not isinstance(passphrase, str):
        raise ConfigurationError(f"passphrase must be a str, got {type(passphrase).__name__}")
    if not _PASSPHRASE.fullmatch(passphrase):
        raise ConfigurationError(
            "passphrase must be non-empty printable ASCII without leading or trailing whitespace "
            "(check for a trailing newline)"
        )
    return passphrase


def okx_timestamp(ms: int) -> str:
    """Format Unix milliseconds as OKX wants them: ``2020-12-08T09:08:57.715Z``."""
    seconds, millis = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _parse_timestamp(value: str) -> int | None:
    match = _ISO.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, millis = (int(g) for g in match.groups())
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    return seconds * 1000 + millis


def _request_path(url: str) -> str:
    """``/path?query`` exactly as in the URL the client sends."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _prehash(timestamp: str, method: str, url: str, body: bytes) -> bytes:
    return (timestamp + method + _request_path(url)).encode("utf-8") + body


class OKXScheme:
    """The OKX v5 signature: ``base64(HMAC-SHA256(ts + METHOD + requestPath + body))`` in headers.

    Holds the passphrase (it is sent with every request); ``repr`` masks it and
    the scheme cannot be pickled.
    """

    __slots__ = ("_passphrase", "demo", "header_names")

    header_names: frozenset[str]
    demo: bool

    def __init__(self, *, passphrase: str, demo: bool = False) -> None:
        if not isinstance(demo, bool):
            raise ConfigurationError("demo must be True or False")
        self._passphrase = _validate_passphrase(passphrase)
        self.demo = demo
        names = {"ok-access-key", "ok-access-sign", "ok-access-timestamp", "ok-access-passphrase"}
        if demo:
            names.add("x-simulated-trading")
        self.header_names = frozenset(names)

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse a GET body and bodies that are not JSON."""
        if not out.body:
            return
        if out.method in _BODILESS:
            raise BodyError(f"OKX {out.method} requests carry their parameters in the query string, not a body")
        media = (out.content_type or _JSON).split(";", 1)[0].strip().lower()
        if media != _JSON:
            raise BodyError(f"OKX takes JSON request bodies; got Content-Type {media!r} (send json=...)")
        try:
            json.loads(out.body)
        except ValueError:
            raise BodyError("the request body is not valid JSON; OKX takes JSON request bodies") from None

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Sign ``timestamp + METHOD + requestPath + body`` and return the OK-ACCESS headers."""
        if key is None:
            raise ConfigurationError("OKX needs the API key in OK-ACCESS-KEY")
        timestamp = okx_timestamp(clock())
        headers = {
            "OK-ACCESS-KEY": key,
            "OK-ACCESS-SIGN": signer.sign(_prehash(timestamp, out.method, out.url, out.body)),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-PASSPHRASE": self._passphrase,
        }
        if self.demo:
            headers["x-simulated-trading"] = "1"
        content_type = _JSON if out.body and out.content_type is None else None
        return SignedRequest(out.url, out.body, headers, content_type, nonce)

    def __repr__(self) -> str:
        return f"OKXScheme(passphrase=***, demo={self.demo})"

    def __reduce__(self) -> Any:
        raise TypeError("OKXScheme holds a passphrase and cannot be pickled")


class OKX(HmacAuth):
    """Auth for the OKX v5 REST API.

    Args:
        key: the API key (``OK-ACCESS-KEY``).
        secret: the API secret, used as is.
        passphrase: the passphrase set when the key was created (required).
        demo: send ``x-simulated-trading: 1`` for OKX demo trading.
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``OK-ACCESS-TIMESTAMP`` is sent as ISO 8601 with milliseconds.
        clock_sync: when the API refuses a call for its timestamp (code 50102), learn
            the server's clock (``GET /api/v5/public/time``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://www.okx.com"``. A ``str`` body is encoded as UTF-8.

    """

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``OKX_API_KEY``,
    #: ``OKX_API_SECRET`` and ``OKX_API_PASSPHRASE``.
    env_prefix: ClassVar[str | None] = "OKX"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        passphrase: str,
        demo: bool = False,
        clock: Callable[[], int] | None = None,
        clock_sync: bool = True,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        options.setdefault("body_encoding", "utf-8")
        super().__init__(
            OKXScheme(passphrase=passphrase, demo=demo),
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="base64",
            clock=clock,
            clock_sync=OKX_CLOCK_SYNC if clock_sync else None,
            **options,
        )

    def _repr_fields(self) -> str:
        scheme = self._scheme
        assert isinstance(scheme, OKXScheme)
        return f"{super()._repr_fields()}, passphrase=***, demo={scheme.demo}"


class OKXVerifier(HeaderVerifier):
    """Verify OKX v5 signatures (and passphrases) on the server side.

    Args:
        secrets: API key -> secret.
        passphrases: API key -> passphrase; ``None`` to not check passphrases.

    The verdict carries the key and ``OK-ACCESS-TIMESTAMP`` (as ``timestamp_ms``);
    wrap it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a window.

    """

    key_header = "OK-ACCESS-KEY"
    timestamp_header = "OK-ACCESS-TIMESTAMP"
    signature_header = "OK-ACCESS-SIGN"
    passphrase_header = "OK-ACCESS-PASSPHRASE"
    secret_encoding = "raw"

    def prehash(self, timestamp: str, method: str, url: str, body: bytes) -> bytes:
        """``timestamp + METHOD + /path?query + body``."""
        return _prehash(timestamp, method, url, body)

    def timestamp_ms(self, value: str) -> int | None:
        """Parse ``OK-ACCESS-TIMESTAMP``."""
        return _parse_timestamp(value)
