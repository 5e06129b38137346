"""One valid request and valid credentials per preset of the registry, and one way to send through every client."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlencode

import aiohttp
import httpx
import requests

import hmac_body_auth as hba
from hmac_body_auth.presets import PRESETS, entry, preset

from .conftest import NIQUESTS, NIQUESTS_ASYNC, niquests

KEY = "HBA-TEST-KEY-0001"
#: Valid for every preset: text for most, and the base64 that Kraken and Coinbase Exchange decode.
SECRET = base64.b64encode(b"hba-test-secret-bytes-0123456789").decode("ascii")
PASSPHRASE = "hba-test-passphrase"


@dataclass(frozen=True)
class Call:
    """One request a preset signs: method, path and the client keyword arguments (params, data, json)."""

    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)


_QUERY = {"symbol": "BTC-USDT", "limit": "5"}
_FORM = {"pair": "XBTUSD", "volume": "1.25"}
_JSON = {"symbol": "BTC-USDT", "size": "0.01", "side": "buy"}

#: The one per-preset table of the cross-preset suites: every kind of request each preset signs (its API's
#: private endpoints), first the preset's sample; what it refuses is left out.
CALLS: dict[str, list[Call]] = {
    "binance": [
        Call("GET", "/api/v3/account", {"params": _QUERY}),
        Call("POST", "/api/v3/order", {"data": _FORM}),
        Call("DELETE", "/api/v3/order", {"params": _QUERY}),
    ],
    "binance-futures": [
        Call("GET", "/fapi/v1/openOrders", {"params": _QUERY}),
        Call("POST", "/fapi/v1/order", {"data": _FORM}),
        Call("DELETE", "/fapi/v1/order", {"params": _QUERY}),
    ],
    "bitfinex": [Call("POST", "/v2/auth/w/order/submit", {"json": _JSON}), Call("POST", "/v2/auth/r/wallets")],
    "bitget": [
        Call("GET", "/api/v2/spot/trade/orderInfo", {"params": _QUERY}),
        Call("POST", "/api/v2/spot/trade/place-order", {"json": _JSON}),
    ],
    "bitmex": [
        Call("GET", "/api/v1/position", {"params": _QUERY}),
        Call("POST", "/api/v1/order", {"json": _JSON}),
        Call("DELETE", "/api/v1/order", {"data": _FORM}),
    ],
    "bitstamp": [Call("POST", "/api/v2/buy/btcusd/", {"data": _FORM}), Call("POST", "/api/v2/balance/")],
    "bitvavo": [
        Call("GET", "/v2/balance", {"params": _QUERY}),
        Call("POST", "/v2/order", {"json": _JSON}),
        Call("DELETE", "/v2/order", {"params": _QUERY}),
    ],
    "bybit": [
        Call("GET", "/v5/account/wallet-balance", {"params": _QUERY}),
        Call("POST", "/v5/order/create", {"json": _JSON}),
    ],
    "coinbase-exchange": [
        Call("GET", "/orders", {"params": _QUERY}),
        Call("POST", "/orders", {"json": _JSON}),
        Call("DELETE", "/orders", {"params": _QUERY}),
    ],
    "cryptocom": [
        Call("POST", "/exchange/v1/private/create-order", {"json": _JSON}),
        Call("POST", "/exchange/v1/private/user-balance"),
    ],
    "deribit": [
        Call("GET", "/api/v2/private/get_positions", {"params": _QUERY}),
        Call("POST", "/api/v2", {"json": {"jsonrpc": "2.0", "id": 1, "method": "private/buy", "params": _JSON}}),
    ],
    "gateio": [
        Call("GET", "/api/v4/spot/orders", {"params": _QUERY}),
        Call("POST", "/api/v4/spot/orders", {"json": _JSON}),
        Call("DELETE", "/api/v4/spot/orders/123", {"params": _QUERY}),
    ],
    "gemini": [Call("POST", "/v1/order/new", {"json": _JSON}), Call("POST", "/v1/balances")],
    "hitbtc": [
        Call("GET", "/api/3/spot/order", {"params": _QUERY}),
        Call("POST", "/api/3/spot/order", {"data": _FORM}),
        Call("POST", "/api/3/spot/order", {"json": _JSON}),
        Call("DELETE", "/api/3/spot/order", {"params": _QUERY}),
    ],
    "htx": [
        Call("GET", "/v1/order/openOrders", {"params": _QUERY}),
        Call("POST", "/v1/order/orders/place", {"json": _JSON}),
    ],
    "kraken": [Call("POST", "/0/private/AddOrder", {"data": _FORM}), Call("POST", "/0/private/Balance")],
    "kucoin": [
        Call("GET", "/api/v1/deposit-addresses", {"params": _QUERY}),
        Call("POST", "/api/v1/orders", {"json": _JSON}),
        Call("DELETE", "/api/v1/orders", {"params": _QUERY}),
    ],
    "mexc": [
        Call("GET", "/api/v3/myTrades", {"params": _QUERY}),
        Call("POST", "/api/v3/order", {"data": _FORM}),
        Call("POST", "/api/v3/order", {"params": _QUERY}),
        Call("DELETE", "/api/v3/order", {"params": _QUERY}),
    ],
    "okx": [
        Call("GET", "/api/v5/account/balance", {"params": _QUERY}),
        Call("POST", "/api/v5/trade/order", {"json": _JSON}),
    ],
    "poloniex": [Call("POST", "/tradingApi", {"data": {"command": "returnBalances"}}), Call("POST", "/tradingApi")],
    "poloniex-v3": [
        Call("GET", "/accounts/balances", {"params": _QUERY}),
        Call("POST", "/orders", {"json": _JSON}),
        Call("DELETE", "/orders", {"params": _QUERY}),
    ],
}
assert CALLS.keys() == PRESETS.keys(), "every preset of the registry needs its calls here"


class Sample(NamedTuple):
    """A request the preset signs: method, URL, body, content type."""

    method: str
    url: str
    body: bytes | None
    content_type: str | None


def sample(name: str, call: Call) -> Sample:
    """``call`` of preset ``name`` as the bytes a client sends: the URL on the preset's origin, the body encoded."""
    url = entry(name).origin + call.path
    if call.kwargs.get("params"):
        url += "?" + urlencode(call.kwargs["params"])
    if "data" in call.kwargs:
        return Sample(call.method, url, urlencode(call.kwargs["data"]).encode(), "application/x-www-form-urlencoded")
    if "json" in call.kwargs:
        return Sample(call.method, url, json.dumps(call.kwargs["json"]).encode(), "application/json")
    return Sample(call.method, url, None, None)


#: One valid request per preset: its first call.
SAMPLES: dict[str, Sample] = {name: sample(name, calls[0]) for name, calls in CALLS.items()}


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
