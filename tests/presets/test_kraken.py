"""The Kraken preset: documented and ccxt vectors, verifier, real clients, nonce order, bad input, hygiene."""

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
from hmac_body_auth.presets.kraken import Kraken, KrakenVerifier, kraken_nonce_error
from hmac_body_auth.testing import SchemeServer
from hmac_body_auth.verify import header

from .._presets import ASYNC_CLIENTS, CLIENTS, Request, send

VECTORS = json.loads(Path(__file__).parents[1].joinpath("vectors", "kraken.json").read_text())["vectors"]
KEY = "HBA-KRAKEN-TEST-KEY"
SECRET = "a3Jha2VuLXRlc3Qtc2VjcmV0LWJ5dGVzLTAxMjM0NTY3ODlhYmNkZWY="  # base64, as Kraken issues them
PATH = "/0/private/AddOrder"
ORDER = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "37500", "volume": "1.25"}


def _auth(vector: dict[str, Any]) -> Kraken:
    nonce = vector["nonce"]
    return Kraken(vector["key"], vector["secret"], nonce=lambda: nonce, ordered=False)


def _sign(vector: dict[str, Any]) -> Any:
    return _auth(vector).sign(
        vector["method"], vector["url"], body=vector["body"].encode(), content_type=vector["content_type"]
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_reproduced(vector: dict[str, Any]) -> None:
    """The scheme reproduces the documented / ccxt URL, body, headers and Content-Type byte for byte."""
    signed = _sign(vector)
    expected = vector["expected"]
    assert signed.url == expected["url"]
    assert signed.body == expected["body"].encode()
    assert signed.headers == expected["headers"]
    assert signed.content_type == expected["content_type"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_tamper_twins(vector: dict[str, Any]) -> None:
    """Changing one byte of the body, the path, the nonce or the secret changes the signature."""
    good = _sign(vector).headers["API-Sign"]
    body = vector["body"] + "&x=1" if vector["body"] else "x=1"
    twins = [
        {**vector, "body": body},
        {**vector, "url": vector["url"].replace("/private/", "/privatE/")},
        {**vector, "nonce": vector["nonce"] + 1},
    ]
    for twin in twins:
        assert _sign(twin).headers["API-Sign"] != good
    secret = vector["secret"]
    flipped = ("B" if secret[0] != "B" else "C") + secret[1:]
    assert _sign({**vector, "secret": flipped}).headers["API-Sign"] != good


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_verifier_accepts_vector_and_rejects_tampering(vector: dict[str, Any]) -> None:
    """The verifier accepts each vector's request as sent and rejects a one-byte change of body or path."""
    expected = vector["expected"]
    verifier = KrakenVerifier({vector["key"]: vector["secret"]})
    body = expected["body"].encode()
    verdict = verifier.verify("POST", expected["url"], expected["headers"], body)
    assert verdict.ok, verdict.reason
    assert (verdict.key, verdict.nonce) == (vector["key"], vector["nonce"])
    assert verifier.verify("POST", expected["url"], expected["headers"], body + b"&x=1").reason == "bad signature"
    wrong_path = expected["url"].replace("/private/", "/privatE/")
    assert verifier.verify("POST", wrong_path, expected["headers"], body).reason == "bad signature"
    assert verifier.verify("POST", expected["url"], {"API-Key": "nobody"}, body).reason == "unknown key"


def _expected(auth: Kraken, url: str, body: bytes, nonce: int) -> Any:
    return auth.scheme.sign(Outgoing("POST", url, None, body), auth.signer, KEY, nonce, lambda: 0)


@pytest.mark.parametrize("client", CLIENTS)
def test_end_to_end(client: str) -> None:
    """Every client sends form POSTs (and one without a body) the strict server accepts, exactly as signed."""
    nonces = itertools.count(1_700_000_000_000)
    auth = Kraken(KEY, SECRET, nonce=lambda: next(nonces))
    with SchemeServer(KrakenVerifier({KEY: SECRET})) as server:
        url = server.origin + PATH
        calls: list[Request] = [
            ("POST", url, {"data": ORDER}),
            ("POST", server.origin + "/0/private/Balance", {}),
            ("POST", url, {"data": ORDER}),
        ]
        replies = send(client, auth, calls)
        assert [r.status for r in replies] == [200] * 3, replies
        assert server.stats.accepted == 3
        form = b"pair=XBTUSD&type=buy&ordertype=limit&price=37500&volume=1.25"
        for got, nonce in zip(server.received, range(1_700_000_000_000, 1_700_000_000_003), strict=True):
            body = b"" if got.path.endswith("/Balance") else form
            want = _expected(auth, server.origin + got.path, body, nonce)
            assert got.body == want.body
            assert header(got.headers, "API-Sign") == want.headers["API-Sign"]
            assert header(got.headers, "API-Key") == KEY
            assert header(got.headers, "Content-Type") == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
def test_concurrent_threads_and_tasks_have_no_nonce_rejections(client: str) -> None:
    """4 threads x 10 requests and 10 concurrent asyncio tasks with the default nonce: zero rejections."""
    key = "HBA-KRAKEN-CONCURRENT"
    with SchemeServer(KrakenVerifier({key: SECRET})) as server:
        url = server.origin + PATH
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                with requests.Session() as session:
                    for _ in range(10):
                        assert session.post(url, data=ORDER, auth=Kraken(key, SECRET), timeout=5).status_code == 200
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors

        replies = send(client, Kraken(key, SECRET), [("POST", url, {"data": ORDER})] * 10, concurrent=True)
        assert [r.status for r in replies] == [200] * 10
        assert (server.stats.accepted, server.stats.bad_nonce, server.stats.rejected) == (50, 0, 0)


def test_invalid_nonce_answer_is_resigned_once() -> None:
    """Kraken's HTTP 200 ``EAPI:Invalid nonce`` answer makes the auth re-sign once with a fresh, higher nonce."""
    seen: list[int] = []
    verifier = KrakenVerifier({KEY: SECRET})

    def handle(request: httpx.Request) -> httpx.Response:
        verdict = verifier.verify(request.method, str(request.url), dict(request.headers), request.read())
        assert verdict.ok, verdict.reason
        assert isinstance(verdict.nonce, int)
        seen.append(verdict.nonce)
        if len(seen) == 1:
            return httpx.Response(200, json={"error": ["EAPI:Invalid nonce"], "result": {}})
        return httpx.Response(200, json={"error": [], "result": {"ZUSD": "1.0"}})

    nonces = iter([10, 11, 12])
    auth = Kraken(KEY, SECRET, nonce=lambda: next(nonces))
    with httpx.Client(auth=auth, transport=httpx.MockTransport(handle)) as client:
        assert client.post("https://api.kraken.com/0/private/Balance").json()["result"] == {"ZUSD": "1.0"}
    assert seen == [10, 11]


def test_nonce_error_parser_only_matches_the_error_answer() -> None:
    """The parser recognises Kraken's error list, not a result that merely mentions the text."""
    assert kraken_nonce_error(200, b'{"error":["EAPI:Invalid nonce"],"result":{}}') == 0
    assert kraken_nonce_error(200, b'{"error":[],"result":{"note":"EAPI:Invalid nonce"}}') is None
    assert kraken_nonce_error(200, b'{"error":["EGeneral:Invalid arguments"]}') is None
    assert kraken_nonce_error(200, b"EAPI:Invalid nonce, not json") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "GET", "params": {"pair": "XBTUSD"}}, "POST"),
        ({"method": "POST", "json": {"pair": "XBTUSD"}}, "form body"),
        ({"method": "POST", "data": {"nonce": "1", "pair": "XBTUSD"}}, "already has"),
        ({"method": "POST", "params": {"pair": "XBTUSD"}}, "data="),
    ],
)
def test_bad_input_is_refused_before_sending(kwargs: dict[str, Any], message: str) -> None:
    """GET, JSON bodies, a caller's own nonce and query strings raise BodyError and nothing reaches the server."""
    with SchemeServer(KrakenVerifier({KEY: SECRET})) as server:
        url = server.origin + PATH
        with pytest.raises(BodyError, match=message):
            requests.request(url=url, auth=Kraken(KEY, SECRET), timeout=5, **kwargs)
        method = kwargs.pop("method")
        with httpx.Client(auth=Kraken(KEY, SECRET), timeout=5) as client, pytest.raises(BodyError, match=message):
            client.request(method, url, **kwargs)
        assert server.received == []


def test_configuration_errors() -> None:
    """A secret that is not base64, a bad key and fixed options fail at construction without echoing secrets."""
    with pytest.raises(ConfigurationError, match="base64") as info:
        Kraken(KEY, "not base64!")
    assert "not base64!" not in str(info.value)
    with pytest.raises(ConfigurationError):
        Kraken("bad key\n", SECRET)
    with pytest.raises(ConfigurationError, match="fixes"):
        Kraken(KEY, SECRET, algorithm="sha256")


def test_secret_never_in_repr_and_pickling_refused() -> None:
    """The repr shows neither the secret nor the whole key; pickling the auth or the verifier's signer is refused."""
    auth = Kraken(KEY, SECRET)
    text = repr(auth) + repr(auth.signer) + repr(KrakenVerifier({KEY: SECRET})) + repr(auth.scheme)
    assert SECRET not in text
    assert KEY not in text
    with pytest.raises(TypeError):
        pickle.dumps(auth)
