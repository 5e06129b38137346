"""Ratio benchmark: a small signed form POST end to end over loopback, ours against the seed's auth.

Each client sends ``POST /tradingApi`` with ``data={"command": "returnBalances",
...}`` to a keep-alive HTTP/1.1 server on 127.0.0.1 (in a child process, so that
it takes no share of the client's GIL) that reads the body and answers 200 with
a small JSON body, through

* ``requests.Session.post``, ``httpx.Client.post``, ``httpx.AsyncClient.post``
  and ``aiohttp.ClientSession.post`` (with ``hba.aiohttp_middleware``), each with
* ``ours``: ``hmac_body_auth.Poloniex(key, secret)`` (nonce, lease, nonce-error
  check of the answer, redirect guard);
* ``seed`` (the baseline): the seed's ``Poloniex`` (the package's first commit,
  ``benchmarks/_seed.py``): the same bytes on the wire (nonce, Key, Sign); for
  aiohttp, which the seed did not support, a hand-written middleware doing the
  same wire work;
* ``seed bare`` (reference): the seed's ``BodyDigestAuth(secret=...)``: only
  ``Sign``, no nonce (fewer bytes and headers on the wire).

One connection per client, reused. Rounds of the arms are interleaved (the order
rotates), the ratio is the median over rounds of the per-round ratio of wall
time (paired, so drift cancels).

``--against REV`` adds an arm with the package at commit ``REV`` (``_seed.at``) and
a column ours / it: a change before and after in one run.

Run: ``python benchmarks/bench_e2e.py [--quick] [--against REV] [--only aiohttp]``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import multiprocessing
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


def _serve(port: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


def _server() -> tuple[multiprocessing.Process, int]:
    """The server in a child process; returns it and its port."""
    context = multiprocessing.get_context("fork")
    port = context.Value("i", 0)
    process = context.Process(target=_serve, args=(port,), daemon=True)
    process.start()
    deadline = time.monotonic() + 10
    while port.value == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    return process, int(port.value)


def _middleware(secret: bytes, key: str | None) -> Any:
    """A hand-written aiohttp middleware: the nonce appended to the form (when ``key``), Key and Sign."""
    counter = itertools.count(time.time_ns() // 1000)
    lock = threading.Lock()

    async def middleware(request: Any, handler: Any) -> Any:
        body = request.body._value if hasattr(request.body, "_value") else b""
        if key is not None:
            with lock:
                nonce = next(counter)
            body = b"%b&nonce=%d" % (body, nonce)
            request.body = body
            request.headers["Content-Type"] = "application/x-www-form-urlencoded"
            request.headers["Key"] = key
        request.headers["Sign"] = hmac.new(secret, body, hashlib.sha512).hexdigest()
        return await handler(request)

    return middleware


Arm = Callable[[int], float]


def _arms(url: str, against: str | None = None) -> tuple[dict[str, dict[str, Arm]], list[Callable[[], None]]]:
    """Client -> {arm name -> run(n) -> seconds for n requests}, and what to close at the end.

    ``against``: also an arm ``before`` with the package at that commit.
    """
    seed = _seed.load()
    auths = {
        "ours": lambda: hba.Poloniex(KEY, SECRET),
        "seed": lambda: seed.Poloniex("SEED-" + KEY, SECRET),
        "seed bare": lambda: seed.BodyDigestAuth(secret=SECRET),
    }
    before = _seed.at(against) if against else None
    if before is not None:
        auths["before"] = lambda: before.Poloniex("BEFORE-" + KEY, SECRET)
    arms: dict[str, dict[str, Arm]] = {}
    closers: list[Callable[[], None]] = []

    def sync_arm(send: Callable[[Any], Any], auth: Any) -> Arm:
        def run(n: int) -> float:
            start = time.perf_counter()
            for _ in range(n):
                response = send(auth)
                if response.status_code != 200:
                    raise SystemExit(f"status {response.status_code}")
            return time.perf_counter() - start

        return run

    session = requests.Session()
    closers.append(session.close)
    arms["requests Session.post"] = {
        name: sync_arm(lambda a: session.post(url, data=FIELDS, auth=a), make()) for name, make in auths.items()
    }
    client = httpx.Client()
    closers.append(client.close)
    arms["httpx Client.post"] = {
        name: sync_arm(lambda a: client.post(url, data=FIELDS, auth=a), make()) for name, make in auths.items()
    }

    loop = asyncio.new_event_loop()
    aclient = httpx.AsyncClient()
    closers.append(lambda: loop.run_until_complete(aclient.aclose()))

    def async_arm(send: Callable[[Any], Any], auth: Any) -> Arm:
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

    arms["httpx AsyncClient.post"] = {name: async_arm(httpx_post, make()) for name, make in auths.items()}
    try:
        import aiohttp
    except ImportError:
        print("aiohttp is not installed: no aiohttp row (pip install aiohttp)")
    else:
        holder: dict[str, Any] = {}

        async def open_session() -> None:
            holder["s"] = aiohttp.ClientSession()

        loop.run_until_complete(open_session())
        closers.append(lambda: loop.run_until_complete(holder["s"].close()))

        async def aiohttp_post(middleware: Any) -> int:
            async with holder["s"].post(url, data=FIELDS, middlewares=(middleware,)) as r:
                await r.read()
                return r.status

        arms["aiohttp ClientSession.post"] = {
            "ours": async_arm(aiohttp_post, hba.aiohttp_middleware(hba.Poloniex(KEY, SECRET))),
            "seed": async_arm(aiohttp_post, _middleware(SECRET, KEY)),
            "seed bare": async_arm(aiohttp_post, _middleware(SECRET, None)),
        }
        if before is not None and hasattr(before, "aiohttp_middleware"):  # commits before the middleware: no arm
            middleware = before.aiohttp_middleware(before.Poloniex("BEFORE-" + KEY, SECRET))
            arms["aiohttp ClientSession.post"]["before"] = async_arm(aiohttp_post, middleware)
    return arms, closers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few, short rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per arm (default 21, quick 3)")
    parser.add_argument("--calls", type=int, default=None, help="requests per round (default 300, quick 50)")
    parser.add_argument(
        "--against", metavar="REV", default=None, help="also an arm with the package at commit REV (before/after)"
    )
    parser.add_argument(
        "--only", metavar="TEXT", default=None, help="only the clients whose row name contains TEXT (e.g. aiohttp)"
    )
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 21)
    calls = args.calls or (50 if args.quick else 300)

    process, port = _server()
    url = f"http://127.0.0.1:{port}/tradingApi"
    arms, closers = _arms(url, args.against)
    print(f"bench_e2e: small form POST over loopback, {rounds} rounds x {calls} requests per arm")
    print(
        f"python {platform.python_version()}, requests {requests.__version__}, httpx {httpx.__version__}, "
        f"hmac_body_auth {hba.__version__}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    print(
        f"{'client':<28} {'ours us':>9} {'seed us':>9} {'bare us':>9} "
        f"{'ours/seed (median)':>19} {'(min)':>7} {'ours/bare':>10}"
        + (f" {'ours/@' + args.against:>18}" if args.against else "")
    )
    results = []
    for name, runs in arms.items():
        if args.only is not None and args.only not in name:
            continue
        names = list(runs)
        for run in runs.values():
            run(max(calls // 5, 10))  # warm-up: connections open
        times: dict[str, list[float]] = {arm: [] for arm in names}
        for i in range(rounds):
            shift = i % len(names)
            for arm in names[shift:] + names[:shift]:
                times[arm].append(runs[arm](calls) / calls)

        def ratio(a: str, b: str, times: dict[str, list[float]] = times) -> float:
            return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))

        r_med = ratio("ours", "seed")
        r_min = min(times["ours"]) / min(times["seed"])
        results.append((name, r_med))
        med = {arm: statistics.median(times[arm]) * 1e6 for arm in names}
        print(
            f"{name:<28} {med['ours']:>9.1f} {med['seed']:>9.1f} {med['seed bare']:>9.1f} "
            f"{r_med:>19.3f} {r_min:>7.3f} {ratio('ours', 'seed bare'):>10.3f}"
            + (f" {ratio('ours', 'before'):>18.3f}" if "before" in times else "")
        )
    for close in closers:
        close()
    process.terminate()
    print()
    for name, r_med in results:
        print(f"goal: {name} ours / seed <= {GOAL:.2f}: {r_med:.3f} ({'met' if r_med <= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
