r"""Regenerate ``htx.json``: HTX (Huobi) spot REST, signature version 2, signed by the official Python SDK.

Not run by the test suite. The SDK is not on PyPI under HTX's name; take it from GitHub
(``HuobiRDCenter/huobi_Python``, commit ``7d66d8832e47f3ac7650a9ce7bf79e5867266764``,
``v3.0.2-8-g7d66d88``, 2025-08-04) and put the checkout on ``HUOBI_PYTHON``::

    git clone https://github.com/HuobiRDCenter/huobi_Python /tmp/huobi_Python
    git -C /tmp/huobi_Python checkout 7d66d8832e47f3ac7650a9ce7bf79e5867266764
    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install requests apscheduler websocket-client cryptography
    HUOBI_PYTHON=/tmp/huobi_Python /tmp/vec/bin/python tests/vectors/generate_htx.py > tests/vectors/htx.json

What is called: ``huobi.connection.restapi_sync_client.RestApiSyncClient.create_request``
(``HttpMethod.GET_SIGN`` / ``HttpMethod.POST_SIGN``), which calls
``huobi/utils/api_signature.py:create_signature``. The clock is fixed by replacing
``huobi.utils.api_signature.utc_now`` (as the SDK's own ``tests/test_api_signature.py`` does);
the pre-signed text is captured by wrapping the ``hmac`` module that ``api_signature`` uses. No
request is sent.

Scheme spec (docs: https://www.htx.com/en-us/opend/newApiPages/ , "Authentication"; the text
quoted here is the same section of https://huobiapi.github.io/docs/spot/v1/en/#authentication ,
read from its source, ``huobiapi/docs`` branch ``v1_en``, ``source/index.html.md``):

* Algorithm: HMAC-SHA256, keyed with the Secret Key's UTF-8 bytes as they are (no decoding);
  digest **base64** (standard alphabet, with ``=`` padding). "Use the pre-signed text in step 6
  and your API Secret Key to generate hash code by HmacSHA256 hash function. Encode the hash code
  with base-64 to generate the signature."
* Pre-signed text: four lines joined by ``\n``, no trailing newline::

      METHOD\n
      host\n
      /path\n
      k1=v1&k2=v2...

  - METHOD: "The request Method (GET or POST, WebSocket use GET)", upper case.
  - host: "The host with lower case" (``api.huobi.pro``); no port ("Some http/websocket library
    may include port in the host, you can try to append port in signature host, like
    'api.huobi.pro:443'" -- i.e. the host must be the Host the request carries). The SDK uses
    ``urlparse(url).hostname`` (lower case, port dropped).
  - path: the request path, e.g. ``/v1/order/orders``.
  - query: every query parameter of the request plus ``AccessKeyId``, ``SignatureMethod=HmacSHA256``,
    ``SignatureVersion=2`` and ``Timestamp``, "URL encoded, and ordered based on ASCII", joined with
    ``&``: "Use UTF-8 encoding and URL encoded, the hex must be upper case. For example, The
    semicolon ':' should be encoded as '%3A', The space should be encoded as '%20'." The SDK
    encodes each value with ``urllib.parse.quote(value, safe='')`` (unreserved ``A-Za-z0-9-_.~``
    kept, everything else ``%XX`` upper case, space ``%20``) and leaves names as they are; it
    sorts by name (Python ``str`` order = ASCII for ASCII names). ``Signature`` is not part of it.
* GET vs POST: "For GET request, all the parameters must be signed. For POST request, the
  parameters needn't be signed and they should be put in request body." A POST's JSON body is
  **not signed at all**; its signed query holds only the four auth parameters (plus anything
  else put in its query string). With no body and no query the query line is still the four
  auth parameters. There is no body hash.
* Timestamp: query parameter ``Timestamp``, UTC, ``YYYY-MM-DDThh:mm:ss`` (seconds, no fraction,
  no ``Z``); "The value is valid within 5 minutes" (Signature Method step 4) but the FAQ (Q6)
  says "The time difference between your timestamp and standard should be less than 1 minute".
  Milliseconds of the clock are truncated (the SDK uses ``utcnow().strftime``).
* Signature: query parameter ``Signature``, the base64 text URL-encoded
  (``+`` -> ``%2B``, ``/`` -> ``%2F``, ``=`` -> ``%3D``), appended last.
* Wire URL: the SDK sends ``urlencode(params)`` in insertion order: the caller's parameters,
  then ``AccessKeyId``, ``SignatureVersion``, ``SignatureMethod``, ``Timestamp``, ``Signature``.
  ``urlencode`` is ``quote_plus``: a space goes out as ``+`` while ``%20`` was signed; the
  server decodes the query and re-encodes it, so order and ``+``/``%20`` on the wire do not
  matter, only the decoded values. The docs' own final URL puts ``order-id`` second.
* Headers: none for authentication (no key, signature or timestamp header). The SDK sends
  ``Content-Type: application/x-www-form-urlencoded`` on signed GETs and
  ``Content-Type: application/json`` on POSTs ("The Content-Type in POST header should be
  application/json", FAQ Q8).
* Bodies: POST bodies are JSON ("POST request: All parameters are formatted as JSON and put int
  the request body"); the SDK sends ``json.dumps(dict)`` (default separators ``", "``/``": "``,
  ``ensure_ascii=True``: ``é`` -> ``\u00e9``). Since the body is unsigned, any JSON is fine.
* Stale timestamp: ``{"status":"error","err-code":"api-signature-not-valid","err-msg":"Signature
  not valid: Invalid submission time or incorrect time format
  [无效的提交时间<U+FF0C>或时间格式错误]","data":null}``
  (``<U+FF0C>`` is a FULLWIDTH COMMA in the answer; as reported in ccxt/ccxt#25931, 2025;
  older servers answered ``Signature not valid: 无效的提交时间``), with HTTP 200 (HTX
  answers errors with 200 and ``"status":"error"``; not documented for this error). A bad
  signature: ``"err-msg":"Signature not valid: Verification failure [校验失败]"``, same
  ``err-code``.
* Server time: ``GET /v1/common/timestamp`` -> ``{"status":"ok","data":1494900087029}`` (Unix
  milliseconds; docs show only ``"data": 1494900087029``).
* Hosts: default origin ``https://api.huobi.pro`` (also ``https://api-aws.huobi.pro``, "optimized
  for AWS client"); no public spot testnet is documented. Env var prefix: ``HTX``.

Docs example: the docs give the pre-signed text for ``GET /v1/order/orders?order-id=1234567890``
with ``AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx`` at ``2017-05-11T15:19:30`` and the signature
``4F65x5A2bLyMWVQj3Aqp+B4w+ivaA7n5Oi2SuYtCJ9o=``, but not the secret key (masked), so only the
pre-signed text can be checked; the first vector asserts the SDK builds it byte for byte, and signs
it with this file's own test secret.

Cross-check: ``docs_sign`` below is written from the docs alone and must agree with the SDK's URL
parameters, pre-signed text and signature on every case.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import types
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

if "HUOBI_PYTHON" not in os.environ:
    raise SystemExit("set HUOBI_PYTHON to a checkout of HuobiRDCenter/huobi_Python (see the docstring)")
sys.path.insert(0, os.environ["HUOBI_PYTHON"])

import huobi.utils.api_signature as api_signature  # type: ignore[import-not-found]
from huobi.connection.restapi_sync_client import RestApiSyncClient  # type: ignore[import-not-found]
from huobi.constant import HttpMethod  # type: ignore[import-not-found]

SDK = "HuobiRDCenter/huobi_Python"
COMMIT = "7d66d8832e47f3ac7650a9ce7bf79e5867266764"
DOCS = "https://www.htx.com/en-us/opend/newApiPages/ (Authentication), https://huobiapi.github.io/docs/spot/v1/en/#authentication"
ORIGIN = "https://api.huobi.pro"

KEY = "hba-test-htx-access-key"
SECRET = "hba-test-htx-secret-key-0123456789"
DOC_KEY = "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"
DOC_PRESIGNED = (
    "GET\napi.huobi.pro\n/v1/order/orders\n"
    "AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256&SignatureVersion=2"
    "&Timestamp=2017-05-11T15%3A19%3A30&order-id=1234567890"
)

# (name, key, method, path, params, clock_ms)
CASES: list[tuple[str, str, str, str, dict[str, str], int]] = [
    (
        "docs-example-get-order (pre-signed text from the docs; own secret)",
        DOC_KEY,
        "GET",
        "/v1/order/orders",
        {"order-id": "1234567890"},
        1494515970000,
    ),
    ("get-accounts-no-query", KEY, "GET", "/v1/account/accounts", {}, 1700000000000),
    (
        "get-open-orders-query-sorted",
        KEY,
        "GET",
        "/v1/order/openOrders",
        {"symbol": "btcusdt", "account-id": "100009", "side": "buy", "size": "10"},
        1700000000999,
    ),
    (
        "get-query-encoding-space-comma-colon-non-ascii",
        KEY,
        "GET",
        "/v1/order/orders",
        {"symbol": "ethusdt", "states": "filled,partial-canceled", "start-time": "12:30", "note": "a b é~*"},
        1700000001234,
    ),
    (
        "post-place-order-json-body-unsigned",
        KEY,
        "POST",
        "/v1/order/orders/place",
        {
            "account-id": "100009",
            "amount": "10.1",
            "price": "100.1",
            "source": "api",
            "symbol": "ethusdt",
            "type": "buy-limit",
            "client-order-id": "a0001",
        },
        1700000002000,
    ),
    (
        "post-json-body-non-ascii",
        KEY,
        "POST",
        "/v2/sub-user/tradable-market",
        {"subUids": "10001", "accountType": "isolated-margin", "activation": "activated", "note": "café"},
        1700000003000,
    ),
]


def _timestamp(clock_ms: int) -> str:
    """HTX's ``YYYY-MM-DDThh:mm:ss`` in UTC, milliseconds truncated."""
    moment = datetime.datetime.fromtimestamp(clock_ms // 1000, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def docs_sign(method: str, url: str, key: str, secret: str, timestamp: str) -> tuple[str, str]:
    """Sign per the docs alone: return (pre-signed text, base64 signature); the query of ``url`` is signed."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    params += [
        ("AccessKeyId", key),
        ("SignatureMethod", "HmacSHA256"),
        ("SignatureVersion", "2"),
        ("Timestamp", timestamp),
    ]
    # "URL encoded, and ordered based on ASCII"; "the hex must be upper case", space is %20.
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params))
    presigned = "\n".join([method.upper(), (parts.hostname or "").lower(), parts.path, query])
    digest = hmac.new(secret.encode(), presigned.encode(), hashlib.sha256).digest()
    return presigned, base64.b64encode(digest).decode()


class _Recorder:
    """Stands in for the ``hmac`` module inside ``api_signature`` to keep the message it signs."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def new(self, key: bytes, msg: bytes, digestmod: Any) -> Any:
        self.messages.append(msg)
        return hmac.new(key, msg=msg, digestmod=digestmod)


def main() -> None:
    """Print the vectors file as JSON."""
    recorder = _Recorder()
    api_signature.hmac = types.SimpleNamespace(new=recorder.new)
    vectors = []
    for name, key, method, path, params, clock_ms in CASES:
        stamp = _timestamp(clock_ms)
        api_signature.utc_now = lambda stamp=stamp: stamp
        client = RestApiSyncClient(api_key=key, secret_key=SECRET, url=ORIGIN)
        kind = HttpMethod.GET_SIGN if method == "GET" else HttpMethod.POST_SIGN
        request = client.create_request(kind, path, dict(params), None)
        presigned = recorder.messages[-1].decode()
        wire_url = ORIGIN + request.url
        wire_query = dict(parse_qsl(urlsplit(wire_url).query))
        signature = wire_query["Signature"]
        if method == "GET":
            caller_url = ORIGIN + path + ("?" + urlencode(params) if params else "")
            body = ""
            content_type = None
        else:
            caller_url = ORIGIN + path
            # What the SDK's call_sync sends: data=json.dumps(request.post_body).
            body = json.dumps(request.post_body)
            content_type = "application/json"
        doc_presigned, doc_signature = docs_sign(method, caller_url, key, SECRET, stamp)
        assert doc_presigned == presigned, (name, doc_presigned, presigned)
        assert doc_signature == signature, (name, doc_signature, signature)
        if key == DOC_KEY:
            assert presigned == DOC_PRESIGNED, presigned
        vectors.append(
            {
                "name": name,
                "key": key,
                "secret": SECRET,
                "passphrase": None,
                "options": {},
                "method": method,
                "url": caller_url,
                "content_type": content_type,
                "body": body,
                "clock_ms": clock_ms,
                "nonce": None,
                "expected": {
                    "url": wire_url,
                    "body": body,
                    "headers": {},
                    "query": {
                        k: wire_query[k] for k in ("AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp")
                    },
                    "signature": signature,
                    "sdk_content_type": request.header.get("Content-Type"),
                    "prehash": presigned,
                },
            }
        )
    print(
        json.dumps(
            {
                "source": f"{SDK} @ {COMMIT} (huobi/utils/api_signature.py create_signature"
                f" via RestApiSyncClient.create_request), {DOCS}",
                "version": f"git {COMMIT} (v3.0.2-8-g7d66d88)",
                "generator": "tests/vectors/generate_htx.py",
                "vectors": vectors,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
