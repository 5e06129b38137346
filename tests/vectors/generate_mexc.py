r"""Regenerate ``mexc.json`` with MEXC's official SDK (under Node.js) and ccxt; this docstring is the scheme spec.

Not run by the test suite. MEXC's official SDK (https://github.com/mexcdevelop/mexc-api-sdk,
linked from the docs' "API Library") is TypeScript compiled with jsii; its Python
package is a jsii wrapper that runs the same JavaScript. This script runs that
JavaScript directly with ``node`` (no network: ``createRequest`` is replaced by a
recorder) and uses ccxt (PyPI) as a second, independent implementation. To rerun::

    git clone https://github.com/mexcdevelop/mexc-api-sdk /tmp/mexc-sdk
    mkdir -p /tmp/mexcsdk && tar -xzf '/tmp/mexc-sdk/dist/js/mexc-sdk@1.0.0.jsii.tgz' -C /tmp/mexcsdk
    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt
    MEXC_SDK_DIR=/tmp/mexcsdk/package /tmp/vec/bin/python tests/vectors/generate_mexc.py > tests/vectors/mexc.json

SDK called: ``mexc-sdk`` 1.0.0 at commit e2559d4b7def49bad04be6fb652d03f0c73f4833
(2023-11-24), ``dist/js/mexc-sdk@1.0.0.jsii.tgz``, file ``src/modules/base.js``
(``Base.signRequest``, source ``src/modules/base.ts``) with ``src/util/util.js``
(``buildQueryString``: ``key=encodeURIComponent(value)`` joined by ``&``), called
through ``Spot`` methods (``accountInfo``, ``accountTradeList``, ``newOrder``,
``cancelOrder``) or ``signRequest`` itself; ``Date.now`` is fixed per case.
``docs_sign`` below is written from the docs alone and must agree with the SDK and
with ccxt on every vector.

Scheme spec (MEXC spot v3)
==========================

Docs: https://mexcdevelop.github.io/apidocs/spot_v3_en/ ("General Info": "SIGNED",
"Timing security", "SIGNED Endpoint Examples for POST /api/v3/order", "Error Code";
read from https://github.com/mexcdevelop/apidocs branch ``spot_v3_en``, commit
c0de8fffc9735b371b136c08bf98197e5b520032, 2025-08-08).

* Algorithm: HMAC-SHA256, digest **lowercase hex** ("The signature is support
  lowercase only"), the secret used **raw** (docs: "Use your secretKey as the key
  and totalParams as the value for the HMAC operation").
* Message: ``totalParams``: "totalParams is defined as the query string
  concatenated with the request body" -- no separator: "Note that the signature
  is different in example 3. There is no & between "LIMIT" and "quantity=1"." The
  query string is the one after ``?`` **as sent** (still percent-encoded), without
  the ``signature`` parameter; no method, path or host is signed. Not sorted:
  "Parameters may be sent in any order". With no body only the query is signed.
* Encoding: the SDK percent-encodes each value with ``encodeURIComponent`` (UTF-8,
  **uppercase** hex, space ``%20``; keys as is) and signs the encoded text; docs
  for batch endpoints: "if there are special symbols such as comma in the parameter
  value, these symbols need to be URL encoded when signing, and encode only support
  uppercase". So: sign the query exactly as it goes on the wire.
* Timestamp: parameter ``timestamp`` (Unix **milliseconds**), "A SIGNED endpoint
  also requires a parameter, timestamp"; the SDK appends it after the caller's
  parameters. ``recvWindow`` (ms, "If recvWindow is not sent, it defaults to 5000",
  "The max cannot go beyond 60,000") is optional: the SDK sends it only when the
  caller passes it; ccxt always appends ``&recvWindow=5000`` after ``timestamp``.
  The preset: append ``recvWindow=<n>&`` (when the ``recv_window`` option is set)
  then ``timestamp=<ms>`` to the signed parameters, sign, then append
  ``&signature=<hex>`` last.
* Where things go: "SIGNED endpoints require an additional parameter, signature, to
  be sent in the query string or request body". The SDK and ccxt put every
  parameter, ``timestamp`` and ``signature`` in the **query string** for GET, POST
  and DELETE and send no body. The docs also allow an
  ``application/x-www-form-urlencoded`` body (docs examples 1 and 3: then
  ``timestamp`` and ``signature`` go in the body) or a JSON body ("in the request
  body with content type application/json"); how a JSON body enters
  ``totalParams``, and where ``signature`` goes then, is not shown (uncertain; the
  preset can refuse JSON bodies).
* Headers: ``X-MEXC-APIKEY`` (the API key) and ``Content-Type: application/json``
  (the docs' "Header" table; the SDK sends both on every request, ccxt sends
  ``Content-Type`` on POST/DELETE only plus ``source: CCXT``). No signature header.
* Timing: "if (timestamp < (serverTime + 1000) && (serverTime - timestamp) <=
  recvWindow) process request else reject". Stale timestamp: HTTP 400 with
  ``{"code":700003,"msg":"Timestamp for this request is outside of the recvWindow."}``
  (code and text from the docs' error table "700003 Timestamp for this request is
  outside of the recvWindow"; the 400 and the trailing period as reported in ccxt
  #22619 and hummingbot #7065). Also ``700005`` "recvWindow must less than 60000",
  ``700002`` "Signature for this request is not valid", ``700001`` "API-key format
  invalid".
* Server time: ``GET /api/v3/time`` (no auth) answers ``{"serverTime": 1645539742000}``.
* Default origin ``https://api.mexc.com`` (paths start ``/api/v3``); no testnet or
  demo host is documented for spot. Env var prefix ``MEXC`` (``MEXC_API_KEY``,
  ``MEXC_API_SECRET``); no passphrase. Options: ``recv_window`` (``None`` or 1 to
  60000 ms; default ``None``: not sent, the server uses 5000).

Docs vs SDK: the docs' "Example 1" prints signature ``323c96ab...`` for the same
string as "Example 2", whose ``fd3e4e85...`` is the right HMAC (the SDK, ccxt and
openssl give ``fd3e4e85...``): example 1's value is a docs error. The SDK never
sends a body, so the mixed query+body vector (docs example 3) comes from the docs
alone and is checked by ``docs_sign``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import ccxt

SDK_DIR = os.environ.get("MEXC_SDK_DIR", "/tmp/mexcsdk/package")  # noqa: S108 (a path to read, not a temp file)
SDK_COMMIT = "e2559d4b7def49bad04be6fb652d03f0c73f4833"
ORIGIN = "https://api.mexc.com"

# Made-up credentials (never real ones); docs examples use the docs' pair.
KEY = "mx0vglZ8S6aN809vmE"
SECRET = "8f7e6d5c4b3a29180f1e2d3c4b5a6978"
DOCS_KEY = "mx0aBYs33eIilxBWC5"
DOCS_SECRET = "45d0b3c26f2644f19bfb98b07741b2f5"
DOCS_TS = 1644489390087
DOCS_EXAMPLE_2_SIGN = "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
DOCS_EXAMPLE_3_SIGN = "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"

# Runs the SDK's own JavaScript: fixed clock, and the HTTP call replaced by a recorder.
_NODE = r"""
const path = require('path');
const dir = process.argv[1];
const util = require(path.join(dir, 'src/util/util.js'));
const { Spot } = require(path.join(dir, 'src/index.js'));
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = [];
for (const c of cases) {
  let captured = null;
  util.createRequest = (config) => { captured = config; return { getBody: () => '{}' }; };
  Date.now = () => c.ts;
  const client = new Spot(c.key, c.secret);
  if (c.call === 'signRequest') client.signRequest(...c.args);
  else client[c.call](...c.args);
  out.push({ method: captured.method, url: captured.baseURL + captured.url, headers: captured.headers });
}
process.stdout.write(JSON.stringify(out));
"""


def docs_sign(secret: str, query: str, body: str) -> tuple[str, str]:
    """Sign from the docs alone: ``(totalParams, hex HMAC-SHA256)``; ``signature`` itself is left out."""

    def unsigned(params: str) -> str:
        return "&".join(p for p in params.split("&") if p and not p.startswith("signature="))

    total = unsigned(query) + unsigned(body)
    return total, hmac.new(secret.encode(), total.encode("utf-8"), hashlib.sha256).hexdigest()


def _run_sdk(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the cases through the SDK under Node.js."""
    done = subprocess.run(
        ["node", "-e", _NODE, SDK_DIR], input=json.dumps(cases), capture_output=True, text=True, check=True
    )
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


def _caller_url(wire_url: str, recv_window: int | None) -> str:
    """The URL a caller of the preset passes: the wire URL without what the scheme adds."""
    base, _, query = wire_url.partition("?")
    added = {"timestamp", "signature"} | ({"recvWindow"} if recv_window is not None else set())
    kept = [p for p in query.split("&") if p.split("=", 1)[0] not in added]
    return base + ("?" + "&".join(kept) if kept else "")


def _vector(
    name: str,
    key: str,
    secret: str,
    method: str,
    url: str,
    content_type: str | None,
    body: str,
    ts: int,
    recv_window: int | None,
    wire_url: str,
    wire_body: str,
    headers: dict[str, str],
) -> dict[str, Any]:
    """One vector in the shared shape; the signature is checked against ``docs_sign``."""
    query = urlsplit(wire_url).query
    prehash, signature = docs_sign(secret, query, wire_body)
    sent = dict(parse_qsl(query + "&" + wire_body, keep_blank_values=True))
    assert sent["signature"] == signature, (name, sent["signature"], signature)
    assert sent["timestamp"] == str(ts)
    return {
        "name": name,
        "key": key,
        "secret": secret,
        "passphrase": None,
        "options": {"recv_window": recv_window},
        "method": method,
        "url": url,
        "content_type": content_type,
        "body": body,
        "clock_ms": ts,
        "nonce": None,
        "expected": {"url": wire_url, "body": wire_body, "headers": headers, "prehash": prehash},
    }


def _ccxt_agrees(vector: dict[str, Any]) -> None:
    """Check that ccxt encodes the parameters as the SDK does and signs its query as the docs say."""
    exchange = ccxt.mexc({"apiKey": vector["key"], "secret": vector["secret"]})
    exchange.nonce = lambda: vector["clock_ms"]
    parts = urlsplit(vector["url"])
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    out = exchange.sign(parts.path.removeprefix("/api/v3/"), ["spot", "private"], vector["method"], params)
    query = urlsplit(out["url"]).query
    _, signature = docs_sign(vector["secret"], query, "")
    assert query.endswith("&signature=" + signature), vector["name"]
    # Same encoding of the caller's parameters as the SDK (ccxt adds timestamp then recvWindow).
    assert _caller_url(out["url"], 5000) == vector["url"], (vector["name"], out["url"])


def main() -> None:
    """Print the vectors file as JSON."""
    batch = json.dumps(
        [
            {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "65000"},
            {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "quantity": "0.001", "price": "70000"},
        ],
        separators=(",", ":"),
    )
    cases: list[tuple[str, str, str, int, int | None, str, list[Any]]] = [
        (
            "docs example 2: POST /api/v3/order, all parameters in the query string (docs key, secret, timestamp)",
            DOCS_KEY,
            DOCS_SECRET,
            DOCS_TS,
            5000,
            "signRequest",
            [
                "POST",
                "/order",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "quantity": "1",
                    "price": "11",
                    "recvWindow": 5000,
                },
            ],
        ),
        (
            "GET /api/v3/account without parameters via Spot.accountInfo",
            KEY,
            SECRET,
            1700000000000,
            None,
            "accountInfo",
            [],
        ),
        (
            "GET /api/v3/myTrades?limit=10&symbol=BTCUSDT via Spot.accountTradeList",
            KEY,
            SECRET,
            1700000000001,
            None,
            "accountTradeList",
            ["btcusdt", {"limit": 10}],
        ),
        (
            "POST /api/v3/order via Spot.newOrder (parameters in the query string, no body)",
            KEY,
            SECRET,
            1700000000002,
            None,
            "newOrder",
            ["BTCUSDT", "BUY", "LIMIT", {"quantity": "0.001", "price": "65000", "newClientOrderId": "vec-0001"}],
        ),
        (
            "DELETE /api/v3/order via Spot.cancelOrder, non-ASCII origClientOrderId (é sent and signed as %C3%A9)",
            KEY,
            SECRET,
            1700000000003,
            None,
            "cancelOrder",
            ["BTCUSDT", {"origClientOrderId": "café-1"}],
        ),
        (
            "POST /api/v3/batchOrders: a JSON list in a query value, signed percent-encoded (uppercase hex)",
            KEY,
            SECRET,
            1700000000004,
            5000,
            "signRequest",
            ["POST", "/batchOrders", {"batchOrders": batch, "recvWindow": 5000}],
        ),
    ]
    sdk_cases = [{"key": k, "secret": s, "ts": ts, "call": call, "args": args} for _, k, s, ts, _, call, args in cases]
    vectors = []
    for (name, key, secret, ts, recv_window, _, _), sent in zip(cases, _run_sdk(sdk_cases), strict=True):
        assert sent["headers"]["X-MEXC-APIKEY"] == key
        wire = sent["url"]
        vectors.append(
            _vector(
                name,
                key,
                secret,
                sent["method"],
                _caller_url(wire, recv_window),
                None,
                "",
                ts,
                recv_window,
                wire,
                "",
                {"X-MEXC-APIKEY": key},
            )
        )
    assert urlsplit(vectors[0]["expected"]["url"]).query.endswith("&signature=" + DOCS_EXAMPLE_2_SIGN), (
        "SDK does not reproduce the docs' example 2"
    )
    # Docs example 3 (query string plus form body); the SDK never sends a body, so this one is the docs' own.
    docs_body = f"quantity=1&price=11&recvWindow=5000&timestamp={DOCS_TS}&signature={DOCS_EXAMPLE_3_SIGN}"
    vectors.append(
        _vector(
            "docs example 3: POST /api/v3/order, query string plus form body, signed with no '&' between them "
            "(from the docs, not the SDK)",
            DOCS_KEY,
            DOCS_SECRET,
            "POST",
            ORIGIN + "/api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT",
            "application/x-www-form-urlencoded",
            "quantity=1&price=11",
            DOCS_TS,
            5000,
            ORIGIN + "/api/v3/order?symbol=BTCUSDT&side=BUY&type=LIMIT",
            docs_body,
            {"X-MEXC-APIKEY": DOCS_KEY},
        )
    )
    for vector in vectors[1:-1]:
        _ccxt_agrees(vector)
    print(
        json.dumps(
            {
                "source": f"mexcdevelop/mexc-api-sdk @ {SDK_COMMIT} (mexc-sdk 1.0.0, dist/js jsii package, "
                "src/modules/base.js Base.signRequest) run under Node.js; cross-checked with ccxt mexc.sign(); "
                "scheme per https://mexcdevelop.github.io/apidocs/spot_v3_en/#signed",
                "version": f"mexc-sdk 1.0.0 @ {SDK_COMMIT[:12]}; ccxt {ccxt.__version__}",
                "generator": "tests/vectors/generate_mexc.py",
                "vectors": vectors,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
