"""Property tests: for any body, the bytes signed are the bytes the server received."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

KEY, SECRET = "FUZZ-KEY-0001", "fuzz-secret-0123"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def open_srv() -> Iterator[VerifyingServer]:
    """One verifying server (no nonces) for all examples."""
    with VerifyingServer({KEY: SECRET}, nonce_field=None) as srv:
        yield srv


@pytest.fixture(scope="module")
def strict_srv() -> Iterator[PoloniexServer]:
    """One strict Poloniex-like server for all examples."""
    with PoloniexServer({KEY: SECRET}) as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[requests.Session, httpx.Client]]:
    """Long-lived clients so examples run fast."""
    with requests.Session() as s, httpx.Client(timeout=10) as c:
        yield s, c


def _expected(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()


def _last(server: VerifyingServer) -> bytes:
    received = server.received[-1]
    assert received.headers["Sign"] == _expected(received.body)
    return received.body


@FUZZ
@given(body=st.binary(max_size=2048))
def test_any_bytes_body(open_srv: VerifyingServer, clients: tuple[requests.Session, httpx.Client], body: bytes) -> None:
    """Arbitrary bytes go out unchanged and signed, through requests and httpx."""
    s, c = clients
    auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    assert s.post(open_srv.origin, data=body, auth=auth, timeout=10).status_code == 200
    assert _last(open_srv) == body
    assert c.post(open_srv.origin, content=body, auth=auth).status_code == 200
    assert _last(open_srv) == body


@FUZZ
@given(text=st.text(max_size=500), encoding=st.sampled_from(["latin-1", "utf-8", "cp1252", "utf-16-le"]))
def test_any_str_body_in_each_encoding(
    open_srv: VerifyingServer, clients: tuple[requests.Session, httpx.Client], text: str, encoding: str
) -> None:
    """A str body is either encoded with body_encoding and sent exactly, or refused before sending."""
    s, _ = clients
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, body_encoding=encoding)
    before = len(open_srv.received)
    try:
        expected = text.encode(encoding)
    except UnicodeEncodeError:
        with pytest.raises(hba.BodyEncodingError):
            s.post(open_srv.origin, data=text, auth=auth, timeout=10)
        assert len(open_srv.received) == before
        return
    assert s.post(open_srv.origin, data=text, auth=auth, timeout=10).status_code == 200
    assert _last(open_srv) == expected


@FUZZ
@given(pairs=st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(max_size=40)), max_size=8))
def test_any_form_pairs_with_a_nonce(
    strict_srv: PoloniexServer, clients: tuple[requests.Session, httpx.Client], pairs: list[tuple[str, str]]
) -> None:
    """Form pairs with any characters arrive in order, nonce last, signed; a caller 'nonce' field is refused."""
    s, c = clients
    auth = hba.Poloniex(KEY, SECRET)
    encoded = urlencode(pairs).encode()
    if any(name == "nonce" for name, _ in pairs):
        with pytest.raises(hba.BodyError):
            s.post(strict_srv.url, data=pairs, auth=auth, timeout=10)
        return
    assert s.post(strict_srv.url, data=pairs, auth=auth, timeout=10).status_code == 200
    body = _last(strict_srv)
    assert body.rpartition(b"nonce=")[0].rstrip(b"&") == encoded
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert c.post(strict_srv.url, content=encoded, headers=headers, auth=auth).status_code == 200
    assert _last(strict_srv).rpartition(b"nonce=")[0].rstrip(b"&") == encoded
    assert strict_srv.stats.bad_nonce == 0


@settings(max_examples=300, deadline=None)
@given(key=st.text(max_size=30))
def test_key_validation_never_lets_injection_through(key: str) -> None:
    """Any key is either visible ASCII without spaces, or refused with an error that does not echo it."""
    try:
        auth = hba.BodyDigestAuth(key, secret=SECRET)
    except hba.ConfigurationError as exc:
        message = str(exc)
    else:
        assert auth.key == key
        assert all(0x21 <= ord(ch) <= 0x7E for ch in key)
        return
    if len(key.strip()) >= 4:
        assert key.strip() not in message


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=20))
def test_header_name_validation(name: str) -> None:
    """Any header name is either an RFC 9110 token or refused at construction."""
    try:
        hba.BodyDigestAuth(KEY, secret=SECRET, signature_header=name)
    except hba.ConfigurationError:
        return
    assert name
    assert all(ch.isascii() and (ch.isalnum() or ch in "!#$%&'*+-.^_`|~") for ch in name)


@settings(max_examples=200, deadline=None)
@given(secret=st.one_of(st.text(max_size=30), st.binary(max_size=30)))
def test_secret_validation(secret: str | bytes) -> None:
    """Any secret is either usable (non-empty, no surrounding whitespace) or refused without echo."""
    try:
        auth = hba.BodyDigestAuth(KEY, secret=secret)
    except hba.ConfigurationError as exc:
        message = str(exc)
    else:
        raw = secret.encode() if isinstance(secret, str) else secret
        assert raw
        assert raw == raw.strip()
        assert auth.signer.sign(b"x") == hmac.new(raw, b"x", hashlib.sha512).hexdigest()
        return
    text = secret if isinstance(secret, str) else secret.decode("latin-1")
    if len(text.strip()) >= 4:
        assert text.strip() not in message
