"""Sign HTTP requests with an HMAC of their exact body, for requests, httpx and aiohttp.

>>> import hmac_body_auth as hba
>>> auth = hba.Poloniex(key="API-KEY", secret="SECRET")
>>> # requests.post(url, data={"command": "returnBalances"}, auth=auth)
>>> # aiohttp.ClientSession(middlewares=(hba.aiohttp_middleware(auth),))

Importing the package is cheap: the pure core (signing, nonces, errors) loads
at once, the auth classes and presets on first use, and none of them imports an
HTTP client: they become ``requests.auth.AuthBase``, ``httpx.Auth`` and
``httpx2.Auth`` subclasses when the program imports those packages. The aiohttp
middleware imports aiohttp on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._clocksync import ClockSync, TimestampRejection, clock_offset, forget_clock_offsets
from ._core import BodyDigestScheme, Outgoing, Scheme, SignedRequest
from ._signed import SignedCall
from ._signing import Signer
from .errors import (
    BodyEncodingError,
    BodyError,
    ConfigurationError,
    HmacBodyAuthError,
    LeaseTimeout,
    NonceError,
    OriginError,
    RedirectError,
)
from .nonces import AsyncOrderedNonceSource, ClockNonce, FileNonce, NonceSource, OrderedNonceSource

if TYPE_CHECKING:
    from ._aiohttp import aiohttp_middleware
    from ._auth import BodyDigestAuth, HmacAuth, KeyPool, NonceErrorParser
    from ._redis import RedisNonce
    from .presets.poloniex import Poloniex

__version__ = "0.1.0"

_LAZY = {
    "BodyDigestAuth": "._auth",
    "NonceErrorParser": "._auth",
    "HmacAuth": "._auth",
    "KeyPool": "._auth",
    "Poloniex": ".presets.poloniex",
    "RedisNonce": "._redis",
    "aiohttp_middleware": "._aiohttp",
}

__all__ = [
    "AsyncOrderedNonceSource",
    "BodyDigestAuth",
    "BodyDigestScheme",
    "BodyEncodingError",
    "BodyError",
    "ClockNonce",
    "ClockSync",
    "ConfigurationError",
    "FileNonce",
    "HmacAuth",
    "HmacBodyAuthError",
    "KeyPool",
    "LeaseTimeout",
    "NonceError",
    "NonceErrorParser",
    "NonceSource",
    "OrderedNonceSource",
    "OriginError",
    "Outgoing",
    "Poloniex",
    "RedirectError",
    "RedisNonce",
    "Scheme",
    "SignedCall",
    "SignedRequest",
    "Signer",
    "TimestampRejection",
    "__version__",
    "aiohttp_middleware",
    "clock_offset",
    "forget_clock_offsets",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
