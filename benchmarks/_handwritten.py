"""The hand-written auths and the httpx flow drivers the ratio benchmarks share.

* :class:`MinimalAuth`: a requests ``AuthBase`` setting only ``Sign = hex(HMAC-SHA512(secret, body))``;
* :class:`NonceAuth`: Poloniex's wire work inline (a locked ``max(clock_us, last + 1)``
  nonce, ``&nonce=`` appended, Content-Length, Key and Sign), no ordering;
* :class:`SeedStyleHttpxAuth`: an ``httpx.Auth`` setting ``Sign`` on the request in place;
* :func:`send_handling_auth` / :func:`async_send_handling_auth`: an auth flow driven as
  ``httpx.Client._send_handling_auth`` drives it, with the transport replaced by a
  ready answer. They keep httpx's parameter names: our flow looks at its caller's
  ``self`` and ``follow_redirects`` to learn whether hops can happen below it.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import AsyncGenerator, Generator

import httpx
import requests
from requests.auth import AuthBase

__all__ = ["MinimalAuth", "NonceAuth", "SeedStyleHttpxAuth", "async_send_handling_auth", "send_handling_auth"]


class MinimalAuth(AuthBase):
    """HMAC-SHA512 of the body into ``Sign``, nothing else."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body.encode() if isinstance(r.body, str) else r.body
        r.headers["Sign"] = hmac.new(self.secret, body, hashlib.sha512).hexdigest()
        return r


class NonceAuth(AuthBase):
    """Poloniex's wire work written inline: locked nonce, append, Content-Length, Key, Sign."""

    def __init__(self, key: str, secret: bytes) -> None:
        self.key = key
        self.secret = secret
        self._lock = threading.Lock()
        self._last = 0

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        now = time.time_ns() // 1000
        with self._lock:
            nonce = max(now, self._last + 1)
            self._last = nonce
        body = r.body.encode("latin-1") if isinstance(r.body, str) else bytes(r.body or b"")
        body = b"%b&nonce=%d" % (body, nonce)
        r.body = body
        r.headers["Content-Length"] = str(len(body))
        r.headers["Key"] = self.key
        r.headers["Sign"] = hmac.new(self.secret, body, hashlib.sha512).hexdigest()
        return r


class SeedStyleHttpxAuth(httpx.Auth):
    """``Sign`` = hex HMAC-SHA512 of the body, set on the request in place, which is yielded."""

    requires_request_body = True

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Sign"] = hmac.new(self.secret, request.content, hashlib.sha512).hexdigest()
        yield request


def _answered(request: httpx.Request, response: httpx.Response) -> None:
    """What httpx does with an answer before the flow sees it, the transport aside.

    ``_send_single_request`` sets ``response.request``; ``_send_handling_redirects``
    sets the history and asks ``has_redirect_location`` (which reads the headers, so
    a flow that reads them next finds their encoding worked out, as with a real client).
    """
    response.request = request
    response.history = []
    if response.has_redirect_location:
        raise RuntimeError("the ready answer is a redirect")


def send_handling_auth(
    self: httpx.Client, request: httpx.Request, auth: httpx.Auth, follow_redirects: bool, response: httpx.Response
) -> httpx.Request:
    """Run one sync flow; ``response`` stands for the transport's answer. Returns the request sent."""
    auth_flow = auth.sync_auth_flow(request)
    try:
        request = next(auth_flow)
        _answered(request, response)
        try:
            auth_flow.send(response)
        except StopIteration:
            return request
        raise RuntimeError("the flow asked for a second request after a 200")
    finally:
        auth_flow.close()


async def async_send_handling_auth(
    self: httpx.AsyncClient, request: httpx.Request, auth: httpx.Auth, follow_redirects: bool, response: httpx.Response
) -> httpx.Request:
    """As :func:`send_handling_auth`, for ``AsyncClient``."""
    auth_flow: AsyncGenerator[httpx.Request, httpx.Response] = auth.async_auth_flow(request)
    try:
        request = await auth_flow.__anext__()
        _answered(request, response)
        try:
            await auth_flow.asend(response)
        except StopAsyncIteration:
            return request
        raise RuntimeError("the flow asked for a second request after a 200")
    finally:
        await auth_flow.aclose()
