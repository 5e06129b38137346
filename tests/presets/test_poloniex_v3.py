"""The current Poloniex spot API preset: known-answer vectors, verifier, and both clients against a real server."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import pickle
import random
import string
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import requests
import yarl
from hypothesis import given, settings
from hypothesis import strategies as st

from hmac_body_auth._core import Outgoing
from hmac_body_auth._signing import Signer
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets import poloniex_v3
from hmac_body_auth.presets.poloniex_v3 import PoloniexV3, PoloniexV3Verifier, encode_query
from hmac_body_auth.recipe import RecipeScheme, Verdict
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "poloniex_v3.json").read_text())["vectors"]
KEY = "POLO-KEY-0123-4567-89AB"
SECRET = "polo-secret-0123456789abcdef"
ORDER = {"symbol": "BTC_USDT", "side": "BUY", "type": "LIMIT", "quantity": "100", "price": "40000.50000"}


def _sign(vector: dict[str, Any], **change: Any) -> dict[str, str]:
    v = {**vector, **change}
    out = Outgoing(v["method"], v["url"], v["content_type"], v["body"].encode())
    signer = Signer(v["secret"], algorithm="sha256", digest_encoding="base64")
    signed = RecipeScheme(PoloniexV3.recipe, {"recv_window": None}).sign(
        out, signer, v["key"], None, lambda: v["clock_ms"]
    )
    assert (signed.url, signed.body) == (v["url"], v["body"].encode())
    return signed.headers


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """Our scheme reproduces ccxt's key/signTimestamp/signature headers exactly."""
    assert _sign(vector) == vector["headers"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """Changing one byte of the body, path, query, method, timestamp or secret changes the signature."""
    expected = vector["headers"]["signature"]
    changes: list[dict[str, Any]] = [
        {"url": vector["url"].replace(".com/", ".com/v2/")},
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": vector["secret"] + "x"},
        {"method": "PUT"},
    ]
    if vector["body"]:
        changes.append({"body": vector["body"].replace('"', "'", 1)})
    else:
        changes.append({"url": vector["url"] + ("&a=1" if "?" in vector["url"] else "?a=1")})
    for change in changes:
        assert _sign(vector, **change)["signature"] != expected, change


def test_query_order_does_not_matter() -> None:
    """GET parameters are signed sorted by name, so their order in the URL does not change the signature."""
    get = VECTORS[0]
    assert get["url"].endswith("?symbol=ETH_USDT&limit=5")
    swapped = get["url"].replace("?symbol=ETH_USDT&limit=5", "?limit=5&symbol=ETH_USDT")
    assert _sign(get, url=swapped)["signature"] == get["headers"]["signature"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as ccxt signed it and rejects tampered twins."""
    verifier = PoloniexV3Verifier({vector["key"]: vector["secret"]})
    method, url, headers, body = vector["method"], vector["url"], vector["headers"], vector["body"].encode()
    verdict = verifier.verify(method, url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (vector["key"], vector["clock_ms"])
    assert verifier.verify(method, url + "x", headers, body).reason == "bad signature"
    assert verifier.verify(method, url, headers, body + b" ").reason == "bad signature"
    later = {**headers, "signTimestamp": str(vector["clock_ms"] + 1)}
    assert verifier.verify(method, url, later, body).reason == "bad signature"
    assert verifier.verify(method, url, {**headers, "key": "other"}, body).reason == "unknown key"
    assert verifier.verify(method, url, {**headers, "signTimestamp": "soon"}, body).reason == "bad signTimestamp"


def test_recv_window_header_and_auth_round_trip() -> None:
    """recv_window adds a recvWindow header; PoloniexV3.sign output verifies; a wrong secret fails."""
    auth = PoloniexV3(KEY, SECRET, recv_window=1500, clock=lambda: 1_700_000_000_000 * 1_000_000)
    signed = auth.sign("POST", "https://api.poloniex.com/orders", body=json.dumps(ORDER))
    assert signed.headers["recvWindow"] == "1500"
    assert signed.headers["signTimestamp"] == "1700000000000"
    assert signed.content_type == "application/json"
    assert PoloniexV3Verifier({KEY: SECRET}).verify("POST", signed.url, signed.headers, signed.body)
    assert not PoloniexV3Verifier({KEY: SECRET + "x"}).verify("POST", signed.url, signed.headers, signed.body)
    assert "recvWindow" not in PoloniexV3(KEY, SECRET).sign("GET", "https://api.poloniex.com/orders").headers


# (method, path, params, json body, the target and body the server must receive)
CALLS: list[tuple[str, str, dict[str, str] | None, Any, str, bytes | None]] = [
    ("GET", "/orders", {"symbol": "ETH_USDT", "limit": "5"}, None, "/orders?symbol=ETH_USDT&limit=5", b""),
    ("POST", "/orders", None, ORDER, "/orders", None),
    ("DELETE", "/orders/cancelByIds", None, {"orderIds": ["1234567890"]}, "/orders/cancelByIds", None),
    ("DELETE", "/orders/21934611974062080", None, None, "/orders/21934611974062080", b""),
]


def _check_server(server: SchemeServer, sent_bodies: list[bytes]) -> None:
    assert server.stats.accepted == len(CALLS), [r.answer for r in server.received]
    assert server.stats.rejected == 0
    assert [(r.method, r.path) for r in server.received] == [(c[0], c[4]) for c in CALLS]
    assert [r.body for r in server.received] == sent_bodies
    for r, call in zip(server.received, CALLS, strict=True):
        assert header(r.headers, "key") == KEY
        if call[3] is not None:
            assert json.loads(r.body) == call[3]


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GET with query, POST and DELETE with JSON, DELETE without body: accepted as signed, through every client."""
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET}), window_ms=60_000) as server:
        calls: list[Request] = [
            (method, server.origin + path, {"params": params, "json": body})
            for method, path, params, body, _, _ in CALLS
        ]
        replies = send(client, PoloniexV3(KEY, SECRET), calls)
        assert [r.status for r in replies] == [200] * len(CALLS), replies
        _check_server(server, [r.body for r in server.received])
        assert [r.body for r, call in zip(server.received, CALLS, strict=True) if call[5] is not None] == [b"", b""]


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: the same calls, concurrently, are all accepted (no nonce, no ordering needed)."""
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET}), window_ms=60_000) as server:
        calls: list[Request] = [
            (m, server.origin + p, {"params": q, "json": b}) for m, p, q, b, _, _ in CALLS for _ in range(3)
        ]
        assert [r.status for r in send(client, PoloniexV3(KEY, SECRET), calls, concurrent=True)] == [200] * len(calls)
        assert (server.stats.accepted, server.stats.rejected) == (3 * len(CALLS), 0)


def test_wrong_secret_is_rejected_by_the_server() -> None:
    """A request signed with another secret is answered 401 by the verifying server."""
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET})) as server:
        r = requests.get(server.origin + "/accounts/balances", auth=PoloniexV3(KEY, SECRET + "x"), timeout=5)
        assert r.status_code == 401
        assert server.stats.bad_signature == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        ("GET", "/orders", {"content": b'{"a":1}'}, "query string of a GET"),
        ("POST", "/orders?symbol=BTC_USDT", {"json": ORDER}, "query string would go unsigned"),
        ("POST", "/orders", {"data": {"symbol": "BTC_USDT"}}, "a JSON body"),
        ("POST", "/orders", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid"),
        ("GET", "/orders?signTimestamp=1", {}, "already has signTimestamp"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_sent(method: str, path: str, kwargs: dict[str, Any], message: str) -> None:
    """Unsigned bodies or queries, non-JSON bodies and a caller's signTimestamp raise BodyError before sending."""
    auth = PoloniexV3(KEY, SECRET)
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET})) as server:
        with httpx.Client(auth=auth, base_url=server.origin) as c, pytest.raises(BodyError, match=message):
            c.request(method, path, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, server.origin + path, auth=auth, timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize("recv_window", [0, -5, True, "1500", 1.5])
def test_bad_recv_window_is_a_configuration_error(recv_window: Any) -> None:
    """recv_window must be None or a positive int of milliseconds."""
    with pytest.raises(ConfigurationError, match="recv_window"):
        PoloniexV3(KEY, SECRET, recv_window=recv_window)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the full key; pickling is refused; a deep copy still signs."""
    auth = PoloniexV3(KEY, SECRET, recv_window=1500)
    text = repr(auth)
    assert SECRET not in text
    assert KEY not in text
    assert "recv_window=1500" in text
    assert SECRET not in repr(PoloniexV3Verifier({KEY: SECRET}))
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://api.poloniex.com/orders?symbol=BTC_USDT")
    assert PoloniexV3Verifier({KEY: SECRET}).verify("GET", signed.url, signed.headers, signed.body)


def _encode_uri_component(text: str) -> str:
    """JavaScript's encodeURIComponent, from its specification (ECMA-262 "Encode"): UTF-8 bytes as %XX."""
    unreserved = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()")
    return "".join(c if c in unreserved else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def test_query_values_are_sent_and_signed_as_the_official_sdk_encodes_them() -> None:
    """clientOrderId="a b(1)" goes out and is signed as a%20b(1), as polo-sdk-python does (not a+b%281%29)."""
    auth = PoloniexV3(KEY, SECRET, clock=lambda: 1_700_000_000_000 * 1_000_000)
    signed = auth.sign("GET", "https://api.poloniex.com/orders?symbol=BTC_USDT&clientOrderId=a+b%281%29")
    assert signed.url == "https://api.poloniex.com/orders?symbol=BTC_USDT&clientOrderId=a%20b(1)"
    assert PoloniexV3Verifier({KEY: SECRET}).verify("GET", signed.url, signed.headers, b"")


def test_query_encoding_matches_encode_uri_component_on_random_values() -> None:
    """1000 random values (spaces, reserved and non-ASCII characters) are encoded exactly as encodeURIComponent."""
    rng = random.Random(20261202)
    alphabet = "ab Z09-_.!~*'()+&=%/?#é😀\u00a0"
    for _ in range(1000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        sent_by_requests = urlencode({"v": value})  # what requests and httpx put on the URL
        assert encode_query(sent_by_requests) == "v=" + _encode_uri_component(value), value


@pytest.mark.parametrize("client", CLIENTS)
def test_sdk_encoded_query_end_to_end(client: str) -> None:
    """A GET whose values need encoding is accepted through every client, and arrives as the SDK encodes it."""
    auth = PoloniexV3(KEY, SECRET)
    with SchemeServer(PoloniexV3Verifier({KEY: SECRET}), window_ms=60_000) as server:
        params = {"symbol": "BTC_USDT", "clientOrderId": "a b(1)*'!~é"}
        replies = send(client, auth, [("GET", server.origin + "/orders", {"params": params})])
        assert [r.status for r in replies] == [200], replies
        assert server.received[0].path == "/orders?symbol=BTC_USDT&clientOrderId=a%20b(1)*'!~%C3%A9"


# -- the official SDK's own signatures (tests/vectors/generate_poloniex_v3_sdk.py) ----------------------

SDK_DOC = json.loads((Path(__file__).parent.parent / "vectors" / "poloniex_v3_sdk.json").read_text(encoding="utf-8"))
SDK = SDK_DOC["vectors"]
SDK_IDS = [v["name"] for v in SDK]
#: How each client writes ``params=`` into the URL the auth is handed.
BUILDERS = ["requests", "httpx", "aiohttp"]


def _client_url(builder: str, url: str, params: list[tuple[str, str]]) -> str:
    """The URL ``builder`` makes of ``url`` and ``params=`` (what the auth receives from that client)."""
    if not params:
        return url
    if builder == "requests":
        return str(requests.Request("GET", url, params=params).prepare().url)
    if builder == "httpx":
        return str(httpx.URL(url, params=params))
    assert builder == "aiohttp", builder
    return str(yarl.URL(url).with_query(params))


def _client_order(builder: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` in the order ``builder`` writes them: httpx groups a repeated name at its first place."""
    if builder != "httpx":
        return pairs
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return [(name, value) for name, values in grouped.items() for value in values]


def _sdk_sign(vector: dict[str, Any], url: str, **change: Any) -> Any:
    v = {**vector, **change}
    out = Outgoing(v["method"], url, v["content_type"], v["body"].encode())
    signer = Signer(v["secret"], algorithm="sha256", digest_encoding="base64")
    return RecipeScheme(PoloniexV3.recipe, {"recv_window": None}).sign(
        out, signer, v["key"], None, lambda: v["clock_ms"]
    )


def _pairs(vector: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in vector["params"]]


def test_sdk_vectors_are_pinned_and_self_consistent() -> None:
    """The vector file names the SDK commit, and each recorded signature is the HMAC of the SDK's recorded payload."""
    assert SDK_DOC["sdk_commit"] == "c2f7c623662f5f46f5d2c2a9b1497925d42c9280"
    assert SDK_DOC["sdk_repo"] == "https://github.com/poloniex/polo-sdk-python"
    for v in SDK:
        digest = hmac.new(v["secret"].encode(), v["sdk_message"].encode(), hashlib.sha256).digest()
        assert base64.b64encode(digest).decode() == v["headers"]["signature"], v["name"]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("vector", SDK, ids=SDK_IDS)
def test_sdk_vector_reproduced(vector: dict[str, Any], builder: str) -> None:
    """From each client's URL for the same params, the SDK's exact headers, and the SDK's encoding on the wire."""
    url = _client_url(builder, "https://api.poloniex.com" + vector["path"], _pairs(vector))
    signed = _sdk_sign(vector, url)
    assert signed.headers == vector["headers"]
    assert signed.url == vector["expected_url"]
    assert signed.body == vector["body"].encode()


@pytest.mark.parametrize("vector", SDK, ids=SDK_IDS)
def test_sdk_vector_from_the_url_the_sdk_sends(vector: dict[str, Any]) -> None:
    """The SDK's own wire URL (a+b%281%29) is re-encoded as the SDK signs it, so the SDK's signature results."""
    signed = _sdk_sign(vector, vector["sdk_sent_url"])
    assert (signed.url, signed.headers) == (vector["expected_url"], vector["headers"])


@pytest.mark.parametrize("vector", SDK, ids=SDK_IDS)
def test_sdk_vector_tamper_twins(vector: dict[str, Any]) -> None:
    """One more character in a value, the path, the timestamp, the secret or the method changes the signature."""
    expected = vector["headers"]["signature"]
    url = vector["expected_url"]
    twins: list[tuple[str, dict[str, Any]]] = [
        (url.replace(vector["path"], vector["path"] + "x", 1), {}),
        (url, {"clock_ms": vector["clock_ms"] + 1}),
        (url, {"secret": vector["secret"] + "x"}),
        (url, {"method": "PUT" if vector["method"] != "PUT" else "POST"}),
    ]
    if vector["params"]:
        twins.append((url + "x", {}))
    if vector["body"]:
        twins.append((url, {"body": vector["body"].replace("1", "2", 1)}))
    for twin_url, change in twins:
        assert _sdk_sign(vector, twin_url, **change).headers["signature"] != expected, (twin_url, change)


@pytest.mark.parametrize("vector", SDK, ids=SDK_IDS)
def test_verifier_accepts_the_sdk_signature_on_the_sent_url(vector: dict[str, Any]) -> None:
    """The SDK's headers on the URL the auth sends verify; one more byte in the query or body does not."""
    verifier = PoloniexV3Verifier({vector["key"]: vector["secret"]})
    method, url, headers, body = vector["method"], vector["expected_url"], vector["headers"], vector["body"].encode()
    verdict = verifier.verify(method, url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.timestamp_ms) == (vector["key"], vector["clock_ms"])
    if body:
        assert verifier.verify(method, url, headers, body + b" ").reason == "bad signature"
    else:
        assert verifier.verify(method, url + ("x" if vector["params"] else "?x=1"), headers, body).reason == (
            "bad signature"
        )


def test_values_that_are_not_utf8_keep_their_bytes() -> None:
    """%FF is sent as %FF (never as U+FFFD's %EF%BF%BD); + is a space; lower-case escapes are upper-cased."""
    assert encode_query("v=%FF&w=a+b&x=%e9&y=%zz&&z") == "v=%FF&w=a%20b&x=%E9&y=%25zz&z"


def _reference(path: str, pairs: list[tuple[str, str]], stamp: int) -> tuple[str, str]:
    """The query to send and the signature, from the docs and the SDK's rule, with no code of the package.

    Values are encoded as ECMA-262's encodeURIComponent; the signed parameters are the query's
    plus signTimestamp, sorted by name (a stable sort keeps repeated names in their order).
    """
    query = "&".join(f"{name}={_encode_uri_component(value)}" for name, value in pairs)
    signed = sorted([*pairs, ("signTimestamp", str(stamp))], key=lambda pair: pair[0])
    message = f"GET\n{path}\n" + "&".join(f"{name}={_encode_uri_component(value)}" for name, value in signed)
    digest = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).digest()
    return query, base64.b64encode(digest).decode()


_NAMES = st.text(alphabet=string.ascii_letters + string.digits + "_-.", min_size=1, max_size=8).filter(
    lambda name: name != "signTimestamp"
)
_VALUES = st.one_of(st.text(max_size=12), st.text(alphabet=" ()*'!~+&=%-_.é😀", max_size=12))


@settings(max_examples=1000, deadline=None)
@given(
    pairs=st.lists(st.tuples(_NAMES, _VALUES), max_size=5),
    builder=st.sampled_from(BUILDERS),
    stamp=st.integers(min_value=10**12, max_value=10**13 - 1),
)
def test_property_signature_and_query_match_the_encode_uri_component_reference(
    pairs: list[tuple[str, str]], builder: str, stamp: int
) -> None:
    """For any names and values (repeated names too) and any client's URL, the auth sends and signs the reference."""
    auth = PoloniexV3(KEY, SECRET, clock=lambda: stamp * 1_000_000)
    url = _client_url(builder, "https://api.poloniex.com/orders", pairs)
    signed = auth.sign("GET", url)
    query, signature = _reference("/orders", _client_order(builder, pairs), stamp)
    assert signed.url == "https://api.poloniex.com/orders" + (f"?{query}" if query else "")
    assert signed.headers["signature"] == signature
    assert PoloniexV3Verifier({KEY: SECRET}).verify("GET", signed.url, signed.headers, b"").ok


class _RecordingVerifier(PoloniexV3Verifier):
    """A PoloniexV3Verifier that keeps the URL, body and signed parameters it was given."""

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__(secrets)
        self.seen: list[tuple[str, bytes, bytes]] = []

    def verify(self, method: str, url: str, headers: Any, body: bytes) -> Any:
        received = self.read(method, url, headers, body)
        assert not isinstance(received, Verdict), received
        self.seen.append((url, body, poloniex_v3._params(received.wire)))
        return super().verify(method, url, headers, body)


def _sdk_call(vector: dict[str, Any], origin: str) -> Request:
    kwargs: dict[str, Any] = {"params": _pairs(vector)}
    if vector["body"]:
        kwargs.update(data=vector["body"], headers={"Content-Type": vector["content_type"]})
    return (vector["method"], origin + vector["path"], kwargs)


@pytest.mark.parametrize("client", CLIENTS)
def test_sdk_vectors_end_to_end(client: str) -> None:
    """Every SDK case through every client: accepted, with the SDK's signature, on the SDK's encoding, as verified."""
    verifier = _RecordingVerifier({SDK[0]["key"]: SDK[0]["secret"]})
    with SchemeServer(verifier) as server:
        replies = []
        for v in SDK:
            # One auth per case: each signs at its vector's signTimestamp.
            auth = PoloniexV3(v["key"], v["secret"], clock=lambda v=v: v["clock_ms"] * 1_000_000)
            replies += send(client, auth, [_sdk_call(v, server.origin)])
        assert [r.status for r in replies] == [200] * len(SDK), replies
        got = server.received
        assert [r.path for r in got] == [v["expected_url"].removeprefix("https://api.poloniex.com") for v in SDK]
        assert [header(r.headers, "signature") for r in got] == [v["headers"]["signature"] for v in SDK]
        assert [r.body for r in got] == [v["body"].encode() for v in SDK]
        # What the verifier read is the bytes that arrived, and its signed parameters are the SDK's.
        assert [(url, body) for url, body, _ in verifier.seen] == [(server.origin + r.path, r.body) for r in got]
        assert [params.decode() for _, _, params in verifier.seen] == [v["sdk_message"].split("\n", 2)[2] for v in SDK]
