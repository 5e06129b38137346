"""Regenerate ``binance.json``: Binance's three documented HMAC examples plus vectors signed by ccxt.

Not run by the test suite. ccxt is never a project dependency: use a separate venv::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_binance.py

The documented examples (``compare`` url/body/headers) are reproduced byte for
byte by the scheme. ccxt puts ``timestamp`` first and ``recvWindow`` after the
caller's parameters, where the scheme (like the docs) appends them; the
signature construction is the same but the bytes differ, so ccxt's vectors are
``compare: ["verify"]``: the verifier must accept ccxt's exact request.
ccxt's ``binance.sign`` is called with ``nonce`` (its timestamp) fixed on the instance.
"""

from __future__ import annotations

import json
from pathlib import Path

import ccxt  # type: ignore[import-not-found]

DOCS = "https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security"
DOCS_MD = "https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md"
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PARAMS = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
DOC_TAIL = "recvWindow=5000&timestamp=1499827319559"
SIG_1_2 = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
SIG_3 = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
ORDER = "https://api.binance.com/api/v3/order"

KEY = "HBA-TEST-BINANCE-KEY"
SECRET = "hba-test-binance-secret-0123456789abcdef"

CASES = [
    ("ccxt-get-account", "account", "GET", {}, 1700000000000),
    ("ccxt-get-openorders", "openOrders", "GET", {"symbol": "BTCUSDT"}, 1700000000001),
    (
        "ccxt-post-order",
        "order",
        "POST",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": "30000",
            "newClientOrderId": "hba-1",
        },
        1700000000002,
    ),
    ("ccxt-delete-order", "order", "DELETE", {"symbol": "BTCUSDT", "orderId": "12345"}, 1700000000003),
]


def _doc(name: str, method: str, url: str, body: str, expected_url: str, expected_body: str, sig: str) -> dict:
    return {
        "name": name,
        "source": f"{DOCS_MD} (SIGNED Endpoint Examples for POST /api/v3/order, HMAC Keys), also {DOCS}",
        "compare": ["url", "body", "headers"],
        "key": DOC_KEY,
        "secret": DOC_SECRET,
        "method": method,
        "url": url,
        "content_type": "application/x-www-form-urlencoded" if body else None,
        "body": body,
        "clock_ms": 1499827319559,
        "recv_window": 5000,
        "expected": {
            "url": expected_url,
            "body": expected_body,
            "headers": {"X-MBX-APIKEY": DOC_KEY},
            "content_type": None,
            "signature": sig,
        },
    }


def main() -> None:
    """Write binance.json next to this script."""
    vectors = [
        _doc(
            "binance-docs-example-1-body",
            "POST",
            ORDER,
            DOC_PARAMS,
            ORDER,
            f"{DOC_PARAMS}&{DOC_TAIL}&signature={SIG_1_2}",
            SIG_1_2,
        ),
        _doc(
            "binance-docs-example-2-query",
            "POST",
            f"{ORDER}?{DOC_PARAMS}",
            "",
            f"{ORDER}?{DOC_PARAMS}&{DOC_TAIL}&signature={SIG_1_2}",
            "",
            SIG_1_2,
        ),
        _doc(
            "binance-docs-example-3-mixed",
            "POST",
            f"{ORDER}?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
            "quantity=1&price=0.1",
            f"{ORDER}?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
            f"quantity=1&price=0.1&{DOC_TAIL}&signature={SIG_3}",
            SIG_3,
        ),
    ]
    for name, path, method, params, stamp in CASES:
        exchange = ccxt.binance({"apiKey": KEY, "secret": SECRET})
        exchange.nonce = lambda stamp=stamp: stamp
        out = exchange.sign(path, ["private"], method, params)
        headers = dict(out["headers"])
        content_type = headers.pop("Content-Type", None)
        vectors.append(
            {
                "name": name,
                "source": f"ccxt {ccxt.__version__} binance.sign({path!r}, ['private'], {method!r}, params)",
                "compare": ["verify"],
                "key": KEY,
                "secret": SECRET,
                "method": method,
                "url": out["url"],
                "content_type": content_type,
                "body": out["body"] or "",
                "clock_ms": stamp,
                "expected": {
                    "url": out["url"],
                    "body": out["body"] or "",
                    "headers": headers,
                    "content_type": content_type,
                    "timestamp_ms": stamp,
                },
            }
        )
    document = {
        "source": f"Binance docs ({DOCS_MD}) and ccxt {ccxt.__version__}",
        "version": ccxt.__version__,
        "vectors": vectors,
    }
    Path(__file__).with_name("binance.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
