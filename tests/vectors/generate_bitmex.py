"""Regenerate ``bitmex.json``: BitMEX REST API keys (``api-expires`` scheme), signed by BitMEX's own Python code.

Not run by the test suite. The official code is ``APIKeyAuthenticator`` in
``BitMEXAPIKeyAuthenticator.py``, shipped by the PyPI package ``bitmex`` 0.2.2 (BitMEX's
``bitmex/api-connectors`` ``official-http/python-swaggerpy``; the file at api-connectors commit
``9f8f5e699732424b6fb0f70d25782c3accadcce2`` has the same code, only comments differ)::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install bitmex==0.2.2 requests
    /tmp/vec/bin/python tests/vectors/generate_bitmex.py > tests/vectors/bitmex.json

What is called: ``APIKeyAuthenticator(host, key, secret).apply(requests.Request(...))``, the hook
bravado runs on every request: it sets ``api-expires``, ``api-key``, prepares the request and sets
``api-signature`` from ``generate_signature(secret, verb, prepared.path_url, expires, body)``. The
clock is fixed by replacing ``time.time`` inside that module; the signed message is captured by
wrapping its ``hmac``. No request is sent. (ccxt 4.5.90 no longer has BitMEX.)

Scheme spec (docs: https://www.bitmex.com/app/apiKeysUsage , "Authenticating with an API Key"):

* Algorithm: HMAC-SHA256 keyed with the API secret's UTF-8 bytes as they are (no base64
  decoding); digest **hex, lower case**: "``hex(HMAC_SHA256(apiSecret, verb + path + expires +
  data))``".
* Message: ``verb + path + expires + data``, no separators. ``verb`` upper case (``GET``,
  ``POST``, ``PUT``, ``DELETE``); ``path`` the request target exactly as sent: the path with
  ``/api/v1`` and, if there is one, ``?`` and the query string as it is on the wire (not
  decoded, not sorted; the docs' example signs ``/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D``
  with its ``+``); ``expires`` the decimal text of the header; ``data`` the raw body, ``""`` when
  there is none: "The data part of the HMAC construction should be exactly equal to the raw body
  you send to the server" (JSON "without whitespace between keys" in the SDK's comment, but any
  bytes work as long as the same bytes are sent). No body hash.
* Headers (all three, exact names, lower case as the docs write them):
  ``api-expires`` -- "A UNIX timestamp after which the request is no longer valid ... UNIX
  timestamps are in seconds. For example, 2018-02-08T04:30:37Z is 1518064237"; the SDK sends
  ``str(int(round(time.time()) + 5))`` ("5s grace period in case of clock skew"; the docs' node
  example uses +60). ``api-key`` -- the key id. ``api-signature`` -- the hex signature. No
  passphrase, no version header. The older ``api-nonce`` scheme is "no longer supported".
* Bodies: JSON (``Content-Type: application/json``) or form (``application/x-www-form-urlencoded``),
  or none; GET parameters go in the query string. The SDK signs ``prepared.body`` and fails with
  ``TypeError`` on a ``bytes`` body (``str + bytes``); non-ASCII text is signed as UTF-8.
* Stale ``api-expires``: HTTP 400, ``{"error":{"message":"This request has expired - `expires` is in the
  past. Current time: 1516534870","name":"HTTPError"}}`` (one line in the answer)
  (the current server time in Unix **seconds** is in the message; seen in BitMEX/sample-market-maker#49
  and BitMEX/api-connectors#17/#202, not in the docs). Bad signature: HTTP 401
  ``{"error":{"message":"Signature not valid.","name":"HTTPError"}}`` (ccxt/ccxt#1173, knowm/XChange#3145).
  The docs' Troubleshooting: "Ensure you are signing the exact string that is being sent to the
  server"; BitMEX/api-connectors#121: ``https://bitmex.com`` without ``www`` fails the signature.
* Receive window: none as such; the request is valid until ``api-expires`` (the client chooses how
  far ahead; the docs set no upper bound and none was verified here).
* Server time: ``GET /api/v1`` -> ``{"name":"BitMEX API","version":"1.2.0","timestamp":1554709447283}``
  (Unix ms; not in swagger.json, observed in third-party clients), or the ``Current time`` of the
  rejection above.
* Hosts: default origin ``https://www.bitmex.com``; testnet ``https://testnet.bitmex.com`` (option
  ``testnet``; the SDK's ``bitmex(test=True)`` default). Env var prefix: ``BITMEX``.

Docs examples: the three calculations on the docs page (key ``LAqUlngMIQkIUjXMUreyu3qn``, secret
``chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO``, expires 1518064236/7/8) are the first three
vectors; the SDK reproduces all three published signatures (asserted below). The docs page was
read through stored copies; the signatures are the ones quoted by several independent test suites.

Cross-check: ``docs_sign`` below is written from the docs alone and must agree with the SDK's
signature and message on every case.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import types
from typing import Any
from urllib.parse import urlsplit

import BitMEXAPIKeyAuthenticator  # type: ignore[import-not-found]
import requests

DOCS = "https://www.bitmex.com/app/apiKeysUsage"
ORIGIN = "https://www.bitmex.com"
TESTNET = "https://testnet.bitmex.com"
DOC_KEY = "LAqUlngMIQkIUjXMUreyu3qn"
DOC_SECRET = "chNOOS4KvNXR_Xq4k4c9qsfoKWvnDecLATCRlcBwyKDYnWgO"
DOC_SIGNATURES = {
    1518064236: "c7682d435d0cfe87c16098df34ef2eb5a549d4c5a3c2b1f0f77b8af73423bf00",
    1518064237: "e2f422547eecb5b3cb29ade2127e21b858b235b386bfa45e1c1756eb3383919f",
    1518064238: "1749cd2ccae4aa49048ae09f0b95110cee706e0944e6a14ad0b3a8cb45bd336b",
}
KEY = "hba-test-bitmex-key-0001"
SECRET = "hba-test-bitmex-secret-0123456789abcdefghijklmnopqrst"
JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"

# (name, key, secret, origin, method, path?query, content_type, body, clock_ms); the SDK's expires is
# round(clock) + 5 s, so the docs' expires E comes from clock_ms = (E - 5) * 1000.
CASES: list[tuple[str, str, str, str, str, str, str | None, str, int]] = [
    ("docs-example-get-instrument", DOC_KEY, DOC_SECRET, ORIGIN, "GET", "/api/v1/instrument", None, "", 1518064231000),
    (
        "docs-example-get-instrument-filter",
        DOC_KEY,
        DOC_SECRET,
        ORIGIN,
        "GET",
        "/api/v1/instrument?filter=%7B%22symbol%22%3A+%22XBTM15%22%7D",
        None,
        "",
        1518064232000,
    ),
    (
        "docs-example-post-order",
        DOC_KEY,
        DOC_SECRET,
        ORIGIN,
        "POST",
        "/api/v1/order",
        JSON_TYPE,
        '{"symbol":"XBTM15","price":219.0,"clOrdID":"mm_bitmex_1a/oemUeQ4CAJZgP3fjHsA","orderQty":98}',
        1518064233000,
    ),
    (
        "get-position-query-json-filter-and-columns",
        KEY,
        SECRET,
        ORIGIN,
        "GET",
        "/api/v1/position?filter=%7B%22symbol%22%3A%22XBTUSD%22%7D&columns=%5B%22currentQty%22%2C%22avgEntryPrice%22%5D",
        None,
        "",
        1700000000400,
    ),
    (
        "post-order-json-non-ascii-text",
        KEY,
        SECRET,
        ORIGIN,
        "POST",
        "/api/v1/order",
        JSON_TYPE,
        '{"symbol":"XBTUSD","side":"Buy","orderQty":100,"price":30000.5,"ordType":"Limit","text":"café é"}',
        1700000000600,
    ),
    (
        "delete-order-form-body-testnet",
        KEY,
        SECRET,
        TESTNET,
        "DELETE",
        "/api/v1/order",
        FORM_TYPE,
        "orderID=5f7b8f1e-0000-4000-8000-000000000001&text=cancel%20me",
        1700000001499,
    ),
]


def docs_sign(method: str, url: str, expires: int, body: str, secret: str) -> tuple[str, str]:
    """Sign per the docs alone: return (message, hex HMAC-SHA256) of verb + path(?query) + expires + data."""
    parts = urlsplit(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    message = method.upper() + path + str(expires) + body
    return message, hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


class _Recorder:
    """Stands in for the ``hmac`` module inside the SDK to keep the message it signs."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def new(self, key: bytes, msg: bytes, digestmod: Any) -> Any:
        self.messages.append(msg)
        return hmac.new(key, msg, digestmod=digestmod)


def main() -> None:
    """Print the vectors file as JSON."""
    recorder = _Recorder()
    BitMEXAPIKeyAuthenticator.hmac = types.SimpleNamespace(new=recorder.new)
    vectors = []
    for name, key, secret, origin, method, target, content_type, body, clock_ms in CASES:
        BitMEXAPIKeyAuthenticator.time = types.SimpleNamespace(time=lambda clock_ms=clock_ms: clock_ms / 1000)
        auth = BitMEXAPIKeyAuthenticator.APIKeyAuthenticator(origin, key, secret)
        headers = {"Content-Type": content_type} if content_type else {}
        request = requests.Request(method, origin + target, headers=headers, data=body or None)
        auth.apply(request)
        prepared = request.prepare()
        message = recorder.messages[-1].decode()
        expires = int(request.headers["api-expires"])
        signature = request.headers["api-signature"]
        doc_message, doc_signature = docs_sign(method, origin + target, expires, body, secret)
        assert doc_message == message, (name, doc_message, message)
        assert doc_signature == signature, name
        if key == DOC_KEY:
            assert DOC_SIGNATURES[expires] == signature, (name, signature)
        wire_body = prepared.body or ""
        vectors.append(
            {
                "name": name,
                "key": key,
                "secret": secret,
                "passphrase": None,
                "options": {"expires_after": 5, "testnet": origin == TESTNET},
                "method": method,
                "url": origin + target,
                "content_type": content_type,
                "body": body,
                "clock_ms": clock_ms,
                "nonce": None,
                "expected": {
                    "url": prepared.url,
                    "body": wire_body if isinstance(wire_body, str) else wire_body.decode(),
                    "headers": {h: request.headers[h] for h in ("api-expires", "api-key", "api-signature")},
                    "prehash": message,
                },
            }
        )
    print(
        json.dumps(
            {
                "source": "PyPI bitmex 0.2.2 BitMEXAPIKeyAuthenticator.APIKeyAuthenticator.apply "
                "(= BitMEX/api-connectors@9f8f5e699732424b6fb0f70d25782c3accadcce2 official-http/python-swaggerpy), "
                f"docs {DOCS}",
                "version": "bitmex 0.2.2",
                "generator": "tests/vectors/generate_bitmex.py",
                "vectors": vectors,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
