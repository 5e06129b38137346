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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..verify import HeaderVerifier

__all__ = ["CoinbaseExchange", "CoinbaseExchangeScheme", "CoinbaseExchangeVerifier"]

_JSON = "application/json"
_BODILESS = frozenset({"GET", "HEAD"})
# Printable ASCII, no leading/trailing whitespace: what a header value can carry unchanged.
_PASSPHRASE = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_SECONDS = re.compile(r"^(\d{1,12})(?:\.(\d{1,9}))?$")


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
        **options: Any,
    ) -> None:
        key = validate_key(key)
        options.setdefault("body_encoding", "utf-8")
        super().__init__(
            CoinbaseExchangeScheme(passphrase=passphrase),
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="base64",
            secret_encoding="base64",
            clock=clock,
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
