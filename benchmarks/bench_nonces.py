"""Ratio benchmark: nonces per second of each nonce source against a locked counter.

Compares, inside one run, single-threaded, the cost of one nonce from

* ``count + Lock`` (baseline): ``with lock: next(itertools.count())``, the least a
  correct in-process counter can do;
* ``ClockNonce``: ``max(clock_us, last + 1)`` under a lock;
* ``FileNonce``: the high-water mark in a file, read and written under
  ``fcntl.flock`` (``fsync=False`` and ``fsync=True``);
* ``FileNonce acquire/nonce/release``: the calls the auth makes per request for
  an inter-process source (lock, allocate, and after the response unlock);
* ``RedisNonce``: one Lua script round trip to a private ``redis-server`` on a
  free loopback port (skipped, with a message, if ``redis-server`` is missing),
  and one ordered request's worth of Redis work, sync and asyncio:

  - ``acquire/nonce/release`` (before): the three calls the auth made per
    request up to 0.1 (lock, allocate, unlock: three round trips);
  - ``acquire_next/defer_release`` (after): what the auth does now (the lock
    and the nonce in one script; the release rides with the next request's
    script while requests come back to back).

  The Redis rows are also compared with ``RedisNonce`` without the lock (the
  same kind: sync with sync, asyncio with asyncio), and the Redis commands per
  request (``INFO commandstats``: every command a client sends here is one
  ``EVALSHA``, one round trip) are counted over a separate run.

The counter file lives in a temporary directory under ``$TMPDIR`` (a real disk
here, so ``fsync`` is real). Rounds are interleaved (the order rotates every
round), each subject runs a calibrated number of calls per round (about
``--target`` seconds), the garbage collector is off while timing, and the ratio
is the median over rounds of the per-round ratio of time per nonce.

Run: ``python benchmarks/bench_nonces.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import os
import platform
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import hmac_body_auth
from hmac_body_auth.nonces import ClockNonce, FileNonce

Call = Callable[[], object]

REDIS = "RedisNonce"
REDIS_BEFORE = "RedisNonce acquire/nonce/release"
REDIS_AFTER = "RedisNonce acquire_next/defer_release"
ASYNC = {
    "nonce": "async RedisNonce next_async",
    "before": "async acquire/next/release_async",
    "after": "async acquire_next_async/defer",
}
REDIS_ROWS = [REDIS, REDIS_BEFORE, REDIS_AFTER, ASYNC["nonce"], ASYNC["before"], ASYNC["after"]]
COUNTED = 200  # requests per subject in the round-trip count
round_trips: dict[str, float] = {}


def locked_counter() -> Call:
    counter = itertools.count(1)
    lock = threading.Lock()

    def nonce() -> int:
        with lock:
            return next(counter)

    return nonce


def per_request(source: FileNonce | object) -> Call:
    """acquire / nonce / release, as the auth drives an inter-process source per request."""
    acquire = source.acquire  # type: ignore[attr-defined]
    release = source.release  # type: ignore[attr-defined]

    def request() -> int:
        acquire(30.0)
        try:
            return source()  # type: ignore[operator,no-any-return]
        finally:
            release()

    return request


def ordered_now(source: object) -> Call:
    """What the auth does per ordered request now: lock and nonce in one script, release deferred."""
    acquire_next = source.acquire_next  # type: ignore[attr-defined]
    defer_release = source.defer_release  # type: ignore[attr-defined]
    release = source.release  # type: ignore[attr-defined]

    def request() -> int:
        value: int = acquire_next(30.0)
        if not defer_release():
            release()
        return value

    return request


def on_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Any]) -> Callable[[int], None]:
    """``n`` awaited calls of the coroutine function ``make`` inside one ``run_until_complete``."""

    async def many(n: int) -> None:
        for _ in range(n):
            await make()

    return lambda n: loop.run_until_complete(many(n))


def async_subjects(source: Any, loop: asyncio.AbstractEventLoop, kind: str) -> Callable[[int], None]:
    """The asyncio twins: the nonce alone, before (three awaited calls) and after (one)."""
    if kind == "nonce":
        return on_loop(loop, source.next_async)
    if kind == "before":

        async def before() -> int:
            await source.acquire_async(30.0)
            try:
                return int(await source.next_async())
            finally:
                await source.release_async()

        return on_loop(loop, before)

    async def after() -> int:
        value = int(await source.acquire_next_async(30.0))
        if not source.defer_release():
            await source.release_async()
        return value

    return on_loop(loop, after)


def evalsha_calls(url: str) -> int:
    """Scripts the server ran on clients' behalf so far (our sources send nothing else)."""
    import redis

    with redis.Redis.from_url(url) as admin:
        stats = admin.info("commandstats")
        admin.connection_pool.disconnect()
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


@contextlib.contextmanager
def redis_server() -> Iterator[str | None]:
    """A throwaway ``redis-server`` on a free loopback port (nothing on disk); ``None`` if missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as workdir:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        args += ["--dir", workdir, "--daemonize", "no"]
        # A fixed argument list, no shell: the binary found on PATH.
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                        conn.sendall(b"PING\r\n")
                        if conn.recv(16).startswith(b"+PONG"):
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("redis-server did not start")
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def batch(call: Call) -> Callable[[int], None]:
    """``n`` calls of ``call``."""

    def run(n: int) -> None:
        for _ in range(n):
            call()

    return run


def timed(run: Callable[[int], None], n: int) -> float:
    """Seconds per call over ``n`` calls, the garbage collector off."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        run(n)
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / n


def check(name: str, call: Call) -> None:
    values = [call() for _ in range(50)]
    if any(not isinstance(v, int) for v in values) or any(b <= a for a, b in itertools.pairwise(values)):
        raise SystemExit(f"{name}: nonces are not strictly increasing ints: {values[:5]}...")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few, short rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per subject (default 21, quick 3)")
    parser.add_argument(
        "--target", type=float, default=None, help="seconds per subject per round (default 0.1, quick 0.02)"
    )
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 21)
    target = args.target or (0.02 if args.quick else 0.1)

    with tempfile.TemporaryDirectory(prefix="bench-nonces-") as tmp, redis_server() as redis_url:
        file_plain = FileNonce(os.path.join(tmp, "plain.nonce"))
        file_sync = FileNonce(os.path.join(tmp, "fsync.nonce"), fsync=True)
        file_auth = FileNonce(os.path.join(tmp, "auth.nonce"))
        subjects: dict[str, Call] = {
            "count + Lock (baseline)": locked_counter(),
            "ClockNonce": ClockNonce(),
            "FileNonce": file_plain,
            "FileNonce fsync=True": file_sync,
            "FileNonce acquire/nonce/release": per_request(file_auth),
        }
        redis_sources: list[Any] = []
        runs: dict[str, Callable[[int], None]] = {}
        loop = asyncio.new_event_loop()
        if redis_url is not None:
            from hmac_body_auth.nonces import RedisNonce

            redis_sources = [RedisNonce(redis_url, name=f"bench-nonce-{i}") for i in range(6)]
            subjects[REDIS] = redis_sources[0]
            subjects[REDIS_BEFORE] = per_request(redis_sources[1])
            subjects[REDIS_AFTER] = ordered_now(redis_sources[2])
        for name, call in subjects.items():
            check(name, call)
            runs[name] = batch(call)
        if redis_url is not None:
            for kind, source in zip(("nonce", "before", "after"), redis_sources[3:], strict=True):
                runs[ASYNC[kind]] = async_subjects(source, loop, kind)
                runs[ASYNC[kind]](50)
            # Round trips per request, over a separate run of each Redis subject.
            for name in REDIS_ROWS:
                before = evalsha_calls(redis_url)
                runs[name](COUNTED)
                # A release still deferred is given back by the source's background thread.
                time.sleep(0.05)
                round_trips[name] = (evalsha_calls(redis_url) - before) / COUNTED

        # Calibrate: calls per round so that each subject runs about `target` seconds.
        calls: dict[str, int] = {}
        for name, run in runs.items():
            per_call = timed(run, 20)
            per_call = timed(run, max(20, int(0.02 / per_call)))
            calls[name] = max(20, int(target / per_call))

        names = list(runs)
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(rounds):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(timed(runs[name], calls[name]))

        for source in redis_sources:
            source.close()
        for source in redis_sources[3:]:
            loop.run_until_complete(source.aclose())
        loop.close()
        for source in (file_plain, file_sync, file_auth):
            source.close()

    baseline = "count + Lock (baseline)"
    print(f"bench_nonces: nonces per second, one thread, {rounds} rounds of ~{target:g} s per subject")
    print(
        f"python {platform.python_version()}, hmac_body_auth {hmac_body_auth.__version__}, "
        f"counter file in {tempfile.gettempdir()}{', QUICK (smoke only)' if args.quick else ''}"
    )
    if redis_url is None:
        print("RedisNonce rows skipped: redis-server is not on PATH (apt-get install redis-server)")
    print()
    print(
        f"{'subject':<40} {'calls':>7} {'median us':>10} {'min us':>9} {'nonces/s':>10} "
        f"{'ratio (median)':>15} {'ratio (min)':>12}"
    )
    for name in names:
        med = statistics.median(times[name])
        low = min(times[name])
        paired = statistics.median(a / b for a, b in zip(times[name], times[baseline], strict=True))
        print(
            f"{name:<40} {calls[name]:>7} {med * 1e6:>10.2f} {low * 1e6:>9.2f} {1 / med:>10,.0f} "
            f"{paired:>15.1f} {low / min(times[baseline]):>12.1f}"
        )
    print()

    def us(name: str) -> str:
        return f"{statistics.median(times[name]) * 1e6:.1f} us" if name in times else "skipped"

    print(
        "goal: none (reference numbers, time per nonce vs the locked counter); NOTES.md measured "
        "~4 us file, ~130 us fsync, ~120 us Redis"
    )
    print(
        f"      here: file {us('FileNonce')}, fsync {us('FileNonce fsync=True')}, Redis {us('RedisNonce')}, "
        f"per request: file {us('FileNonce acquire/nonce/release')}, Redis {us(REDIS_BEFORE)} before, "
        f"{us(REDIS_AFTER)} after"
    )
    if redis_url is None:
        return
    print()
    print("Ordered requests through RedisNonce, against RedisNonce without the lock (same kind, paired per round)")
    print(f"{'subject':<40} {'requests/s':>11} {'vs no lock':>11} {'round trips/request':>20}")
    for name in REDIS_ROWS:
        unlocked = ASYNC["nonce"] if name.startswith("async") else REDIS
        ratio = statistics.median(a / b for a, b in zip(times[name], times[unlocked], strict=True))
        print(f"{name:<40} {1 / statistics.median(times[name]):>11,.0f} {ratio:>10.2f}x {round_trips[name]:>20.2f}")
    print()
    print("goal: one round trip per ordered request (issue 13), sync and asyncio; 'after' near 1.0x of no lock")


if __name__ == "__main__":
    main()
