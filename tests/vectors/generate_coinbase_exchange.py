"""Regenerate ``coinbase_exchange.json`` with ccxt, an independent implementation of Coinbase Exchange.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_coinbase_exchange.py > tests/vectors/coinbase_exchange.json

ccxt's ``coinbaseexchange.sign(path, api, method, params)`` is called with a fixed
timestamp in seconds (its ``nonce`` method is replaced on the instance) and its url,
body and headers are recorded as the expected output.
"""

import json

import ccxt

KEY = "f1e2d3c4b5a6978812345678abcdef01"
# A base64 secret, as Coinbase Exchange issues them (the HMAC key is its decoding).
SECRET = "PYPd1Hv4J6/7x0Ofl+2lZWcl0Pm8Gf3nQ4d1VnHnZ0hnCtXhmxZkKFwvqOLrQUNaVbfnCr3l8bVmGQpNsTV3DA=="
PASSPHRASE = "correct horse battery"
CASES = [
    ("GET /accounts", "accounts", "GET", {}, 1700000000),
    ("GET /orders with query", "orders", "GET", {"status": "open", "product_id": "BTC-USD", "limit": 100}, 1700000001),
    (
        "POST /orders with JSON body",
        "orders",
        "POST",
        {"price": "1.0", "size": "1.0", "side": "buy", "product_id": "BTC-USD"},
        1700000002,
    ),
    ("DELETE /orders/{id}", "orders/{id}", "DELETE", {"id": "d0c5340b-6d6c-49d9-b567-48c4bfca13d2"}, 1700000003),
]


def main() -> None:
    """Print the vectors file as JSON."""
    exchange = ccxt.coinbaseexchange({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
    vectors = []
    for name, path, method, params, ts in CASES:
        exchange.nonce = lambda ts=ts: ts
        out = exchange.sign(path, ["private"], method, dict(params))
        headers = out["headers"]
        vectors.append(
            {
                "name": name,
                "method": method,
                "url": out["url"],
                "body": out["body"] or "",
                "content_type": "application/json" if out["body"] else None,
                "clock_ms": ts * 1000,
                "key": KEY,
                "secret": SECRET,
                "passphrase": PASSPHRASE,
                "headers": {
                    k: headers[k]
                    for k in ("CB-ACCESS-KEY", "CB-ACCESS-SIGN", "CB-ACCESS-TIMESTAMP", "CB-ACCESS-PASSPHRASE")
                },
            }
        )
    print(
        json.dumps(
            {
                "source": "ccxt coinbaseexchange.sign() (https://github.com/ccxt/ccxt), scheme per https://docs.cdp.coinbase.com/exchange/rest-api/authentication",
                "version": f"ccxt {ccxt.__version__}",
                "vectors": vectors,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
