"""Overview benchmark: the per-request cost of signing one small request, ours against other auths.

One run times, interleaved, the cost of signing the same small form POST
(``command=returnBalances&currencyPair=BTC_ETH`` to ``https://poloniex.com/tradingApi``)
with each subject, as its client drives it:

* ``seed auth`` (the baseline, 1.00): the seed's ``BodyDigestAuth(secret=...)``, the
  package's first commit loaded from git history (``benchmarks/_seed.py``): ``Sign =
  hex(HMAC-SHA512(secret, body))``, no key, nonce or lease;
* ``seed Poloniex`` (requests, httpx): the seed's ``Poloniex``, the same wire work as ours;
* ``hand-written bare auth``: a minimal ``requests.auth.AuthBase`` setting only ``Sign``;
* ``hand-written nonce auth``: a requests ``AuthBase`` doing Poloniex's wire work
  inline (locked ``max(clock, last + 1)`` nonce, ``&nonce=`` appended,
  Content-Length, Key and Sign), no ordering;
* ``seed-style httpx auth`` (sync and async flows): an ``httpx.Auth`` whose
  ``auth_flow`` sets ``Sign`` in place and yields the request;
* ``hmac_body_auth.Poloniex`` through requests: ``auth(prepared)`` plus the response
  hooks run on a 200 response, as ``Session.send`` dispatches them;
* ``hmac_body_auth.Poloniex`` through httpx: ``sync_auth_flow`` / ``async_auth_flow``
  driven as ``httpx.Client._send_handling_auth`` drives them (first request out, a 200
  response sent back in, the flow closed), called from a frame with the client's
  locals (``follow_redirects=False``, httpx's default);
* ``requests-aws4auth`` (``AWS4Auth``) on the same requests request, and
  ``httpx-auth``'s ``AWS4Auth`` on the same httpx request (AWS Signature Version 4,
  HMAC-SHA256 over a canonical request that includes the body's SHA-256);
* ``ccxt`` ``kraken.sign()``: the closest ccxt has to this request (a nonce in a form
  body, HMAC-SHA512; ccxt no longer has Poloniex's legacy API), with the same fields,
  credentials set and ``nonce()``/``milliseconds()`` fixed as in bench_presets.py. It
  returns the URL, body and headers; no HTTP request object is touched.

Fairness: each call gets a fresh request (requests: copies of one ``prepare()``, each
with its own hooks dict, since ``PreparedRequest.copy()`` shares it; httpx: one
``client.build_request`` per call), built with the responses before the timed loop.
Rounds rotate the subjects' order, the garbage collector is off in timed loops, and
each ratio is the median over rounds of the per-round ratio to the seed auth (paired,
so drift cancels). Before timing, each subject's signature is checked: the Poloniex
and Kraken verifiers of this package, an HMAC of the body for the seed auths, an
independent SigV4 computation for the two AWS4 auths.

Needs the ``bench`` extra (``pip install -e '.[bench]'``). Writes
``benchmarks/results/overview.json``; ``--write-docs`` also updates the table in
``docs/benchmarks.md``, ``--docs-only`` does that from the JSON without measuring.

Run: ``python benchmarks/bench_overview.py [--quick] [--write-docs]``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import hashlib
import hmac
import importlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import _seed  # benchmarks/_seed.py: the seed's package, from git history
import httpx
import requests
from _handwritten import MinimalAuth, NonceAuth, SeedStyleHttpxAuth, async_send_handling_auth, send_handling_auth
from requests.hooks import default_hooks
from requests.hooks import dispatch_hook as _dispatch_hook
from requests.structures import CaseInsensitiveDict

import hmac_body_auth
from hmac_body_auth.presets import preset

ROOT = Path(__file__).resolve().parent.parent
JSON_PATH = ROOT / "benchmarks" / "results" / "overview.json"
DOCS_PATH = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- overview-table:start -->", "<!-- overview-table:end -->"

URL = "https://poloniex.com/tradingApi"
FIELDS = {"command": "returnBalances", "currencyPair": "BTC_ETH"}
KEY = "BENCH-OVERVIEW-KEY-0001"
SECRET = b"bench-secret-0123456789abcdef0123456789abcdef"
AWS_ID, AWS_SECRET, AWS_REGION, AWS_SERVICE = "AKIDBENCHOVERVIEW01", SECRET.decode(), "us-east-1", "execute-api"
FIXED_MS = 1_700_000_000_123
ANSWER = b'{"BTC":"0.00000000","ETH":"0.00000000"}'
ANSWER_HEADERS = {"Content-Type": "application/json", "Content-Length": str(len(ANSWER))}
# What Session.send passes to the response hooks (dispatch_hook(..., **kwargs)).
SEND_KWARGS: dict[str, Any] = {"stream": False, "timeout": None, "verify": True, "cert": None, "proxies": {}}

#: What a subject does per request, in the docs table's words.
SIGN_ONLY = "`Sign` only"
OURS = "a nonce, `Key` + `Sign`, per-key ordering, the response checked"

#: The packages of the other subjects: the bench extra of pyproject.toml.
OPTIONAL = {"requests_aws4auth": "requests-aws4auth", "httpx_auth": "httpx-auth", "ccxt": "ccxt"}


#: requests' own hook dispatcher, typed (requests ships it untyped); an alias, so no extra call is timed.
dispatch_hook: Callable[..., Any] = _dispatch_hook


# -- the hand-written auths ---------------------------------------------------------


# -- how the clients drive an auth ----------------------------------------------------


def requests_pool(n: int) -> list[tuple[requests.PreparedRequest, requests.Response]]:
    """``n`` fresh prepared requests, each with the 200 response it will get."""
    base = requests.Request("POST", URL, data=FIELDS).prepare()
    pool = []
    for _ in range(n):
        r = base.copy()
        r.hooks = default_hooks()  # copy() shares the hooks dict; a real prepare() does not
        response = requests.Response()
        response.status_code = 200
        response.headers = CaseInsensitiveDict(ANSWER_HEADERS)
        response._content = ANSWER
        response.url = URL
        response.request = r
        pool.append((r, response))
    return pool


def time_requests(auth: Callable[[Any], Any], n: int) -> float:
    """Seconds per ``auth(r)`` plus the response hooks on its 200 response (as Session.send runs them)."""
    pool = requests_pool(n)
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for r, response in pool:
            auth(r)
            dispatch_hook("response", r.hooks, response, **SEND_KWARGS)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    # Freed after the clock stops: what a subject costs, not what freeing the harness's objects does.
    pool.clear()
    return elapsed / n


def httpx_pool(client: httpx.Client | httpx.AsyncClient, n: int) -> list[tuple[httpx.Request, httpx.Response]]:
    """``n`` requests as the client builds them, each with a 200 response (already read, as httpx reads it)."""
    return [
        (client.build_request("POST", URL, data=FIELDS), httpx.Response(200, headers=ANSWER_HEADERS, content=ANSWER))
        for _ in range(n)
    ]


def time_httpx(auth: httpx.Auth, client: httpx.Client, n: int) -> float:
    """Seconds per sync auth flow, driven as httpx.Client drives it."""
    pool = httpx_pool(client, n)
    follow = client.follow_redirects
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for request, response in pool:
            send_handling_auth(client, request, auth, follow, response)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    pool.clear()
    return elapsed / n


def time_httpx_async(auth: httpx.Auth, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop, n: int) -> float:
    """Seconds per async auth flow, driven as httpx.AsyncClient drives it (timed inside the event loop)."""
    pool = httpx_pool(client, n)
    follow = client.follow_redirects

    async def run() -> float:
        start = time.perf_counter()
        for request, response in pool:
            await async_send_handling_auth(client, request, auth, follow, response)
        return time.perf_counter() - start

    gc.collect()
    gc.disable()
    try:
        elapsed = loop.run_until_complete(run())
    finally:
        gc.enable()
    pool.clear()
    return elapsed / n


def time_calls(fn: Callable[[], Any], n: int) -> float:
    """Seconds per ``fn()``."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed / n


# -- checks: every subject really signs ------------------------------------------------


def _fail(name: str, why: str) -> None:
    raise SystemExit(f"bench_overview: {name}: {why}")


def sigv4_ok(method: str, url: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether ``headers`` carry a valid AWS SigV4 signature of the request (computed here, independently)."""
    h = {k.lower(): v for k, v in headers.items()}
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
        r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        h.get("authorization", ""),
    )
    if match is None:
        return False
    access, day, region, service, signed_names, signature = match.groups()
    parts = urlsplit(url)
    if "host" not in h:
        h["host"] = parts.netloc
    payload = hashlib.sha256(body).hexdigest()
    if h.get("x-amz-content-sha256", payload) != payload:
        return False
    names = signed_names.split(";")
    canonical_headers = "".join(f"{name}:{' '.join(h[name].split())}\n" for name in names)
    query = "&".join(sorted(p for p in parts.query.split("&") if p))
    canonical = "\n".join([method, parts.path or "/", query, canonical_headers, signed_names, payload])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", h["x-amz-date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + AWS_SECRET).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return access == AWS_ID and "host" in names and hmac.compare_digest(expected, signature)


# -- the subjects ------------------------------------------------------------------------


@dataclass
class Subject:
    """One row: how to time ``n`` calls and how to check one."""

    name: str
    client: str
    what: str
    time: Callable[[int], float]
    check: Callable[[], None]


def _sign_header_ok(body: bytes | None, headers: Any) -> bool:
    return bool(headers.get("Sign") == hmac.new(SECRET, body or b"", hashlib.sha512).hexdigest())


def import_optional() -> dict[str, Any]:
    """The bench extra's modules, or exit saying what is missing and how to get it."""
    found: dict[str, Any] = {}
    missing = []
    for module, dist in OPTIONAL.items():
        try:
            found[module] = importlib.import_module(module)
        except ImportError:
            missing.append(dist)
    if missing:
        raise SystemExit(
            f"bench_overview: missing {', '.join(missing)} (the auths it compares against).\n"
            "  Install the bench extra into this interpreter: pip install -e '.[bench]'"
        )
    return found


def build(mods: dict[str, Any]) -> tuple[list[Subject], Callable[[], None]]:
    """The subjects, and what closes their clients and event loop."""
    client = httpx.Client()
    aclient = httpx.AsyncClient()
    loop = asyncio.new_event_loop()
    poloniex_verifier = preset("poloniex")[1]({KEY: SECRET})

    def check_requests(name: str, auth: Callable[[Any], Any], *, verify: bool) -> Callable[[], None]:
        def check() -> None:
            r, response = requests_pool(1)[0]
            auth(r)
            body = r.body.encode() if isinstance(r.body, str) else r.body
            if verify:
                verdict = poloniex_verifier.verify(r.method, r.url, dict(r.headers), body)
                if not verdict.ok:
                    _fail(name, f"the Poloniex verifier rejects its request: {verdict.reason}")
            elif not _sign_header_ok(body, r.headers):
                _fail(name, "Sign is not the HMAC-SHA512 of the body")
            dispatch_hook("response", r.hooks, response, **SEND_KWARGS)

        return check

    def check_httpx(name: str, auth: httpx.Auth, *, verify: bool, is_async: bool = False) -> Callable[[], None]:
        def check() -> None:
            request, response = httpx_pool(aclient if is_async else client, 1)[0]
            if is_async:

                async def first() -> httpx.Request:
                    flow = auth.async_auth_flow(request)
                    signed = await flow.__anext__()
                    with contextlib.suppress(StopAsyncIteration):
                        await flow.asend(response)
                    await flow.aclose()
                    return signed

                signed = loop.run_until_complete(first())
            else:
                flow = auth.sync_auth_flow(request)
                signed = next(flow)
                with contextlib.suppress(StopIteration):
                    flow.send(response)
                flow.close()
            body = signed.read()
            if verify:
                verdict = poloniex_verifier.verify(signed.method, str(signed.url), dict(signed.headers), body)
                if not verdict.ok:
                    _fail(name, f"the Poloniex verifier rejects its request: {verdict.reason}")
            elif not _sign_header_ok(body, signed.headers):
                _fail(name, "Sign is not the HMAC-SHA512 of the body")

        return check

    def check_aws_requests() -> None:
        r, _ = requests_pool(1)[0]
        r = aws_requests(r)
        body = r.body.encode() if isinstance(r.body, str) else r.body
        if not sigv4_ok(r.method, r.url, dict(r.headers), body):
            _fail("requests-aws4auth", "its SigV4 signature does not verify")

    def check_aws_httpx() -> None:
        request, _ = httpx_pool(client, 1)[0]
        flow = aws_httpx.sync_auth_flow(request)
        signed = next(flow)
        if not sigv4_ok(signed.method, str(signed.url), dict(signed.headers), signed.read()):
            _fail("httpx-auth AWS4Auth", "its SigV4 signature does not verify")
        flow.close()

    kraken_secret = base64.b64encode(SECRET).decode()
    kraken = mods["ccxt"].kraken({"apiKey": KEY, "secret": kraken_secret})
    # Fixed time on the instance, as bench_presets.py does; ccxt's nonce still counts up from it.
    kraken.nonce = lambda: FIXED_MS
    kraken.milliseconds = lambda: FIXED_MS
    kraken_verifier = preset("kraken")[1]({KEY: kraken_secret})

    def sign_kraken() -> Any:
        return kraken.sign("Balance", ["private"], "POST", FIELDS)

    def check_kraken() -> None:
        before = dict(FIELDS)
        out = sign_kraken()
        verdict = kraken_verifier.verify(out["method"], out["url"], dict(out["headers"]), out["body"].encode())
        if not verdict.ok:
            _fail("ccxt kraken.sign()", f"the Kraken verifier rejects its request: {verdict.reason}")
        if before != FIELDS:
            _fail("ccxt kraken.sign()", "it changed the params; the timed calls would differ")

    seed_package = _seed.load()
    seed = seed_package.BodyDigestAuth(secret=SECRET)
    seed_poloniex = seed_package.Poloniex("SEED-" + KEY, SECRET)
    bare = MinimalAuth(SECRET)
    nonce_auth = NonceAuth(KEY, SECRET)
    seed_httpx = SeedStyleHttpxAuth(SECRET)
    ours = hmac_body_auth.Poloniex(KEY, SECRET)
    aws_requests = mods["requests_aws4auth"].AWS4Auth(AWS_ID, AWS_SECRET, AWS_REGION, AWS_SERVICE)
    aws_httpx = mods["httpx_auth"].AWS4Auth(AWS_ID, AWS_SECRET, AWS_REGION, AWS_SERVICE)

    subjects = [
        Subject(
            "seed auth",
            "requests",
            SIGN_ONLY,
            lambda n: time_requests(seed, n),
            check_requests("seed auth", seed, verify=False),
        ),
        Subject(
            "seed Poloniex",
            "requests",
            "a nonce, `Key` + `Sign`, per-key ordering, the response checked",
            lambda n: time_requests(seed_poloniex, n),
            check_requests("seed Poloniex", seed_poloniex, verify=False),
        ),
        Subject(
            "hand-written bare auth",
            "requests",
            SIGN_ONLY,
            lambda n: time_requests(bare, n),
            check_requests("hand-written bare auth", bare, verify=False),
        ),
        Subject(
            "hand-written nonce auth",
            "requests",
            "a nonce, `Key` + `Sign`",
            lambda n: time_requests(nonce_auth, n),
            check_requests("hand-written nonce auth", nonce_auth, verify=True),
        ),
        Subject(
            "hmac_body_auth.Poloniex",
            "requests",
            OURS,
            lambda n: time_requests(ours, n),
            check_requests("hmac_body_auth.Poloniex (requests)", ours, verify=True),
        ),
        Subject(
            "requests-aws4auth AWS4Auth",
            "requests",
            "AWS Signature V4",
            lambda n: time_requests(aws_requests, n),
            check_aws_requests,
        ),
        Subject(
            "seed-style httpx auth",
            "httpx",
            SIGN_ONLY,
            lambda n: time_httpx(seed_httpx, client, n),
            check_httpx("seed-style httpx auth", seed_httpx, verify=False),
        ),
        Subject(
            "seed Poloniex",
            "httpx",
            "a nonce, `Key` + `Sign`, per-key ordering, the response checked",
            lambda n: time_httpx(seed_poloniex, client, n),
            check_httpx("seed Poloniex (httpx)", seed_poloniex, verify=False),
        ),
        Subject(
            "hmac_body_auth.Poloniex",
            "httpx",
            OURS,
            lambda n: time_httpx(ours, client, n),
            check_httpx("hmac_body_auth.Poloniex (httpx)", ours, verify=True),
        ),
        Subject(
            "httpx-auth AWS4Auth",
            "httpx",
            "AWS Signature V4",
            lambda n: time_httpx(aws_httpx, client, n),
            check_aws_httpx,
        ),
        Subject(
            "seed-style httpx auth",
            "httpx async",
            SIGN_ONLY,
            lambda n: time_httpx_async(seed_httpx, aclient, loop, n),
            check_httpx("seed-style httpx auth (async)", seed_httpx, verify=False, is_async=True),
        ),
        Subject(
            "hmac_body_auth.Poloniex",
            "httpx async",
            OURS,
            lambda n: time_httpx_async(ours, aclient, loop, n),
            check_httpx("hmac_body_auth.Poloniex (httpx async)", ours, verify=True, is_async=True),
        ),
        Subject(
            "ccxt kraken.sign()",
            "none",
            "a nonce, key + signature; URL, body, headers, no HTTP request",
            lambda n: time_calls(sign_kraken, n),
            check_kraken,
        ),
    ]

    def close() -> None:
        client.close()
        loop.run_until_complete(aclient.aclose())
        loop.close()

    return subjects, close


# -- the run, the JSON, the docs table -----------------------------------------------------


def label(row: dict[str, Any]) -> str:
    """The subject's name in the table and the plot."""
    return f"{row['subject']} ({row['client']})" if row["client"] != "none" else row["subject"]


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "system": f"{platform.system()} {platform.release()}"}


def commit() -> str:
    """The package's commit, with ``+changes`` when the package's files differ from it."""
    git = shutil.which("git")
    if git is None:
        return "unknown"

    def run(*args: str) -> str:
        return subprocess.run(  # noqa: S603 - git, with fixed arguments
            [git, *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = run("rev-parse", "--short", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no", "--", "hmac_body_auth")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def versions(mods: dict[str, Any]) -> dict[str, str]:
    """The versions of every package in the table."""
    from importlib.metadata import version

    found = {
        "python": platform.python_version(),
        "hmac-body-auth": hmac_body_auth.__version__,
        "requests": requests.__version__,
        "httpx": httpx.__version__,
    }
    for dist in OPTIONAL.values():
        found[dist] = version(dist)
    found["openssl"] = __import__("ssl").OPENSSL_VERSION
    return found


def measure(subjects: list[Subject], rounds: int, calls: int) -> dict[str, list[float]]:
    """Seconds per call of each subject, per round, the order rotating every round."""
    keys = list(range(len(subjects)))
    for k in keys:  # warm-up
        subjects[k].time(max(calls // 10, 20))
    times: dict[int, list[float]] = {k: [] for k in keys}
    for i in range(rounds):
        shift = i % len(keys)
        for k in keys[shift:] + keys[:shift]:
            times[k].append(subjects[k].time(calls))
    return {str(k): v for k, v in times.items()}


def results(subjects: list[Subject], times: dict[str, list[float]]) -> list[dict[str, Any]]:
    """One row per subject: median and min us, ratio to the seed auth (median of per-round ratios)."""
    base = times["0"]
    rows = []
    for k, subject in enumerate(subjects):
        t = times[str(k)]
        rows.append(
            {
                "subject": subject.name,
                "client": subject.client,
                "what": subject.what,
                "median_us": round(statistics.median(t) * 1e6, 2),
                "min_us": round(min(t) * 1e6, 2),
                "ratio": round(statistics.median(a / b for a, b in zip(t, base, strict=True)), 2),
                "ratio_min": round(min(t) / min(base), 2),
            }
        )
    return rows


def table(data: dict[str, Any]) -> str:
    """The Markdown between the markers of docs/benchmarks.md."""
    v = data["versions"]
    m = data["machine"]
    lines = [
        "| subject | client | does per request | us per request | ratio to the seed auth |",
        "|---|---|---|---:|---:|",
    ]
    for row in data["results"]:
        name = f"**{row['subject']}**" if row["subject"].startswith("hmac_body_auth") else row["subject"]
        client = "-" if row["client"] == "none" else row["client"]
        lines.append(f"| {name} | {client} | {row['what']} | {row['median_us']:.2f} | {row['ratio']:.2f} |")
    lines += [
        "",
        f"Median over {data['rounds']} rounds of {data['calls']} calls each; {m['cores']} cores ({m['cpu']}), "
        f"{m['system']}, Python {v['python']}, requests {v['requests']}, httpx {v['httpx']}, "
        f"requests-aws4auth {v['requests-aws4auth']}, httpx-auth {v['httpx-auth']}, ccxt {v['ccxt']}; "
        f"hmac-body-auth {v['hmac-body-auth']} at commit `{data['commit']}`.",
    ]
    return "\n".join(lines)


def write_docs(data: dict[str, Any], path: Path = DOCS_PATH) -> None:
    """Replace the table between the markers of ``path`` with the one of ``data``."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"bench_overview: {path} has no {START} ... {END} markers")
    text = text[: start + len(START)] + "\n" + table(data) + "\n" + text[end:]
    path.write_text(text, encoding="utf-8")
    print(f"wrote the table of {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (writes no JSON)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 31, quick 3)")
    parser.add_argument("--calls", type=int, default=None, help="calls per subject per round (default 2000, quick 200)")
    parser.add_argument("--write-docs", action="store_true", help="also update the table in docs/benchmarks.md")
    parser.add_argument("--docs-only", action="store_true", help="update docs/benchmarks.md from the JSON, no run")
    parser.add_argument("--json", type=Path, default=JSON_PATH, help="where the results go")
    args = parser.parse_args()
    if args.docs_only:
        write_docs(json.loads(args.json.read_text()))
        return
    rounds = args.rounds or (3 if args.quick else 31)
    calls = args.calls or (200 if args.quick else 2000)

    mods = import_optional()
    subjects, close = build(mods)
    try:
        for subject in subjects:
            subject.check()
        times = measure(subjects, rounds, calls)
    finally:
        close()
    data = {
        "benchmark": "bench_overview",
        "request": f"POST {URL}, form body {FIELDS}",
        "rounds": rounds,
        "calls": calls,
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(mods),
        "commit": commit(),
        "results": results(subjects, times),
    }

    print(f"bench_overview: one small form POST signed, {rounds} rounds x {calls} calls")
    print(", ".join(f"{k} {v}" for k, v in data["versions"].items()) + (", QUICK (smoke only)" if args.quick else ""))
    print()
    print(f"{'subject':<44} {'median us':>10} {'min us':>8} {'ratio':>7} {'ratio (min)':>12}")
    for row in data["results"]:
        print(
            f"{label(row):<44} {row['median_us']:>10.2f} {row['min_us']:>8.2f} "
            f"{row['ratio']:>7.2f} {row['ratio_min']:>12.2f}"
        )
    print("ratio: median over rounds of the subject's time / the seed auth's in that round")
    if args.quick:
        print("(quick: no JSON written)")
        return
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    if args.write_docs:
        write_docs(data)


if __name__ == "__main__":
    main()
