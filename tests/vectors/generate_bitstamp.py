"""Regenerate ``bitstamp.json`` with two independent implementations of Bitstamp's v2 signature.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_bitstamp.py > tests/vectors/bitstamp.json

1. ccxt's ``bitstamp.sign(path, api, method, params)`` with a fixed nonce and
   timestamp (its ``uuid`` and ``milliseconds`` methods are replaced on the
   instance); its url, body and headers are recorded. (ccxt sends ``foo=bar`` as the
   body of a POST without parameters: Bitstamp answers an empty POST with API0020.)
2. The Python example of https://www.bitstamp.net/api/ (section "Authentication"),
   transcribed below with the nonce and timestamp fixed (its request:
   ``POST /api/v2/user_transactions/`` with ``offset=1``).
"""

import hashlib
import hmac
import json
from urllib.parse import urlencode

import ccxt

KEY = "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
SECRET = "ZyXwVuTsRqPoNmLkJiHgFeDcBa543210"
CCXT_CASES = [
    ("POST /api/v2/balance/ (no parameters)", "balance/", {}, "f93c979d-b00d-43a9-9b9c-fd4cd9547fa6", 1567755304968),
    (
        "POST /api/v2/user_transactions/",
        "user_transactions/",
        {"offset": "1"},
        "0f6a2b44-2c3f-4c1e-9a55-bd3f0e5f1c2a",
        1700000000000,
    ),
    (
        "POST /api/v2/buy/btcusd/ (limit order)",
        "buy/{pair}/",
        {"pair": "btcusd", "amount": "0.001", "price": "20000"},
        "7d1c8e0a-5b4f-4e2d-8c6b-3a9f1e2d4c5b",
        1700000000001,
    ),
]


def docs_example(api_key: str, api_secret: bytes, nonce: str, timestamp: str) -> dict:
    """The documentation's example request, with the nonce and timestamp passed in."""
    content_type = "application/x-www-form-urlencoded"
    payload = {"offset": "1"}
    payload_string = urlencode(payload)
    # '' (empty string) in message represents any query parameters or an empty string in case there are none
    message = (
        "BITSTAMP "
        + api_key
        + "POST"
        + "www.bitstamp.net"
        + "/api/v2/user_transactions/"
        + ""
        + content_type
        + nonce
        + timestamp
        + "v2"
        + payload_string
    )
    message = message.encode("utf-8")
    signature = hmac.new(api_secret, msg=message, digestmod=hashlib.sha256).hexdigest()
    headers = {
        "X-Auth": "BITSTAMP " + api_key,
        "X-Auth-Signature": signature,
        "X-Auth-Nonce": nonce,
        "X-Auth-Timestamp": timestamp,
        "X-Auth-Version": "v2",
        "Content-Type": content_type,
    }
    return {"url": "https://www.bitstamp.net/api/v2/user_transactions/", "body": payload_string, "headers": headers}


_HEADERS = ("X-Auth", "X-Auth-Signature", "X-Auth-Nonce", "X-Auth-Timestamp", "X-Auth-Version")


def main() -> None:
    """Print the vectors as JSON."""
    exchange = ccxt.bitstamp({"apiKey": KEY, "secret": SECRET})
    vectors = []
    for name, path, params, nonce, ts in CCXT_CASES:
        exchange.uuid = lambda nonce=nonce: nonce
        exchange.milliseconds = lambda ts=ts: ts
        out = exchange.sign(path, ["private"], "POST", dict(params))
        headers = out["headers"]
        vectors.append(
            {
                "name": f"ccxt {ccxt.__version__}: {name}",
                "method": "POST",
                "url": out["url"],
                "body": out["body"] or "",
                "content_type": headers.get("Content-Type"),
                "nonce": nonce,
                "clock_ms": ts,
                "key": KEY,
                "secret": SECRET,
                "headers": {k: headers[k] for k in _HEADERS},
            }
        )
    nonce, ts = "a3c5e7f9-1b2d-4f60-8a9c-b1d3e5f70921", 1700000000002
    out = docs_example(KEY, SECRET.encode(), nonce, str(ts))
    vectors.append(
        {
            "name": "docs Python example: POST /api/v2/user_transactions/ offset=1",
            "method": "POST",
            "url": out["url"],
            "body": out["body"],
            "content_type": out["headers"]["Content-Type"],
            "nonce": nonce,
            "clock_ms": ts,
            "key": KEY,
            "secret": SECRET,
            "headers": {k: out["headers"][k] for k in _HEADERS},
        }
    )
    print(
        json.dumps(
            {
                "source": "ccxt bitstamp.sign() (https://github.com/ccxt/ccxt) and the Python example of "
                "https://www.bitstamp.net/api/ (Authentication)",
                "version": f"ccxt {ccxt.__version__}",
                "vectors": vectors,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
