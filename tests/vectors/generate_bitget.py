r"""Regenerate ``bitget.json`` with Bitget's official Python SDK; the module docstring is the scheme spec.

Not run by the test suite. To rerun (the SDK is not on PyPI; it lives in the
``bitget-python-sdk-api`` folder of https://github.com/BitgetLimited/v3-bitget-api-sdk)::

    git clone https://github.com/BitgetLimited/v3-bitget-api-sdk /tmp/bitget-sdk
    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install requests pycryptodome ccxt
    BITGET_SDK_DIR=/tmp/bitget-sdk/bitget-python-sdk-api \
        /tmp/vec/bin/python tests/vectors/generate_bitget.py > tests/vectors/bitget.json

SDK called: ``bitget-python-sdk-api`` at commit 9bdab50a014598875f9fd07faa09f22001fb5877
(2024-02-22; the folder last changed in 906328b8, 2024-01-31), files ``bitget/client.py``
(``Client._request``: builds the URL, body and headers) and ``bitget/utils.py``
(``pre_hash``, ``sign``, ``get_header``, ``parse_params_to_str``). Its clock
``utils.get_timestamp`` is replaced by a fixed value and ``requests`` inside
``bitget.client`` by a recorder (nothing is sent). ccxt (PyPI, version in the JSON)
is a second implementation; it also gives the demo-trading vector, which the SDK
cannot make. ``docs_sign`` below is written from the docs alone and must agree with
both on every vector.

Scheme spec (Bitget v2 REST)
============================

Docs: https://www.bitget.com/api-doc/common/signature ("Signature"; the stored copy
is dated 2023-11), the HMAC sample at
https://www.bitget.com/zh-CN/api-doc/common/signature-samaple/hmac (same code as
the SDK's ``utils.py``), demo trading at
https://www.bitget.com/api-doc/common/demotrading/restapi, server time at
https://www.bitget.com/api-doc/common/public/Get-Server-Time.

* Algorithm: HMAC-SHA256; digest **base64** (standard alphabet, padded); the secret
  is used **raw** (its UTF-8 bytes, no decoding). Docs: "The request header of
  ACCESS-SIGN is to encrypt timestamp + method.toUpperCase() + requestPath + "?" +
  queryString + body string (+ means string concat) by HMAC SHA256 algorithm with
  secretKey. and encode the encrypted result through BASE64."
* Message: ``timestamp + METHOD + requestPath + "?" + queryString + body``, no
  separators. Docs: "If the queryString is empty, signature content timestamp +
  method.toUpperCase() + requestPath + body"; "If the queryString not empty,
  signature content timestamp + method.toUpperCase() + requestPath + "?" +
  queryString + body". ``requestPath`` is the path (``/api/v2/spot/account/assets``).
  ``body``: "The request body in string format. If the request body is empty
  (usually a GET request), the body can be omitted" -- i.e. nothing is appended
  when there is no body (no hash, no ``{}``).
* Query string: the docs' example signs ``?limit=20&symbol=BTCUSDT``, and a newer
  copy of the page adds "Need to be sorted in ascending alphabetical order by key";
  the 2023-11 copy shows ``?symbol=BTCUSDT&limit=20`` instead. The SDK sorts the
  parameters by key and **sends them in that sorted order**, so the signed query is
  always the query on the wire. Safe rule for the preset: sign the query exactly as
  it is sent, and send it sorted by key (or leave the caller's order alone and
  sign that; the server verifies what it receives -- unverified which).
* Query encoding: the SDK builds the query **without percent-encoding**
  (``toQueryWithNoEncode``); ``requests`` then percent-encodes non-ASCII and spaces
  on the wire (UTF-8, ``%E9%BE%99``) while the signature covers the **raw,
  decoded** text. ccxt does the same deliberately ("bitget signs the raw
  (non-percent-encoded) query string", ccxt PR #28890 after issue #28888, error
  40009 for a non-ASCII symbol). So the signed ``queryString`` is the wire query
  percent-decoded as UTF-8 (``%XX`` only; ``+`` stays ``+``). See the vector
  "GET with a non-ASCII query value".
* GET vs POST: the SDK puts GET parameters in the query and POST parameters in a
  JSON body (``json.dumps(params)``: Python's default separators ``", "``/``": "``
  and ``\uXXXX`` escapes); any exact body bytes may be sent, the signature covers
  them as sent (UTF-8). POST requests with a query string sign ``path?query`` then
  the body. DELETE is not used by v2 (cancels are POST).
* Timestamp: header ``ACCESS-TIMESTAMP``, Unix **milliseconds** as decimal digits
  (docs: "Value equals to milliseconds since Epoch"). No nonce.
* Headers (exact names): ``ACCESS-KEY`` (the API key), ``ACCESS-SIGN`` (the
  signature), ``ACCESS-TIMESTAMP``, ``ACCESS-PASSPHRASE`` (the passphrase chosen
  at key creation, sent as is), ``Content-Type: application/json`` ("Please set to
  application/json for all POST request"; the SDK sends it on GET too), and
  optionally ``locale`` (``en-US``/``zh-CN``; the SDK sends ``zh-CN``; not signed).
  Demo trading: header ``paptrading: 1`` with a demo API key (docs: "add
  paptrading in the request header, with the value set to 1"); not signed; ccxt
  sends it as ``PAPTRADING`` (header names are case-insensitive).
* Bodies: JSON only (``application/json``); none for GET.
* Stale timestamp: code ``40008`` "Request timestamp expired" (ccxt's table also
  maps ``40004`` "Request timestamp expired" and ``40005`` "Invalid
  ACCESS_TIMESTAMP" to InvalidNonce). Answer shape (Bitget's common envelope):
  ``{"code":"40008","msg":"Request timestamp expired","requestTime":1700000000000,"data":null}``
  with HTTP 400 -- the HTTP status and the exact JSON are as reported by users and
  the WEEX copy of Bitget's error table, not read on bitget.com (uncertain).
  The window is not stated on the signature page (third parties say 30 s).
* Server time: ``GET /api/v2/public/time`` (no auth) answers
  ``{"code":"00000","msg":"success","requestTime":1700111073740,"data":{"serverTime":"1700111073740"}}``
  (``serverTime`` is a string of ms).
* Default origin ``https://api.bitget.com`` (demo uses the same host); env var
  prefix ``BITGET`` (``BITGET_API_KEY``, ``BITGET_API_SECRET``,
  ``BITGET_API_PASSPHRASE``); passphrase required. Options: ``demo`` (bool,
  default false: adds ``paptrading: 1``).
* RSA keys (``SIGN_TYPE = RSA`` in the SDK) sign the same message with
  SHA256withRSA; out of scope here.

Docs vs SDK: the SDK sends ``Content-Type`` and ``locale: zh-CN`` on every request;
the SDK's DELETE drops its parameters (not used); the docs' POST example body is
malformed (``"crossed",side":"buy"``), so the POST vector uses the spot Place-Order
example's body and timestamp (https://www.bitget.com/api-doc/spot/trade/Place-Order).
The docs publish no secret or signature, so the docs vectors check the prehash.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import sys
from typing import Any
from urllib.parse import unquote, urlsplit

import ccxt
import requests

SDK_DIR = os.environ.get("BITGET_SDK_DIR", "/tmp/sdk/bitget-python-sdk-api")  # noqa: S108 (a path to read, not a temp file)
SDK_COMMIT = "9bdab50a014598875f9fd07faa09f22001fb5877"
sys.path.insert(0, SDK_DIR)

from bitget import client as bg_client  # noqa: E402
from bitget import utils as bg_utils  # noqa: E402
from bitget.bitget_api import BitgetApi  # noqa: E402
from bitget.v2.spot.order_api import OrderApi  # noqa: E402

# Made-up credentials (never real ones).
KEY = "bg_5f1d3c9a7e2b4d6f8a0c1e3b5d7f9a2c"
SECRET = "3c7e9f1a5b2d4c6e8f0a1b3c5d7e9f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e"
PASSPHRASE = "VectorPass2024"
ORIGIN = "https://api.bitget.com"
AUTH_HEADERS = ("ACCESS-KEY", "ACCESS-SIGN", "ACCESS-TIMESTAMP", "ACCESS-PASSPHRASE")

DOCS_DEPTH_PREHASH = "16273667805456GET/api/mix/v2/market/depth?limit=20&symbol=BTCUSDT"
DOCS_ORDER_BODY = (
    '{"symbol": "BTCUSDT","side": "buy","orderType": "limit","force":"gtc",'
    '"price":"23222.5","size":"1","clientOid":"121211212122"}'
)


def docs_sign(secret: str, timestamp: str, method: str, url: str, body: str) -> tuple[str, str]:
    """Sign from the docs alone: ``(prehash, base64 HMAC-SHA256)``; the query is signed percent-decoded."""
    parts = urlsplit(url)
    query = unquote(parts.query, encoding="utf-8")
    prehash = timestamp + method.upper() + parts.path + ("?" + query if query else "") + body
    digest = hmac.new(secret.encode(), prehash.encode("utf-8"), hashlib.sha256).digest()
    return prehash, base64.b64encode(digest).decode()


class _Recorder:
    """Stands in for ``requests`` inside ``bitget.client``: records, sends nothing."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def _record(self, method: str, url: str, data: Any = None, headers: Any = None) -> Any:
        self.calls.append({"method": method, "url": url, "data": data, "headers": dict(headers or {})})
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"
        return response

    def get(self, url: str, headers: Any = None) -> Any:
        return self._record("GET", url, headers=headers)

    def post(self, url: str, data: Any = None, headers: Any = None) -> Any:
        return self._record("POST", url, data=data, headers=headers)


def _wire_url(method: str, url: str) -> str:
    """The URL as ``requests`` (which the SDK uses) puts it on the wire."""
    prepared = requests.Request(method, url).prepare().url
    assert prepared is not None
    return prepared


def _sdk_call(ts: int, call: Any) -> tuple[dict[str, Any], str]:
    """Run one SDK request with the clock fixed; return the recorded call and the prehash it signed."""
    recorder = _Recorder()
    prehashes: list[str] = []
    real_pre_hash = bg_utils.pre_hash

    def pre_hash(*args: Any) -> str:
        out: str = real_pre_hash(*args)
        prehashes.append(out)
        return out

    vars(bg_client)["requests"] = recorder
    bg_utils.get_timestamp = lambda: ts
    bg_utils.pre_hash = pre_hash
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the SDK prints every response
            call()
    finally:
        bg_utils.pre_hash = real_pre_hash
    (recorded,) = recorder.calls
    return recorded, prehashes[0]


def _vector(
    name: str,
    method: str,
    url: str,
    body: str,
    ts: int,
    headers: dict[str, str],
    prehash: str,
    wire_url: str,
    options: dict[str, Any] | None = None,
    key: str = KEY,
) -> dict[str, Any]:
    """One vector in the shared shape, cross-checked against ``docs_sign``."""
    doc_prehash, doc_sig = docs_sign(SECRET, str(ts), method, wire_url, body)
    assert doc_prehash == prehash, (name, doc_prehash, prehash)
    assert doc_sig == headers["ACCESS-SIGN"], (name, doc_sig, headers["ACCESS-SIGN"])
    return {
        "name": name,
        "key": key,
        "secret": SECRET,
        "passphrase": PASSPHRASE,
        "options": options or {"demo": False},
        "method": method,
        "url": url,
        "content_type": "application/json" if body else None,
        "body": body,
        "clock_ms": ts,
        "nonce": None,
        "expected": {"url": wire_url, "body": body, "headers": headers, "prehash": prehash},
    }


def _from_sdk(name: str, ts: int, call: Any) -> dict[str, Any]:
    """A vector from one call through the SDK's ``Client._request``."""
    recorded, prehash = _sdk_call(ts, call)
    headers = {k: recorded["headers"][k] for k in AUTH_HEADERS}
    assert headers["ACCESS-TIMESTAMP"] == str(ts)
    body = recorded["data"] or ""
    return _vector(
        name,
        recorded["method"],
        recorded["url"],
        body,
        ts,
        headers,
        prehash,
        _wire_url(recorded["method"], recorded["url"]),
    )


def _from_sdk_utils(name: str, ts: int, method: str, path_query: str, body: str) -> dict[str, Any]:
    """A vector from the SDK's own signing functions with exact body bytes (``_request`` re-serializes dicts)."""
    prehash = bg_utils.pre_hash(ts, method, path_query, body)
    sign = bg_utils.sign(prehash, SECRET)
    sdk_headers = bg_utils.get_header(KEY, sign, ts, PASSPHRASE)
    headers = {k: sdk_headers[k] for k in AUTH_HEADERS}
    url = ORIGIN + path_query
    return _vector(name, method, url, body, ts, headers, prehash, _wire_url(method, url))


def _from_ccxt_demo(name: str, ts: int) -> dict[str, Any]:
    """Demo trading (``paptrading: 1``), which the SDK has no switch for, from ccxt's sandbox mode."""
    exchange = ccxt.bitget({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
    exchange.set_sandbox_mode(True)
    exchange.nonce = lambda: ts
    out = exchange.sign("v2/spot/account/assets", ["private", "spot"], "GET", {"coin": "USDT"})
    headers = {k: out["headers"][k] for k in AUTH_HEADERS}
    headers["paptrading"] = out["headers"]["PAPTRADING"]
    prehash, _ = docs_sign(SECRET, str(ts), "GET", out["url"], "")
    return _vector(
        name, "GET", out["url"], "", ts, headers, prehash, _wire_url("GET", out["url"]), options={"demo": True}
    )


def _ccxt_agrees(vector: dict[str, Any]) -> None:
    """Check that ccxt, a second implementation, signs each GET alike (it sorts, and signs decoded)."""
    if vector["method"] != "GET":
        return
    exchange = ccxt.bitget({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
    exchange.nonce = lambda: vector["clock_ms"]
    parts = urlsplit(vector["url"])
    params = dict(kv.split("=", 1) for kv in parts.query.split("&")) if parts.query else {}
    section = "mix" if "/mix/" in parts.path else "spot"
    out = exchange.sign(parts.path.removeprefix("/api/"), ["private", section], "GET", params)
    assert out["headers"]["ACCESS-SIGN"] == vector["expected"]["headers"]["ACCESS-SIGN"], vector["name"]


def main() -> None:
    """Print the vectors file as JSON."""
    api = BitgetApi(KEY, SECRET, PASSPHRASE)
    orders = OrderApi(KEY, SECRET, PASSPHRASE)
    vectors = [
        _from_sdk(
            "docs example: GET /api/mix/v2/market/depth?limit=20&symbol=BTCUSDT (docs timestamp; params sorted)",
            16273667805456,
            lambda: api.get("/api/mix/v2/market/depth", {"symbol": "BTCUSDT", "limit": "20"}),
        ),
        _from_sdk(
            "GET /api/v2/spot/account/assets without query",
            1700000000000,
            lambda: api.get("/api/v2/spot/account/assets", {}),
        ),
        _from_sdk(
            "GET /api/v2/mix/account/account with a non-ASCII query value (sent percent-encoded, signed decoded)",
            1700000000001,
            lambda: api.get(
                "/api/v2/mix/account/account",
                {"symbol": "龙虾USDT", "productType": "USDT-FUTURES", "marginCoin": "USDT"},
            ),
        ),
        _from_sdk(
            "POST /api/v2/spot/trade/place-order via OrderApi.placeOrder (body as the SDK serializes it)",
            1700000000002,
            lambda: orders.placeOrder(
                {
                    "symbol": "BTCUSDT",
                    "side": "buy",
                    "orderType": "limit",
                    "force": "gtc",
                    "price": "65000",
                    "size": "0.001",
                    "clientOid": "vec-0001",
                }
            ),
        ),
        _from_sdk_utils(
            "docs example body and timestamp: POST /api/v2/spot/trade/place-order (exact bytes, utils.pre_hash/sign)",
            1659076670000,
            "POST",
            "/api/v2/spot/trade/place-order",
            DOCS_ORDER_BODY,
        ),
        _from_sdk_utils(
            "POST /api/v2/spot/trade/place-order with raw UTF-8 'é' in the JSON body (via utils.pre_hash/sign)",
            1700000000003,
            "POST",
            "/api/v2/spot/trade/place-order",
            '{"symbol":"BTCUSDT","side":"buy","orderType":"limit","force":"gtc",'
            '"price":"65000","size":"0.001","clientOid":"café-0002"}',
        ),
        _from_ccxt_demo(
            "demo trading: GET /api/v2/spot/account/assets?coin=USDT with paptrading: 1 (ccxt sandbox)", 1700000000004
        ),
    ]
    assert vectors[0]["expected"]["prehash"] == DOCS_DEPTH_PREHASH, "SDK does not reproduce the docs' prehash"
    for vector in vectors:
        _ccxt_agrees(vector)
    print(
        json.dumps(
            {
                "source": f"BitgetLimited/v3-bitget-api-sdk bitget-python-sdk-api @ {SDK_COMMIT} "
                "(bitget/client.py Client._request, bitget/utils.py); demo vector from ccxt bitget.sign(); "
                "scheme per https://www.bitget.com/api-doc/common/signature",
                "version": f"v3-bitget-api-sdk@{SDK_COMMIT[:12]}; ccxt {ccxt.__version__}",
                "generator": "tests/vectors/generate_bitget.py",
                "vectors": vectors,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
