"""Regenerate ``poloniex_v3.json`` with ccxt, an independent implementation of the Poloniex spot API.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_poloniex_v3.py > tests/vectors/poloniex_v3.json

ccxt's ``poloniex.sign(path, api, method, params)`` is called with a fixed timestamp
(its ``nonce`` method is replaced on the instance) and its url, body and headers are
recorded as the expected output.
"""

import json

import ccxt

KEY = "A1B2C3D4-E5F6G7H8-I9J0K1L2-M3N4O5P6"
SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
CASES = [
    ("GET /orders with query", "orders", "GET", {"symbol": "ETH_USDT", "limit": 5}, 1659259836247),
    ("GET /accounts/balances without query", "accounts/balances", "GET", {}, 1649371360000),
    (
        "POST /orders with JSON body",
        "orders",
        "POST",
        {"symbol": "BTC_USDT", "side": "BUY", "type": "LIMIT", "quantity": "100", "price": "40000.50000"},
        1659259836247,
    ),
    (
        "DELETE /orders/cancelByIds with JSON body",
        "orders/cancelByIds",
        "DELETE",
        {"orderIds": ["1234567890"]},
        1631018760000,
    ),
    ("DELETE /orders/{id} without body", "orders/{id}", "DELETE", {"id": "21934611974062080"}, 1631018760001),
]


def main() -> None:
    """Print the vectors file as JSON."""
    exchange = ccxt.poloniex({"apiKey": KEY, "secret": SECRET})
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
                "clock_ms": ts,
                "key": KEY,
                "secret": SECRET,
                "headers": {k: headers[k] for k in ("key", "signTimestamp", "signature")},
            }
        )
    print(
        json.dumps(
            {
                "source": "ccxt poloniex.sign() (https://github.com/ccxt/ccxt), scheme per https://api-docs.poloniex.com/spot/api#authentication",
                "version": f"ccxt {ccxt.__version__}",
                "vectors": vectors,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
