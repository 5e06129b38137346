"""Coinbase Exchange REST API (``https://api.exchange.coinbase.com``).

Scheme (https://docs.cdp.coinbase.com/exchange/rest-api/authentication):

* ``CB-ACCESS-KEY``: the API key; ``CB-ACCESS-PASSPHRASE``: the passphrase chosen
  when the key was created; ``CB-ACCESS-TIMESTAMP``: seconds since the Unix epoch
  (the docs allow decimals; this auth sends whole seconds, the verifier accepts both);
* ``CB-ACCESS-SIGN``: base64 HMAC-SHA256, keyed with the *base64-decoded* secret, of
  ``timestamp + METHOD + requestPath + body``, where ``requestPath`` is the path with
  the query string as sent (``/orders?status=open``) and ``body`` the raw JSON body,
  empty when there is none.

There is no nonce, only the timestamp (within 30 s of the server's clock), so
requests need no ordering.

Clock sync (:data:`COINBASE_EXCHANGE_CLOCK_SYNC`): "Your timestamp must be within
30 seconds of the API service time or your request will be considered expired
and rejected. We recommend using the time endpoint to query for the API server
time" (https://docs.cdp.coinbase.com/exchange/rest-api/authentication, "Selecting
a Timestamp"). The refusal is HTTP 401 with ``{"message":"request timestamp
expired"}`` (seen in https://github.com/danpaquin/coinbasepro-python/issues/453
and https://github.com/coinbase/coinbase-pro-node/issues/222). Coinbase errors have
no code, and 401 is also a wrong key, passphrase or signature, so the message is
read, exactly. The time endpoint is ``GET /time`` (the Exchange REST API's "Get
server time", public): ``{"iso":"2015-01-07T23:47:25.201Z","epoch":1420674445.201}``
(epoch in seconds, decimals allowed).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._clocksync import ClockSync, TimestampRejection
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..verify import HeaderVerifier
from ._answers import json_answer

__all__ = [
    "COINBASE_EXCHANGE_CLOCK_SYNC",
    "CoinbaseExchange",
    "CoinbaseExchangeScheme",
    "CoinbaseExchangeVerifier",
]

_JSON = "application/json"
_BODILESS = frozenset({"GET", "HEAD"})
# Printable ASCII, no leading/trailing whitespace: what a header value can carry unchanged.
_PASSPHRASE = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_SECONDS = re.compile(r"^(\d{1,12})(?:\.(\d{1,9}))?$")


#: Where Coinbase Exchange documents the 30-second rule (and the time endpoint).
COINBASE_EXCHANGE_TIMESTAMP_DOC = "https://docs.cdp.coinbase.com/exchange/rest-api/authentication"
_EXPIRED = "request timestamp expired"


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """Exactly ``{"message": "request timestamp expired"}`` with HTTP 401; any other message is ``None``."""
    if status != 401:
        return None
    answer = json_answer(body)
    if not isinstance(answer, dict) or answer.keys() != {"message"} or answer["message"] != _EXPIRED:
        return None
    return TimestampRejection(None)


def _server_time(body: bytes) -> int | None:
    """``GET /time``: ``epoch`` (seconds, a JSON number) in nanoseconds, to the microsecond, or ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict):
        return None
    epoch = answer.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, (int, float)) or not math.isfinite(epoch):
        return None
    if not 0 < epoch < 10**11:
        return None
    return round(epoch * 1_000_000) * 1000


COINBASE_EXCHANGE_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({401}),
    time_path="/time",
    server_time=_server_time,
    window_ms=30_000,
    doc=COINBASE_EXCHANGE_TIMESTAMP_DOC,
)
"""Coinbase Exchange's clock-sync recipe: "request timestamp expired" (HTTP 401) and ``GET /time``; 30 s."""


def _validate_passphrase(passphrase: object) -> str:
    if not isinstance(passphrase, str):
        raise ConfigurationError(f"passphrase must be a str, got {type(passphrase).__name__}")
    if not _PASSPHRASE.fullmatch(passphrase):
        raise ConfigurationError(
            "passphrase must be non-empty printable ASCII without leading or trailing whitespace "
            "(check for a trailing newline)"
        )
    return passphrase


def _parse_timestamp(value: str) -> int | None:
    """``"1700000000"`` or ``"1700000000.123"`` (seconds) as Unix milliseconds."""
    match = _SECONDS.fullmatch(value)
    if match is None:
        return None
    fraction = (match.group(2) or "").ljust(3, "0")[:3]
    return int(match.group(1)) * 1000 + int(fraction)


def _prehash(timestamp: str, method: str, url: str, body: bytes) -> bytes:
    parts = urlsplit(url)
    path = parts.path or "/"
    request_path = f"{path}?{parts.query}" if parts.query else path
    return (timestamp + method + request_path).encode("utf-8") + body


class CoinbaseExchangeScheme:
    """The Coinbase Exchange signature: ``base64(HMAC-SHA256(ts + METHOD + requestPath + body))``.

    Holds the passphrase (it is sent with every request); ``repr`` masks it and
    the scheme cannot be pickled.
    """

    __slots__ = ("_passphrase", "header_names")

    header_names: frozenset[str]

    def __init__(self, *, passphrase: str) -> None:
        self._passphrase = _validate_passphrase(passphrase)
        self.header_names = frozenset(
            {"cb-access-key", "cb-access-sign", "cb-access-timestamp", "cb-access-passphrase"}
        )

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse a GET body and bodies that are not JSON."""
        if not out.body:
            return
        if out.method in _BODILESS:
            raise BodyError(
                f"Coinbase Exchange {out.method} requests carry their parameters in the query string, not a body"
            )
        media = (out.content_type or _JSON).split(";", 1)[0].strip().lower()
        if media != _JSON:
            raise BodyError(f"Coinbase Exchange takes JSON request bodies; got Content-Type {media!r} (send json=...)")
        try:
            json.loads(out.body)
        except ValueError:
            raise BodyError("the request body is not valid JSON; Coinbase Exchange takes JSON request bodies") from None

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Sign ``timestamp + METHOD + requestPath + body`` and return the CB-ACCESS headers."""
        if key is None:
            raise ConfigurationError("Coinbase Exchange needs the API key in CB-ACCESS-KEY")
        timestamp = str(int(clock()) // 1000)
        headers = {
            "CB-ACCESS-KEY": key,
            "CB-ACCESS-SIGN": signer.sign(_prehash(timestamp, out.method, out.url, out.body)),
            "CB-ACCESS-TIMESTAMP": timestamp,
            "CB-ACCESS-PASSPHRASE": self._passphrase,
        }
        content_type = _JSON if out.body and out.content_type is None else None
        return SignedRequest(out.url, out.body, headers, content_type, nonce)

    def __repr__(self) -> str:
        return "CoinbaseExchangeScheme(passphrase=***)"

    def __reduce__(self) -> Any:
        raise TypeError("CoinbaseExchangeScheme holds a passphrase and cannot be pickled")


class CoinbaseExchange(HmacAuth):
    """Auth for the Coinbase Exchange REST API (formerly Coinbase Pro / GDAX).

    Args:
        key: the API key (``CB-ACCESS-KEY``).
        secret: the API secret as issued, base64 (it is decoded into the HMAC key).
        passphrase: the passphrase set when the key was created (required).
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``CB-ACCESS-TIMESTAMP`` is sent in whole seconds.
        clock_sync: when the API refuses a call for its timestamp ("request timestamp
            expired"), learn the server's clock (``GET /time``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://api.exchange.coinbase.com"``. A ``str`` body is encoded as UTF-8.

    """

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``COINBASE_EXCHANGE_API_KEY``,
    #: ``COINBASE_EXCHANGE_API_SECRET`` and ``COINBASE_EXCHANGE_API_PASSPHRASE``.
    env_prefix: ClassVar[str | None] = "COINBASE_EXCHANGE"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        passphrase: str,
        clock: Callable[[], int] | None = None,
        clock_sync: bool = True,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        options.setdefault("body_encoding", "utf-8")
        super().__init__(
            CoinbaseExchangeScheme(passphrase=passphrase),
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="base64",
            secret_encoding="base64",
            clock=clock,
            clock_sync=COINBASE_EXCHANGE_CLOCK_SYNC if clock_sync else None,
            **options,
        )

    def _repr_fields(self) -> str:
        return f"{super()._repr_fields()}, passphrase=***"


class CoinbaseExchangeVerifier(HeaderVerifier):
    """Verify Coinbase Exchange signatures (and passphrases) on the server side.

    Args:
        secrets: API key -> secret (base64, as issued).
        passphrases: API key -> passphrase; ``None`` to not check passphrases.

    The verdict carries the key and ``CB-ACCESS-TIMESTAMP`` (as ``timestamp_ms``);
    wrap it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a window.

    """

    key_header = "CB-ACCESS-KEY"
    timestamp_header = "CB-ACCESS-TIMESTAMP"
    signature_header = "CB-ACCESS-SIGN"
    passphrase_header = "CB-ACCESS-PASSPHRASE"
    secret_encoding = "base64"

    def prehash(self, timestamp: str, method: str, url: str, body: bytes) -> bytes:
        """``timestamp + METHOD + /path?query + body``."""
        return _prehash(timestamp, method, url, body)

    def timestamp_ms(self, value: str) -> int | None:
        """Parse ``CB-ACCESS-TIMESTAMP``."""
        return _parse_timestamp(value)
