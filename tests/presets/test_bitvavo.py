"""The Bitvavo preset: SDK, docs and ccxt vectors, verifier, every client against a real server, bad input."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth import TimestampRejection
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.bitvavo import Bitvavo, BitvavoVerifier, bitvavo_clock_sync
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "bitvavo.json").read_text())[
    "vectors"
]
KEY = "HBA-TEST-BITVAVO-KEY-0001"
SECRET = "hba-test-bitvavo-secret-0123456789abcdef"
NOW_MS = 1_700_000_000_000
ORDER = {"market": "BTC-EUR", "side": "buy", "orderType": "limit", "amount": "1.23", "price": "5000"}


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = Bitvavo(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000, **v["options"])
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _signature(signed: Any) -> str:
    return str(signed.headers["Bitvavo-Access-Signature"])


def _verifier(vector: dict[str, Any] | None = None) -> BitvavoVerifier:
    return BitvavoVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The SDK's, the docs' and ccxt's four headers exactly (names in the docs' casing); URL and body as given."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert _lower(signed.headers) == _lower(expected["headers"])
    assert list(signed.headers) == [
        "Bitvavo-Access-Key",
        "Bitvavo-Access-Signature",
        "Bitvavo-Access-Timestamp",
        "Bitvavo-Access-Window",
    ]
    # Every request says JSON (docs, "API structure"); a request with a body keeps its own type.
    assert signed.content_type == (None if vector["body"] else "application/json")


def test_docs_example_signature() -> None:
    """The docs' example (secret "bitvavo", 1548172481125 POST /v2/order) gives the published 44d02272..."""
    signed = _sign(VECTORS[0])
    assert _signature(signed) == "44d022723a20973a18f7ee97398b9fdd405d2d019c8d39e24b8cc0dcb39ca016"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the timestamp, method, path, query, body or secret changes the signature."""
    good = _signature(_sign(vector))
    twins: list[dict[str, Any]] = [
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": "M" + vector["secret"][1:]},
        {"url": vector["url"].replace("/v2/", "/v3/")},
        {"url": vector["url"] + ("&" if "?" in vector["url"] else "?") + "a=1"},
        {"method": "PUT"} if vector["body"] else {"method": "HEAD"},
    ]
    if vector["body"]:
        twins.append({"body": vector["body"].replace("BTC", "BTD", 1)})
    for twin in twins:
        assert _signature(_sign(vector, **twin)) != good, twin


def test_the_window_is_sent_but_not_signed() -> None:
    """Bitvavo-Access-Window goes out as configured; the signed message does not include it."""
    narrow = _sign(VECTORS[1], options={"access_window": 5000})
    assert narrow.headers["Bitvavo-Access-Window"] == "5000"
    assert _signature(narrow) == _signature(_sign(VECTORS[1]))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector (any header casing), and rejects tampering, a wrong key or secret."""
    expected = vector["expected"]
    verifier = _verifier(vector)
    url, body, headers = expected["url"], expected["body"].encode(), expected["headers"]
    verdict = verifier.verify(vector["method"], url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce, verdict.timestamp_ms) == (vector["key"], None, vector["clock_ms"])
    stamp = next(name for name in headers if name.lower() == "bitvavo-access-timestamp")
    key = next(name for name in headers if name.lower() == "bitvavo-access-key")
    later = {**headers, stamp: str(vector["clock_ms"] + 1)}
    assert verifier.verify(vector["method"], url, later, body).reason == "bad signature"
    assert verifier.verify(vector["method"], url + ("&" if "?" in url else "?") + "a=1", headers, body).reason == (
        "bad signature"
    )
    assert verifier.verify(vector["method"], url, {**headers, key: "nobody"}, body).reason == "unknown key"
    assert not BitvavoVerifier({vector["key"]: "M" + vector["secret"][1:]}).verify(vector["method"], url, headers, body)
    if body:
        assert (
            verifier.verify(vector["method"], url, headers, body.replace(b"BTC", b"BTD", 1)).reason == "bad signature"
        )


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with params, POST and PUT JSON (non-ASCII), DELETE with params: all accepted as signed."""
    auth = Bitvavo(KEY, SECRET, access_window=5000)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/v2/"
        calls: list[Request] = [
            ("GET", base + "account", {}),
            ("GET", base + "trades", {"params": {"market": "BTC-EUR", "limit": "25"}}),
            ("POST", base + "order", {"json": {**ORDER, "clientOrderId": "café ü"}}),
            ("PUT", base + "order", {"json": {"market": "BTC-EUR", "orderId": "95d9", "price": "5001"}}),
            ("DELETE", base + "order", {"params": {"market": "BTC-EUR", "orderId": "95d9 a/b"}}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        for got in server.received:
            assert header(got.headers, "Bitvavo-Access-Key") == KEY
            assert header(got.headers, "Bitvavo-Access-Window") == "5000"
            assert (header(got.headers, "Content-Type") or "").startswith("application/json")


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = Bitvavo(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/v2/balance", {"params": {"symbol": "BTC"}})] * 5
        calls += [("POST", server.origin + "/v2/order", {"json": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)
        assert not auth.ordered


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("POST", {"data": {"market": "BTC-EUR"}}, "JSON"),
        ("POST", {"json": ["BTC-EUR"]}, "JSON object"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not JSON"),
        ("DELETE", {"json": {"market": "BTC-EUR", "orderId": "1"}}, "query string"),
        ("GET", {"content": b'{"symbol":"BTC"}'}, "query string"),
    ],
)
def test_bad_input_is_refused_before_sending(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A form, a JSON array, broken JSON and a GET or DELETE body raise BodyError; nothing reaches the server."""
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/v2/order"
        with httpx.Client(auth=Bitvavo(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=Bitvavo(KEY, SECRET), timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("access_window", [0, 99, 60_001, True, 10_000.0, "10000", None])
def test_invalid_access_window_is_a_configuration_error(access_window: Any) -> None:
    """access_window must be an int of milliseconds from 100 to 60000 (errorCode 303)."""
    with pytest.raises(ConfigurationError, match="access_window"):
        Bitvavo(KEY, SECRET, access_window=access_window)


def test_fixed_options_and_bad_key_are_refused() -> None:
    """The algorithm, encodings and nonce are fixed; no passphrase; a key with whitespace is refused, not echoed."""
    for option in ({"algorithm": "sha512"}, {"nonce": lambda: 1}, {"digest_encoding": "base64"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            Bitvavo(KEY, SECRET, **option)
    with pytest.raises(TypeError, match="passphrase"):
        Bitvavo(KEY, SECRET, passphrase="x")
    with pytest.raises(ConfigurationError) as caught:
        Bitvavo(KEY + "\n", SECRET)
    assert KEY not in str(caught.value)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = Bitvavo(KEY, SECRET, access_window=5000)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    assert "access_window=5000" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://api.bitvavo.com/v2/account")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


OUTSIDE = (
    b'{"errorCode":304,"error":"Request was not received within acceptable window (default 30s, or custom with '
    b'Bitvavo-Access-Window header) of Bitvavo-Access-Timestamp header (or timestamp parameter for websocket)."}'
)


def test_clock_sync_reads_error_code_304_and_the_time_endpoint_only() -> None:
    """304 with HTTP 403 is a timestamp refusal; another code, status or shape is not; the window is the option's."""
    sync = bitvavo_clock_sync()
    assert sync.parse(403, OUTSIDE, NOW_MS) == TimestampRejection(None)
    for status, body in [
        (400, OUTSIDE),
        (200, OUTSIDE),
        (403, OUTSIDE.replace(b":304", b":309")),
        (403, OUTSIDE.replace(b":304", b':"304"')),
        (403, b'{"errorCode":304}'),
        (403, b'{"errorCode":304,"error":"x","orderId":"1"}'),
        (200, b'{"orderId":"304","market":"BTC-EUR"}'),
    ]:
        assert sync.parse(status, body, NOW_MS) is None, body
    assert (sync.time_path, sync.window_ms, bitvavo_clock_sync(5000).window_ms) == ("/v2/time", 10_000, 5000)
    assert Bitvavo(KEY, SECRET, access_window=7000).lifecycle.clock_sync == bitvavo_clock_sync(7000)
    assert sync.read_server_time(200, b'{"time": 1590379519148}') == 1_590_379_519_148 * 1_000_000
    assert sync.read_server_time(200, b'{"time": "1590379519148"}') is None
