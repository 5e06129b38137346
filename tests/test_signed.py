"""auth.sign(method, url, body=...) and the ordered auth.signed(...) block, for clients without an adapter."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import urllib3

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer
from tests.conftest import KEY, SECRET

FORM = "application/x-www-form-urlencoded"
URL = "https://poloniex.com/tradingApi"


class Counter:
    """A nonce source that counts how many nonces were spent."""

    def __init__(self) -> None:
        self.spent = 0

    def __call__(self) -> int:
        """The next nonce."""
        self.spent += 1
        return self.spent


@pytest.mark.parametrize(
    ("body", "wire", "content_type"),
    [
        ({"command": "buy", "rate": "0.1"}, b"command=buy&rate=0.1&nonce=1", FORM),
        ([("command", "buy"), ("rate", "0.1")], b"command=buy&rate=0.1&nonce=1", FORM),
        ({"command": "buy", "tags": ["a", "b"], "skip": None}, b"command=buy&tags=a&tags=b&nonce=1", FORM),
        ({"note": "café"}, b"note=caf%C3%A9&nonce=1", FORM),
        ("command=buy", b"command=buy&nonce=1", FORM),
        (b"command=buy", b"command=buy&nonce=1", FORM),
        (bytearray(b"command=buy"), b"command=buy&nonce=1", FORM),
        (None, b"nonce=1", FORM),
    ],
    ids=["dict", "pairs", "dict-lists-none", "dict-utf8", "str", "bytes", "bytearray", "none"],
)
def test_sign_takes_the_body_types_auth_takes(body: Any, wire: bytes, content_type: str | None) -> None:
    """A dict and pairs become a form; str, bytes and None are sent as given; the nonce appended, form Content-Type."""
    auth = hba.Poloniex(KEY, SECRET, nonce=Counter())
    signed = auth.sign("POST", URL, body=body)
    assert signed.body == wire
    assert signed.url == URL
    assert hba.verify.BodyDigestVerifier({KEY: SECRET}, algorithm="sha512").verify("POST", URL, signed.headers, wire).ok
    with auth.signed("POST", URL, body=body) as req:
        assert req.body == wire.replace(b"nonce=1", b"nonce=2")
        assert req.headers.get("Content-Type") == content_type
        assert req.method == "POST"
        assert req.url == URL


def test_a_body_without_a_nonce_gets_no_invented_content_type() -> None:
    """Bytes signed by a body digest without a nonce: sent as they are, no Content-Type added."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    with auth.signed("POST", URL, body=b"\x00\x01raw") as req:
        assert req.body == b"\x00\x01raw"
        assert "Content-Type" not in req.headers
    with auth.signed("POST", URL, body=b'{"a": 1}', content_type="application/json") as req:
        assert req.headers["Content-Type"] == "application/json"


def test_an_explicit_content_type_wins() -> None:
    """content_type= is sent as given, for a dict body too."""
    auth = hba.Poloniex(KEY, SECRET, nonce=Counter())
    kind = "application/x-www-form-urlencoded; charset=utf-8"
    with auth.signed("POST", URL, body={"a": "1"}, content_type=kind) as req:
        assert req.headers["Content-Type"] == kind


@pytest.mark.parametrize("body", [object(), 12, {1, 2}, [("a",)]], ids=["object", "int", "set", "bad-pair"])
def test_a_body_that_cannot_be_signed_is_refused_before_any_nonce(body: Any) -> None:
    """BodyError at sign() and at signed() (when the block is built), and no nonce is spent."""
    nonce = Counter()
    auth = hba.Poloniex(KEY, SECRET, nonce=nonce)
    with pytest.raises(hba.BodyError):
        auth.sign("POST", URL, body=body)
    with pytest.raises(hba.BodyError):
        auth.signed("POST", URL, body=body)
    assert nonce.spent == 0


def test_the_old_positional_body_is_a_clear_error() -> None:
    """sign("POST", "a=1") (the old order) is refused: "a=1" is not a URL the auth can sign for."""
    auth = hba.Poloniex(KEY, SECRET, origin="https://poloniex.com")
    with pytest.raises(hba.OriginError):
        auth.sign("POST", "a=1")


def test_the_lease_is_held_until_the_block_ends_and_released_on_error() -> None:
    """Another thread's block on the same key waits for this one; an exception in the block still releases it."""
    auth = hba.Poloniex(KEY, SECRET)
    entered = threading.Event()
    order: list[str] = []

    def other() -> None:
        entered.wait(5)
        with auth.signed("POST", URL, body={"command": "b"}):
            order.append("other")

    thread = threading.Thread(target=other)
    thread.start()

    def first() -> None:
        with auth.signed("POST", URL, body={"command": "a"}):
            entered.set()
            time.sleep(0.1)
            order.append("first")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        first()
    thread.join(5)
    assert order == ["first", "other"]
    lease = auth.lifecycle.lease
    assert lease is not None
    assert lease.holder is None


def test_a_block_is_entered_once() -> None:
    """Entering the same signed() object twice raises; a new signed() call works."""
    auth = hba.Poloniex(KEY, SECRET)
    block = auth.signed("POST", URL, body={"a": "1"})
    with block:
        pass
    with pytest.raises(RuntimeError), block:
        pass
    with auth.signed("POST", URL, body={"a": "1"}):
        pass


def test_threads_sending_with_urllib3_inside_blocks_are_never_rejected() -> None:
    """8 threads x 25 urllib3 POSTs signed inside auth.signed(): a strict server accepts all, in nonce order."""
    auth = hba.Poloniex(KEY, SECRET)
    with PoloniexServer({KEY: SECRET}) as server, urllib3.PoolManager(maxsize=8) as pool:

        def send(i: int) -> int:
            with auth.signed("POST", server.url, body={"command": "returnBalances", "i": str(i)}) as req:
                return pool.request(req.method, req.url, body=req.body, headers=req.headers).status

        with ThreadPoolExecutor(8) as executor:
            statuses = list(executor.map(send, range(200)))
        assert statuses == [200] * 200
        assert server.stats.accepted == 200
        assert server.stats.bad_nonce == 0


def test_tasks_sending_inside_async_blocks_are_never_rejected() -> None:
    """100 asyncio tasks, each sending inside ``async with auth.signed()`` with a plain AsyncClient: 0 rejections."""
    auth = hba.Poloniex(KEY, SECRET)
    with PoloniexServer({KEY: SECRET}) as server:

        async def main() -> list[int]:
            async with httpx.AsyncClient() as client:

                async def send(i: int) -> int:
                    async with auth.signed("POST", server.url, body=[("command", "buy"), ("i", str(i))]) as req:
                        response = await client.request(req.method, req.url, content=req.body, headers=req.headers)
                        return response.status_code

                return await asyncio.gather(*(send(i) for i in range(100)))

        assert asyncio.run(main()) == [200] * 100
        assert server.stats.accepted == 100
        assert server.stats.bad_nonce == 0
