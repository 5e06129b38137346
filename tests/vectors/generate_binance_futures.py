r"""Regenerate ``binance_futures.json``: Binance USD-M futures, from Binance's official SDKs and docs.

Not run by the test suite. The SDKs are never project dependencies: use a separate venv::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install binance-futures-connector==4.2.0 \
        binance-sdk-derivatives-trading-usds-futures==18.1.0 ccxt==4.5.90
    /tmp/vec/bin/python tests/vectors/generate_binance_futures.py

Sources
-------
* Docs: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info
  ("SIGNED (TRADE and USER_DATA) Endpoint Security", "Timing Security", "SIGNED Endpoint Examples
  for POST /fapi/v1/order - HMAC Keys"), error codes at
  https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code, server time at
  https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Check-Server-Time.
* Official SDKs called (their own signing code; ``requests.Session.send`` is replaced by a
  recorder that answers ``{}``, the module clocks by fixed values, ``hmac`` by a recorder):
  - ``binance-futures-connector`` 4.2.0 (PyPI; "deprecated" in its summary but the one the docs
    long pointed to): ``binance/api.py`` ``API.sign_request`` -> ``_prepare_params``
    (``binance/lib/utils.py`` ``encoded_string``) -> ``binance/lib/authentication.py``
    ``hmac_hashing``; called through ``binance.um_futures.UMFutures`` (``new_order``,
    ``get_orders``, ``balance``, ``cancel_order``). ``connector-*`` vectors.
  - ``binance-sdk-derivatives-trading-usds-futures`` 18.1.0 with ``binance-common`` 4.7.0 (the SDK
    the docs now name: ``pip install binance-sdk-derivatives-trading-usds-futures``):
    ``binance_common/utils.py`` ``send_request`` -> ``encoded_string`` -> ``get_signature`` ->
    ``hmac_hashing``. ``sdk18-*`` vectors.
* Second implementation: ccxt 4.5.90 ``binanceusdm.sign`` (``ccxt/binance.py``), the only one at
  hand that sends a form body (both official SDKs put everything in the query string).

Scheme spec (what the preset implements): the Binance spot scheme on another host
--------------------------------------------------------------------------------------
* Algorithm: HMAC-SHA256; digest: hex (lower case sent; "The ``signature`` is **not case
  sensitive**"); secret: the secret key string's bytes as is. Docs: "Use your ``secretKey`` as the
  key and ``totalParams`` as the value for the HMAC operation."
* Message: ``totalParams``: "``totalParams`` is defined as the ``query string`` concatenated with
  the ``request body``" -- no separator between them (the docs' Example 3: "There is no & between
  "GTC" and "quantity=1""). Both are taken exactly as sent (percent-encoded, in the order sent, not
  sorted: "Parameters may be sent in any order"). With no body, totalParams is the query string;
  with no query, the body.
* Where things go: ``timestamp`` (Unix ms) and optional ``recvWindow`` (ms) are ordinary
  parameters; ``signature`` is a parameter too and must be last: "Please make sure the
  ``signature`` is the end part of your ``query string`` or ``request body``". The preset (like
  the spot preset) appends ``recvWindow`` (if configured and not given), ``timestamp`` and then
  ``signature`` to the body when there is one, else to the query string. Both official SDKs put
  all parameters in the query string, even for POST/DELETE, appending ``timestamp`` after the
  caller's parameters (``recvWindow`` only when the caller passes it, among them).
* Headers: only ``X-MBX-APIKEY: <API key>``. No passphrase, no nonce, no timestamp header.
* Bodies: none, or ``application/x-www-form-urlencoded`` (docs: "For ``POST``, ``PUT``, and
  ``DELETE`` endpoints, the parameters may be sent as a ``query string`` or in the ``request
  body`` with content type ``application/x-www-form-urlencoded``. You may mix parameters between
  both"). GET: query string only. JSON is not accepted. (binance-futures-connector sets a session
  header ``Content-Type: application/json;charset=utf-8`` yet sends no body; meaningless.)
* Timing: "If ``recvWindow`` is not sent, **it defaults to 5000**"; accepted iff ``timestamp <
  serverTime + 1000 && serverTime - timestamp <= recvWindow``; "It is recommended to use a small
  recvWindow of 5000 or less!". Option ``recv_window`` (``None`` = not sent). Upper bound: the
  spot API caps it at 60000; the futures page states none (uncertain).
* Stale timestamp: HTTP 400 (docs: "HTTP ``4XX`` return codes are used for for malformed
  requests"), ``{"code": -1021, "msg": "Timestamp for this request is outside of the
  recvWindow."}`` or ``"Timestamp for this request was 1000ms ahead of the server's time."``
  (``-1021 INVALID_TIMESTAMP``); bad signature ``-1022 INVALID_SIGNATURE`` "Signature for this
  request is not valid.". Error payload shape per the docs: ``{"code": -1121, "msg": "Invalid
  symbol."}``. Futures-specific codes differ from spot beyond these (e.g. the -4xxx range).
* Server time: ``GET /fapi/v1/time`` -> ``{"serverTime": 1499827319559}`` (ms).
* Origin ``https://fapi.binance.com``; testnet ``https://testnet.binancefuture.com`` (docs:
  "The REST baseurl for **testnet** is https://testnet.binancefuture.com"); binance-common 4.7.0
  also has ``DERIVATIVES_TRADING_USDS_FUTURES_REST_API_DEMO_URL = "https://demo-fapi.binance.com"``
  (demo trading). Env prefix: ``BINANCE_FUTURES``.

Docs vs SDKs
------------
* Example 1 (query string) and Example 2 (body) publish
  ``3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9``; binance-futures-connector
  reproduces Example 1 byte for byte (vector ``docs-example-1-query-connector``). The docs' curl
  lines have typos (host ``https://fapi/binance.com``, a space after ``signature=``).
* Example 3 (mixed) publishes ``f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2``,
  which is the HMAC of ``...&recvWindow=5000&timestamp= 1591702613943`` -- with a stray space
  inside the value, as printed in its ``echo -n`` line -- while its curl line sends
  ``timestamp=1591702613943``. For the bytes the curl sends, totalParams gives
  ``30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4`` (vector
  ``docs-example-3-mixed``, computed by ``docs_sign`` only; no SDK sends mixed requests).
* binance-sdk 18.1.0 orders the docs' parameters by its own signature (``timeInForce`` before
  ``quantity``), so for the same values it signs other bytes
  (``ec11dcc1...``); still totalParams as sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import types
from pathlib import Path
from typing import Any

import binance.api  # type: ignore[import-not-found]
import binance.lib.authentication  # type: ignore[import-not-found]
import binance_common.utils  # type: ignore[import-not-found]
import ccxt  # type: ignore[import-not-found]
import requests
from binance.__version__ import __version__ as CONNECTOR_VERSION  # type: ignore[import-not-found]  # noqa: N812
from binance.um_futures import UMFutures  # type: ignore[import-not-found]
from binance_common.configuration import ConfigurationRestAPI  # type: ignore[import-not-found]
from binance_sdk_derivatives_trading_usds_futures import (  # type: ignore[import-not-found]
    DerivativesTradingUsdsFutures,
)
from requests.structures import CaseInsensitiveDict

SDK18 = "binance-sdk-derivatives-trading-usds-futures"
SDK18_VERSION = "18.1.0"
COMMON_VERSION = "4.7.0"
DOCS = "https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info"
ORIGIN = "https://fapi.binance.com"
ORDER = f"{ORIGIN}/fapi/v1/order"

DOC_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
DOC_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
DOC_STAMP = 1591702613943
DOC_PARAMS = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
DOC_TAIL = f"recvWindow=5000&timestamp={DOC_STAMP}"
SIG_1_2 = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
SIG_3_PUBLISHED = "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2"

KEY = "HBA-TEST-BINANCE-FUTURES-KEY"
SECRET = "hba-test-binance-futures-secret-0123456789abcdef"

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
    """``hmac.new`` that records the message (totalParams) first."""
    _signed.append(msg)
    return hmac.new(key, msg, digestmod)


def docs_sign(secret: str, query: str, body: str) -> tuple[str, str]:
    """The totalParams and its signature, from the docs alone (``query``/``body`` without ``signature``)."""
    # "totalParams is defined as the query string concatenated with the request body."
    total = query + body
    return total, hmac.new(secret.encode(), total.encode(), hashlib.sha256).hexdigest()


def _strip_signature(params: str) -> str:
    """The parameters without the trailing ``&signature=...`` (or a lone ``signature=...``)."""
    head, sep, _ = params.rpartition("signature=")
    assert sep, params
    return head[:-1] if head.endswith("&") else head


def _caller_url(url: str) -> str:
    """The URL as a caller of the preset passes it: the wire URL less ``timestamp`` and ``signature``."""
    base, _, query = url.partition("?")
    kept = [pair for pair in query.split("&") if pair.split("=", 1)[0] not in ("timestamp", "signature")]
    return f"{base}?{'&'.join(kept)}" if kept else base


def _vector(
    name: str,
    key: str,
    secret: str,
    stamp: int,
    method: str,
    url: str,
    body: str,
    expected_url: str,
    expected_body: str,
    prehash: str,
    note: str,
    recv_window: int | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "key": key,
        "secret": secret,
        "passphrase": None,
        "options": {"recv_window": recv_window},
        "method": method,
        "url": url,
        "content_type": "application/x-www-form-urlencoded" if body else None,
        "body": body,
        "clock_ms": stamp,
        "nonce": None,
        "expected": {
            "url": expected_url,
            "body": expected_body,
            "headers": {"X-MBX-APIKEY": key},
            "prehash": prehash,
        },
        "note": note,
    }


def _from_wire(name: str, key: str, secret: str, stamp: int, note: str) -> dict[str, Any]:
    """The vector of the one request an official SDK just sent (all parameters in the query)."""
    (wire,) = _sent
    (prehash,) = _signed
    assert not wire.body, wire.body
    assert wire.headers["X-MBX-APIKEY"] == key
    url = wire.url or ""
    return _vector(name, key, secret, stamp, wire.method or "", _caller_url(url), "", url, "", prehash.decode(), note)


def _connector(name: str, key: str, secret: str, stamp: int, call: str, **params: Any) -> dict[str, Any]:
    """One binance-futures-connector call with a fixed clock."""
    _sent.clear()
    _signed.clear()
    binance.api.get_timestamp = lambda: stamp
    client = UMFutures(key=key, secret=secret)
    getattr(client, call)(**params)
    note = f"binance-futures-connector {CONNECTOR_VERSION} UMFutures.{call}(**{params!r})"
    return _from_wire(name, key, secret, stamp, note)


def _sdk18(name: str, key: str, secret: str, stamp: int, call: str, **params: Any) -> dict[str, Any]:
    """One binance-sdk-derivatives-trading-usds-futures REST call with a fixed clock."""
    _sent.clear()
    _signed.clear()
    binance_common.utils.get_timestamp = lambda: stamp
    client = DerivativesTradingUsdsFutures(config_rest_api=ConfigurationRestAPI(api_key=key, api_secret=secret))
    getattr(client.rest_api, call)(**params)
    note = f"{SDK18} {SDK18_VERSION} (binance-common {COMMON_VERSION}) rest_api.{call}(**{params!r})"
    return _from_wire(name, key, secret, stamp, note)


def _ccxt_form(name: str, stamp: int, params: dict[str, Any]) -> dict[str, Any]:
    """Run ccxt's binanceusdm.sign for POST /fapi/v1/order: a form body, timestamp first."""
    exchange = ccxt.binanceusdm({"apiKey": KEY, "secret": SECRET})
    exchange.nonce = lambda: stamp
    out = exchange.sign("order", ["fapiPrivate"], "POST", params)
    assert out["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    body = out["body"]
    note = (
        f"ccxt {ccxt.__version__} binanceusdm.sign('order', ['fapiPrivate'], 'POST', params): verify-only, "
        "ccxt puts timestamp first, so a preset signer makes other bytes; a verifier must accept this request"
    )
    vector = _vector(name, KEY, SECRET, stamp, "POST", out["url"], body, out["url"], body, _strip_signature(body), note)
    # As in the other vector files: only a verifier can use this one (url and body are the signed request).
    vector["compare"] = ["verify"]
    return vector


def _docs(
    name: str, url: str, body: str, expected_url: str, expected_body: str, prehash: str, note: str
) -> dict[str, Any]:
    return _vector(
        name, DOC_KEY, DOC_SECRET, DOC_STAMP, "POST", url, body, expected_url, expected_body, prehash, note, 5000
    )


def _check(vector: dict[str, Any]) -> None:
    """docs_sign must reproduce the recorded totalParams and the signature on the wire."""
    expected = vector["expected"]
    query = expected["url"].partition("?")[2]
    body = expected["body"]
    signature = (body or query).rpartition("signature=")[2]
    if body:
        total, computed = docs_sign(vector["secret"], query, _strip_signature(body))
    else:
        total, computed = docs_sign(vector["secret"], _strip_signature(query), "")
    assert total == expected["prehash"], (vector["name"], total)
    assert computed == signature, (vector["name"], computed, signature)
    assert f"timestamp={vector['clock_ms']}" in total, vector["name"]


def main() -> None:
    """Print the vectors JSON and write binance_futures.json next to this script."""
    requests.Session.send = _fake_send  # type: ignore[method-assign]
    binance.lib.authentication.hmac = types.SimpleNamespace(new=_recording_new)
    binance_common.utils.hmac = types.SimpleNamespace(new=_recording_new)
    example = "https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info (Example {})"
    mixed_body = f"quantity=1&price=9000&{DOC_TAIL}"
    mixed_query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    mixed_total, mixed_signature = docs_sign(DOC_SECRET, mixed_query, mixed_body)
    vectors = [
        _connector(
            "docs-example-1-query-connector",
            DOC_KEY,
            DOC_SECRET,
            DOC_STAMP,
            "new_order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            quantity=1,
            price=9000,
            timeInForce="GTC",
            recvWindow=5000,
        ),
        _docs(
            "docs-example-2-body",
            ORDER,
            DOC_PARAMS,
            ORDER,
            f"{DOC_PARAMS}&{DOC_TAIL}&signature={SIG_1_2}",
            f"{DOC_PARAMS}&{DOC_TAIL}",
            example.format(2) + ": the docs' values and signature; no official SDK sends a body",
        ),
        _docs(
            "docs-example-3-mixed",
            f"{ORDER}?{mixed_query}",
            "quantity=1&price=9000",
            f"{ORDER}?{mixed_query}",
            f"{mixed_body}&signature={mixed_signature}",
            mixed_total,
            example.format(3) + f": signature from docs_sign over the bytes the docs' curl sends; the docs print "
            f"{SIG_3_PUBLISHED}, the HMAC of their echo line, which has a stray space in 'timestamp= {DOC_STAMP}'",
        ),
        _connector("connector-get-open-orders-query", KEY, SECRET, 1700000000000, "get_orders", symbol="BTCUSDT"),
        _connector("connector-get-balance-no-params", KEY, SECRET, 1700000000001, "balance"),
        _connector(
            "connector-delete-order-recv-window",
            KEY,
            SECRET,
            1700000000002,
            "cancel_order",
            symbol="BTCUSDT",
            orderId=12345,
            recvWindow=10000,
        ),
        _connector(
            "connector-post-order-percent-encoded",
            KEY,
            SECRET,
            1700000000003,
            "new_order",
            symbol="BTCUSDT",
            side="SELL",
            type="LIMIT",
            quantity="0.001",
            price="30000.5",
            timeInForce="GTC",
            newClientOrderId="hba:1/x y",
        ),
        _sdk18(
            "sdk18-post-order-docs-values",
            DOC_KEY,
            DOC_SECRET,
            DOC_STAMP,
            "new_order",
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            time_in_force="GTC",
            quantity=1,
            price=9000,
            recv_window=5000,
        ),
        _sdk18("sdk18-get-open-orders-query", KEY, SECRET, 1700000000004, "current_all_open_orders", symbol="BTCUSDT"),
        _ccxt_form(
            "ccxt-post-order-form-body",
            1700000000005,
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "quantity": "0.001",
                "price": "30000",
                "timeInForce": "GTC",
                # Given, so that ccxt does not add its random broker id.
                "newClientOrderId": "hba-ccxt-1",
            },
        ),
    ]
    first = vectors[0]
    assert first["expected"]["url"] == f"{ORDER}?{DOC_PARAMS}&{DOC_TAIL}&signature={SIG_1_2}", first["expected"]["url"]
    assert docs_sign(DOC_SECRET, f"{DOC_PARAMS}&{DOC_TAIL}", "")[1] == SIG_1_2
    # The published Example 3 value is the HMAC of the echo line's bytes, stray space included.
    spaced = f"quantity=1&price=9000&recvWindow=5000&timestamp= {DOC_STAMP}"
    assert docs_sign(DOC_SECRET, mixed_query, spaced)[1] == SIG_3_PUBLISHED
    assert mixed_signature != SIG_3_PUBLISHED
    # The docs' recipe puts recvWindow in the caller's params for the SDK cases; the docs
    # cases take it from the option, as the preset would.
    first["url"] = f"{ORDER}?{DOC_PARAMS}"
    first["options"] = {"recv_window": 5000}
    for vector in vectors:
        _check(vector)
    document = {
        "source": f"binance-futures-connector {CONNECTOR_VERSION}, {SDK18} {SDK18_VERSION} (binance-common "
        f"{COMMON_VERSION}), ccxt {ccxt.__version__} binanceusdm.sign; docs {DOCS}",
        "version": CONNECTOR_VERSION,
        "generator": "tests/vectors/generate_binance_futures.py",
        "vectors": vectors,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    Path(__file__).with_name("binance_futures.json").write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
