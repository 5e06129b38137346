r"""Regenerate ``bitvavo.json`` from Bitvavo's official Python SDK (and ccxt for raw UTF-8 bodies).

Not run by the test suite. The SDKs are never project dependencies: use a separate venv::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install python-bitvavo-api==1.4.3 ccxt
    /tmp/vec/bin/python tests/vectors/generate_bitvavo.py

Sources
-------
* Docs: https://docs.bitvavo.com/docs/rest-api/introduction/ (same text at
  https://docs.bitvavo.com/docs/authentication), https://docs.bitvavo.com/docs/rest-overview,
  https://docs.bitvavo.com/docs/errors, https://docs.bitvavo.com/docs/rest-api/get-server-time/.
* Official SDK: ``python-bitvavo-api`` 1.4.3 from PyPI (= github.com/bitvavo/python-bitvavo-api
  commit 27c0640e8e178c2e421d10fcde2aeb9af4707684, whose ``setup.py`` still says v1.4.2; the
  file is byte-identical). Called: ``python_bitvavo_api/bitvavo.py``: ``Bitvavo.privateRequest``
  through the public methods (``placeOrder``, ``balance``, ``trades``, ``cancelOrder``,
  ``account``, ``withdrawAssets``), which call ``createSignature(timestamp, method, url, body,
  APISECRET)``. The module's ``time`` is replaced by a fixed clock, its ``hmac`` by a recorder
  (to capture the prehash), and ``requests.Session.send`` by a recorder that returns ``{}``,
  so the wire request is the one requests prepared, and nothing leaves the machine.
* Second implementation: ccxt 4.5.90 ``bitvavo.sign`` (``ccxt/bitvavo.py``), used for the one
  case the SDK cannot produce (a body with raw UTF-8 non-ASCII: ccxt's ``json()`` is orjson,
  which does not escape).

Scheme spec (what the preset implements)
----------------------------------------
* Algorithm: HMAC-SHA256; digest: lower-case hex (64 chars); secret: the API secret string's
  UTF-8 bytes as is (no base64/hex decoding). Docs: "Bitvavo-Access-Signature (required): a
  HMAC-SHA256 hex-encoded string of the following values: secret ..., timestamp: the same Unix
  timestamp as for Bitvavo-Access-Timestamp, method: the HTTP method of the request. For example,
  GET or POST., path: the API path of the request. For example, /v2/order., body: for the GET
  method, an empty string. For every other method, the request body as a string." and
  "Concatenate the values without a delimiter".
* Message: ``timestamp + METHOD + path + body``, no separators. ``timestamp`` is the decimal
  millisecond string of the header; METHOD upper case; ``path`` starts with ``/v2`` and
  INCLUDES the query string as sent (``/v2/balance?symbol=BTC``): the docs only ever show
  query-less paths, but the SDK signs ``'/v2' + endpoint + postfix`` where postfix is
  ``?k=v&k=v`` and ccxt signs ``url += '?' + urlencode(query)`` the same way. The query is not
  sorted: it is signed in the order sent (SDK: caller's dict order, values ``str()``-ed and not
  percent-encoded). ``body`` is the exact body string sent; empty for GET and for any request
  without a body (DELETE carries its parameters in the query). Docs example:
  ``1548172481125POST/v2/order{"market":"BTC-EUR","side":"buy","price":"5000","amount":"1.23",``
  ``"orderType":"limit"}`` with secret ``bitvavo`` gives
  ``44d022723a20973a18f7ee97398b9fdd405d2d019c8d39e24b8cc0dcb39ca016``; the SDK reproduces it
  (vector ``bitvavo-docs-create-order``). (The docs' /docs/authentication copy of the same page
  shows a garbled base64-like value there instead; the rest-api/introduction copy is right.)
* Headers (docs casing; the SDK sends them lower-case, ccxt upper-case; HTTP names are
  case-insensitive): ``Bitvavo-Access-Key`` (API key), ``Bitvavo-Access-Signature`` (hex),
  ``Bitvavo-Access-Timestamp`` (Unix ms, decimal string), ``Bitvavo-Access-Window`` (optional,
  ms; "The default value is 10000, and the maximum value is 60000"; the SDK always sends it,
  default ``10000``; ccxt too). No passphrase, no nonce (freshness = timestamp + window).
  Option: ``access_window`` (int ms, 100..60000 per errorCode 303 "Window must be between 100
  and 60000 ms"; default 10000, always sent as the SDK does).
* Bodies: JSON only. Docs (rest-overview): "Content-Type: application/json - indicates that the
  request body is in JSON format". POST/PUT carry a JSON object body; GET/DELETE carry query
  parameters (support article, errorCode 201: "use URL parameters for GET and DELETE requests").
* Stale timestamp: errorCode 304, "Request was not received within acceptable window (default
  30s, or custom with Bitvavo-Access-Window header) of Bitvavo-Access-Timestamp header (or
  timestamp parameter for websocket)." (text as in ccxt's table and Bitvavo's support article
  "API-Fehlermeldungen"); answer shape ``{"errorCode": 304, "error": "..."}`` (docs: "Every error
  response includes an errorCode and an error message", example ``{"errorCode": 205, "error":
  "Invalid parameter: price"}``). HTTP status: not confirmed here; the docs' error page has
  sections for HTTP 400/403/404/429/500/503 and the 3xx authentication codes are expected under
  403 (uncertain). Related: 302 "Timestamp is invalid. This must be a timestamp in ms.", 309
  "The signature is invalid.", 308 signature length invalid (must be 64 hex chars).
* Server time: ``GET /v2/time`` (public, unsigned) -> ``{"time": 1590379519148}`` (ms; newer
  docs also add ``timeNs``).
* Origin ``https://api.bitvavo.com`` (the SDK's ``base`` is ``https://api.bitvavo.com/v2``; the
  ``/v2`` prefix is part of the signed path). No public testnet for the REST API (the RFQ API has
  a UAT host ``https://api.bitvavo-uat.com/v2``, by arrangement). Env prefix: ``BITVAVO``.

SDK vs docs
-----------
* The SDK signs ``json.dumps(body, separators=(',',':'))`` (compact, ``ensure_ascii=True``) but
  sends ``requests.request(..., json=body)``, i.e. ``json.dumps`` with the default ``', '`` and
  ``': '`` separators: the bytes on its wire are NOT the bytes it signed. Bitvavo therefore
  evidently re-serialises the parsed body compactly before checking; the docs say "the request
  body as a string". The vectors' ``body``/``expected.body`` are the signed compact bytes (what a
  docs-conformant signer sends, as ccxt does); the SDK's own wire body is given in ``note``.
* For GET/DELETE the SDK passes ``json={}`` so it sends a ``{}`` body with
  ``Content-Type: application/json`` while signing an empty body; ``expected.body`` is ``''``.
* Non-ASCII: the SDK escapes (``\u00e9``) in both the signed and the sent body; ccxt signs and
  sends raw UTF-8. Whether Bitvavo's canonicalisation matches a raw-UTF-8 signature is not
  verifiable here (uncertain); signing exactly the bytes sent is what the docs describe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import types
from pathlib import Path
from typing import Any

import ccxt  # type: ignore[import-not-found]
import python_bitvavo_api  # type: ignore[import-not-found]  # noqa: F401
import python_bitvavo_api.bitvavo as sdk  # type: ignore[import-not-found]
import requests
from requests.structures import CaseInsensitiveDict

SDK_NAME = "python-bitvavo-api"
SDK_VERSION = "1.4.3"
SDK_COMMIT = "27c0640e8e178c2e421d10fcde2aeb9af4707684"
DOCS = "https://docs.bitvavo.com/docs/rest-api/introduction/"
ORIGIN = "https://api.bitvavo.com"
AUTH_HEADERS = ("bitvavo-access-key", "bitvavo-access-signature", "bitvavo-access-timestamp", "bitvavo-access-window")

KEY = "HBA-TEST-BITVAVO-KEY-0000000000000000000000000000000000000000000"
SECRET = "hba-test-bitvavo-secret-0123456789abcdef"
DOC_SECRET = "bitvavo"
DOC_STAMP = 1548172481125
DOC_BODY = '{"market":"BTC-EUR","side":"buy","price":"5000","amount":"1.23","orderType":"limit"}'
DOC_SIGNATURE = "44d022723a20973a18f7ee97398b9fdd405d2d019c8d39e24b8cc0dcb39ca016"

_sent: list[requests.PreparedRequest] = []
_signed: list[bytes] = []


def _fake_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
    """Record the prepared request and answer ``{}`` (nothing is sent)."""
    _sent.append(request)
    response = requests.Response()
    response.status_code = 200
    response._content = b"{}"
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    response.request = request
    response.url = request.url or ""
    response.encoding = "utf-8"
    return response


def _recording_new(key: bytes, msg: bytes, digestmod: Any) -> Any:
    """``hmac.new`` that records the message (the prehash) first."""
    _signed.append(msg)
    return hmac.new(key, msg, digestmod)


def docs_sign(secret: str, stamp: int, method: str, path_and_query: str, body: str) -> tuple[str, str]:
    """The docs' recipe, written from the docs alone: (prehash, hex signature)."""
    # "body: for the GET method, an empty string. For every other method, the request body as a string."
    prehash = f"{stamp}{method.upper()}{path_and_query}{'' if method.upper() == 'GET' else body}"
    return prehash, hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).hexdigest()


def _sdk_case(
    name: str, secret: str, stamp: int, call: str, args: tuple[Any, ...], window: int | None = None
) -> dict[str, Any]:
    """Run one SDK call with a fixed clock and return its vector."""
    _sent.clear()
    _signed.clear()
    # int(time.time() * 1000) must give `stamp` exactly: half a millisecond keeps float error out.
    sdk.time = types.SimpleNamespace(time=lambda: (stamp + 0.5) / 1000)
    options: dict[str, Any] = {"APIKEY": KEY, "APISECRET": secret}
    if window is not None:
        options["ACCESSWINDOW"] = window
    client = sdk.Bitvavo(options)
    getattr(client, call)(*args)
    (wire,) = _sent
    (prehash,) = _signed
    headers = {name_: wire.headers[name_] for name_ in AUTH_HEADERS}
    raw = wire.body if isinstance(wire.body, bytes) else (wire.body or "").encode()
    sdk_wire_body = raw.decode()
    method = wire.method or ""
    has_body = method not in ("GET", "DELETE")
    # What the SDK signed after the path: the compact JSON body (empty for GET/DELETE).
    path_and_query = wire.path_url
    signed_body = prehash.decode()[len(f"{stamp}{method}{path_and_query}") :]
    body = signed_body if has_body else ""
    vector: dict[str, Any] = {
        "name": name,
        "key": KEY,
        "secret": secret,
        "passphrase": None,
        "options": {"access_window": int(headers["bitvavo-access-window"])},
        "method": method,
        "url": wire.url,
        "content_type": "application/json" if has_body else None,
        "body": body,
        "clock_ms": stamp,
        "nonce": None,
        "expected": {
            "url": wire.url,
            "body": body,
            "headers": headers,
            "prehash": prehash.decode(),
        },
    }
    if sdk_wire_body != body:
        vector["note"] = (
            f"{SDK_NAME} {SDK_VERSION} Bitvavo.{call} signed {body!r} but sent the body {sdk_wire_body!r} "
            f"(requests json=, Content-Type {wire.headers.get('Content-Type')}); expected.body is the signed bytes"
        )
    return vector


def _ccxt_case(name: str, stamp: int, path: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run ccxt's bitvavo.sign with a fixed clock and return its vector."""
    exchange = ccxt.bitvavo({"apiKey": KEY, "secret": SECRET})
    exchange.milliseconds = lambda: stamp
    recorded: list[bytes] = []

    def recording_hmac(request: bytes, secret: bytes, algorithm: Any = hashlib.sha256, digest: str = "hex") -> Any:
        recorded.append(request)
        return ccxt.Exchange.hmac(request, secret, algorithm, digest)

    exchange.hmac = recording_hmac
    out = exchange.sign(path, ["private"], method, params)
    headers = dict(out["headers"])
    content_type = headers.pop("Content-Type", None)
    return {
        "name": name,
        "key": KEY,
        "secret": SECRET,
        "passphrase": None,
        "options": {"access_window": int(headers["BITVAVO-ACCESS-WINDOW"])},
        "method": method,
        "url": out["url"],
        "content_type": content_type,
        "body": out["body"] or "",
        "clock_ms": stamp,
        "nonce": None,
        "expected": {
            "url": out["url"],
            "body": out["body"] or "",
            "headers": headers,
            "prehash": recorded[0].decode(),
        },
        "note": f"ccxt {ccxt.__version__} bitvavo.sign({path!r}, ['private'], {method!r}, params): a second "
        "implementation; the official SDK cannot send raw UTF-8 (it escapes non-ASCII)",
    }


def _check(vector: dict[str, Any]) -> None:
    """docs_sign must reproduce the recorded prehash and signature."""
    url = vector["expected"]["url"]
    path_and_query = url[len(ORIGIN) :]
    prehash, signature = docs_sign(
        vector["secret"], vector["clock_ms"], vector["method"], path_and_query, vector["expected"]["body"]
    )
    headers = {k.lower(): v for k, v in vector["expected"]["headers"].items()}
    assert prehash == vector["expected"]["prehash"], (vector["name"], prehash)
    assert signature == headers["bitvavo-access-signature"], vector["name"]
    assert headers["bitvavo-access-timestamp"] == str(vector["clock_ms"]), vector["name"]


def main() -> None:
    """Print the vectors JSON and write bitvavo.json next to this script."""
    requests.Session.send = _fake_send  # type: ignore[method-assign]
    sdk.hmac = types.SimpleNamespace(new=_recording_new)
    vectors = [
        # Docs' field order: placeOrder overwrites market/side in place and appends orderType.
        _sdk_case(
            "bitvavo-docs-create-order",
            DOC_SECRET,
            DOC_STAMP,
            "placeOrder",
            ("BTC-EUR", "buy", "limit", {"market": "BTC-EUR", "side": "buy", "price": "5000", "amount": "1.23"}),
        ),
        _sdk_case("sdk-get-balance-query", SECRET, 1700000000000, "balance", ({"symbol": "BTC"},)),
        _sdk_case(
            "sdk-get-trades-query-window-5000",
            SECRET,
            1700000000001,
            "trades",
            ("BTC-EUR", {"limit": 25, "start": 1699990000000}),
            window=5000,
        ),
        _sdk_case(
            "sdk-delete-order-query",
            SECRET,
            1700000000002,
            "cancelOrder",
            ("BTC-EUR", "95d92d6c-ecf0-4960-a608-9953ef71652e"),
        ),
        _sdk_case("sdk-get-account-no-query", SECRET, 1700000000003, "account", ()),
        _sdk_case(
            "sdk-post-withdrawal-non-ascii-escaped",
            SECRET,
            1700000000004,
            "withdrawAssets",
            ("BTC", "0.01", "bc1qhbatestaddress0000000000000000000000", {"paymentId": "café"}),
        ),
        _ccxt_case(
            "ccxt-post-withdrawal-non-ascii-utf8",
            1700000000005,
            "withdrawal",
            "POST",
            {
                "symbol": "BTC",
                "amount": "0.01",
                "address": "bc1qhbatestaddress0000000000000000000000",
                "paymentId": "café",
            },
        ),
    ]
    assert vectors[0]["expected"]["body"] == DOC_BODY
    assert vectors[0]["expected"]["headers"]["bitvavo-access-signature"] == DOC_SIGNATURE
    assert "é".encode() in vectors[-1]["body"].encode()
    for vector in vectors:
        _check(vector)
    document = {
        "source": f"{SDK_NAME} {SDK_VERSION} (github.com/bitvavo/python-bitvavo-api@{SDK_COMMIT}, "
        f"python_bitvavo_api/bitvavo.py) and ccxt {ccxt.__version__} bitvavo.sign; docs {DOCS}",
        "version": SDK_VERSION,
        "generator": "tests/vectors/generate_bitvavo.py",
        "vectors": vectors,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    Path(__file__).with_name("bitvavo.json").write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
