"""Sign HTTP requests with an HMAC of their exact body, for requests and httpx.

>>> import hmac_body_auth as hba
>>> auth = hba.Poloniex(key="API-KEY", secret="SECRET")
>>> # requests.post(url, data={"command": "returnBalances"}, auth=auth)
"""

from __future__ import annotations

from ._auth import BodyDigestAuth, NonceErrorParser
from ._core import SignedBody
from ._signing import Signer
from .errors import (
    BodyEncodingError,
    BodyError,
    ConfigurationError,
    HmacBodyAuthError,
    LeaseTimeout,
    NonceError,
    NonceRejected,
    RedirectError,
)
from .nonces import ClockNonce, NonceSource, OrderedNonceSource
from .presets import Poloniex

__version__ = "0.1.0"

__all__ = [
    "BodyDigestAuth",
    "BodyEncodingError",
    "BodyError",
    "ClockNonce",
    "ConfigurationError",
    "HmacBodyAuthError",
    "LeaseTimeout",
    "NonceError",
    "NonceErrorParser",
    "NonceRejected",
    "NonceSource",
    "OrderedNonceSource",
    "Poloniex",
    "RedirectError",
    "SignedBody",
    "Signer",
    "__version__",
]
