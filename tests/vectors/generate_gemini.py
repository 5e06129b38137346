"""Regenerate ``gemini.json``: Gemini's documented example plus vectors signed by ccxt.

Not run by the test suite. ccxt is never a project dependency: use a separate venv::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_gemini.py

The documented example signs a hand-formatted payload (indentation, a blank
line), which no client builds; it is ``compare: ["verify"]``: the verifier must
accept it and the signer reproduce its signature. ccxt's vectors are reproduced
byte for byte in the headers (ccxt sends the nonce as a JSON string, so the test
injects it as a str). ccxt also sends ``{}`` as the body, where Gemini's docs say
the body is empty; the scheme sends it empty, so the body is not compared.
ccxt's ``gemini.sign`` is called with ``incrementing_nonce`` fixed on the instance.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import ccxt  # type: ignore[import-not-found]

DOCS = "https://docs.gemini.com/rest-api/#private-api-invocation"
DOC_PAYLOAD = '{\n    "request": "/v1/order/status",\n    "nonce": 123456,\n\n    "order_id": 18834\n}\n'
DOC_SIGNATURE = "337cc8b4ea692cfe65b4a85fcc9f042b2e3f702ac956fd098d600ab15705775017beae402be773ceee10719ff70d710f"
KEY = "account-HBATESTGEMINIKEY"
SECRET = "hba-test-gemini-secret-0123456789"

CASES = [
    ("ccxt-balances", "v1/balances", {}, 1700000000000),
    (
        "ccxt-order-new",
        "v1/order/new",
        {
            "client_order_id": "hba-1",
            "symbol": "btcusd",
            "amount": "0.001",
            "price": "30000",
            "side": "buy",
            "type": "exchange limit",
        },
        1700000000001,
    ),
    ("ccxt-mytrades", "v1/mytrades", {"symbol": "ethusd", "limit_trades": 50}, 1700000000002),
]


def main() -> None:
    """Write gemini.json next to this script."""
    vectors = [
        {
            "name": "gemini-docs-order-status",
            "source": f"{DOCS} (Payload creation: the documented payload, secret 1234abcd and signature; "
            "the key is a placeholder)",
            "compare": ["verify"],
            "key": "GEMINI-DOCS-EXAMPLE-KEY",
            "secret": "1234abcd",
            "method": "POST",
            "url": "https://api.gemini.com/v1/order/status",
            "content_type": "text/plain",
            "body": "",
            "payload": DOC_PAYLOAD,
            "expected": {
                "url": "https://api.gemini.com/v1/order/status",
                "body": "",
                "headers": {
                    "X-GEMINI-APIKEY": "GEMINI-DOCS-EXAMPLE-KEY",
                    "X-GEMINI-PAYLOAD": base64.b64encode(DOC_PAYLOAD.encode()).decode(),
                    "X-GEMINI-SIGNATURE": DOC_SIGNATURE,
                },
                "content_type": "text/plain",
                "nonce": 123456,
            },
        }
    ]
    for name, path, params, nonce in CASES:
        exchange = ccxt.gemini({"apiKey": KEY, "secret": SECRET})
        exchange.incrementing_nonce = lambda nonce=nonce: nonce
        out = exchange.sign(path, ["private"], "POST", params)
        headers = dict(out["headers"])
        content_type = headers.pop("Content-Type", None)
        vectors.append(
            {
                "name": name,
                "source": f"ccxt {ccxt.__version__} gemini.sign({path!r}, ['private'], 'POST', params)",
                "compare": ["url", "headers"],
                "key": KEY,
                "secret": SECRET,
                "method": "POST",
                "url": out["url"],
                "content_type": "application/json",
                "body": json.dumps(params, separators=(",", ":")) if params else "",
                "nonce": str(nonce),
                "expected": {"url": out["url"], "body": out["body"], "headers": headers, "content_type": content_type},
            }
        )
    document = {
        "source": f"Gemini docs ({DOCS}) and ccxt {ccxt.__version__}",
        "version": ccxt.__version__,
        "vectors": vectors,
    }
    Path(__file__).with_name("gemini.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
