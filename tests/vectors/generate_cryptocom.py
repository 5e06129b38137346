"""Regenerate ``cryptocom.json``: Crypto.com Exchange API v1, private REST methods, signed by ccxt.

Not run by the test suite. Crypto.com publishes no Python SDK; the official code is the examples in
the docs (JavaScript, Python, C#, Java) and ``crypto-com/cdcx-cli`` (Rust,
``crates/cdcx-core/src/signing.rs`` and ``api_client.rs``, commit
``d8ddc0612bacacbab3824ff2f89b8a33e5d086b7``), read as code. The second implementation, called
here, is ccxt (PyPI ``ccxt``, version printed in the file)::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    /tmp/vec/bin/python tests/vectors/generate_cryptocom.py > tests/vectors/cryptocom.json

What is called: ``ccxt.cryptocom.sign(path, ['v1', 'private'], 'POST', params)`` with the
instance's ``nonce`` fixed; the signed payload is captured by wrapping the instance's ``hmac``.
ccxt sets the request ``id`` to the nonce. No request is sent.

Scheme spec (docs: https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature ,
same text at https://exchange-developer.crypto.com/exchange/v1/docs/api/rest-common-api-reference ,
"Digital Signature" and "Request Format"):

* Algorithm: HMAC-SHA256 keyed with the API Secret's UTF-8 bytes as they are; digest **hex,
  lower case** ("Encode the output as a hex string -- this is your Digital Signature"; the
  examples use ``.hexdigest()`` / ``Hex.encodeHexString``).
* Message: ``method + id + api_key + parameter_string + nonce``, no separators:
  "1. If "params" exist in the request, sort the request parameter keys in ascending order.
  2. Combine all the ordered parameter keys as key + value (no spaces, no delimiters). Let's call
  this the parameter string 3. Next, do the following: method + id + api_key + parameter string +
  nonce". ``method`` is the API method (``private/get-order-detail``), not the HTTP verb; ``id``
  and ``nonce`` as the decimal text that is in the body.
* Parameter string, recursively (the docs' JavaScript ``objectToString``/``arrayToString``, the
  Java ``appendParamString``, the official Rust ``build_param_recursive``): an object contributes,
  for each key in ascending (code point) order, ``key`` then its value's string; a list contributes
  its elements' strings in order (no index, no key); a string is itself; ``null`` is ``null``. The
  Python and Java examples stop recursing at depth 3 (``MAX_LEVEL = 3``: deeper values are
  ``str()``-ed). Signed over the **parsed** values, not the body bytes: the JSON formatting, key
  order and escapes of the body do not matter. "All numbers must be strings, and must be wrapped in
  double quotes" -- numbers and booleans have no agreed text (see "Disagreements").
* Empty params: the parameter string is empty, ``params`` is still sent as ``{}`` ("Use {} when a
  method has no parameters").
* Where things go: everything is in the JSON body, nothing in headers or the query:
  ``{"id": ..., "method": ..., "params": {...}, "api_key": ..., "sig": ..., "nonce": ...}``.
  ``id`` is a request identifier (0 .. 2^63-1, echoed in the answer), ``nonce`` "Current
  timestamp in milliseconds since the Unix epoch" (decimal; the docs' examples send both as
  strings, ``"id": "1"``, ``"nonce": "1587846358253"``; the schema says long). ccxt sends both as
  the same string (``id`` = nonce); cdcx-cli sends numbers (``id`` from a counter).
* HTTP: ``POST https://api.crypto.com/exchange/v1/{method}`` (the method in the URL path too),
  ``Content-Type: application/json`` ("REST API requests must be sent with Content-Type:
  application/json"). Public methods are ``GET`` with a query string and are not signed.
* Caller convention used in these vectors: the caller POSTs the ``params`` object as its JSON body
  (``{}`` or ``""`` for none) to ``.../exchange/v1/{method}``; the scheme writes the whole request
  (``id``, ``method`` from the URL path after ``/exchange/v1/``, ``params``, ``api_key``, ``sig``,
  ``nonce``) as the body, like ccxt. ``options.id`` says what ``id`` is (``"nonce"``: the nonce's
  text, as ccxt; an integer: that id). The last vector is the docs' own example in the other
  convention (``options.envelope = "fill"``: the caller's body already holds ``id``, ``method``,
  ``params``; the scheme adds ``api_key``, ``nonce``, ``sig``), signed by ``docs_sign`` only
  (ccxt cannot set an id other than the nonce) and checked against the docs' JavaScript example
  run under node with crypto-js 4 (done by hand, see the report; not run here).
* Stale nonce: HTTP 400, code ``40102`` "INVALID_NONCE:Nonce value differs by more than 60 seconds"
  (Response and Reason Codes); the answer has the documented error shape
  ``{"id": "1", "method": "private/get-order-detail", "code": "40102", "message": "INVALID_NONCE"}``
  (shape from the per-method examples, e.g. 401 ``{"id":"1","method":"private/get-order-detail",
  "code":"40101","message":"UNAUTHORIZED"}``; ``code`` is a string in the examples and an int in
  "Response Format"). Receive window: +-60 s. Bad key or signature: HTTP 401, code ``40101``.
* Server time: no time endpoint is documented in v1 (the method index lists none) and answers
  carry no top-level time; the HTTP ``Date`` header is the only source (seconds).
* Hosts: default origin ``https://api.crypto.com`` (path prefix ``/exchange/v1/``); UAT sandbox
  ``https://uat-api.3ona.co/exchange/v1/{method}`` (option ``demo``). Env var prefix: ``CRYPTOCOM``.

Disagreements (none affect string-only params, which is all the API takes):

* ``null``: docs Python/JS/Java and Rust sign ``null``; ccxt signs ``None``.
* booleans: JS/Java/Rust ``true``/``false``; the docs' Python example and ccxt ``True``/``False``.
* numbers: Java strips trailing zeros of a double (``1.0`` -> ``1``); JS prints ``1``; Python/ccxt
  and Rust ``1.0``.
* a list of strings (``"exec_inst": ["POST_ONLY"]``): JS/Java/Rust/ccxt sign the strings; the
  docs' Python ``params_to_str`` raises ``TypeError`` (it iterates the string's characters as keys).
* an object that is not inside a list: JS/Java/Rust recurse; the Python example and ccxt sign
  ``str(dict)`` (Python repr). No v1 method takes one, as far as the docs show.

Cross-check: ``docs_sign`` below is written from the docs (JavaScript semantics) and must agree
with ccxt's signed payload and ``sig`` on every ccxt case.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import ccxt  # type: ignore[import-not-found]

DOCS = "https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature"
ORIGIN = "https://api.crypto.com"
PREFIX = "/exchange/v1/"
KEY = "hba-test-cryptocom-api-key"
SECRET = "hba-test-cryptocom-secret-0123456789"

# (name, method, params, clock_ms); ccxt's id and nonce are the clock's milliseconds.
CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("user-balance-empty-params", "private/user-balance", {}, 1700000000000),
    (
        "get-order-detail (docs request example params)",
        "private/get-order-detail",
        {"order_id": "19848525"},
        1700000000001,
    ),
    (
        "create-order-list-nested (docs Python example params)",
        "private/create-order-list",
        {
            "contingency_type": "LIST",
            "order_list": [
                {"instrument_name": "ONE_USDT", "side": "BUY", "type": "LIMIT", "price": "0.24", "quantity": "1.0"},
                {
                    "instrument_name": "ONE_USDT",
                    "side": "BUY",
                    "type": "STOP_LIMIT",
                    "price": "0.27",
                    "quantity": "1.0",
                    "trigger_price": "0.26",
                },
            ],
        },
        1700000000002,
    ),
    (
        "create-order-non-ascii-and-string-list",
        "private/create-order",
        {
            "instrument_name": "BTC_USD",
            "side": "BUY",
            "type": "LIMIT",
            "price": "50000.5",
            "quantity": "0.01",
            "client_oid": "café-1",
            "exec_inst": ["POST_ONLY"],
            "time_in_force": "GOOD_TILL_CANCEL",
        },
        1700000000003,
    ),
    (
        "get-order-history-unsorted-keys",
        "private/get-order-history",
        {"start_time": "1699990000000", "end_time": "1700000000000", "limit": "20", "instrument_name": "ETH_USD"},
        1700000000004,
    ),
]

# The docs' JavaScript example request (Digital Signature), with its key and secret.
DOC_REQUEST = {"id": "11", "method": "private/get-order-detail", "params": {"order_id": "53287421324"}}
DOC_KEY, DOC_SECRET, DOC_NONCE = "token", "secretKey", "1587846358253"


def _param_string(value: Any) -> str:
    """Docs' ``objectToString``/``arrayToString``: sorted keys + values, lists flattened, null as ``null``."""
    if isinstance(value, dict):
        return "".join(key + _param_string(value[key]) for key in sorted(value))
    if isinstance(value, list):
        return "".join(_param_string(item) for item in value)
    return "null" if value is None else str(value)


def docs_sign(
    method: str, request_id: str, api_key: str, params: dict[str, Any], nonce: str, secret: str
) -> tuple[str, str]:
    """Sign per the docs alone: return (payload, lower-case hex HMAC-SHA256)."""
    payload = method + request_id + api_key + _param_string(params) + nonce
    return payload, hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def main() -> None:
    """Print the vectors file as JSON."""
    vectors = []
    for name, method, params, clock_ms in CASES:
        exchange = ccxt.cryptocom({"apiKey": KEY, "secret": SECRET})
        exchange.nonce = lambda clock_ms=clock_ms: clock_ms
        captured: list[bytes] = []
        original = exchange.hmac

        def recording_hmac(
            request: bytes, secret: bytes, *rest: Any, _orig: Any = original, _seen: list[bytes] = captured
        ) -> Any:
            _seen.append(request)
            return _orig(request, secret, *rest)

        exchange.hmac = recording_hmac
        out = exchange.sign(method, ["v1", "private"], "POST", json.loads(json.dumps(params)))
        wire = json.loads(out["body"])
        payload = captured[-1].decode()
        doc_payload, doc_sig = docs_sign(method, str(clock_ms), KEY, params, str(clock_ms), SECRET)
        assert doc_payload == payload, (name, doc_payload, payload)
        assert doc_sig == wire["sig"], name
        vectors.append(
            {
                "name": name,
                "key": KEY,
                "secret": SECRET,
                "passphrase": None,
                "options": {"id": "nonce", "demo": False},
                "method": "POST",
                "url": ORIGIN + PREFIX + method,
                "content_type": "application/json",
                "body": json.dumps(params, separators=(",", ":"), ensure_ascii=False),
                "clock_ms": clock_ms,
                "nonce": clock_ms,
                "expected": {
                    "url": out["url"],
                    "body": out["body"],
                    "headers": {},
                    "content_type": out["headers"]["Content-Type"],
                    "signature": wire["sig"],
                    "prehash": payload,
                },
            }
        )
    # The docs' example, "fill" convention: the caller's body holds id/method/params.
    doc_payload, doc_sig = docs_sign(
        DOC_REQUEST["method"], DOC_REQUEST["id"], DOC_KEY, DOC_REQUEST["params"], DOC_NONCE, DOC_SECRET
    )
    doc_wire = dict(DOC_REQUEST, api_key=DOC_KEY, nonce=DOC_NONCE, sig=doc_sig)
    vectors.append(
        {
            "name": "docs-js-example-get-order-detail (fill convention; docs_sign, checked with the docs' JS)",
            "key": DOC_KEY,
            "secret": DOC_SECRET,
            "passphrase": None,
            "options": {"envelope": "fill", "demo": False},
            "method": "POST",
            "url": ORIGIN + PREFIX + DOC_REQUEST["method"],
            "content_type": "application/json",
            "body": json.dumps(DOC_REQUEST, separators=(",", ":")),
            "clock_ms": int(DOC_NONCE),
            "nonce": DOC_NONCE,
            "expected": {
                "url": ORIGIN + PREFIX + DOC_REQUEST["method"],
                "body": json.dumps(doc_wire, separators=(",", ":")),
                "headers": {},
                "content_type": "application/json",
                "signature": doc_sig,
                "prehash": doc_payload,
            },
        }
    )
    print(
        json.dumps(
            {
                "source": f"ccxt {ccxt.__version__} cryptocom.sign() (https://github.com/ccxt/ccxt); docs {DOCS}; "
                "official code read: docs examples and "
                "crypto-com/cdcx-cli@d8ddc0612bacacbab3824ff2f89b8a33e5d086b7 signing.rs",
                "version": f"ccxt {ccxt.__version__}",
                "generator": "tests/vectors/generate_cryptocom.py",
                "vectors": vectors,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
