"""Coverage-guided fuzz target (atheris) for the pure body handling.

Run (not part of the test suite; atheris needs its own environment)::

    python3 -m venv /tmp/fuzz && /tmp/fuzz/bin/pip install atheris -e .
    /tmp/fuzz/bin/python fuzz/fuzz_body.py -max_total_time=60

Properties checked for any input: a body is either refused with BodyError, or the
signed body is the caller's bytes plus exactly ``&nonce=N`` (or ``nonce=N``), the
nonce field appears once, and the signature verifies over exactly those bytes.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from hmac_body_auth import BodyDigestAuth, BodyError
    from hmac_body_auth._body import FORM_CONTENT_TYPE
    from hmac_body_auth.verify import form_field

AUTH = BodyDigestAuth("FUZZKEY1", secret="fuzz-secret", nonce=lambda: 1234567890)
CONTENT_TYPES = [None, FORM_CONTENT_TYPE, "application/json", "text/plain; charset=utf-8"]


def test_one_input(data: bytes) -> None:
    """Sign one fuzzed body and check the invariants."""
    fdp = atheris.FuzzedDataProvider(data)
    content_type = CONTENT_TYPES[fdp.ConsumeIntInRange(0, len(CONTENT_TYPES) - 1)]
    as_text = fdp.ConsumeBool()
    body: str | bytes = fdp.ConsumeUnicodeNoSurrogates(256) if as_text else fdp.ConsumeBytes(256)
    try:
        signed = AUTH.sign("POST", "http://localhost/", body=body, content_type=content_type)
    except BodyError:
        return
    raw = body.encode("latin-1") if isinstance(body, str) else body
    suffix = b"nonce=1234567890"
    assert signed.body.endswith(suffix)
    head = signed.body[: -len(suffix)]
    assert head in (raw, raw + b"&") or (raw.endswith(b"&") and head == raw)
    assert form_field(signed.body, "nonce") == "1234567890"
    assert AUTH.signer.verify(signed.body, signed.headers["Sign"])


def main() -> None:
    """Run the fuzzer with libFuzzer's command-line options."""
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
