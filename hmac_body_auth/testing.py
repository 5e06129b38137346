"""A verifying HMAC server on 127.0.0.1, for the demo and for users' own tests.

:class:`VerifyingServer` checks the key and the signature over the raw body
bytes it received and, when it tracks nonces, rejects any nonce not greater than
the last one it accepted for the key, with the Poloniex error text::

    with PoloniexServer(accounts={"KEY": "SECRET"}) as server:
        requests.post(server.url, data={"command": "returnBalances"},
                      auth=Poloniex("KEY", "SECRET"))
        assert server.stats.accepted == 1

Everything it received is recorded in :attr:`VerifyingServer.received`. A client
that disconnects mid-request or mid-response prints nothing; a request whose
framing cannot be trusted (a bad ``Content-Length`` or chunk size, a body over
``max_body_bytes``) gets a 400 and the connection is closed.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .verify import BodyDigestVerifier, ReplayGuard, Verifier, ascii_int

__all__ = [
    "MAX_BODY_BYTES",
    "PoloniexServer",
    "Received",
    "SchemeServer",
    "ServerStats",
    "VerifyingServer",
    "mock_transport",
]

_NONCE_ERROR = "Nonce must be greater than {last}. You provided {given}."

#: The default ``max_body_bytes``: the large-body tests upload 256 MiB.
MAX_BODY_BYTES = 1 << 30


@dataclass(frozen=True)
class Received:
    """One request as the server saw it: raw body bytes and headers."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    answer: dict[str, Any]


@dataclass
class ServerStats:
    """Counters of what the server accepted and rejected, and why."""

    accepted: int = 0
    bad_signature: int = 0
    bad_nonce: int = 0
    unknown_key: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """Every request not accepted."""
        return self.bad_signature + self.bad_nonce + self.unknown_key


class VerifyingServer:
    """A threaded loopback HTTP server that verifies body-digest signatures.

    The signature is checked by :attr:`verifier`, a
    :class:`~hmac_body_auth.verify.BodyDigestVerifier` of the same options (the
    server adds its nonce order and error texts).

    Args:
        accounts: API key -> secret. A request without ``key_header`` is checked
            against the secret of the key ``None`` if present. A secret the
            signers refuse (empty, or with surrounding whitespace) is a
            :class:`~hmac_body_auth.ConfigurationError` here too.
        key_header: the header that carries the key.
        signature_header: the header that carries the signature.
        algorithm: a ``hashlib`` algorithm name.
        digest_encoding: ``"hex"`` or ``"base64"``.
        nonce_field: the form field holding the nonce, or ``None`` to not track nonces.
        nonce_error_status: the HTTP status of a nonce rejection.
        handler: optional ``(Received-like dict) -> (status, json answer)`` for
            accepted requests; by default it echoes the form fields.
        port: the port to listen on; 0 (default) picks a free one.
        max_body_bytes: a larger ``Content-Length`` (or chunked body) gets a 400
            without being read. Bodies are read as they arrive, so a client that
            announces more than it sends costs only what it sent.
        delay: seconds to wait before answering an accepted request, as an API far
            away would (the requests of one key then queue for its turn).

    """

    def __init__(
        self,
        accounts: Mapping[str | None, str | bytes],
        *,
        key_header: str = "Key",
        signature_header: str = "Sign",
        algorithm: str = "sha512",
        digest_encoding: str = "hex",
        nonce_field: str | None = "nonce",
        nonce_error_status: int = 422,
        handler: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]] | None = None,
        port: int = 0,
        max_body_bytes: int = MAX_BODY_BYTES,
        delay: float = 0.0,
    ) -> None:
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0:
            raise ValueError("delay must be a number of seconds, 0 or more")
        self.delay = float(delay)
        if digest_encoding not in ("hex", "base64"):
            raise ValueError("digest_encoding must be 'hex' or 'base64'")
        #: Checks each request's key and signature (nonces are the server's own, below).
        self.verifier = BodyDigestVerifier(
            accounts,
            key_header=key_header,
            signature_header=signature_header,
            algorithm=algorithm,
            digest_encoding="hex" if digest_encoding == "hex" else "base64",
            nonce_field=None,
        )
        self.key_header = key_header
        self.signature_header = signature_header
        self.algorithm = algorithm
        self.digest_encoding = digest_encoding
        self.nonce_field = nonce_field
        self.nonce_error_status = nonce_error_status
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self.received: list[Received] = []
        self.stats = ServerStats()
        self.last_nonce: dict[str | None, int] = {}
        self._lock = threading.Lock()
        self._redirects: dict[str, tuple[int, str]] = {}
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> VerifyingServer:
        """Start serving on 127.0.0.1 in a background thread."""
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = _Server(("127.0.0.1", self._port), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval makes stop() return quickly (the default waits 0.5 s).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.01,), name="hmac-verifying-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> VerifyingServer:
        return self.start()

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._httpd is not None, "the server is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def url(self) -> str:
        """The trading endpoint, ``http://127.0.0.1:PORT/tradingApi``."""
        return self.origin + "/tradingApi"

    def redirect(self, path: str, status: int, location: str) -> None:
        """Answer requests to ``path`` with a ``status`` redirect to ``location`` (unverified)."""
        self._redirects[path] = (status, location)

    def reset(self) -> None:
        """Forget received requests and counters (nonce high-water marks stay)."""
        with self._lock:
            self.received.clear()
            self.stats = ServerStats()

    # -- verification ---------------------------------------------------------

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Check one request; return the HTTP status and the JSON answer."""
        verdict = self.verifier.verify(method, path, headers, body)
        key = verdict.key
        with self._lock:
            if not verdict.ok:
                if verdict.reason == "unknown key":
                    self.stats.unknown_key += 1
                else:
                    self.stats.bad_signature += 1
                return 403, {"error": "Invalid API key/secret pair."}
            # Parsing a 256 MiB upload as a form would take a minute: of a large body only the
            # last field is read, where the auth appends the nonce (a form's last value of a
            # field is the one dict(parse_qsl()) keeps, as for a small body).
            small = len(body) <= 1 << 20
            fields = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True)) if small else _last_field(body)
            if self.nonce_field is not None:
                nonce = ascii_int(fields.get(self.nonce_field))
                if nonce is None:
                    self.stats.bad_nonce += 1
                    return 422, {"error": "Missing or invalid nonce."}
                last = self.last_nonce.get(key, 0)
                if nonce <= last:
                    self.stats.bad_nonce += 1
                    return self.nonce_error_status, {"error": _NONCE_ERROR.format(last=last, given=nonce)}
                self.last_nonce[key] = nonce
            self.stats.accepted += 1
        if self.delay:
            time.sleep(self.delay)
        if self.handler is not None:
            return self.handler(
                {"method": method, "path": path, "headers": dict(headers), "body": body, "fields": fields}
            )
        return 200, {"ok": True, "fields": fields}

    def record(self, received: Received) -> None:
        """Keep ``received`` for inspection by tests."""
        with self._lock:
            self.received.append(received)


def _last_field(body: bytes) -> dict[str, str]:
    """The last field of a large form body (``{}`` if it is not a short ``name=value``)."""
    tail = body[body.rfind(b"&") + 1 :]
    if len(tail) > 1024:
        return {}
    return dict(parse_qsl(tail.decode("latin-1"), keep_blank_values=True))


class PoloniexServer(VerifyingServer):
    """Behaves like the Poloniex legacy trading API (``POST /tradingApi``).

    ``Key`` and ``Sign`` headers, hex HMAC-SHA512 of the raw body, a strictly
    increasing ``nonce`` form field per key, and the real error text
    ``Nonce must be greater than X. You provided Y.``
    """

    def __init__(
        self,
        accounts: Mapping[str | None, str | bytes],
        *,
        nonce_error_status: int = 422,
        port: int = 0,
        max_body_bytes: int = MAX_BODY_BYTES,
        delay: float = 0.0,
    ) -> None:
        super().__init__(
            accounts,
            nonce_error_status=nonce_error_status,
            handler=_poloniex_answer,
            port=port,
            max_body_bytes=max_body_bytes,
            delay=delay,
        )


def _poloniex_answer(request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    fields = request["fields"]
    command = fields.get("command")
    if command == "returnBalances":
        return 200, {"BTC": "0.00000000", "ETH": "0.00000000"}
    if command is None:
        return 200, {"error": "Invalid command."}
    return 200, {"ok": True, "command": command, "nonce": fields.get("nonce")}


class _PromptStop(socketserver.TCPServer):
    """A server whose ``shutdown()`` returns at once instead of after up to one poll interval.

    socketserver's loop notices a shutdown only when its ``select`` times out; a test
    suite stops thousands of servers, so that wait adds up (about 7 ms each at a 10 ms
    interval). Here ``shutdown()`` also wakes the loop through a socket pair.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listen_fd = self.socket.fileno()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._stop_asked = False
        self._stopped = threading.Event()
        self._stopped.set()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Handle requests until :meth:`shutdown` (same contract as socketserver's)."""
        self._stopped.clear()
        try:
            with selectors.DefaultSelector() as selector:
                # The descriptor taken at bind time: the socket object may be swapped for a
                # TLS-wrapped one on the same descriptor while this starts (the old object's
                # fileno() is then -1).
                selector.register(self._listen_fd, selectors.EVENT_READ, data=True)
                selector.register(self._wake_r, selectors.EVENT_READ, data=False)
                while not self._stop_asked:
                    ready = selector.select(poll_interval)
                    if self._stop_asked:
                        break
                    for key, _ in ready:
                        if key.data:
                            # socketserver's own step after a ready select (typeshed omits it).
                            self._handle_request_noblock()  # type: ignore[attr-defined]
                        else:
                            # A wake-up byte with no stop asked: one a shutdown() sent after the
                            # previous loop had already ended (it saw the flag on a poll timeout).
                            self._drain_wake()
                    self.service_actions()
        finally:
            # Drain the wake-up byte: a later serve_forever() must not find it and spin.
            self._drain_wake()
            self._stop_asked = False
            self._stopped.set()

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):  # BlockingIOError: nothing (more) to read
            while self._wake_r.recv(64):
                pass

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it has returned."""
        self._stop_asked = True
        # The pair is closed by server_close(), which may have run first.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket and the wake-up pair."""
        super().server_close()
        self._wake_r.close()
        self._wake_w.close()


class _Server(_PromptStop, ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops connections when a test opens a
    # hundred at once (asyncio clients do); a real API accepts them.
    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when the client went away (socketserver prints a traceback); report real bugs."""
        if isinstance(sys.exception(), ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _BadRequest(Exception):
    """The request's framing cannot be trusted: answer 400 and close."""


class _ClientGone(Exception):
    """The client closed the connection before sending the whole body."""


# Bodies up to this size are read in one call; larger ones as they arrive, so a
# Content-Length that promises more than is sent allocates only what came.
_READ_AT_ONCE = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    owner: VerifyingServer
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY the header and body writes meet delayed ACKs: 40 ms a request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the demo print their own reports."""

    def _read_exactly(self, size: int) -> bytes:
        if size <= _READ_AT_ONCE:
            data = self.rfile.read(size)
        else:
            parts: list[bytes] = []
            left = size
            while left:
                part = self.rfile.read(min(left, _READ_AT_ONCE))
                if not part:
                    break
                parts.append(part)
                left -= len(part)
            data = b"".join(parts)
        if len(data) < size:
            raise _ClientGone
        return data

    def _read_body(self) -> bytes:
        limit = self.owner.max_body_bytes
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                if not line.endswith(b"\n"):
                    raise _ClientGone if not line else _BadRequest("invalid chunk size")
                text = line.split(b";", 1)[0].strip().decode("latin-1")
                # int(x, 16) would take "0x10", "+1", "1_0" and non-ASCII digits.
                if not text or len(text) > 16 or not all(c in "0123456789abcdefABCDEF" for c in text):
                    raise _BadRequest("invalid chunk size")
                size = int(text, 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > limit:
                    raise _BadRequest(f"body larger than {limit} bytes")
                chunks.append(self._read_exactly(size))
                self.rfile.readline(1024)
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return b""
        # ascii_int: int() would take "-1" (read to EOF), " 1", "1_0" and "١٢".
        lengths = {ascii_int(v.strip(), max_digits=20) for v in values}
        if len(lengths) != 1 or None in lengths:
            raise _BadRequest("invalid Content-Length")
        length = lengths.pop() or 0
        if length > limit:
            raise _BadRequest(f"body larger than {limit} bytes")
        return self._read_exactly(length) if length else b""

    def _answer(self, status: int, answer: dict[str, Any], *, close: bool = False) -> None:
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _handle(self) -> None:
        try:
            self._serve()
        except _ClientGone:
            self.close_connection = True
        except (ConnectionError, TimeoutError):
            # The client hung up mid-request or mid-response: nothing to answer, nothing to print.
            self.close_connection = True

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _BadRequest as exc:
            self._answer(400, {"error": str(exc)}, close=True)
            return
        path = self.path if self.path.startswith("/") else urlsplit(self.path).path
        headers = {k: v for k, v in self.headers.items()}
        redirect = self.owner._redirects.get(urlsplit(self.path).path)
        if redirect is not None:
            self.owner.record(Received(self.command, self.path, headers, body, redirect[0], {}))
            self.send_response(redirect[0])
            self.send_header("Location", redirect[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, answer = self.owner.verify(self.command, path, headers, body)
        self.owner.record(Received(self.command, self.path, headers, body, status, answer))
        self._answer(status, answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class SchemeServer(VerifyingServer):
    """A loopback server that verifies any scheme through a :class:`~hmac_body_auth.verify.Verifier`.

    Signatures are checked by ``verifier``; a :class:`~hmac_body_auth.verify.ReplayGuard`
    then enforces strictly increasing integer nonces per key (or unique string
    nonces) and, with ``window_ms``, the timestamp window. It fails closed: a
    signed request without the nonce its scheme carries gets ``"missing nonce"``
    (and, with a window, one without a timestamp ``"missing timestamp"``).
    Rejections answer ``reject_status`` with ``{"error": reason}``, nonce
    rejections ``nonce_error_status`` (the reason for a stale nonce is the
    Poloniex text ``Nonce must be greater than X. You provided Y.``).

    Args:
        verifier: checks the signature and extracts key, nonce and timestamp.
        strict_nonces: enforce nonce order (or uniqueness for string nonces).
        window_ms: timestamp window, or ``None``.
        require_nonce: reject requests without a nonce; ``None`` (default) as
            the verifier declares (``carries_nonce``); ``False`` for a scheme without nonces.
        require_timestamp: with ``window_ms``, reject requests without a
            timestamp; ``None`` (default) as the verifier declares (``carries_timestamp``).
        reject_status: HTTP status of a signature rejection.
        nonce_error_status: HTTP status of a nonce rejection.
        handler: builds the answer of accepted requests.
        port: the port to listen on; 0 (default) picks a free one.
        max_body_bytes: a larger body gets a 400 without being read.

    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        strict_nonces: bool = True,
        window_ms: int | None = None,
        require_nonce: bool | None = None,
        require_timestamp: bool | None = None,
        reject_status: int = 401,
        nonce_error_status: int = 422,
        handler: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]] | None = None,
        port: int = 0,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        super().__init__(
            {},
            nonce_field=None,
            nonce_error_status=nonce_error_status,
            handler=handler,
            port=port,
            max_body_bytes=max_body_bytes,
        )
        self.guard = ReplayGuard(
            verifier,
            strict_nonces=strict_nonces,
            window_ms=window_ms,
            require_nonce=require_nonce,
            require_timestamp=require_timestamp,
        )
        self.reject_status = reject_status

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Check one request through the verifier and the replay guard."""
        url = self.origin + path
        verdict = self.guard.verify(method, url, headers, body)
        with self._lock:
            if not verdict.ok:
                if verdict.reason == "unknown key":
                    self.stats.unknown_key += 1
                    return self.reject_status, {"error": verdict.reason}
                if verdict.reason.startswith("Nonce") or "nonce" in verdict.reason:
                    self.stats.bad_nonce += 1
                    return self.nonce_error_status, {"error": verdict.reason}
                self.stats.bad_signature += 1
                self.stats.by_reason[verdict.reason] = self.stats.by_reason.get(verdict.reason, 0) + 1
                return self.reject_status, {"error": verdict.reason}
            self.stats.accepted += 1
        if self.handler is not None:
            return self.handler({"method": method, "path": path, "headers": dict(headers), "body": body})
        return 200, {"ok": True, "nonce": verdict.nonce}


def mock_transport(
    verifier: Verifier,
    *,
    strict_nonces: bool = True,
    window_ms: int | None = None,
    require_nonce: bool | None = None,
    require_timestamp: bool | None = None,
) -> Any:
    """An ``httpx.MockTransport`` that verifies each request like :class:`SchemeServer`.

    For unit tests without sockets: ``httpx.Client(transport=mock_transport(v), auth=...)``.
    Answers ``{"ok": true}`` or a 401/422 ``{"error": reason}``. The options are
    :class:`SchemeServer`'s.
    """
    import httpx

    guard = ReplayGuard(
        verifier,
        strict_nonces=strict_nonces,
        window_ms=window_ms,
        require_nonce=require_nonce,
        require_timestamp=require_timestamp,
    )

    def handle(request: httpx.Request) -> httpx.Response:
        verdict = guard.verify(request.method, str(request.url), dict(request.headers), request.read())
        if verdict.ok:
            return httpx.Response(200, json={"ok": True, "nonce": verdict.nonce})
        status = 422 if "nonce" in verdict.reason.lower() else 401
        return httpx.Response(status, json={"error": verdict.reason})

    return httpx.MockTransport(handle)
