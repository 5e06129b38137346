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

from ._auth import KeyPool
from .presets.poloniex import Poloniex
from .testing import PoloniexServer

__all__ = ["run_demo"]

#: The latency of the "far" server, where one key's requests queue for their turn.
FAR_MS = 20


@dataclass
class _Report:
    client: str
    latencies: list[float] = field(default_factory=list)
    """From the call to its answer."""
    round_trips: list[float] = field(default_factory=list)
    """From sending to the answer (the client's ``response.elapsed``): the rest is the wait for the key's turn."""
    accepted: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0

    def add(self, started: float, status: int, answer: object, elapsed: float | None) -> None:
        self.latencies.append(time.perf_counter() - started)
        if elapsed is not None:  # aiohttp measures no round trip: its columns show "-"
            self.round_trips.append(elapsed)
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


def _timed(report: _Report, run: Callable[[], None]) -> None:
    started = time.perf_counter()
    run()
    report.wall = time.perf_counter() - started


def _run(out: TextIO, stop: threading.Event, *, threads: int, per_thread: int, tasks: int) -> int:
    keys = ["DEMO-" + secrets.token_hex(8).upper() for _ in range(4)]
    accounts: dict[str | None, str | bytes] = {key: secrets.token_hex(32) for key in keys}
    key, secret = keys[0], accounts[keys[0]]
    reports = [
        _Report("requests (Session, threads)"),
        _Report("httpx.Client (threads)"),
        _Report("httpx.AsyncClient (tasks)"),
        _Report(f"the API {FAR_MS} ms away: 1 key"),
        _Report(f"the API {FAR_MS} ms away: KeyPool of 4 keys"),
    ]
    aiohttp_report = _Report("aiohttp (tasks)") if _aiohttp_installed() else None
    if aiohttp_report is not None:
        reports.append(aiohttp_report)
    with PoloniexServer(accounts) as server, PoloniexServer(accounts, delay=FAR_MS / 1000) as far:
        auth = Poloniex(key, secret)
        pool = KeyPool([Poloniex(k, accounts[k]) for k in keys])
        out.write(f"Local Poloniex-like server at {server.url} (key {key[:9]}..., HMAC-SHA512 over the body)\n")
        out.flush()

        with requests.Session() as session:

            def via_requests(i: int) -> None:
                t = time.perf_counter()
                r = session.post(server.url, data={"command": "returnBalances", "i": i}, auth=auth, timeout=10)
                reports[0].add(t, r.status_code, r.json(), r.elapsed.total_seconds())

            _timed(reports[0], lambda: _threads(threads, per_thread, via_requests, stop))

        with httpx.Client(auth=auth, timeout=10) as client:

            def via_httpx(i: int) -> None:
                t = time.perf_counter()
                r = client.post(server.url, data={"command": "returnBalances", "i": str(i)})
                reports[1].add(t, r.status_code, r.json(), r.elapsed.total_seconds())

            _timed(reports[1], lambda: _threads(threads, per_thread, via_httpx, stop))

        async def via_async(signer: Poloniex | KeyPool, report: _Report, url: str) -> None:
            async with httpx.AsyncClient(auth=signer, timeout=10) as client:

                async def one(i: int) -> None:
                    t = time.perf_counter()
                    r = await client.post(url, data={"command": "returnBalances", "i": str(i)})
                    report.add(t, r.status_code, r.json(), r.elapsed.total_seconds())

                await _tasks(tasks, one, stop)

        async def via_aiohttp(report: _Report) -> None:
            import aiohttp

            from . import aiohttp_middleware

            timeout = aiohttp.ClientTimeout(total=10)
            async with aiohttp.ClientSession(middlewares=(aiohttp_middleware(auth),), timeout=timeout) as session:

                async def one(i: int) -> None:
                    t = time.perf_counter()
                    async with session.post(server.url, data={"command": "returnBalances", "i": str(i)}) as r:
                        report.add(t, r.status, await r.json(), None)

                await _tasks(tasks, one, stop)

        if aiohttp_report is not None and not stop.is_set():
            _timed(aiohttp_report, lambda: asyncio.run(via_aiohttp(aiohttp_report)))
        runs: list[tuple[Poloniex | KeyPool, _Report, str]] = [
            (auth, reports[2], server.url),
            (auth, reports[3], far.url),
            (pool, reports[4], far.url),
        ]
        for signer, report, url in runs:
            if not stop.is_set():

                def run(signer: Poloniex | KeyPool = signer, report: _Report = report, url: str = url) -> None:
                    asyncio.run(via_async(signer, report, url))

                _timed(report, run)
        if aiohttp_report is not None:
            reports.insert(3, reports.pop())
        stats = server.stats
        far_stats = far.stats
    if stop.is_set():
        return 1

    out.write(
        f"\n{'client':<38} {'sent':>4} {'accepted':>8} {'rejected':>8} {'req/s':>7} "
        f"{'round trip ms':>13} {'wait for key ms':>15}\n"
    )
    for report in reports:
        sent = report.accepted + report.rejected
        rate = sent / report.wall if report.wall else 0.0
        if report.round_trips:
            waits = [total - rt for total, rt in zip(report.latencies, report.round_trips, strict=True)]
            trip = f"{statistics.median(report.round_trips) * 1000:.2f}"
            wait = f"{max(statistics.median(waits) * 1000, 0.0):.2f}"
        else:
            trip = wait = "-"
        out.write(
            f"{report.client:<38} {sent:>4} {report.accepted:>8} {report.rejected:>8} {rate:>7.0f} "
            f"{trip:>13} {wait:>15}\n"
        )
        for error in report.errors:
            out.write(f"    {error}\n")
    out.write(
        "\nOne key carries one request at a time (from its nonce to its answer), so concurrent tasks\n"
        "queue for their key's turn: that wait, not the round trip, is what a KeyPool of more keys shortens.\n\n"
    )
    for name, counts in (("server", stats), (f"server {FAR_MS} ms away", far_stats)):
        out.write(
            f"{name}: {counts.accepted} accepted, {counts.bad_signature} bad signatures, "
            f"{counts.bad_nonce} stale nonces, {counts.unknown_key} unknown keys\n"
        )
    ok = all(r.rejected == 0 for r in reports) and stats.rejected == 0 and far_stats.rejected == 0
    out.write("OK: every request was signed correctly and accepted in nonce order.\n" if ok else "FAILED\n")
    return 0 if ok else 1
