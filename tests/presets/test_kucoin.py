"""The KuCoin preset: vectors, tamper twins, the verifier, every client against a verifying server."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
import requests

from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.kucoin import KuCoin, KuCoinVerifier
from hmac_body_auth.recipe import RecipeScheme
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "kucoin.json").read_text())[
    "vectors"
]
KEY = "kc-key-0123456789"
SECRET = "kc-secret-0123456789"
PASSPHRASE = "kc-pass-phrase"


def _auth(vector: dict[str, Any], **changes: Any) -> KuCoin:
    values = {**vector, **changes}
    return KuCoin(
        values["key"],
        values["secret"],
        passphrase=values["passphrase"],
        key_version=values["key_version"],
        clock=lambda: values["clock_ms"] * 1_000_000,
    )


def _sign(vector: dict[str, Any], **changes: Any) -> tuple[dict[str, str], str, bytes]:
    values = {**vector, **changes}
    signed = _auth(values).sign(
        values["method"], values["wire_url"], body=values["body"].encode(), content_type=values["content_type"]
    )
    return signed.headers, signed.url, signed.body


def _verifier(vector: dict[str, Any]) -> KuCoinVerifier:
    return KuCoinVerifier({vector["key"]: vector["secret"]}, passphrases={vector["key"]: vector["passphrase"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Scheme.sign gives exactly ccxt's KC-API headers for the URL as requests and httpx send it."""
    headers, url, body = _sign(vector)
    assert headers == vector["headers"]
    assert (url, body) == (vector["wire_url"], vector["body"].encode())
    assert _verifier(vector).verify(vector["method"], url, headers, body)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of path, body, timestamp or secret changes the signature, and the verifier rejects it."""
    original = vector["headers"]["KC-API-SIGN"]
    verifier = _verifier(vector)
    path_changed = vector["wire_url"].replace("/api/v1/", "/api/v2/", 1)
    assert _sign(vector, wire_url=path_changed)[0]["KC-API-SIGN"] != original
    assert not verifier.verify(vector["method"], path_changed, vector["headers"], vector["body"].encode())
    assert _sign(vector, clock_ms=vector["clock_ms"] + 1)[0]["KC-API-SIGN"] != original
    assert _sign(vector, secret=vector["secret"] + "x")[0]["KC-API-SIGN"] != original
    if vector["body"]:
        body = vector["body"].replace('"BTC', '"ETH', 1).encode()
        assert _sign(vector, body=body.decode())[0]["KC-API-SIGN"] != original
        verdict = verifier.verify(vector["method"], vector["wire_url"], vector["headers"], body)
        assert verdict.reason == "bad signature"


def test_query_signed_percent_decoded() -> None:
    """The docs rule: the endpoint is signed URL-decoded, so the raw and the encoded URL sign alike."""
    vector = VECTORS[-1]
    assert "%21%40%23" in vector["wire_url"]
    assert _sign(vector)[0]["KC-API-SIGN"] == vector["headers"]["KC-API-SIGN"]
    # A form-encoded space ("+") is signed as the space it stands for.
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE, clock=lambda: 1_700_000_000_000_000_000)
    plus = auth.sign("GET", "https://api.kucoin.com/api/v1/x?a=b+c")
    space = auth.sign("GET", "https://api.kucoin.com/api/v1/x?a=b%20c")
    assert plus.headers["KC-API-SIGN"] == space.headers["KC-API-SIGN"]


def test_key_version_1_sends_plain_passphrase() -> None:
    """A version 1 key sends the passphrase itself; the verifier checks it per KC-API-KEY-VERSION."""
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE, key_version=1, clock=lambda: 1700000000000 * 1_000_000)
    signed = auth.sign("GET", "https://api.kucoin.com/api/v1/accounts")
    assert signed.headers["KC-API-PASSPHRASE"] == PASSPHRASE
    assert signed.headers["KC-API-KEY-VERSION"] == "1"
    url = "https://api.kucoin.com/api/v1/accounts"
    assert KuCoinVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE}).verify("GET", url, signed.headers, b"")
    wrong = KuCoinVerifier({KEY: SECRET}, passphrases={KEY: "other-pass"}).verify("GET", url, signed.headers, b"")
    assert wrong.reason == "bad passphrase"


def test_verifier_rejects_bad_passphrase_and_unknown_key() -> None:
    """The verifier names what is wrong: unknown key, bad passphrase, missing headers."""
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE, clock=lambda: 1700000000000 * 1_000_000)
    url = "https://api.kucoin.com/api/v1/accounts"
    signed = auth.sign("GET", url)
    ok = KuCoinVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE}).verify("GET", url, signed.headers, b"")
    assert (ok.ok, ok.key, ok.timestamp_ms) == (True, KEY, 1700000000000)
    assert KuCoinVerifier({KEY: SECRET}, passphrases={KEY: "nope-nope"}).verify(
        "GET", url, signed.headers, b""
    ).reason == ("bad passphrase")
    assert KuCoinVerifier({"other": SECRET}).verify("GET", url, signed.headers, b"").reason == "unknown key"
    headers = {k: v for k, v in signed.headers.items() if k != "KC-API-SIGN"}
    assert KuCoinVerifier({KEY: SECRET}).verify("GET", url, headers, b"").reason == "missing KC-API-SIGN"


@pytest.fixture
def server() -> Iterator[SchemeServer]:
    """A loopback server verifying KuCoin signatures and passphrases, 30 s timestamp window."""
    srv = SchemeServer(KuCoinVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE}), window_ms=30_000)
    with srv:
        yield srv


ORDER = {"clientOid": "abc-1", "side": "buy", "symbol": "BTC-USDT", "type": "limit", "price": "1", "size": "2"}
QUERY = {"currency": "BTC", "note": "a b!@#"}


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(server: SchemeServer, client: str) -> None:
    """A GET with query parameters, a JSON POST and a DELETE are accepted, with the bytes that were signed."""
    calls: list[Request] = [
        ("GET", server.origin + "/api/v1/deposit-addresses", {"params": QUERY}),
        ("POST", server.origin + "/api/v1/orders", {"json": ORDER}),
        ("DELETE", server.origin + "/api/v1/orders/5bd6e9286d99522a52e458de", {}),
    ]
    replies = send(client, KuCoin(KEY, SECRET, passphrase=PASSPHRASE), calls)
    assert [r.status for r in replies] == [200] * 3, replies
    got, posted, _ = server.received
    # Each client quotes the query its own way (a+b%21%40%23, a%20b!@%23, ...): signed as sent.
    assert unquote_plus(got.path) == "/api/v1/deposit-addresses?currency=BTC&note=a b!@#"
    assert json.loads(posted.body) == ORDER
    # (niquests labels a json= body "application/json;charset=utf-8")
    assert (header(posted.headers, "Content-Type") or "").partition(";")[0] == "application/json"
    assert server.stats.accepted == 3


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_async_end_to_end(server: SchemeServer, client: str) -> None:
    """The asyncio clients: concurrent signed requests (no nonce, no ordering) are all accepted."""
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE)
    calls: list[Request] = [("GET", server.origin + "/api/v1/accounts", {"params": {"n": str(i)}}) for i in range(10)]
    calls.append(("POST", server.origin + "/api/v1/orders", {"json": ORDER}))
    assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 11
    assert not auth.ordered
    assert server.stats.accepted == 11


def test_non_json_body_refused_before_sending(server: SchemeServer) -> None:
    """A form or non-JSON body is a BodyError and nothing reaches the server."""
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE)
    with pytest.raises(BodyError, match="JSON"):
        requests.post(server.origin + "/api/v1/orders", data={"a": "1"}, auth=auth, timeout=5)
    with pytest.raises(BodyError, match="JSON"), httpx.Client(auth=auth) as client:
        client.post(server.origin + "/api/v1/orders", content=b"not json")
    assert server.received == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"passphrase": ""}, "passphrase"),
        ({"passphrase": "Zq9-phrase\n"}, "newline"),
        ({"passphrase": PASSPHRASE, "key_version": 4}, "key_version"),
        ({"passphrase": "Zq9-pässe", "key_version": 1}, "ASCII"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], match: str) -> None:
    """Bad options are a ConfigurationError at construction that never echoes the passphrase."""
    with pytest.raises(ConfigurationError, match=match) as info:
        KuCoin(KEY, SECRET, **kwargs)
    if kwargs["passphrase"]:
        assert kwargs["passphrase"].strip() not in str(info.value)


def test_secrets_hidden_and_pickling_refused() -> None:
    """Neither the secret nor the passphrase (or its HMAC) shows in repr, and nothing pickles."""
    auth = KuCoin(KEY, SECRET, passphrase=PASSPHRASE)
    for text in (repr(auth), repr(auth.scheme), repr(KuCoinVerifier({KEY: SECRET}, passphrases={KEY: PASSPHRASE}))):
        assert SECRET not in text
        assert PASSPHRASE not in text
    assert "passphrase=***" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    assert isinstance(auth.scheme, RecipeScheme)
    with pytest.raises(TypeError):
        pickle.dumps(auth.scheme)
