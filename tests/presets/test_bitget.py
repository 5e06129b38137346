"""The Bitget v2 preset: SDK and docs vectors, the sorted query, verifier, every client against a real server."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import requests

from hmac_body_auth import TimestampRejection
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.bitget import BITGET_CLOCK_SYNC, Bitget, BitgetVerifier
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "bitget.json").read_text())[
    "vectors"
]
KEY = "bg_hba_test_key_0123456789"
SECRET = "hba-bitget-test-secret-0123456789"
PASSPHRASE = "hba bitget pass"
NOW_MS = 1_700_000_000_000
ORDER = {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": "65000", "size": "0.001"}


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = Bitget(
        v["key"], v["secret"], passphrase=v["passphrase"], clock=lambda: v["clock_ms"] * 1_000_000, **v["options"]
    )
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _verifier(vector: dict[str, Any] | None = None) -> BitgetVerifier:
    if vector is None:
        return BitgetVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE})
    return BitgetVerifier({vector["key"]: vector["secret"]}, passphrases={vector["key"]: vector["passphrase"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The SDK's (and ccxt's demo) URL, body and ACCESS-* headers exactly; a bodiless call is labelled JSON."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert signed.headers == expected["headers"]
    assert signed.content_type == (None if vector["body"] else "application/json")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the body, path, query, timestamp, secret or method changes the signature."""
    expected = vector["expected"]["headers"]["ACCESS-SIGN"]
    changes: list[dict[str, Any]] = [
        {"url": vector["url"].replace("/api/", "/apj/")},
        {"url": vector["url"] + ("&zz=1" if "?" in vector["url"] else "?zz=1")},
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": vector["secret"] + "x"},
        {"method": "DELETE"},
    ]
    if vector["body"]:
        changes.append({"body": vector["body"].replace("buy", "buz", 1)})
    for change in changes:
        assert _sign(vector, **change).headers["ACCESS-SIGN"] != expected, change


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as sent, then rejects a changed URL or body, passphrase, key, timestamp."""
    verifier = _verifier(vector)
    expected = vector["expected"]
    method, url, headers, body = vector["method"], expected["url"], expected["headers"], expected["body"].encode()
    verdict = verifier.verify(method, url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (vector["key"], vector["clock_ms"])
    assert verifier.verify(method, url + "0", headers, body).reason == "bad signature"
    assert verifier.verify(method, url, headers, body + b" ").reason == "bad signature"
    wrong_pass = {**headers, "ACCESS-PASSPHRASE": vector["passphrase"] + "x"}
    assert verifier.verify(method, url, wrong_pass, body).reason == "bad passphrase"
    assert verifier.verify(method, url, {**headers, "ACCESS-KEY": "other"}, body).reason == "unknown key"
    later = {**headers, "ACCESS-TIMESTAMP": str(vector["clock_ms"] + 1)}
    assert verifier.verify(method, url, later, body).reason == "bad signature"
    bad_time = {**headers, "ACCESS-TIMESTAMP": "2023-11-14T22:13:20.000Z"}
    assert verifier.verify(method, url, bad_time, body).reason == "bad ACCESS-TIMESTAMP"


def test_the_query_is_sent_sorted_by_key_and_signed_decoded() -> None:
    """An unsorted query goes out sorted by key (stable), ``+`` and spaces as %20, non-ASCII encoded; signed decoded."""
    auth = Bitget(KEY, SECRET, passphrase=PASSPHRASE, clock=lambda: NOW_MS * 1_000_000)
    signed = auth.sign("GET", "https://api.bitget.com/api/v2/x?symbol=龙BTC&b=2&a=a+b&b=1&note=x y")
    assert signed.url == "https://api.bitget.com/api/v2/x?a=a%20b&b=2&b=1&note=x%20y&symbol=%E9%BE%99BTC"
    same = auth.sign("GET", "https://api.bitget.com/api/v2/x?a=a%20b&b=2&b=1&note=x%20y&symbol=%E9%BE%99BTC")
    assert (same.url, same.headers) == (signed.url, signed.headers)
    assert _verifier().verify("GET", signed.url, signed.headers, b"")


def test_demo_adds_paptrading_without_changing_the_signature() -> None:
    """demo=True adds paptrading: 1 (listed for redirect stripping); the signature is the same."""
    clock = lambda: NOW_MS * 1_000_000  # noqa: E731
    live = Bitget(KEY, SECRET, passphrase=PASSPHRASE, clock=clock)
    demo = Bitget(KEY, SECRET, passphrase=PASSPHRASE, demo=True, clock=clock)
    url = "https://api.bitget.com/api/v2/spot/account/assets?coin=USDT"
    assert "paptrading" not in live.sign("GET", url).headers
    signed = demo.sign("GET", url)
    assert signed.headers["paptrading"] == "1"
    assert "paptrading" in demo.scheme.header_names
    assert signed.headers["ACCESS-SIGN"] == live.sign("GET", url).headers["ACCESS-SIGN"]
    assert _verifier().verify("GET", signed.url, signed.headers, b"")


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GETs with unsorted and non-ASCII params and a JSON POST are accepted as signed, through every client."""
    auth = Bitget(KEY, SECRET, passphrase=PASSPHRASE, demo=True)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/api/v2/"
        calls: list[Request] = [
            ("GET", base + "spot/account/assets", {}),
            ("GET", base + "mix/account/account", {"params": {"symbol": "龙虾USDT", "productType": "USDT-FUTURES"}}),
            ("GET", base + "spot/trade/fills", {"params": {"symbol": "BTCUSDT", "limit": "5", "idLessThan": "a b"}}),
            ("POST", base + "spot/trade/place-order", {"json": ORDER}),
            ("POST", base + "spot/trade/cancel-order?symbol=BTCUSDT", {"json": {"orderId": "1"}}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        paths = [unquote(r.path) for r in server.received]
        assert paths[1] == "/api/v2/mix/account/account?productType=USDT-FUTURES&symbol=龙虾USDT"
        assert paths[2] == "/api/v2/spot/trade/fills?idLessThan=a b&limit=5&symbol=BTCUSDT"
        assert json.loads(server.received[3].body) == ORDER
        for r in server.received:
            assert header(r.headers, "ACCESS-PASSPHRASE") == PASSPHRASE
            assert header(r.headers, "paptrading") == "1"
            assert (header(r.headers, "Content-Type") or "").partition(";")[0] == "application/json"


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = Bitget(KEY, SECRET, passphrase=PASSPHRASE)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/api/v2/spot/account/assets", {"params": {"coin": "BTC"}})] * 5
        calls += [("POST", server.origin + "/api/v2/spot/trade/place-order", {"json": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)
        assert not auth.ordered


def test_wrong_passphrase_is_rejected_by_the_server() -> None:
    """A correctly signed request with another passphrase is answered 401 "bad passphrase"."""
    with SchemeServer(_verifier()) as server:
        auth = Bitget(KEY, SECRET, passphrase=PASSPHRASE + "!")
        r = requests.get(server.origin + "/api/v2/spot/account/assets", auth=auth, timeout=5)
        assert (r.status_code, r.json()) == (401, {"error": "bad passphrase"})


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("GET", {"content": b'{"a":1}'}, "query string, not a body"),
        ("POST", {"data": {"symbol": "BTCUSDT"}}, "a JSON body"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A GET body, a form body and invalid JSON raise BodyError before anything is sent, in both clients."""
    auth = Bitget(KEY, SECRET, passphrase=PASSPHRASE)
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/api/v2/spot/trade/place-order"
        with httpx.Client(auth=auth) as c, pytest.raises(BodyError, match=message):
            c.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=auth, timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("passphrase", ["", " Qx7-lead", "Qx7-trail\n", "Qx7\tQx7", 123, None])
def test_bad_passphrase_is_a_configuration_error_without_echo(passphrase: Any) -> None:
    """An empty, padded, control-character or non-str passphrase is refused without echoing it."""
    with pytest.raises(ConfigurationError, match="passphrase") as info:
        Bitget(KEY, SECRET, passphrase=passphrase)
    if isinstance(passphrase, str) and passphrase.strip():
        assert passphrase.strip() not in str(info.value)


def test_options_are_checked_at_construction() -> None:
    """The passphrase is required; demo must be a bool; the algorithm, encodings and nonce are fixed."""
    with pytest.raises(TypeError):
        Bitget(KEY, SECRET)
    with pytest.raises(ConfigurationError, match="demo"):
        Bitget(KEY, SECRET, passphrase=PASSPHRASE, demo="yes")
    for option in ({"algorithm": "sha512"}, {"digest_encoding": "hex"}, {"nonce": lambda: 1}):
        with pytest.raises(ConfigurationError, match="fixes"):
            Bitget(KEY, SECRET, passphrase=PASSPHRASE, **option)


def test_secrets_never_in_repr_and_pickling_refused() -> None:
    """Neither secret nor passphrase shows in any repr; pickling is refused; a deep copy still signs."""
    auth = Bitget(KEY, SECRET, passphrase=PASSPHRASE, demo=True)
    for text in (repr(auth), repr(auth.scheme), repr(_verifier())):
        assert SECRET not in text
        assert PASSPHRASE not in text
    assert "passphrase=***" in repr(auth)
    for obj in (auth, auth.scheme):
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    signed = copy.deepcopy(auth).sign("GET", "https://api.bitget.com/api/v2/spot/account/assets")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


EXPIRED = b'{"code":"40008","msg":"Request timestamp expired","requestTime":1700000000000,"data":null}'


def test_clock_sync_reads_code_40008_and_the_time_endpoint_only() -> None:
    """40008 with HTTP 400 is a timestamp refusal; another code, status or shape is not; serverTime is read."""
    assert BITGET_CLOCK_SYNC.parse(400, EXPIRED, NOW_MS) == TimestampRejection(None)
    for status, body in [
        (401, EXPIRED),
        (400, EXPIRED.replace(b"40008", b"40009")),
        (400, EXPIRED.replace(b'"40008"', b"40008")),
        (400, b'{"code":"40008"}'),
        (400, b'{"code":"00000","msg":"success","data":{"clientOid":"40008"}}'),
    ]:
        assert BITGET_CLOCK_SYNC.parse(status, body, NOW_MS) is None, body
    time_answer = b'{"code":"00000","msg":"success","requestTime":1,"data":{"serverTime":"1700111073740"}}'
    assert BITGET_CLOCK_SYNC.time_path == "/api/v2/public/time"
    assert BITGET_CLOCK_SYNC.read_server_time(200, time_answer) == 1_700_111_073_740 * 1_000_000
    assert BITGET_CLOCK_SYNC.read_server_time(200, time_answer.replace(b'"1700111073740"', b"1700111073740")) is None
