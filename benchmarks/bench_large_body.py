"""Ratio benchmark: signing a 64 MiB body through the auth vs a bare ``hmac.new``.

Without a nonce (goal: ratio <= 1.05), compares, over the same 64 MiB ``bytes``:

* ``hmac.new``: ``hmac.new(secret, body, hashlib.sha512).hexdigest()``, the baseline;
* ``auth(prepared)``: ``BodyDigestAuth(secret=..., algorithm="sha512")`` applied to a
  prepared requests ``POST`` whose body is that object;
* ``auth.sign()``: ``auth.sign("POST", body)``, the client-free call.

With a nonce (goal: ratio <= 1.05; appending ``&nonce=...`` must copy the body,
since ``bytes`` are immutable and the signed bytes are the sent bytes), compares
``hmac_body_auth.Poloniex`` on a 64 MiB form body against a hand-written
``hmac.new(secret, b"%b&nonce=%d" % (body, nonce), sha512)`` (one copy), for two
body shapes: one huge field, and 64-byte fields (a million of them at 64 MiB).
Reference rows without a goal: the same without a Content-Type (``data=bytes``:
the body must then also be checked to look like a form), and 64-byte fields of
text holding every letter of ``nonce`` (the field-name search cannot be skipped).

Each measurement is one call; prepared requests are built before the timed
region; subjects are interleaved (the order rotates each round), the garbage
collector is off while timing, and ratios are the median over rounds of the
per-round ratio.

Run: ``python benchmarks/bench_large_body.py [--quick]``.
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

import requests
from requests.hooks import default_hooks

import hmac_body_auth

URL = "https://example.invalid/upload"
KEY = "BENCH-LARGE-KEY-0001"
SECRET = b"bench-secret-0123456789abcdef0123456789abcdef"
FORM = "application/x-www-form-urlencoded"
MIB = 1 << 20
GOAL = 1.05

Subject = Callable[[], Callable[[], object]]
"""Untimed setup returning the timed call."""


def one_field_form(size: int) -> bytes:
    head = b"command=upload&payload="
    return head + b"A" * (size - len(head))


def many_field_form(size: int) -> bytes:
    # 63-byte pairs "f0000001=vv...v" joined by "&", plus one byte to hit the size exactly.
    value = b"v" * (63 - len(b"f0000000="))
    return b"&".join(b"f%07d=%b" % (i, value) for i in range(size // 64)) + b"v"


def text_field_form(size: int) -> bytes:
    # As many_field_form, with values of English-like text: "nonce"'s letters are everywhere.
    value = (b"once_upon_a_time_in_a_forest_" * 3)[: 63 - len(b"f0000000=")]
    return b"&".join(b"f%07d=%b" % (i, value) for i in range(size // 64)) + b"v"


def prepared(body: bytes, content_type: str | None) -> requests.PreparedRequest:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.Request("POST", URL, data=body, headers=headers).prepare()


def applied(auth: hmac_body_auth.BodyDigestAuth, base: requests.PreparedRequest) -> Subject:
    def setup() -> Callable[[], object]:
        r = base.copy()
        r.hooks = default_hooks()
        return lambda: auth(r)

    return setup


def check_nonce_rows(auth: hmac_body_auth.Poloniex, bodies: dict[str, bytes]) -> None:
    """Before timing: each body signed with its nonce appended, the signature an HMAC of exactly those bytes."""
    for name, body in bodies.items():
        for content_type in (FORM, None):
            signed = auth.sign("POST", "http://localhost/", body=body, content_type=content_type)
            nonce = signed.nonce
            if signed.body != b"%b&nonce=%d" % (body, nonce if isinstance(nonce, int) else -1):
                raise SystemExit(f"Poloniex did not append the nonce to the {name} body")
            if signed.headers["Sign"] != hmac.new(SECRET, signed.body, hashlib.sha512).hexdigest():
                raise SystemExit(f"Poloniex's signature of the {name} body is not the HMAC of the bytes sent")


def timed(setup: Subject) -> float:
    call = setup()
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    del call, result  # frees the signed copy (and the request's lease) outside the timing
    return elapsed


def run(subjects: dict[str, Subject], rounds: int) -> dict[str, list[float]]:
    names = list(subjects)
    for name in names:  # warm-up (page faults of the first big allocation)
        timed(subjects[name])
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(subjects[name]))
    return times


def table(times: dict[str, list[float]], baseline: str, size: int, title: str) -> None:
    print(title)
    print(f"{'subject':<34} {'median ms':>10} {'min ms':>8} {'MB/s':>7} {'ratio (median)':>15} {'ratio (min)':>12}")
    for name, values in times.items():
        paired = statistics.median(a / b for a, b in zip(values, times[baseline], strict=True))
        low = min(values) / min(times[baseline])
        med = statistics.median(values)
        print(
            f"{name:<34} {med * 1e3:>10.1f} {min(values) * 1e3:>8.1f} {size / med / 1e6:>7.0f} "
            f"{paired:>15.3f} {low:>12.3f}"
        )
    print()


def ratio(times: dict[str, list[float]], name: str, baseline: str) -> float:
    return statistics.median(a / b for a, b in zip(times[name], times[baseline], strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (4 MiB body, 3 rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per subject (default 15, quick 3)")
    parser.add_argument("--mib", type=int, default=None, help="body size in MiB (default 64, quick 4)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 15)
    size = (args.mib or (4 if args.quick else 64)) * MIB

    body = bytes(range(256)) * (size // 256)
    plain = hmac_body_auth.BodyDigestAuth(secret=SECRET, algorithm="sha512")
    expected = hmac.new(SECRET, body, hashlib.sha512).hexdigest()
    r = plain(prepared(body, None).copy())
    if r.headers["Sign"] != expected or plain.sign("POST", "http://localhost/", body=body).headers["Sign"] != expected:
        raise SystemExit("BodyDigestAuth does not sign the body as hmac.new does")
    del r

    no_nonce: dict[str, Subject] = {
        "hmac.new (baseline)": lambda: lambda: hmac.new(SECRET, body, hashlib.sha512).hexdigest(),
        "auth(prepared)": applied(plain, prepared(body, None)),
        "auth.sign()": lambda: lambda: plain.sign("POST", "http://localhost/", body=body),
    }
    t1 = run(no_nonce, rounds)

    polo = hmac_body_auth.Poloniex(KEY, SECRET)
    polo_unordered = hmac_body_auth.Poloniex(KEY, SECRET, ordered=False)
    one = one_field_form(size)
    many = many_field_form(size)
    text = text_field_form(size)
    nonce = time.time_ns() // 1000

    def handwritten(form: bytes) -> Subject:
        return lambda: lambda: hmac.new(SECRET, b"%b&nonce=%d" % (form, nonce), hashlib.sha512).hexdigest()

    with_nonce: dict[str, Subject] = {
        "hand-written + nonce (baseline)": handwritten(one),
        "hmac.new, no nonce": lambda: lambda: hmac.new(SECRET, one, hashlib.sha512).hexdigest(),
        "Poloniex(prepared), 1 field": applied(polo, prepared(one, FORM)),
        "Poloniex.sign(), 1 field": lambda: (
            lambda: polo_unordered.sign("POST", "http://localhost/", body=one, content_type=FORM)
        ),
        "Poloniex(prepared), 64-byte fields": applied(polo, prepared(many, FORM)),
        "ref: 1 field, no Content-Type": applied(polo, prepared(one, None)),
        "ref: 64-byte fields, no Content-Type": applied(polo, prepared(many, None)),
        "ref: 64-byte text fields": applied(polo, prepared(text, FORM)),
    }
    check_nonce_rows(polo_unordered, {"1 field": one, "64-byte fields": many, "text": text})
    t2 = run(with_nonce, rounds)

    print(f"bench_large_body: {size // MIB} MiB body, HMAC-SHA512, {rounds} rounds")
    print(
        f"python {platform.python_version()}, requests {requests.__version__}, hmac_body_auth "
        f"{hmac_body_auth.__version__}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    table(t1, "hmac.new (baseline)", size, "without nonce (ratio vs hmac.new over the same bytes):")
    table(
        t2,
        "hand-written + nonce (baseline)",
        size,
        "with nonce, Poloniex on a form body (ratio vs hand-written hmac over body + nonce, one copy):",
    )
    names = ("auth(prepared)", "auth.sign()")
    worst = max(ratio(t1, name, "hmac.new (baseline)") for name in names)
    worst_min = max(min(t1[name]) / min(t1["hmac.new (baseline)"]) for name in names)
    verdict = "met" if worst <= GOAL else "NOT met"
    print(
        f"goal: ratio without nonce <= {GOAL:.2f}: worst median ratio {worst:.3f} ({verdict}); "
        f"worst min ratio {worst_min:.3f}"
    )
    base = "hand-written + nonce (baseline)"
    goal_rows = ("Poloniex(prepared), 1 field", "Poloniex.sign(), 1 field", "Poloniex(prepared), 64-byte fields")
    worst = max(ratio(t2, name, base) for name in goal_rows)
    verdict = "met" if worst <= GOAL else "NOT met"
    print(
        f"goal: ratio with nonce (Poloniex vs hand-written + nonce) <= {GOAL:.2f}: worst median ratio "
        f"{worst:.3f} ({verdict}); vs hmac.new without the copy "
        f"{ratio(t2, 'Poloniex(prepared), 1 field', 'hmac.new, no nonce'):.3f} (1 field)"
    )


if __name__ == "__main__":
    main()
