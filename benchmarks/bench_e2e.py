"""Ratio benchmark: a small signed form POST end to end over loopback, ours against the seed's bare auth.

Each client sends ``POST /tradingApi`` with ``data={"command": "returnBalances",
...}`` to a keep-alive HTTP/1.1 server on 127.0.0.1 that reads the body and
answers 200 with a small JSON body, through

* ``requests.Session.post``, ``httpx.Client.post``, ``httpx.AsyncClient.post``
  (requests, httpx sync and async), and ``aiohttp.ClientSession.post`` with
  ``hba.aiohttp_middleware`` (where aiohttp is installed);
* with ``auth=hmac_body_auth.Poloniex(key, secret)`` (nonce, lease, nonce-error
  check of the answer, redirect guard) against ``auth=`` the seed's bare
  ``BodyDigestAuth(secret=...)`` (``benchmarks/_seed.py``; aiohttp, which has no
  ``auth=`` for it, against a middleware setting the same ``Sign`` header).

One connection per client, reused. Rounds of the two arms are interleaved (the
order alternates), the ratio is the median over rounds of the per-round ratio of
wall time (paired, so drift cancels). The server runs in a thread of this
process, so the numbers include its share of the GIL for both arms alike.

Run: ``python benchmarks/bench_e2e.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import platform
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import _seed  # benchmarks/_seed.py: the seed's package, from git history
import httpx
import requests

import hmac_body_auth as hba

FIELDS = {"command": "returnBalances", "currencyPair": "BTC_ETH"}
KEY = "BENCH-E2E-KEY-0001"
SECRET = b"bench-secret-0123456789abcdef0123456789abcdef"
ANSWER = b'{"BTC": "0.00000000", "ETH": "1.50000000"}'
GOAL = 1.03


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle holds the second for a delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args: Any) -> None:
        pass


def _server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _seed_middleware(secret: bytes) -> Any:
    async def middleware(request: Any, handler: Any) -> Any:
        body = request.body._value if hasattr(request.body, "_value") else b""
        request.headers["Sign"] = hmac.new(secret, body, hashlib.sha512).hexdigest()
        return await handler(request)

    return middleware


def _arms(url: str) -> dict[str, tuple[Callable[[int], float], Callable[[int], float], Callable[[], None]]]:
    """Client -> (ours, seed, close): each arm sends ``n`` requests and returns the seconds taken."""
    seed = _seed.load()
    arms: dict[str, Any] = {}

    def sync_arm(send: Callable[[Any], Any], auth: Any) -> Callable[[int], float]:
        def run(n: int) -> float:
            start = time.perf_counter()
            for _ in range(n):
                response = send(auth)
                if response.status_code != 200:
                    raise SystemExit(f"status {response.status_code}")
            return time.perf_counter() - start

        return run

    session = requests.Session()
    arms["requests Session.post"] = (
        sync_arm(lambda a: session.post(url, data=FIELDS, auth=a), hba.Poloniex(KEY, SECRET)),
        sync_arm(lambda a: session.post(url, data=FIELDS, auth=a), seed.BodyDigestAuth(secret=SECRET)),
        session.close,
    )
    client = httpx.Client()
    arms["httpx Client.post"] = (
        sync_arm(lambda a: client.post(url, data=FIELDS, auth=a), hba.Poloniex(KEY, SECRET)),
        sync_arm(lambda a: client.post(url, data=FIELDS, auth=a), seed.BodyDigestAuth(secret=SECRET)),
        client.close,
    )

    loop = asyncio.new_event_loop()
    aclient = httpx.AsyncClient()

    def async_arm(send: Callable[[Any], Any], auth: Any) -> Callable[[int], float]:
        async def many(n: int) -> float:
            start = time.perf_counter()
            for _ in range(n):
                status = await send(auth)
                if status != 200:
                    raise SystemExit(f"status {status}")
            return time.perf_counter() - start

        return lambda n: loop.run_until_complete(many(n))

    async def httpx_post(auth: Any) -> int:
        return (await aclient.post(url, data=FIELDS, auth=auth)).status_code

    arms["httpx AsyncClient.post"] = (
        async_arm(httpx_post, hba.Poloniex(KEY, SECRET)),
        async_arm(httpx_post, seed.BodyDigestAuth(secret=SECRET)),
        lambda: loop.run_until_complete(aclient.aclose()),
    )
    try:
        import aiohttp
    except ImportError:
        print("aiohttp is not installed: no aiohttp row (pip install aiohttp)")
    else:
        holder: dict[str, Any] = {}

        async def open_session() -> None:
            holder["s"] = aiohttp.ClientSession()

        loop.run_until_complete(open_session())

        async def aiohttp_post(middleware: Any) -> int:
            async with holder["s"].post(url, data=FIELDS, middlewares=(middleware,)) as r:
                await r.read()
                return r.status

        arms["aiohttp ClientSession.post"] = (
            async_arm(aiohttp_post, hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET))),
            async_arm(aiohttp_post, _seed_middleware(SECRET)),
            lambda: loop.run_until_complete(holder["s"].close()),
        )
    return arms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few, short rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per arm (default 21, quick 3)")
    parser.add_argument("--calls", type=int, default=None, help="requests per round (default 300, quick 50)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 21)
    calls = args.calls or (50 if args.quick else 300)

    server = _server()
    url = f"http://127.0.0.1:{server.server_address[1]}/tradingApi"
    arms = _arms(url)
    print(f"bench_e2e: small form POST over loopback, {rounds} rounds x {calls} requests per arm")
    print(
        f"python {platform.python_version()}, requests {requests.__version__}, httpx {httpx.__version__}, "
        f"hmac_body_auth {hba.__version__}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    print(f"{'client':<28} {'ours us':>9} {'seed us':>9} {'ratio (median)':>15} {'ratio (min)':>12}")
    results = []
    for name, (ours, seed, close) in arms.items():
        ours(max(calls // 5, 10))
        seed(max(calls // 5, 10))  # warm-up: connections open
        mine: list[float] = []
        theirs: list[float] = []
        for i in range(rounds):
            pair = (ours, seed) if i % 2 == 0 else (seed, ours)
            first, second = pair[0](calls), pair[1](calls)
            a, b = (first, second) if i % 2 == 0 else (second, first)
            mine.append(a / calls)
            theirs.append(b / calls)
        close()
        r_med = statistics.median(a / b for a, b in zip(mine, theirs, strict=True))
        r_min = min(mine) / min(theirs)
        results.append((name, r_med))
        print(
            f"{name:<28} {statistics.median(mine) * 1e6:>9.1f} {statistics.median(theirs) * 1e6:>9.1f} "
            f"{r_med:>15.3f} {r_min:>12.3f}"
        )
    server.shutdown()
    print()
    for name, r_med in results:
        print(f"goal: {name} ours / seed <= {GOAL:.2f}: {r_med:.3f} ({'met' if r_med <= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
