"""The testing servers survive clients that hang up, and refuse framing they cannot trust."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, SchemeServer, VerifyingServer
from hmac_body_auth.verify import BodyDigestVerifier

from .conftest import KEY, SECRET

SERVERS: dict[str, Callable[[], VerifyingServer]] = {
    "VerifyingServer": lambda: VerifyingServer({KEY: SECRET}, max_body_bytes=1 << 16),
    "PoloniexServer": lambda: PoloniexServer({KEY: SECRET}, max_body_bytes=1 << 16),
    "SchemeServer": lambda: SchemeServer(BodyDigestVerifier({KEY: SECRET}), max_body_bytes=1 << 16),
}


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[VerifyingServer]:
    """Each testing server, started, with a 64 KiB body limit."""
    with SERVERS[request.param]() as srv:
        yield srv


def _connect(server: VerifyingServer) -> socket.socket:
    """A raw client socket to ``server``."""
    port = int(server.origin.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a client killed mid-request does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _signed_request(body: bytes = b"command=returnBalances&nonce=1") -> bytes:
    """A complete, correctly signed Poloniex request."""
    signature = hba.Signer(SECRET).sign(body)
    head = f"POST /tradingApi HTTP/1.1\r\nHost: x\r\nKey: {KEY}\r\nSign: {signature}\r\n"
    head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _exchange(server: VerifyingServer, raw: bytes) -> bytes:
    """Send ``raw`` and read the answer until the server closes the connection."""
    with _connect(server) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _still_serves(server: VerifyingServer) -> None:
    """A normal signed request right after still gets its 200."""
    r = requests.post(server.url, data={"command": "returnBalances"}, auth=hba.Poloniex(KEY, SECRET), timeout=5)
    assert r.status_code == 200


def _settle() -> None:
    """Give the server's handler threads time to notice the hung-up clients."""
    time.sleep(0.3)


def test_client_hanging_up_mid_body_prints_nothing(server: VerifyingServer, capfd: pytest.CaptureFixture[str]) -> None:
    """Half a body then a close (or a reset) prints no traceback, verifies nothing, and the server keeps serving."""
    for close in (socket.socket.close, _reset):
        sock = _connect(server)
        sock.sendall(_signed_request()[:-10])  # Content-Length promises 10 more bytes
        close(sock)
    _settle()
    assert server.received == []  # a truncated body is not verified as if it were the request
    assert server.stats.rejected == 0
    _still_serves(server)
    assert capfd.readouterr().err == ""


def test_client_hanging_up_before_the_answer_prints_nothing(
    server: VerifyingServer, capfd: pytest.CaptureFixture[str]
) -> None:
    """A full request whose client resets before reading the answer prints no traceback; the server keeps serving."""
    for nonce in range(1, 21):
        sock = _connect(server)
        sock.sendall(_signed_request(b"command=returnBalances&nonce=%d" % nonce))
        _reset(sock)
    _settle()
    _still_serves(server)
    assert capfd.readouterr().err == ""


def test_client_hanging_up_mid_answer_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    """A client that resets while a large answer is being written leaves no traceback behind."""
    big = {"blob": "x" * (4 << 20)}
    with SchemeServer(BodyDigestVerifier({KEY: SECRET}), handler=lambda _: (200, big)) as server:
        for nonce in range(1, 6):
            sock = _connect(server)
            sock.sendall(_signed_request(b"command=returnBalances&nonce=%d" % nonce))
            sock.recv(1024)  # the answer has started
            _reset(sock)
        _settle()
        assert server.stats.accepted == 5
    assert capfd.readouterr().err == ""


def test_a_complete_request_is_answered_twin(server: VerifyingServer, capfd: pytest.CaptureFixture[str]) -> None:
    """Twin: the same raw request sent whole is verified and answered 200; a tampered copy is rejected."""
    assert _exchange(server, _signed_request()).startswith(b"HTTP/1.1 200 ")
    tampered = _signed_request().replace(b"nonce=1", b"nonce=2")
    assert _exchange(server, tampered).split(b" ", 2)[1] in (b"401", b"403")
    assert capfd.readouterr().err == ""


BAD_LENGTHS = ["abc", "-1", "+5", " 1_0", "١٢", "1e3", "0x10", "99999999999999999999999", str(1 << 62), "65537"]


@pytest.mark.parametrize("length", BAD_LENGTHS)
def test_invalid_or_huge_content_length_gets_400(
    server: VerifyingServer, capfd: pytest.CaptureFixture[str], length: str
) -> None:
    """A Content-Length that is not ASCII digits, or over max_body_bytes, gets a 400 and nothing is allocated."""
    raw = f"POST /tradingApi HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode() + b"a=1"
    answer = _exchange(server, raw)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:100]
    assert b"Connection: close" in answer
    assert server.received == []
    _still_serves(server)
    assert capfd.readouterr().err == ""


def test_conflicting_content_lengths_get_400(server: VerifyingServer) -> None:
    """Two different Content-Length headers (a smuggling attempt) get a 400; two equal ones are fine (twin)."""
    body = b"command=returnBalances&nonce=1"
    head = f"POST /tradingApi HTTP/1.1\r\nHost: x\r\nKey: {KEY}\r\nSign: {hba.Signer(SECRET).sign(body)}\r\n"
    two = f"Content-Length: {len(body)}\r\nContent-Length: {len(body) - 1}\r\n\r\n"
    assert _exchange(server, (head + two).encode() + body).startswith(b"HTTP/1.1 400 ")
    same = f"Content-Length: {len(body)}\r\nContent-Length: {len(body)}\r\n\r\n"
    assert _exchange(server, (head + same).encode() + body).startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize("size_line", [b"zz", b"-1", b"0x10", b"\xd9\xa1", b"1" * 17, b"10000"])
def test_invalid_or_huge_chunk_size_gets_400(
    server: VerifyingServer, capfd: pytest.CaptureFixture[str], size_line: bytes
) -> None:
    """A chunk size that is not hex digits, or a chunked body over max_body_bytes, gets a 400."""
    raw = (
        b"POST /tradingApi HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size_line
        + b"\r\na=1\r\n0\r\n\r\n"
    )
    if size_line == b"10000":  # 64 KiB: exactly the limit once another byte arrives
        raw = raw.replace(b"10000\r\na=1\r\n", b"10000\r\n" + b"a" * 0x10000 + b"\r\n1\r\nb\r\n")
    assert _exchange(server, raw).startswith(b"HTTP/1.1 400 ")
    _still_serves(server)
    assert capfd.readouterr().err == ""


def test_chunked_body_is_read_twin(server: VerifyingServer) -> None:
    """Twin: a well-formed chunked body is reassembled and verified."""
    body = b"command=returnBalances&nonce=1"
    head = f"POST /tradingApi HTTP/1.1\r\nHost: x\r\nKey: {KEY}\r\nSign: {hba.Signer(SECRET).sign(body)}\r\n"
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:])
    raw = (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunks
    assert _exchange(server, raw).startswith(b"HTTP/1.1 200 ")
    assert server.received[-1].body == body


def test_body_up_to_the_limit_is_read(server: VerifyingServer) -> None:
    """A body of exactly max_body_bytes is read and verified (the limit is inclusive)."""
    body = b"command=returnBalances&nonce=1&pad=" + b"p" * ((1 << 16) - 35)
    assert len(body) == 1 << 16
    assert _exchange(server, _signed_request(body)).startswith(b"HTTP/1.1 200 ")


# -- one verification engine: the servers check signatures through verify.py ------------------------


def test_the_body_digest_servers_verify_through_a_body_digest_verifier() -> None:
    """VerifyingServer and PoloniexServer check signatures with a BodyDigestVerifier of their own options."""
    for server in (VerifyingServer({KEY: SECRET}, algorithm="sha256", digest_encoding="base64"), PoloniexServer({})):
        assert isinstance(server.verifier, BodyDigestVerifier)
    custom = VerifyingServer({KEY: SECRET}, key_header="X-Key", signature_header="X-Sign", algorithm="sha256")
    signed = hba.BodyDigestAuth(
        KEY, secret=SECRET, key_header="X-Key", signature_header="X-Sign", algorithm="sha256", nonce=lambda: 5
    ).sign("POST", "http://x/", body=b"a=1")
    assert custom.verify("POST", "/", signed.headers, signed.body)[0] == 200
    assert custom.verify("POST", "/", signed.headers, signed.body + b"&b=2")[0] == 403  # tamper twin
    assert (custom.stats.accepted, custom.stats.bad_signature) == (1, 1)


def test_upper_case_hex_is_refused_as_before(server: VerifyingServer) -> None:
    """The body-digest servers compare the signature exactly: upper-case hex is a bad signature."""
    body = b"command=returnBalances&nonce=1"
    headers = {"Key": KEY, "Sign": hba.Signer(SECRET).sign(body).upper()}
    assert server.verify("POST", "/tradingApi", headers, body)[0] in (401, 403)
    assert server.stats.bad_signature == 1


@pytest.mark.parametrize("secret", ["", " padded", "newline\n"])
def test_a_secret_the_signers_refuse_is_refused_by_the_servers_too(secret: str) -> None:
    """An empty or whitespace-padded secret is a ConfigurationError at construction, as for the auth."""
    with pytest.raises(hba.ConfigurationError):
        VerifyingServer({KEY: secret})
    with pytest.raises(hba.ConfigurationError):
        PoloniexServer({KEY: secret})


def test_stop_returns_at_once_whatever_the_poll_interval() -> None:
    """stop() wakes the accept loop instead of waiting out its poll interval (a suite stops thousands)."""
    import threading

    from hmac_body_auth.testing import _Server

    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(30.0,), daemon=True)
    thread.start()
    with socket.create_connection(server.server_address, timeout=5):
        pass  # the loop is running and accepting
    started = time.monotonic()
    server.shutdown()
    server.server_close()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0


def test_stopping_a_server_whose_loop_has_not_started_does_not_hang() -> None:
    """shutdown() before serve_forever() runs returns, and the loop started late ends at once."""
    import threading

    from hmac_body_auth.testing import _Server

    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.shutdown()
    thread = threading.Thread(target=server.serve_forever, args=(30.0,), daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive()
    server.server_close()


def _counting_server() -> Any:
    """A test-kit server that counts the turns of its serve_forever() loop."""
    from hmac_body_auth.testing import _Server

    class Counting(_Server):
        turns = 0

        def service_actions(self) -> None:
            self.turns += 1

    return Counting(("127.0.0.1", 0), BaseHTTPRequestHandler)


def _turns_in(server: Any, seconds: float) -> int:
    """Run serve_forever() (50 ms poll) for ``seconds``, shut it down; the loop's turns."""
    import threading

    server.turns = 0
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    time.sleep(seconds)
    server.shutdown()
    thread.join(5)
    assert not thread.is_alive()
    return int(server.turns)


def test_a_wake_up_byte_sent_after_the_loop_ended_does_not_make_the_next_loop_spin() -> None:
    """A shutdown() byte that arrives after its loop already stopped (on a poll timeout) is drained, not spun on."""
    server = _counting_server()
    try:
        # What the race leaves: the loop saw the stop flag on a timeout and drained nothing;
        # shutdown()'s byte lands afterwards, before the next serve_forever().
        server._wake_w.send(b"\0")
        turns = _turns_in(server, 0.3)
        assert turns <= 10, f"the loop turned {turns} times in 0.3 s at a 50 ms poll interval"
    finally:
        server.server_close()


def test_a_stopped_server_can_serve_again_without_spinning() -> None:
    """serve_forever() after a shutdown() waits for requests again (the wake-up byte was drained)."""
    server = _counting_server()
    try:
        for _ in range(2):
            turns = _turns_in(server, 0.3)
            assert turns <= 10, f"the loop turned {turns} times in 0.3 s at a 50 ms poll interval"
    finally:
        server.server_close()
