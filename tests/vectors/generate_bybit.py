"""Regenerate ``bybit.json`` with ccxt, an independent implementation of the Bybit v5 API.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_bybit.py > tests/vectors/bybit.json

ccxt's ``bybit.sign(path, api, method, params)`` is called with a fixed millisecond
timestamp (its ``nonce`` method is replaced on the instance) and its url, body and
headers are recorded. The first two cases use the timestamps, key and parameters of
the plain-text examples in https://bybit-exchange.github.io/docs/v5/guide (which
publishes no signature, so ccxt computes it).
"""

import json

import ccxt

SECRET = "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
CASES = [
    (
        "guide GET example: /v5/order/realtime",
        "XXXXXXXXXX",
        "v5/order/realtime",
        "GET",
        {"category": "option", "symbol": "BTC-29JUL22-25000-C"},
        1658384314791,
        5000,
    ),
    (
        "guide POST example: /v5/order/create",
        "XXXXXXXXXX",
        "v5/order/create",
        "POST",
        {"category": "option"},
        1658385579423,
        5000,
    ),
    (
        "GET /v5/account/wallet-balance, recv_window 20000",
        "a1b2c3d4e5f6g7h8i9",
        "v5/account/wallet-balance",
        "GET",
        {"accountType": "UNIFIED", "coin": "BTC"},
        1700000000000,
        20000,
    ),
    (
        "POST /v5/order/create, limit order",
        "a1b2c3d4e5f6g7h8i9",
        "v5/order/create",
        "POST",
        {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.1", "price": "15600"},
        1700000000001,
        5000,
    ),
]


def main() -> None:
    """Print the vectors file as JSON."""
    vectors = []
    for name, key, path, method, params, ts, recv_window in CASES:
        exchange = ccxt.bybit({"apiKey": key, "secret": SECRET, "options": {"recvWindow": recv_window}})
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
                "recv_window": recv_window,
                "key": key,
                "secret": SECRET,
                "headers": {
                    k: headers[k] for k in ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW", "X-BAPI-SIGN")
                },
            }
        )
    print(
        json.dumps(
            {
                "source": "ccxt bybit.sign() (https://github.com/ccxt/ccxt), scheme and the first two cases' inputs per https://bybit-exchange.github.io/docs/v5/guide",
                "version": f"ccxt {ccxt.__version__}",
                "vectors": vectors,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
