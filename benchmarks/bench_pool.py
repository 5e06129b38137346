"""Throughput of a KeyPool: 1, 2, 4 and 8 keys against a strict server 20 ms away.

Each key is ordered (one request in flight per key, from its nonce to its answer),
so one key carries at most one request per round trip however many threads or
tasks send. A ``KeyPool`` of N keys gives each request a free key: about N times
the throughput. Measured here, inside one run, for

* ``requests``: 8 threads, each with its own ``requests.Session``, ``auth=pool``;
* ``httpx.Client``: 8 threads sharing one client, ``auth=pool``;
* ``httpx.AsyncClient``: 64 tasks on one client, ``auth=pool``;
* ``aiohttp``: 64 tasks on one session with ``hba.aiohttp_middleware(pool)``, where
  this version has it.

The server (a ``PoloniexServer`` with ``delay=0.02``: signatures checked, nonces
strictly increasing per key) runs in a child process, so it does not share the
client's GIL. Each round sends ``--requests`` requests per client and key count
(the order rotates); the result per cell is the median over rounds of requests
per second, the ratio ``N keys / 1 key`` is the median of per-round ratios, and
the stale-nonce rejections are counted at the server (goal: 0). Goal: 4 keys
>= 3.6x one key.

Run: ``.venv/bin/python benchmarks/bench_pool.py [--quick]``; a full run writes
``benchmarks/results/pool.json`` for ``plot_pool.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import requests

import hmac_body_auth as hba

KEY_COUNTS = (1, 2, 4, 8)
ACCOUNTS = {f"POOL-BENCH-{i}": f"pool-bench-secret-{i}" for i in range(max(KEY_COUNTS))}
DELAY = 0.02
THREADS = 8
TASKS = 64
RESULTS = Path(__file__).with_name("results") / "pool.json"


def serve() -> None:
    """Child mode: a PoloniexServer 20 ms away; answers ``stats`` / ``reset`` lines on stdin."""
    import http.server

    from hmac_body_auth.testing import PoloniexServer

    http.server.ThreadingHTTPServer.request_queue_size = 256
    with PoloniexServer(dict(ACCOUNTS), delay=DELAY) as server:
        print(server.url, flush=True)
        for line in sys.stdin:
            if line.strip() == "reset":
                server.reset()
                print("{}", flush=True)
            else:
                s = server.stats
                print(
                    json.dumps({"accepted": s.accepted, "bad_nonce": s.bad_nonce, "rejected": s.rejected}), flush=True
                )


class ServerProcess:
    """The parent's handle on the child server."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603  (this script, by absolute path, no shell)
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def ask(self, command: str) -> dict[str, int]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())  # type: ignore[no-any-return]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


def pool_of(n: int) -> hba.KeyPool:
    """A pool of the first ``n`` keys (fresh auths: fresh leases)."""
    return hba.KeyPool([hba.Poloniex(k, s) for k, s in list(ACCOUNTS.items())[:n]])


def via_requests(url: str, pool: hba.KeyPool, total: int) -> list[int]:
    """8 threads, a Session each."""
    local = threading.local()

    def post(i: int) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        return session.post(url, data={"command": "buy", "i": str(i)}, auth=pool, timeout=30).status_code

    with ThreadPoolExecutor(THREADS) as executor:
        return list(executor.map(post, range(total)))


def via_httpx(url: str, pool: hba.KeyPool, total: int) -> list[int]:
    """8 threads sharing one httpx.Client."""
    with httpx.Client(auth=pool, timeout=30) as client, ThreadPoolExecutor(THREADS) as executor:
        return list(
            executor.map(lambda i: client.post(url, data={"command": "buy", "i": str(i)}).status_code, range(total))
        )


def via_httpx_async(url: str, pool: hba.KeyPool, total: int) -> list[int]:
    """64 tasks on one AsyncClient (each task sends total/64 requests in turn)."""

    async def main() -> list[int]:
        async with httpx.AsyncClient(auth=pool, timeout=30) as client:

            async def worker(w: int) -> list[int]:
                out = []
                for i in range(w, total, TASKS):
                    out.append((await client.post(url, data={"command": "buy", "i": str(i)})).status_code)
                return out

            return [s for part in await asyncio.gather(*(worker(w) for w in range(TASKS))) for s in part]

    return asyncio.run(main())


def via_aiohttp(url: str, pool: hba.KeyPool, total: int) -> list[int]:
    """64 tasks on one aiohttp session with the package's middleware."""
    import aiohttp

    async def main() -> list[int]:
        middleware = hba.aiohttp_middleware(pool)  # type: ignore[attr-defined]
        async with aiohttp.ClientSession(middlewares=(middleware,)) as session:

            async def worker(w: int) -> list[int]:
                out = []
                for i in range(w, total, TASKS):
                    async with session.post(url, data={"command": "buy", "i": str(i)}) as r:
                        await r.read()
                        out.append(r.status)
                return out

            return [s for part in await asyncio.gather(*(worker(w) for w in range(TASKS))) for s in part]

    return asyncio.run(main())


def clients() -> dict[str, Callable[[str, hba.KeyPool, int], list[int]]]:
    """The clients this environment has."""
    found: dict[str, Callable[[str, hba.KeyPool, int], list[int]]] = {
        "requests (8 threads)": via_requests,
        "httpx.Client (8 threads)": via_httpx,
        "httpx.AsyncClient (64 tasks)": via_httpx_async,
    }
    try:
        import aiohttp  # noqa: F401

        if hasattr(hba, "aiohttp_middleware") or "aiohttp_middleware" in getattr(hba, "__all__", ()):
            found["aiohttp (64 tasks)"] = via_aiohttp
    except ImportError:
        pass
    return found


def main() -> None:
    """Run every client with 1, 2, 4 and 8 keys; print requests per second and ratios."""
    if "--serve" in sys.argv:
        serve()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run; its numbers are not results")
    parser.add_argument("--requests", type=int, default=None, help="requests per client and key count per round")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    total = args.requests or (64 if args.quick else 256)
    rounds = args.rounds or (1 if args.quick else 5)
    server = ServerProcess()
    subjects = clients()
    rates: dict[str, dict[int, list[float]]] = {name: {n: [] for n in KEY_COUNTS} for name in subjects}
    rejected: dict[str, dict[int, int]] = {name: dict.fromkeys(KEY_COUNTS, 0) for name in subjects}
    cells = [(name, n) for name in subjects for n in KEY_COUNTS]
    try:
        for r in range(rounds):
            order = cells[r % len(cells) :] + cells[: r % len(cells)]
            for name, n in order:
                pool = pool_of(n)
                server.ask("reset")
                started = time.perf_counter()
                statuses = subjects[name](server.url, pool, total)
                took = time.perf_counter() - started
                stats = server.ask("stats")
                assert statuses == [200] * total, (name, n, statuses[:5])
                rejected[name][n] += stats["bad_nonce"]
                rates[name][n].append(total / took)
    finally:
        server.close()
    print(f"KeyPool against a strict server {DELAY * 1000:.0f} ms away; {total} requests per cell, {rounds} rounds")
    header = "".join(f"{f'{n} key' + ('s' if n > 1 else ''):>12}" for n in KEY_COUNTS)
    print(f"{'client':<30}{header}   (requests/s; ratio to 1 key; stale-nonce rejections)")
    results: list[dict[str, Any]] = []
    for name in subjects:
        base = rates[name][1]
        row = f"{name:<30}"
        for n in KEY_COUNTS:
            rps = statistics.median(rates[name][n])
            ratio = statistics.median(a / b for a, b in zip(rates[name][n], base, strict=True))
            row += f"{rps:>7.0f} {ratio:>3.1f}x"
            results.append({"client": name, "keys": n, "rps": rps, "ratio": ratio, "rejected": rejected[name][n]})
        print(row + f"   rejections {sum(rejected[name].values())}")
    print("goal: 4 keys >= 3.6x one key; 0 rejections")
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(
            json.dumps(
                {
                    "machine": f"{platform.machine()}, {platform.python_version()}",
                    "delay_ms": DELAY * 1000,
                    "requests": total,
                    "rounds": rounds,
                    "results": results,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
