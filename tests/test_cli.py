"""The command line: sign prints exact bytes, verify explains mismatches, secrets never printed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hmac_body_auth.cli import main
from hmac_body_auth.presets import PRESETS

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


def test_preset_names_in_any_case(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """--preset KRAKEN signs exactly as --preset kraken: names are the registry's in any case."""
    monkeypatch.setenv("HBA_SECRET", base64.b64encode(SECRET.encode()).decode())
    args = ["--key", KEY, "POST", "https://api.kraken.com/0/private/Balance", "--nonce", "17"]
    assert _sign(capsys, "--preset", "KRAKEN", *args) == _sign(capsys, "--preset", "kraken", *args)


@pytest.mark.parametrize("command", ["sign", "verify"])
def test_an_unknown_preset_lists_the_valid_names(command: str) -> None:
    """--preset coinbase is a one-line usage error (exit 2) that lists every preset of the registry."""
    tail = ["POST", URL] if command == "sign" else ["--url", URL]
    line = _assert_one_line_usage_error(_run(command, "--preset", "coinbase", "--key", KEY, *tail))
    assert "no preset named 'coinbase'" in line
    assert all(name in line for name in PRESETS)


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


ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, script: bool = False, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real command line (``python -m hmac_body_auth`` from this checkout, or the console script)."""
    command = (
        [str(Path(sys.executable).with_name("hmac-body-auth"))] if script else [sys.executable, "-m", "hmac_body_auth"]
    )
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _assert_one_line_usage_error(result: subprocess.CompletedProcess[str], *hidden: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in hidden:
        assert text not in result.stderr
    return lines[0]


def _bad_secret_file(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / "secret"
    if kind == "missing":
        return tmp_path / "no-such-file"
    if kind == "directory":
        return tmp_path
    if kind == "unreadable":
        path.write_text(SECRET)
        return path / "child"  # a file as a directory: ENOTDIR, whoever runs the test
    if kind == "symlink-loop":
        path.symlink_to(path)
        return path
    if kind == "non-utf8":
        path.write_bytes(b"secret-in-file-\xff\xfe\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "only-newline":
        path.write_bytes(b"\n")
    elif kind == "huge":
        path.write_bytes(b"secret-in-file-" * 10_000)
    return path


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("missing", "cannot read the secret file"),
        ("directory", "is a directory"),
        ("unreadable", "cannot read the secret file"),
        ("symlink-loop", "cannot read the secret file"),
        ("non-utf8", "not UTF-8"),
        ("empty", "is empty"),
        ("only-newline", "is empty"),
        ("huge", "larger than 64 KiB"),
    ],
)
@pytest.mark.parametrize("command", ["sign", "verify"])
def test_bad_secret_file_is_one_line_and_exit_2(tmp_path: Path, kind: str, says: str, command: str) -> None:
    """A missing, unreadable, directory, non-UTF-8, empty or huge secret file: one line, exit 2, no traceback."""
    path = _bad_secret_file(kind, tmp_path)
    args = ["--preset", "poloniex", "--key", KEY, "--secret-file", str(path)]
    tail = ["POST", URL, "--data", "a=1"] if command == "sign" else ["--url", URL, "--header", f"Key: {KEY}"]
    line = _assert_one_line_usage_error(_run(command, *args, *tail), "secret-in-file", SECRET)
    assert line.startswith(f"hmac-body-auth {command}: ")
    assert says in line


def test_bad_passphrase_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """The passphrase file gets the same checks as the secret file."""
    path = _bad_secret_file("non-utf8", tmp_path)
    args = ["sign", "--preset", "okx", "--key", KEY, "--passphrase-file", str(path), "GET", "https://www.okx.com/x"]
    assert "passphrase file is not UTF-8" in _assert_one_line_usage_error(_run(*args), "secret-in-file")


def test_unreadable_body_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A missing --data-file or --request file is a one-line usage error too."""
    missing = str(tmp_path / "no-such-file")
    assert "--data-file" in _assert_one_line_usage_error(_run("sign", "POST", URL, "--data-file", missing))
    assert "--request" in _assert_one_line_usage_error(_run("verify", "--request", missing))


def test_crlf_secret_file_drops_the_line_ending(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A secret file written on Windows (CRLF) loses its line ending like a LF one."""
    path = tmp_path / "secret"
    path.write_bytes(SECRET.encode() + b"\r\n")
    out = _sign(capsys, "--secret-file", str(path), "--key", KEY, "POST", URL, "--data", "a=1")
    assert f"Sign: {hmac.new(SECRET.encode(), b'a=1', hashlib.sha512).hexdigest()}" in out


@pytest.mark.parametrize("value", ["sk_live_abc", "sk-live-51Habc", "0123456789abcdef-secret", "a b", "X=1"])
@pytest.mark.parametrize("option", ["--secret-env", "--passphrase-env"])
def test_a_value_where_an_env_name_belongs_is_not_echoed(value: str, option: str) -> None:
    """A secret pasted as --secret-env / --passphrase-env is "not a valid environment variable name" and not shown."""
    preset = "okx" if option == "--passphrase-env" else "poloniex"
    result = _run("sign", "--preset", preset, "--key", KEY, option, value, "GET", "https://www.okx.com/x")
    line = _assert_one_line_usage_error(result, value)
    assert "not a valid environment variable name" in line
    assert option in line


def test_custom_env_names_work_and_are_not_echoed_when_unset() -> None:
    """An uppercase name (or a set lowercase one) is read; an unset custom name is not repeated in the error."""
    ok = _run("sign", "--key", KEY, "--secret-env", "my_cli_secret", "POST", URL, my_cli_secret=SECRET)
    assert ok.returncode == 0, ok.stderr
    assert "Sign: " in ok.stdout
    result = _run("sign", "--key", KEY, "--secret-env", "JBSWY3DPEHPK3PXP", "POST", URL)
    line = _assert_one_line_usage_error(result, "JBSWY3DPEHPK3PXP")
    assert "no secret" in line


def test_console_script_reports_like_python_m(tmp_path: Path) -> None:
    """The installed hmac-body-auth script gives the same one-line error as python -m."""
    args = ("sign", "--key", KEY, "--secret-file", str(tmp_path / "none"), "POST", URL)
    assert _assert_one_line_usage_error(_run(*args, script=True)) == _assert_one_line_usage_error(_run(*args))


@pytest.mark.parametrize(
    "workload",
    [
        ["--threads", "2", "--per-thread", "1000000", "--tasks", "1"],
        ["--threads", "1", "--per-thread", "1", "--tasks", "3000"],
    ],
    ids=["threads", "asyncio"],
)
def test_ctrl_c_in_demo_exits_130_quietly(workload: list[str]) -> None:
    """SIGINT (Ctrl-C) in a running demo ends it with exit code 130, one line and no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hmac_body_auth", "demo", *workload],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        # Wait until the demo prints (its server is up), then let it run a little.
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "the demo printed nothing in 30 s"
        first = proc.stdout.readline()
        time.sleep(0.5)
        assert proc.poll() is None, "the demo ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert first.startswith("Local Poloniex-like server")
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip() == "hmac-body-auth demo: interrupted"


def test_sign_a_webhook_with_the_secret_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """A webhook scheme signs without --key (GitHub's X-Hub-Signature-256); --key with it is a usage error."""
    args = ["--preset", "github-webhook", "POST", "https://hooks.example.test/x", "--json", '{"a":1}']
    out = _sign(capsys, *args)
    expected = hmac.new(SECRET.encode(), b'{"a":1}', hashlib.sha256).hexdigest()
    assert f"X-Hub-Signature-256: sha256={expected}" in out
    assert main(["sign", "--key", KEY, *args]) == 2
    assert "github-webhook signs with the secret alone: it takes no --key" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--secret=MY-REAL-SECRET-1"],
        ["--sec=MY-REAL-SECRET-1"],
        ["--passphrase=MY-REAL-SECRET-1"],
        ["--nonce", "MY-REAL-SECRET-1"],
        ["--clock-ms=MY-REAL-SECRET-1"],
        ["--nonce", "MY\\REAL'SECRET\"1"],  # argparse quotes it with repr(): backslashes doubled
        ["--data", "MY-REAL-SECRET-1"],  # no "=": the CLI's own usage error
        [],  # the secret as a stray positional argument, below
    ],
)
def test_a_secret_typed_in_the_wrong_place_is_never_printed(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A usage error quotes what it could not take: the CLI shows the option names, never the values."""
    argv = ["sign", "--preset", "poloniex", "--key", KEY, *args, "POST", "https://poloniex.com/tradingApi"]
    if not args:
        argv.append("MY-REAL-SECRET-1")
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert err
    for secret in ("MY-REAL-SECRET-1", "REAL", "SECRET"):
        assert secret not in err


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1", "not valid"),
        ("https://h:99999/", "not valid"),
        ("ftp://h/p", "http:// or https://"),
        ("not a url", "http:// or https://"),
    ],
)
def test_sign_refuses_a_url_it_cannot_parse(url: str, reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed URL is a usage error (exit 2, one line), not a traceback."""
    assert main(["sign", "--preset", "poloniex", "--key", KEY, "POST", url]) == 2
    err = capsys.readouterr().err
    assert reason in err
    assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--threads", "--per-thread", "--tasks"])
def test_demo_refuses_counts_below_one(option: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A count of 0 or -1 for the demo is a usage error, not a ValueError from the thread pool."""
    for value in ("0", "-1"):
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", option, value])
        assert exit_info.value.code == 2
        assert "positive int" in capsys.readouterr().err
