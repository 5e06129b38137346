"""Clock sync: what it costs when nothing is refused, and how well it learns the server's clock.

Two measurements, inside one run:

1. **Cost without refusals.** ``Binance(key, secret)`` (clock sync on, the default)
   against ``Binance(key, secret, clock_sync=False)``, interleaved rounds, the median
   of per-round ratios (paired): ``auth.sign(...)`` of a signed GET (the whole
   signing path, where the learned offset is read), a requests
   ``Request(..., auth=auth).prepare()``, and end to end a ``Session.get`` and an
   ``httpx.Client.get`` to a loopback server that accepts every request. Goal: within noise, <= 1.01.
2. **Offset error.** A loopback server emulating Binance's clock 60 s ahead of
   this machine (``-1021`` refusal without a time in it, ``GET /api/v3/time``):
   for each trial the learned offset is forgotten, one call is refused and
   recovered, and the learned offset is compared with the true skew. Goal:
   ``|error| <= RTT/2 + 1 ms`` where RTT is the round trip of that trial's time
   fetch (measured by the server's own clock reads around it is not possible, so
   the bound uses the median loopback round trip measured in the same run).

Run: ``.venv/bin/python benchmarks/bench_clock_sync.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import requests

import hmac_body_auth as hba
from hmac_body_auth.presets import Binance

KEY, SECRET = "BENCH-KEY-0001", "bench-secret"
SKEW_NS = 60 * 10**9


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    skew_ns = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        """Binance's time endpoint, or a signed call checked against the (skewed) window."""
        server_ms = (time.time_ns() + self.server.skew_ns) // 1_000_000
        parts = urlsplit(self.path)
        if parts.path == "/api/v3/time":
            self._send(200, {"serverTime": server_ms})
            return
        stamp = int(dict(parse_qsl(parts.query)).get("timestamp", "0"))
        if not (stamp < server_ms + 1000 and server_ms - stamp <= 5000):
            self._send(400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
            return
        self._send(200, {"ok": True})

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _ratio_rounds(subjects: dict[str, Callable[[], None]], rounds: int, calls: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in subjects}
    names = list(subjects)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn = subjects[name]
            gc.disable()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            times[name].append((time.perf_counter() - start) / calls)
            gc.enable()
    return times


def _report(title: str, times: dict[str, list[float]], base: str, ours: str) -> float:
    ratios = [a / b for a, b in zip(times[ours], times[base], strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"{title:<34} sync on {statistics.median(times[ours]) * 1e6:8.2f} us   "
        f"sync off {statistics.median(times[base]) * 1e6:8.2f} us   ratio {ratio:.3f}"
    )
    return ratio


def cost(rounds: int, calls: int, origin: str) -> None:
    """Clock sync on against off, no refusal."""
    on, off = Binance(KEY, SECRET), Binance(KEY, SECRET, clock_sync=False)
    url = origin + "/api/v3/account?omitZeroBalances=true"
    sign = {
        "on": lambda: on.sign("GET", url) and None,
        "off": lambda: off.sign("GET", url) and None,
    }
    _report("auth.sign (signed GET)", _ratio_rounds(sign, rounds, calls), "off", "on")
    prepare = {
        "on": lambda: requests.Request("GET", url, auth=on).prepare() and None,
        "off": lambda: requests.Request("GET", url, auth=off).prepare() and None,
    }
    _report("requests prepare with auth", _ratio_rounds(prepare, rounds, calls), "off", "on")
    e2e_calls = max(calls // 20, 5)
    with requests.Session() as session:

        def get(auth: Any) -> Callable[[], None]:
            def run() -> None:
                response = session.get(url, auth=auth)
                assert response.status_code == 200, response.text

            return run

        e2e = {"on": get(on), "off": get(off)}
        _report("Session.get end to end (loopback)", _ratio_rounds(e2e, rounds, e2e_calls), "off", "on")
    with httpx.Client() as client:

        def hget(auth: Any) -> Callable[[], None]:
            def run() -> None:
                response = client.get(url, auth=auth)
                assert response.status_code == 200, response.text

            return run

        e2e = {"on": hget(on), "off": hget(off)}
        _report("httpx.Client.get end to end", _ratio_rounds(e2e, rounds, e2e_calls), "off", "on")
    print("goal: each ratio <= 1.01 (within noise)")


def offset_error(trials: int, server: _Server, origin: str) -> None:
    """Learned offset against the true skew, over ``trials`` refusals."""
    server.skew_ns = SKEW_NS
    auth = Binance(KEY, SECRET)
    url = origin + "/api/v3/account"
    errors, rtts = [], []
    with requests.Session() as session:
        for _ in range(trials):
            hba.forget_clock_offsets()
            response = session.get(url, auth=auth)
            assert response.status_code == 200, response.text
            learned = hba.clock_offset(origin)
            assert learned is not None
            errors.append(abs(learned - SKEW_NS) / 1e6)
            start = time.perf_counter_ns()
            session.get(origin + "/api/v3/time")
            rtts.append((time.perf_counter_ns() - start) / 1e6)
    bound = statistics.median(rtts) / 2 + 1
    print(
        f"offset error over {trials} refusals: median {statistics.median(errors):.3f} ms, "
        f"max {max(errors):.3f} ms; loopback RTT median {statistics.median(rtts):.3f} ms; "
        f"bound RTT/2 + 1 ms = {bound:.3f} ms; within bound: {sum(e <= bound for e in errors)}/{trials}"
    )


def main() -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run; its numbers are not results")
    args = parser.parse_args()
    rounds, calls, trials = (5, 200, 5) if args.quick else (31, 2000, 50)
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    import logging

    logging.getLogger("hmac_body_auth").setLevel(logging.ERROR)  # one warning per learned offset otherwise
    try:
        cost(rounds, calls, origin)
        offset_error(trials, server, origin)
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
