"""Ready-made auth objects for HMAC-signed APIs, one module per API.

Each preset is ``Name(key, secret, *, passphrase=... where the API has one,
nonce=..., clock=..., <the API's own options>, **HmacAuth options)`` and comes with
a server-side ``NameVerifier``. Modules load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from .binance import Binance, BinanceVerifier
    from .binance_futures import BinanceFutures, BinanceFuturesVerifier
    from .bitfinex import Bitfinex, BitfinexVerifier
    from .bitget import Bitget, BitgetVerifier
    from .bitmex import BitMEX, BitMEXVerifier
    from .bitstamp import Bitstamp, BitstampVerifier
    from .bitvavo import Bitvavo, BitvavoVerifier
    from .bybit import Bybit, BybitVerifier
    from .coinbase_exchange import CoinbaseExchange, CoinbaseExchangeVerifier
    from .cryptocom import CryptoCom, CryptoComVerifier
    from .deribit import Deribit, DeribitVerifier
    from .gateio import GateIO, GateIOVerifier
    from .gemini import Gemini, GeminiVerifier
    from .hitbtc import HitBTC, HitBTCVerifier
    from .htx import HTX, HTXVerifier
    from .kraken import Kraken, KrakenVerifier
    from .kucoin import KuCoin, KuCoinVerifier
    from .mexc import MEXC, MEXCVerifier
    from .okx import OKX, OKXVerifier
    from .poloniex import Poloniex, PoloniexVerifier, poloniex_nonce_error
    from .poloniex_v3 import PoloniexV3, PoloniexV3Verifier
    from .webhooks import (
        GitHubWebhook,
        GitHubWebhookVerifier,
        ShopifyWebhook,
        ShopifyWebhookVerifier,
        SlackWebhook,
        SlackWebhookVerifier,
        StandardWebhook,
        StandardWebhookVerifier,
        StripeWebhook,
        StripeWebhookVerifier,
    )

#: The registry: every preset, once. Name -> (module, auth class, verifier class); the rest
#: (title, passphrase, environment prefix, doc URL, headers) comes from the module's recipe (:func:`entry`).
PRESETS: dict[str, tuple[str, str, str]] = {
    "binance": ("binance", "Binance", "BinanceVerifier"),
    "binance-futures": ("binance_futures", "BinanceFutures", "BinanceFuturesVerifier"),
    "bitfinex": ("bitfinex", "Bitfinex", "BitfinexVerifier"),
    "bitget": ("bitget", "Bitget", "BitgetVerifier"),
    "bitmex": ("bitmex", "BitMEX", "BitMEXVerifier"),
    "bitstamp": ("bitstamp", "Bitstamp", "BitstampVerifier"),
    "bitvavo": ("bitvavo", "Bitvavo", "BitvavoVerifier"),
    "bybit": ("bybit", "Bybit", "BybitVerifier"),
    "coinbase-exchange": ("coinbase_exchange", "CoinbaseExchange", "CoinbaseExchangeVerifier"),
    "cryptocom": ("cryptocom", "CryptoCom", "CryptoComVerifier"),
    "deribit": ("deribit", "Deribit", "DeribitVerifier"),
    "gateio": ("gateio", "GateIO", "GateIOVerifier"),
    "gemini": ("gemini", "Gemini", "GeminiVerifier"),
    "hitbtc": ("hitbtc", "HitBTC", "HitBTCVerifier"),
    "htx": ("htx", "HTX", "HTXVerifier"),
    "kraken": ("kraken", "Kraken", "KrakenVerifier"),
    "kucoin": ("kucoin", "KuCoin", "KuCoinVerifier"),
    "mexc": ("mexc", "MEXC", "MEXCVerifier"),
    "okx": ("okx", "OKX", "OKXVerifier"),
    "poloniex": ("poloniex", "Poloniex", "PoloniexVerifier"),
    "poloniex-v3": ("poloniex_v3", "PoloniexV3", "PoloniexV3Verifier"),
}

#: The webhook schemes (a shared secret, no API key: ``Name(secret)``), registered the same way.
WEBHOOKS: dict[str, tuple[str, str, str]] = {
    "github-webhook": ("webhooks", "GitHubWebhook", "GitHubWebhookVerifier"),
    "shopify-webhook": ("webhooks", "ShopifyWebhook", "ShopifyWebhookVerifier"),
    "slack-webhook": ("webhooks", "SlackWebhook", "SlackWebhookVerifier"),
    "standard-webhooks": ("webhooks", "StandardWebhook", "StandardWebhookVerifier"),
    "stripe-webhook": ("webhooks", "StripeWebhook", "StripeWebhookVerifier"),
}

_NAMES: dict[str, str] = {"poloniex_nonce_error": "poloniex"}
for _module, _auth, _verifier in (*PRESETS.values(), *WEBHOOKS.values()):
    _NAMES[_auth] = _NAMES[_verifier] = _module

__all__ = [  # noqa: RUF022 - plain sorted() order, which a test checks
    "Binance",
    "BinanceFutures",
    "BinanceFuturesVerifier",
    "BinanceVerifier",
    "BitMEX",
    "BitMEXVerifier",
    "Bitfinex",
    "BitfinexVerifier",
    "Bitget",
    "BitgetVerifier",
    "Bitstamp",
    "BitstampVerifier",
    "Bitvavo",
    "BitvavoVerifier",
    "Bybit",
    "BybitVerifier",
    "CoinbaseExchange",
    "CoinbaseExchangeVerifier",
    "CryptoCom",
    "CryptoComVerifier",
    "Deribit",
    "DeribitVerifier",
    "Entry",
    "GateIO",
    "GateIOVerifier",
    "Gemini",
    "GeminiVerifier",
    "GitHubWebhook",
    "GitHubWebhookVerifier",
    "HTX",
    "HTXVerifier",
    "HitBTC",
    "HitBTCVerifier",
    "Kraken",
    "KrakenVerifier",
    "KuCoin",
    "KuCoinVerifier",
    "MEXC",
    "MEXCVerifier",
    "OKX",
    "OKXVerifier",
    "PRESETS",
    "Poloniex",
    "PoloniexV3",
    "PoloniexV3Verifier",
    "PoloniexVerifier",
    "ShopifyWebhook",
    "ShopifyWebhookVerifier",
    "SlackWebhook",
    "SlackWebhookVerifier",
    "StandardWebhook",
    "StandardWebhookVerifier",
    "StripeWebhook",
    "StripeWebhookVerifier",
    "WEBHOOKS",
    "canonical",
    "entry",
    "poloniex_nonce_error",
    "preset",
    "registry",
    "webhook_entries",
]


class Entry(NamedTuple):
    """One preset of the registry, as the CLI, HTTPie, the pytest fixtures, log redaction and the docs see it."""

    name: str
    """What users type (``"kraken"``)."""
    title: str
    """The API's name (``"Kraken"``)."""
    auth: type[Any]
    verifier: type[Any]
    needs_passphrase: bool
    env_prefix: str
    """``from_env`` reads ``{env_prefix}_API_KEY`` (and ``_API_SECRET``, ``_API_PASSPHRASE``)."""
    doc: str
    """The API documentation the preset follows."""
    origin: str
    """The API's usual origin."""
    header_names: frozenset[str]
    """Every header (lowercase) the preset may set: removed before a redirect to another origin."""
    secret_encoding: str
    """How the API's secrets are written (``"base64"`` for Kraken): a test secret must decode."""
    secret_headers: frozenset[str]
    """The headers (lowercase) that carry the key, the signature, the passphrase or a signed payload:
    what log redaction hides (a timestamp or a nonce stays readable)."""
    keyed: bool
    """Whether requests carry an API key (``Name(key, secret)``); ``False`` for a webhook (``Name(secret)``)."""


def canonical(name: object) -> str:
    """The registry name for ``name`` as a user typed it (any case, ``_`` or ``-``).

    Raises:
        ConfigurationError: not a preset; the message lists the valid names.

    """
    from ..errors import ConfigurationError

    key = name.strip().lower().replace("_", "-") if isinstance(name, str) else None
    if key is None or (key not in PRESETS and key not in WEBHOOKS):
        shown = repr(name) if isinstance(name, str) and len(name) <= 40 else "that name"
        raise ConfigurationError(
            f"no preset named {shown}; the presets are: {', '.join(PRESETS)}; the webhooks: {', '.join(WEBHOOKS)}"
        )
    return key


def preset(name: str) -> tuple[type[Any], type[Any]]:
    """Return ``(auth class, verifier class)`` for a preset's name, e.g. ``"kraken"`` (any case)."""
    key = canonical(name)
    module, auth, verifier = PRESETS.get(key) or WEBHOOKS[key]
    loaded = importlib.import_module(f".{module}", __name__)
    return getattr(loaded, auth), getattr(loaded, verifier)


def entry(name: str) -> Entry:
    """The registry entry of a preset (any case), derived from its recipe."""
    key = canonical(name)
    auth, verifier = preset(key)
    recipe = auth.recipe
    return Entry(
        key,
        recipe.title,
        auth,
        verifier,
        recipe.needs_passphrase,
        recipe.env_prefix,
        recipe.doc,
        recipe.origin,
        recipe.header_names(),
        recipe.secret_encoding,
        recipe.secret_header_names(),
        recipe.keyed,
    )


def registry() -> list[Entry]:
    """Every API preset's entry (key and secret), in name order."""
    return [entry(name) for name in PRESETS]


def webhook_entries() -> list[Entry]:
    """Every webhook scheme's entry (a secret only), in name order."""
    return [entry(name) for name in WEBHOOKS]


def __getattr__(name: str) -> Any:
    module = _NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
