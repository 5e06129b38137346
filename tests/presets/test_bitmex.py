"""The BitMEX preset: SDK and docs vectors, verifier, every client against a real server, bad input, clock sync."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth import OriginError, TimestampRejection
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.bitmex import BitMEX, BitMEXVerifier, bitmex_clock_sync
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._clock_apis import BITMEX
from .._clock_server import ClockServer
from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send
from .._presets import KEY as SHARED_KEY
from .._presets import SECRET as SHARED_SECRET

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "bitmex.json").read_text())[
    "vectors"
]
KEY = "hba-test-bitmex-key-0001"
SECRET = "hba-test-bitmex-secret-0123456789abcdef"
NOW_MS = 1_700_000_000_000
ORDER = {"symbol": "XBTUSD", "side": "Buy", "orderQty": 100, "price": 30000.5, "text": "é ü"}
SECOND = 10**9


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = BitMEX(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000, **v["options"])
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _verifier(vector: dict[str, Any] | None = None) -> BitMEXVerifier:
    return BitMEXVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The SDK's and the docs' three headers exactly; URL and body go out as given."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert signed.headers == expected["headers"]


def test_api_expires_is_the_rounded_second_plus_expires_after() -> None:
    """api-expires is now rounded to the second (as the SDK's round()) plus expires_after, not the time of signing."""
    for clock_ms, after, expires in [
        (NOW_MS + 499, 5, "1700000005"),
        (NOW_MS + 500, 5, "1700000006"),
        (NOW_MS, 60, "1700000060"),
    ]:
        auth = BitMEX(KEY, SECRET, clock=lambda c=clock_ms: c * 1_000_000, expires_after=after)
        assert auth.sign("GET", "https://www.bitmex.com/api/v1/position").headers["api-expires"] == expires


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the method, path, query, body, expiry or secret changes the signature."""
    good = _sign(vector).headers["api-signature"]
    twins: list[dict[str, Any]] = [
        {"clock_ms": vector["clock_ms"] + 1000},
        {"options": {**vector["options"], "expires_after": vector["options"]["expires_after"] + 1}},
        {"secret": "M" + vector["secret"][1:]},
        {"url": vector["url"].replace("/api/v1/", "/api/v2/")},
        {"url": vector["url"] + ("&" if "?" in vector["url"] else "?") + "count=1"},
        {"method": "PUT"} if vector["body"] else {"method": "HEAD"},
    ]
    if vector["body"]:
        twins.append({"body": vector["body"].replace("X", "Y", 1).replace("5f7b", "5f7c", 1)})
    for twin in twins:
        assert _sign(vector, **twin).headers["api-signature"] != good, twin


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector (its timestamp is the expiry), and rejects tampering and wrong keys."""
    expected = vector["expected"]
    verifier = _verifier(vector)
    url, body, headers = expected["url"], expected["body"].encode(), expected["headers"]
    verdict = verifier.verify(vector["method"], url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce, verdict.timestamp_ms) == (
        vector["key"],
        None,
        int(headers["api-expires"]) * 1000,
    )
    later = {**headers, "api-expires": str(int(headers["api-expires"]) + 1)}
    assert verifier.verify(vector["method"], url, later, body).reason == "bad signature"
    assert verifier.verify(vector["method"], url + ("&" if "?" in url else "?") + "a=1", headers, body).reason == (
        "bad signature"
    )
    if body:
        assert verifier.verify(vector["method"], url, headers, body[:-1] + b" ").reason == "bad signature"
    assert verifier.verify(vector["method"], url, {**headers, "api-key": "nobody"}, body).reason == "unknown key"
    assert not BitMEXVerifier({vector["key"]: "M" + vector["secret"][1:]}).verify(vector["method"], url, headers, body)
    assert not verifier.verify(vector["method"], url, {k: v for k, v in headers.items() if k != "api-signature"}, body)


@pytest.mark.parametrize(
    ("testnet", "url", "allowed"),
    [
        (False, "https://www.bitmex.com/api/v1/order", True),
        (False, "https://testnet.bitmex.com/api/v1/order", False),
        (True, "https://testnet.bitmex.com/api/v1/order", True),
        (True, "https://www.bitmex.com/api/v1/order", False),
        (True, "https://bitmex.com/api/v1/order", False),
        (True, "http://127.0.0.1:8080/api/v1/order", True),
    ],
)
def test_testnet_keys_and_live_keys_stay_on_their_hosts(testnet: bool, url: str, allowed: bool) -> None:
    """testnet=True refuses the live hosts, the default refuses the testnet host; any other host is signed."""
    auth = BitMEX(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000, testnet=testnet)
    if allowed:
        assert "api-signature" in auth.sign("POST", url, body=b'{"symbol":"XBTUSD"}').headers
    else:
        with pytest.raises(OriginError, match="testnet"):
            auth.sign("POST", url, body=b'{"symbol":"XBTUSD"}')


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with a JSON filter, POST JSON (non-ASCII), PUT, DELETE with a form: all accepted as signed."""
    auth = BitMEX(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/api/v1/"
        calls: list[Request] = [
            ("GET", base + "position", {"params": {"filter": '{"symbol": "XBTUSD"}', "count": "5"}}),
            ("GET", base + "user/wallet", {}),
            ("POST", base + "order", {"json": ORDER}),
            ("PUT", base + "order", {"json": {"orderID": "5f7b", "price": 30001}}),
            ("DELETE", base + "order", {"data": {"orderID": "5f7b", "text": "cancel me"}}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        for got in server.received:
            assert header(got.headers, "api-key") == KEY
            assert len(header(got.headers, "api-signature") or "") == 64


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent calls are all accepted (no nonce, no ordering needed)."""
    auth = BitMEX(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/api/v1/position", {"params": {"count": "5"}})] * 5
        calls += [("POST", server.origin + "/api/v1/order", {"json": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)
        assert not auth.ordered


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("POST", {"content": b"plain", "headers": {"Content-Type": "text/plain"}}, "JSON or form"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not JSON"),
        ("GET", {"content": b'{"symbol":"XBTUSD"}'}, "query string"),
    ],
)
def test_bad_input_is_refused_before_sending(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A text body, broken JSON and a GET body raise BodyError; nothing reaches the server."""
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/api/v1/order"
        with httpx.Client(auth=BitMEX(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=BitMEX(KEY, SECRET), timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize(
    "options",
    [{"expires_after": 0}, {"expires_after": 3601}, {"expires_after": 5.0}, {"expires_after": True}, {"testnet": 1}],
)
def test_invalid_options_are_a_configuration_error(options: dict[str, Any]) -> None:
    """expires_after must be an int of seconds from 1 to 3600, testnet True or False; the error names the option."""
    with pytest.raises(ConfigurationError, match=next(iter(options))):
        BitMEX(KEY, SECRET, **options)


def test_fixed_options_and_bad_key_are_refused() -> None:
    """The algorithm, encodings and nonce are fixed; no passphrase; a key with whitespace is refused, not echoed."""
    for option in ({"algorithm": "sha512"}, {"nonce": lambda: 1}, {"digest_encoding": "base64"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            BitMEX(KEY, SECRET, **option)
    with pytest.raises(TypeError, match="passphrase"):
        BitMEX(KEY, SECRET, passphrase="x")
    with pytest.raises(ConfigurationError) as caught:
        BitMEX(KEY + "\n", SECRET)
    assert KEY not in str(caught.value)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = BitMEX(KEY, SECRET, expires_after=10, testnet=True)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    assert "expires_after=10, testnet=True" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://testnet.bitmex.com/api/v1/user")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


EXPIRED = (
    b'{"error":{"message":"This request has expired - `expires` is in the past. Current time: 1516534870",'
    b'"name":"HTTPError"}}'
)


def test_clock_sync_reads_the_expired_answer_with_its_server_time() -> None:
    """The expired answer (HTTP 400) carries the server's second; other answers, statuses or shapes are not it."""
    sync = bitmex_clock_sync()
    assert sync.parse(400, EXPIRED, NOW_MS) == TimestampRejection(1_516_534_870_500_000_000)
    for status, body in [
        (401, EXPIRED),
        (200, EXPIRED),
        (401, b'{"error":{"message":"Signature not valid.","name":"HTTPError"}}'),
        (400, EXPIRED.replace(b"1516534870", b"1516534870.5")),
        (400, EXPIRED.replace(b"1516534870", b"")),
        (400, EXPIRED.replace(b"HTTPError", b"ValidationError")),
        (400, EXPIRED.replace(b"This request", b"this request")),
        (400, EXPIRED.replace(b"}}", b'},"extra":1}')),
        (400, EXPIRED.replace(b',"name":"HTTPError"', b"")),
        (
            400,
            b'{"error":{"message":"Invalid orderQty: This request has expired - `expires` is in the past.",'
            b'"name":"HTTPError"}}',
        ),
        (200, b'{"orderID":"1","text":"This request has expired - `expires` is in the past. Current time: 1"}'),
    ]:
        assert sync.parse(status, body, NOW_MS) is None, body
    assert (sync.time_path, sync.window_ms, bitmex_clock_sync(30).window_ms) == ("/api/v1", 5000, 30_000)
    assert BitMEX(KEY, SECRET, expires_after=30).lifecycle.clock_sync == bitmex_clock_sync(30)
    assert BitMEX(KEY, SECRET, clock_sync=False).lifecycle.clock_sync is None
    assert sync.read_server_time(200, b'{"name":"BitMEX API","version":"1.2.0","timestamp":1554709447283}') == (
        1_554_709_447_283 * 1_000_000
    )
    assert sync.read_server_time(200, b'{"name":"BitMEX API","timestamp":"1554709447283"}') is None


@pytest.fixture
def _fresh_offsets() -> Any:
    hba.forget_clock_offsets()
    yield
    hba.forget_clock_offsets()


@pytest.mark.usefixtures("_fresh_offsets")
@pytest.mark.parametrize("client", CLIENTS)
def test_clock_sync_end_to_end(client: str) -> None:
    """Server 60 s ahead: one "expired" refusal, the clock learned from it, every call succeeds; off: all refused."""
    calls: list[Request] = [("GET", "/api/v1/position", {"params": {"count": "5"}})] * 3
    with ClockServer("bitmex", skew_ns=60 * SECOND, api=BITMEX) as server:
        at = [(method, server.origin + path, kwargs) for method, path, kwargs in calls]
        assert [r.status for r in send(client, BitMEX(SHARED_KEY, SHARED_SECRET), at)] == [200] * 3
        assert (server.counts.rejected, server.counts.bad, server.counts.probes) == (1, 0, 0)
        offset = hba.clock_offset(server.origin)
        assert offset is not None
        assert abs(offset - 60 * SECOND) <= 1.3 * SECOND, offset
        hba.forget_clock_offsets()
        assert [r.status for r in send(client, BitMEX(SHARED_KEY, SHARED_SECRET, clock_sync=False), at)] == [400] * 3
        assert (server.counts.rejected, server.counts.accepted) == (4, 3)


@pytest.mark.usefixtures("_fresh_offsets")
def test_a_clock_ahead_of_bitmex_is_not_refused() -> None:
    """An expiry further ahead is still in the future: BitMEX refuses only a past one, so nothing is learned."""
    with ClockServer("bitmex", skew_ns=-60 * SECOND, api=BITMEX) as server:
        at: list[Request] = [("GET", server.origin + "/api/v1/position", {})] * 2
        assert [r.status for r in send("requests", BitMEX(SHARED_KEY, SHARED_SECRET), at)] == [200, 200]
        assert server.counts.rejected == 0
        assert hba.clock_offset(server.origin) is None
