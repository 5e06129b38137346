"""The Binance preset: documented and ccxt vectors, verifier, real clients, bad input, hygiene."""

from __future__ import annotations

import hashlib
import hmac
import json
import pickle
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import requests

from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.binance import Binance, BinanceVerifier
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import CLIENTS, Request, send

ALL = json.loads(Path(__file__).parents[1].joinpath("vectors", "binance.json").read_text())["vectors"]
EXACT = [v for v in ALL if "verify" not in v["compare"]]
KEY = "HBA-BINANCE-TEST-KEY"
SECRET = "hba-binance-test-secret-0123456789"
NOW = 1_700_000_000_000
FORM = "application/x-www-form-urlencoded"


def _sign(vector: dict[str, Any]) -> Any:
    stamp = vector["clock_ms"]
    auth = Binance(
        vector["key"], vector["secret"], clock=lambda: stamp * 1_000_000, recv_window=vector.get("recv_window")
    )
    return auth.sign(vector["method"], vector["url"], body=vector["body"].encode(), content_type=vector["content_type"])


def _signature(signed: Any) -> str:
    text = signed.body.decode() or signed.url
    return str(text.rpartition("&signature=")[2])


@pytest.mark.parametrize("vector", EXACT, ids=[v["name"] for v in EXACT])
def test_documented_examples_reproduced(vector: dict[str, Any]) -> None:
    """Binance's examples 1 (body), 2 (query string) and 3 (mixed) are reproduced byte for byte."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert signed.url == expected["url"]
    assert signed.body == expected["body"].encode()
    assert signed.headers == expected["headers"]
    assert signed.content_type == expected["content_type"]
    assert _signature(signed) == expected["signature"]


@pytest.mark.parametrize("vector", EXACT, ids=[v["name"] for v in EXACT])
def test_documented_examples_tamper_twins(vector: dict[str, Any]) -> None:
    """One changed byte of the body, the query, the timestamp or the secret changes the signature."""
    good = _signature(_sign(vector))
    twins = [
        {**vector, "clock_ms": vector["clock_ms"] + 1},
        {**vector, "secret": "M" + vector["secret"][1:]},
        {**vector, "url": vector["url"].replace("LTCBTC", "LTCBTD")},
        {**vector, "body": vector["body"].replace("0.1", "0.2")},
    ]
    changed = [_signature(_sign(twin)) != good for twin in twins]
    assert changed[:2] == [True, True]
    # The symbol is in the URL or in the body, the price in the body or the URL: one of them is signed.
    assert changed[2] or changed[3]
    assert changed[2] == ("LTCBTC" in vector["url"])
    assert changed[3] == ("0.1" in vector["body"])


@pytest.mark.parametrize("vector", ALL, ids=[v["name"] for v in ALL])
def test_verifier_accepts_docs_and_ccxt_requests_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts the documented and ccxt-signed requests as sent, and rejects a one-byte change."""
    expected = vector["expected"]
    verifier = BinanceVerifier({vector["key"]: vector["secret"]})
    url, body = expected["url"], expected["body"].encode()
    verdict = verifier.verify(vector["method"], url, expected["headers"], body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce, verdict.timestamp_ms) == (vector["key"], None, vector["clock_ms"])
    tampered_url = url.replace("timestamp=1", "timestamp=2") if "timestamp=" in url else url
    tampered_body = body.replace(b"timestamp=1", b"timestamp=2")
    assert verifier.verify(vector["method"], tampered_url, expected["headers"], tampered_body).reason == "bad signature"
    assert verifier.verify(vector["method"], url, {"X-MBX-APIKEY": "nobody"}, body).reason == "unknown key"


def test_verifier_applies_the_receive_window_when_given_a_clock() -> None:
    """With a clock the verifier applies Binance's timing rule: not 1 s ahead, not older than recvWindow."""
    auth = Binance(KEY, SECRET, clock=lambda: NOW * 1_000_000, recv_window=5000)
    signed = auth.sign("GET", "https://api.binance.com/api/v3/account")
    for now, ok in [(NOW, True), (NOW + 5000, True), (NOW + 5001, False), (NOW - 1000, False), (NOW - 999, True)]:
        verifier = BinanceVerifier({KEY: SECRET}, clock=lambda now=now: now * 1_000_000)
        assert verifier.verify("GET", signed.url, signed.headers, b"").ok is ok, now


def test_recv_window_already_in_the_request_wins() -> None:
    """A recvWindow the caller passes is kept and not duplicated; timestamp and signature still go last."""
    auth = Binance(KEY, SECRET, clock=lambda: NOW * 1_000_000, recv_window=5000)
    signed = auth.sign("GET", "https://api.binance.com/api/v3/account?recvWindow=2000")
    assert signed.url.startswith(f"https://api.binance.com/api/v3/account?recvWindow=2000&timestamp={NOW}&signature=")
    assert (
        Binance(KEY, SECRET, clock=lambda: NOW * 1_000_000)
        .sign("GET", "https://x/a")
        .url.startswith(f"https://x/a?timestamp={NOW}&")
    )


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with params, POST with a form, POST with params only and DELETE: accepted as signed, every client."""
    auth = Binance(KEY, SECRET, recv_window=5000)
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
    odd = {"symbol": "BTCUSDT", "newClientOrderId": "a b/c+d~é"}
    with SchemeServer(BinanceVerifier({KEY: SECRET}), window_ms=60_000) as server:
        base = server.origin + "/api/v3/"
        calls: list[Request] = [
            ("GET", base + "account", {}),
            ("GET", base + "openOrders", {"params": {"symbol": "BTCUSDT"}}),
            ("GET", base + "allOrders", {"params": odd}),
            ("POST", base + "order", {"data": order}),
            ("POST", base + "order", {"params": order}),
            ("POST", base + "order", {"params": {"symbol": "BTCUSDT"}, "data": {"side": "SELL", "price": "1.5"}}),
            ("DELETE", base + "order", {"params": {"symbol": "BTCUSDT", "orderId": "1"}}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        for got in server.received:
            assert header(got.headers, "X-MBX-APIKEY") == KEY
            where = got.body if got.body else got.path.encode()
            assert b"timestamp=" in where
            assert where.rpartition(b"&")[2].startswith(b"signature=")
            if got.method == "GET":
                assert got.body == b""


def test_received_bytes_are_the_signed_bytes() -> None:
    """The server receives exactly the URL and body the scheme produced for a fixed clock."""
    auth = Binance(KEY, SECRET, clock=lambda: NOW * 1_000_000, recv_window=5000)
    with SchemeServer(BinanceVerifier({KEY: SECRET})) as server:
        url = server.origin + "/api/v3/order?symbol=LTCBTC"
        requests.post(url, data={"quantity": "1", "price": "0.1"}, auth=auth, timeout=5)
        with httpx.Client(auth=auth) as client:
            client.get(server.origin + "/api/v3/openOrders", params={"symbol": "LTCBTC"})
        post = auth.sign("POST", url, body=b"quantity=1&price=0.1")
        get = auth.sign("GET", server.origin + "/api/v3/openOrders?symbol=LTCBTC")
        assert [(r.path, r.body) for r in server.received] == [
            ("/api/v3/order?symbol=LTCBTC", post.body),
            (get.url.removeprefix(server.origin), b""),
        ]


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("POST", {"json": {"symbol": "BTCUSDT"}}, "form body"),
        ("GET", {"params": {"symbol": "BTCUSDT", "timestamp": "1"}}, "already has a 'timestamp'"),
        ("POST", {"data": {"symbol": "BTCUSDT", "signature": "00"}}, "already has a 'signature'"),
        ("POST", {"content": b"not a form", "headers": {"Content-Type": "text/plain"}}, "form body"),
    ],
)
def test_bad_input_is_refused_before_sending(method: str, kwargs: dict[str, Any], message: str) -> None:
    """JSON or other bodies and parameters the auth owns raise BodyError; nothing reaches the server."""
    with SchemeServer(BinanceVerifier({KEY: SECRET})) as server:
        url = server.origin + "/api/v3/order"
        with httpx.Client(auth=Binance(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        if "content" in kwargs:
            kwargs = {"data": kwargs["content"], "headers": kwargs["headers"]}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=Binance(KEY, SECRET), timeout=5, **kwargs)
        assert server.received == []


def test_get_with_a_body_is_refused() -> None:
    """A GET carrying a body is refused: Binance reads GET parameters from the query string only."""
    with pytest.raises(BodyError, match="query string"):
        Binance(KEY, SECRET).sign("GET", "https://api.binance.com/api/v3/openOrders", body=b"symbol=BTCUSDT")


@pytest.mark.parametrize("recv_window", [0, 60_001, True, 1.5, "5000"])
def test_invalid_recv_window_is_a_configuration_error(recv_window: Any) -> None:
    """recv_window must be an int of milliseconds from 1 to 60000."""
    with pytest.raises(ConfigurationError, match="recv_window"):
        Binance(KEY, SECRET, recv_window=recv_window)


def test_fixed_options_and_bad_key_are_refused() -> None:
    """The algorithm, encodings and nonce are fixed by Binance; a key with whitespace is refused."""
    for option in ({"algorithm": "sha512"}, {"nonce": lambda: 1}, {"digest_encoding": "base64"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            Binance(KEY, SECRET, **option)
    with pytest.raises(ConfigurationError):
        Binance(KEY + "\n", SECRET)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; no ordering without a nonce."""
    auth = Binance(KEY, SECRET, recv_window=5000)
    text = repr(auth) + repr(BinanceVerifier({KEY: SECRET})) + repr(auth.scheme)
    assert SECRET not in text
    assert KEY not in text
    assert "recv_window=5000" in repr(auth)
    assert not auth.ordered
    with pytest.raises(TypeError):
        pickle.dumps(auth)


# -- query string plus body: totalParams is the query string followed by the body, no "&" ---------------
#
# Binance's docs (https://github.com/binance/binance-spot-api-docs/blob/master/rest-api.md, "SIGNED Endpoint
# Examples for POST /api/v3/order", HMAC Keys; https://developers.binance.com/docs/binance-spot-api-docs/
# rest-api/request-security): "The signature payload of your request is the query string concatenated
# without separator to the HTTP body" (commit a5e0bc3ddc0fd7e6bb696849323b74423fa3a54d). "Example 3: Mixed
# query string and request body" is in that file up to commit 6ad97145cfa9d48977e9c8b6f6ec8ad9d7eb8e86
# (removed in f83a5bf, 2025-12-17, when the section was rewritten): the values below are its own.
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_STAMP = 1499827319559
DOC_QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
DOC_BODY = "quantity=1&price=0.1"
#: Example 3's ``echo -n`` input: the query string, then the body, and no "&" between "GTC" and "quantity=1".
DOC_TOTAL_PARAMS = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE_3 = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
#: Examples 1 and 2: the same parameters all in the body or all in the query string (joined with "&").
DOC_SIGNATURE_1_2 = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
#: The current docs' non-ASCII symbol: the full-width digits one to six (U+FF11 to U+FF16).
FULL_WIDTH_123456 = "\uff11\uff12\uff13\uff14\uff15\uff16"


def _doc_auth() -> Binance:
    return Binance(DOC_KEY, DOC_SECRET, clock=lambda: DOC_STAMP * 1_000_000, recv_window=5000)


def _hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_docs_example_3_mixed_query_and_body() -> None:
    """Docs example 3: the query stays, the body gets recvWindow, timestamp and 0fd168b8..., signed as query + body."""
    assert _hmac_hex(DOC_SECRET, DOC_TOTAL_PARAMS) == DOC_SIGNATURE_3  # the docs' own openssl line
    signed = _doc_auth().sign(
        "POST", f"https://api.binance.com/api/v3/order?{DOC_QUERY}", body=DOC_BODY, content_type=FORM
    )
    # The docs' curl command, byte for byte.
    assert signed.url == f"https://api.binance.com/api/v3/order?{DOC_QUERY}"
    assert signed.body == f"{DOC_BODY}&recvWindow=5000&timestamp={DOC_STAMP}&signature={DOC_SIGNATURE_3}".encode()
    assert signed.headers == {"X-MBX-APIKEY": DOC_KEY}
    # With an "&" between the two parts it would be examples 1 and 2's signature: the missing "&" is signed.
    assert _hmac_hex(DOC_SECRET, DOC_TOTAL_PARAMS.replace("GTCquantity", "GTC&quantity")) == DOC_SIGNATURE_1_2


def test_docs_example_3_verified_and_tamper_twins_rejected() -> None:
    """The verifier accepts example 3 as the docs send it; moved, changed or '&'-joined twins are rejected."""
    verifier = BinanceVerifier({DOC_KEY: DOC_SECRET})
    url = f"https://api.binance.com/api/v3/order?{DOC_QUERY}"
    body = f"{DOC_BODY}&recvWindow=5000&timestamp={DOC_STAMP}&signature={DOC_SIGNATURE_3}".encode()
    headers = {"X-MBX-APIKEY": DOC_KEY}
    verdict = verifier.verify("POST", url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (DOC_KEY, DOC_STAMP)
    # The body's first parameter moved to the end of the query: same totalParams bytes but for the "&".
    moved = verifier.verify("POST", url + "&quantity=1", headers, body.removeprefix(b"quantity=1&"))
    assert moved.reason == "bad signature"
    assert verifier.verify("POST", url, headers, body.replace(b"price=0.1", b"price=0.2")).reason == "bad signature"
    assert verifier.verify("POST", url.replace("GTC", "IOC"), headers, body).reason == "bad signature"
    # Examples 1 and 2's signature (the parameters joined with "&") does not verify the mixed request.
    joined = body.replace(DOC_SIGNATURE_3.encode(), DOC_SIGNATURE_1_2.encode())
    assert verifier.verify("POST", url, headers, joined).reason == "bad signature"


def test_docs_non_ascii_example_in_the_query_string() -> None:
    """The current docs' non-ASCII example (a full-width symbol, percent-encoded) gives e1353ec6..., and verifies."""
    params = {"symbol": FULL_WIDTH_123456, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1"}
    url = str(
        requests.Request("POST", "https://api.binance.com/api/v3/order", params={**params, "price": "0.1"})
        .prepare()
        .url
    )
    signed = _doc_auth().sign("POST", url)
    signature = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    assert signed.url == (
        "https://api.binance.com/api/v3/order?symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96"
        f"&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp={DOC_STAMP}"
        f"&signature={signature}"
    )
    assert BinanceVerifier({DOC_KEY: DOC_SECRET}).verify("POST", signed.url, signed.headers, b"").ok


#: Mixed requests: (method, query parameters, form body parameters). Values that need encoding on both sides.
MIXED: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = [
    (
        "POST",
        [("symbol", "LTCBTC"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC")],
        {"quantity": "1", "price": "0.1"},
    ),
    (
        "POST",
        [("symbol", FULL_WIDTH_123456), ("newClientOrderId", "a b(1)*~'+&=%")],
        {"quantity": "é ü+", "price": "[1]"},
    ),
    ("DELETE", [("symbol", "BTCUSDT")], {"orderId": "12345", "origClientOrderId": "x/y?z"}),
    ("POST", [("symbol", "BTCUSDT"), ("recvWindow", "3000")], {"quantity": "2"}),
]


@pytest.mark.parametrize("client", CLIENTS)
def test_mixed_query_and_body_end_to_end(client: str) -> None:
    """Mixed requests through every client arrive as signed: query as received + body up to &signature=.

    The docs' example 3 arrives byte for byte as its curl command; the verifier accepts every request.
    """
    with SchemeServer(BinanceVerifier({DOC_KEY: DOC_SECRET})) as server:
        calls: list[Request] = [
            (method, server.origin + "/api/v3/order", {"params": query, "data": body}) for method, query, body in MIXED
        ]
        replies = send(client, _doc_auth(), calls)
        assert [r.status for r in replies] == [200] * len(MIXED), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(MIXED), 0)
        first = server.received[0]
        assert first.path == f"/api/v3/order?{DOC_QUERY}"
        assert first.body == f"{DOC_BODY}&recvWindow=5000&timestamp={DOC_STAMP}&signature={DOC_SIGNATURE_3}".encode()
        for got, (method, query, body) in zip(server.received, MIXED, strict=True):
            assert got.method == method
            path, _, received_query = got.path.partition("?")
            assert path == "/api/v3/order"
            assert parse_qsl(received_query, keep_blank_values=True) == query
            signed_part, _, signature = got.body.decode().rpartition("&signature=")
            assert _hmac_hex(DOC_SECRET, received_query + signed_part) == signature
            fields = parse_qsl(signed_part, keep_blank_values=True)
            assert fields[: len(body)] == list(body.items())
            # recvWindow goes where the caller did not put one; timestamp follows the caller's fields.
            added = ["timestamp"] if any(name == "recvWindow" for name, _ in query) else ["recvWindow", "timestamp"]
            assert [name for name, _ in fields[len(body) :]] == added
