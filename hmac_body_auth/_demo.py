"""The main job: sign real traffic through every client against a local Poloniex-like server."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import itertools
import secrets
import signal
import statistics
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TextIO

import httpx
import requests

from .presets.poloniex import Poloniex
from .testing import PoloniexServer

__all__ = ["run_demo"]


@dataclass
class _Report:
    client: str
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, started: float, status: int, answer: object) -> None:
        self.latencies.append(time.perf_counter() - started)
        if status == 200 and isinstance(answer, dict) and "error" not in answer:
            self.accepted += 1
        else:
            self.rejected += 1
            if len(self.errors) < 3:
                self.errors.append(f"HTTP {status}: {answer}")


def _threads(n: int, per_thread: int, call: Callable[[int], None], stop: threading.Event) -> None:
    """Make ``n * per_thread`` calls from ``n`` threads, until done or ``stop`` is set."""
    numbers = itertools.count()  # next() on a count is atomic: each number goes to one thread

    def worker() -> None:
        while not stop.is_set() and (i := next(numbers)) < n * per_thread:
            call(i)

    with ThreadPoolExecutor(n) as pool:
        for future in [pool.submit(worker) for _ in range(n)]:
            future.result()


@contextlib.contextmanager
def _ctrl_c_sets(stop: threading.Event) -> Iterator[None]:
    """While inside, Ctrl-C (SIGINT) sets ``stop`` instead of raising KeyboardInterrupt.

    A KeyboardInterrupt raised at an arbitrary point of the main thread can land
    while it holds a lock of the thread pool (deadlocking the workers); a flag
    checked between requests stops everything cleanly instead.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_demo(out: TextIO, *, threads: int = 4, per_thread: int = 10, tasks: int = 50) -> int:
    """Run the demo, print a report per client, return the exit code.

    Ctrl-C stops it between requests; it then raises KeyboardInterrupt once
    everything is closed.
    """
    stop = threading.Event()
    with _ctrl_c_sets(stop):
        code = _run(out, stop, threads=threads, per_thread=per_thread, tasks=tasks)
    if stop.is_set():
        raise KeyboardInterrupt
    return code


async def _tasks(n: int, one: Callable[[int], Awaitable[None]], stop: threading.Event) -> None:
    """Start ``n`` calls as concurrent tasks; Ctrl-C (which only sets ``stop``) cancels them."""
    work = asyncio.gather(*(one(i) for i in range(n)))
    while not stop.is_set() and not work.done():
        await asyncio.wait({work}, timeout=0.05)
    if work.done():
        await work  # re-raises a task's error
        return
    work.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await work


def _aiohttp_installed() -> bool:
    # aiohttp is optional (the `aiohttp` extra): the demo shows it when it is there.
    return importlib.util.find_spec("aiohttp") is not None


def _run(out: TextIO, stop: threading.Event, *, threads: int, per_thread: int, tasks: int) -> int:
    key = "DEMO-" + secrets.token_hex(8).upper()
    secret = secrets.token_hex(32)
    reports = [
        _Report("requests (Session, threads)"),
        _Report("httpx.Client (threads)"),
        _Report("httpx.AsyncClient (tasks)"),
    ]
    if _aiohttp_installed():
        reports.append(_Report("aiohttp (tasks)"))
    with PoloniexServer({key: secret}) as server:
        auth = Poloniex(key, secret)
        out.write(f"Local Poloniex-like server at {server.url} (key {key[:9]}..., HMAC-SHA512 over the body)\n")
        out.flush()

        with requests.Session() as session:

            def via_requests(i: int) -> None:
                t = time.perf_counter()
                r = session.post(server.url, data={"command": "returnBalances", "i": i}, auth=auth, timeout=10)
                reports[0].add(t, r.status_code, r.json())

            _threads(threads, per_thread, via_requests, stop)

        with httpx.Client(auth=auth, timeout=10) as client:

            def via_httpx(i: int) -> None:
                t = time.perf_counter()
                r = client.post(server.url, data={"command": "returnBalances", "i": str(i)})
                reports[1].add(t, r.status_code, r.json())

            _threads(threads, per_thread, via_httpx, stop)

        async def via_async() -> None:
            async with httpx.AsyncClient(auth=auth, timeout=10) as client:

                async def one(i: int) -> None:
                    t = time.perf_counter()
                    r = await client.post(server.url, data={"command": "returnBalances", "i": str(i)})
                    reports[2].add(t, r.status_code, r.json())

                await _tasks(tasks, one, stop)

        async def via_aiohttp() -> None:
            import aiohttp

            from . import aiohttp_middleware

            timeout = aiohttp.ClientTimeout(total=10)
            async with aiohttp.ClientSession(middlewares=(aiohttp_middleware(auth),), timeout=timeout) as session:

                async def one(i: int) -> None:
                    t = time.perf_counter()
                    async with session.post(server.url, data={"command": "returnBalances", "i": str(i)}) as r:
                        reports[3].add(t, r.status, await r.json())

                await _tasks(tasks, one, stop)

        if not stop.is_set():
            asyncio.run(via_async())
        if len(reports) > 3 and not stop.is_set():
            asyncio.run(via_aiohttp())
        stats = server.stats
    if stop.is_set():
        return 1

    out.write(f"\n{'client':<30} {'sent':>5} {'accepted':>9} {'rejected':>9} {'median ms':>10}\n")
    for report in reports:
        sent = report.accepted + report.rejected
        median = statistics.median(report.latencies) * 1000 if report.latencies else 0.0
        out.write(f"{report.client:<30} {sent:>5} {report.accepted:>9} {report.rejected:>9} {median:>10.2f}\n")
        for error in report.errors:
            out.write(f"    {error}\n")
    out.write(
        f"\nserver: {stats.accepted} accepted, {stats.bad_signature} bad signatures, "
        f"{stats.bad_nonce} stale nonces, {stats.unknown_key} unknown keys\n"
    )
    ok = all(r.rejected == 0 for r in reports) and stats.rejected == 0
    out.write("OK: every request was signed correctly and accepted in nonce order.\n" if ok else "FAILED\n")
    return 0 if ok else 1
