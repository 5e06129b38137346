"""Shared fixtures: real loopback servers and one way to call every client path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import requests

from hmac_body_auth.testing import PoloniexServer, VerifyingServer

KEY = "TEST-KEY-0123456789"
SECRET = "0123456789abcdef-secret"

CLIENTS = ["requests.post", "requests.Session", "httpx.Client", "httpx.AsyncClient", "httpx.post"]


@pytest.fixture
def server() -> Iterator[PoloniexServer]:
    """A strict Poloniex-like server that knows KEY/SECRET."""
    with PoloniexServer({KEY: SECRET}) as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def open_server() -> Iterator[VerifyingServer]:
    """A verifying server without nonce tracking, for auths without a nonce."""
    with VerifyingServer({KEY: SECRET, None: SECRET}, nonce_field=None) as srv:
        yield srv


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Map requests-style body arguments onto httpx's (data=dict, content=bytes/str)."""
    out = dict(kwargs)
    data = out.pop("data", None)
    headers = dict(out.pop("headers", None) or {})
    if isinstance(data, dict):
        out["data"] = data
    elif isinstance(data, list):
        out["content"] = urlencode(data).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif data is not None:
        out["content"] = data
    if headers:
        out["headers"] = headers
    return out


def call(client: str, method: str, url: str, auth: Any, **kwargs: Any) -> tuple[int, Any]:
    """Send one request through ``client``; return (status, decoded JSON)."""
    if client == "requests.post":
        r = requests.request(method, url, auth=auth, timeout=10, **kwargs)
        return r.status_code, r.json()
    if client == "requests.Session":
        with requests.Session() as s:
            r = s.request(method, url, auth=auth, timeout=10, **kwargs)
            return r.status_code, r.json()
    hkw = _httpx_kwargs(kwargs)
    if client == "httpx.post":
        resp = httpx.request(method, url, auth=auth, timeout=10, **hkw)
        return resp.status_code, resp.json()
    if client == "httpx.Client":
        with httpx.Client(auth=auth, timeout=10) as c:
            resp = c.request(method, url, **hkw)
            return resp.status_code, resp.json()
    if client == "httpx.AsyncClient":

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(auth=auth, timeout=10) as c:
                return await c.request(method, url, **hkw)

        resp = asyncio.run(go())
        return resp.status_code, resp.json()
    raise AssertionError(client)
