"""The Gate.io API v4 preset: SDK and docs vectors, verifier, every client against a real server."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth import TimestampRejection
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.gateio import GATEIO_CLOCK_SYNC, GateIO, GateIOVerifier
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "gateio.json").read_text())[
    "vectors"
]
KEY = "hba-gate-test-key-0123456789"
SECRET = "hba-gate-test-secret-0123456789"
NOW_MS = 1_700_000_000_000
ORDER = {"currency_pair": "BTC_USDT", "type": "limit", "side": "buy", "amount": "0.001", "price": "65000"}


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = GateIO(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000)
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _verifier(vector: dict[str, Any] | None = None) -> GateIOVerifier:
    return GateIOVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The SDK's URL, body and KEY/SIGN/Timestamp headers exactly, the docs' two signatures among them."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert signed.headers == expected["headers"]
    assert signed.content_type is None


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the body, path, query, timestamp (a second), secret or method changes the signature."""
    expected = vector["expected"]["headers"]["SIGN"]
    changes: list[dict[str, Any]] = [
        {"url": vector["url"].replace("/api/v4/", "/api/v5/")},
        {"url": vector["url"] + ("&zz=1" if "?" in vector["url"] else "?zz=1")},
        {"clock_ms": vector["clock_ms"] + 1000},
        {"secret": vector["secret"] + "x"},
        {"method": "PATCH" if vector["body"] else "HEAD"},
    ]
    if vector["body"]:
        changes.append({"body": vector["body"].replace("limit", "limiu", 1)})
    for change in changes:
        assert _sign(vector, **change).headers["SIGN"] != expected, change


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as sent, then rejects a changed URL, body, timestamp or key."""
    verifier = _verifier(vector)
    expected = vector["expected"]
    method, url, headers, body = vector["method"], expected["url"], expected["headers"], expected["body"].encode()
    verdict = verifier.verify(method, url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (vector["key"], vector["clock_ms"])
    assert verifier.verify(method, url + "0", headers, body).reason == "bad signature"
    assert verifier.verify(method, url, headers, body + b" ").reason == "bad signature"
    assert verifier.verify(method, url, {**headers, "KEY": "other"}, body).reason == "unknown key"
    later = {**headers, "Timestamp": str(vector["clock_ms"] // 1000 + 1)}
    assert verifier.verify(method, url, later, body).reason == "bad signature"
    assert verifier.verify(method, url, {**headers, "Timestamp": "soon"}, body).reason == "bad Timestamp"
    missing = {k: v for k, v in headers.items() if k != "SIGN"}
    assert verifier.verify(method, url, missing, body).reason == "missing SIGN"


def test_the_query_is_signed_form_decoded_and_the_timestamp_as_sent() -> None:
    """``%2C`` is signed as ``,`` and ``+`` as a space; a fractional Timestamp (as the SDK sends) verifies as sent."""
    auth = GateIO(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000)
    encoded = auth.sign("GET", "https://api.gateio.ws/api/v4/spot/orders?text=a+b%2Cc")
    plain = auth.sign("GET", "https://api.gateio.ws/api/v4/spot/orders?text=a b,c")
    assert encoded.url.endswith("?text=a+b%2Cc")
    assert encoded.headers["SIGN"] == plain.headers["SIGN"]
    # The SDK's Timestamp: str(time.time()), signed character for character.
    stamp = "1700000000.123456"
    message = "\n".join(["GET", "/api/v4/spot/accounts", "", hashlib.sha512(b"").hexdigest(), stamp])
    sign = hmac.new(SECRET.encode(), message.encode(), hashlib.sha512).hexdigest()
    headers = {"KEY": KEY, "SIGN": sign, "Timestamp": stamp}
    verdict = _verifier().verify("GET", "https://api.gateio.ws/api/v4/spot/accounts", headers, b"")
    assert verdict.ok, verdict.reason
    assert verdict.timestamp_ms == 1_700_000_000_123


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with params, a JSON POST, a PATCH and a DELETE with a query are accepted as signed, through every client."""
    auth = GateIO(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/api/v4/"
        calls: list[Request] = [
            ("GET", base + "spot/accounts", {}),
            ("GET", base + "wallet/sub_account_balances", {"params": {"sub_uid": "10001,10002", "note": "a b"}}),
            ("POST", base + "spot/orders", {"json": ORDER}),
            ("PATCH", base + "spot/orders/12345?currency_pair=BTC_USDT", {"json": {"amount": "0.002"}}),
            ("DELETE", base + "spot/orders/12345", {"params": {"currency_pair": "BTC_USDT"}}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        assert json.loads(server.received[2].body) == ORDER
        for r in server.received:
            assert header(r.headers, "KEY") == KEY
            assert (header(r.headers, "Timestamp") or "").isdigit()


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = GateIO(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/api/v4/spot/orders", {"params": {"status": "open"}})] * 5
        calls += [("POST", server.origin + "/api/v4/spot/orders", {"json": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)
        assert not auth.ordered


def test_wrong_secret_is_rejected_by_the_server() -> None:
    """A request signed with another secret is answered 401 by the verifying server."""
    with SchemeServer(_verifier()) as server:
        r = requests.post(server.origin + "/api/v4/spot/orders", json=ORDER, auth=GateIO(KEY, SECRET + "x"), timeout=5)
        assert r.status_code == 401
        assert server.stats.bad_signature == 1


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("GET", {"content": b'{"a":1}'}, "query string, not a body"),
        ("POST", {"data": {"currency_pair": "BTC_USDT"}}, "a JSON body"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A GET body, a form body and invalid JSON raise BodyError before anything is sent, in both clients."""
    auth = GateIO(KEY, SECRET)
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/api/v4/spot/orders"
        with httpx.Client(auth=auth) as c, pytest.raises(BodyError, match=message):
            c.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=auth, timeout=5, **rkw)
        assert server.received == []


def test_options_are_checked_at_construction() -> None:
    """Gate.io takes no passphrase and no nonce; the algorithm and encodings are fixed; a bad key is refused."""
    with pytest.raises(TypeError, match="passphrase"):
        GateIO(KEY, SECRET, passphrase="x")
    for option in ({"algorithm": "sha256"}, {"digest_encoding": "base64"}, {"nonce": lambda: 1}):
        with pytest.raises(ConfigurationError, match="fixes"):
            GateIO(KEY, SECRET, **option)
    with pytest.raises(ConfigurationError):
        GateIO(KEY + "\n", SECRET)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = GateIO(KEY, SECRET)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://api.gateio.ws/api/v4/spot/accounts")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


EXPIRED = b'{"label":"REQUEST_EXPIRED","message":"Request Timestamp is far from the server time"}'


def test_clock_sync_reads_request_expired_and_the_time_endpoint_only() -> None:
    """REQUEST_EXPIRED with HTTP 401 is a timestamp refusal; another label, status or shape is not; server_time read."""
    assert GATEIO_CLOCK_SYNC.parse(401, EXPIRED, NOW_MS) == TimestampRejection(None)
    for status, body in [
        (400, EXPIRED),
        (401, EXPIRED.replace(b"REQUEST_EXPIRED", b"INVALID_SIGNATURE")),
        (401, b'{"label":"REQUEST_EXPIRED"}'),
        (401, b'{"message":"REQUEST_EXPIRED"}'),
    ]:
        assert GATEIO_CLOCK_SYNC.parse(status, body, NOW_MS) is None, body
    assert GATEIO_CLOCK_SYNC.time_path == "/api/v4/spot/time"
    assert GATEIO_CLOCK_SYNC.window_ms == 60_000
    assert GATEIO_CLOCK_SYNC.read_server_time(200, b'{"server_time": 1597026383085}') == 1_597_026_383_085 * 1_000_000
    assert GATEIO_CLOCK_SYNC.read_server_time(200, b'{"server_time": "1597026383085"}') is None
