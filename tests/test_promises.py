"""The lifecycle's promises under faults, end to end against a strict server on 127.0.0.1.

Each test is one numbered item of the lifecycle issue: prepared in one thread and
sent from another, re-entrant requests, failures, per-auth bounds, fork, streamed
responses, and redirects that answer a re-signed request.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer

from .conftest import NIQUESTS_SYNC, SECRET, SESSIONS, aiohttp_session, session


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A key of its own per test: nonce state is process-wide."""
    return "PRM-" + str(abs(hash(request.node.nodeid)))[:12]


@pytest.fixture
def strict(key: str) -> Iterator[PoloniexServer]:
    """A strict Poloniex-like server for this test's key."""
    with PoloniexServer({key: SECRET}) as srv:
        yield srv  # type: ignore[misc]


def _timed(fn: Any, *args: Any, **kwargs: Any) -> float:
    started = time.monotonic()
    fn(*args, **kwargs)
    return time.monotonic() - started


def _post(url: str, auth: Any) -> int:
    return requests.post(url, data={"command": "returnBalances"}, auth=auth, timeout=10).status_code


# -- 1. prepared in one thread, sent from another -------------------------------------


def test_prepared_in_one_thread_sent_from_others(strict: PoloniexServer, key: str) -> None:
    """200 requests prepared by the main thread and sent by 8 workers: 0 stale nonces, no re-sign needed."""
    auth = hba.Poloniex(key, SECRET)
    with requests.Session() as s, ThreadPoolExecutor(8) as pool:
        futures = []
        for i in range(200):
            prep = s.prepare_request(requests.Request("POST", strict.url, data={"i": str(i)}, auth=auth))
            futures.append(pool.submit(s.send, prep, timeout=10))
        statuses = [f.result().status_code for f in futures]
    assert statuses.count(200) == 200
    assert strict.stats.bad_nonce == 0
    assert strict.stats.accepted == 200


# -- 2. re-entrant requests never wait for their own lease -------------------------------


def test_httpx_event_hook_request_does_not_wait_for_its_own_lease(strict: PoloniexServer, key: str) -> None:
    """A same-key request from an httpx response event hook proceeds at once (it used to wait lease_timeout)."""
    auth = hba.Poloniex(key, SECRET)
    inner: list[int] = []

    def hook(response: httpx.Response) -> None:
        if not inner:
            inner.append(0)
            inner[0] = httpx.post(strict.url, data={"command": "cancelAll"}, auth=auth, timeout=10).status_code

    with httpx.Client(auth=auth, event_hooks={"response": [hook]}, timeout=10) as c:
        elapsed = _timed(c.post, strict.url, data={"command": "returnBalances"})
    assert inner == [200]
    assert elapsed < 5


@pytest.mark.parametrize("client", ["httpx", "aiohttp"])
def test_async_event_hook_request_does_not_wait_for_its_own_lease(
    strict: PoloniexServer, key: str, client: str
) -> None:
    """The same from an httpx.AsyncClient event hook, or an aiohttp middleware inside ours, in the holding task."""
    auth = hba.Poloniex(key, SECRET)
    inner: list[int] = []

    async def same_key_request() -> None:
        if not inner:
            inner.append(0)
            async with httpx.AsyncClient(auth=auth, timeout=10) as c2:
                inner[0] = (await c2.post(strict.url, data={"command": "cancelAll"})).status_code

    async def main() -> float:
        async def hook(response: httpx.Response) -> None:
            await same_key_request()

        async def middleware(req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
            response = await handler(req)
            await same_key_request()
            return response

        started = time.monotonic()
        if client == "aiohttp":
            middlewares = (hba.aiohttp_middleware(auth), middleware)
            async with (
                aiohttp.ClientSession(middlewares=middlewares) as session,
                session.post(strict.url, data={"command": "returnBalances"}) as r,
            ):
                assert r.status == 200
        else:
            async with httpx.AsyncClient(auth=auth, event_hooks={"response": [hook]}, timeout=10) as c:
                await c.post(strict.url, data={"command": "returnBalances"})
        return time.monotonic() - started

    assert asyncio.run(main()) < 5
    assert inner == [200]


def test_sync_call_inside_async_code_does_not_wait_for_its_own_lease(strict: PoloniexServer, key: str) -> None:
    """A blocking requests call from a task whose event loop holds the key's lease proceeds at once."""
    auth = hba.Poloniex(key, SECRET)

    async def main() -> tuple[int, float]:
        async def blocking_hook(response: httpx.Response) -> None:
            nonlocal inner
            inner = _post(strict.url, auth)  # blocks the loop: must not wait for the loop's own hold

        inner = 0
        async with httpx.AsyncClient(auth=auth, event_hooks={"response": [blocking_hook]}, timeout=10) as c:
            started = time.monotonic()
            await c.post(strict.url, data={"command": "returnBalances"})
            return inner, time.monotonic() - started

    inner, elapsed = asyncio.run(main())
    assert inner == 200
    assert elapsed < 5


@pytest.mark.parametrize("client", SESSIONS)
def test_requests_response_hook_request_does_not_wait(strict: PoloniexServer, key: str, client: str) -> None:
    """A same-key request from a requests (or niquests) response hook proceeds at once."""
    auth = hba.Poloniex(key, SECRET)
    inner: list[int] = []

    def hook(response: requests.Response, **kwargs: Any) -> None:
        inner.append(_post(strict.url, auth))

    started = time.monotonic()
    with session(client) as s:
        s.post(strict.url, data={"command": "x"}, auth=auth, hooks={"response": hook}, timeout=10)
    assert time.monotonic() - started < 5
    assert inner == [200]


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="POSIX signals")
def test_signal_handler_request_does_not_wait(key: str) -> None:
    """A signal handler that sends "cancel all" while the main thread waits for a response proceeds at once."""
    answered = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length)
            if b"command=slow" in body:
                answered.wait(10)
            data = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tradingApi"
    auth = hba.Poloniex(key, SECRET)
    seen: list[float] = []

    def cancel_all(signum: int, frame: Any) -> None:
        started = time.monotonic()
        requests.post(url, data={"command": "cancelAll"}, auth=auth, timeout=10)
        seen.append(time.monotonic() - started)
        answered.set()

    previous = signal.signal(signal.SIGALRM, cancel_all)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        requests.post(url, data={"command": "slow"}, auth=auth, timeout=10)
    finally:
        signal.signal(signal.SIGALRM, previous)
        server.shutdown()
        server.server_close()
    assert seen
    assert seen[0] < 5


# -- 3. failures free the lease at once -------------------------------------------------


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where the connection is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/tradingApi"


def test_failed_requests_call_frees_the_lease_while_the_thread_does_other_things(
    strict: PoloniexServer, key: str, refused_url: str
) -> None:
    """A refused requests call, handled and logged, frees the lease within ms while its thread sleeps on."""
    auth = hba.Poloniex(key, SECRET)
    go = threading.Event()

    def failing_then_busy() -> None:
        try:
            requests.post(refused_url, data={"a": "1"}, auth=auth, timeout=1)
        except requests.ConnectionError as exc:
            repr(exc)  # logged, then dropped
        go.set()
        time.sleep(0.8)  # the thread goes on with other work

    worker = threading.Thread(target=failing_then_busy)
    worker.start()
    go.wait(10)
    elapsed = _timed(_post, strict.url, auth)
    worker.join(10)
    assert elapsed < 0.5
    assert strict.stats.bad_nonce == 0


def test_failure_in_a_module_named_like_requests_frees_the_lease(
    strict: PoloniexServer, key: str, refused_url: str, tmp_path: Any
) -> None:
    """Whatever the caller's module is named (here ``_requests.py``), a failed call frees the lease."""
    (tmp_path / "_requests.py").write_text(
        "import requests\n"
        "def call(url, auth):\n"
        "    try:\n"
        "        requests.post(url, data={'a': '1'}, auth=auth, timeout=1)\n"
        "    except requests.RequestException as exc:\n"
        "        return repr(exc)\n"
    )
    import importlib.util

    spec = importlib.util.spec_from_file_location("_requests_user_module", tmp_path / "_requests.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    auth = hba.Poloniex(key, SECRET)
    kept = module.call(refused_url, auth)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(_timed, _post, strict.url, auth).result(10) < 1
    assert kept is not None


# -- 4. one auth's lease_timeout does not change another's ----------------------------------


def test_short_lease_timeout_of_one_auth_does_not_shorten_another(strict: PoloniexServer, key: str) -> None:
    """An auth with lease_timeout=0.05 does not cut short the 30 s hold of another auth on the key: 0 rejections."""
    patient = hba.Poloniex(key, SECRET, nonce_error=None)
    hasty = hba.Poloniex(key, SECRET, lease_timeout=0.05, nonce_error=None)
    hasty_done: list[int] = []

    def hasty_sender() -> None:
        hasty_done.append(_post(strict.url, hasty))

    with requests.Session() as s:
        prep = s.prepare_request(requests.Request("POST", strict.url, data={"a": "1"}, auth=patient))
        other = threading.Thread(target=hasty_sender)
        other.start()
        time.sleep(0.3)  # a slow upload: the patient hold must outlive the hasty auth's bound
        first = s.send(prep, timeout=10).status_code
    other.join(10)
    assert (first, hasty_done) == (200, [200])
    assert strict.stats.bad_nonce == 0
    assert patient.lifecycle.lease_timeout == 30.0


# -- 5. fork ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_child_forked_with_the_lease_held_and_a_waiter_queued_proceeds(strict: PoloniexServer, key: str) -> None:
    """After fork with a lease held and a waiter queued in the parent, the child's requests on the key go through."""
    auth = hba.Poloniex(key, SECRET)
    held = threading.Event()
    go = threading.Event()

    def holder() -> None:
        # Holds the lease: prepared, not sent, until told.
        prep = requests.Request("POST", strict.url, data={"a": "1"}, auth=auth).prepare()
        held.set()
        go.wait(10)
        with requests.Session() as s:
            s.send(prep, timeout=10)

    t1 = threading.Thread(target=holder)
    t1.start()
    held.wait(5)
    t2 = threading.Thread(target=_post, args=(strict.url, auth))  # queued behind the holder
    t2.start()
    time.sleep(0.05)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            signal.alarm(10)
            code = 0 if _post(strict.url, auth) == 200 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    go.set()
    t1.join(10)
    t2.join(10)
    assert os.waitstatus_to_exitcode(status) == 0


# -- 7. streamed responses release at the headers -----------------------------------------------


class _BigAnswer(BaseHTTPRequestHandler):
    """Answers every POST with 64 MiB, or trickles a body slowly."""

    protocol_version = "HTTP/1.1"
    size = 64 << 20

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        trickle = self.path.endswith("trickle")
        self.send_response(200)
        if not trickle:
            self.send_header("Content-Length", str(self.size))
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            if trickle:
                for _ in range(30):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.1)
            else:
                chunk = b"x" * (1 << 20)
                for _ in range(self.size >> 20):
                    self.wfile.write(chunk)
        except OSError:
            pass


@pytest.fixture
def big() -> Iterator[str]:
    """A server whose answers are huge (64 MiB) or trickle in."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BigAnswer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _lease_wait(auth: hba.Poloniex) -> float:
    """How long another thread waits for the key's lease now."""
    lease = auth.lifecycle.lease
    assert lease is not None
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_timed, lambda: lease.release(lease.acquire(hold_timeout=1.0, wait=2.0))).result(10)


@pytest.mark.parametrize("client", ["requests.Session", *NIQUESTS_SYNC])
@pytest.mark.parametrize("path", ["/big", "/trickle"])
def test_requests_stream_returns_at_the_headers_and_frees_the_lease(big: str, key: str, path: str, client: str) -> None:
    """stream=True returns as the headers arrive (no body read inside the lease), and other senders proceed."""
    import tracemalloc

    auth = hba.Poloniex(key, SECRET)
    with session(client) as s:
        tracemalloc.start()
        started = time.monotonic()
        r = s.post(big + path, data={"a": "1"}, auth=auth, stream=True, timeout=10)
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < 1
        assert peak < 8 << 20
        assert _lease_wait(auth) < 0.5
        r.close()


@pytest.mark.parametrize("client", ["httpx", "aiohttp"])
@pytest.mark.parametrize("path", ["/big", "/trickle"])
def test_httpx_and_aiohttp_stream_returns_at_the_headers_and_frees_the_lease(
    big: str, key: str, path: str, client: str
) -> None:
    """client.stream() (aiohttp: the response context) returns at the headers; the lease is free meanwhile."""
    auth = hba.Poloniex(key, SECRET)
    lease = auth.lifecycle.lease
    assert lease is not None
    if client == "aiohttp":

        async def go() -> None:
            async with aiohttp_session(auth) as session:
                started = time.monotonic()
                async with session.post(big + path, data={"a": "1"}) as r:
                    assert time.monotonic() - started < 1
                    assert lease.holder is None
                    assert _lease_wait(auth) < 0.5
                    r.close()

        asyncio.run(go())
        return
    with httpx.Client(auth=auth, timeout=10) as c:
        started = time.monotonic()
        with c.stream("POST", big + path, data={"a": "1"}) as r:
            assert time.monotonic() - started < 1
            assert lease.holder is None
            assert _lease_wait(auth) < 0.5
            r.close()


# -- 13. a redirect answering a re-signed request is guarded -------------------------------------


class _RejectThenRedirect(BaseHTTPRequestHandler):
    """First answer: Poloniex's nonce error (422); every later one: a redirect to ``location``."""

    protocol_version = "HTTP/1.1"
    location = ""
    seen: list[bytes]

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(body)
        if self.path.startswith("/done"):
            data = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        elif len(self.seen) == 1:
            data = json.dumps({"error": "Nonce must be greater than 10. You provided 5."}).encode()
            self.send_response(422)
            self.send_header("Content-Type", "application/json")
        else:
            data = b""
            self.send_response(int(self.path.rsplit("/", 1)[1]))
            self.send_header("Location", self.location)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _post_following(client: str, url: str, auth: Any, data: dict[str, str]) -> int:
    """POST through a requests or niquests session or an aiohttp session, following redirects; the final status."""
    if client != "aiohttp":
        with session(client) as s:
            return int(s.post(url, data=data, auth=auth, timeout=10).status_code)

    async def go() -> int:
        async with aiohttp_session(auth) as aio, aio.post(url, data=data) as r:
            return r.status

    return asyncio.run(go())


@pytest.mark.parametrize("client", [*SESSIONS, "aiohttp"])
@pytest.mark.parametrize("why", ["nonce error", "resign_statuses"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_after_a_resend_is_guarded(key: str, status: int, why: str, client: str) -> None:
    """A redirect answering a re-signed request (nonce error or resign_statuses) is refused, nothing leaks."""
    options: dict[str, Any] = {} if why == "nonce error" else {"nonce_error": None, "resign_statuses": {422}}
    with PoloniexServer({}) as elsewhere:
        handler = type("Handler", (_RejectThenRedirect,), {"location": elsewhere.origin + "/steal", "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/tradingApi/{status}"
            auth = hba.Poloniex(key, SECRET, **options)
            with pytest.raises(hba.RedirectError):
                _post_following(client, url, auth, {"command": "buy", "note": "SIGNED"})
        finally:
            server.shutdown()
            server.server_close()
        assert len(handler.seen) == 2  # the rejected try and the re-signed one
        assert handler.seen[0] != handler.seen[1]
        assert elsewhere.received == []


@pytest.mark.parametrize("client", [*SESSIONS, "aiohttp"])
@pytest.mark.parametrize("status", [307, 308])
def test_same_origin_redirect_after_a_resend_is_resigned(key: str, status: int, client: str) -> None:
    """A same-origin 307/308 answering a re-signed request is followed with yet another fresh nonce."""
    handler = type("Handler", (_RejectThenRedirect,), {"location": "", "seen": []})
    front = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    front.daemon_threads = True
    threading.Thread(target=front.serve_forever, args=(0.01,), daemon=True).start()
    origin = f"http://127.0.0.1:{front.server_address[1]}"
    handler.location = origin + "/done"
    try:
        auth = hba.Poloniex(key, SECRET)
        status_code = _post_following(client, f"{origin}/tradingApi/{status}", auth, {"command": "buy"})
    finally:
        front.shutdown()
        front.server_close()
    assert status_code == 200
    nonces = [int(body.rsplit(b"nonce=", 1)[1]) for body in handler.seen]
    assert len(nonces) == 3  # rejected, re-signed (redirected), re-signed again for the hop
    assert nonces == sorted(set(nonces))  # every try carried a new, greater nonce


# -- found by attacking the lifecycle ------------------------------------------------------------


def test_httpx_mounted_transport_that_cannot_report_hops_is_refused(strict: PoloniexServer, key: str) -> None:
    """follow_redirects with a non-httpcore transport mounted for another origin: refused before anything is sent."""

    class Silent(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise AssertionError("nothing may be sent through this transport")

    strict.redirect("/tradingApi", 307, "http://127.0.0.1:9/steal")
    mounts = {"all://127.0.0.1:9": Silent()}
    client = httpx.Client(auth=hba.Poloniex(key, SECRET), follow_redirects=True, mounts=mounts)
    with client, pytest.raises(hba.RedirectError, match="Silent"):
        client.post(strict.url, data={"command": "buy"})
    assert strict.received == []


@pytest.mark.parametrize("client", SESSIONS)
@pytest.mark.parametrize("api", ["poloniex", "kraken"])
def test_duplicate_delivery_by_a_transport_retry_runs_once(key: str, client: str, api: str) -> None:
    """urllib3 Retry resends the same bytes after a 502; the replay's nonce refusal is never re-signed.

    Poloniex names the call's own nonce ("greater than <ours>"); Kraken's "EAPI:Invalid nonce"
    names none, so only the transport's retry history tells that a copy may have run.
    """
    import base64

    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    from hmac_body_auth.presets import Kraken

    class RanThen502(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        executed: list[bytes]

        def log_message(self, *args: Any) -> None:
            """Quiet."""

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            nonce = body.rsplit(b"nonce=", 1)[1].split(b"&")[0].decode()
            if not self.executed:
                self.executed.append(body)  # executed, but the answer is lost upstream
                status, data = 502, {"error": "upstream timeout"}
            elif body in self.executed and api == "kraken":
                status, data = 200, {"error": ["EAPI:Invalid nonce"]}
            elif body in self.executed:
                status, data = 422, {"error": f"Nonce must be greater than {nonce}. You provided {nonce}."}
            else:
                self.executed.append(body)
                status, data = 200, {"ok": True}
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    handler = type("Handler", (RanThen502,), {"executed": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    retry = Retry(total=2, status_forcelist=[502], allowed_methods=None, raise_on_status=False)
    options = {} if client.startswith("requests") else {"retries": retry}  # niquests: its own retries=
    try:
        with session(client, **options) as s:
            if client.startswith("requests"):
                s.mount("http://", HTTPAdapter(max_retries=retry))
            if api == "kraken":
                auth: Any = Kraken(key, base64.b64encode(SECRET.encode()).decode())
                url = f"http://127.0.0.1:{server.server_address[1]}/0/private/AddOrder"
            else:
                auth = hba.Poloniex(key, SECRET)
                url = f"http://127.0.0.1:{server.server_address[1]}/tradingApi"
            r = s.post(url, data={"command": "buy"}, auth=auth, timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert r.status_code == (200 if api == "kraken" else 422)  # the replay's refusal is the answer
    assert len(handler.executed) == 1


@pytest.mark.parametrize("client", [*SESSIONS, "aiohttp"])
def test_returned_same_origin_307_does_not_hold_the_lease(strict: PoloniexServer, key: str, client: str) -> None:
    """allow_redirects=False gives back a same-origin 307: others wait at most requests' hop grace (else 0)."""
    from hmac_body_auth._requests import HOP_GRACE

    strict.redirect("/old", 307, "/tradingApi")
    auth = hba.Poloniex(key, SECRET)

    def waited_after_307() -> float:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(_timed, _post, strict.url, auth).result(10)

    if client == "aiohttp":

        async def go() -> float:
            async with aiohttp_session(auth) as aio:
                async with aio.post(strict.origin + "/old", data={"a": "1"}, allow_redirects=False) as r:
                    assert r.status == 307
                return await asyncio.to_thread(waited_after_307)

        waited = asyncio.run(go())
        assert waited < 1
    else:
        with session(client) as s:
            r = s.post(strict.origin + "/old", data={"a": "1"}, auth=auth, allow_redirects=False, timeout=10)
            assert r.status_code == 307
            waited = waited_after_307()
        if not client.startswith("requests"):
            assert waited < 0.5
    assert waited < HOP_GRACE + 1
    assert strict.stats.bad_nonce == 0


@pytest.mark.parametrize("client", [*SESSIONS, "aiohttp"])
def test_user_hook_request_does_not_overtake_a_resigned_hop(strict: PoloniexServer, key: str, client: str) -> None:
    """A same-key request from a user's hook (aiohttp: middleware) on a 307 goes first; the hop is signed after it."""
    strict.redirect("/old", 307, "/tradingApi")
    auth = hba.Poloniex(key, SECRET, nonce_error=None)
    if client == "aiohttp":

        async def middleware(req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
            response = await handler(req)
            if response.status == 307:
                async with aiohttp_session(auth) as other, other.post(strict.url, data={"command": "x"}) as r:
                    assert r.status == 200
            return response

        async def go() -> int:
            middlewares = (middleware, hba.aiohttp_middleware(auth))
            async with (
                aiohttp.ClientSession(middlewares=middlewares) as aio,
                aio.post(strict.origin + "/old", data={"a": "1"}) as r,
            ):
                return r.status

        assert asyncio.run(go()) == 200
    else:

        def hook(response: requests.Response, **kwargs: Any) -> None:
            if response.status_code == 307:
                _post(strict.url, auth)

        with session(client) as s:
            r = s.post(strict.origin + "/old", data={"a": "1"}, auth=auth, hooks={"response": hook}, timeout=10)
        assert r.status_code == 200
    assert strict.stats.bad_nonce == 0
    assert strict.stats.accepted == 2
