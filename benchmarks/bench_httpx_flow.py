"""Ratio benchmark: the httpx auth flows, driven as ``httpx.Client`` and ``AsyncClient`` drive them.

Compares, inside one run, the per-request cost of running an auth's flow the way
httpx's ``_send_handling_auth`` does (``auth.sync_auth_flow(request)``, ``next()``,
the answer sent back in with ``send()``, the flow closed; async: ``asend``), with
the network send replaced by a ready 200 answer, for

* ``seed-style``: a hand-written ``httpx.Auth`` whose ``auth_flow`` sets
  ``Sign = hex(HMAC-SHA512(secret, body))`` on the request in place and yields it,
  the shape of the seed's httpx auth: the baseline;
* ``Poloniex``: ``hmac_body_auth.Poloniex(key, secret)`` (nonce appended to the
  form, Content-Length, Key and Sign, per-key lease held until the answer, the
  answer checked for a nonce error), on a client that does not follow redirects
  (httpx's default);
* ``Poloniex, follow_redirects``: the same on a client that follows redirects
  (the auth then also guards every hop through httpcore's ``trace`` extension; the
  driver calls no transport, so the trace's per-event cost is not in this row:
  ``bench_e2e.py`` measures it over a socket);
* ``seed bare`` (reference): the seed's own ``BodyDigestAuth(secret=...)``
  (``benchmarks/_seed.py``), no nonce.

Sync rows drive ``sync_auth_flow``; async rows ``async_auth_flow`` inside one
running event loop. Each request is a fresh ``httpx.Request("POST", url,
data={...})`` built before the timed loop, with its own answer. Rounds of the
subjects are interleaved (the order rotates each round), the garbage collector is
off in the timed loop, and the ratio is the median over rounds of the per-round
ratio (paired, so drift cancels).

``--against REV`` adds the ``Poloniex`` rows (with and without follow_redirects) of
the package at commit ``REV`` (``_seed.at``), timed in the same rounds: a change
before and after in one run.

Run: ``python benchmarks/bench_httpx_flow.py [--quick] [--against REV]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import hmac
import platform
import statistics
import time
from typing import Any

import _seed  # benchmarks/_seed.py: the seed's package, from git history
import httpx
from _handwritten import SeedStyleHttpxAuth, async_send_handling_auth, send_handling_auth

import hmac_body_auth

URL = "https://poloniex.com/tradingApi"
FIELDS = {"command": "returnBalances", "currencyPair": "BTC_ETH"}
KEY = "BENCH-FLOW-KEY-0001"
SECRET = b"bench-secret-0123456789abcdef0123456789abcdef"
ANSWER = b'{"BTC": "0.00000000", "ETH": "1.50000000"}'
GOAL = 2.0
BASELINE = "seed-style"


def _pool(n: int) -> list[tuple[httpx.Request, httpx.Response]]:
    """Fresh requests, each with the 200 answer the transport would give (built before timing)."""
    return [
        (
            httpx.Request("POST", URL, data=FIELDS),
            httpx.Response(200, headers={"Content-Type": "application/json"}, content=ANSWER),
        )
        for _ in range(n)
    ]


def _check(request: httpx.Request, nonce: bool) -> None:
    body = request.content
    if request.headers.get("Sign") != hmac.new(SECRET, body, hashlib.sha512).hexdigest():
        raise SystemExit("a subject's Sign does not match the body it sends")
    if nonce and b"&nonce=" not in body:
        raise SystemExit("a nonce subject sent no nonce")


class Subject:
    """One row: an auth, sync or async, on a client that does or does not follow redirects."""

    def __init__(self, auth: httpx.Auth, *, is_async: bool, follow: bool, nonce: bool) -> None:
        self.auth = auth
        self.is_async = is_async
        self.follow = follow
        self.nonce = nonce
        self.client: Any = httpx.AsyncClient() if is_async else httpx.Client()

    def check(self, loop: asyncio.AbstractEventLoop) -> None:
        _check(self._run(loop, _pool(1))[1], self.nonce)

    def _run(self, loop: asyncio.AbstractEventLoop, pool: list[Any]) -> tuple[float, httpx.Request]:
        if self.is_async:
            return loop.run_until_complete(self._run_async(pool))
        gc.disable()
        try:
            start = time.perf_counter()
            for request, response in pool:
                sent = send_handling_auth(self.client, request, self.auth, self.follow, response)
            return time.perf_counter() - start, sent
        finally:
            gc.enable()

    async def _run_async(self, pool: list[Any]) -> tuple[float, httpx.Request]:
        gc.disable()
        try:
            start = time.perf_counter()
            for request, response in pool:
                sent = await async_send_handling_auth(self.client, request, self.auth, self.follow, response)
            return time.perf_counter() - start, sent
        finally:
            gc.enable()

    def time_round(self, loop: asyncio.AbstractEventLoop, n: int) -> float:
        """Seconds per flow over ``n`` fresh requests."""
        pool = _pool(n)
        gc.collect()
        return self._run(loop, pool)[0] / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few, short rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per subject (default 21, quick 3)")
    parser.add_argument("--calls", type=int, default=None, help="flows per round (default 2000, quick 200)")
    parser.add_argument(
        "--against", metavar="REV", default=None, help="also time Poloniex as it was at commit REV (before/after)"
    )
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 21)
    calls = args.calls or (200 if args.quick else 2000)

    seed = _seed.load()
    before = _seed.at(args.against) if args.against else None
    subjects: dict[str, Subject] = {}
    for kind, is_async in (("sync", False), ("async", True)):
        subjects[f"{BASELINE} {kind}"] = Subject(
            SeedStyleHttpxAuth(SECRET), is_async=is_async, follow=False, nonce=False
        )
        subjects[f"Poloniex {kind}"] = Subject(
            hmac_body_auth.Poloniex(KEY, SECRET), is_async=is_async, follow=False, nonce=True
        )
        subjects[f"Poloniex {kind}, follow_redirects"] = Subject(
            hmac_body_auth.Poloniex(KEY, SECRET), is_async=is_async, follow=True, nonce=True
        )
        if before is not None:
            subjects[f"Poloniex {kind} {_seed.label(before)}"] = Subject(
                before.Poloniex("BEFORE-" + KEY, SECRET), is_async=is_async, follow=False, nonce=True
            )
            subjects[f"Poloniex {kind}, follow {_seed.label(before)}"] = Subject(
                before.Poloniex("BEFORE-" + KEY, SECRET), is_async=is_async, follow=True, nonce=True
            )
        subjects[f"seed bare {kind}"] = Subject(
            seed.BodyDigestAuth(secret=SECRET), is_async=is_async, follow=False, nonce=False
        )
    loop = asyncio.new_event_loop()
    for subject in subjects.values():
        subject.check(loop)
        subject.time_round(loop, max(calls // 10, 20))  # warm-up

    names = list(subjects)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(subjects[name].time_round(loop, calls))
    loop.close()

    print(f"bench_httpx_flow: auth flows as httpx drives them, {rounds} rounds x {calls} flows")
    print(
        f"python {platform.python_version()}, httpx {httpx.__version__}, hmac_body_auth "
        f"{hmac_body_auth.__version__}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    print(f"{'subject':<34} {'median us':>10} {'min us':>8} {'ratio (median)':>15} {'ratio (min)':>12}")
    verdicts = []
    for name in names:
        kind = "async" if subjects[name].is_async else "sync"
        base = f"{BASELINE} {kind}"
        paired = [a / b for a, b in zip(times[name], times[base], strict=True)]
        r_med, r_min = statistics.median(paired), min(times[name]) / min(times[base])
        med, low = statistics.median(times[name]) * 1e6, min(times[name]) * 1e6
        print(f"{name:<34} {med:>10.2f} {low:>8.2f} {r_med:>15.2f} {r_min:>12.2f}")
        if name.startswith("Poloniex") and "@" not in name:
            verdicts.append((name, r_med))
    print()
    for name, r_med in verdicts:
        print(f"goal: {name} / {BASELINE} <= {GOAL:.2f}: {r_med:.2f} ({'met' if r_med <= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
