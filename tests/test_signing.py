"""The pure signing core against published and independently computed vectors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import hmac_body_auth as hba

VECTORS = Path(__file__).parent / "vectors"
RFC4231: list[dict[str, Any]] = json.loads((VECTORS / "rfc4231.json").read_text())["vectors"]
POLONIEX = json.loads((VECTORS / "poloniex_legacy.json").read_text())


@pytest.mark.parametrize("vector", RFC4231, ids=[v["name"] for v in RFC4231])
@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_rfc4231_vectors(vector: dict[str, Any], algorithm: str) -> None:
    """The signer reproduces RFC 4231's HMAC-SHA-256/512 test vectors."""
    signer = hba.Signer(bytes.fromhex(vector["key_hex"]), algorithm=algorithm)
    assert signer.sign(bytes.fromhex(vector["data_hex"])) == vector[algorithm]


@pytest.mark.parametrize("vector", RFC4231, ids=[v["name"] for v in RFC4231])
def test_rfc4231_tamper_twin(vector: dict[str, Any]) -> None:
    """Tamper twin: one flipped data byte no longer verifies against the RFC digest."""
    signer = hba.Signer(bytes.fromhex(vector["key_hex"]), algorithm="sha512")
    data = bytearray.fromhex(vector["data_hex"])
    data[0] ^= 1
    assert not signer.verify(bytes(data), vector["sha512"])
    assert signer.verify(bytes.fromhex(vector["data_hex"]), vector["sha512"])


@pytest.mark.parametrize("vector", POLONIEX["vectors"], ids=[v["name"] for v in POLONIEX["vectors"]])
def test_poloniex_openssl_vectors(vector: dict[str, Any]) -> None:
    """The Poloniex signature matches `openssl dgst -sha512 -hmac` over the same bytes."""
    auth = hba.Poloniex("K" * 16, POLONIEX["secret"])
    assert auth.signer.sign(bytes.fromhex(vector["body_hex"])) == vector["sign"]


@pytest.mark.parametrize("vector", POLONIEX["vectors"], ids=[v["name"] for v in POLONIEX["vectors"]])
def test_poloniex_vectors_tamper_twin(vector: dict[str, Any]) -> None:
    """Tamper twin: an extra byte in the body or a changed secret breaks the signature."""
    body = bytes.fromhex(vector["body_hex"])
    assert hba.Poloniex("K" * 16, POLONIEX["secret"]).signer.sign(body + b"&") != vector["sign"]
    assert hba.Poloniex("K" * 16, POLONIEX["secret"] + "!").signer.sign(body) != vector["sign"]


def test_sign_without_a_client_appends_the_nonce() -> None:
    """auth.sign() returns the exact bytes and headers, with no HTTP client involved."""
    auth = hba.BodyDigestAuth("KEY-1", secret=POLONIEX["secret"], nonce=lambda: 1700000000000000)
    signed = auth.sign("POST", "http://localhost/", body="command=returnBalances")
    assert signed.body == b"command=returnBalances&nonce=1700000000000000"
    assert signed.headers == {"Key": "KEY-1", "Sign": POLONIEX["vectors"][0]["sign"]}


def test_algorithm_accepts_names_and_constructors() -> None:
    """Algorithm names in API spellings and hashlib constructors give the same signature."""
    a = hba.Signer("s", algorithm="SHA-256").sign(b"x")
    b = hba.Signer("s", algorithm=hashlib.sha256).sign(b"x")
    assert a == b
    assert hba.Signer("s", algorithm="sha3-256").algorithm == "sha3_256"


@pytest.mark.parametrize("algorithm", ["nope", "shake_128", 42])
def test_bad_algorithm_is_a_configuration_error(algorithm: Any) -> None:
    """Unknown or variable-length algorithms fail at construction."""
    with pytest.raises(hba.ConfigurationError):
        hba.Signer("s", algorithm=algorithm)


def test_streamed_chunks_sign_like_the_whole() -> None:
    """Signing an iterable of chunks equals signing the joined bytes."""
    signer = hba.Signer("s", digest_encoding="base64")
    assert signer.sign([b"ab", b"", b"cd"]) == signer.sign(b"abcd")


def test_base64_and_hex_secrets_are_decoded() -> None:
    """secret_encoding decodes base64 and hex secrets into the same key bytes."""
    raw = hba.Signer(b"\x00\x01key").sign(b"m")
    assert hba.Signer("AAFrZXk=", secret_encoding="base64").sign(b"m") == raw
    assert hba.Signer("00016b6579", secret_encoding="hex").sign(b"m") == raw
    with pytest.raises(hba.ConfigurationError, match="base64"):
        hba.Signer("not base64!", secret_encoding="base64")


def test_a_codec_unregistered_since_is_refused_as_body_encoding() -> None:
    """A codec accepted while registered is refused once unregistered (no stale acceptance), with a typed error."""
    import codecs

    def search(name: str) -> codecs.CodecInfo | None:
        return codecs.lookup("latin-1") if name == "test_hba_codec" else None

    codecs.register(search)
    try:
        assert hba.Poloniex("K", b"s", body_encoding="test_hba_codec").lifecycle.body_encoding == "test_hba_codec"
    finally:
        codecs.unregister(search)
    with pytest.raises(hba.ConfigurationError, match="not a known codec"):
        hba.Poloniex("K", b"s", body_encoding="test_hba_codec")


def test_the_builtin_codec_spellings_need_no_registry() -> None:
    """Each spelling accepted without a trial encoding is one str.encode runs without the codec registry."""
    import subprocess
    import sys

    code = (
        "import codecs, encodings; from hmac_body_auth._body import _BUILTIN_CODECS as names; "
        "codecs.unregister(encodings.search_function); [''.encode(n) for n in names]; print(len(names))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 8
