"""The command line: sign prints exact bytes, verify explains mismatches, secrets never printed."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from hmac_body_auth.cli import main

KEY, SECRET = "CLIKEY-0001", "0123456789abcdef-secret"
URL = "https://poloniex.com/tradingApi"


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret comes from the environment, as users pass it."""
    monkeypatch.setenv("HBA_SECRET", SECRET)
    monkeypatch.delenv("NO_COLOR", raising=False)


def _sign(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["sign", *args]) == 0
    return capsys.readouterr().out


def _raw(body: bytes, sign: str, key: str = KEY) -> bytes:
    head = f"POST /tradingApi HTTP/1.1\r\nHost: poloniex.com\r\nKey: {key}\r\nSign: {sign}\r\n"
    return head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def test_sign_prints_the_exact_request(capsys: pytest.CaptureFixture[str]) -> None:
    """Sign prints request line, headers and body; the signature matches the openssl vector."""
    out = _sign(
        capsys,
        "--preset",
        "poloniex",
        "--key",
        KEY,
        "POST",
        URL,
        "--data",
        "command=returnBalances",
        "--nonce",
        "1700000000000000",
    )
    assert out.startswith("POST /tradingApi HTTP/1.1\nHost: poloniex.com\n")
    assert "\ncommand=returnBalances&nonce=1700000000000000\n" in out
    vector = (
        "e06e016778418047f0ada96eef909204dfc0e035eed160695ed0e64d89f9fe5c"
        "d5cbb4a465b1931a0eb9b20a7c749558f383f950336d73ef72576be41f896d9c"
    )
    assert f"Sign: {vector}" in out
    assert SECRET not in out


def test_sign_with_a_preset_needing_a_passphrase(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preset with a passphrase reads it from the environment and never prints it raw."""
    monkeypatch.setenv("HBA_PASSPHRASE", "pass-phrase-1")
    out = _sign(
        capsys,
        "--preset",
        "kucoin",
        "--key",
        KEY,
        "GET",
        "https://api.kucoin.com/api/v1/accounts",
        "--clock-ms",
        "1700000000000",
    )
    assert "KC-API-SIGN:" in out
    assert "KC-API-TIMESTAMP: 1700000000000" in out
    assert "pass-phrase-1" not in out


def test_sign_secret_from_a_file_drops_the_newline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--secret-file removes one trailing newline, as editors and echo add it."""
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    out = _sign(capsys, "--secret-file", str(path), "--key", KEY, "POST", URL, "--data", "a=1")
    expected = hmac.new(SECRET.encode(), b"a=1", hashlib.sha512).hexdigest()
    assert f"Sign: {expected}" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing secret, an unknown preset or a bad --data exit with 2 and a message."""
    monkeypatch.delenv("HBA_SECRET")
    assert main(["sign", "POST", URL]) == 2
    assert "no secret" in capsys.readouterr().err
    monkeypatch.setenv("HBA_SECRET", SECRET)
    assert main(["sign", "--preset", "nope", "--key", KEY, "POST", URL]) == 2
    assert main(["sign", "POST", URL, "--data", "novalue"]) == 2


def test_verify_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A correctly signed captured request verifies with exit code 0."""
    body = b"command=returnBalances&nonce=5"
    path = tmp_path / "req.http"
    path.write_bytes(_raw(body, hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()))
    assert main(["verify", "--preset", "poloniex", "--key", KEY, "--request", str(path)]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("signed_body", "sent_body", "secret", "reason"),
    [
        (b"a=caf\xe9&nonce=1", "a=café&nonce=1".encode(), SECRET, "signed as latin-1 but sent as UTF-8"),
        (b"a=1&b=2&nonce=1", b"b=2&a=1&nonce=1", SECRET, "parameter order"),
        (b"command=x", b"command=x&nonce=1", SECRET, "before the nonce was added"),
        (b"a=1&nonce=1", b"a=1&nonce=1", SECRET + "\n", "secret whitespace"),
        (b"a=1&nonce=1", b"a=1&nonce=1", "SECRET-KEY-BYTES", "base64"),
        (b"a=1&nonce=1", b"a=2&nonce=1", SECRET, "no usual mistake"),
    ],
    ids=["encoding", "order", "nonce", "whitespace", "base64", "unexplained"],
)
def test_verify_explains_mismatches(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    signed_body: bytes,
    sent_body: bytes,
    secret: str,
    reason: str,
) -> None:
    """Verify exits 1 on a mismatch and names the most likely cause."""
    key = secret.encode() if reason != "base64" else base64.b64decode(base64.b64encode(b"SECRET-KEY-BYTES"))
    if reason == "base64":
        monkeypatch.setenv("HBA_SECRET", base64.b64encode(b"SECRET-KEY-BYTES").decode())

    sign = hmac.new(key, signed_body, hashlib.sha512).hexdigest()
    path = tmp_path / "req.http"
    path.write_bytes(_raw(sent_body, sign))
    assert main(["verify", "--preset", "poloniex", "--key", KEY, "--request", str(path)]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out
    assert reason in out
    assert SECRET not in out


def test_verify_from_parts_with_the_generic_scheme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Verify accepts method, URL, headers and a body file, and spots the wrong algorithm."""
    body_file = tmp_path / "body"
    body_file.write_bytes(b'{"a":1}')
    sign = hmac.new(SECRET.encode(), b'{"a":1}', hashlib.sha256).hexdigest()
    args = [
        "verify",
        "--method",
        "POST",
        "--url",
        "https://api.example.com/x",
        "--header",
        f"Key: {KEY}",
        "--header",
        f"Sign: {sign}",
        "--data-file",
        str(body_file),
    ]
    assert main(args) == 1
    assert "HMAC-SHA256 hex" in capsys.readouterr().out
    assert main([*args, "--algorithm", "sha256"]) == 0


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """--help shows examples and exit codes."""
    with pytest.raises(SystemExit) as info:
        main(["sign", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "exit codes" in out


def test_verify_finds_the_key_without_key_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --key, verify finds the key in the captured request's headers (the help's own example)."""
    body = b"command=returnBalances&nonce=5"
    path = tmp_path / "req.http"
    path.write_bytes(_raw(body, hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()))
    assert main(["verify", "--preset", "poloniex", "--request", str(path)]) == 0


def test_sign_masks_passphrase_headers(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Passphrase headers are shown masked: the passphrase is a secret too."""
    monkeypatch.setenv("HBA_PASSPHRASE", "pass-phrase-1")
    out = _sign(capsys, "--preset", "okx", "--key", KEY, "GET", "https://www.okx.com/api/v5/account/balance")
    assert "OK-ACCESS-PASSPHRASE: ***" in out
    assert "pass-phrase-1" not in out
