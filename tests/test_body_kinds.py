"""Text-mode files, memoryview bodies and the auth object itself: signed as sent, or refused before sending."""

from __future__ import annotations

import asyncio
import traceback
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from .conftest import KEY, NIQUESTS, SECRET, aiohttp_call, session

TEXT = "a=1&b=caf\u00e9\r\nline2\nend"

# open() options a user passes for a text file: translated newlines or not, several encodings.
OPENS: list[dict[str, Any]] = [
    {},
    {"newline": ""},
    {"encoding": "latin-1"},
    {"encoding": "utf-8"},
    {"encoding": "utf-8", "newline": ""},
]


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    """A text file, written as UTF-8 bytes with CRLF and LF line ends."""
    path = tmp_path / "body.txt"
    path.write_bytes(TEXT.encode("utf-8"))
    return path


CLIENTS = ["requests", "httpx", "aiohttp", *NIQUESTS]
#: The clients that take a body as requests does (data=).
REQUESTS_LIKE = ["requests", *NIQUESTS]


def _send(client: str, url: str, auth: Any, body: Any, **kwargs: Any) -> int:
    if client == "requests":
        return requests.post(url, data=body, auth=auth, timeout=5, **kwargs).status_code
    if client.startswith("niquests"):
        with session(client) as s:
            return int(s.post(url, data=body, auth=auth, timeout=5, **kwargs).status_code)
    if client == "aiohttp":
        return asyncio.run(aiohttp_call("POST", url, auth, data=body, **kwargs))[0]
    return httpx.post(url, content=body, auth=auth, timeout=5, **kwargs).status_code


# requests warns that it measured a text file's length on disk; the auth replaces that body.
pytestmark = pytest.mark.filterwarnings("ignore::requests.exceptions.FileModeWarning")


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("options", OPENS, ids=[str(o) for o in OPENS])
def test_text_mode_file_is_signed_exactly_as_sent(
    open_server: VerifyingServer, text_file: Path, client: str, options: dict[str, Any]
) -> None:
    """open(p) in text mode, any newline handling and encoding: the server verifies the bytes it received."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, body_encoding="utf-8")
    with text_file.open(**options) as f:
        expected = f.read().encode("utf-8")
    with text_file.open(**options) as f:
        assert _send(client, open_server.url, auth, f) == 200
    (received,) = open_server.received
    assert received.body == expected
    assert open_server.stats.bad_signature == 0


@pytest.mark.parametrize("client", CLIENTS)
def test_text_mode_form_file_gets_its_nonce(server: PoloniexServer, text_file: Path, client: str) -> None:
    """A text-mode form file with a nonce auth: read, encoded, nonce appended, verified by a strict server."""
    text_file.write_text("command=returnBalances", encoding="ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with text_file.open() as f:
        assert _send(client, server.url, hba.Poloniex(KEY, SECRET), f, headers=headers) == 200
    assert server.received[0].body.startswith(b"command=returnBalances&nonce=")


@pytest.mark.parametrize("client", CLIENTS)
def test_text_file_in_the_wrong_encoding_is_refused_before_sending(
    open_server: VerifyingServer, text_file: Path, client: str
) -> None:
    """A text file opened with an encoding it is not in: a BodyError, and nothing reaches the server."""
    with text_file.open(encoding="utf-16") as f, pytest.raises(hba.BodyError, match="binary mode"):
        _send(client, open_server.url, hba.BodyDigestAuth(KEY, secret=SECRET), f)
    assert open_server.received == []


def test_sync_file_with_an_async_client_is_refused_clearly(open_server: VerifyingServer, text_file: Path) -> None:
    """httpx.AsyncClient with a sync file body: a BodyError (not a TypeError), nothing sent."""

    async def go() -> None:
        async with httpx.AsyncClient(auth=hba.BodyDigestAuth(KEY, secret=SECRET), timeout=5) as c:
            with text_file.open("rb") as f:
                await c.post(open_server.url, content=f)

    with pytest.raises(hba.BodyError, match="async"):
        asyncio.run(go())
    assert open_server.received == []


@pytest.mark.parametrize("client", REQUESTS_LIKE)
def test_memoryview_and_bytearray_bodies_are_signed(open_server: VerifyingServer, client: str) -> None:
    """Requests (and niquests) send memoryview and bytearray bodies: they are signed as the bytes they hold."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    assert _send(client, open_server.url, auth, memoryview(b"a=1&b=2")) == 200
    assert _send(client, open_server.url, auth, bytearray(b"c=3")) == 200
    assert [r.body for r in open_server.received] == [b"a=1&b=2", b"c=3"]
    assert open_server.stats.bad_signature == 0


@pytest.mark.parametrize("client", REQUESTS_LIKE)
def test_memoryview_form_gets_its_nonce(server: PoloniexServer, client: str) -> None:
    """A memoryview form body with the Poloniex preset: nonce appended, accepted by the strict server."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert _send(client, server.url, hba.Poloniex(KEY, SECRET), memoryview(b"command=x"), headers=headers) == 200
    assert server.received[0].body.startswith(b"command=x&nonce=")


def test_auth_is_what_each_client_expects() -> None:
    """One object is a requests AuthBase, an httpx.Auth and (installed) an httpx2.Auth."""
    import requests.auth

    auth = hba.Poloniex(KEY, SECRET)
    assert isinstance(auth, requests.auth.AuthBase)
    assert isinstance(auth, httpx.Auth)
    httpx2 = pytest.importorskip("httpx2")
    assert isinstance(auth, httpx2.Auth)


def test_repr_of_a_half_constructed_auth_never_raises() -> None:
    """A constructor that fails half-way leaves an object whose repr works (traceback capture_locals calls it)."""
    half = object.__new__(hba.Poloniex)
    assert "Poloniex(" in repr(half)
    assert SECRET not in repr(half)
    try:
        hba.Poloniex(KEY, "bad secret\n")
    except hba.ConfigurationError as exc:
        rendered = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    assert "Traceback" in rendered
    assert "bad secret" not in rendered.split("ConfigurationError")[-1]


# -- aiohttp's own body kinds -------------------------------------------------------------------


def _post(url: str, auth: Any, **kwargs: Any) -> int:
    return asyncio.run(aiohttp_call("POST", url, auth, **kwargs))[0]


def test_aiohttp_formdata_without_files_is_a_signed_form(server: PoloniexServer) -> None:
    """FormData of plain fields (aiohttp urlencodes it): the fields in order, then the nonce, verified as a form."""
    form = aiohttp.FormData()
    form.add_field("command", "buy")
    form.add_field("x", "a b&c")
    assert _post(server.url, hba.Poloniex(KEY, SECRET), data=form) == 200
    (received,) = server.received
    assert received.body.startswith(b"command=buy&x=a+b%26c&nonce=")
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("kind", ["open-file", "bytes"])
@pytest.mark.parametrize("nonce", [True, False], ids=["nonce", "no-nonce"])
def test_aiohttp_formdata_with_a_file_is_refused_before_sending(
    server: PoloniexServer, text_file: Path, nonce: bool, kind: str
) -> None:
    """FormData with a file (an open file, or bytes with a filename): a BodyError naming the fix, nothing sent."""
    auth = hba.Poloniex(KEY, SECRET) if nonce else hba.BodyDigestAuth(KEY, secret=SECRET)
    with text_file.open("rb") as f:
        form = aiohttp.FormData()
        form.add_field("command", "upload")
        form.add_field("file", f if kind == "open-file" else b"a,b\n", filename="body.txt")
        with pytest.raises(hba.BodyError, match="a form with a file"):
            _post(server.url, auth, data=form)
    assert server.received == []


def test_aiohttp_multipart_of_plain_fields_is_signed_as_sent(open_server: VerifyingServer) -> None:
    """FormData made multipart with text fields only: without a nonce, the exact multipart bytes are signed."""
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("a", "1")
    form.add_field("b", "caf\u00e9")
    assert _post(open_server.url, hba.BodyDigestAuth(KEY, secret=SECRET), data=form) == 200
    (received,) = open_server.received
    assert received.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="b"' in received.body
    assert open_server.stats.bad_signature == 0


def test_aiohttp_multipart_with_a_nonce_is_refused(server: PoloniexServer) -> None:
    """The nonce goes into a urlencoded form: a multipart body is refused with a BodyError, nothing sent."""
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("command", "buy")
    with pytest.raises(hba.BodyError, match="multipart/form-data"):
        _post(server.url, hba.Poloniex(KEY, SECRET), data=form)
    assert server.received == []


def test_aiohttp_compression_is_refused(open_server: VerifyingServer) -> None:
    """compress= would put other bytes on the wire than the signed ones: BodyError, nothing sent."""
    with pytest.raises(hba.BodyError, match="compress"):
        _post(open_server.url, hba.BodyDigestAuth(KEY, secret=SECRET), data=b"a=1", compress="deflate")
    assert open_server.received == []


def test_aiohttp_named_file_is_sent_as_the_form_it_holds(server: PoloniexServer, tmp_path: Path) -> None:
    """A binary file named form.txt: aiohttp's text/plain guess and Content-Disposition go; nonce form as signed."""
    path = tmp_path / "form.txt"
    path.write_bytes(b"command=returnBalances")
    with path.open("rb") as f:
        assert _post(server.url, hba.Poloniex(KEY, SECRET), data=f) == 200
    (received,) = server.received
    assert received.body.startswith(b"command=returnBalances&nonce=")
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Content-Disposition" not in received.headers


def test_aiohttp_str_body_without_a_nonce_is_labelled_with_its_real_charset(open_server: VerifyingServer) -> None:
    """A str body goes out as body_encoding's bytes (not aiohttp's UTF-8) and says so in its Content-Type."""
    assert _post(open_server.url, hba.BodyDigestAuth(KEY, secret=SECRET), data="caf\u00e9") == 200
    (received,) = open_server.received
    assert received.body == "caf\u00e9".encode("latin-1")
    assert received.headers["Content-Type"] == "text/plain; charset=latin-1"
    assert open_server.stats.bad_signature == 0
