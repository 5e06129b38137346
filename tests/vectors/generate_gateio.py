r"""Regenerate ``gateio.json`` with Gate's official Python SDK ``gate-api``; the module docstring is the scheme spec.

Not run by the test suite. To rerun::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install gate-api==7.2.161
    /tmp/vec/bin/python tests/vectors/generate_gateio.py > tests/vectors/gateio.json

SDK called: ``gate-api`` (PyPI, https://github.com/gateio/gateapi-python; version in
the JSON), file ``gate_api/api_client.py``: ``ApiClient.update_params_for_auth``
(picks the path and the query it signs) and ``ApiClient.gen_sign`` (the message,
the hashes, the headers). The generated API classes (``SpotApi``, ``WalletApi``) and
``ApiClient.call_api`` build the requests; ``time`` inside ``gate_api.api_client`` is
replaced by a fixed clock, the urllib3 pool by a recorder (nothing is sent) and
``hmac`` inside ``gate_api.api_client`` by a wrapper that records the exact message.
``docs_sign`` below is written from the docs alone and must agree with the SDK on
every vector; both docs examples are reproduced byte for byte.

Scheme spec (Gate API v4)
=========================

Docs: https://www.gate.io/docs/developers/apiv4/ (now also www.gate.com/docs/developers/apiv4/),
sections "APIv4 signed request requirements" and "API Signature string generation"
(read from a stored copy of the docs, "Gate API v4.102.1").

* Algorithm: HMAC-SHA512, digest **lowercase hex**; the secret is used **raw** (its
  UTF-8 bytes). Docs: "Signature generation method is
  ``HexEncode(HMAC_SHA512(secret, signature_string))``, i.e., the hexadecimal digest
  output of HMAC-SHA512 with APIv4 secret as secret and signature string as message".
* Message: five parts joined by ``"\n"`` (no trailing newline). Docs:
  "``Request Method + "\n" + Request URL + "\n" + Query String + "\n" +
  HexEncode(SHA512(Request Payload)) + "\n" + Timestamp``".

  - Request Method: "Request method in UPPERCASE, e.g. POST, GET".
  - Request URL: "Protocol, host and port are not included, e.g.
    /api/v4/futures/orders" -- the full path **including the ``/api/v4`` prefix**.
  - Query String: "Request query string without URL encode. query parameters order
    should be the same as how they are concatenated in the request URL, e.g.
    status=finished&limit=50. Use empty string("") if no query parameters." Not
    sorted. The SDK signs ``unquote_plus(urlencode(params))`` and sends
    ``urlencode(params)``: so the signed query is the wire query **form-decoded**
    (``%XX`` as UTF-8, and ``+`` becomes a space); see the ``sub_uid=10001,10002``
    vector (``%2C`` on the wire, ``,`` signed). A ``?`` is not part of it.
  - HexEncode(SHA512(Request Payload)): lowercase hex SHA-512 of the body bytes as
    sent (UTF-8); "If no request body, use empty string's hashed result, i.e.
    cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
    (GET, DELETE without body, and POST without body all use it).
  - Timestamp: the ``Timestamp`` header's value, character for character.
* Timestamp: header ``Timestamp``, Unix **seconds** (docs: "Set request header
  Timestamp to current time formatted in Unix time in seconds. Pay attention that
  the gap between its value and current time cannot exceed 60 seconds"). The SDK
  sends ``str(time.time())``, i.e. fractional seconds such as ``1700000000.123456``,
  which the server accepts; the docs' examples use integers (``1541993715``). The
  vectors use whole seconds (the clock is fixed at ``clock_ms // 1000``), which is
  what the preset should send. No nonce.
* Headers (exact names): ``KEY`` (the API key), ``SIGN`` (the signature),
  ``Timestamp``. The SDK also sends ``Content-Type: application/json``,
  ``Accept: application/json``, ``User-Agent`` and ``X-Gate-Size-Decimal: 1`` (not
  auth). Optional ``x-gate-exptime`` (order endpoints, ms expiry) is not signed.
* Bodies: JSON (``application/json``); GET and DELETE send none. POST/PUT/PATCH
  may also carry a query string, signed as above.
* Stale timestamp: HTTP **401** (docs: "401 is returned on authentication failure")
  with label ``REQUEST_EXPIRED`` ("Request ``Timestamp`` is far from the server
  time"); error bodies are ``{"label": "...", "message": "..."}``, e.g.
  ``{"label":"REQUEST_EXPIRED","message":"..."}`` -- the exact message text is not in
  the docs (uncertain). Bad signature: 401 ``INVALID_SIGNATURE``; missing header:
  ``MISSING_REQUIRED_HEADER``. Window: 60 s (quoted above).
* Server time: ``GET /api/v4/spot/time`` (no auth, "Get server current time")
  answers ``{"server_time": 1597026383085}`` (an integer of **milliseconds**).
* Default origin ``https://api.gateio.ws`` (paths start ``/api/v4``; docs "Live
  trading: https://api.gateio.ws/api/v4"). TestNet: the docs say
  ``https://api-testnet.gateapi.io/api/v4``, the SDK's host list says
  ``https://fx-api-testnet.gateio.ws/api/v4`` (futures); same signing, no extra
  header. Futures alternative: ``https://fx-api.gateio.ws/api/v4``.
  Env var prefix ``GATEIO`` (``GATEIO_API_KEY``, ``GATEIO_API_SECRET``); no
  passphrase. Options: none needed for signing (``testnet`` would only change the
  origin).

Docs vs SDK: the SDK sends fractional seconds (docs: seconds); the SDK's TestNet
host differs from the docs'; the SDK cannot send a caller's exact JSON string
through ``call_api`` (it would ``json.dumps`` the string again), so the vectors with
exact body bytes call ``ApiClient.gen_sign`` directly, as the SDK does internally.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import types
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import gate_api
import gate_api.api_client as gate_client
import urllib3

# Made-up credentials (never real ones); the docs examples use "key"/"secret".
KEY = "9f3c1a7e5b2d4f6a8c0e1b3d5f7a9c2e"
SECRET = "5e7a9c1b3d5f7e9a2c4e6f8a0b2d4f6e8a1c3e5b7d9f2a4c6e8b0d2f4a6c8e1b"
ORIGIN = "https://api.gateio.ws"
HOST = ORIGIN + "/api/v4"
AUTH_HEADERS = ("KEY", "SIGN", "Timestamp")

DOCS_GET_SIGN = (
    "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6"
    "fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
)
DOCS_POST_BODY = '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}'
DOCS_POST_SIGN = (
    "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541f"
    "c4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"
)


def docs_sign(secret: str, timestamp: str, method: str, url: str, body: str) -> tuple[str, str]:
    """Sign from the docs alone: ``(signature string, hex HMAC-SHA512)``; the query is signed form-decoded."""
    parts = urlsplit(url)
    payload_hash = hashlib.sha512(body.encode("utf-8")).hexdigest()
    message = "\n".join([method.upper(), parts.path, unquote_plus(parts.query), payload_hash, timestamp])
    return message, hmac.new(secret.encode(), message.encode("utf-8"), hashlib.sha512).hexdigest()


class _Pool(urllib3.PoolManager):
    """The SDK's urllib3 pool, recording what would go on the wire instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: Any) -> Any:  # type: ignore[override]
        body = kw.get("body")
        self.calls.append({"method": method, "url": url, "body": body, "headers": dict(kw.get("headers") or {})})
        return urllib3.HTTPResponse(body=b"null", status=200, headers={"Content-Type": "application/json"})


class _Hmac:
    """Stands in for ``hmac`` inside ``gate_api.api_client``: records each message, then signs as usual."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def new(self, key: bytes, msg: bytes, digestmod: Any) -> Any:
        self.messages.append(msg.decode("utf-8"))
        return hmac.new(key, msg, digestmod)


def _client(key: str, secret: str, seconds: int) -> tuple[gate_api.ApiClient, _Pool, _Hmac]:
    """An SDK client with its clock fixed at ``seconds`` and its network and HMAC recorded."""
    client = gate_api.ApiClient(gate_api.Configuration(host=HOST, key=key, secret=secret))
    pool, recorder = _Pool(), _Hmac()
    client.rest_client.pool_manager = pool
    gate_client.time = types.SimpleNamespace(time=lambda: seconds)
    gate_client.hmac = recorder
    return client, pool, recorder


def _vector(
    name: str,
    key: str,
    secret: str,
    method: str,
    url: str,
    wire_url: str,
    body: str,
    clock_ms: int,
    headers: dict[str, str],
    prehash: str,
) -> dict[str, Any]:
    """One vector in the shared shape, cross-checked against ``docs_sign``."""
    doc_prehash, doc_sig = docs_sign(secret, headers["Timestamp"], method, wire_url, body)
    assert doc_prehash == prehash, (name, doc_prehash, prehash)
    assert doc_sig == headers["SIGN"], (name, doc_sig, headers["SIGN"])
    assert headers["Timestamp"] == str(clock_ms // 1000)
    return {
        "name": name,
        "key": key,
        "secret": secret,
        "passphrase": None,
        "options": {},
        "method": method,
        "url": url,
        "content_type": "application/json" if body else None,
        "body": body,
        "clock_ms": clock_ms,
        "nonce": None,
        "expected": {"url": wire_url, "body": body, "headers": headers, "prehash": prehash},
    }


def _from_sdk(name: str, clock_ms: int, call: Any, key: str = KEY, secret: str = SECRET) -> dict[str, Any]:
    """A vector from one request made through the SDK (``call(client)``)."""
    client, pool, recorder = _client(key, secret, clock_ms // 1000)
    call(client)
    (sent,) = pool.calls
    (prehash,) = recorder.messages
    raw = sent["body"]
    body = raw.decode("utf-8") if isinstance(raw, bytes) else (raw or "")
    headers = {k: sent["headers"][k] for k in AUTH_HEADERS}
    return _vector(name, key, secret, sent["method"], sent["url"], sent["url"], body, clock_ms, headers, prehash)


def _from_gen_sign(
    name: str, clock_ms: int, method: str, path: str, body: str, key: str = KEY, secret: str = SECRET
) -> dict[str, Any]:
    """A vector from ``ApiClient.gen_sign`` with exact body bytes (what ``update_params_for_auth`` calls)."""
    client, _, recorder = _client(key, secret, clock_ms // 1000)
    signed = client.gen_sign(method, "/api/v4" + path, "", body)
    headers = {k: signed[k] for k in AUTH_HEADERS}
    (prehash,) = recorder.messages
    url = HOST + path
    return _vector(name, key, secret, method, url, url, body, clock_ms, headers, prehash)


def main() -> None:
    """Print the vectors file as JSON."""
    order = gate_api.Order(
        text="t-vec0001",
        currency_pair="BTC_USDT",
        type="limit",
        account="spot",
        side="buy",
        amount="0.001",
        price="65000",
        time_in_force="gtc",
    )
    vectors = [
        _from_sdk(
            "docs example: GET /api/v4/futures/orders?contract=BTC_USD&status=finished&limit=50 (docs key, secret)",
            1541993715000,
            lambda c: c.call_api(
                "/futures/orders",
                "GET",
                query_params=[("contract", "BTC_USD"), ("status", "finished"), ("limit", 50)],
                auth_settings=["apiv4"],
            ),
            key="key",
            secret="secret",
        ),
        _from_gen_sign(
            "docs example: POST /api/v4/futures/orders with the docs' exact JSON body (key 'key', secret 'secret')",
            1541993715000,
            "POST",
            "/futures/orders",
            DOCS_POST_BODY,
            key="key",
            secret="secret",
        ),
        _from_sdk(
            "GET /api/v4/spot/orders?currency_pair=BTC_USDT&status=open via SpotApi.list_orders",
            1700000000000,
            lambda c: gate_api.SpotApi(c).list_orders("BTC_USDT", "open"),
        ),
        _from_sdk(
            "POST /api/v4/spot/orders via SpotApi.create_order (body as the SDK serializes it)",
            1700000001000,
            lambda c: gate_api.SpotApi(c).create_order(order),
        ),
        _from_sdk(
            "DELETE /api/v4/spot/orders/12345?currency_pair=BTC_USDT via SpotApi.cancel_order (no body)",
            1700000002000,
            lambda c: gate_api.SpotApi(c).cancel_order("12345", "BTC_USDT"),
        ),
        _from_sdk(
            "GET /api/v4/wallet/sub_account_balances?sub_uid=10001,10002 (',' sent as %2C, signed decoded)",
            1700000003000,
            lambda c: gate_api.WalletApi(c).list_sub_account_balances(sub_uid="10001,10002"),
        ),
        _from_gen_sign(
            "POST /api/v4/spot/orders with raw UTF-8 'é' in the JSON body (via ApiClient.gen_sign)",
            1700000004000,
            "POST",
            "/spot/orders",
            '{"text":"t-café","currency_pair":"BTC_USDT","type":"limit","account":"spot",'
            '"side":"buy","amount":"0.001","price":"65000"}',
        ),
    ]
    assert vectors[0]["expected"]["headers"]["SIGN"] == DOCS_GET_SIGN, "SDK does not reproduce the docs' GET example"
    assert vectors[1]["expected"]["headers"]["SIGN"] == DOCS_POST_SIGN, "SDK does not reproduce the docs' POST example"
    print(
        json.dumps(
            {
                "source": f"gate-api {gate_api.__version__} (PyPI; gate_api/api_client.py ApiClient.gen_sign, "
                "update_params_for_auth), scheme per https://www.gate.io/docs/developers/apiv4/#api-signature-string-generation",
                "version": gate_api.__version__,
                "generator": "tests/vectors/generate_gateio.py",
                "vectors": vectors,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
