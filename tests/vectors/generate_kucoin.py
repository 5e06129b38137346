"""Regenerate ``kucoin.json`` with ccxt, an independent implementation of the KuCoin API signature.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_kucoin.py > tests/vectors/kucoin.json

ccxt's ``kucoin.sign(path, api, method, params)`` is called with a fixed millisecond
timestamp (its ``nonce`` method is replaced on the instance) and its url, body and
headers are recorded. ccxt signs API keys of version 2 (the passphrase is HMAC'd).
The paths and bodies are those of the examples in
https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message
and https://www.kucoin.com/docs-new/authentication. ccxt puts the query string on the
URL without percent-encoding it; ``wire_url`` is the same URL as requests and httpx
send it (percent-encoded), which KuCoin signs decoded ("the URL must use the content
that has not been URL-encoded"), so both must give the same signature.
"""

import json
from urllib.parse import urlencode

import ccxt

KEY = "5c2db93503aa674c74a31734"
SECRET = "f03a5284-5c39-4aaa-9b20-dea10bdcf8e3"
PASSPHRASE = "QWIxOWJwQ01PQkhD"
CASES = [
    ("docs example: GET /api/v1/accounts", "accounts", "GET", {}, 1547015186532),
    (
        "docs example: GET /api/v1/deposit-addresses?currency=XBT",
        "deposit-addresses",
        "GET",
        {"currency": "XBT"},
        1700000000000,
    ),
    ("docs example: POST /api/v1/deposit-addresses", "deposit-addresses", "POST", {"currency": "BTC"}, 1700000000001),
    (
        "POST /api/v1/orders (limit order)",
        "orders",
        "POST",
        {
            "clientOid": "5c52e11203aa677f33e493fb",
            "side": "buy",
            "symbol": "BTC-USDT",
            "type": "limit",
            "price": "20000",
            "size": "0.001",
        },
        1700000000002,
    ),
    (
        "docs example: GET /api/v1/sub/api-key with characters that are percent-encoded on the wire",
        "sub/api-key",
        "GET",
        {"apiKey": "67b3", "subName": "test", "passphrase": "abc!@#11"},
        1700000000003,
    ),
]


def main() -> None:
    """Print the vectors as JSON."""
    exchange = ccxt.kucoin({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
    vectors = []
    for name, path, method, params, ts in CASES:
        exchange.nonce = lambda ts=ts: ts
        out = exchange.sign(path, ["private"], method, dict(params))
        headers = out["headers"]
        url = out["url"]
        wire_url = url.split("?", 1)[0] + ("?" + urlencode(params) if method == "GET" and params else "")
        vectors.append(
            {
                "name": name,
                "method": method,
                "url": url,
                "wire_url": wire_url,
                "body": out["body"] or "",
                "content_type": headers.get("Content-Type"),
                "clock_ms": ts,
                "key": KEY,
                "secret": SECRET,
                "passphrase": PASSPHRASE,
                "key_version": 2,
                "headers": {
                    k: headers[k]
                    for k in (
                        "KC-API-KEY",
                        "KC-API-SIGN",
                        "KC-API-TIMESTAMP",
                        "KC-API-PASSPHRASE",
                        "KC-API-KEY-VERSION",
                    )
                },
            }
        )
    print(
        json.dumps(
            {
                "source": "ccxt kucoin.sign() (https://github.com/ccxt/ccxt), scheme per "
                "https://www.kucoin.com/docs-new/authentication",
                "version": f"ccxt {ccxt.__version__}",
                "vectors": vectors,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
