"""Regenerate ``kraken.json``: Kraken's documented example plus vectors signed by ccxt.

Not run by the test suite. ccxt is never a project dependency: use a separate venv::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_kraken.py

ccxt's ``kraken.sign(path, api, method, params)`` is called with its
``incrementing_nonce`` replaced on the instance by a fixed nonce; the URL, body
and headers it returns are recorded. ``body`` is the caller's form body (what a
user passes as ``data=``): ccxt's body without the leading ``nonce=N&``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import ccxt  # type: ignore[import-not-found]

DOCS = "https://docs.kraken.com/api/docs/guides/spot-rest-auth"
KEY = "HBA-TEST-KRAKEN-KEY"
SECRET = base64.b64encode(hashlib.sha512(b"hmac-body-auth kraken vector secret").digest()).decode()

CASES = [
    ("ccxt-balance", "Balance", {}, 1700000000000),
    (
        "ccxt-addorder",
        "AddOrder",
        {
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "price": "37500",
            "volume": "1.25",
            "oflags": "post,fciq",
        },
        1700000000001,
    ),
    ("ccxt-ledgers", "Ledgers", {"asset": "XBT,ETH", "start": "1690000000"}, 1700000000123),
]


def _split(headers: dict[str, str]) -> tuple[dict[str, str], str | None]:
    content_type = headers.pop("Content-Type", None)
    return headers, content_type


def main() -> None:
    """Write kraken.json next to this script."""
    vectors = [
        {
            "name": "kraken-docs-addorder",
            "source": DOCS + " (Examples: the documented API-Sign; the key is a placeholder, the docs give none)",
            "compare": ["url", "body", "headers"],
            "key": "KRAKEN-DOCS-EXAMPLE-KEY",
            "secret": "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
            "method": "POST",
            "url": "https://api.kraken.com/0/private/AddOrder",
            "content_type": "application/x-www-form-urlencoded",
            "body": "ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
            "nonce": 1616492376594,
            "expected": {
                "url": "https://api.kraken.com/0/private/AddOrder",
                "body": "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
                "headers": {
                    "API-Key": "KRAKEN-DOCS-EXAMPLE-KEY",
                    "API-Sign": "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8nd"
                    "wLUQ==",
                },
                "content_type": None,
            },
        }
    ]
    for name, path, params, nonce in CASES:
        exchange = ccxt.kraken({"apiKey": KEY, "secret": SECRET})
        exchange.incrementing_nonce = lambda nonce=nonce: nonce
        out = exchange.sign(path, ["private"], "POST", params)
        headers, content_type = _split(dict(out["headers"]))
        prefix = f"nonce={nonce}"
        body = out["body"]
        assert body == prefix or body.startswith(prefix + "&")
        vectors.append(
            {
                "name": name,
                "source": f"ccxt {ccxt.__version__} kraken.sign({path!r}, ['private'], 'POST', params)",
                "compare": ["url", "body", "headers"],
                "key": KEY,
                "secret": SECRET,
                "method": "POST",
                "url": out["url"],
                "content_type": None,
                "body": body[len(prefix) + 1 :],
                "nonce": nonce,
                "expected": {"url": out["url"], "body": body, "headers": headers, "content_type": content_type},
            }
        )
    document = {
        "source": f"Kraken docs ({DOCS}) and ccxt {ccxt.__version__}",
        "version": ccxt.__version__,
        "vectors": vectors,
    }
    Path(__file__).with_name("kraken.json").write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
