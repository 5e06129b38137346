"""Count benchmark: Python bytecode instructions run per request, ours against the baselines.

Timings on a shared machine move between runs of the same code by more than a
small change is worth (``README.md``: up to 0.3 in a flow ratio). The number of
bytecode instructions a request runs does not move: it is the same in every run,
so it shows a change of the auth's own Python work exactly, before and after,
where a timing cannot. It is not a timing: it leaves out the C work (HMAC, locks,
allocation), which is about the same in every row, and one instruction is not one
unit of time. The timings stay the measure of the goals; this is the microscope.

Each row runs the request as its timing benchmark drives it, with the line tracer
of :func:`sys.settrace` counting ``opcode`` events, and reports the mean per request:

* requests: ``auth(prepared)`` and the response hooks on a 200 answer
  (``bench_apply_requests.py``), the seed's bare auth against ``Poloniex``;
* httpx, sync and async: the auth flow driven as ``httpx.Client`` drives it, with a
  ready 200 answer (``bench_httpx_flow.py``), the seed-style auth against
  ``Poloniex`` without and with ``follow_redirects``;
* aiohttp: the client middleware with a handler that answers 200 at once, the
  hand-written middleware of ``bench_e2e.py`` against ``aiohttp_middleware(Poloniex)``.

``--against REV`` adds the ``Poloniex`` rows of the package at commit ``REV``.
``--by-function`` lists, for each ``Poloniex`` row, where its instructions run.

Run: ``python benchmarks/bench_opcodes.py [--against REV] [--by-function]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
from collections.abc import Callable, Coroutine
from types import FrameType, ModuleType
from typing import Any

import _seed  # benchmarks/_seed.py: the seed's package, from git history
import aiohttp
import bench_apply_requests as apply_bench
import bench_e2e
import bench_httpx_flow as flow_bench
import httpx
from _handwritten import SeedStyleHttpxAuth, async_send_handling_auth, send_handling_auth
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

import hmac_body_auth

#: Requests counted per row (after as many untraced, to warm every cache the code keeps).
COUNT = 50
AIOHTTP_URL = URL("http://127.0.0.1:8080/tradingApi")

Counts = collections.Counter[tuple[str, str]]


class _Answer:
    """What an aiohttp middleware's handler returns, as far as a middleware reads it: a 200 with a small body."""

    status = 200

    def __init__(self) -> None:
        length = str(len(bench_e2e.ANSWER))
        self.headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json", "Content-Length": length}))

    async def read(self) -> bytes:
        return bench_e2e.ANSWER

    def release(self) -> None:
        """Nothing to give back: no connection."""


async def _answer(request: aiohttp.ClientRequest) -> Any:
    return _Answer()


def _tracer(counts: Counts) -> Callable[[FrameType, str, object], Any]:
    """A :func:`sys.settrace` tracer that counts every bytecode instruction in ``counts`` by (file, function)."""

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        frame.f_trace_opcodes = True
        if event == "opcode":
            code = frame.f_code
            counts[(code.co_filename.rpartition("/")[2], code.co_name)] += 1
        return tracer

    return tracer


def _traced(run: Callable[[], Any], counts: Counts) -> None:
    """Run ``run()`` with the instructions it executes counted."""
    sys.settrace(_tracer(counts))
    try:
        run()
    finally:
        sys.settrace(None)


async def _traced_async(coroutine: Coroutine[Any, Any, None], counts: Counts) -> None:
    """Await ``coroutine`` with the instructions it executes counted (the event loop's start and close not)."""
    sys.settrace(_tracer(counts))
    try:
        await coroutine
    finally:
        sys.settrace(None)


def _requests_row(auth: Any) -> Callable[[Counts], None]:
    def row(counts: Counts) -> None:
        base = apply_bench.template()
        for p, response in apply_bench.make_pool(base, COUNT):
            apply_bench.apply_and_answer(auth, p, response)
        pool = apply_bench.make_pool(base, COUNT)
        _traced(lambda: [apply_bench.apply_and_answer(auth, p, r) for p, r in pool], counts)

    return row


def _httpx_row(auth: httpx.Auth, *, is_async: bool, follow: bool) -> Callable[[Counts], None]:
    client: Any = httpx.AsyncClient() if is_async else httpx.Client()

    def drive(pool: list[Any]) -> None:
        if is_async:
            asyncio.run(_adrive(pool))
        else:
            for request, response in pool:
                send_handling_auth(client, request, auth, follow, response)

    async def _adrive(pool: list[Any]) -> None:
        for request, response in pool:
            await async_send_handling_auth(client, request, auth, follow, response)

    def row(counts: Counts) -> None:
        drive(flow_bench._pool(COUNT))
        pool = flow_bench._pool(COUNT)
        if is_async:
            asyncio.run(_traced_async(_adrive(pool), counts))
        else:
            _traced(lambda: drive(pool), counts)

    return row


def _aiohttp_row(middleware: Any) -> Callable[[Counts], None]:
    async def drive(n: int, counts: Counts | None) -> None:
        loop = asyncio.get_running_loop()
        requests = [
            aiohttp.ClientRequest("POST", AIOHTTP_URL, data=bench_e2e.FIELDS, loop=loop, traces=[]) for _ in range(n)
        ]

        async def run() -> None:
            for request in requests:
                await middleware(request, _answer)

        await (run() if counts is None else _traced_async(run(), counts))

    def row(counts: Counts) -> None:
        asyncio.run(drive(COUNT, None))
        asyncio.run(drive(COUNT, counts))

    return row


def _rows(before: ModuleType | None) -> dict[str, tuple[str, Callable[[Counts], None]]]:
    """Row name -> (its baseline's row name, the row)."""
    key, secret = flow_bench.KEY, flow_bench.SECRET
    seed = _seed.load()
    rows: dict[str, tuple[str, Callable[[Counts], None]]] = {}
    packages: list[tuple[str, ModuleType]] = [("", hmac_body_auth)]
    if before is not None:
        packages.append((" " + _seed.label(before), before))

    rows["requests: seed bare"] = ("requests: seed bare", _requests_row(seed.BodyDigestAuth(secret=secret)))
    for suffix, package in packages:
        rows[f"requests: Poloniex{suffix}"] = ("requests: seed bare", _requests_row(package.Poloniex(key, secret)))
    for kind, is_async in (("sync", False), ("async", True)):
        base = f"httpx {kind}: seed-style"
        rows[base] = (base, _httpx_row(SeedStyleHttpxAuth(secret), is_async=is_async, follow=False))
        for suffix, package in packages:
            for follow in (False, True):
                name = f"httpx {kind}: Poloniex{', follow_redirects' if follow else ''}{suffix}"
                rows[name] = (base, _httpx_row(package.Poloniex(key, secret), is_async=is_async, follow=follow))
    base = "aiohttp: hand-written"
    rows[base] = (base, _aiohttp_row(bench_e2e._middleware(secret, key)))
    for suffix, package in packages:
        middleware = package.aiohttp_middleware(package.Poloniex(key, secret))
        rows[f"aiohttp: Poloniex{suffix}"] = (base, _aiohttp_row(middleware))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--against", metavar="REV", default=None, help="also count Poloniex as it was at commit REV")
    parser.add_argument("--by-function", action="store_true", help="where each Poloniex row's instructions run")
    parser.add_argument("--top", type=int, default=12, metavar="N", help="how many functions --by-function lists")
    parser.add_argument("--all", action="store_true", help="--by-function for the baselines too")
    args = parser.parse_args()
    before = _seed.at(args.against) if args.against else None

    counted: dict[str, Counts] = {}
    rows = _rows(before)
    for name, (_, row) in rows.items():
        counts: Counts = collections.Counter()
        row(counts)
        counted[name] = counts

    print(f"bench_opcodes: Python bytecode instructions per request, mean of {COUNT} requests")
    print(f"python {sys.version.split()[0]}, hmac_body_auth {hmac_body_auth.__version__}")
    print()
    print(f"{'row':<48} {'instructions':>12} {'ratio':>7}")
    for name, (base, _) in rows.items():
        total = counted[name].total() / COUNT
        print(f"{name:<48} {total:>12.0f} {total / (counted[base].total() / COUNT):>7.2f}")
    if args.by_function:
        for name, counts in counted.items():
            if "Poloniex" not in name and not args.all:
                continue
            print()
            print(f"{name}: the functions that run the most instructions")
            for (filename, function), n in counts.most_common(args.top):
                print(f"  {n / COUNT:>7.0f}  {filename}:{function}")


if __name__ == "__main__":
    main()
