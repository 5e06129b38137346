"""The Crypto.com Exchange v1 preset: ccxt and docs vectors, verifier, every client end to end, bad input."""

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
from hmac_body_auth.presets.cryptocom import (
    CRYPTOCOM_CLOCK_SYNC,
    CryptoCom,
    CryptoComVerifier,
    cryptocom_param_string,
)
from hmac_body_auth.recipe import Wire
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parents[1] / "vectors" / "cryptocom.json").read_text())[
    "vectors"
]
KEY = "hba-cdc-test-key"
SECRET = "hba-cdc-test-secret-0123456789"
NOW_MS = 1_700_000_000_000
BASE = "https://api.crypto.com/exchange/v1/"
ORDER = {"instrument_name": "BTC_USD", "side": "BUY", "type": "LIMIT", "price": "50000.5", "quantity": "0.01"}


def _sign(vector: dict[str, Any], **change: Any) -> Any:
    v = {**vector, **change}
    options = {name: value for name, value in v["options"].items()}
    auth = CryptoCom(v["key"], v["secret"], clock=lambda: v["clock_ms"] * 1_000_000, **options)
    return auth.sign(v["method"], v["url"], body=v["body"].encode() or None, content_type=v["content_type"])


def _sig(signed: Any) -> str:
    return str(json.loads(signed.body)["sig"])


def _verifier(vector: dict[str, Any] | None = None) -> CryptoComVerifier:
    return CryptoComVerifier({KEY: SECRET} if vector is None else {vector["key"]: vector["secret"]})


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The request objects of ccxt and of the docs exactly: URL, body bytes (sig inside), no headers."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert (signed.url, signed.body) == (expected["url"], expected["body"].encode())
    assert signed.headers == expected["headers"] == {}
    assert _sig(signed) == expected["signature"]


def test_bodiless_call_is_sent_as_json_with_empty_params() -> None:
    """No body: params is {} and the request goes as application/json, same signature as json={}."""
    vector = VECTORS[0]
    auth = CryptoCom(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000)
    bare = auth.sign("POST", vector["url"])
    assert bare.content_type == "application/json"
    assert bare.body == auth.sign("POST", vector["url"], body=b"{}", content_type="application/json").body
    assert json.loads(bare.body)["params"] == {}


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twin(vector: dict[str, Any]) -> None:
    """One changed byte of a param, the method (path), the nonce, the key or the secret changes the signature."""
    good = _sig(_sign(vector))
    fill = vector["options"].get("envelope") == "fill"
    twins: list[dict[str, Any]] = [
        {"clock_ms": vector["clock_ms"] + 1},
        {"secret": "X" + vector["secret"][1:]},
        {"key": vector["key"] + "x"},
    ]
    if not fill:
        twins.append({"url": vector["url"] + "x"})
        twins.append({"options": {"id": 7}})
    if vector["body"] != "{}":
        head, quote, tail = vector["body"].rpartition('":"')  # the last string value: a param's
        twins.append({"body": head + quote + "x" + tail})
    for twin in twins:
        assert _sig(_sign(vector, **twin)) != good, twin


def test_params_are_signed_as_parsed_values_not_bytes() -> None:
    """Key order and JSON spacing do not change the signature (the parameter string is sorted)."""
    auth = CryptoCom(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000)
    url = BASE + "private/create-order"
    one = auth.sign("POST", url, body=json.dumps(ORDER).encode(), content_type="application/json")
    other = dict(reversed(list(ORDER.items())))
    two = auth.sign("POST", url, body=json.dumps(other, indent=2).encode(), content_type="application/json")
    assert _sig(one) == _sig(two)
    assert cryptocom_param_string({"b": "2", "a": ["x", {"d": "4", "c": "3"}]}) == "ax c3d4b2".replace(" ", "")


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vectors_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector, and rejects changed params, another key, no sig, a moved method."""
    expected = vector["expected"]
    verifier = _verifier(vector)
    url, body = expected["url"], expected["body"].encode()
    verdict = verifier.verify("POST", url, {}, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce, verdict.timestamp_ms) == (vector["key"], None, vector["clock_ms"])
    request = json.loads(body)
    tampered = {**request, "nonce": str(int(request["nonce"]) + 1)}
    assert verifier.verify("POST", url, {}, json.dumps(tampered).encode()).reason == "bad signature"
    assert verifier.verify("POST", url, {}, json.dumps({**request, "api_key": "nobody"}).encode()).reason == (
        "unknown key"
    )
    unsigned = {k: v for k, v in request.items() if k != "sig"}
    assert verifier.verify("POST", url, {}, json.dumps(unsigned).encode()).reason == "missing sig"
    moved = url.replace("private/", "private/x-")
    assert verifier.verify("POST", moved, {}, body).reason == "method is not the URL's"
    assert verifier.verify("POST", url, {}, b"not json").reason == "the body is not a JSON request object"
    assert verifier.verify("POST", url, {}, body.replace(b'"api_key"', b'"api_key":"x","api_key"')).reason


def test_verifier_rejects_a_wrong_secret() -> None:
    """A request signed with another secret is a bad signature."""
    signed = CryptoCom(KEY, SECRET + "x").sign("POST", BASE + "private/user-balance")
    assert _verifier().verify("POST", signed.url, {}, signed.body).reason == "bad signature"


@pytest.mark.parametrize(
    ("options", "body"),
    [
        ({}, ORDER),
        ({}, {}),
        ({}, {"b": "2", "a": ["x", {"d": "4", "c": "3"}], "note": 'caf\u00e9 \u2603 \\ " }'}),
        ({"id": 7}, ORDER),
        ({"id": 0}, {"z": "", "": "empty name"}),
        ({"envelope": "fill"}, {"id": 9, "method": "private/create-order", "params": ORDER}),
        ({"envelope": "fill"}, {"params": {"a": ["1", "2"]}, "method": "private/create-order", "id": "12"}),
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_the_signed_message_is_the_one_read_back_from_the_request_object(
    options: dict[str, Any], body: dict[str, Any], indent: int | None
) -> None:
    """The signing side's message (made from the caller's body) is the one the verifier reads from what is sent."""
    auth = CryptoCom(KEY, SECRET, clock=lambda: NOW_MS * 1_000_000, **options)
    data = json.dumps(body, indent=indent, ensure_ascii=indent is None).encode()
    signed = auth.sign("POST", BASE + "private/create-order", body=data, content_type="application/json")
    recipe = CryptoCom.recipe
    assert recipe.envelope is not None
    assert recipe.envelope.message is not None
    sent = Wire("POST", signed.url, signed.body, "application/json", KEY, None, str(NOW_MS), {})
    caller = Wire("POST", signed.url, data, "application/json", KEY, None, str(NOW_MS), auth.lifecycle.scheme.options)
    read_back = recipe.message(sent)  # type: ignore[operator]
    assert recipe.envelope.message(caller) == read_back
    assert _sig(signed) == hmac.new(SECRET.encode(), read_back, hashlib.sha256).hexdigest()
    verdict = _verifier().verify("POST", signed.url, {}, signed.body)
    assert verdict.ok, verdict.reason


def test_fixed_id_is_a_json_number_and_signed() -> None:
    """id=<int> is sent as that number (as the official Rust client does) and signed as its digits."""
    auth = CryptoCom(KEY, SECRET, id=42, clock=lambda: NOW_MS * 1_000_000)
    signed = auth.sign("POST", BASE + "private/get-order-detail", body=b'{"order_id":"1"}')
    assert signed.body.startswith(b'{"id":42,"method":"private/get-order-detail","params":{"order_id":"1"},')
    assert _verifier().verify("POST", signed.url, {}, signed.body)


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """json= params, a nested list, no body at all: accepted as signed through every client, nothing in headers."""
    auth = CryptoCom(KEY, SECRET)
    orders = {"contingency_type": "LIST", "order_list": [ORDER, {**ORDER, "side": "SELL"}]}
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        base = server.origin + "/exchange/v1/private/"
        calls: list[Request] = [
            ("POST", base + "create-order", {"json": {**ORDER, "client_oid": "café-1", "exec_inst": ["POST_ONLY"]}}),
            ("POST", base + "create-order-list", {"json": orders}),
            ("POST", base + "user-balance", {}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * len(calls), replies
        assert (server.stats.accepted, server.stats.rejected) == (len(calls), 0)
        for got, (_, url, _) in zip(server.received, calls, strict=True):
            request = json.loads(got.body)
            assert request["method"] == url.partition("/exchange/v1/")[2]
            assert request["api_key"] == KEY
            assert (header(got.headers, "Content-Type") or "").startswith("application/json")


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_end_to_end(client: str) -> None:
    """The asyncio clients: concurrent calls are all accepted (a timestamp nonce, no ordering needed)."""
    auth = CryptoCom(KEY, SECRET)
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        calls: list[Request] = [("POST", server.origin + "/exchange/v1/private/create-order", {"json": ORDER})] * 8
        assert [r.status for r in send(client, auth, calls, concurrent=True)] == [200] * 8
        assert (server.stats.accepted, server.stats.rejected) == (8, 0)
        assert not auth.ordered


def test_fill_envelope_end_to_end() -> None:
    """envelope="fill": the caller's {id, method, params} gets api_key, nonce and sig, and is accepted."""
    auth = CryptoCom(KEY, SECRET, envelope="fill")
    with SchemeServer(_verifier(), window_ms=60_000) as server:
        url = server.origin + "/exchange/v1/private/get-order-detail"
        body = {"id": 11, "method": "private/get-order-detail", "params": {"order_id": "1"}}
        reply = requests.post(url, json=body, auth=auth, timeout=5)
        assert reply.status_code == 200, reply.text
        sent = json.loads(server.received[0].body)
        assert list(sent) == ["id", "method", "params", "api_key", "nonce", "sig"]
        assert sent["id"] == 11


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        ("GET", "private/user-balance", {"params": {"a": "1"}}, "take POST"),
        ("POST", "private/user-balance", {"params": {"a": "1"}}, "not params="),
        ("POST", "public/get-book", {"json": {}}, "/exchange/v1/private/"),
        ("POST", "private/create-order", {"data": {"a": "1"}}, "not JSON"),
        ("POST", "private/create-order", {"json": ["a"]}, "JSON object"),
        ("POST", "private/create-order", {"json": {"quantity": 1}}, "must be a string"),
        ("POST", "private/create-order", {"json": {"reduce_only": True}}, "must be a string"),
        ("POST", "private/create-order", {"json": {"client_oid": None}}, "must be a string"),
        ("POST", "private/create-order", {"json": {"a": {"b": "c"}}}, "must be a string"),
        ("POST", "private/create-order", {"json": {"a": [{"b": ["c"]}]}}, "must be a string"),
        ("POST", "private/create-order", {"content": b'{"a":"1","a":"2"}'}, "not JSON"),
        # The request object is written around the caller's bytes: they must be UTF-8 JSON.
        ("POST", "private/create-order", {"content": '{"a":"1"}'.encode("utf-16")}, "not JSON"),
        ("POST", "private/create-order", {"content": '{"a":"1"}'.encode("utf-32")}, "not JSON"),
        ("POST", "private/create-order", {"content": b'\xef\xbb\xbf{"a":"1"}'}, "not JSON"),
    ],
)
def test_bad_input_is_refused_before_sending(method: str, path: str, kwargs: dict[str, Any], message: str) -> None:
    """Other methods, a query string, public paths, non-JSON or non-string params raise BodyError; nothing is sent."""
    with SchemeServer(_verifier()) as server:
        url = server.origin + "/exchange/v1/" + path
        with httpx.Client(auth=CryptoCom(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        rkw = {("data" if k == "content" else k): v for k, v in kwargs.items()}
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=CryptoCom(KEY, SECRET), timeout=5, **rkw)
        assert server.received == []


@pytest.mark.parametrize(
    "body",
    [
        {"method": "private/get-order-detail", "params": {}},
        {"id": 1, "method": "private/get-order-detail", "params": {}, "api_key": "x"},
        {"id": 1, "method": "private/user-balance", "params": {}},
        {"id": -1, "method": "private/get-order-detail", "params": {}},
    ],
)
def test_fill_envelope_needs_exactly_the_docs_object(body: dict[str, Any]) -> None:
    """envelope="fill" refuses a body without id, with members the auth adds, another method, a negative id."""
    auth = CryptoCom(KEY, SECRET, envelope="fill")
    with pytest.raises(BodyError):
        auth.sign("POST", BASE + "private/get-order-detail", body=json.dumps(body).encode())


def test_demo_signs_for_the_uat_sandbox_only() -> None:
    """demo=True signs for uat-api.3ona.co and refuses the production host."""
    auth = CryptoCom(KEY, SECRET, demo=True)
    assert auth.sign("POST", "https://uat-api.3ona.co/exchange/v1/private/user-balance").body
    with pytest.raises(BodyError, match="UAT"):
        auth.sign("POST", BASE + "private/user-balance")


@pytest.mark.parametrize(
    "options",
    [
        {"id": -1},
        {"id": 2**63},
        {"id": True},
        {"id": "1"},
        {"envelope": "wrap"},
        {"demo": 1},
        {"envelope": "fill", "id": 3},
    ],
)
def test_invalid_options_are_configuration_errors(options: dict[str, Any]) -> None:
    """id, envelope and demo are checked at construction; fill takes its id from the body."""
    with pytest.raises(ConfigurationError):
        CryptoCom(KEY, SECRET, **options)


def test_fixed_options_and_bad_key_are_refused() -> None:
    """The algorithm, encodings and nonce are fixed; no passphrase; a key with a newline is refused."""
    for option in ({"algorithm": "sha512"}, {"nonce": lambda: 1}, {"digest_encoding": "base64"}):
        with pytest.raises(ConfigurationError, match="fixes"):
            CryptoCom(KEY, SECRET, **option)
    with pytest.raises(TypeError, match="passphrase"):
        CryptoCom(KEY, SECRET, passphrase="x")
    with pytest.raises(ConfigurationError):
        CryptoCom(KEY + "\n", SECRET)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; a deep copy still signs."""
    auth = CryptoCom(KEY, SECRET, id=5)
    text = repr(auth) + repr(auth.scheme) + repr(_verifier())
    assert SECRET not in text
    assert KEY not in text
    assert "id=5" in repr(auth)
    with pytest.raises(TypeError):
        pickle.dumps(auth)
    signed = copy.deepcopy(auth).sign("POST", BASE + "private/user-balance")
    assert _verifier().verify("POST", signed.url, {}, signed.body)


INVALID_NONCE = b'{"id":"1","method":"private/get-order-detail","code":"40102","message":"INVALID_NONCE"}'


def test_clock_sync_reads_code_40102_with_status_400_only() -> None:
    """40102 (string or int) with HTTP 400 is a timestamp refusal; another code, status or shape is not."""
    sync = CRYPTOCOM_CLOCK_SYNC
    assert sync.parse(400, INVALID_NONCE, NOW_MS) == TimestampRejection(None)
    assert sync.parse(400, INVALID_NONCE.replace(b'"40102"', b"40102"), NOW_MS) == TimestampRejection(None)
    assert sync.parse(400, b'{"code":40102}', NOW_MS) == TimestampRejection(None)
    for status, body in [
        (401, INVALID_NONCE),
        (200, INVALID_NONCE),
        (400, INVALID_NONCE.replace(b"40102", b"40101")),
        (400, INVALID_NONCE.replace(b'"40102"', b'"40102 "')),
        (400, INVALID_NONCE.replace(b'"40102"', b"40102.0")),
        (400, INVALID_NONCE.replace(b'"message":"INVALID_NONCE"', b'"message":1')),
        (400, INVALID_NONCE[:-1] + b',"result":{}}'),
        (400, b'{"code":"10007","message":"INVALID_NONCE"}'),
        (400, b"INVALID_NONCE 40102"),
    ]:
        assert sync.parse(status, body, NOW_MS) is None, (status, body)
    assert (sync.time_path, sync.window_ms) == (None, 60_000)
    assert CryptoCom(KEY, SECRET).lifecycle.clock_sync == sync
    assert CryptoCom(KEY, SECRET, clock_sync=False).lifecycle.clock_sync is None
