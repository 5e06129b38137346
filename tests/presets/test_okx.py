"""The OKX v5 preset: known-answer vectors, verifier, and both clients against a real server."""

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

from hmac_body_auth._core import Outgoing
from hmac_body_auth._signing import Signer
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.okx import OKX, OKXVerifier, okx_timestamp
from hmac_body_auth.recipe import RecipeScheme
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "okx.json").read_text())["vectors"]
KEY = "OKX-KEY-0123456789"
SECRET = "OKX-SECRET-22582BD0CFF14C41EDBF"
PASSPHRASE = "my OKX pass phrase"
ORDER = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "2.15", "sz": "2"}


def _sign(vector: dict[str, Any], **change: Any) -> dict[str, str]:
    v = {**vector, **change}
    out = Outgoing(v["method"], v["url"], v["content_type"], v["body"].encode())
    signer = Signer(v["secret"], algorithm="sha256", digest_encoding="base64")
    signed = RecipeScheme(OKX.recipe, {"demo": False}, v["passphrase"]).sign(
        out, signer, v["key"], None, lambda: v["clock_ms"]
    )
    assert (signed.url, signed.body) == (v["url"], v["body"].encode())
    return signed.headers


def _verifier(vector: dict[str, Any] | None = None) -> OKXVerifier:
    if vector is None:
        return OKXVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE})
    return OKXVerifier({vector["key"]: vector["secret"]}, passphrases={vector["key"]: vector["passphrase"]})


def test_timestamp_format_matches_the_docs_example() -> None:
    """Milliseconds are formatted like the docs' 2020-12-08T09:08:57.715Z, zero-padded."""
    assert okx_timestamp(1607418537715) == "2020-12-08T09:08:57.715Z"
    assert okx_timestamp(1700000000005) == "2023-11-14T22:13:20.005Z"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Our scheme reproduces ccxt's OK-ACCESS headers exactly."""
    assert _sign(vector) == vector["headers"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """Changing one byte of the body, path, query, timestamp or secret changes the signature."""
    expected = vector["headers"]["OK-ACCESS-SIGN"]
    changes: list[dict[str, Any]] = [
        {"url": vector["url"].replace("/api/v5/", "/api/v4/")},
        {"url": vector["url"] + ("&a=1" if "?" in vector["url"] else "?a=1")},
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": vector["secret"] + "x"},
        {"method": "PUT"},
    ]
    if vector["body"]:
        changes.append({"body": vector["body"].replace('"', "'", 1)})
    for change in changes:
        assert _sign(vector, **change)["OK-ACCESS-SIGN"] != expected, change


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector, then rejects a tampered body/URL, a wrong passphrase, a wrong key."""
    verifier = _verifier(vector)
    method, url, headers, body = vector["method"], vector["url"], vector["headers"], vector["body"].encode()
    verdict = verifier.verify(method, url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (vector["key"], vector["clock_ms"])
    assert verifier.verify(method, url + "x", headers, body).reason == "bad signature"
    assert verifier.verify(method, url, headers, body + b" ").reason == "bad signature"
    wrong_pass = {**headers, "OK-ACCESS-PASSPHRASE": vector["passphrase"] + "x"}
    assert verifier.verify(method, url, wrong_pass, body).reason == "bad passphrase"
    assert verifier.verify(method, url, {**headers, "OK-ACCESS-KEY": "other"}, body).reason == "unknown key"
    bad_time = {**headers, "OK-ACCESS-TIMESTAMP": "1607418537715"}
    assert verifier.verify(method, url, bad_time, body).reason == "bad OK-ACCESS-TIMESTAMP"


def test_demo_adds_simulated_trading_header() -> None:
    """demo=True adds x-simulated-trading: 1 (and lists it for redirect stripping); the default does not."""
    live = OKX(KEY, SECRET, passphrase=PASSPHRASE, clock=lambda: 1_700_000_000_000 * 1_000_000)
    demo = OKX(KEY, SECRET, passphrase=PASSPHRASE, demo=True, clock=lambda: 1_700_000_000_000 * 1_000_000)
    url = "https://www.okx.com/api/v5/account/balance?ccy=BTC"
    assert "x-simulated-trading" not in live.sign("GET", url).headers
    signed = demo.sign("GET", url)
    assert signed.headers["x-simulated-trading"] == "1"
    assert "x-simulated-trading" in demo.scheme.header_names
    assert signed.headers["OK-ACCESS-SIGN"] == live.sign("GET", url).headers["OK-ACCESS-SIGN"]
    assert _verifier().verify("GET", url, signed.headers, b"")


def _check_server(server: SchemeServer, expected: list[tuple[str, str]]) -> None:
    assert server.stats.accepted == len(expected), [r.answer for r in server.received]
    assert server.stats.rejected == 0
    assert [(r.method, r.path) for r in server.received] == expected
    for r in server.received:
        assert header(r.headers, "OK-ACCESS-PASSPHRASE") == PASSPHRASE
        assert header(r.headers, "x-simulated-trading") == "1"


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """A GET with query parameters and a POST with json= are accepted exactly as signed, through every client."""
    auth = OKX(KEY, SECRET, passphrase=PASSPHRASE, demo=True)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [
            ("GET", server.origin + "/api/v5/account/balance", {"params": {"ccy": "BTC,ETH"}}),
            ("POST", server.origin + "/api/v5/trade/order", {"json": ORDER}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200, 200], replies
        # The comma is sent as %2C (requests, httpx) or as it is (aiohttp): signed either way as sent.
        paths = [(r.method, unquote(r.path)) for r in server.received]
        assert paths == [("GET", "/api/v5/account/balance?ccy=BTC,ETH"), ("POST", "/api/v5/trade/order")]
        _check_server(server, [(r.method, r.path) for r in server.received])
        assert json.loads(server.received[1].body) == ORDER


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = OKX(KEY, SECRET, passphrase=PASSPHRASE, demo=True)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [
            ("GET", server.origin + "/api/v5/account/positions", {"params": {"instType": "SWAP"}})
        ] * 5
        calls += [("POST", server.origin + "/api/v5/trade/order", {"json": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)


def test_wrong_passphrase_is_rejected_by_the_server() -> None:
    """A correctly signed request with the wrong passphrase is answered 401 "bad passphrase"."""
    with SchemeServer(_verifier()) as server:
        auth = OKX(KEY, SECRET, passphrase=PASSPHRASE + "!")
        r = requests.get(server.origin + "/api/v5/account/balance", auth=auth, timeout=5)
        assert (r.status_code, r.json()) == (401, {"error": "bad passphrase"})


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("GET", {"content": b'{"a":1}'}, "query string, not a body"),
        ("POST", {"data": {"instId": "BTC-USDT"}}, "a JSON body"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A GET body and non-JSON bodies raise BodyError before anything is sent, in both clients."""
    auth = OKX(KEY, SECRET, passphrase=PASSPHRASE)
    with SchemeServer(_verifier()) as server:
        with httpx.Client(auth=auth, base_url=server.origin) as c, pytest.raises(BodyError, match=message):
            c.request(method, "/api/v5/trade/order", **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, server.origin + "/api/v5/trade/order", auth=auth, timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("passphrase", ["", " Zq9-lead", "Zq9-trail\n", "Zq9\tZq9", 123, None])
def test_bad_passphrase_is_a_configuration_error_without_echo(passphrase: Any) -> None:
    """An empty, padded, control-character or non-str passphrase is refused without echoing it."""
    with pytest.raises(ConfigurationError, match="passphrase") as info:
        OKX(KEY, SECRET, passphrase=passphrase)
    if isinstance(passphrase, str) and passphrase.strip():
        assert passphrase.strip() not in str(info.value)


def test_passphrase_is_required() -> None:
    """OKX cannot be built without a passphrase."""
    with pytest.raises(TypeError):
        OKX(KEY, SECRET)  # type: ignore[call-arg]


def test_secrets_never_in_repr_and_pickling_refused() -> None:
    """Neither secret nor passphrase shows in any repr; the auth and its scheme refuse pickling."""
    auth = OKX(KEY, SECRET, passphrase=PASSPHRASE, demo=True)
    for text in (repr(auth), repr(auth.scheme), repr(_verifier())):
        assert SECRET not in text
        assert PASSPHRASE not in text
    assert "passphrase=***" in repr(auth)
    for obj in (auth, auth.scheme):
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    clone = copy.deepcopy(auth)
    signed = clone.sign("GET", "https://www.okx.com/api/v5/account/balance")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)
