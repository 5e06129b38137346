"""Ratio benchmark: building each preset, and the start-up of the command line.

Three measurements, inside one run:

* **construction**: ``Preset(key, secret)`` (plus ``passphrase=`` where the API has
  one), for every preset of ``hmac_body_auth.presets.PRESETS``, as a user writes it
  (default nonce source, ordering on), each auth dropped right away (an auth built
  per call). Baseline: keying an HMAC with the preset's algorithm,
  ``hmac.new(secret, digestmod=...)``, the one piece of work a constructor cannot
  avoid. Rounds interleaved (the order rotates each round), the garbage collector off
  inside the timed loops, ratio = median over rounds of the per-round ratio.
* **command line**: the wall time of ``python -m hmac_body_auth sign --preset
  poloniex ...`` against ``python -m hmac_body_auth --help`` (each a fresh
  interpreter; the two alternate, and a warm-up run of each comes first), median of
  the per-pair ratios. ``python -c pass`` is shown for scale.
* **modules**: in fresh interpreters, how many modules ``import hmac_body_auth``,
  building every preset, ``--help`` and ``sign`` load, and which HTTP clients
  (requests, httpx, httpx2, aiohttp, niquests, urllib3) are among them.

The package measured is the one the interpreter imports: ``PYTHONPATH=/path/to/other/checkout
python benchmarks/bench_startup.py`` measures another checkout with the same interpreter
(the subprocesses inherit the environment).

Run: ``python benchmarks/bench_startup.py [--quick] [--rounds N] [--cli-runs N]``.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import hmac
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

KEY = "BENCH-STARTUP-KEY-0001"
# base64, as Kraken and Coinbase Exchange want it; the others take it as text.
SECRET = base64.b64encode(b"bench-secret-0123456789abcdef0123456789abcdef").decode()
PASSPHRASE = "bench-passphrase"
CONSTRUCTION_GOAL_US = 10.0
CLI_GOAL = 1.5
CLIENTS = ("requests", "httpx", "httpx2", "aiohttp", "niquests", "urllib3")
SIGN = [
    "sign",
    "--preset",
    "poloniex",
    "--key",
    KEY,
    "POST",
    "https://poloniex.com/tradingApi",
    "--data",
    "command=returnBalances",
]


# -- construction ----------------------------------------------------------------------------------


def builders() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Preset name -> (build the preset, key an HMAC the way its signer does)."""
    from hmac_body_auth.presets import PRESETS, preset

    out: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {}
    for name in PRESETS:
        cls, _ = preset(name)
        options: dict[str, Any] = {}
        if "passphrase" in inspect.signature(cls).parameters:
            options["passphrase"] = PASSPHRASE

        def build(cls: type[Any] = cls, options: dict[str, Any] = options) -> Any:
            return cls(KEY, SECRET, **options)

        auth = build()
        algorithm = auth.signer.algorithm
        # The key bytes the signer uses: the decoded secret where the API gives it base64.
        key = base64.b64decode(SECRET) if name in ("kraken", "coinbase-exchange") else SECRET.encode()
        digestmod = getattr(hashlib, algorithm)
        # Check the baseline keys the same HMAC as the preset: same digest of the same bytes.
        if auth.signer.sign(b"check") != _encoded(auth, hmac.new(key, b"check", digestmod).digest()):
            raise SystemExit(f"{name}: the baseline does not key the HMAC the preset keys")

        def keying(key: bytes = key, digestmod: Any = digestmod) -> Any:
            return hmac.new(key, digestmod=digestmod)

        out[name] = (build, keying)
    return out


def _encoded(auth: Any, digest: bytes) -> str:
    return digest.hex() if auth.signer.digest_encoding == "hex" else base64.b64encode(digest).decode()


def time_round(make: Callable[[], Any], n: int) -> float:
    """Seconds per call of ``make`` (its result dropped at once), the garbage collector off."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            make()
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / n


def bench_construction(rounds: int, calls: int) -> dict[str, Any]:
    subjects = builders()
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in subjects}
    # The same, while one auth of the key is alive (an application that keeps one and builds more):
    # the key's shared nonce source and lease are found, not made (and dropped) again.
    alive: dict[str, list[float]] = {name: [] for name in subjects}
    names = list(subjects)
    for name in names:  # warm-up
        for make in subjects[name]:
            time_round(make, max(calls // 10, 20))
    for i in range(rounds):
        shift = i % len(names)
        for name in names[shift:] + names[:shift]:
            build, keying = subjects[name]
            ours, base = times[name]
            if i % 2:  # alternate which of the pair goes first
                base.append(time_round(keying, calls))
                ours.append(time_round(build, calls))
            else:
                ours.append(time_round(build, calls))
                base.append(time_round(keying, calls))
            kept = build()
            alive[name].append(time_round(build, calls))
            del kept
    print(f"construction: Preset(key, secret) vs hmac.new(secret, digestmod=...), {rounds} rounds x {calls} calls")
    print("  alone: each auth the only one of its key (built and dropped); in use: another auth of the key lives")
    header = f"{'preset':<20} {'alone us':>9} {'keying us':>10} {'ratio':>7} {'in use us':>10} {'ratio':>7}"
    print(header)
    result = {}
    for name in names:
        ours, base = times[name]
        med = statistics.median(ours) * 1e6
        ratio = statistics.median(a / b for a, b in zip(ours, base, strict=True))
        med_alive = statistics.median(alive[name]) * 1e6
        ratio_alive = statistics.median(a / b for a, b in zip(alive[name], base, strict=True))
        result[name] = (med, ratio, med_alive, ratio_alive)
        print(
            f"{name:<20} {med:>9.2f} {statistics.median(base) * 1e6:>10.2f} {ratio:>7.2f} "
            f"{med_alive:>10.2f} {ratio_alive:>7.2f}"
        )
    for label, index in (("alone", 0), ("in use", 2)):
        worst = max(result, key=lambda n: result[n][index])
        value = result[worst][index]
        verdict = "met" if value <= CONSTRUCTION_GOAL_US else "NOT met"
        goal = f"every preset <= {CONSTRUCTION_GOAL_US:.0f} us ({label})"
        print(f"goal: {goal}: slowest {worst} {value:.2f} us ({verdict})")
    return result


# -- the command line --------------------------------------------------------------------------------


# The subprocesses run elsewhere than the current directory, which ``-c`` and ``-m`` put first on
# sys.path (a checkout there would shadow the package the interpreter imports).
_CWD = tempfile.gettempdir()


def _output(argv: list[str], env: dict[str, str]) -> bytes:
    """Run ``argv`` (this interpreter, no shell) and return its standard output."""
    return subprocess.run(argv, env=env, cwd=_CWD, capture_output=True, check=True).stdout  # noqa: S603


def _run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    _output(argv, env)
    return time.perf_counter() - start


def bench_cli(runs: int) -> float:
    env = {**os.environ, "HBA_SECRET": SECRET}
    cli = [sys.executable, "-m", "hmac_body_auth"]
    commands = {"--help": [*cli, "--help"], "sign": [*cli, *SIGN], "python -c pass": [sys.executable, "-c", "pass"]}
    for argv in commands.values():  # warm-up: bytecode caches written, files in the page cache
        _run(argv, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for i in range(runs):
        order = list(commands) if i % 2 == 0 else list(reversed(commands))
        for name in order:
            times[name].append(_run(commands[name], env))
    ratio = statistics.median(s / h for s, h in zip(times["sign"], times["--help"], strict=True))
    print(f"command line: wall time of fresh interpreters, {runs} runs each, alternating")
    for name, values in times.items():
        print(f"{name:<16} median {statistics.median(values) * 1e3:7.1f} ms   min {min(values) * 1e3:7.1f} ms")
    verdict = "met" if ratio <= CLI_GOAL else "NOT met"
    print(f"goal: sign / --help <= {CLI_GOAL:.1f}: {ratio:.2f} ({verdict})")
    return ratio


# -- modules -----------------------------------------------------------------------------------------

_PROBE = """
import contextlib, io, json, sys
before = set(sys.modules)
steps = {}
def step(name):
    now = set(sys.modules)
    clients = sorted(c for c in %(clients)r if c in now)
    steps[name] = {"modules": len(now - before), "clients": clients}
import hmac_body_auth as hba
step("import hmac_body_auth")
hba.Poloniex(%(key)r, %(secret)r)
step("+ hba.Poloniex(key, secret)")
import inspect
from hmac_body_auth.presets import PRESETS, preset
for name in PRESETS:
    cls, _ = preset(name)
    extra = {"passphrase": "p"} if "passphrase" in inspect.signature(cls).parameters else {}
    cls(%(key)r, %(secret)r, **extra)
step("+ every preset built")
steps["(the package)"] = hba.__file__
print(json.dumps(steps))
"""

_CLI_PROBE = """
import contextlib, io, json, sys
before = set(sys.modules)
from hmac_body_auth.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(%(argv)r)
    except SystemExit:
        pass
now = set(sys.modules)
print(json.dumps({"modules": len(now - before), "clients": sorted(c for c in %(clients)r if c in now)}))
"""


def bench_modules() -> None:
    env = {**os.environ, "HBA_SECRET": SECRET}
    code = _PROBE % {"clients": CLIENTS, "key": KEY, "secret": SECRET}
    steps = json.loads(_output([sys.executable, "-c", code], env))
    for argv, label in ((["--help"], "cli --help"), (SIGN, "cli sign --preset poloniex")):
        code = _CLI_PROBE % {"argv": argv, "clients": CLIENTS}
        steps[label] = json.loads(_output([sys.executable, "-c", code], env))
    print("modules loaded (beyond the interpreter's start-up), and the HTTP clients among them")
    print(f"package: {os.path.dirname(steps.pop('(the package)'))}")
    for label, info in steps.items():
        print(f"{label:<30} {info['modules']:>4} modules   clients: {', '.join(info['clients']) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few, short rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="construction rounds (default 21, quick 3)")
    parser.add_argument("--calls", type=int, default=None, help="constructions per round (default 1000, quick 100)")
    parser.add_argument("--cli-runs", type=int, default=None, help="runs of each command (default 15, quick 3)")
    args = parser.parse_args()
    import hmac_body_auth

    print(
        f"bench_startup: python {platform.python_version()}, hmac_body_auth {hmac_body_auth.__version__} "
        f"from {os.path.dirname(hmac_body_auth.__file__)}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    bench_modules()
    print()
    bench_construction(args.rounds or (3 if args.quick else 21), args.calls or (100 if args.quick else 1000))
    print()
    bench_cli(args.cli_runs or (3 if args.quick else 15))


if __name__ == "__main__":
    main()
