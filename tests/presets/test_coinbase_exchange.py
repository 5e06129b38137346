"""The Coinbase Exchange preset: known-answer vectors, verifier, and both clients against a real server."""

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
from hmac_body_auth.presets.coinbase_exchange import (
    CoinbaseExchange,
    CoinbaseExchangeVerifier,
)
from hmac_body_auth.recipe import RecipeScheme
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "coinbase_exchange.json").read_text())["vectors"]
KEY = "cb0123456789abcdef0123456789abcd"
SECRET = "c2VjcmV0LWZvci1jb2luYmFzZS1leGNoYW5nZS10ZXN0cy0wMTIzNDU2Nzg5"
PASSPHRASE = "my coinbase pass phrase"
ORDER = {"size": "0.01", "price": "0.100", "side": "buy", "product_id": "BTC-USD"}


def _sign(vector: dict[str, Any], **change: Any) -> dict[str, str]:
    v = {**vector, **change}
    out = Outgoing(v["method"], v["url"], v["content_type"], v["body"].encode())
    signer = Signer(v["secret"], algorithm="sha256", digest_encoding="base64", secret_encoding="base64")
    scheme = RecipeScheme(CoinbaseExchange.recipe, {}, v["passphrase"])
    signed = scheme.sign(out, signer, v["key"], None, lambda: v["clock_ms"])
    assert (signed.url, signed.body) == (v["url"], v["body"].encode())
    return signed.headers


def _verifier(vector: dict[str, Any] | None = None) -> CoinbaseExchangeVerifier:
    if vector is None:
        return CoinbaseExchangeVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE})
    return CoinbaseExchangeVerifier(
        {vector["key"]: vector["secret"]}, passphrases={vector["key"]: vector["passphrase"]}
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Our scheme reproduces ccxt's CB-ACCESS headers exactly."""
    assert _sign(vector) == vector["headers"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """Changing one byte of the body, path, query, timestamp or secret changes the signature."""
    expected = vector["headers"]["CB-ACCESS-SIGN"]
    changes: list[dict[str, Any]] = [
        {"url": vector["url"].replace(".com/", ".com/v2/")},
        {"url": vector["url"] + ("&a=1" if "?" in vector["url"] else "?a=1")},
        {"clock_ms": vector["clock_ms"] + 1000},  # the timestamp is in whole seconds
        {"secret": "A" + vector["secret"][1:]},  # still base64, one byte different
        {"method": "PUT"},
    ]
    if vector["body"]:
        changes.append({"body": vector["body"].replace('"', "'", 1)})
    for change in changes:
        assert _sign(vector, **change)["CB-ACCESS-SIGN"] != expected, change


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
    wrong_pass = {**headers, "CB-ACCESS-PASSPHRASE": vector["passphrase"] + "x"}
    assert verifier.verify(method, url, wrong_pass, body).reason == "bad passphrase"
    assert verifier.verify(method, url, {**headers, "CB-ACCESS-KEY": "other"}, body).reason == "unknown key"
    bad_time = {**headers, "CB-ACCESS-TIMESTAMP": "2023-11-14T22:13:20Z"}
    assert verifier.verify(method, url, bad_time, body).reason == "bad CB-ACCESS-TIMESTAMP"


def _check_server(server: SchemeServer, expected: list[tuple[str, str]]) -> None:
    assert server.stats.accepted == len(expected), [r.answer for r in server.received]
    assert server.stats.rejected == 0
    assert [(r.method, r.path) for r in server.received] == expected
    for r in server.received:
        assert header(r.headers, "CB-ACCESS-PASSPHRASE") == PASSPHRASE


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """A GET with query parameters and a POST with json= are accepted exactly as signed, through every client."""
    auth = CoinbaseExchange(KEY, SECRET, passphrase=PASSPHRASE)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [
            ("GET", server.origin + "/accounts", {"params": {"profile_id": "default", "limit": "2,3"}}),
            ("POST", server.origin + "/orders", {"json": ORDER}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200, 200], replies
        # The comma is sent as %2C (requests, httpx) or as it is (aiohttp): signed either way as sent.
        paths = [(r.method, unquote(r.path)) for r in server.received]
        assert paths == [("GET", "/accounts?profile_id=default&limit=2,3"), ("POST", "/orders")]
        _check_server(server, [(r.method, r.path) for r in server.received])
        assert json.loads(server.received[1].body) == ORDER


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = CoinbaseExchange(KEY, SECRET, passphrase=PASSPHRASE)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/fills", {"params": {"product_id": "BTC-USD"}})] * 5
        calls += [("POST", server.origin + "/orders", {"json": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)


def test_wrong_passphrase_is_rejected_by_the_server() -> None:
    """A correctly signed request with the wrong passphrase is answered 401 "bad passphrase"."""
    with SchemeServer(_verifier()) as server:
        auth = CoinbaseExchange(KEY, SECRET, passphrase=PASSPHRASE + "!")
        r = requests.get(server.origin + "/accounts", auth=auth, timeout=5)
        assert (r.status_code, r.json()) == (401, {"error": "bad passphrase"})


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("GET", {"content": b'{"a":1}'}, "query string, not a body"),
        ("POST", {"data": {"product_id": "BTC-USD"}}, "a JSON body"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A GET body and non-JSON bodies raise BodyError before anything is sent, in both clients."""
    auth = CoinbaseExchange(KEY, SECRET, passphrase=PASSPHRASE)
    with SchemeServer(_verifier()) as server:
        with httpx.Client(auth=auth, base_url=server.origin) as c, pytest.raises(BodyError, match=message):
            c.request(method, "/orders", **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, server.origin + "/orders", auth=auth, timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("passphrase", ["", " Zq9-lead", "Zq9-trail\n", "Zq9\tZq9", 123, None])
def test_bad_passphrase_is_a_configuration_error_without_echo(passphrase: Any) -> None:
    """An empty, padded, control-character or non-str passphrase is refused without echoing it."""
    with pytest.raises(ConfigurationError, match="passphrase") as info:
        CoinbaseExchange(KEY, SECRET, passphrase=passphrase)
    if isinstance(passphrase, str) and passphrase.strip():
        assert passphrase.strip() not in str(info.value)


def test_passphrase_is_required() -> None:
    """CoinbaseExchange cannot be built without a passphrase."""
    with pytest.raises(TypeError):
        CoinbaseExchange(KEY, SECRET)  # type: ignore[call-arg]


def test_secrets_never_in_repr_and_pickling_refused() -> None:
    """Neither secret nor passphrase shows in any repr; the auth and its scheme refuse pickling."""
    auth = CoinbaseExchange(KEY, SECRET, passphrase=PASSPHRASE)
    for text in (repr(auth), repr(auth.scheme), repr(_verifier())):
        assert SECRET not in text
        assert PASSPHRASE not in text
    assert "passphrase=***" in repr(auth)
    for obj in (auth, auth.scheme):
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    clone = copy.deepcopy(auth)
    signed = clone.sign("GET", "https://api.exchange.coinbase.com/accounts")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


def test_timestamp_is_whole_seconds_and_decimals_verify() -> None:
    """The auth sends whole seconds; the verifier also accepts the decimal seconds the docs allow."""
    auth = CoinbaseExchange(KEY, SECRET, passphrase=PASSPHRASE, clock=lambda: 1_700_000_000_999 * 1_000_000)
    signed = auth.sign("GET", "https://api.exchange.coinbase.com/accounts")
    assert signed.headers["CB-ACCESS-TIMESTAMP"] == "1700000000"
    verdict = _verifier().verify("GET", signed.url, signed.headers, b"")
    assert (verdict.ok, verdict.timestamp_ms) == (True, 1_700_000_000_000)
    decimal = "1700000000.25"
    prehash = (decimal + "GET/accounts").encode()
    headers = {**signed.headers, "CB-ACCESS-TIMESTAMP": decimal, "CB-ACCESS-SIGN": auth.signer.sign(prehash)}
    verdict = _verifier().verify("GET", signed.url, headers, b"")
    assert (verdict.ok, verdict.timestamp_ms) == (True, 1_700_000_000_250)


def test_secret_must_be_base64() -> None:
    """A secret that is not base64 is a configuration error (the HMAC key is its decoding)."""
    with pytest.raises(ConfigurationError, match="base64"):
        CoinbaseExchange(KEY, "not base64!", passphrase=PASSPHRASE)
