"""The server-side verifier and the scheme server, with the body-digest scheme."""

from __future__ import annotations

import asyncio

import httpx
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import SchemeServer, mock_transport
from hmac_body_auth.verify import BodyDigestVerifier, MemoryNonceStore, ReplayGuard

from .conftest import KEY, SECRET


def test_body_digest_verifier_accepts_and_rejects() -> None:
    """The verifier accepts what the auth signed and rejects a tampered body (tamper twin)."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=lambda: 7)
    signed = auth.sign("POST", "a=1")
    verifier = BodyDigestVerifier({KEY: SECRET})
    verdict = verifier.verify("POST", "http://x/", signed.headers, signed.body)
    assert verdict.ok
    assert (verdict.key, verdict.nonce) == (KEY, 7)
    assert not verifier.verify("POST", "http://x/", signed.headers, signed.body + b"&b=2")
    assert verifier.verify("POST", "http://x/", {"Key": "other"}, signed.body).reason == "unknown key"


def test_replay_guard_rejects_repeated_and_lower_nonces() -> None:
    """A replayed or lower nonce is rejected with the Poloniex text; string nonces must be unique."""
    store = MemoryNonceStore()
    guard = ReplayGuard(BodyDigestVerifier({KEY: SECRET}), store=store)
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=iter([5, 5, 4, 6]).__next__)
    results = [guard.verify("POST", "http://x/", s.headers, s.body) for s in (auth.sign("POST") for _ in range(4))]
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].reason == "Nonce must be greater than 5. You provided 5."
    assert store.last(KEY) == 6


def test_scheme_server_and_mock_transport_verify_poloniex() -> None:
    """A SchemeServer (real sockets) and a MockTransport (none) both verify Poloniex requests."""
    verifier = BodyDigestVerifier({KEY: SECRET})
    with SchemeServer(verifier) as server:
        r = requests.post(server.origin + "/tradingApi", data={"a": "1"}, auth=hba.Poloniex(KEY, SECRET), timeout=5)
        assert r.status_code == 200
        bad = requests.post(server.origin, data={"a": "1"}, auth=hba.Poloniex(KEY, SECRET + "x"), timeout=5)
        assert bad.status_code == 401
    with httpx.Client(transport=mock_transport(verifier), auth=hba.Poloniex(KEY, SECRET)) as c:
        assert c.post("http://api.test/tradingApi", data={"a": "1"}).status_code == 200

    async def run() -> int:
        async with httpx.AsyncClient(transport=mock_transport(verifier), auth=hba.Poloniex(KEY, SECRET)) as c:
            return (await c.post("http://api.test/tradingApi", data={"a": "1"})).status_code

    assert asyncio.run(run()) == 200
