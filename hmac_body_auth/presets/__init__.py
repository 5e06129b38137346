"""Ready-made auth objects for HMAC-signed APIs, one module per API."""

from __future__ import annotations

from .poloniex import Poloniex, poloniex_nonce_error

__all__ = ["Poloniex", "poloniex_nonce_error"]
