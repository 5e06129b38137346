"""Ratio benchmark: the price of per-key ordering under concurrency.

500 signed requests through one key (one ``hmac_body_auth.Poloniex(key, secret)``)
to a strict ``PoloniexServer``, sent by 8 threads (or 500 asyncio tasks), against
the same 500 sent one after another from one thread (or awaited in sequence).
The lease serializes the key's requests from nonce allocation to response, so the
concurrent run can at best match the sequential one; the ratio
``wall(concurrent) / wall(sequential)`` is the price of the handoffs. Goal: <= 1.10.

Clients, each timed sequential and concurrent:

* ``requests, shared Session``: one ``requests.Session`` used by all 8 threads;
* ``requests, Session per thread``: 8 sessions, one per thread (the sequential run
  uses the first);
* ``httpx.Client``: one client shared by the 8 threads;
* ``httpx.AsyncClient``: 500 tasks gathered on one loop vs 500 sequential awaits.

The server runs in a child process (this script with ``--serve``), so it does not
compete with the client threads for the client's GIL; the two processes share this
machine's 2 cores. Clients, connections and auth objects are made once and warmed
up; each round times every client sequential and concurrent (the order rotates),
and the ratio is the median over rounds of the per-round ratio.

Then the rejection counts: with ``ordered=True`` (the default) the strict server
should reject none; with ``ordered=False`` requests overtake each other between
signing and arrival and are rejected as stale. Measured with the auth's one
automatic re-sign after a "Nonce must be greater" answer (the default) and without
it (``nonce_error=None``). Written to ``benchmarks/results/ordering.json`` (full
runs) for ``plot_ordering.py``.

Run: ``python benchmarks/bench_ordering.py [--quick] [--profile]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import requests

import hmac_body_auth

KEY = "BENCH-ORDER-KEY-0001"
SECRET = "bench-ordering-secret-0123456789"
TOTAL = 500
THREADS = 8
GOAL = 1.10
RESULTS = Path(__file__).with_name("results") / "ordering.json"


# -- the server, in a child process ---------------------------------------------------------


def serve() -> None:
    """Child mode: run a PoloniexServer; answer ``stats``/``reset`` lines on stdin until EOF."""
    import http.server

    from hmac_body_auth.testing import PoloniexServer

    # socketserver listens with a backlog of 5: 100 connections opened at once (httpx.AsyncClient's
    # default limit, unordered) overflow it, and with SYN cookies the dropped ones end in a
    # ReadError. PoloniexServer builds a ThreadingHTTPServer itself, so the backlog is raised here.
    http.server.ThreadingHTTPServer.request_queue_size = 128

    with PoloniexServer({KEY: SECRET}) as server:
        print(server.url, flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "reset":
                server.reset()
                print("{}", flush=True)
            elif command == "stats":
                s = server.stats
                print(
                    json.dumps({"accepted": s.accepted, "bad_nonce": s.bad_nonce, "rejected": s.rejected}),
                    flush=True,
                )


class ServerProcess:
    """The parent's handle on the child server."""

    def __init__(self) -> None:
        # This script itself, by absolute path, no shell.
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the server did not start: {self.url!r}")

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


# -- the clients ------------------------------------------------------------------------------

Poster = Callable[[int], int]
"""post(i) -> HTTP status of the final response of request i."""


def form(i: int) -> dict[str, str]:
    return {"command": "returnBalances", "i": str(i)}


def in_threads(posters: list[Poster], total: int) -> list[int]:
    """Send ``total`` requests from ``len(posters)`` threads (thread k uses posters[k]); return statuses."""
    statuses: list[int] = [0] * total
    start = threading.Barrier(len(posters))

    def work(k: int) -> None:
        post = posters[k]
        start.wait()
        for i in range(k, total, len(posters)):
            statuses[i] = post(i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(posters))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


class Scenario:
    """One client: a sequential and a concurrent way of sending ``total`` requests."""

    name: str

    def sequential(self, total: int) -> list[int]:
        raise NotImplementedError

    def concurrent(self, total: int) -> list[int]:
        raise NotImplementedError

    def close(self) -> None:
        """Close clients."""


class RequestsScenario(Scenario):
    def __init__(self, url: str, auth: Any, *, per_thread: bool) -> None:
        self.name = "requests, Session per thread" if per_thread else "requests, shared Session"
        self.sessions = [requests.Session() for _ in range(THREADS if per_thread else 1)]
        self.url = url
        self.auth = auth

    def _poster(self, session: requests.Session) -> Poster:
        url, auth = self.url, self.auth
        return lambda i: session.post(url, data=form(i), auth=auth, timeout=30).status_code

    def sequential(self, total: int) -> list[int]:
        post = self._poster(self.sessions[0])
        return [post(i) for i in range(total)]

    def concurrent(self, total: int) -> list[int]:
        posters = [self._poster(self.sessions[k % len(self.sessions)]) for k in range(THREADS)]
        return in_threads(posters, total)

    def close(self) -> None:
        for s in self.sessions:
            s.close()


class HttpxScenario(Scenario):
    name = "httpx.Client"

    def __init__(self, url: str, auth: Any) -> None:
        self.client = httpx.Client(timeout=30)
        self.url = url
        self.auth = auth

    def _post(self, i: int) -> int:
        return self.client.post(self.url, data=form(i), auth=self.auth).status_code

    def sequential(self, total: int) -> list[int]:
        return [self._post(i) for i in range(total)]

    def concurrent(self, total: int) -> list[int]:
        return in_threads([self._post] * THREADS, total)

    def close(self) -> None:
        self.client.close()


class AsyncScenario(Scenario):
    name = "httpx.AsyncClient"

    def __init__(self, url: str, auth: Any, runner: asyncio.Runner) -> None:
        self.runner = runner
        self.client = runner.run(self._make())
        self.url = url
        self.auth = auth

    @staticmethod
    async def _make() -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=30)

    async def _post(self, i: int) -> int:
        return (await self.client.post(self.url, data=form(i), auth=self.auth)).status_code

    async def _sequential(self, total: int) -> list[int]:
        return [await self._post(i) for i in range(total)]

    async def _concurrent(self, total: int) -> list[int]:
        return list(await asyncio.gather(*(self._post(i) for i in range(total))))

    def sequential(self, total: int) -> list[int]:
        return self.runner.run(self._sequential(total))

    def concurrent(self, total: int) -> list[int]:
        return self.runner.run(self._concurrent(total))

    def close(self) -> None:
        self.runner.run(self.client.aclose())


def make_scenarios(url: str, auth: Any, runner: asyncio.Runner) -> list[Scenario]:
    return [
        RequestsScenario(url, auth, per_thread=False),
        RequestsScenario(url, auth, per_thread=True),
        HttpxScenario(url, auth),
        AsyncScenario(url, auth, runner),
    ]


# -- measuring ----------------------------------------------------------------------------------


def run_once(server: ServerProcess, send: Callable[[int], list[int]], total: int) -> dict[str, Any]:
    """One batch: wall time, final statuses and what the server counted."""
    server.ask("reset")
    start = time.perf_counter()
    statuses = send(total)
    wall = time.perf_counter() - start
    stats = server.ask("stats")
    return {
        "wall_s": wall,
        "sent": total,
        "client_failures": sum(1 for s in statuses if s != 200),
        "server_received": stats["accepted"] + stats["rejected"],
        "server_rejected": stats["bad_nonce"],
    }


class Timeline:
    """Records when the lease is taken and given back (wraps the private ``Lease``; diagnostics only)."""

    def __init__(self) -> None:
        from hmac_body_auth import _lease

        self.cls = _lease.Lease
        self.saved = (self.cls.acquire, self.cls.acquire_async, self.cls.release)
        self.events: list[tuple[str, float]] = []

    def __enter__(self) -> Timeline:
        acquire, acquire_async, release = self.saved
        events = self.events

        def timed_acquire(lease: Any, token: object, timeout: float | None = None) -> None:
            acquire(lease, token, timeout)
            events.append(("take", time.perf_counter()))

        async def timed_acquire_async(lease: Any, token: object, timeout: float | None = None) -> None:
            await acquire_async(lease, token, timeout)
            events.append(("take", time.perf_counter()))

        def timed_release(lease: Any, token: object) -> bool:
            events.append(("give", time.perf_counter()))
            return release(lease, token)  # type: ignore[no-any-return]

        self.cls.acquire = timed_acquire  # type: ignore[method-assign]
        self.cls.acquire_async = timed_acquire_async  # type: ignore[method-assign]
        self.cls.release = timed_release  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.cls.acquire, self.cls.acquire_async, self.cls.release = self.saved  # type: ignore[method-assign]

    def split(self) -> tuple[list[float], list[float]]:
        """(time inside the lease per request, gap from one give to the next take)."""
        inside, gaps = [], []
        for (k1, t1), (k2, t2) in itertools.pairwise(self.events):
            if (k1, k2) == ("take", "give"):
                inside.append(t2 - t1)
            elif (k1, k2) == ("give", "take"):
                gaps.append(t2 - t1)
        self.events.clear()
        return inside, gaps


class LockedScenario(Scenario):
    """Another scenario's requests, each sent under an external lock (with an unordered auth)."""

    def __init__(self, inner: Scenario, name: str, lock: Any) -> None:
        self.name = name
        self.inner = inner
        self.lock = lock

    def _wrap(self, post: Poster) -> Poster:
        def locked(i: int) -> int:
            with self.lock:
                return post(i)

        return locked

    def sequential(self, total: int) -> list[int]:
        raise NotImplementedError

    def concurrent(self, total: int) -> list[int]:
        inner = self.inner
        if isinstance(inner, RequestsScenario):
            posters = [self._wrap(inner._poster(inner.sessions[0])) for _ in range(THREADS)]
        else:
            assert isinstance(inner, HttpxScenario)
            posters = [self._wrap(inner._post)] * THREADS
        return in_threads(posters, total)


class HandOverLock:
    """A FIFO lock that hands itself to the longest waiter, like the lease (an Event per waiter)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._queue: deque[threading.Event] = deque()
        self._held = False

    def __enter__(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            event = threading.Event()
            self._queue.append(event)
        event.wait()

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._queue:
                self._queue.popleft().set()  # still held: handed over
            else:
                self._held = False


class AsyncLockedScenario(Scenario):
    """The AsyncClient scenario, each request under one ``asyncio.Lock`` (FIFO), with an unordered auth."""

    def __init__(self, inner: AsyncScenario) -> None:
        self.name = "ordered=False + asyncio.Lock"
        self.inner = inner

    def sequential(self, total: int) -> list[int]:
        raise NotImplementedError

    def concurrent(self, total: int) -> list[int]:
        inner = self.inner

        async def run() -> list[int]:
            lock = asyncio.Lock()

            async def post(i: int) -> int:
                async with lock:
                    return await inner._post(i)

            return list(await asyncio.gather(*(post(i) for i in range(total))))

        return inner.runner.run(run())


class NoPolling(Scenario):
    """The AsyncClient scenario with the lease's 50 ms waiter polling stretched to 10 s (private knob)."""

    def __init__(self, inner: AsyncScenario) -> None:
        self.name = "lease, waiters poll every 10 s"
        self.inner = inner

    def sequential(self, total: int) -> list[int]:
        raise NotImplementedError

    def concurrent(self, total: int) -> list[int]:
        from hmac_body_auth import _lease

        saved = _lease._CHECK_EVERY
        _lease._CHECK_EVERY = 10.0  # type: ignore[misc]
        try:
            return self.inner.concurrent(total)
        finally:
            _lease._CHECK_EVERY = saved  # type: ignore[misc]


def profile(server: ServerProcess, scenarios: list[Scenario], runner: asyncio.Runner, total: int, rounds: int) -> None:
    """Where the concurrent runs' extra time goes (instrumented; slower than the timed runs)."""
    print(f"profile ({rounds} rounds of {total} requests, ratios paired with the same round's sequential run)")
    print("1. time inside the lease per request, and the gap from one holder's give-back to the next take:")
    print(f"   {'client':<30} {'run':<5} {'wall ms':>8} {'inside ms':>10} {'gaps ms':>8} {'median gap us':>14}")
    for sc in scenarios:
        rows: dict[str, list[tuple[float, float, float, float]]] = {"seq": [], "conc": []}
        with Timeline() as tl:
            for i in range(rounds):
                for kind in ("seq", "conc") if i % 2 == 0 else ("conc", "seq"):
                    start = time.perf_counter()
                    (sc.sequential if kind == "seq" else sc.concurrent)(total)
                    wall = time.perf_counter() - start
                    inside, gaps = tl.split()
                    rows[kind].append((wall, sum(inside), sum(gaps), statistics.median(gaps)))
        for kind, values in rows.items():
            med = [statistics.median(v[j] for v in values) for j in range(4)]
            print(
                f"   {sc.name:<30} {kind:<5} {med[0] * 1e3:>8.0f} {med[1] * 1e3:>10.0f} {med[2] * 1e3:>8.0f} "
                f"{med[3] * 1e6:>14.0f}"
            )
    unordered = hmac_body_auth.Poloniex(KEY, SECRET, ordered=False, nonce_error=None)
    plain = make_scenarios(server.url, unordered, runner)
    requests_shared, _, httpx_client, async_client = scenarios
    assert isinstance(async_client, AsyncScenario)
    plain_async = plain[3]
    assert isinstance(plain_async, AsyncScenario)
    variants: list[tuple[Scenario, list[Scenario]]] = [
        (
            requests_shared,
            [
                LockedScenario(plain[0], "ordered=False + threading.Lock", threading.Lock()),
                LockedScenario(plain[0], "ordered=False + hand-over lock", HandOverLock()),
                plain[0],
            ],
        ),
        (
            httpx_client,
            [
                LockedScenario(plain[2], "ordered=False + threading.Lock", threading.Lock()),
                LockedScenario(plain[2], "ordered=False + hand-over lock", HandOverLock()),
                plain[2],
            ],
        ),
        (async_client, [NoPolling(async_client), AsyncLockedScenario(plain_async), plain_async]),
    ]
    print("2. the same concurrent runs with other ways of ordering (ratio to the sequential run with the lease):")
    print(f"   {'client':<30} {'ordering':<34} {'conc ms':>8} {'ratio (median)':>15} {'rejected':>9}")
    for base, others in variants:
        for other in others:
            other.concurrent(2 * THREADS)  # warm-up
        subjects = [base, *others]
        seq: list[float] = []
        conc: dict[int, list[float]] = {k: [] for k in range(len(subjects))}
        rejected = dict.fromkeys(range(len(subjects)), 0)
        for i in range(rounds):
            seq.append(run_once(server, base.sequential, total)["wall_s"])
            order = list(range(len(subjects)))
            order = order[i % len(order) :] + order[: i % len(order)]
            for k in order:
                result = run_once(server, subjects[k].concurrent, total)
                conc[k].append(result["wall_s"])
                rejected[k] += result["server_rejected"]
        for k, subject in enumerate(subjects):
            label = "lease (ordered=True)" if k == 0 else subject.name
            if k == len(subjects) - 1:
                label = "ordered=False, no lock"
            ratio = statistics.median(c / s for c, s in zip(conc[k], seq, strict=True))
            print(
                f"   {base.name:<30} {label:<34} {statistics.median(conc[k]) * 1e3:>8.0f} {ratio:>15.3f} "
                f"{rejected[k]:>9}"
            )
    for sc in plain:
        sc.close()
    print()


def report(
    args: argparse.Namespace,
    total: int,
    rounds: int,
    reps: int,
    names: list[str],
    seq: dict[str, list[float]],
    conc: dict[str, list[float]],
    ordered: tuple[int, int],
    rejections: list[dict[str, Any]],
    out: Path | None,
) -> None:
    ordered_rejections, ordered_failures = ordered
    print(
        f"bench_ordering: {total} requests through one key, {THREADS} threads (or {total} tasks) vs one "
        f"sequence, {rounds} rounds"
    )
    print(
        f"python {platform.python_version()}, requests {requests.__version__}, httpx {httpx.__version__}, "
        f"hmac_body_auth {hmac_body_auth.__version__}, server in a child process"
        f"{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    print(
        f"{'client (ordered=True)':<32} {'seq ms':>8} {'conc ms':>8} {'seq req/s':>10} {'conc req/s':>11} "
        f"{'ratio (median)':>15} {'ratio (min)':>12}"
    )
    timing: dict[str, Any] = {}
    for name in names:
        s, c = seq[name], conc[name]
        paired = statistics.median(b / a for a, b in zip(s, c, strict=True))
        low = min(c) / min(s)
        timing[name] = {
            "sequential_s": statistics.median(s),
            "concurrent_s": statistics.median(c),
            "ratio_median": paired,
            "ratio_min": low,
        }
        print(
            f"{name:<32} {statistics.median(s) * 1e3:>8.0f} {statistics.median(c) * 1e3:>8.0f} "
            f"{total / statistics.median(s):>10.0f} {total / statistics.median(c):>11.0f} {paired:>15.3f} {low:>12.3f}"
        )
    print(
        f"server rejections over all {rounds * len(names) * 2} timed ordered runs: {ordered_rejections} "
        f"(client-visible failures {ordered_failures})"
    )
    print()
    print(f"rejections, concurrent runs of {total} requests, {reps} runs each (per run):")
    print(f"{'client':<32} {'mode':<26} {'server rejected':>22} {'received':>16} {'failed':>12} {'conc ms':>12}")
    for row in rejections:
        runs = row["runs"]

        def col(field: str, runs: list[dict[str, Any]] = runs) -> str:
            return "/".join(str(r[field]) for r in runs)

        walls = "/".join(f"{r['wall_s'] * 1e3:.0f}" for r in runs)
        print(
            f"{row['client']:<32} {row['mode']:<26} {col('server_rejected'):>22} {col('server_received'):>16} "
            f"{col('client_failures'):>12} {walls:>12}"
        )
    print()
    worst = max(t["ratio_median"] for t in timing.values())
    verdict = "met" if worst <= GOAL else "NOT met"
    per = ", ".join(f"{name} {t['ratio_median']:.3f}" for name, t in timing.items())
    print(f"goal: wall(concurrent) / wall(sequential) <= {GOAL:.2f}: worst {worst:.3f} ({verdict}); {per}")

    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "benchmark": "bench_ordering",
            "requests": total,
            "threads": THREADS,
            "rounds": rounds,
            "quick": args.quick,
            "python": platform.python_version(),
            "requests_version": requests.__version__,
            "httpx_version": httpx.__version__,
            "hmac_body_auth_version": hmac_body_auth.__version__,
            "timing_ordered": timing,
            "timed_ordered_runs_server_rejections": ordered_rejections,
            "rejections": rejections,
        }
        out.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (100 requests, 2 rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 7, quick 2)")
    parser.add_argument("--reps", type=int, default=None, help="rejection runs per mode (default 3, quick 1)")
    parser.add_argument("--json", type=Path, default=None, help=f"write results here (default {RESULTS}, not quick)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="then show where the concurrent time goes (lease timeline, other locks; ~1 min more)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # The unordered runs are rejected by design: one WARNING per raised floor would flood the output.
    logging.getLogger("hmac_body_auth").setLevel(logging.ERROR)
    if args.serve:
        serve()
        return
    rounds = args.rounds or (2 if args.quick else 7)
    reps = args.reps or (1 if args.quick else 3)
    total = 100 if args.quick else TOTAL
    out = args.json or (None if args.quick else RESULTS)

    server = ServerProcess()
    runner = asyncio.Runner()
    auth = hmac_body_auth.Poloniex(KEY, SECRET)
    scenarios = make_scenarios(server.url, auth, runner)
    try:
        # Warm up: connections opened (up to 8 per client), code paths taken.
        for sc in scenarios:
            sc.sequential(20)
            sc.concurrent(2 * THREADS)

        seq: dict[str, list[float]] = {sc.name: [] for sc in scenarios}
        conc: dict[str, list[float]] = {sc.name: [] for sc in scenarios}
        ordered_rejections = ordered_failures = 0
        for i in range(rounds):
            shift = i % len(scenarios)
            for sc in scenarios[shift:] + scenarios[:shift]:
                runs = [("seq", sc.sequential), ("conc", sc.concurrent)]
                if i % 2:
                    runs.reverse()
                for kind, send in runs:
                    result = run_once(server, send, total)
                    (seq if kind == "seq" else conc)[sc.name].append(result["wall_s"])
                    ordered_rejections += result["server_rejected"]
                    ordered_failures += result["client_failures"]

        # Rejections with and without ordering.
        modes: dict[str, Any] = {
            "ordered": auth,
            "unordered, re-sign once": hmac_body_auth.Poloniex(KEY, SECRET, ordered=False),
            "unordered, no re-sign": hmac_body_auth.Poloniex(KEY, SECRET, ordered=False, nonce_error=None),
        }
        rejections: list[dict[str, Any]] = []
        for mode, mode_auth in modes.items():
            for sc in make_scenarios(server.url, mode_auth, runner):
                sc.concurrent(2 * THREADS)  # warm-up (connections)
                runs = [run_once(server, sc.concurrent, total) for _ in range(reps)]
                sc.close()
                rejections.append({"client": sc.name, "mode": mode, "runs": runs})
        report(
            args,
            total,
            rounds,
            reps,
            [sc.name for sc in scenarios],
            seq,
            conc,
            (ordered_rejections, ordered_failures),
            rejections,
            out,
        )
        if args.profile:
            print()
            profile(server, scenarios, runner, total, rounds=3 if args.quick else 5)
    finally:
        for sc in scenarios:
            sc.close()
        runner.close()
        server.close()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
