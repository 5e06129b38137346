"""Regenerate ``hitbtc.json`` with two independent implementations of HitBTC's HS256 signature.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_hitbtc.py > tests/vectors/hitbtc.json

1. ccxt's ``hitbtc.sign(path, api, method, params)`` with a fixed millisecond timestamp
   (its ``nonce`` method is replaced on the instance); its url, body and headers are
   recorded. ccxt sends no ``window``.
2. The ``HS256`` requests ``AuthBase`` example of the API documentation
   (https://api.hitbtc.com/, section "Authentication"; the same example is in the docs of
   HitBTC's sister exchange CryptoMarket, copied in github.com/felipeeterovic/cryptomkt
   ``auth_mkt.py``), transcribed below with its clock fixed and applied to ``requests``
   prepared requests; these cases carry a ``window``.
"""

import json
from base64 import b64encode
from hashlib import sha256
from hmac import HMAC
from urllib.parse import urlsplit

import ccxt
import requests
from requests.auth import AuthBase

KEY = "2dbe8d8b5a8c4e7bb0c3f2a1d9e6b7c4"
SECRET = "8f3e2b1a9c7d6e5f4a3b2c1d0e9f8a7b"
CCXT_CASES = [
    ("GET /api/3/spot/balance", "spot/balance", "GET", {}, 1700000000000),
    ("GET /api/3/spot/order with query", "spot/order", "GET", {"symbol": "ETHBTC"}, 1700000000001),
    (
        "POST /api/3/spot/order (JSON body)",
        "spot/order",
        "POST",
        {"symbol": "ETHBTC", "side": "buy", "type": "limit", "quantity": "0.063", "price": "0.046016"},
        1700000000002,
    ),
]
DOCS_CASES = [
    (
        "docs AuthBase: GET /api/3/spot/balance with window",
        "GET",
        "https://api.hitbtc.com/api/3/spot/balance",
        None,
        10000,
        1700000000003,
    ),
    (
        "docs AuthBase: GET /api/3/spot/history/order with query and window",
        "GET",
        "https://api.hitbtc.com/api/3/spot/history/order?symbol=BTCUSDT&limit=10",
        None,
        5000,
        1700000000004,
    ),
    (
        "docs AuthBase: POST /api/3/spot/order form body with window",
        "POST",
        "https://api.hitbtc.com/api/3/spot/order",
        {"symbol": "ETHBTC", "side": "sell", "quantity": "0.063", "price": "0.046016"},
        60000,
        1700000000005,
    ),
]


class HS256(AuthBase):
    """The documentation's example, with the timestamp injected instead of read from time()."""

    def __init__(self, api_key: str, secret_key: str, window: int | None, timestamp: int) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.window = window
        self.timestamp = timestamp

    def __call__(self, r):
        """Sign ``r`` as the documentation does."""
        url = urlsplit(r.url)
        message = [r.method, url.path]
        if url.query:
            message.append("?")
            message.append(url.query)
        if r.body:
            message.append(r.body)
        timestamp = str(self.timestamp)
        window = str(self.window) if self.window else None
        message.append(timestamp)
        if window:
            message.append(window)
        signature = HMAC(key=self.secret_key.encode(), msg="".join(message).encode(), digestmod=sha256).hexdigest()
        data = [self.api_key, signature, timestamp]
        if window:
            data.append(window)
        base64_encoded = b64encode(":".join(data).encode()).decode()
        r.headers["Authorization"] = f"HS256 {base64_encoded}"
        return r


def main() -> None:
    """Print the vectors as JSON."""
    exchange = ccxt.hitbtc({"apiKey": KEY, "secret": SECRET})
    vectors = []
    for name, path, method, params, ts in CCXT_CASES:
        exchange.nonce = lambda ts=ts: ts
        out = exchange.sign(path, ["private"], method, dict(params))
        vectors.append(
            {
                "name": f"ccxt {ccxt.__version__}: {name}",
                "method": method,
                "url": out["url"],
                "body": out["body"] or "",
                "content_type": "application/json" if out["body"] else None,
                "clock_ms": ts,
                "window": None,
                "key": KEY,
                "secret": SECRET,
                "headers": {"Authorization": out["headers"]["Authorization"]},
            }
        )
    for name, method, url, data, window, ts in DOCS_CASES:
        prepared = requests.Request(method, url, data=data, auth=HS256(KEY, SECRET, window, ts)).prepare()
        body = prepared.body or ""
        vectors.append(
            {
                "name": name,
                "method": method,
                "url": prepared.url,
                "body": body if isinstance(body, str) else body.decode(),
                "content_type": prepared.headers.get("Content-Type"),
                "clock_ms": ts,
                "window": window,
                "key": KEY,
                "secret": SECRET,
                "headers": {"Authorization": prepared.headers["Authorization"]},
            }
        )
    print(
        json.dumps(
            {
                "source": "ccxt hitbtc.sign() (https://github.com/ccxt/ccxt) and the HS256 requests AuthBase of "
                "https://api.hitbtc.com/ (Authentication, HS256)",
                "version": f"ccxt {ccxt.__version__}, requests {requests.__version__}",
                "vectors": vectors,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
