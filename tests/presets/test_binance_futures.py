"""The Binance USD-M futures preset: SDK and docs vectors, verifier, every client against a real server, bad input."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth import OriginError, TimestampRejection
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.binance_futures import BinanceFutures, BinanceFuturesVerifier, binance_futures_clock_sync
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

ALL: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "binance_futures.json").read_text())[
    "vectors"
]
#: The vectors a signer reproduces (ccxt puts ``timestamp`` first: that one is verify-only).
EXACT = [v for v in ALL if "verify" not in v.get("compare", [])]
KEY = "HBA-TEST-BINANCE-FUTURES-KEY"
SECRET = "hba-binance-futures-test-secret-0123456789"
NOW_MS = 1_700_000_000_000
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "65000"}
FORM = "application/x-www-form-urlencoded"


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = BinanceFutures(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000, **v["options"])
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _signature(signed: Any) -> str:
    return str((signed.body.decode() or signed.url).rpartition("&signature=")[2])


def _verifier(vector: dict[str, Any] | None = None, **options: Any) -> BinanceFuturesVerifier:
    return BinanceFuturesVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]}, **options)


def _clock(ms: int) -> Any:
    return lambda: ms * 1_000_000


@pytest.mark.parametrize("vector", EXACT, ids=[v["name"] for v in EXACT])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The SDKs' and the docs' URL, body and X-MBX-APIKEY exactly, Content-Type left as it is."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert signed.headers == expected["headers"]
    assert signed.content_type is None


def test_docs_examples_1_and_2_publish_the_same_signature() -> None:
    """The docs' example 1 (query) and example 2 (body) both give 3c661234..., as published."""
    published = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    assert [_signature(_sign(v)) for v in EXACT[:2]] == [published, published]


@pytest.mark.parametrize("vector", EXACT, ids=[v["name"] for v in EXACT])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the query, the body, the timestamp, the recv window or the secret changes the signature."""
    good = _signature(_sign(vector))
    twins: list[dict[str, Any]] = [
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": "M" + vector["secret"][1:]},
        # recvWindow as the caller gave it in the query, else as the auth adds it.
        {"url": vector["url"].replace("recvWindow=", "recvWindow=1")}
        if "recvWindow=" in vector["url"]
        else {"options": {"recv_window": (vector["options"]["recv_window"] or 5000) + 1}},
        {"url": vector["url"].replace("BTCUSDT", "BTCUSDU") + ("" if "?" in vector["url"] else "?a=1")},
    ]
    if vector["body"]:
        twins.append({"body": vector["body"].replace("=", "=2", 1)})
    for twin in twins:
        assert _signature(_sign(vector, **twin)) != good, twin


@pytest.mark.parametrize("vector", ALL, ids=[v["name"] for v in ALL])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as sent (ccxt's too), and rejects a changed timestamp, an unknown key."""
    expected = vector["expected"]
    verifier = _verifier(vector)
    url, body, headers = expected["url"], expected["body"].encode(), expected["headers"]
    verdict = verifier.verify(vector["method"], url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce, verdict.timestamp_ms) == (vector["key"], None, vector["clock_ms"])
    tampered_url = url.replace("timestamp=1", "timestamp=2")
    tampered_body = body.replace(b"timestamp=1", b"timestamp=2")
    assert verifier.verify(vector["method"], tampered_url, headers, tampered_body).reason == "bad signature"
    assert verifier.verify(vector["method"], url, {"X-MBX-APIKEY": "nobody"}, body).reason == "unknown key"
    assert not BinanceFuturesVerifier({vector["key"]: "M" + vector["secret"][1:]}).verify(
        vector["method"], url, headers, body
    )
    unsigned_url = url.partition("&signature=")[0]
    unsigned_body = body.partition(b"&signature=")[0]
    assert not verifier.verify(vector["method"], unsigned_url, headers, unsigned_body)


def test_verifier_applies_the_receive_window_when_given_a_clock() -> None:
    """With a clock the verifier applies Binance's timing rule: not 1 s ahead, not older than recvWindow."""
    signed = BinanceFutures(KEY, SECRET, clock=_clock(NOW_MS), recv_window=5000).sign(
        "GET", "https://fapi.binance.com/fapi/v2/account"
    )
    for now, ok in [(NOW_MS, True), (NOW_MS + 5000, True), (NOW_MS + 5001, False), (NOW_MS - 1000, False)]:
        verdict = _verifier(clock=_clock(now)).verify("GET", signed.url, signed.headers, b"")
        assert verdict.ok is ok, now


def test_recv_window_already_in_the_request_wins() -> None:
    """A recvWindow the caller passes is kept and not duplicated; timestamp and signature still go last."""
    auth = BinanceFutures(KEY, SECRET, clock=_clock(NOW_MS), recv_window=5000)
    signed = auth.sign("GET", "https://fapi.binance.com/fapi/v2/account?recvWindow=2000")
    assert signed.url.startswith(f"https://fapi.binance.com/fapi/v2/account?recvWindow=2000&timestamp={NOW_MS}&sig")
    plain = BinanceFutures(KEY, SECRET, clock=_clock(NOW_MS)).sign("GET", "https://fapi.binance.com/fapi/v2/account")
    assert plain.url.startswith(f"https://fapi.binance.com/fapi/v2/account?timestamp={NOW_MS}&signature=")


@pytest.mark.parametrize(
    ("testnet", "url", "allowed"),
    [
        (False, "https://fapi.binance.com/fapi/v1/order", True),
        (False, "https://testnet.binancefuture.com/fapi/v1/order", False),
        (False, "https://demo-fapi.binance.com/fapi/v1/order", False),
        (True, "https://testnet.binancefuture.com/fapi/v1/order", True),
        (True, "https://demo-fapi.binance.com/fapi/v1/order", True),
        (True, "https://FAPI.binance.com./fapi/v1/order", False),
        (True, "http://127.0.0.1:8080/fapi/v1/order", True),
    ],
)
def test_testnet_keys_and_live_keys_stay_on_their_hosts(testnet: bool, url: str, allowed: bool) -> None:
    """testnet=True refuses the live host, the default refuses the testnet and demo hosts; other hosts are signed."""
    auth = BinanceFutures(KEY, SECRET, clock=_clock(NOW_MS), testnet=testnet)
    if allowed:
        assert "&signature=" in auth.sign("POST", url, body=b"symbol=BTCUSDT", content_type=FORM).body.decode()
    else:
        with pytest.raises(OriginError, match="testnet"):
            auth.sign("POST", url, body=b"symbol=BTCUSDT", content_type=FORM)


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with params, POST with params, a form or both, DELETE: all accepted as signed."""
    auth = BinanceFutures(KEY, SECRET, recv_window=5000)
    odd = {"symbol": "BTCUSDT", "origClientOrderId": "a b/c+d~é"}
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/fapi/v1/"
        calls: list[Request] = [
            ("GET", server.origin + "/fapi/v3/balance", {}),
            ("GET", base + "openOrders", {"params": {"symbol": "BTCUSDT"}}),
            ("POST", base + "order", {"params": ORDER}),
            ("POST", base + "order", {"data": ORDER}),
            ("POST", base + "order", {"params": {"symbol": "BTCUSDT"}, "data": {"side": "SELL", "price": "1.5"}}),
            ("DELETE", base + "order", {"params": odd}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        for got in server.received:
            assert header(got.headers, "X-MBX-APIKEY") == KEY
            where = got.body if got.body else got.path.encode()
            assert b"recvWindow=5000&timestamp=" in where
            assert where.rpartition(b"&")[2].startswith(b"signature=")


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = BinanceFutures(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/fapi/v1/openOrders", {"params": {"symbol": "BTCUSDT"}})] * 5
        calls += [("POST", server.origin + "/fapi/v1/order", {"data": ORDER})] * 5
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
        url = server.origin + "/fapi/v1/order"
        with (
            httpx.Client(auth=BinanceFutures(KEY, SECRET), timeout=5) as client,
            pytest.raises(BodyError, match=message),
        ):
            client.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=BinanceFutures(KEY, SECRET), timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize(
    "options", [{"recv_window": 0}, {"recv_window": 60_001}, {"recv_window": "5000"}, {"testnet": 1}, {"testnet": "no"}]
)
def test_invalid_options_are_a_configuration_error(options: dict[str, Any]) -> None:
    """recv_window must be None or 1 to 60000 ms, testnet True or False; the error names the option."""
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        BinanceFutures(KEY, SECRET, **options)


def test_fixed_options_and_bad_key_are_refused() -> None:
    """The algorithm, encodings and nonce are fixed; no passphrase; a key with whitespace is refused, not echoed."""
    for option in ({"algorithm": "sha512"}, {"nonce": lambda: 1}, {"digest_encoding": "base64"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            BinanceFutures(KEY, SECRET, **option)
    with pytest.raises(TypeError, match="passphrase"):
        BinanceFutures(KEY, SECRET, passphrase="x")
    with pytest.raises(ConfigurationError) as caught:
        BinanceFutures(KEY + "\n", SECRET)
    assert KEY not in str(caught.value)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = BinanceFutures(KEY, SECRET, recv_window=5000, testnet=True)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    assert "recv_window=5000, testnet=True" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://testnet.binancefuture.com/fapi/v2/account")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


OUTSIDE = b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'
AHEAD = b'{"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server\'s time."}'


def test_clock_sync_reads_code_minus_1021_and_the_time_endpoint_only() -> None:
    """-1021 with HTTP 400 is a timestamp refusal; another code, status or shape is not; the window is the option's."""
    sync = binance_futures_clock_sync()
    assert sync.parse(400, OUTSIDE, NOW_MS) == sync.parse(400, AHEAD, NOW_MS) == TimestampRejection(None)
    for status, body in [
        (401, OUTSIDE),
        (200, OUTSIDE),
        (400, OUTSIDE.replace(b"-1021", b"-1022")),
        (400, OUTSIDE.replace(b"-1021", b'"-1021"')),
        (400, b'{"code":-1021}'),
        (400, b'{"code":-1021,"msg":"x","orderId":1}'),
        (400, b'{"code":-4164,"msg":"Order\'s notional must be no smaller than 100."}'),
    ]:
        assert sync.parse(status, body, NOW_MS) is None, body
    assert (sync.time_path, sync.window_ms, binance_futures_clock_sync(20_000).window_ms) == (
        "/fapi/v1/time",
        5000,
        20_000,
    )
    assert BinanceFutures(KEY, SECRET, recv_window=7000).lifecycle.clock_sync == binance_futures_clock_sync(7000)
    assert sync.read_server_time(200, b'{\n  "serverTime": 1499827319559\n}') == 1_499_827_319_559 * 1_000_000
    assert sync.read_server_time(200, b'{"serverTime": "1499827319559"}') is None
    assert sync.read_server_time(200, b'{"time": 1499827319559}') is None
