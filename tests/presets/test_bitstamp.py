"""The Bitstamp preset: vectors, tamper twins, the verifier, every client against a verifying server."""

from __future__ import annotations

import itertools
import json
import pickle
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth.errors import BodyError, NonceError
from hmac_body_auth.presets.bitstamp import Bitstamp, BitstampVerifier, bitstamp_nonce
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "bitstamp.json").read_text())[
    "vectors"
]
KEY = "bs-key-0123456789"
SECRET = "bs-secret-0123456789"


def _sign(vector: dict[str, Any], **changes: Any) -> tuple[dict[str, str], bytes, str | None]:
    values = {**vector, **changes}
    auth = Bitstamp(
        values["key"], values["secret"], nonce=lambda: values["nonce"], clock=lambda: values["clock_ms"] * 1_000_000
    )
    signed = auth.sign(
        values["method"], values["url"], body=values["body"].encode(), content_type=values["content_type"]
    )
    return signed.headers, signed.body, signed.content_type


def _received_headers(vector: dict[str, Any]) -> dict[str, str]:
    return {**vector["headers"], "Content-Type": vector["content_type"]}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Scheme.sign gives exactly the X-Auth headers of ccxt and of the documentation's example."""
    headers, body, _ = _sign(vector)
    assert headers == vector["headers"]
    verdict = BitstampVerifier({vector["key"]: vector["secret"]}).verify(
        "POST", vector["url"], _received_headers(vector), body
    )
    assert (verdict.ok, verdict.nonce, verdict.timestamp_ms) == (True, vector["nonce"], vector["clock_ms"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of path, body, nonce, timestamp or secret changes the signature; the verifier rejects it."""
    original = vector["headers"]["X-Auth-Signature"]
    verifier = BitstampVerifier({vector["key"]: vector["secret"]})
    path_changed = vector["url"].replace("/v2/", "/v3/", 1)
    body_changed = vector["body"][:-1] + ("0" if vector["body"][-1] != "0" else "1")
    for changes in (
        {"url": path_changed},
        {"body": body_changed},
        {"nonce": vector["nonce"][:-1] + ("0" if vector["nonce"][-1] != "0" else "1")},
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": vector["secret"] + "x"},
    ):
        assert _sign(vector, **changes)[0]["X-Auth-Signature"] != original, changes
    headers = _received_headers(vector)
    assert verifier.verify("POST", path_changed, headers, vector["body"].encode()).reason == "bad signature"
    assert verifier.verify("POST", vector["url"], headers, body_changed.encode()).reason == "bad signature"


def test_query_and_empty_body_signed() -> None:
    """A query string is signed (without '?'), and an empty body leaves the content type out of the message."""
    auth = Bitstamp(
        KEY, SECRET, nonce=lambda: "f93c979d-b00d-43a9-9b9c-fd4cd9547fa6", clock=lambda: 1_700_000_000_000_000_000
    )
    verifier = BitstampVerifier({KEY: SECRET})
    url = "https://www.bitstamp.net/api/v2/user_transactions/?limit=5"
    signed = auth.sign("POST", url)
    assert signed.content_type is None
    assert verifier.verify("POST", url, signed.headers, b"")
    assert verifier.verify("POST", url.replace("=5", "=6"), signed.headers, b"").reason == "bad signature"
    with_type = {**signed.headers, "Content-Type": "application/x-www-form-urlencoded"}
    assert not verifier.verify("POST", url, with_type, b"")
    # Uppercase hex (the documentation's Java example) verifies too.
    upper = {**signed.headers, "X-Auth-Signature": signed.headers["X-Auth-Signature"].upper()}
    assert verifier.verify("POST", url, upper, b"")


def test_default_nonce_is_a_fresh_uuid_and_unordered() -> None:
    """By default each request gets a new lowercase 36-character UUID and no per-key ordering."""
    auth = Bitstamp(KEY, SECRET)
    nonces = {auth.sign("POST", "http://localhost/", body=b"a=1").headers["X-Auth-Nonce"] for _ in range(50)}
    assert len(nonces) == 50
    assert all(len(n) == 36 and n == n.lower() for n in nonces)
    assert not auth.ordered
    assert len(bitstamp_nonce()) == 36
    assert Bitstamp(KEY, SECRET, nonce=bitstamp_nonce).ordered


@pytest.fixture
def server() -> Iterator[SchemeServer]:
    """A loopback server verifying Bitstamp signatures; a nonce may be used once; 150 s window."""
    srv = SchemeServer(BitstampVerifier({KEY: SECRET}), window_ms=150_000)
    with srv:
        yield srv


ORDER = {"amount": "0.001", "price": "20000"}


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(server: SchemeServer, client: str) -> None:
    """Form POSTs (with and without parameters, with a query) and a str body typed as a form: accepted as signed."""
    calls: list[Request] = [
        ("POST", server.origin + "/api/v2/balance/", {}),
        ("POST", server.origin + "/api/v2/buy/btcusd/", {"data": ORDER}),
        ("POST", server.origin + "/api/v2/user_transactions/", {"params": {"offset": "1"}, "data": {"limit": "5"}}),
        ("POST", server.origin + "/api/v2/open_orders/all/", {"data": "limit=10"}),
    ]
    replies = send(client, Bitstamp(KEY, SECRET), calls)
    assert [r.status for r in replies] == [200] * 4, replies
    balance, order, query, text = server.received
    assert balance.body == b""
    assert header(balance.headers, "Content-Type") is None
    assert order.body == b"amount=0.001&price=20000"
    assert query.path == "/api/v2/user_transactions/?offset=1"
    assert text.body == b"limit=10"
    assert header(text.headers, "Content-Type") == "application/x-www-form-urlencoded"
    assert server.stats.accepted == 4


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_async_end_to_end(server: SchemeServer, client: str) -> None:
    """The asyncio clients: concurrent signed requests, each with its own nonce, are all accepted."""
    calls: list[Request] = [("POST", server.origin + "/api/v2/balance/", {"data": {"n": str(i)}}) for i in range(12)]
    assert [r.status for r in send(client, Bitstamp(KEY, SECRET), calls, concurrent=True)] == [200] * 12
    assert server.stats.accepted == 12


def test_concurrent_threads_no_nonce_rejections(server: SchemeServer) -> None:
    """4 threads x 10 requests through one auth: every nonce is unique, zero rejections."""
    auth = Bitstamp(KEY, SECRET)

    def work(thread: int) -> list[int]:
        with requests.Session() as session:
            return [
                session.post(server.origin + "/api/v2/balance/", data={"t": thread, "i": i}, auth=auth).status_code
                for i in range(10)
            ]

    with ThreadPoolExecutor(4) as pool:
        statuses = [s for batch in pool.map(work, range(4)) for s in batch]
    assert statuses == [200] * 40
    assert (server.stats.accepted, server.stats.bad_nonce, server.stats.rejected) == (40, 0, 0)


def test_reused_nonce_rejected_by_server(server: SchemeServer) -> None:
    """A nonce source that repeats itself is caught by the server: the second request is refused."""
    auth = Bitstamp(KEY, SECRET, nonce=lambda: "f93c979d-b00d-43a9-9b9c-fd4cd9547fa6")
    first = requests.post(server.origin + "/api/v2/balance/", auth=auth, timeout=5)
    second = requests.post(server.origin + "/api/v2/balance/", auth=auth, timeout=5)
    assert (first.status_code, second.status_code) == (200, 422)
    assert server.stats.bad_nonce == 1


def test_bad_input_refused_before_sending(server: SchemeServer) -> None:
    """JSON bodies, a Content-Type without a body and a malformed nonce are errors; nothing is sent."""
    auth = Bitstamp(KEY, SECRET)
    with pytest.raises(BodyError, match="a form body"):
        requests.post(server.origin + "/api/v2/buy/btcusd/", json=ORDER, auth=auth, timeout=5)
    with pytest.raises(BodyError, match="without a body"), httpx.Client(auth=auth) as client:
        client.post(server.origin + "/api/v2/balance/", headers={"Content-Type": "application/x-www-form-urlencoded"})
    for bad in ("F93C979D-B00D-43A9-9B9C-FD4CD9547FA6", "short", 12345):
        bad_auth = Bitstamp(KEY, SECRET, nonce=itertools.repeat(bad).__next__)  # type: ignore[arg-type]
        with pytest.raises(NonceError, match="36-character"):
            requests.post(server.origin + "/api/v2/balance/", auth=bad_auth, timeout=5)
    assert server.received == []


def test_secret_hidden_and_pickling_refused() -> None:
    """The secret never shows in repr, and the auth cannot be pickled."""
    auth = Bitstamp(KEY, SECRET)
    assert SECRET not in repr(auth)
    assert SECRET not in repr(BitstampVerifier({KEY: SECRET}))
    with pytest.raises(TypeError):
        pickle.dumps(auth)
