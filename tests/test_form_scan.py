"""Large and streamed form bodies with a nonce: checked as small ones are, signed from one pass."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hmac_body_auth as hba
from hmac_body_auth._body import FormScan, check_form
from hmac_body_auth._signing import Signer
from hmac_body_auth.errors import BodyError
from hmac_body_auth.presets import PoloniexVerifier

FORM = "application/x-www-form-urlencoded"
MIB = 1 << 20
SECRET = "0123456789abcdef-secret"
PIECES = [b"a", b"n", b"o", b"c", b"e", b"nonce", b"&", b"=", b"%", b"6E", b"%6F", b"+", b"x", b"&&"]


def _outcome(check: object) -> str | None:
    try:
        check()  # type: ignore[operator]
    except BodyError as exc:
        return str(exc)
    return None


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.sampled_from(PIECES), max_size=30),
    cuts=st.lists(st.integers(min_value=1, max_value=12), max_size=30),
    typed=st.booleans(),
)
def test_chunked_scan_refuses_what_check_form_refuses(parts: list[bytes], cuts: list[int], typed: bool) -> None:
    """FormScan over any chunking gives check_form's outcome: the same refusal (message) or none."""
    body = b"".join(parts)
    content_type = FORM if typed else None

    def scan() -> None:
        form = FormScan(content_type, "nonce")
        at = 0
        for cut in [*cuts, len(body)]:
            form.feed(body, at, min(len(body), at + cut))
            at = min(len(body), at + cut)
        form.feed(body, at)
        form.finish()

    assert _outcome(scan) == _outcome(lambda: check_form(body, content_type, "nonce"))


@pytest.mark.parametrize("field", [b"nonce=1", b"n%6Fnce=1", b"nonce", b"nonce="])
@pytest.mark.parametrize("where", ["start", "middle", "end"])
@pytest.mark.parametrize("content_type", [FORM, None])
def test_large_body_with_a_nonce_field_is_refused_as_a_small_one(
    field: bytes, where: str, content_type: str | None
) -> None:
    """A 3 MiB form already carrying a nonce field: the same BodyError as for a small body, no signature."""
    filler = b"payload=" + b"A" * (3 * MIB)
    body = {"start": field + b"&" + filler, "middle": filler + b"&" + field + b"&a=1", "end": filler + b"&" + field}[
        where
    ]
    small = {"start": field + b"&a=1", "middle": b"a=1&" + field + b"&a=1", "end": b"a=1&" + field}[where]
    auth = hba.Poloniex("KEY-SCAN-1", SECRET, ordered=False)
    with pytest.raises(BodyError) as expected:
        auth.sign("POST", "http://127.0.0.1/", body=small, content_type=content_type)
    with pytest.raises(BodyError) as got:
        auth.sign("POST", "http://127.0.0.1/", body=body, content_type=content_type)
    assert str(got.value) == str(expected.value)


def test_large_body_is_signed_with_the_nonce_appended() -> None:
    """A 3 MiB form: the nonce appended once, the signature the HMAC of exactly those bytes; tampered fails."""
    body = b"command=upload&payload=" + b"B" * (3 * MIB)
    auth = hba.Poloniex("KEY-SCAN-2", SECRET, ordered=False)
    signed = auth.sign("POST", "http://127.0.0.1/", body=body, content_type=FORM)
    assert signed.body == b"%b&nonce=%d" % (body, signed.nonce)
    verifier = PoloniexVerifier({"KEY-SCAN-2": SECRET})
    assert verifier.verify("POST", "http://127.0.0.1/", signed.headers, signed.body).ok
    tampered = signed.body[:-1] + b"0" if not signed.body.endswith(b"0") else signed.body[:-1] + b"1"
    assert not verifier.verify("POST", "http://127.0.0.1/", signed.headers, tampered).ok


@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_partial_signature_equals_the_whole(encoding: str) -> None:
    """A signature finished from the state after a body is that of body + suffix; another suffix differs."""
    signer = Signer(SECRET, digest_encoding=encoding)  # type: ignore[arg-type]
    partial = signer.partial()
    for piece in (b"a=1", b"&b=", b"2" * 1000):
        partial.update(piece)
    assert partial.sign(b"&nonce=7") == signer.sign(b"a=1&b=" + b"2" * 1000 + b"&nonce=7")
    assert partial.sign(b"&nonce=8") != signer.sign(b"a=1&b=" + b"2" * 1000 + b"&nonce=7")
    assert partial.size == 1006
    expected = hmac.new(SECRET.encode(), b"a=1&b=" + b"2" * 1000, hashlib.sha512).hexdigest()
    assert Signer(SECRET).partial().sign(b"a=1&b=" + b"2" * 1000) == expected
