"""Regenerate ``okx.json`` with ccxt, an independent implementation of the OKX v5 API.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_okx.py > tests/vectors/okx.json

ccxt's ``okx.sign(path, api, method, params)`` is called with a fixed millisecond
timestamp (its ``nonce`` method is replaced on the instance; ccxt formats it as
ISO-8601) and its url, body and headers are recorded. The first case uses the
timestamp and path of the example in https://www.okx.com/docs-v5/en/#overview-rest-authentication
(``2020-12-08T09:08:57.715Z``, ``/api/v5/account/balance?ccy=BTC``).
"""

import json

import ccxt

KEY = "985d5b66-57ce-40fb-b714-afc0b9787083"
SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
PASSPHRASE = "Passphrase-123"
CASES = [
    ("docs example: GET /api/v5/account/balance?ccy=BTC", "account/balance", "GET", {"ccy": "BTC"}, 1607418537715),
    ("GET /api/v5/account/positions without query", "account/positions", "GET", {}, 1700000000000),
    (
        "POST /api/v5/account/set-leverage (docs body example)",
        "account/set-leverage",
        "POST",
        {"instId": "BTC-USDT", "lever": "5", "mgnMode": "isolated"},
        1700000000001,
    ),
    (
        "POST /api/v5/trade/order with clOrdId",
        "trade/order",
        "POST",
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "clOrdId": "b15",
            "side": "buy",
            "ordType": "limit",
            "px": "2.15",
            "sz": "2",
        },
        1700000000002,
    ),
]


def main() -> None:
    """Print the vectors file as JSON."""
    exchange = ccxt.okx({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
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
                "passphrase": PASSPHRASE,
                "headers": {
                    k: headers[k]
                    for k in ("OK-ACCESS-KEY", "OK-ACCESS-SIGN", "OK-ACCESS-TIMESTAMP", "OK-ACCESS-PASSPHRASE")
                },
            }
        )
    print(
        json.dumps(
            {
                "source": "ccxt okx.sign() (https://github.com/ccxt/ccxt), scheme per https://www.okx.com/docs-v5/en/#overview-rest-authentication",
                "version": f"ccxt {ccxt.__version__}",
                "vectors": vectors,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
