"""One valid request and valid credentials per preset of the registry, and one way to send through every client."""

from __future__ import annotations

import asyncio
import base64
import inspect
from collections.abc import Sequence
from typing import Any, NamedTuple

import aiohttp
import httpx
import requests

import hmac_body_auth as hba
from hmac_body_auth.presets import PRESETS, preset

from .conftest import NIQUESTS, NIQUESTS_ASYNC, niquests

KEY = "HBA-TEST-KEY-0001"
#: Valid for every preset: text for most, and the base64 that Kraken and Coinbase Exchange decode.
SECRET = base64.b64encode(b"hba-test-secret-bytes-0123456789").decode("ascii")
PASSPHRASE = "hba-test-passphrase"


class Sample(NamedTuple):
    """A request the preset signs: method, URL, body, content type."""

    method: str
    url: str
    body: bytes | None
    content_type: str | None


SAMPLES: dict[str, Sample] = {
    "binance": Sample("GET", "https://api.binance.com/api/v3/account", None, None),
    "binance-futures": Sample("GET", "https://fapi.binance.com/fapi/v3/balance", None, None),
    "bitfinex": Sample("POST", "https://api.bitfinex.com/v2/auth/r/wallets", b"{}", "application/json"),
    "bitget": Sample("GET", "https://api.bitget.com/api/v2/spot/account/assets?coin=USDT", None, None),
    "bitmex": Sample("GET", "https://www.bitmex.com/api/v1/position?count=5", None, None),
    "bitstamp": Sample("POST", "https://www.bitstamp.net/api/v2/balance/", None, None),
    "bitvavo": Sample("GET", "https://api.bitvavo.com/v2/balance?symbol=BTC", None, None),
    "bybit": Sample("GET", "https://api.bybit.com/v5/account/wallet-balance?accountType=UNIFIED", None, None),
    "coinbase-exchange": Sample("GET", "https://api.exchange.coinbase.com/accounts", None, None),
    "gateio": Sample("GET", "https://api.gateio.ws/api/v4/spot/accounts?currency=USDT", None, None),
    "gemini": Sample("POST", "https://api.gemini.com/v1/balances", None, None),
    "hitbtc": Sample("GET", "https://api.hitbtc.com/api/3/spot/balance", None, None),
    "kraken": Sample("POST", "https://api.kraken.com/0/private/Balance", None, None),
    "kucoin": Sample("GET", "https://api.kucoin.com/api/v1/accounts", None, None),
    "mexc": Sample("GET", "https://api.mexc.com/api/v3/account", None, None),
    "okx": Sample("GET", "https://www.okx.com/api/v5/account/balance", None, None),
    "poloniex": Sample(
        "POST", "https://poloniex.com/tradingApi", b"command=returnBalances", "application/x-www-form-urlencoded"
    ),
    "poloniex-v3": Sample("GET", "https://api.poloniex.com/accounts/balances", None, None),
}
assert SAMPLES.keys() == PRESETS.keys(), "every preset of the registry needs a sample request"


def takes(cls: type[Any], argument: str) -> bool:
    """Whether ``cls``'s constructor names ``argument``."""
    return argument in inspect.signature(cls).parameters


def verify(name: str, auth: Any, *, key: str = KEY, secret: str = SECRET, passphrase: str = PASSPHRASE) -> Any:
    """Sign the preset's sample request with ``auth`` and return its verifier's verdict."""
    _, verifier_cls = preset(name)
    options: dict[str, Any] = {}
    if takes(verifier_cls, "passphrases"):
        options["passphrases"] = {key: passphrase}
    sample = SAMPLES[name]
    signed = auth.sign(sample.method, sample.url, body=sample.body, content_type=sample.content_type)
    return verifier_cls({key: secret}, **options).verify(sample.method, signed.url, signed.headers, signed.body)


# -- the clients every preset's end-to-end tests run through -----------------------------------------

#: One requests Session, one httpx.Client, one httpx.AsyncClient, one aiohttp session (the auth's middleware),
#: requests' and httpx's module-level functions (a new connection per call), and where niquests is
#: installed one niquests Session and one AsyncSession (parameters marked ``niquests``, see conftest).
CLIENTS = ["requests", "requests.post", "httpx", "httpx.post", "httpx-async", "aiohttp", *NIQUESTS]
#: The asyncio clients, which can send a list of calls concurrently.
ASYNC_CLIENTS = ["httpx-async", "aiohttp", *NIQUESTS_ASYNC]
_ASYNC_NAMES = {"httpx-async", "aiohttp", "niquests.AsyncSession"}

#: ``(method, url, keyword arguments as requests takes them: params, data, json, headers)``.
Request = tuple[str, str, dict[str, Any]]


class Reply(NamedTuple):
    """What a client got back."""

    status: int
    text: str


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    out = dict(kwargs)
    if isinstance(out.get("data"), (str, bytes)):
        out["content"] = out.pop("data")
    return out


def send(client: str, auth: Any, calls: Sequence[Request], *, concurrent: bool = False) -> list[Reply]:
    """Send ``calls`` through one client of kind ``client`` signing with ``auth``, in order (or all at once)."""
    assert not concurrent or client in _ASYNC_NAMES, "only the asyncio clients send concurrently"
    if client == "requests":
        with requests.Session() as session:
            answers = [session.request(m, url, auth=auth, timeout=5, **kw) for m, url, kw in calls]
            return [Reply(r.status_code, r.text) for r in answers]
    if client == "requests.post":
        answers = [requests.request(m, url, auth=auth, timeout=5, **kw) for m, url, kw in calls]
        return [Reply(r.status_code, r.text) for r in answers]
    if client == "niquests.Session":
        with niquests.Session() as nsession:
            nanswers = [nsession.request(m, url, auth=auth, timeout=5, **kw) for m, url, kw in calls]
            return [Reply(r.status_code or 0, r.text or "") for r in nanswers]
    if client == "httpx":
        with httpx.Client(auth=auth, timeout=5) as sync_client:
            answers_ = [sync_client.request(m, url, **_httpx_kwargs(kw)) for m, url, kw in calls]
            return [Reply(r.status_code, r.text) for r in answers_]
    if client == "httpx.post":
        answers_ = [httpx.request(m, url, auth=auth, timeout=5, **_httpx_kwargs(kw)) for m, url, kw in calls]
        return [Reply(r.status_code, r.text) for r in answers_]
    return asyncio.run(_send_async(client, auth, calls, concurrent))


async def _send_async(client: str, auth: Any, calls: Sequence[Request], concurrent: bool) -> list[Reply]:
    if client == "aiohttp":
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(middlewares=(hba.aiohttp_middleware(auth),), timeout=timeout) as session:

            async def one(method: str, url: str, kwargs: dict[str, Any]) -> Reply:
                async with session.request(method, url, **kwargs) as r:
                    return Reply(r.status, await r.text())

            return await _each(one, calls, concurrent)
    if client == "niquests.AsyncSession":
        async with niquests.AsyncSession() as nsession:

            async def one_niquests(method: str, url: str, kwargs: dict[str, Any]) -> Reply:
                r = await nsession.request(method, url, auth=auth, timeout=5, **kwargs)
                return Reply(r.status_code or 0, r.text or "")

            return await _each(one_niquests, calls, concurrent)
    assert client == "httpx-async", client
    async with httpx.AsyncClient(auth=auth, timeout=5) as async_client:

        async def one_httpx(method: str, url: str, kwargs: dict[str, Any]) -> Reply:
            r = await async_client.request(method, url, **_httpx_kwargs(kwargs))
            return Reply(r.status_code, r.text)

        return await _each(one_httpx, calls, concurrent)


async def _each(one: Any, calls: Sequence[Request], concurrent: bool) -> list[Reply]:
    if concurrent:
        return list(await asyncio.gather(*(one(m, url, kw) for m, url, kw in calls)))
    return [await one(m, url, kw) for m, url, kw in calls]
