"""The current Poloniex spot API preset: known-answer vectors, verifier, and both clients against a real server."""

from __future__ import annotations

import copy
import json
import pickle
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import requests

from hmac_body_auth._core import Outgoing
from hmac_body_auth._signing import Signer
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.poloniex_v3 import PoloniexV3, PoloniexV3Verifier, encode_query
from hmac_body_auth.recipe import RecipeScheme
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "poloniex_v3.json").read_text())["vectors"]
KEY = "POLO-KEY-0123-4567-89AB"
SECRET = "polo-secret-0123456789abcdef"
ORDER = {"symbol": "BTC_USDT", "side": "BUY", "type": "LIMIT", "quantity": "100", "price": "40000.50000"}


def _sign(vector: dict[str, Any], **change: Any) -> dict[str, str]:
    v = {**vector, **change}
    out = Outgoing(v["method"], v["url"], v["content_type"], v["body"].encode())
    signer = Signer(v["secret"], algorithm="sha256", digest_encoding="base64")
    signed = RecipeScheme(PoloniexV3.recipe, {"recv_window": None}).sign(
        out, signer, v["key"], None, lambda: v["clock_ms"]
    )
    assert (signed.url, signed.body) == (v["url"], v["body"].encode())
    return signed.headers


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Our scheme reproduces ccxt's key/signTimestamp/signature headers exactly."""
    assert _sign(vector) == vector["headers"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """Changing one byte of the body, path, query, method, timestamp or secret changes the signature."""
    expected = vector["headers"]["signature"]
    changes: list[dict[str, Any]] = [
        {"url": vector["url"].replace(".com/", ".com/v2/")},
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": vector["secret"] + "x"},
        {"method": "PUT"},
    ]
    if vector["body"]:
        changes.append({"body": vector["body"].replace('"', "'", 1)})
    else:
        changes.append({"url": vector["url"] + ("&a=1" if "?" in vector["url"] else "?a=1")})
    for change in changes:
        assert _sign(vector, **change)["signature"] != expected, change


def test_query_order_does_not_matter() -> None:
    """GET parameters are signed sorted by name, so their order in the URL does not change the signature."""
    get = VECTORS[0]
    assert get["url"].endswith("?symbol=ETH_USDT&limit=5")
    swapped = get["url"].replace("?symbol=ETH_USDT&limit=5", "?limit=5&symbol=ETH_USDT")
    assert _sign(get, url=swapped)["signature"] == get["headers"]["signature"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as ccxt signed it and rejects tampered twins."""
    verifier = PoloniexV3Verifier({vector["key"]: vector["secret"]})
    method, url, headers, body = vector["method"], vector["url"], vector["headers"], vector["body"].encode()
    verdict = verifier.verify(method, url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (vector["key"], vector["clock_ms"])
    assert verifier.verify(method, url + "x", headers, body).reason == "bad signature"
    assert verifier.verify(method, url, headers, body + b" ").reason == "bad signature"
    later = {**headers, "signTimestamp": str(vector["clock_ms"] + 1)}
    assert verifier.verify(method, url, later, body).reason == "bad signature"
    assert verifier.verify(method, url, {**headers, "key": "other"}, body).reason == "unknown key"
    assert verifier.verify(method, url, {**headers, "signTimestamp": "soon"}, body).reason == "bad signTimestamp"


def test_recv_window_header_and_auth_round_trip() -> None:
    """recv_window adds a recvWindow header; PoloniexV3.sign output verifies; a wrong secret fails."""
    auth = PoloniexV3(KEY, SECRET, recv_window=1500, clock=lambda: 1_700_000_000_000 * 1_000_000)
    signed = auth.sign("POST", "https://api.poloniex.com/orders", body=json.dumps(ORDER))
    assert signed.headers["recvWindow"] == "1500"
    assert signed.headers["signTimestamp"] == "1700000000000"
    assert signed.content_type == "application/json"
    assert PoloniexV3Verifier({KEY: SECRET}).verify("POST", signed.url, signed.headers, signed.body)
    assert not PoloniexV3Verifier({KEY: SECRET + "x"}).verify("POST", signed.url, signed.headers, signed.body)
    assert "recvWindow" not in PoloniexV3(KEY, SECRET).sign("GET", "https://api.poloniex.com/orders").headers


# (method, path, params, json body, the target and body the server must receive)
CALLS: list[tuple[str, str, dict[str, str] | None, Any, str, bytes | None]] = [
    ("GET", "/orders", {"symbol": "ETH_USDT", "limit": "5"}, None, "/orders?symbol=ETH_USDT&limit=5", b""),
    ("POST", "/orders", None, ORDER, "/orders", None),
    ("DELETE", "/orders/cancelByIds", None, {"orderIds": ["1234567890"]}, "/orders/cancelByIds", None),
    ("DELETE", "/orders/21934611974062080", None, None, "/orders/21934611974062080", b""),
]


def _check_server(server: SchemeServer, sent_bodies: list[bytes]) -> None:
    assert server.stats.accepted == len(CALLS), [r.answer for r in server.received]
    assert server.stats.rejected == 0
    assert [(r.method, r.path) for r in server.received] == [(c[0], c[4]) for c in CALLS]
    assert [r.body for r in server.received] == sent_bodies
    for r, call in zip(server.received, CALLS, strict=True):
        assert header(r.headers, "key") == KEY
        if call[3] is not None:
            assert json.loads(r.body) == call[3]


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with query, POST and DELETE with JSON, DELETE without body: accepted as signed, through every client."""
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET}), window_ms=60_000) as server:
        calls: list[Request] = [
            (method, server.origin + path, {"params": params, "json": body})
            for method, path, params, body, _, _ in CALLS
        ]
        replies = send(client, PoloniexV3(KEY, SECRET), calls)
        assert [r.status for r in replies] == [200] * len(CALLS), replies
        _check_server(server, [r.body for r in server.received])
        assert [r.body for r, call in zip(server.received, CALLS, strict=True) if call[5] is not None] == [b"", b""]


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: the same calls, concurrently, are all accepted (no nonce, no ordering needed)."""
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET}), window_ms=60_000) as server:
        calls: list[Request] = [
            (m, server.origin + p, {"params": q, "json": b}) for m, p, q, b, _, _ in CALLS for _ in range(3)
        ]
        assert [r.status for r in send(client, PoloniexV3(KEY, SECRET), calls, concurrent=True)] == [200] * len(calls)
        assert (server.stats.accepted, server.stats.rejected) == (3 * len(CALLS), 0)


def test_wrong_secret_is_rejected_by_the_server() -> None:
    """A request signed with another secret is answered 401 by the verifying server."""
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET})) as server:
        r = requests.get(server.origin + "/accounts/balances", auth=PoloniexV3(KEY, SECRET + "x"), timeout=5)
        assert r.status_code == 401
        assert server.stats.bad_signature == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        ("GET", "/orders", {"content": b'{"a":1}'}, "query string of a GET"),
        ("POST", "/orders?symbol=BTC_USDT", {"json": ORDER}, "query string would go unsigned"),
        ("POST", "/orders", {"data": {"symbol": "BTC_USDT"}}, "a JSON body"),
        ("POST", "/orders", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid"),
        ("GET", "/orders?signTimestamp=1", {}, "already has signTimestamp"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(method: str, path: str, kwargs: dict[str, Any], message: str) -> None:
    """Unsigned bodies or queries, non-JSON bodies and a caller's signTimestamp raise BodyError before sending."""
    auth = PoloniexV3(KEY, SECRET)
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET})) as server:
        with httpx.Client(auth=auth, base_url=server.origin) as c, pytest.raises(BodyError, match=message):
            c.request(method, path, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, server.origin + path, auth=auth, timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("recv_window", [0, -5, True, "1500", 1.5])
def test_bad_recv_window_is_a_configuration_error(recv_window: Any) -> None:
    """recv_window must be None or a positive int of milliseconds."""
    with pytest.raises(ConfigurationError, match="recv_window"):
        PoloniexV3(KEY, SECRET, recv_window=recv_window)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the full key; pickling is refused; a deep copy still signs."""
    auth = PoloniexV3(KEY, SECRET, recv_window=1500)
    text = repr(auth)
    assert SECRET not in text
    assert KEY not in text
    assert "recv_window=1500" in text
    assert SECRET not in repr(PoloniexV3Verifier({KEY: SECRET}))
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://api.poloniex.com/orders?symbol=BTC_USDT")
    assert PoloniexV3Verifier({KEY: SECRET}).verify("GET", signed.url, signed.headers, signed.body)


def _encode_uri_component(text: str) -> str:
    """JavaScript's encodeURIComponent, from its specification (ECMA-262 "Encode"): UTF-8 bytes as %XX."""
    unreserved = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()")
    return "".join(c if c in unreserved else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def test_query_values_are_sent_and_signed_as_the_official_sdk_encodes_them() -> None:
    """clientOrderId="a b(1)" goes out and is signed as a%20b(1), as polo-sdk-python does (not a+b%281%29)."""
    auth = PoloniexV3(KEY, SECRET, clock=lambda: 1_700_000_000_000 * 1_000_000)
    signed = auth.sign("GET", "https://api.poloniex.com/orders?symbol=BTC_USDT&clientOrderId=a+b%281%29")
    assert signed.url == "https://api.poloniex.com/orders?symbol=BTC_USDT&clientOrderId=a%20b(1)"
    assert PoloniexV3Verifier({KEY: SECRET}).verify("GET", signed.url, signed.headers, b"")


def test_query_encoding_matches_encode_uri_component_on_random_values() -> None:
    """1000 random values (spaces, reserved and non-ASCII characters) are encoded exactly as encodeURIComponent."""
    rng = random.Random(20261202)
    alphabet = "ab Z09-_.!~*'()+&=%/?#é😀\u00a0"
    for _ in range(1000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        sent_by_requests = urlencode({"v": value})  # what requests and httpx put on the URL
        assert encode_query(sent_by_requests) == "v=" + _encode_uri_component(value), value


@pytest.mark.parametrize("client", CLIENTS)
def test_sdk_encoded_query_end_to_end(client: str) -> None:
    """A GET whose values need encoding is accepted through every client, and arrives as the SDK encodes it."""
    auth = PoloniexV3(KEY, SECRET)
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET}), window_ms=60_000) as server:
        params = {"symbol": "BTC_USDT", "clientOrderId": "a b(1)*'!~é"}
        replies = send(client, auth, [("GET", server.origin + "/orders", {"params": params})])
        assert [r.status for r in replies] == [200], replies
        assert server.received[0].path == "/orders?symbol=BTC_USDT&clientOrderId=a%20b(1)*'!~%C3%A9"
