"""Regenerate ``bitfinex.json``: vectors signed by ccxt's Bitfinex (API v2) implementation.

Not run by the test suite. ccxt is never a project dependency: use a separate venv::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_bitfinex.py

Bitfinex's docs (https://docs.bitfinex.com/docs/rest-auth) publish the recipe
but no signature, so one vector is computed here from the recipe itself with
hashlib (``/api/`` + apiPath + nonce + body, HMAC-SHA384, hex), independently of
the package. ccxt's ``bitfinex.sign(path, api, method, params)`` is called with
``incrementing_nonce`` fixed on the instance.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import ccxt  # type: ignore[import-not-found]

DOCS = "https://docs.bitfinex.com/docs/rest-auth"
KEY = "HBA-TEST-BITFINEX-KEY"
SECRET = "hba-test-bitfinex-secret-0123456789abcdef"

CASES = [
    ("ccxt-wallets", "auth/r/wallets", {}, 1700000000000000),
    (
        "ccxt-order-submit",
        "auth/w/order/submit",
        {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.001", "price": "30000", "flags": 0},
        1700000000000001,
    ),
    ("ccxt-orders-hist", "auth/r/orders/{symbol}/hist", {"symbol": "tBTCUSD", "limit": 25}, 1700000000000002),
]


def main() -> None:
    """Write bitfinex.json next to this script."""
    nonce, body = 1700000000123456, '{"type":"EXCHANGE LIMIT","symbol":"tETHUSD","amount":"-0.5","price":"2000"}'
    recipe = f"/api/v2/auth/w/order/submit{nonce}{body}".encode()
    vectors = [
        {
            "name": "bitfinex-docs-recipe",
            "source": f"{DOCS} recipe computed with hashlib (no package code)",
            "compare": ["url", "body", "headers"],
            "key": KEY,
            "secret": SECRET,
            "method": "POST",
            "url": "https://api.bitfinex.com/v2/auth/w/order/submit",
            "content_type": "application/json",
            "body": body,
            "nonce": nonce,
            "expected": {
                "url": "https://api.bitfinex.com/v2/auth/w/order/submit",
                "body": body,
                "headers": {
                    "bfx-nonce": str(nonce),
                    "bfx-apikey": KEY,
                    "bfx-signature": hmac.new(SECRET.encode(), recipe, hashlib.sha384).hexdigest(),
                },
                "content_type": None,
            },
        }
    ]
    for name, path, params, nonce in CASES:
        exchange = ccxt.bitfinex({"apiKey": KEY, "secret": SECRET})
        exchange.incrementing_nonce = lambda nonce=nonce: nonce
        out = exchange.sign(path, ["private"], "POST", params)
        headers = dict(out["headers"])
        content_type = headers.pop("Content-Type", None)
        vectors.append(
            {
                "name": name,
                "source": f"ccxt {ccxt.__version__} bitfinex.sign({path!r}, ['private'], 'POST', params)",
                "compare": ["url", "body", "headers"],
                "key": KEY,
                "secret": SECRET,
                "method": "POST",
                "url": out["url"],
                "content_type": None,
                "body": out["body"] if out["body"] != "{}" else "",
                "nonce": nonce,
                "expected": {"url": out["url"], "body": out["body"], "headers": headers, "content_type": content_type},
            }
        )
    document = {
        "source": f"Bitfinex docs recipe ({DOCS}) and ccxt {ccxt.__version__}",
        "version": ccxt.__version__,
        "vectors": vectors,
    }
    Path(__file__).with_name("bitfinex.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
