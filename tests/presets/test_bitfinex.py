"""The Bitfinex preset: recipe and ccxt vectors, verifier, real clients, nonce order, bad input, hygiene."""

from __future__ import annotations

import itertools
import json
import pickle
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hmac_body_auth._core import Outgoing
from hmac_body_auth.errors import BodyError, ConfigurationError
from hmac_body_auth.presets.bitfinex import Bitfinex, BitfinexVerifier, bitfinex_nonce_error
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, send

VECTORS = json.loads(Path(__file__).parents[1].joinpath("vectors", "bitfinex.json").read_text())["vectors"]
KEY = "HBA-BITFINEX-TEST-KEY"
SECRET = "hba-bitfinex-test-secret-0123456789"
SUBMIT = "/v2/auth/w/order/submit"
ORDER = {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.001", "price": "30000"}


def _sign(vector: dict[str, Any]) -> Any:
    nonce = vector["nonce"]
    auth = Bitfinex(vector["key"], vector["secret"], nonce=lambda: nonce, ordered=False)
    return auth.sign(vector["method"], vector["url"], body=vector["body"].encode(), content_type=vector["content_type"])


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The scheme reproduces the recipe / ccxt URL, body, headers and Content-Type byte for byte."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert signed.url == expected["url"]
    assert signed.body == expected["body"].encode()
    assert signed.headers == expected["headers"]
    assert signed.content_type == expected["content_type"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twins(vector: dict[str, Any]) -> None:
    """Changing one byte of the body, the path, the nonce or the secret changes the signature."""
    good = _sign(vector).headers["bfx-signature"]
    twins = [
        {**vector, "body": (vector["body"] or "{}").replace("}", " }")},
        {**vector, "url": vector["url"].replace("/auth/", "/autH/")},
        {**vector, "nonce": vector["nonce"] + 1},
        {**vector, "secret": "H" + vector["secret"][1:]},
    ]
    for twin in twins:
        assert _sign(twin).headers["bfx-signature"] != good


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vector_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector's request as sent and rejects a changed body, path or nonce."""
    expected = vector["expected"]
    verifier = BitfinexVerifier({vector["key"]: vector["secret"]})
    url, headers, body = expected["url"], expected["headers"], expected["body"].encode()
    verdict = verifier.verify("POST", url, headers, body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce) == (vector["key"], vector["nonce"])
    assert verifier.verify("POST", url, headers, body + b" ").reason == "bad signature"
    assert verifier.verify("POST", url + "x", headers, body).reason == "bad signature"
    bumped = {**headers, "bfx-nonce": str(vector["nonce"] + 1)}
    assert verifier.verify("POST", url, bumped, body).reason == "bad signature"
    assert verifier.verify("POST", url, {**headers, "bfx-apikey": "nobody"}, body).reason == "unknown key"


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """Every client sends JSON POSTs (and one without a body) the strict server accepts, exactly as signed."""
    nonces = itertools.count(1_700_000_000_000_000)
    auth = Bitfinex(KEY, SECRET, nonce=lambda: next(nonces))
    with SchemeServer(BitfinexVerifier({KEY: SECRET})) as server:
        url = server.origin + SUBMIT
        wallets = server.origin + "/v2/auth/r/wallets"
        replies = send(
            client, auth, [("POST", url, {"json": ORDER}), ("POST", wallets, {}), ("POST", url, {"json": ORDER})]
        )
        assert [r.status for r in replies] == [200] * 3, replies
        assert (server.stats.accepted, server.stats.rejected) == (3, 0)
        for got, nonce in zip(server.received, itertools.count(1_700_000_000_000_000), strict=False):
            body = b"" if got.path.endswith("/wallets") else got.body
            want = auth.scheme.sign(
                Outgoing("POST", server.origin + got.path, None, body), auth.signer, KEY, nonce, int
            )
            assert got.body == want.body
            assert json.loads(got.body) == ({} if got.path.endswith("/wallets") else ORDER)
            assert header(got.headers, "bfx-signature") == want.headers["bfx-signature"]
            assert header(got.headers, "bfx-nonce") == str(nonce)
            # (niquests labels a json= body "application/json;charset=utf-8")
            assert (header(got.headers, "Content-Type") or "").partition(";")[0] == "application/json"


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_threads_and_tasks_have_no_nonce_rejections(client: str) -> None:
    """4 threads x 10 requests and 10 concurrent asyncio tasks with the default nonce: zero rejections."""
    key = "HBA-BITFINEX-CONCURRENT"
    with SchemeServer(BitfinexVerifier({key: SECRET})) as server:
        url = server.origin + SUBMIT
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                with requests.Session() as session:
                    for _ in range(10):
                        assert session.post(url, json=ORDER, auth=Bitfinex(key, SECRET), timeout=5).status_code == 200
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        replies = send(client, Bitfinex(key, SECRET), [("POST", url, {"json": ORDER})] * 10, concurrent=True)
        assert [r.status for r in replies] == [200] * 10
        assert (server.stats.accepted, server.stats.bad_nonce, server.stats.rejected) == (50, 0, 0)


@pytest.mark.parametrize("client", CLIENTS)
def test_nonce_small_answer_is_resigned_once(client: str) -> None:
    """Bitfinex's HTTP 500 ``["error", 10114, "nonce: small"]`` makes the auth re-sign once with a higher nonce."""
    with SchemeServer(BitfinexVerifier({KEY: SECRET}), handler=_nonce_small_once()) as server:
        nonces = iter([10, 11, 12])
        auth = Bitfinex(KEY, SECRET, nonce=lambda: next(nonces))
        (reply,) = send(client, auth, [("POST", server.origin + "/v2/auth/r/wallets", {})])
        assert (reply.status, json.loads(reply.text)) == (200, [["exchange", "USD", 1]])
        assert [header(r.headers, "bfx-nonce") for r in server.received] == ["10", "11"]


def _nonce_small_once() -> Any:
    calls = itertools.count()

    def handler(request: dict[str, Any]) -> tuple[int, Any]:
        if next(calls) == 0:
            return 500, ["error", 10114, "nonce: small"]
        return 200, [["exchange", "USD", 1]]

    return handler


def test_nonce_error_parser_only_matches_the_error_answer() -> None:
    """The parser recognises the 10114 error array on an error status only."""
    assert bitfinex_nonce_error(500, b'["error",10114,"nonce: small"]') == 0
    assert bitfinex_nonce_error(500, b'[ "error", 10114, "nonce: small" ]') == 0
    assert bitfinex_nonce_error(200, b'["error",10114,"nonce: small"]') is None
    assert bitfinex_nonce_error(500, b'["error",10100,"apikey: invalid"]') is None
    assert bitfinex_nonce_error(500, b'[[10114, "nonce: small"]]') is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "GET"}, "POST"),
        ({"method": "POST", "data": {"symbol": "tBTCUSD"}}, "JSON"),
        ({"method": "POST", "content": b"symbol", "headers": {"Content-Type": "text/plain"}}, "JSON"),
    ],
)
def test_bad_input_is_refused_before_sending(kwargs: dict[str, Any], message: str) -> None:
    """GET and form or text bodies raise BodyError and nothing reaches the server."""
    with SchemeServer(BitfinexVerifier({KEY: SECRET})) as server:
        url = server.origin + SUBMIT
        method = kwargs.pop("method")
        with httpx.Client(auth=Bitfinex(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        with pytest.raises(BodyError, match=message):
            requests.request(method, url, auth=Bitfinex(KEY, SECRET), timeout=5, **kwargs)
        assert server.received == []


def test_a_non_json_body_without_content_type_is_refused() -> None:
    """Bytes that are not JSON are refused even without a Content-Type."""
    with pytest.raises(BodyError, match="not JSON"):
        Bitfinex(KEY, SECRET).sign("POST", "https://api.bitfinex.com" + SUBMIT, body=b"a=1")


def test_configuration_errors() -> None:
    """Fixed options and a bad key fail at construction."""
    with pytest.raises(ConfigurationError, match="fixes"):
        Bitfinex(KEY, SECRET, digest_encoding="base64")
    with pytest.raises(ConfigurationError):
        Bitfinex(" " + KEY, SECRET)


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling is refused; requests are ordered."""
    auth = Bitfinex(KEY, SECRET)
    text = repr(auth) + repr(BitfinexVerifier({KEY: SECRET})) + repr(auth.scheme)
    assert SECRET not in text
    assert KEY not in text
    assert auth.ordered
    with pytest.raises(TypeError):
        pickle.dumps(auth)


def test_status_500_is_declared_not_overridden() -> None:
    """Bitfinex declares the statuses it reads for nonce errors (500 added to 200 and 4xx), overriding no private."""
    assert Bitfinex.nonce_error_statuses == frozenset({200, 500, *range(400, 500)})
    assert 502 not in Bitfinex.nonce_error_statuses
    assert not [name for name in vars(Bitfinex) if name.startswith("_") and not name.startswith("__")]
