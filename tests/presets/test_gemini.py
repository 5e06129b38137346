"""The Gemini preset: documented and ccxt vectors, verifier, real clients, nonce order, bad input, hygiene."""

from __future__ import annotations

import base64
import itertools
import json
import pickle
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.gemini import Gemini, GeminiVerifier, gemini_nonce_error
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, send

ALL = json.loads(Path(__file__).parents[1].joinpath("vectors", "gemini.json").read_text())["vectors"]
CCXT = [v for v in ALL if "verify" not in v["compare"]]
DOCS = next(v for v in ALL if v["name"] == "gemini-docs-order-status")
KEY = "HBA-GEMINI-TEST-KEY"
SECRET = "hba-gemini-test-secret-0123456789"
ORDER = {"symbol": "btcusd", "amount": "0.001", "price": "30000", "side": "buy", "type": "exchange limit"}


def _sign(vector: dict[str, Any]) -> Any:
    nonce = vector["nonce"]
    auth = Gemini(vector["key"], vector["secret"], nonce=lambda: nonce, ordered=False)
    return auth.sign(vector["method"], vector["url"], body=vector["body"].encode(), content_type=vector["content_type"])


def test_documented_example_signature_and_verifier() -> None:
    """The signer reproduces the docs' signature of their payload, and the verifier accepts that request."""
    expected = DOCS["expected"]
    headers = expected["headers"]
    auth = Gemini(DOCS["key"], DOCS["secret"])
    assert headers["X-GEMINI-PAYLOAD"].startswith("ewogICAgInJlcXVlc3QiOiAiL3YxL29yZGVyL3N")  # as printed in the docs
    assert auth.signer.sign(headers["X-GEMINI-PAYLOAD"].encode()) == headers["X-GEMINI-SIGNATURE"]
    verdict = GeminiVerifier({DOCS["key"]: DOCS["secret"]}).verify("POST", expected["url"], headers, b"")
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce) == (DOCS["key"], 123456)


def test_documented_example_tamper_twins() -> None:
    """A one-byte change of the payload, the secret or the path makes the docs' request fail verification."""
    expected = DOCS["expected"]
    headers = expected["headers"]
    verifier = GeminiVerifier({DOCS["key"]: DOCS["secret"]})
    payload = base64.b64encode(DOCS["payload"].replace("18834", "18835").encode()).decode()
    assert verifier.verify("POST", expected["url"], {**headers, "X-GEMINI-PAYLOAD": payload}, b"").reason == (
        "bad signature"
    )
    assert not GeminiVerifier({DOCS["key"]: "1234abce"}).verify("POST", expected["url"], headers, b"")
    wrong_path = expected["url"].replace("/status", "/cancel")
    assert verifier.verify("POST", wrong_path, headers, b"").reason == "payload request does not match the URL path"


@pytest.mark.parametrize("vector", CCXT, ids=[v["name"] for v in CCXT])
def test_ccxt_vector_reproduced(vector: dict[str, Any]) -> None:
    """The scheme reproduces ccxt's URL, key, payload and signature headers byte for byte (the body stays empty)."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert signed.url == expected["url"]
    assert {k: signed.headers[k] for k in expected["headers"]} == expected["headers"]
    assert set(signed.headers) - set(expected["headers"]) == {"Cache-Control"}
    assert signed.content_type == expected["content_type"] == "text/plain"
    # ccxt also sends the parameters as a JSON body; Gemini's docs say the body is empty, and so is ours.
    assert signed.body == b""


@pytest.mark.parametrize("vector", CCXT, ids=[v["name"] for v in CCXT])
def test_ccxt_vector_tamper_twins(vector: dict[str, Any]) -> None:
    """Changing one byte of a parameter, the path, the nonce or the secret changes payload or signature."""
    good = _sign(vector).headers["X-GEMINI-SIGNATURE"]
    twins = [
        {**vector, "body": vector["body"][:-1] + ',"x":1}' if vector["body"] else '{"x":1}'},
        {**vector, "url": vector["url"] + "s"},
        {**vector, "nonce": str(int(vector["nonce"]) + 1)},
        {**vector, "secret": "H" + vector["secret"][1:]},
    ]
    for twin in twins:
        assert _sign(twin).headers["X-GEMINI-SIGNATURE"] != good


@pytest.mark.parametrize("vector", CCXT, ids=[v["name"] for v in CCXT])
def test_verifier_accepts_ccxt_requests_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts ccxt's request as sent; a changed path, signature or key is rejected."""
    expected = vector["expected"]
    verifier = GeminiVerifier({vector["key"]: vector["secret"]})
    headers = expected["headers"]
    verdict = verifier.verify("POST", expected["url"], headers, expected["body"].encode())
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce) == (vector["key"], int(vector["nonce"]))
    forged = {**headers, "X-GEMINI-SIGNATURE": "0" + headers["X-GEMINI-SIGNATURE"][1:]}
    assert verifier.verify("POST", expected["url"], forged, b"").reason == "bad signature"
    assert not verifier.verify("POST", expected["url"] + "x", headers, b"")
    assert verifier.verify("POST", expected["url"], {**headers, "X-GEMINI-APIKEY": "x"}, b"").reason == "unknown key"


def test_payload_keeps_parameters_as_written_after_request_and_nonce() -> None:
    """Parameters from the JSON body follow request and nonce in the payload, their bytes unchanged."""
    nonces = iter([5])
    auth = Gemini(KEY, SECRET, nonce=lambda: next(nonces))
    signed = auth.sign("POST", "https://api.gemini.com/v1/order/new", body=b'{ "symbol": "btcusd", "amount": 1.10 }')
    payload = base64.b64decode(signed.headers["X-GEMINI-PAYLOAD"])
    assert payload == b'{"request":"/v1/order/new","nonce":5,"symbol": "btcusd", "amount": 1.10}'
    assert (signed.body, signed.content_type, signed.headers["Cache-Control"]) == (b"", "text/plain", "no-cache")


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """Every client sends empty-body POSTs (the request in a header) the strict server accepts, as signed."""
    nonces = itertools.count(1_700_000_000_000)
    auth = Gemini(KEY, SECRET, nonce=lambda: next(nonces))
    with SchemeServer(GeminiVerifier({KEY: SECRET})) as server:
        url = server.origin + "/v1/order/new"
        balances = server.origin + "/v1/balances"
        replies = send(
            client, auth, [("POST", url, {"json": ORDER}), ("POST", balances, {}), ("POST", url, {"json": ORDER})]
        )
        assert [r.status for r in replies] == [200] * 3, replies
        assert (server.stats.accepted, server.stats.rejected) == (3, 0)
        for got, nonce in zip(server.received, itertools.count(1_700_000_000_000), strict=False):
            assert got.body == b""
            assert header(got.headers, "Content-Length") == "0"
            assert header(got.headers, "Content-Type") == "text/plain"
            assert header(got.headers, "X-GEMINI-APIKEY") == KEY
            fields = json.loads(base64.b64decode(header(got.headers, "X-GEMINI-PAYLOAD") or ""))
            params = {} if got.path.endswith("/balances") else ORDER
            assert fields == {"request": got.path, "nonce": nonce, **params}


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_threads_and_tasks_have_no_nonce_rejections(client: str) -> None:
    """4 threads x 10 requests and 10 concurrent asyncio tasks with the default nonce: zero rejections."""
    key = "HBA-GEMINI-CONCURRENT"
    with SchemeServer(GeminiVerifier({key: SECRET})) as server:
        url = server.origin + "/v1/order/new"
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                with requests.Session() as session:
                    for _ in range(10):
                        assert session.post(url, json=ORDER, auth=Gemini(key, SECRET), timeout=5).status_code == 200
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors

        replies = send(client, Gemini(key, SECRET), [("POST", url, {"json": ORDER})] * 10, concurrent=True)
        assert [r.status for r in replies] == [200] * 10
        assert (server.stats.accepted, server.stats.bad_nonce, server.stats.rejected) == (50, 0, 0)


@pytest.mark.parametrize("client", CLIENTS)
def test_invalid_nonce_answer_is_resigned_once(client: str) -> None:
    """Gemini's 400 ``InvalidNonce`` answer makes the auth re-sign once with a fresh, higher nonce."""
    calls = itertools.count()

    def handler(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if next(calls) == 0:
            return 400, {"result": "error", "reason": "InvalidNonce", "message": "Nonce '10' has not increased"}
        return 200, {"result": "ok"}

    with SchemeServer(GeminiVerifier({KEY: SECRET}), handler=handler) as server:
        nonces = iter([10, 11, 12])
        (reply,) = send(
            client, Gemini(KEY, SECRET, nonce=lambda: next(nonces)), [("POST", server.origin + "/v1/balances", {})]
        )
        assert json.loads(reply.text) == {"result": "ok"}
        payloads = [json.loads(base64.b64decode(header(r.headers, "X-GEMINI-PAYLOAD") or "")) for r in server.received]
        assert [p["nonce"] for p in payloads] == [10, 11]


def test_nonce_error_parser_only_matches_the_error_answer() -> None:
    """The parser recognises InvalidNonce/BadNonce error answers only."""
    assert gemini_nonce_error(400, b'{"result":"error","reason":"InvalidNonce","message":"x"}') == 0
    assert gemini_nonce_error(400, b'{"result":"error","reason":"BadNonce","message":"x"}') == 0
    assert gemini_nonce_error(200, b'{"result":"error","reason":"InvalidNonce"}') is None
    assert gemini_nonce_error(400, b'{"result":"error","reason":"InvalidSignature","message":"Nonce"}') is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "GET"}, "POST"),
        ({"method": "POST", "params": {"symbol": "btcusd"}}, "payload"),
        ({"method": "POST", "data": {"symbol": "btcusd"}}, "JSON object"),
        ({"method": "POST", "json": ["btcusd"]}, "JSON object"),
        ({"method": "POST", "json": {"nonce": 1}}, "already have 'nonce'"),
        ({"method": "POST", "json": {"request": "/v1/other"}}, "already have 'request'"),
    ],
)
def test_bad_input_is_refused_before_sending(kwargs: dict[str, Any], message: str) -> None:
    """GET, query strings, forms, non-object JSON and reserved fields raise BodyError; nothing is sent."""
    with SchemeServer(GeminiVerifier({KEY: SECRET})) as server:
        url = server.origin + "/v1/order/new"
        method = kwargs.pop("method")
        with httpx.Client(auth=Gemini(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=Gemini(KEY, SECRET), timeout=5, **kwargs)
        assert server.received == []


def test_configuration_errors() -> None:
    """Fixed options and a bad key fail at construction."""
    with pytest.raises(ConfigurationError, match="fixes"):
        Gemini(KEY, SECRET, algorithm="sha256")
    with pytest.raises(ConfigurationError):
        Gemini("", SECRET)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; requests are ordered."""
    auth = Gemini(KEY, SECRET)
    text = repr(auth) + repr(GeminiVerifier({KEY: SECRET})) + repr(auth.scheme)
    assert SECRET not in text
    assert KEY not in text
    assert auth.ordered
    with pytest.raises(TypeError):
        pickle.dumps(auth)
