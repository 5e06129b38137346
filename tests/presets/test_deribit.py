"""The Deribit API v2 preset: docs-shell and ccxt vectors, verifier, every client end to end, bad input."""

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
from hmac_body_auth.errors import BodyError, ConfigurationError, NonceError
from hmac_body_auth.presets.deribit import DERIBIT_CLOCK_SYNC, Deribit, DeribitVerifier, deribit_nonce
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "deribit.json").read_text())[
    "vectors"
]
KEY = "hbaDeribitId01"
SECRET = "hba-deribit-test-secret-0123456789"
NOW_MS = 1_700_000_000_000
BASE = "https://www.deribit.com/api/v2/"
RPC = {"jsonrpc": "2.0", "id": 7, "method": "private/buy", "params": {"instrument_name": "BTC-PERPETUAL", "amount": 10}}


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = Deribit(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000, nonce=lambda: v["nonce"])
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _sig(signed: Any) -> str:
    return str(signed.headers["Authorization"].partition(",sig=")[2].partition(",")[0])


def _verifier(vector: dict[str, Any] | None = None) -> DeribitVerifier:
    return DeribitVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The docs' shell recipe and ccxt: URL, body and the Authorization header exactly."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert signed.headers == expected["headers"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the path, query, body, ts, nonce, method or secret changes the signature."""
    good = _sig(_sign(vector))
    twins: list[dict[str, Any]] = [
        {"clock_ms": vector["clock_ms"] + 1},
        {"nonce": vector["nonce"] + "x"},
        {"secret": "X" + vector["secret"][1:]},
        {"url": vector["url"].replace("/api/v2", "/api/v3")},
        {"url": vector["url"] + ("&x=1" if "?" in vector["url"] else "?x=1")},
    ]
    if vector["body"]:
        twins.append({"body": vector["body"].replace("10", "11", 1)})
    else:
        twins.append({"method": "POST"})
    for twin in twins:
        assert _sig(_sign(vector, **twin)) != good, twin


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector, and rejects a changed URL or body, another key, a bad header."""
    expected = vector["expected"]
    verifier = _verifier(vector)
    method, url, headers, body = vector["method"], expected["url"], expected["headers"], expected["body"].encode()
    verdict = verifier.verify(method, url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, str(verdict.nonce), verdict.timestamp_ms) == (
        vector["key"],
        vector["nonce"],
        vector["clock_ms"],
    )
    assert verifier.verify(method, url + "x", headers, body).reason == "bad signature"
    assert verifier.verify(method, url, headers, body + b" ").reason == "bad signature"
    value = headers["Authorization"]
    other = {"Authorization": value.replace(f"id={vector['key']}", "id=nobody")}
    assert verifier.verify(method, url, other, body).reason == "unknown key"
    for bad in (value.replace("deri-hmac-sha256", "Basic"), value + ",ts=1", value.replace(",nonce=", ",nonse=")):
        assert not verifier.verify(method, url, {"Authorization": bad}, body), bad


def test_verifier_reads_the_fields_in_any_order_with_spaces() -> None:
    """The docs' own forms: 'id=.., ts=.., sig=.., nonce=..' and the curl line's nonce-before-sig order."""
    vector = VECTORS[0]
    fields = dict(p.split("=", 1) for p in vector["expected"]["headers"]["Authorization"].split(" ", 1)[1].split(","))
    spaced = "deri-hmac-sha256 " + ", ".join(f"{k}={v}" for k, v in fields.items())
    curl = "deri-hmac-sha256 " + ",".join(f"{k}={fields[k]}" for k in ("id", "ts", "nonce", "sig"))
    for value in (spaced, curl):
        assert _verifier(vector).verify("GET", vector["url"], {"Authorization": value}, b""), value


def test_verifier_rejects_a_wrong_secret() -> None:
    """A request signed with another secret is a bad signature."""
    signed = Deribit(KEY, SECRET + "x").sign("GET", BASE + "private/get_subaccounts")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body).reason == "bad signature"


def test_default_nonce_is_random_and_requests_are_unordered() -> None:
    """The default nonce is 16 random hex characters, fresh per request; the auth does not serialize."""
    auth = Deribit(KEY, SECRET)
    assert not auth.ordered
    nonces = {deribit_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(len(n) == 16 and int(n, 16) >= 0 for n in nonces)


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with a query (non-ASCII too), GET without, a JSON-RPC POST: accepted as signed through every client."""
    auth = Deribit(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/api/v2/"
        calls: list[Request] = [
            ("GET", base + "private/get_positions", {"params": {"currency": "BTC", "kind": "future"}}),
            ("GET", base + "private/buy", {"params": {"instrument_name": "BTC-PERPETUAL", "label": "café a+b"}}),
            ("GET", base + "private/get_subaccounts", {}),
            ("POST", server.origin + "/api/v2", {"json": RPC}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        for got in server.received:
            assert (header(got.headers, "Authorization") or "").startswith(f"deri-hmac-sha256 id={KEY},ts=")


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent calls are all accepted (random nonces, no ordering needed)."""
    auth = Deribit(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [
            ("GET", server.origin + "/api/v2/private/get_positions", {"params": {"currency": "BTC"}})
        ]
        calls = calls * 5 + [("POST", server.origin + "/api/v2", {"json": RPC})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("GET", {"content": b'{"a":1}'}, "query string, not a body"),
        ("DELETE", {}, "GET/POST"),
        ("POST", {"data": {"a": "1"}}, "JSON"),
        ("POST", {"content": b"[1]", "headers": {"Content-Type": "application/json"}}, "JSON object"),
        ("POST", {"content": b"{nope", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
    ],
)
def test_bad_input_is_refused_before_sending(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A GET body, other methods, forms, arrays and broken JSON raise BodyError; nothing reaches the server."""
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/api/v2/private/get_positions"
        with httpx.Client(auth=Deribit(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=Deribit(KEY, SECRET), timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("nonce", ["a,b", "a b", "", "é", 5])
def test_a_nonce_that_breaks_the_header_is_refused(nonce: Any) -> None:
    """A nonce with ',' or a space, an empty, non-ASCII or non-str one raises NonceError before sending."""
    with pytest.raises(NonceError):
        Deribit(KEY, SECRET, nonce=lambda: nonce).sign("GET", BASE + "private/get_subaccounts")


def test_testnet_signs_for_the_test_host_only() -> None:
    """testnet=True signs for test.deribit.com and refuses the production host."""
    auth = Deribit(KEY, SECRET, testnet=True)
    assert auth.sign("GET", "https://test.deribit.com/api/v2/private/get_subaccounts").headers["Authorization"]
    with pytest.raises(BodyError, match=r"test\.deribit\.com"):
        auth.sign("GET", BASE + "private/get_subaccounts")


def test_options_fixed_values_and_bad_keys_are_refused() -> None:
    """The testnet option must be a bool; algorithm and encodings are fixed; a key with ',' or a newline is refused."""
    with pytest.raises(ConfigurationError, match="testnet"):
        Deribit(KEY, SECRET, testnet=1)
    for option in ({"algorithm": "sha512"}, {"digest_encoding": "base64"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            Deribit(KEY, SECRET, **option)
    for key in ("a,b", KEY + "\n"):
        with pytest.raises(ConfigurationError) as info:
            Deribit(key, SECRET)
        assert key not in str(info.value)
    with pytest.raises(TypeError, match="passphrase"):
        Deribit(KEY, SECRET, passphrase="x")


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = Deribit(KEY, SECRET, testnet=False)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    assert "testnet=False" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", BASE + "private/get_subaccounts")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


def _unauthorized(us_in: int) -> bytes:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "error": {"message": "unauthorized", "code": 13009},
            "testnet": False,
            "usIn": us_in,
            "usOut": us_in + 89,
            "usDiff": 89,
        }
    ).encode()


def test_clock_sync_reads_13009_only_when_its_usin_is_outside_the_window() -> None:
    """A 13009 (HTTP 401) whose usIn is 60 s+ from ts is a refusal with that time; at a good clock it is not."""
    sync = DERIBIT_CLOCK_SYNC
    far = (NOW_MS + 60_001) * 1000
    assert sync.parse(401, _unauthorized(far), NOW_MS) == TimestampRejection(far * 1000)
    assert sync.parse(401, _unauthorized((NOW_MS - 61_000) * 1000), NOW_MS) is not None
    for status, body, signed in [
        (401, _unauthorized((NOW_MS + 60_000) * 1000), NOW_MS),
        (401, _unauthorized(far), None),
        (400, _unauthorized(far), NOW_MS),
        (200, _unauthorized(far), NOW_MS),
        (401, _unauthorized(far).replace(b"13009", b"13004"), NOW_MS),
        (401, _unauthorized(far).replace(b"13009", b'"13009"'), NOW_MS),
        (401, _unauthorized(far).replace(b'"unauthorized"', b'"invalid_credentials"'), NOW_MS),
        (401, _unauthorized(far).replace(b'"usIn": ', b'"usIn": -'), NOW_MS),
        (401, _unauthorized(far).replace(str(far).encode(), str(far / 1).encode(), 1), NOW_MS),
        (401, _unauthorized(far).replace(b'"2.0"', b'"1.0"'), NOW_MS),
        (401, _unauthorized(far)[:-1] + b', "result": {}}', NOW_MS),
        (401, b"unauthorized 13009", NOW_MS),
    ]:
        assert sync.parse(status, body, signed) is None, (status, body)
    assert (sync.time_path, sync.window_ms) == ("/api/v2/public/get_time", 60_000)
    answer = b'{"jsonrpc": "2.0", "result": 1550147385946, "usIn": 1, "usOut": 2, "usDiff": 1, "testnet": false}'
    assert sync.read_server_time(200, answer) == 1_550_147_385_946 * 1_000_000
    for garbled in (b'{"jsonrpc":"2.0","result":"1550147385946"}', b'{"result":1550147385946}', b'{"jsonrpc":"2.0"}'):
        assert sync.read_server_time(200, garbled) is None, garbled
    assert Deribit(KEY, SECRET).lifecycle.clock_sync == sync
    assert Deribit(KEY, SECRET, clock_sync=False).lifecycle.clock_sync is None
