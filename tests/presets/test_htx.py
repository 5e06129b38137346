"""The HTX (Huobi) spot preset: the official SDK's vectors, verifier, every client against a real server, bad input."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_from_bytes, unquote_to_bytes, urlsplit

import httpx
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from hmac_body_auth import TimestampRejection
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.htx import HTX, HTX_CLOCK_SYNC, HTXVerifier, _recode
from hmac_body_auth.recipe import ISO_SECONDS, Wire, percent_encoded
from hmac_body_auth.testing import SchemeServer, VerifyingServer

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "htx.json").read_text())["vectors"]
KEY = "hba-test-htx-access-key"
SECRET = "hba-test-htx-secret-key-0123456789"
NOW_MS = 1_700_000_000_000
ORDER = {"account-id": "100009", "amount": "10.1", "price": "100.1", "symbol": "ethusdt", "type": "buy-limit"}
AUTH_PARAMS = ["AccessKeyId", "SignatureVersion", "SignatureMethod", "Timestamp", "Signature"]
# The docs' pre-signed text (huobiapi/docs v1_en, "Authentication", step 6).
DOCS_PRESIGNED = (
    "GET\napi.huobi.pro\n/v1/order/orders\n"
    "AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256&SignatureVersion=2"
    "&Timestamp=2017-05-11T15%3A19%3A30&order-id=1234567890"
)


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    auth = HTX(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000)
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _signature(signed: Any) -> str:
    return str(dict(parse_qsl(urlsplit(signed.url).query))["Signature"])


def _presigned(method: str, url: str) -> str:
    """The text the recipe signs for a URL as sent (its Signature left out by the part)."""
    wire = Wire(method, url, b"", None, None, None, None, {})
    signed_query = HTX.recipe.parts["signed_query"](wire)
    assert isinstance(signed_query, bytes)
    return f"{method}\n{wire.host}\n{wire.path}\n{signed_query.decode()}"


def _verifier(vector: dict[str, Any] | None = None) -> HTXVerifier:
    return HTXVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]})


def test_timestamp_is_iso_seconds_without_a_zone() -> None:
    """Milliseconds are truncated and no zone is written, as the docs' 2017-05-11T15:19:30; the parser is exact."""
    assert ISO_SECONDS.format(1494515970999) == "2017-05-11T15:19:30"
    assert ISO_SECONDS.parse("2017-05-11T15:19:30") == 1494515970000
    for text in ("2017-05-11T15:19:30Z", "2017-05-11T15:19:30.000", "2017-05-11 15:19:30", "2017-13-11T15:19:30"):
        assert ISO_SECONDS.parse(text) is None, text
    assert ISO_SECONDS.parse("٢٠١٧-05-11T15:19:30") is None


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The SDK's URL (parameters in its order, percent-encoded), body and (no) headers exactly; its pre-signed text."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body, signed.headers) == (expected["url"], expected["body"].encode(), {})
    assert signed.content_type is None  # a GET goes without one; a POST keeps the caller's application/json
    assert _signature(signed) == expected["signature"]
    assert _presigned(vector["method"], signed.url) == expected["prehash"]
    if vector["key"].startswith("e2xxxxxx"):
        assert expected["prehash"] == DOCS_PRESIGNED


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of the path, query, host, method, timestamp (second) or secret changes the signature."""
    good = _signature(_sign(vector))
    url = vector["url"]
    twins: list[dict[str, Any]] = [
        {"url": url.replace("/v1/", "/v2/").replace("/v2/sub", "/v1/sub")},
        {"url": url + ("&a=1" if "?" in url else "?a=1")},
        {"url": url.replace("api.huobi.pro", "api-aws.huobi.pro")},
        {"method": "POST" if vector["method"] == "GET" else "GET", "body": "", "content_type": None},
        {"clock_ms": vector["clock_ms"] + 1000},
        {"secret": "H" + vector["secret"][1:]},
    ]
    for twin in twins:
        assert _signature(_sign(vector, **twin)) != good, twin


#: Bytes that matter to the encoders (escapes, "+", the unreserved set's edges, UTF-8, NUL) and any others.
_QUERY_BYTES = st.binary(max_size=24) | st.lists(
    st.sampled_from(
        [
            b"a",
            b"Z",
            b"0",
            b"-",
            b".",
            b"_",
            b"~",
            b"%",
            b"%2",
            b"%2B",
            b"%zz",
            b"+",
            b" ",
            b"=",
            b"&",
            b":",
            b"/",
            b"\xc3\xa9",
            b"\xff",
            b"\x00",
        ]
    ),
    max_size=12,
).map(b"".join)


@given(_QUERY_BYTES)
def test_percent_encoding_is_the_standard_librarys(data: bytes) -> None:
    """The engine's percent-encoding is quote_from_bytes(safe=""), byte for byte."""
    assert percent_encoded(data) == quote_from_bytes(data, safe="").encode("ascii")


@given(_QUERY_BYTES)
def test_query_values_are_recoded_as_the_sdk_does(text: bytes) -> None:
    """A query name or value is decoded as a form value, then encoded with %20 and upper-case hex (the SDK's way)."""
    assert _recode(text) == quote_from_bytes(unquote_to_bytes(text.replace(b"+", b" ")), safe="")


def test_the_body_is_not_signed() -> None:
    """A POST's JSON body is not part of the signature (the docs); the same call with another body signs the same."""
    vector = next(v for v in VECTORS if v["method"] == "POST")
    other = _sign(vector, body=json.dumps({**json.loads(vector["body"]), "amount": "99"}))
    assert _signature(other) == vector["expected"]["signature"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector as sent, and rejects another query, path, host, key or time, no signature."""
    expected = vector["expected"]
    verifier = _verifier(vector)
    method, url, body = vector["method"], expected["url"], expected["body"].encode()
    verdict = verifier.verify(method, url, {}, body)
    assert verdict.ok, verdict.reason
    whole_seconds = vector["clock_ms"] // 1000 * 1000
    assert (verdict.key, verdict.nonce, verdict.timestamp_ms) == (vector["key"], None, whole_seconds)
    stamp = expected["url"].partition("&Timestamp=")[2].partition("&")[0]
    for tampered in (
        url.replace("?", "?x=1&", 1),
        url.replace("/v", "/V", 1),
        url.replace("api.huobi.pro", "api-aws.huobi.pro"),
        url.replace(stamp, stamp[:-1] + ("1" if stamp[-1] != "1" else "2")),
    ):
        assert verifier.verify(method, tampered, {}, body).reason == "bad signature", tampered
    assert verifier.verify(method, url.replace("AccessKeyId=", "AccessKeyId=x"), {}, body).reason == "unknown key"
    assert verifier.verify(method, url.replace("SignatureVersion=2", "SignatureVersion=3"), {}, body).reason == (
        "bad SignatureVersion"
    )
    assert verifier.verify(method, url.replace("HmacSHA256", "HmacSHA1"), {}, body).reason == "bad SignatureMethod"
    assert verifier.verify(method, url.replace("%3A", ":", 1), {}, body)  # the server decodes the query
    assert verifier.verify(method, url.rpartition("&Signature=")[0], {}, body).reason == "missing Signature"
    assert HTXVerifier({vector["key"]: "other"}).verify(method, url, {}, body).reason == "bad signature"


def test_the_verifier_reads_the_query_as_the_server_does() -> None:
    """Parameters in another order, a space as + or %20: the decoded parameters are what is signed."""
    auth = HTX(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000)
    signed = auth.sign("GET", "https://api.huobi.pro/v1/order/orders?symbol=ethusdt&note=a%20b")
    base, _, query = signed.url.partition("?")
    pieces = query.split("&")
    reordered = "&".join([*reversed(pieces[:-1]), pieces[-1]]).replace("a%20b", "a+b")
    assert _verifier().verify("GET", f"{base}?{reordered}", {}, b"")


def _check_received(server: VerifyingServer, expected: list[str]) -> None:
    assert (server.stats.accepted, server.stats.rejected) == (len(expected), 0), [r.answer for r in server.received]
    assert [r.method for r in server.received] == expected
    for got in server.received:
        names = [name for name, _ in parse_qsl(urlsplit(got.path).query)]
        assert names[-5:] == AUTH_PARAMS
        assert not {"accesskeyid", "signature", "timestamp"} & {h.lower() for h in got.headers}


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """GETs with and without parameters (odd characters too) and a POST with json=: accepted as signed."""
    auth = HTX(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin
        calls: list[Request] = [
            ("GET", base + "/v1/account/accounts", {}),
            ("GET", base + "/v1/order/openOrders", {"params": {"symbol": "btcusdt", "size": "10"}}),
            ("GET", base + "/v1/order/orders", {"params": {"states": "filled,canceled", "note": "a b é~*:+/"}}),
            ("POST", base + "/v1/order/orders/place", {"json": ORDER}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        _check_received(server, ["GET", "GET", "GET", "POST"])
        assert json.loads(server.received[3].body) == ORDER


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent GETs and POSTs are all accepted (no nonce, no ordering needed)."""
    auth = HTX(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("GET", server.origin + "/v1/order/openOrders", {"params": {"symbol": "ethusdt"}})] * 5
        calls += [("POST", server.origin + "/v1/order/orders/place", {"json": ORDER})] * 5
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 10
        assert (server.stats.accepted, server.stats.rejected) == (10, 0)
        assert not auth.ordered


@pytest.mark.parametrize(
    ("method", "kwargs", "message"),
    [
        ("GET", {"content": b'{"a":1}'}, "query string, not a body"),
        ("POST", {"data": {"symbol": "ethusdt"}}, "JSON body"),
        ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, "not valid JSON"),
        ("DELETE", {"params": {"order-id": "1"}}, "take GET/POST"),
        ("PUT", {"json": ORDER}, "take GET/POST"),
        ("GET", {"params": {"Signature": "x"}}, "already has a 'Signature'"),
        ("GET", {"params": {"Timestamp": "2017-05-11T15:19:30"}}, "already has a 'Timestamp'"),
        ("POST", {"params": {"AccessKeyId": "k"}, "json": ORDER}, "already has a 'AccessKeyId'"),
    ],
)
def test_bad_input_is_refused_before_sending(method: str, kwargs: dict[str, Any], message: str) -> None:
    """A GET body, form or invalid JSON bodies, other methods, the auth's own parameters: BodyError, nothing sent."""
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/v1/order/orders"
        with httpx.Client(auth=HTX(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=HTX(KEY, SECRET), timeout=5, **rkw)
        assert server.received == []


def test_fixed_options_and_bad_key_are_refused() -> None:
    """Algorithm, encodings and nonce are fixed; no passphrase; a key with whitespace or a bad clock_sync is refused."""
    for option in ({"algorithm": "sha512"}, {"nonce": lambda: 1}, {"digest_encoding": "hex"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            HTX(KEY, SECRET, **option)
    with pytest.raises(TypeError, match="passphrase"):
        HTX(KEY, SECRET, passphrase="x")
    with pytest.raises(ConfigurationError) as info:
        HTX(KEY + "\n", SECRET)
    assert KEY not in str(info.value)
    with pytest.raises(ConfigurationError, match="clock_sync"):
        HTX(KEY, SECRET, clock_sync="yes")


def test_a_key_that_needs_encoding_is_percent_encoded() -> None:
    """AccessKeyId goes in percent-encoded (as the signed text has it), and the verifier reads the key back."""
    key = "k&y=1+2"
    signed = HTX(key, SECRET, clock=lambda: NOW_MS * 1_000_000).sign("GET", "https://api.huobi.pro/v1/account/accounts")
    assert "AccessKeyId=k%26y%3D1%2B2&" in signed.url
    verdict = HTXVerifier({key: SECRET}).verify("GET", signed.url, {}, b"")
    assert (verdict.ok, verdict.key) == (True, key)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = HTX(KEY, SECRET)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("GET", "https://api.huobi.pro/v1/account/accounts")
    assert _verifier().verify("GET", signed.url, signed.headers, signed.body)


# The documented answer (Huobi's REST_authentication page, response code 12001; ccxt/ccxt#25931).
STALE = (
    '{"status":"error","err-code":"api-signature-not-valid","err-msg":"Signature not valid: Invalid submission '
    'time or incorrect time format [无效的提交时间\uff0c或时间格式错误]","data":null}'
).encode()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, STALE.replace(b"Invalid submission time or incorrect time format", b"Verification failure")),
        (200, STALE.replace("\uff0c".encode(), b",")),
        # The older servers' text (huobiapi/REST-API-demos#4, 2018): not the documented one, so not read.
        (
            200,
            STALE.replace(b"Invalid submission time or incorrect time format [", b"").replace(
                "\uff0c或时间格式错误]".encode(), b""
            ),
        ),
        (200, STALE.replace(b"api-signature-not-valid", b"api-signature-check-failed")),
        (200, STALE.replace(b'"status":"error"', b'"status":"ok"')),
        (200, STALE.replace(b'"data":null', b'"data":{}')),
        (200, STALE.replace(b'"data":null', b'"data":null,"ts":1700000000000')),
        (200, STALE.replace(b',"data":null', b"")),
        (200, STALE.replace(b'"status":"error",', b"")),
        (200, STALE.replace(b'"err-code"', b'"err-code":"x","err-code"')),
        (200, b"[" + STALE + b"]"),
        (400, STALE),
        (401, STALE),
        (200, b'{"status":"ok","data":"Signature not valid: Invalid submission time or incorrect time format"}'),
    ],
)
def test_clock_sync_near_misses_are_not_a_refusal(status: int, body: bytes) -> None:
    """A bad signature or key (same err-code), another text, status, shape or member: not a timestamp refusal."""
    assert HTX_CLOCK_SYNC.parse(status, body, NOW_MS) is None


def test_clock_sync_reads_the_documented_answer_and_the_time_endpoint() -> None:
    """The 12001 answer with HTTP 200 is a refusal; GET /v1/common/timestamp gives the time."""
    assert HTX_CLOCK_SYNC.parse(200, STALE, NOW_MS) == TimestampRejection(None)
    assert HTX_CLOCK_SYNC.parse(200, STALE, None) == TimestampRejection(None)
    assert HTX(KEY, SECRET).lifecycle.clock_sync is HTX_CLOCK_SYNC
    assert HTX(KEY, SECRET, clock_sync=False).lifecycle.clock_sync is None
    assert (HTX_CLOCK_SYNC.time_path, HTX_CLOCK_SYNC.window_ms) == ("/v1/common/timestamp", 60_000)
    assert HTX_CLOCK_SYNC.read_server_time(200, b'{"status":"ok","data":1494900087029}') == 1_494_900_087_029 * 10**6
    for body in (
        b'{"data":1494900087029}',
        b'{"status":"error","data":1494900087029}',
        b'{"status":"ok","data":"1494900087029"}',
        b'{"status":"ok","data":1.5e12}',
        b'{"status":"ok","data":-1}',
        b'{"status":"ok","data":true}',
    ):
        assert HTX_CLOCK_SYNC.read_server_time(200, body) is None, body
