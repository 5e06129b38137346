"""The HitBTC preset: vectors, tamper twins, the verifier, every client against a verifying server."""

from __future__ import annotations

import base64
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
from hmac_body_auth.presets.hitbtc import HitBTC, HitBTCVerifier
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "hitbtc.json").read_text())[
    "vectors"
]
KEY = "hb-key-0123456789"
SECRET = "hb-secret-0123456789"


def _sign(vector: dict[str, Any], **changes: Any) -> tuple[dict[str, str], bytes]:
    values = {**vector, **changes}
    auth = HitBTC(
        values["key"], values["secret"], window=values["window"], clock=lambda: values["clock_ms"] * 1_000_000
    )
    signed = auth.sign(
        values["method"], values["url"], body=values["body"].encode(), content_type=values["content_type"]
    )
    return signed.headers, signed.body


def _fields(headers: dict[str, str]) -> list[str]:
    scheme, _, encoded = headers["Authorization"].partition(" ")
    assert scheme == "HS256"
    return base64.b64decode(encoded).decode().split(":")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Scheme.sign gives exactly the Authorization header of ccxt and of the documentation's AuthBase."""
    headers, body = _sign(vector)
    assert headers == vector["headers"]
    assert HitBTCVerifier({vector["key"]: vector["secret"]}).verify(vector["method"], vector["url"], headers, body)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of path, body, timestamp or secret changes the signature, and the verifier rejects it."""
    original = _fields(vector["headers"])[1]
    verifier = HitBTCVerifier({vector["key"]: vector["secret"]})
    path_changed = vector["url"].replace("/spot/", "/spat/", 1)
    assert _fields(_sign(vector, url=path_changed)[0])[1] != original
    assert verifier.verify(vector["method"], path_changed, vector["headers"], vector["body"].encode()).reason == (
        "bad signature"
    )
    assert _fields(_sign(vector, clock_ms=vector["clock_ms"] + 1)[0])[1] != original
    assert _fields(_sign(vector, secret=vector["secret"] + "x")[0])[1] != original
    if vector["window"]:
        assert _fields(_sign(vector, window=vector["window"] + 1)[0])[1] != original
    if vector["body"]:
        body = vector["body"].replace("ETHBTC", "ETHBTD", 1)
        assert _fields(_sign(vector, body=body)[0])[1] != original
        assert not verifier.verify(vector["method"], vector["url"], vector["headers"], body.encode())


def test_window_in_header_and_enforced_by_verifier() -> None:
    """The window goes into the message and the header; a verifier with a clock enforces it."""
    auth = HitBTC(KEY, SECRET, window=5000, clock=lambda: 1_700_000_000_000 * 1_000_000)
    url = "https://api.hitbtc.com/api/3/spot/balance"
    signed = auth.sign("GET", url)
    key, _, timestamp, window = _fields(signed.headers)
    assert (key, timestamp, window) == (KEY, "1700000000000", "5000")
    assert HitBTCVerifier({KEY: SECRET}, clock=lambda: 1_700_000_004_000 * 1_000_000).verify(
        "GET", url, signed.headers, b""
    )
    late = HitBTCVerifier({KEY: SECRET}, clock=lambda: 1_700_000_006_000 * 1_000_000).verify(
        "GET", url, signed.headers, b""
    )
    assert late.reason == "timestamp outside the request's window"


def test_verifier_rejects_malformed_authorization() -> None:
    """A missing, non-HS256, undecodable or unknown-key Authorization is rejected with a reason."""
    verifier = HitBTCVerifier({KEY: SECRET})
    url = "https://api.hitbtc.com/api/3/spot/balance"
    assert verifier.verify("GET", url, {}, b"").reason == "missing Authorization"
    assert verifier.verify("GET", url, {"Authorization": "Basic abc"}, b"").reason == "Authorization is not HS256"
    assert verifier.verify("GET", url, {"Authorization": "HS256 !!!"}, b"").reason == "bad Authorization"
    other = HitBTC("other-key", SECRET, clock=lambda: 1_700_000_000_000_000_000).sign("GET", url)
    assert verifier.verify("GET", url, other.headers, b"").reason == "unknown key"


@pytest.fixture
def server() -> Iterator[SchemeServer]:
    """A loopback server verifying HitBTC signatures, 30 s timestamp window."""
    srv = SchemeServer(HitBTCVerifier({KEY: SECRET}), window_ms=30_000)
    with srv:
        yield srv


ORDER = {"symbol": "ETHBTC", "side": "buy", "quantity": "0.063", "price": "0.046016"}


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(server: SchemeServer, client: str) -> None:
    """GET with query, JSON POST, form POST, a str body (typed by the auth) and DELETE: accepted as signed."""
    url = server.origin + "/api/3/spot/order"
    calls: list[Request] = [
        ("GET", url, {"params": {"symbol": "ETH BTC"}}),
        ("POST", url, {"json": ORDER}),
        ("POST", url, {"data": ORDER}),
        ("POST", url, {"data": json.dumps(ORDER)}),
        ("DELETE", url + "/abc", {}),
    ]
    replies = send(client, HitBTC(KEY, SECRET, window=10_000), calls)
    assert [r.status for r in replies] == [200] * 5, replies
    got, posted, form, text, deleted = server.received
    # The space is sent as + (requests) or %20 (httpx, aiohttp): signed either way as sent.
    assert unquote_plus(got.path) == "/api/3/spot/order?symbol=ETH BTC"
    assert json.loads(posted.body) == ORDER
    assert form.body == b"symbol=ETHBTC&side=buy&quantity=0.063&price=0.046016"
    assert header(text.headers, "Content-Type") == "application/json"
    assert (deleted.method, deleted.path) == ("DELETE", "/api/3/spot/order/abc")
    assert server.stats.accepted == 5


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_async_end_to_end(server: SchemeServer, client: str) -> None:
    """The asyncio clients: concurrent signed requests are all accepted (no ordering needed)."""
    calls: list[Request] = [
        ("GET", server.origin + "/api/3/spot/balance", {"params": {"n": str(i)}}) for i in range(10)
    ]
    calls.append(("POST", server.origin + "/api/3/spot/order", {"json": ORDER}))
    assert [r.status for r in send(client, HitBTC(KEY, SECRET, window=10_000), calls, concurrent=True)] == [200] * 11
    assert server.stats.accepted == 11


def test_unsupported_body_refused_before_sending(server: SchemeServer) -> None:
    """A multipart or other non-JSON, non-form body is a BodyError and nothing reaches the server."""
    auth = HitBTC(KEY, SECRET)
    with pytest.raises(BodyError, match="JSON or form"):
        requests.post(server.origin + "/api/3/spot/order", files={"f": b"x"}, auth=auth, timeout=5)
    with pytest.raises(BodyError, match="JSON or form"), httpx.Client(auth=auth) as client:
        client.post(server.origin + "/api/3/spot/order", content=b"x", headers={"Content-Type": "text/plain"})
    assert server.received == []


@pytest.mark.parametrize(
    ("key", "window", "match"),
    [("a:b", None, "':'"), (KEY, 0, "window"), (KEY, True, "window"), (KEY, "10", "window")],
)
def test_bad_configuration(key: str, window: Any, match: str) -> None:
    """A key with ':' or a bad window is a ConfigurationError at construction."""
    with pytest.raises(ConfigurationError, match=match):
        HitBTC(key, SECRET, window=window)


def test_secret_hidden_and_pickling_refused() -> None:
    """The secret never shows in repr, and the auth cannot be pickled."""
    auth = HitBTC(KEY, SECRET, window=5000)
    assert SECRET not in repr(auth)
    assert "window=5000" in repr(auth)
    assert SECRET not in repr(HitBTCVerifier({KEY: SECRET}))
    with pytest.raises(TypeError):
        pickle.dumps(auth)
