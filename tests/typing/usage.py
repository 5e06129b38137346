"""Public usage, checked by ``mypy --strict`` in CI (not run by pytest): the API types as users write it."""

from __future__ import annotations

import asyncio
import time
from typing import assert_type

import aiohttp
import httpx
import requests

import hmac_body_auth as hba
from hmac_body_auth.nonces import ClockNonce, FileNonce, OrderedNonceSource
from hmac_body_auth.presets import OKX, Binance, Kraken, Poloniex
from hmac_body_auth.testing import PoloniexServer, SchemeServer
from hmac_body_auth.verify import BodyDigestVerifier, ReplayGuard, Verdict


def usage() -> None:
    """Every line below must type-check under mypy --strict."""
    auth = hba.Poloniex(key="API-KEY", secret="SECRET")
    assert_type(auth, Poloniex)
    generic = hba.BodyDigestAuth(
        "API-KEY",
        secret=b"SECRET",
        key_header="X-Key",
        signature_header="X-Sign",
        algorithm="sha256",
        digest_encoding="base64",
        body_encoding="utf-8",
        nonce=ClockNonce(unit="ms"),
        nonce_field="nonce",
    )
    signed = generic.sign("POST", "https://api.example.com/x", body="a=1")
    assert_type(signed, hba.SignedRequest)
    assert_type(signed.body, bytes)
    assert_type(signed.headers, dict[str, str])

    with PoloniexServer({"API-KEY": "SECRET"}) as server:
        r = requests.post(server.url, data={"command": "returnBalances"}, auth=auth, timeout=5)
        assert_type(r, requests.Response)
        with httpx.Client(auth=auth) as client:
            assert_type(client.post(server.url, data={"a": "1"}), httpx.Response)

        async def main() -> httpx.Response:
            async with httpx.AsyncClient(auth=auth) as client:
                return await client.post(server.url, data={"a": "1"})

        asyncio.run(main())

        middleware = hba.aiohttp_middleware(auth)
        assert_type(middleware, aiohttp.ClientMiddlewareType)

        async def with_aiohttp() -> int:
            async with aiohttp.ClientSession(middlewares=(middleware,)) as session:
                async with session.post(server.url, data={"command": "returnBalances"}) as response:
                    assert_type(response, aiohttp.ClientResponse)
                async with session.post(server.url, data=b"a=1", middlewares=(hba.aiohttp_middleware(generic),)) as r:
                    return r.status

        asyncio.run(with_aiohttp())

    source: OrderedNonceSource = FileNonce("nonce.counter")
    kraken = Kraken("KEY", "c2VjcmV0", nonce=source)
    binance = Binance("KEY", "SECRET", recv_window=5000)
    okx = OKX("KEY", "SECRET", passphrase="pp", demo=True)
    assert_type(kraken.ordered, bool)
    assert_type(binance.key, str | None)
    assert_type(okx.signer, hba.Signer)
    assert_type(Binance.from_env(recv_window=5000), Binance)
    assert_type(OKX.from_env(prefix="MYBOT_OKX"), OKX)
    assert_type(hba.BodyDigestAuth.from_env(), hba.BodyDigestAuth)
    assert_type(Binance("KEY", "SECRET", clock=time.time_ns), Binance)
    assert_type(hba.ClockNonce(unit="ms", clock=time.time_ns), hba.ClockNonce)

    verifier = ReplayGuard(BodyDigestVerifier({"API-KEY": "SECRET"}), window_ms=30_000)
    verdict = verifier.verify("POST", "https://x/", {"Key": "API-KEY", "Sign": "00"}, b"")
    assert_type(verdict, Verdict)
    assert_type(SchemeServer(verifier), SchemeServer)
