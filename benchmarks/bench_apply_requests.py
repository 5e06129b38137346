"""Ratio benchmark: applying ``hmac_body_auth.Poloniex`` to a prepared requests request.

Compares, inside one run, the per-request cost of ``auth(prepared_request)`` plus
the response hooks run on a 200 answer (what requests does around an auth) for

* ``seed bare``: the seed's ``BodyDigestAuth(secret=...)`` (the package's first
  commit, loaded from git history by ``benchmarks/_seed.py``): an HMAC of the body
  into ``Sign``, no key, nonce or lease: the baseline;
* ``minimal`` (reference): a hand-written ``requests.auth.AuthBase`` that only sets
  ``Sign = hex(HMAC-SHA512(secret, body))``;
* ``Poloniex``: ``hmac_body_auth.Poloniex(key, secret)`` (nonce, body rewrite,
  Content-Length, Key and Sign headers, per-key ordering lease, response hook
  reading the answer for a nonce error);
* ``Poloniex ordered=False``: the same without the lease;
* ``hand-written + nonce`` (reference only): a hand-written auth doing the same
  wire work as Poloniex (locked clock nonce, ``&nonce=`` appended, Content-Length,
  Key and Sign), to separate the inherent cost of that work from our overhead.

Fairness: every subject signs an equivalent fresh ``PreparedRequest`` built from
``requests.Request("POST", url, data={...}).prepare()``; the pool of copies is
built before the timed loop (request preparation is not timed), each copy gets
its own hooks dict as a real ``prepare()`` would (``copy()`` shares it). Rounds of
the subjects are interleaved (the order rotates each round), the garbage
collector is off inside the timed loop (as ``timeit`` does), and the ratio is the
median over rounds of the per-round ratio (paired, so drift cancels).

``--against REV`` adds a ``Poloniex`` row of the package at commit ``REV`` (``_seed.at``),
timed in the same rounds: a change before and after in one run.

Run: ``python benchmarks/bench_apply_requests.py [--quick] [--profile] [--against REV]``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import _seed  # benchmarks/_seed.py: the seed's package, from git history
import requests
from _handwritten import MinimalAuth, NonceAuth
from requests.hooks import default_hooks, dispatch_hook
from requests.structures import CaseInsensitiveDict

import hmac_body_auth

URL = "https://poloniex.com/tradingApi"
FIELDS = {"command": "returnBalances", "currencyPair": "BTC_ETH"}
KEY = "BENCH-APPLY-KEY-0001"
SECRET = b"bench-secret-0123456789abcdef0123456789abcdef"
GOAL = 1.5
BASELINE = "seed bare"
#: Subjects that sign the body as it is (no nonce).
BARE = frozenset({"minimal", BASELINE})
ANSWER = b'{"BTC": "0.00000000", "ETH": "1.50000000"}'
# What requests passes a response hook (Session.send): the send settings.
SEND_KWARGS: dict[str, Any] = {"stream": False, "timeout": None, "verify": True, "cert": None, "proxies": {}}


def template() -> requests.PreparedRequest:
    return requests.Request("POST", URL, data=FIELDS).prepare()


def answer(request: requests.PreparedRequest) -> requests.Response:
    """A 200 answer to ``request``, as requests builds it before running the response hooks."""
    response = requests.Response()
    response.status_code = 200
    response._content = ANSWER
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", "Content-Length": str(len(ANSWER))})
    response.request = request
    response.url = URL
    return response


def make_pool(base: requests.PreparedRequest, n: int) -> list[tuple[requests.PreparedRequest, requests.Response]]:
    pool = []
    for _ in range(n):
        p = base.copy()
        p.hooks = default_hooks()  # copy() shares the hooks dict; a real prepare() does not
        pool.append((p, answer(p)))
    return pool


def apply_and_answer(auth: Callable[[Any], Any], p: requests.PreparedRequest, response: requests.Response) -> None:
    """What requests does per request around the auth: apply it, then run the response hooks."""
    r = auth(p)
    dispatch_hook("response", r.hooks, response, **SEND_KWARGS)


def time_round(auth: Callable[[Any], Any], base: requests.PreparedRequest, n: int) -> float:
    """Seconds per ``auth(r)`` plus its response hooks over ``n`` fresh prepared requests."""
    pool = make_pool(base, n)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        # Each request gets its answer (the response hook ends its hold on the key's lease).
        while pool:
            apply_and_answer(auth, *pool.pop())
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / n


def check(subjects: dict[str, Callable[[Any], Any]], base: requests.PreparedRequest) -> None:
    """Make sure each subject really signs (a wrong benchmark is worse than none)."""
    for name, auth in subjects.items():
        p, response = make_pool(base, 1)[0]
        r = auth(p)
        dispatch_hook("response", r.hooks, response, **SEND_KWARGS)
        body = r.body.encode() if isinstance(r.body, str) else r.body
        expected = hmac.new(SECRET, body, hashlib.sha512).hexdigest()
        if r.headers.get("Sign") != expected:
            raise SystemExit(f"{name}: Sign header does not match the body")
        if name not in BARE and b"&nonce=" not in body:
            raise SystemExit(f"{name}: no nonce in the body")


def profile(auth: Callable[[Any], Any], base: requests.PreparedRequest, n: int) -> None:
    import cProfile
    import pstats

    pool = make_pool(base, n)
    prof = cProfile.Profile()
    gc.collect()
    gc.disable()  # as in the timed rounds; otherwise collections land on whichever call allocates
    prof.enable()
    while pool:
        apply_and_answer(auth, *pool.pop())
    prof.disable()
    gc.enable()
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few, short rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per subject (default 31, quick 5)")
    parser.add_argument("--calls", type=int, default=None, help="calls per round (default 2000, quick 200)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of Poloniex (ordered); it inflates small calls, use it for where, not how much",
    )
    parser.add_argument(
        "--against", metavar="REV", default=None, help="also time Poloniex as it was at commit REV (before/after)"
    )
    args = parser.parse_args()
    rounds = args.rounds or (5 if args.quick else 31)
    calls = args.calls or (200 if args.quick else 2000)

    base = template()
    seed = _seed.load()
    subjects: dict[str, Callable[[Any], Any]] = {
        BASELINE: seed.BodyDigestAuth(secret=SECRET),
        "minimal": MinimalAuth(SECRET),
        "Poloniex": hmac_body_auth.Poloniex(KEY, SECRET),
        "Poloniex ordered=False": hmac_body_auth.Poloniex(KEY, SECRET, ordered=False),
        "hand-written + nonce": NonceAuth(KEY, SECRET),
    }
    if args.against:
        before = _seed.at(args.against)
        subjects[f"Poloniex {_seed.label(before)}"] = before.Poloniex("BEFORE-" + KEY, SECRET)
    check(subjects, base)

    names = list(subjects)
    for name in names:  # warm-up
        time_round(subjects[name], base, max(calls // 10, 20))
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_round(subjects[name], base, calls))

    def ratio(name: str, against: str) -> tuple[float, float]:
        paired = [a / b for a, b in zip(times[name], times[against], strict=True)]
        return statistics.median(paired), min(times[name]) / min(times[against])

    print(f"bench_apply_requests: auth(prepared request), {rounds} rounds x {calls} calls")
    print(
        f"python {platform.python_version()}, requests {requests.__version__}, hmac_body_auth "
        f"{hmac_body_auth.__version__}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    print(f"{'subject':<24} {'median us':>10} {'min us':>8} {'ratio (median)':>15} {'ratio (min)':>12}")
    for name in names:
        med = statistics.median(times[name]) * 1e6
        low = min(times[name]) * 1e6
        r_med, r_min = ratio(name, BASELINE)
        print(f"{name:<24} {med:>10.2f} {low:>8.2f} {r_med:>15.2f} {r_min:>12.2f}")
    print()
    r_ordered = ratio("Poloniex", BASELINE)[0]
    r_unordered = ratio("Poloniex ordered=False", BASELINE)[0]
    r_like = ratio("Poloniex", "hand-written + nonce")[0]
    verdict = "met" if r_ordered <= GOAL else "NOT met"
    print(f"goal: ratio Poloniex / {BASELINE} <= {GOAL:.2f}: {r_ordered:.2f} ({verdict})")
    r_minimal = ratio("Poloniex", "minimal")[0]
    print(f"      ordered=False / {BASELINE}: {r_unordered:.2f}; Poloniex / minimal: {r_minimal:.2f}")
    print(f"reference: Poloniex / hand-written + nonce (the same wire work, no lease or hook): {r_like:.2f}")

    if args.profile:
        print()
        print("cProfile of Poloniex (ordered), sorted by own time:")
        profile(subjects["Poloniex"], base, calls * 5)


if __name__ == "__main__":
    main()
