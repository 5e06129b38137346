"""Large and streaming bodies: signed in bounded memory, never sent empty or mismatched."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import VerifyingServer

from .conftest import NIQUESTS, REQUESTS_LIKE, aiohttp_call, call, session

MIB = 1 << 20


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 256 MiB file of pseudo-random bytes, and its HMAC-SHA512 under the memory client's secret."""
    path = tmp_path_factory.mktemp("big") / "body.bin"
    block = os.urandom(MIB)
    # The expected signature is computed as the file is written: once, not once per test.
    mac = hmac.new(b"memory-secret", digestmod=hashlib.sha512)
    with path.open("wb") as f:
        for i in range(256):
            chunk = block[i:] + block[:i]
            f.write(chunk)
            mac.update(chunk)
    return path, mac.hexdigest()


@pytest.fixture
def memory_server() -> Iterator[VerifyingServer]:
    """A verifying server for the memory client's key."""
    with VerifyingServer({"MEMKEY-0001": "memory-secret"}, nonce_field=None) as srv:
        yield srv


@pytest.mark.slow
@pytest.mark.parametrize("client", ["requests", "httpx", "aiohttp", *NIQUESTS])
@pytest.mark.parametrize("mode", ["file", "generator"])
def test_256_mib_body_signed_in_bounded_memory(
    big_file: tuple[Path, str], memory_server: VerifyingServer, client: str, mode: str
) -> None:
    """A 256 MiB file or generator (aiohttp: async) body is signed and verified, the client's peak growing < 32 MiB."""
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("_memory_client.py")),
            client,
            str(big_file[0]),
            memory_server.origin + "/upload",
            mode,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == 200
    assert report["growth_mib"] < 32, report
    assert report["peak_mib"] < 200, report  # the child's own peak: a 256 MiB copy would show
    upload = memory_server.received[-1]
    assert len(upload.body) == 256 * MIB
    assert upload.headers["Sign"] == big_file[1]
    assert "Transfer-Encoding" not in upload.headers


@pytest.mark.parametrize("client", REQUESTS_LIKE)
def test_generator_body_is_spooled_with_framing_right(open_server: VerifyingServer, client: str) -> None:
    """A generator body (no nonce) is spooled, signed, and sent with Content-Length instead of chunked."""
    chunks = [b"a" * 1000, b"", b"b" * 10]
    auth = hba.BodyDigestAuth(secret="0123456789abcdef-secret")
    assert call(client, "POST", open_server.origin, auth, data=iter(chunks))[0] == 200
    (received,) = open_server.received
    assert received.body == b"".join(chunks)
    assert received.headers["Content-Length"] == "1010"
    assert "Transfer-Encoding" not in received.headers


async def _agen(parts: list[bytes]) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


@pytest.mark.parametrize("client", ["httpx", "httpx-async", "aiohttp"])
def test_streamed_bodies_are_spooled_and_signed(open_server: VerifyingServer, client: str) -> None:
    """Iterator and async-iterator bodies (httpx, aiohttp): read once, signed, and sent whole with Content-Length."""
    auth = hba.BodyDigestAuth(secret="0123456789abcdef-secret")
    parts = [b"x" * 70000, b"", b"y" * 5]
    if client == "aiohttp":
        assert asyncio.run(aiohttp_call("POST", open_server.origin, auth, data=_agen(parts)))[0] == 200
    elif client == "httpx-async":

        async def go() -> int:
            async with httpx.AsyncClient(auth=auth) as c:
                return (await c.post(open_server.origin, content=_agen(parts))).status_code

        assert asyncio.run(go()) == 200
    else:
        assert httpx.post(open_server.origin, content=iter(parts), auth=auth).status_code == 200
    (received,) = open_server.received
    assert received.body == b"".join(parts)
    assert received.headers["Content-Length"] == str(70005)
    assert "Transfer-Encoding" not in received.headers


@pytest.mark.parametrize("body", ["file", "stream"])
@pytest.mark.parametrize("client", ["requests", "aiohttp", *NIQUESTS])
def test_file_body_with_a_nonce_is_signed_with_the_nonce(
    server: VerifyingServer, tmp_path: Path, client: str, body: str
) -> None:
    """A file or a stream (aiohttp: an async iterator) holding a form, with a nonce: nonce appended, sent as signed."""
    from .conftest import KEY, SECRET

    path = tmp_path / "form.txt"
    path.write_bytes(b"command=returnBalances")
    auth = hba.Poloniex(KEY, SECRET)
    with path.open("rb") as f:
        if client == "requests":
            data: object = f if body == "file" else iter([b"command=", b"returnBalances"])
            status = requests.post(server.url, data=data, auth=auth, timeout=10).status_code
        elif client.startswith("niquests"):
            data = f if body == "file" else iter([b"command=", b"returnBalances"])
            with session(client) as s:
                status = int(s.post(server.url, data=data, auth=auth, timeout=10).status_code)
        else:
            data = f if body == "file" else _agen([b"command=", b"returnBalances"])
            status = asyncio.run(aiohttp_call("POST", server.url, auth, data=data))[0]
    assert status == 200
    assert server.received[0].body.startswith(b"command=returnBalances&nonce=")
    assert server.received[0].headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def big_form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 256 MiB form file (256 fields of random hex) and the SHA-256 of its bytes."""
    path = tmp_path_factory.mktemp("form") / "form.txt"
    value = os.urandom(MIB // 2).hex().encode("ascii")
    digest = hashlib.sha256()
    with path.open("wb") as f:
        for i in range(256):
            # 1 MiB per field: "fNNN=" and hex, then "&" but after the last one.
            last = i == 255
            field = b"f%03d=%s%s" % (i, (value[i:] + value[:i])[: MIB - (5 if last else 6)], b"" if last else b"&")
            f.write(field)
            digest.update(field)
    return path, digest.hexdigest()


@pytest.fixture
def nonce_server() -> Iterator[VerifyingServer]:
    """A strict verifying server for the memory client's key: signature and increasing nonce checked."""
    with VerifyingServer({"MEMKEY-0001": "memory-secret"}) as srv:
        yield srv


@pytest.mark.slow
@pytest.mark.parametrize("client", ["requests", "httpx", "httpx-async", "aiohttp"])
def test_256_mib_file_with_a_nonce_is_streamed_in_bounded_memory(
    big_form: tuple[Path, str], nonce_server: VerifyingServer, client: str
) -> None:
    """A 256 MiB form file with the Poloniex nonce: sent as the file then &nonce=N, verified, peak growth < 32 MiB."""
    path, sha = big_form
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("_memory_client.py")),
            client,
            str(path),
            nonce_server.url,
            "nonce",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == 200, report
    assert report["growth_mib"] < 32, report
    assert report["peak_mib"] < 200, report
    upload = nonce_server.received[-1]
    size = path.stat().st_size
    assert hashlib.sha256(memoryview(upload.body)[:size]).hexdigest() == sha  # no 256 MiB copy
    assert upload.body[size:].startswith(b"&nonce=")
    assert upload.body[size + 7 :].isdigit()
    assert upload.headers["Content-Length"] == str(len(upload.body))
    assert "Transfer-Encoding" not in upload.headers
    assert (nonce_server.stats.accepted, nonce_server.stats.bad_signature, nonce_server.stats.bad_nonce) == (2, 0, 0)
