"""The MEXC spot v3 preset: SDK and docs vectors, verifier, every client against a real server, bad input."""

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
from hmac_body_auth.presets.mexc import MEXC, MEXCVerifier, mexc_clock_sync
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "mexc.json").read_text())["vectors"]
KEY = "mx0hbaTestKey0123"
SECRET = "hba-mexc-test-secret-0123456789"
NOW_MS = 1_700_000_000_000
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "65000"}
FORM = "application/x-www-form-urlencoded"


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = MEXC(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000, **v["options"])
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _signature(signed: Any) -> str:
    return str((signed.body.decode() or signed.url).rpartition("&signature=")[2])


def _verifier(vector: dict[str, Any] | None = None) -> MEXCVerifier:
    return MEXCVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The SDK's and the docs' URL, body and X-MEXC-APIKEY exactly; a bodiless call is labelled JSON (as the SDK)."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert signed.headers == expected["headers"]
    assert signed.content_type == (None if vector["body"] else "application/json")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the query, the body, the timestamp, the recv window or the secret changes the signature."""
    good = _signature(_sign(vector))
    twins: list[dict[str, Any]] = [
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": "M" + vector["secret"][1:]},
        {"options": {"recv_window": (vector["options"]["recv_window"] or 5000) + 1}},
        {"url": vector["url"].replace("BTCUSDT", "BTCUSDU") + ("" if "?" in vector["url"] else "?a=1")},
    ]
    if vector["body"]:
        twins.append({"body": vector["body"].replace("=1", "=2", 1)})
    for twin in twins:
        assert _signature(_sign(vector, **twin)) != good, twin


def test_only_the_parameters_are_signed() -> None:
    """No method or path is signed (as Binance's): the same parameters elsewhere have the same signature."""
    vector = next(v for v in VECTORS if v["method"] == "DELETE")
    moved = _sign(vector, url=vector["url"].replace("/api/v3/order", "/api/v3/openOrders"), method="GET")
    assert _signature(moved) == _signature(_sign(vector))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as sent, and rejects a changed timestamp, an unknown key, no signature."""
    expected = vector["expected"]
    verifier = _verifier(vector)
    url, body, headers = expected["url"], expected["body"].encode(), expected["headers"]
    verdict = verifier.verify(vector["method"], url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce, verdict.timestamp_ms) == (vector["key"], None, vector["clock_ms"])
    tampered_url = url.replace("timestamp=1", "timestamp=2")
    tampered_body = body.replace(b"timestamp=1", b"timestamp=2")
    assert verifier.verify(vector["method"], tampered_url, headers, tampered_body).reason == "bad signature"
    assert verifier.verify(vector["method"], url, {"X-MEXC-APIKEY": "nobody"}, body).reason == "unknown key"
    unsigned_url = url.partition("&signature=")[0]
    unsigned_body = body.partition(b"&signature=")[0]
    assert not verifier.verify(vector["method"], unsigned_url, headers, unsigned_body)


def test_recv_window_already_in_the_request_wins() -> None:
    """A recvWindow the caller passes is kept and not duplicated; timestamp and signature still go last."""
    auth = MEXC(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000, recv_window=5000)
    signed = auth.sign("GET", "https://api.mexc.com/api/v3/account?recvWindow=2000")
    assert signed.url.startswith(f"https://api.mexc.com/api/v3/account?recvWindow=2000&timestamp={NOW_MS}&signature=")
    plain = MEXC(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000).sign("GET", "https://api.mexc.com/api/v3/account")
    assert plain.url.startswith(f"https://api.mexc.com/api/v3/account?timestamp={NOW_MS}&signature=")


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with params, POST with params or a form, DELETE: accepted as signed, each with a Content-Type."""
    auth = MEXC(KEY, SECRET, recv_window=5000)
    odd = {"symbol": "BTCUSDT", "origClientOrderId": "a b/c+d~é"}
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/api/v3/"
        calls: list[Request] = [
            ("GET", base + "account", {}),
            ("GET", base + "myTrades", {"params": {"symbol": "BTCUSDT", "limit": "10"}}),
            ("POST", base + "order", {"params": ORDER}),
            ("POST", base + "order", {"data": ORDER}),
            ("POST", base + "order", {"params": {"symbol": "BTCUSDT"}, "data": {"side": "SELL", "price": "1.5"}}),
            ("DELETE", base + "order", {"params": odd}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        for got in server.received:
            assert header(got.headers, "X-MEXC-APIKEY") == KEY
            where = got.body if got.body else got.path.encode()
            assert b"timestamp=" in where
            assert where.rpartition(b"&")[2].startswith(b"signature=")
            kind = (header(got.headers, "Content-Type") or "").partition(";")[0]
            assert kind == (FORM if got.body else "application/json")


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = MEXC(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/api/v3/openOrders", {"params": {"symbol": "BTCUSDT"}})] * 5
        calls += [("POST", server.origin + "/api/v3/order", {"data": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)
        assert not auth.ordered


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("POST", {"json": {"symbol": "BTCUSDT"}}, "form body"),
        ("POST", {"content": b"not a form", "headers": {"Content-Type": "text/plain"}}, "form body"),
        ("GET", {"params": {"symbol": "BTCUSDT", "timestamp": "1"}}, "already has a 'timestamp'"),
        ("POST", {"data": {"symbol": "BTCUSDT", "signature": "00"}}, "already has a 'signature'"),
        ("GET", {"content": b"symbol=BTCUSDT"}, "query string"),
    ],
)
def test_bad_input_is_refused_before_sending(method: str, kwargs: dict[str, Any], message: str) -> None:
    """JSON and other bodies, a GET body and parameters the auth owns raise BodyError; nothing reaches the server."""
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/api/v3/order"
        with httpx.Client(auth=MEXC(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=MEXC(KEY, SECRET), timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("recv_window", [0, 60_001, True, 1.5, "5000"])
def test_invalid_recv_window_is_a_configuration_error(recv_window: Any) -> None:
    """recv_window must be None or an int of milliseconds from 1 to 60000."""
    with pytest.raises(ConfigurationError, match="recv_window"):
        MEXC(KEY, SECRET, recv_window=recv_window)


def test_fixed_options_and_bad_key_are_refused() -> None:
    """The algorithm, encodings and nonce are fixed by MEXC; no passphrase; a key with whitespace is refused."""
    for option in ({"algorithm": "sha512"}, {"nonce": lambda: 1}, {"digest_encoding": "base64"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            MEXC(KEY, SECRET, **option)
    with pytest.raises(TypeError, match="passphrase"):
        MEXC(KEY, SECRET, passphrase="x")
    with pytest.raises(ConfigurationError):
        MEXC(KEY + "\n", SECRET)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = MEXC(KEY, SECRET, recv_window=5000)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    assert "recv_window=5000" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://api.mexc.com/api/v3/account")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


OUTSIDE = b'{"code":700003,"msg":"Timestamp for this request is outside of the recvWindow."}'


def test_clock_sync_reads_code_700003_and_the_time_endpoint_only() -> None:
    """700003 with HTTP 400 is a timestamp refusal; another code, status or shape is not; the window is the option's."""
    sync = mexc_clock_sync()
    assert sync.parse(400, OUTSIDE, NOW_MS) == TimestampRejection(None)
    for status, body in [
        (401, OUTSIDE),
        (400, OUTSIDE.replace(b"700003", b"700002")),
        (400, OUTSIDE.replace(b"700003", b'"700003"')),
        (400, b'{"code":700003}'),
        (400, b'{"code":700003,"msg":"x","data":null}'),
    ]:
        assert sync.parse(status, body, NOW_MS) is None, body
    assert (sync.time_path, sync.window_ms, mexc_clock_sync(20_000).window_ms) == ("/api/v3/time", 5000, 20_000)
    assert MEXC(KEY, SECRET, recv_window=7000).lifecycle.clock_sync == mexc_clock_sync(7000)
    assert sync.read_server_time(200, b'{"serverTime": 1645539742000}') == 1_645_539_742_000 * 1_000_000
    assert sync.read_server_time(200, b'{"serverTime": "1645539742000"}') is None
