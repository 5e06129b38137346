"""File bodies: peak memory of signed uploads, and signing throughput against a bare HMAC.

(a) Memory. A child process (this script with ``--child``) uploads a 16, 64 or
256 MiB file through ``requests.post(data=f)`` or ``httpx.post(content=f)`` to a
local ``VerifyingServer({key: secret}, nonce_field=None)`` in this process, with
``BodyDigestAuth(key, secret=...)`` (signed) or ``auth=None`` (unsigned, the
baseline); and, in the nonce arm, a form file of the same size through
``hmac_body_auth.Poloniex(key, secret)`` (``&nonce=N`` appended, HMAC-SHA512 in
``Sign``) to a strict ``VerifyingServer({key: secret})`` that checks the
signature and the nonce (goal: growth <= 32 MiB at 256 MiB). It reports the growth of its peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) across the upload, after a small
warm-up upload through the same path. The server checks each signed upload's
``Sign`` against an HMAC of the file.

(b) Throughput. Over the same file in the page cache, against the baseline
``hmac.new(secret, digestmod=sha512)`` updated with 1 MiB reads (goal: ratio <= 1.05):

* ``file_digest``: ``hmac_body_auth._streams.file_digest(auth.signer, f, "latin-1")``;
* ``auth(prepared)``: the auth applied to a prepared requests POST whose body is
  the file object (it hashes the file in chunks and rewinds it);
* ``httpx flow (spool)`` (reference, no goal): the first step of the auth's httpx
  flow for ``content=f``. httpx hands the auth a one-shot stream, so the auth
  reads it once into a spool (a temporary file beyond 8 MiB) while hashing;
* ``Poloniex(prepared), nonce`` (reference, no goal): ``Poloniex`` applied to a
  prepared requests POST of the form file (no Content-Type, as ``data=f`` sends
  it): the file is hashed and checked as a form (no ``nonce`` field, every field
  a ``name=value``) as it is read, and rewound.

``--child-pythonpath DIR`` runs the uploading children with another checkout of
the package (``PYTHONPATH=DIR``), to measure memory before a change.

One call per measurement, prepared requests built before timing, subjects
interleaved (the order rotates each round), the garbage collector off while
timing, ratios the median over rounds of the per-round ratio.

Run: ``python benchmarks/bench_files.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import httpx
import requests
from requests.hooks import default_hooks

import hmac_body_auth
from hmac_body_auth._streams import file_digest
from hmac_body_auth.testing import VerifyingServer

KEY = "BENCH-FILES-KEY-0001"
SECRET = "bench-files-secret-0123456789"
MIB = 1 << 20
GOAL = 1.05
# Linux keeps ru_maxrss across fork and exec: a child started directly from this process
# (whose server holds the uploaded bodies) would start with this process's RSS as its
# "peak" and hide any growth below it. Started from a small shell that forks it instead
# (``"$@"; exit`` is not the last command, so dash does not exec), it starts from its own.
LAUNCH = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]


# -- (a) memory, in a child process -------------------------------------------------------------


def child(client: str, path: str, url: str, mode: str) -> None:
    """Upload ``path`` once; print the peak-RSS growth across the upload as JSON."""
    auth: Any = None
    if mode == "signed":
        auth = hmac_body_auth.BodyDigestAuth(KEY, secret=SECRET)
    elif mode == "nonce":
        auth = hmac_body_auth.Poloniex(KEY, SECRET)
    # Warm up the same code path with a small body (a form: a nonce may follow it),
    # so imports and connection set-up are not counted as growth.
    small = b"warm=" + b"x" * 1019
    if client == "requests":
        requests.post(url, data=small, auth=auth, timeout=60)
    else:
        httpx.post(url, content=small, auth=auth, timeout=60)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    hwm_before = _vm_hwm_kib()
    start = time.perf_counter()
    with open(path, "rb") as f:
        if client == "requests":
            status = requests.post(url, data=f, auth=auth, timeout=300).status_code
        else:
            status = httpx.post(url, content=f, auth=auth, timeout=300).status_code
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report: dict[str, Any] = {
        "status": status,
        "growth_mib": (after - before) / 1024,
        "rss_mib": before / 1024,
        "upload_s": elapsed,
    }
    report["inherited_mib"] = (before - hwm_before) / 1024 if hwm_before is not None else None
    print(json.dumps(report))


def _vm_hwm_kib() -> int | None:
    """This process's own peak RSS (Linux ``VmHWM``, KiB; unlike ru_maxrss, not inherited), or ``None``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def file_hmac(path: Path) -> str:
    mac = hmac.new(SECRET.encode(), digestmod=hashlib.sha512)
    with path.open("rb") as f:
        while chunk := f.read(MIB):
            mac.update(chunk)
    return mac.hexdigest()


def memory(files: dict[int, Path], forms: dict[int, Path], reps: int, child_path: str | None) -> list[dict[str, Any]]:
    rows = []
    env = dict(os.environ)
    if child_path is not None:
        env["PYTHONPATH"] = child_path
    with VerifyingServer({KEY: SECRET}, nonce_field=None) as plain, VerifyingServer({KEY: SECRET}) as strict:
        for mib, path in files.items():
            expected = file_hmac(path)
            form_sha = hashlib.sha256(forms[mib].read_bytes()).hexdigest()
            for client in ("requests", "httpx"):
                for mode in ("unsigned", "signed", "nonce"):
                    nonce = mode == "nonce"
                    server = strict if nonce else plain
                    body = forms[mib] if nonce else path
                    runs = []
                    for _ in range(reps):
                        argv = [*LAUNCH, sys.executable, str(Path(__file__).resolve()), "--child", client]
                        # Fixed arguments, this script by absolute path; sh only forks (see LAUNCH).
                        done = subprocess.run(  # noqa: S603
                            [*argv, str(body), server.origin + "/upload", mode],
                            capture_output=True,
                            text=True,
                            timeout=600,
                            check=False,
                            env=env,
                        )
                        if done.returncode != 0:
                            raise SystemExit(f"child {client} {mode} {mib} MiB failed:\n{done.stderr}")
                        report = json.loads(done.stdout)
                        if report["inherited_mib"] is not None and report["inherited_mib"] > 1:
                            raise SystemExit(
                                f"the child's ru_maxrss includes {report['inherited_mib']:.0f} MiB it inherited"
                            )
                        upload = server.received[-1]
                        if nonce:
                            # The strict server checked the signature and the nonce (200); the
                            # bytes before the nonce field are the file's.
                            head, _, field = upload.body.rpartition(b"&")
                            if report["status"] != 200 or hashlib.sha256(head).hexdigest() != form_sha:
                                raise SystemExit(f"{client} nonce {mib} MiB: not verified ({report['status']})")
                            if not field.startswith(b"nonce="):
                                raise SystemExit(f"{client} nonce {mib} MiB: no nonce field last")
                        elif len(upload.body) != mib * MIB:
                            raise SystemExit(f"{client} {mode}: the server got {len(upload.body)} bytes")
                        if mode == "signed" and (report["status"] != 200 or upload.headers.get("Sign") != expected):
                            raise SystemExit(f"{client} signed {mib} MiB: not verified ({report['status']})")
                        server.reset()  # drops the received body
                        runs.append(report)
                    rows.append({"client": client, "mode": mode, "mib": mib, "runs": runs})
    return rows


# -- (b) throughput ----------------------------------------------------------------------------

Subject = Callable[[], Callable[[], str]]
"""Untimed setup returning the timed call, which returns the signature."""


def timed(setup: Subject) -> tuple[float, str]:
    call = setup()
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        signature = call()
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed, signature


def throughput_subjects(f: IO[bytes], form: IO[bytes], url: str) -> dict[str, Subject]:
    secret = SECRET.encode()
    auth = hmac_body_auth.BodyDigestAuth(KEY, secret=SECRET)
    polo = hmac_body_auth.Poloniex(KEY, SECRET)

    def baseline() -> Callable[[], str]:
        f.seek(0)

        def call() -> str:
            mac = hmac.new(secret, digestmod=hashlib.sha512)
            while chunk := f.read(MIB):
                mac.update(chunk)
            return mac.hexdigest()

        return call

    def digest() -> Callable[[], str]:
        f.seek(0)
        return lambda: file_digest(auth.signer, f, "latin-1")[0]

    def applied() -> Callable[[], str]:
        f.seek(0)
        r = requests.Request("POST", url, data=f).prepare()
        r.hooks = default_hooks()

        def call() -> str:
            return str(auth(r).headers["Sign"])

        return call

    def httpx_flow() -> Callable[[], str]:
        f.seek(0)
        request = httpx.Request("POST", url, content=f)

        def call() -> str:
            flow = auth.sync_auth_flow(request)
            signed = next(flow)
            flow.close()  # closes (deletes) the spool
            return signed.headers["Sign"]

        return call

    def nonce_applied() -> Callable[[], str]:
        form.seek(0)
        r = requests.Request("POST", url, data=form).prepare()
        r.hooks = default_hooks()

        def call() -> str:
            return str(polo(r).headers["Sign"])

        return call

    return {
        "hmac 1 MiB reads (baseline)": baseline,
        "file_digest": digest,
        "auth(prepared)": applied,
        "httpx flow (spool, reference)": httpx_flow,
        NONCE_ROW: nonce_applied,
    }


NONCE_ROW = "Poloniex(prepared), nonce (ref)"


def throughput(path: Path, form_path: Path, rounds: int) -> dict[str, list[float]]:
    expected = file_hmac(path)
    with path.open("rb") as f, form_path.open("rb") as form:
        subjects = throughput_subjects(f, form, "http://127.0.0.1:9/upload")
        for name, setup in subjects.items():  # check, and warm the page cache
            if name != NONCE_ROW and timed(setup)[1] != expected:
                raise SystemExit(f"{name}: the signature is not the HMAC of the file")
        # Poloniex: the signature of the form file followed by the nonce field it appended.
        form.seek(0)
        r = requests.Request("POST", "http://127.0.0.1:9/upload", data=form).prepare()
        r.hooks = default_hooks()
        signed = hmac_body_auth.Poloniex(KEY, SECRET, ordered=False)(r)
        mac = hmac.new(SECRET.encode(), digestmod=hashlib.sha512)
        while chunk := signed.body.read(MIB):  # type: ignore[union-attr]
            mac.update(chunk)
        if signed.headers["Sign"] != mac.hexdigest():
            raise SystemExit(f"{NONCE_ROW}: the signature is not the HMAC of the file and its nonce field")
        names = list(subjects)
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(rounds):
            shift = i % len(names)
            for name in names[shift:] + names[:shift]:
                times[name].append(timed(subjects[name])[0])
    return times


def make_form(path: Path, mib: int) -> None:
    """A form file of ``mib`` MiB: 1 MiB fields ``fNNNN=<hex>`` joined by ``&``."""
    value = os.urandom(MIB // 2).hex().encode("ascii")
    with path.open("wb") as f:
        for i in range(mib):
            last = i == mib - 1
            f.write(b"f%04d=%s%s" % (i, (value[i:] + value[:i])[: MIB - (6 if last else 7)], b"" if last else b"&"))


def make_file(path: Path, mib: int) -> None:
    block = os.urandom(MIB)
    with path.open("wb") as f:
        for i in range(mib):
            f.write(block[i % MIB :] + block[: i % MIB])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (4 and 16 MiB, 3 rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="throughput rounds (default 15, quick 3)")
    parser.add_argument("--reps", type=int, default=1, help="memory runs per row (default 1)")
    parser.add_argument("--mib", type=int, default=None, help="throughput file size in MiB (default 64, quick 16)")
    parser.add_argument("--child", nargs=4, metavar=("CLIENT", "PATH", "URL", "MODE"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--child-pythonpath", default=None, help="PYTHONPATH of the uploading children (another checkout)"
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rounds = args.rounds or (3 if args.quick else 15)
    sizes = [4, 16] if args.quick else [16, 64, 256]
    size_b = args.mib or (16 if args.quick else 64)

    with tempfile.TemporaryDirectory(prefix="bench-files-") as tmp:
        files = {mib: Path(tmp) / f"body-{mib}.bin" for mib in sorted({*sizes, size_b})}
        forms = {mib: Path(tmp) / f"form-{mib}.txt" for mib in files}
        for mib, path in files.items():
            make_file(path, mib)
            make_form(forms[mib], mib)
        t0 = time.perf_counter()
        mem = memory({mib: files[mib] for mib in sizes}, forms, args.reps, args.child_pythonpath)
        t_mem = time.perf_counter() - t0
        times = throughput(files[size_b], forms[size_b], rounds)

    print(f"bench_files: file bodies, HMAC-SHA512, BodyDigestAuth without nonce ({t_mem:.0f} s of uploads)")
    print(
        f"python {platform.python_version()}, requests {requests.__version__}, httpx {httpx.__version__}, "
        f"hmac_body_auth {hmac_body_auth.__version__}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print()
    print("(a) peak RSS growth of the uploading process (MiB), ru_maxrss after - before the upload:")
    print(
        f"{'client':<10} {'mode':<10} {'MiB':>5} {'status':>7} {'growth MiB':>11} {'peak before':>12} {'upload s':>9}"
    )
    worst_growth = {"signed": 0.0, "unsigned": 0.0, "nonce": 0.0}
    for row in mem:
        growth = max(r["growth_mib"] for r in row["runs"])
        worst_growth[row["mode"]] = max(worst_growth[row["mode"]], growth)
        print(
            f"{row['client']:<10} {row['mode']:<10} {row['mib']:>5} {row['runs'][-1]['status']:>7} {growth:>11.1f} "
            f"{row['runs'][-1]['rss_mib']:>12.1f} {statistics.median(r['upload_s'] for r in row['runs']):>9.2f}"
        )
    print()
    baseline = "hmac 1 MiB reads (baseline)"
    print(f"(b) signing a {size_b} MiB file in the page cache, {rounds} rounds:")
    print(f"{'subject':<30} {'median ms':>10} {'min ms':>8} {'MB/s':>7} {'ratio (median)':>15} {'ratio (min)':>12}")
    size = size_b * MIB
    for name, values in times.items():
        paired = statistics.median(a / b for a, b in zip(values, times[baseline], strict=True))
        med = statistics.median(values)
        print(
            f"{name:<30} {med * 1e3:>10.1f} {min(values) * 1e3:>8.1f} {size / med / 1e6:>7.0f} {paired:>15.3f} "
            f"{min(values) / min(times[baseline]):>12.3f}"
        )
    print()

    def ratio(name: str) -> float:
        return statistics.median(a / b for a, b in zip(times[name], times[baseline], strict=True))

    worst = max(ratio("file_digest"), ratio("auth(prepared)"))
    verdict = "met" if worst <= GOAL else "NOT met"
    print(
        f"goal: file signing / hmac with 1 MiB reads <= {GOAL:.2f}: worst median ratio {worst:.3f} ({verdict}); "
        f"httpx flow (spool) {ratio('httpx flow (spool, reference)'):.3f} (reference)"
    )
    print(
        f"memory: worst growth signed {worst_growth['signed']:.1f} MiB, unsigned {worst_growth['unsigned']:.1f} MiB "
        "(no goal; the test suite bounds signed growth at 32 MiB for 256 MiB)"
    )
    verdict = "met" if worst_growth["nonce"] <= 32 else "NOT met"
    print(f"goal: growth with a nonce (Poloniex) <= 32 MiB: worst {worst_growth['nonce']:.1f} MiB ({verdict})")
    print(f"{NONCE_ROW}: {ratio(NONCE_ROW):.3f} of the baseline (reference, no goal)")


if __name__ == "__main__":
    main()
