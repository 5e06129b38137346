"""Run in a child process: send one large file body and report the peak memory growth."""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import AsyncIterator
from typing import Any


def peak_kib() -> int:
    """Return the peak resident size of this process in KiB.

    ``ru_maxrss`` survives fork and exec on Linux (the child starts with its
    parent's peak), so read the memory map's high-water mark where there is one.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _aiohttp(auth: object, path: str, url: str, mode: str) -> tuple[int, float]:
    """Warm up, then send the file (or an async generator over it) through aiohttp: (status, peak before)."""
    import asyncio

    import aiohttp

    import hmac_body_auth as hba

    async def chunks(f: object) -> AsyncIterator[bytes]:
        while chunk := await asyncio.to_thread(f.read, 1 << 20):  # type: ignore[attr-defined]
            yield chunk

    async def main() -> tuple[int, float]:
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(middlewares=(hba.aiohttp_middleware(auth),), timeout=timeout) as session:  # type: ignore[arg-type]
            async with session.post(url, data=WARM_UP) as r:
                await r.read()
            before = peak_kib()
            with open(path, "rb") as f:
                body: object = chunks(f) if mode == "generator" else f
                async with session.post(url, data=body) as r:
                    await r.read()
                    return r.status, before

    return asyncio.run(main())


# A form (a nonce field may follow it) of 1 KiB.
WARM_UP = b"warm=" + b"x" * 1019


async def _file_chunks(f: Any) -> AsyncIterator[bytes]:
    """An httpx.AsyncClient's file body: an async iterator over the file's chunks."""
    import asyncio

    while chunk := await asyncio.to_thread(f.read, 1 << 20):
        yield chunk


def main() -> None:
    """argv: client path url mode; prints {"status": ..., "growth_mib": ...}.

    mode: ``file`` or ``generator`` (signed without a nonce), or ``nonce`` (the file,
    a form, signed by the Poloniex preset with its nonce field appended).
    """
    client, path, url, mode = sys.argv[1:5]
    import asyncio

    import httpx
    import requests

    import hmac_body_auth as hba

    if mode == "nonce":
        auth: object = hba.Poloniex("MEMKEY-0001", "memory-secret")
    else:
        auth = hba.BodyDigestAuth("MEMKEY-0001", secret="memory-secret")
    if client == "aiohttp":
        status, before = _aiohttp(auth, path, url, mode)
        after = peak_kib()
        print(json.dumps({"status": status, "growth_mib": (after - before) / 1024, "peak_mib": after / 1024}))
        return

    def post(body: object) -> int:
        if client == "requests":
            return requests.post(url, data=body, auth=auth, timeout=120).status_code
        if client == "niquests.Session":
            import niquests

            return int(niquests.post(url, data=body, auth=auth, timeout=120).status_code)
        if client == "niquests.AsyncSession":
            import niquests

            async def go() -> int:
                async with niquests.AsyncSession() as s:
                    return int((await s.post(url, data=body, auth=auth, timeout=120)).status_code)

            return asyncio.run(go())
        if client == "httpx-async":

            async def send() -> int:
                content = _file_chunks(body) if hasattr(body, "read") else body
                async with httpx.AsyncClient() as c:
                    return (await c.post(url, content=content, auth=auth, timeout=120)).status_code  # type: ignore[arg-type]

            return asyncio.run(send())
        return httpx.post(url, content=body, auth=auth, timeout=120).status_code  # type: ignore[arg-type]

    # Warm up the client code paths with a small body first, so imports and
    # connection set-up are not counted as growth.
    post(WARM_UP)
    before = peak_kib()
    with open(path, "rb") as f:
        body: object = f
        if mode == "generator":
            body = iter(lambda: f.read(1 << 20), b"")
        status = post(body)
    after = peak_kib()
    print(json.dumps({"status": status, "growth_mib": (after - before) / 1024, "peak_mib": after / 1024}))


if __name__ == "__main__":
    main()
