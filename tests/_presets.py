"""One valid request and valid credentials per preset of the registry, for tests that cover every preset."""

from __future__ import annotations

import base64
import inspect
from typing import Any, NamedTuple

from hmac_body_auth.presets import PRESETS, preset

KEY = "HBA-TEST-KEY-0001"
#: Valid for every preset: text for most, and the base64 that Kraken and Coinbase Exchange decode.
SECRET = base64.b64encode(b"hba-test-secret-bytes-0123456789").decode("ascii")
PASSPHRASE = "hba-test-passphrase"


class Sample(NamedTuple):
    """A request the preset signs: method, URL, body, content type."""

    method: str
    url: str
    body: bytes | None
    content_type: str | None


SAMPLES: dict[str, Sample] = {
    "binance": Sample("GET", "https://api.binance.com/api/v3/account", None, None),
    "bitfinex": Sample("POST", "https://api.bitfinex.com/v2/auth/r/wallets", b"{}", "application/json"),
    "bitstamp": Sample("POST", "https://www.bitstamp.net/api/v2/balance/", None, None),
    "bybit": Sample("GET", "https://api.bybit.com/v5/account/wallet-balance?accountType=UNIFIED", None, None),
    "coinbase-exchange": Sample("GET", "https://api.exchange.coinbase.com/accounts", None, None),
    "gemini": Sample("POST", "https://api.gemini.com/v1/balances", None, None),
    "hitbtc": Sample("GET", "https://api.hitbtc.com/api/3/spot/balance", None, None),
    "kraken": Sample("POST", "https://api.kraken.com/0/private/Balance", None, None),
    "kucoin": Sample("GET", "https://api.kucoin.com/api/v1/accounts", None, None),
    "okx": Sample("GET", "https://www.okx.com/api/v5/account/balance", None, None),
    "poloniex": Sample(
        "POST", "https://poloniex.com/tradingApi", b"command=returnBalances", "application/x-www-form-urlencoded"
    ),
    "poloniex-v3": Sample("GET", "https://api.poloniex.com/accounts/balances", None, None),
}
assert SAMPLES.keys() == PRESETS.keys(), "every preset of the registry needs a sample request"


def takes(cls: type[Any], argument: str) -> bool:
    """Whether ``cls``'s constructor names ``argument``."""
    return argument in inspect.signature(cls).parameters


def verify(name: str, auth: Any, *, key: str = KEY, secret: str = SECRET, passphrase: str = PASSPHRASE) -> Any:
    """Sign the preset's sample request with ``auth`` and return its verifier's verdict."""
    _, verifier_cls = preset(name)
    options: dict[str, Any] = {}
    if takes(verifier_cls, "passphrases"):
        options["passphrases"] = {key: passphrase}
    sample = SAMPLES[name]
    signed = auth.sign(sample.method, sample.url, body=sample.body, content_type=sample.content_type)
    return verifier_cls({key: secret}, **options).verify(sample.method, signed.url, signed.headers, signed.body)
