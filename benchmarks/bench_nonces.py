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
  and the same with ``acquire``/``release`` of its Redis lock around the nonce.

The counter file lives in a temporary directory under ``$TMPDIR`` (a real disk
here, so ``fsync`` is real). Rounds are interleaved (the order rotates every
round), each subject runs a calibrated number of calls per round (about
``--target`` seconds), the garbage collector is off while timing, and the ratio
is the median over rounds of the per-round ratio of time per nonce.

Run: ``python benchmarks/bench_nonces.py [--quick]``.
"""

from __future__ import annotations

import argparse
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

import hmac_body_auth
from hmac_body_auth.nonces import ClockNonce, FileNonce

Call = Callable[[], object]


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


def timed(call: Call, n: int) -> float:
    """Seconds per call over ``n`` calls, the garbage collector off."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            call()
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
        redis_sources = []
        if redis_url is not None:
            from hmac_body_auth.nonces import RedisNonce

            redis_sources = [
                RedisNonce(redis_url, name="bench-nonce"),
                RedisNonce(redis_url, name="bench-nonce-auth"),
            ]
            subjects["RedisNonce"] = redis_sources[0]
            subjects["RedisNonce acquire/nonce/release"] = per_request(redis_sources[1])
        for name, call in subjects.items():
            check(name, call)

        # Calibrate: calls per round so that each subject runs about `target` seconds.
        calls: dict[str, int] = {}
        for name, call in subjects.items():
            per_call = timed(call, 20)
            per_call = timed(call, max(20, int(0.02 / per_call)))
            calls[name] = max(20, int(target / per_call))

        names = list(subjects)
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(rounds):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(timed(subjects[name], calls[name]))

        for source in redis_sources:
            source.close()
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
        f"{'subject':<34} {'calls':>7} {'median us':>10} {'min us':>9} {'nonces/s':>10} "
        f"{'ratio (median)':>15} {'ratio (min)':>12}"
    )
    for name in names:
        med = statistics.median(times[name])
        low = min(times[name])
        paired = statistics.median(a / b for a, b in zip(times[name], times[baseline], strict=True))
        print(
            f"{name:<34} {calls[name]:>7} {med * 1e6:>10.2f} {low * 1e6:>9.2f} {1 / med:>10,.0f} "
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
        f"per request: file {us('FileNonce acquire/nonce/release')}, Redis {us('RedisNonce acquire/nonce/release')}"
    )


if __name__ == "__main__":
    main()
