"""httpx2, the maintained continuation of httpx: the same auth object works there too."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import KEY, SECRET


def test_auth_is_an_httpx2_auth() -> None:
    """The auth classes derive from httpx2.Auth as well, so httpx2 drives their flows."""
    assert isinstance(hba.Poloniex(KEY, SECRET), httpx2.Auth)


@pytest.mark.parametrize(
    ("kwargs", "head"),
    [
        ({"data": {"command": "returnBalances"}}, b"command=returnBalances"),
        ({}, b""),
        ({"content": b"a=\xff"}, b"a=\xff"),
    ],
    ids=["dict", "empty", "bytes"],
)
def test_httpx2_bodies_arrive_as_signed(server: PoloniexServer, kwargs: dict[str, object], head: bytes) -> None:
    """Module function, Client and AsyncClient of httpx2 send exactly the signed bytes."""
    auth = hba.Poloniex(KEY, SECRET)
    assert httpx2.post(server.url, auth=auth, **kwargs).status_code == 200  # type: ignore[arg-type]
    with httpx2.Client(auth=auth) as c:
        assert c.post(server.url, **kwargs).status_code == 200  # type: ignore[arg-type]

    async def go() -> int:
        async with httpx2.AsyncClient(auth=auth) as c:
            return (await c.post(server.url, **kwargs)).status_code  # type: ignore[arg-type]

    assert asyncio.run(go()) == 200
    assert server.stats.accepted == 3
    for received in server.received:
        assert received.headers["Sign"] == hmac.new(SECRET.encode(), received.body, hashlib.sha512).hexdigest()
        assert received.body.rpartition(b"nonce=")[0].rstrip(b"&") == head


def test_httpx2_concurrency_is_ordered(server: PoloniexServer) -> None:
    """Threads and 100 tasks through httpx2 on one key: zero nonce rejections."""
    auth = hba.Poloniex(KEY, SECRET, nonce_error=None)
    with httpx2.Client(auth=auth) as c, ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: c.post(server.url, data={"i": str(i)}).status_code, range(80)))

    async def go() -> list[int]:
        async with httpx2.AsyncClient(auth=auth, timeout=30) as c:
            return [r.status_code for r in await asyncio.gather(*(c.post(server.url) for _ in range(100)))]

    statuses += asyncio.run(go())
    assert statuses == [200] * 180
    assert server.stats.bad_nonce == 0


def test_httpx2_cross_origin_redirect_is_refused(server: PoloniexServer, open_server: VerifyingServer) -> None:
    """A redirect to another origin raises RedirectError before anything reaches it, with httpx2 too."""
    server.redirect("/tradingApi", 307, open_server.origin + "/steal")
    with pytest.raises(hba.RedirectError):
        httpx2.post(server.url, data={"a": "1"}, auth=hba.Poloniex(KEY, SECRET), follow_redirects=True)
    assert open_server.received == []


def test_httpx2_recovers_from_a_nonce_error(server: PoloniexServer) -> None:
    """The Poloniex re-sign on "Nonce must be greater than X" works through httpx2."""
    server.last_nonce[KEY] = 10**18
    r = httpx2.post(server.url, data={"command": "returnBalances"}, auth=hba.Poloniex(KEY, SECRET))
    assert r.status_code == 200
    assert server.stats.bad_nonce == 1
