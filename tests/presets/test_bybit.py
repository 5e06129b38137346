"""The Bybit v5 preset: known-answer vectors, verifier, and both clients against a real server."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth._core import Outgoing
from hmac_body_auth._signing import Signer
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.bybit import Bybit, BybitVerifier
from hmac_body_auth.recipe import RecipeScheme
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "bybit.json").read_text())["vectors"]
KEY = "BYBIT-KEY-0123456789"
SECRET = "bybit-secret-0123456789abcdef"
SIGN_HEADERS = ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW", "X-BAPI-SIGN")


def _sign(vector: dict[str, Any], **change: Any) -> dict[str, str]:
    v = {**vector, **change}
    out = Outgoing(v["method"], v["url"], v["content_type"], v["body"].encode())
    signer = Signer(v["secret"], algorithm="sha256", digest_encoding="hex")
    scheme = RecipeScheme(Bybit.recipe, {"recv_window": v["recv_window"]})
    signed = scheme.sign(out, signer, v["key"], None, lambda: v["clock_ms"])
    assert signed.url == v["url"]
    assert signed.body == v["body"].encode()
    return signed.headers


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Our scheme reproduces ccxt's X-BAPI headers exactly, and adds X-BAPI-SIGN-TYPE: 2."""
    headers = _sign(vector)
    assert {k: headers[k] for k in SIGN_HEADERS} == vector["headers"]
    assert headers["X-BAPI-SIGN-TYPE"] == "2"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """Changing one byte of the payload, path, timestamp, recv window or secret changes the signature."""
    expected = vector["headers"]["X-BAPI-SIGN"]
    if vector["method"] == "GET":
        tampered_payload = {"url": vector["url"][:-1] + chr(ord(vector["url"][-1]) ^ 1)}
    else:
        tampered_payload = {"body": vector["body"].replace('"', "'", 1)}
    for change in (
        tampered_payload,
        {"clock_ms": vector["clock_ms"] + 1},
        {"recv_window": vector["recv_window"] + 1},
        {"secret": vector["secret"] + "x"},
        {"key": vector["key"] + "x"},
    ):
        assert _sign(vector, **change)["X-BAPI-SIGN"] != expected, change


def test_vector_path_is_not_signed_but_query_is() -> None:
    """Bybit's prehash holds no path (an API property): the same query on another path has the same signature."""
    get = next(v for v in VECTORS if v["method"] == "GET")
    moved = get["url"].replace("/v5/order/realtime", "/v5/order/history")
    assert _sign(get, url=moved)["X-BAPI-SIGN"] == get["headers"]["X-BAPI-SIGN"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as ccxt signed it and rejects a tampered twin."""
    verifier = BybitVerifier({vector["key"]: vector["secret"]})
    body = vector["body"].encode()
    verdict = verifier.verify(vector["method"], vector["url"], vector["headers"], body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (vector["key"], vector["clock_ms"])
    if body:
        assert (
            verifier.verify(vector["method"], vector["url"], vector["headers"], body + b" ").reason == "bad signature"
        )
    else:
        assert verifier.verify("GET", vector["url"] + "&x=1", vector["headers"], body).reason == "bad signature"
    later = {**vector["headers"], "X-BAPI-TIMESTAMP": str(vector["clock_ms"] + 1)}
    assert not verifier.verify(vector["method"], vector["url"], later, body)
    assert (
        verifier.verify(vector["method"], vector["url"], {**vector["headers"], "X-BAPI-API-KEY": "other"}, body).reason
        == "unknown key"
    )
    missing = {k: v for k, v in vector["headers"].items() if k != "X-BAPI-SIGN"}
    assert verifier.verify(vector["method"], vector["url"], missing, body).reason == "missing X-BAPI-SIGN"


def test_auth_sign_and_verifier_round_trip() -> None:
    """Bybit.sign output verifies; the options reach the headers; a wrong secret is rejected."""
    auth = Bybit(KEY, SECRET, recv_window=10_000, clock=lambda: 1_700_000_000_000 * 1_000_000)
    get = auth.sign("GET", "https://api.bybit.com/v5/position/list?category=linear&symbol=BTCUSDT")
    post = auth.sign("POST", "https://api.bybit.com/v5/order/create", body='{"category":"spot"}')
    verifier = BybitVerifier({KEY: SECRET})
    assert verifier.verify("GET", get.url, get.headers, get.body)
    assert verifier.verify("POST", post.url, post.headers, post.body)
    assert post.content_type == "application/json"
    assert get.headers["X-BAPI-RECV-WINDOW"] == "10000"
    assert get.headers["X-BAPI-TIMESTAMP"] == "1700000000000"
    assert not BybitVerifier({KEY: SECRET + "x"}).verify("POST", post.url, post.headers, post.body)


def _check_received(server: SchemeServer, expected: list[tuple[str, str, bytes]]) -> None:
    assert server.stats.accepted == len(expected), server.received
    assert server.stats.rejected == 0
    got = [(r.method, r.path, r.body) for r in server.received]
    assert got == expected
    for r in server.received:
        assert header(r.headers, "X-BAPI-API-KEY") == KEY
        assert header(r.headers, "X-BAPI-SIGN-TYPE") == "2"


POST_BODY = {
    "category": "spot",
    "symbol": "BTCUSDT",
    "side": "Buy",
    "orderType": "Limit",
    "qty": "0.1",
    "price": "15600",
}
GET_QUERY = {"accountType": "UNIFIED", "coin": "BTC"}


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """A GET with query parameters and a POST with json= are accepted exactly as signed, through every client."""
    with SchemeServer(BybitVerifier({KEY: SECRET}), window_ms=60_000) as server:
        calls: list[Request] = [
            ("GET", server.origin + "/v5/account/wallet-balance", {"params": GET_QUERY}),
            ("POST", server.origin + "/v5/order/create", {"json": POST_BODY}),
        ]
        replies = send(client, Bybit(KEY, SECRET), calls)
        assert [r.status for r in replies] == [200, 200], replies
        posted = server.received[1]
        _check_received(
            server,
            [
                ("GET", "/v5/account/wallet-balance?accountType=UNIFIED&coin=BTC", b""),
                ("POST", "/v5/order/create", posted.body),
            ],
        )
        assert json.loads(posted.body) == POST_BODY
        # (niquests labels a json= body "application/json;charset=utf-8")
        assert (header(posted.headers, "Content-Type") or "").partition(";")[0] == "application/json"


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    with SchemeServer(BybitVerifier({KEY: SECRET}), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/v5/account/wallet-balance", {"params": GET_QUERY})] * 5
        calls += [("POST", server.origin + "/v5/order/create", {"json": POST_BODY})] * 5
        assert [r.status for r in send(client, Bybit(KEY, SECRET), calls, concurrent=True)] == [200] * 10
        assert server.stats.accepted == 10
        assert server.stats.rejected == 0


def test_wrong_secret_is_rejected_by_the_server() -> None:
    """A request signed with another secret is answered 401 by the verifying server."""
    with SchemeServer(BybitVerifier({KEY: SECRET})) as server:
        r = requests.post(server.origin + "/v5/order/create", json=POST_BODY, auth=Bybit(KEY, SECRET + "x"), timeout=5)
        assert r.status_code == 401
        assert server.stats.bad_signature == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        ("GET", "/v5/order/realtime", {"content": b'{"a":1}'}, "query string of a GET"),
        ("POST", "/v5/order/create?category=spot", {"json": POST_BODY}, "query string would go unsigned"),
        ("POST", "/v5/order/create", {"data": {"category": "spot"}}, "a JSON body"),
        (
            "POST",
            "/v5/order/create",
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            "JSON",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(method: str, path: str, kwargs: dict[str, Any], message: str) -> None:
    """Bodies or queries that would go unsigned, and non-JSON bodies, raise BodyError before sending."""
    with SchemeServer(BybitVerifier({KEY: SECRET})) as server:
        with (
            httpx.Client(auth=Bybit(KEY, SECRET), base_url=server.origin) as c,
            pytest.raises(BodyError, match=message),
        ):
            c.request(method, path, **kwargs)
        with pytest.raises(BodyError, match=message):
            requests.request(
                method, server.origin + path, auth=Bybit(KEY, SECRET), timeout=5, **_requests_kwargs(kwargs)
            )
        assert server.received == []


def _requests_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if "content" in out:
        out["data"] = out.pop("content")
    return out


@pytest.mark.parametrize("recv_window", [0, -1, True, "5000", 1.5])
def test_bad_recv_window_is_a_configuration_error(recv_window: Any) -> None:
    """recv_window must be a positive int of milliseconds."""
    with pytest.raises(ConfigurationError, match="recv_window"):
        Bybit(KEY, SECRET, recv_window=recv_window)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the full key; pickling is refused; a deep copy still signs."""
    auth = Bybit(KEY, SECRET, recv_window=7000)
    text = repr(auth)
    assert SECRET not in text
    assert KEY not in text
    assert "recv_window=7000" in text
    assert SECRET not in repr(BybitVerifier({KEY: SECRET}))
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    clone = copy.deepcopy(auth)
    signed = clone.sign("GET", "https://api.bybit.com/v5/x?a=1")
    assert BybitVerifier({KEY: SECRET}).verify("GET", signed.url, signed.headers, signed.body)
