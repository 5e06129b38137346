"""Ready-made auth objects for HMAC-signed APIs, one module per API.

Each preset is ``Name(key, secret, *, passphrase=... where the API has one,
nonce=..., clock=..., <the API's own options>, **HmacAuth options)`` and comes with
a server-side ``NameVerifier``. Modules load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .binance import Binance, BinanceVerifier
    from .bitfinex import Bitfinex, BitfinexVerifier
    from .bitstamp import Bitstamp, BitstampVerifier
    from .bybit import Bybit, BybitVerifier
    from .coinbase_exchange import CoinbaseExchange, CoinbaseExchangeVerifier
    from .gemini import Gemini, GeminiVerifier
    from .hitbtc import HitBTC, HitBTCVerifier
    from .kraken import Kraken, KrakenVerifier
    from .kucoin import KuCoin, KuCoinVerifier
    from .okx import OKX, OKXVerifier
    from .poloniex import Poloniex, PoloniexVerifier, poloniex_nonce_error
    from .poloniex_v3 import PoloniexV3, PoloniexV3Verifier

#: CLI / HTTPie name -> (module, auth class, verifier class).
PRESETS: dict[str, tuple[str, str, str]] = {
    "binance": ("binance", "Binance", "BinanceVerifier"),
    "bitfinex": ("bitfinex", "Bitfinex", "BitfinexVerifier"),
    "bitstamp": ("bitstamp", "Bitstamp", "BitstampVerifier"),
    "bybit": ("bybit", "Bybit", "BybitVerifier"),
    "coinbase-exchange": ("coinbase_exchange", "CoinbaseExchange", "CoinbaseExchangeVerifier"),
    "gemini": ("gemini", "Gemini", "GeminiVerifier"),
    "hitbtc": ("hitbtc", "HitBTC", "HitBTCVerifier"),
    "kraken": ("kraken", "Kraken", "KrakenVerifier"),
    "kucoin": ("kucoin", "KuCoin", "KuCoinVerifier"),
    "okx": ("okx", "OKX", "OKXVerifier"),
    "poloniex": ("poloniex", "Poloniex", "PoloniexVerifier"),
    "poloniex-v3": ("poloniex_v3", "PoloniexV3", "PoloniexV3Verifier"),
}

_NAMES: dict[str, str] = {"poloniex_nonce_error": "poloniex"}
for _module, _auth, _verifier in PRESETS.values():
    _NAMES[_auth] = _NAMES[_verifier] = _module

__all__ = [  # noqa: RUF022 - plain sorted() order, which a test checks
    "Binance",
    "BinanceVerifier",
    "Bitfinex",
    "BitfinexVerifier",
    "Bitstamp",
    "BitstampVerifier",
    "Bybit",
    "BybitVerifier",
    "CoinbaseExchange",
    "CoinbaseExchangeVerifier",
    "Gemini",
    "GeminiVerifier",
    "HitBTC",
    "HitBTCVerifier",
    "Kraken",
    "KrakenVerifier",
    "KuCoin",
    "KuCoinVerifier",
    "OKX",
    "OKXVerifier",
    "PRESETS",
    "Poloniex",
    "PoloniexV3",
    "PoloniexV3Verifier",
    "PoloniexVerifier",
    "poloniex_nonce_error",
    "preset",
]


def preset(name: str) -> tuple[type[Any], type[Any]]:
    """Return ``(auth class, verifier class)`` for a preset's CLI name, e.g. ``"kraken"``."""
    module, auth, verifier = PRESETS[name]
    loaded = importlib.import_module(f".{module}", __name__)
    return getattr(loaded, auth), getattr(loaded, verifier)


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
