"""A real HTTP proxy on 127.0.0.1 for tests: CONNECT tunnels and absolute-form forwarding.

Pure standard library. It only ever connects to ``127.0.0.1`` (targets named
``127.0.0.1`` or ``localhost``); any other target is answered ``403`` before
anything is resolved or connected, so a test can never reach the outside::

    with ConnectProxy() as proxy:
        requests.get("https://127.0.0.1:PORT/", proxies={"https": proxy.url}, verify=ca.ca_bundle)
        assert proxy.connects == ["127.0.0.1:PORT"]

Everything it saw is recorded: :attr:`ConnectProxy.connects` (CONNECT targets),
:attr:`ConnectProxy.forwarded` (absolute-form requests with their headers and
body), :attr:`ConnectProxy.refused` (targets answered 403) and
:attr:`ConnectProxy.seen` (every request head, in order).
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import threading
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from hmac_body_auth.testing import _PromptStop

__all__ = ["ConnectProxy", "Forwarded", "ProxyRequest"]

#: Target hosts the proxy connects to; every one of them means 127.0.0.1.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})

# Headers that concern the hop to the proxy, not the origin server (RFC 9110 7.6.1).
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te", "upgrade"}
)
_RESPONSE_HOP = frozenset({b"connection", b"keep-alive"})
_MAX_HEAD = 64 * 1024
_TIMEOUT = 30.0


@dataclass(frozen=True)
class ProxyRequest:
    """One request head the proxy received from a client."""

    method: str
    target: str
    """``host:port`` for CONNECT, the absolute URL for forwarded requests."""
    request_line: str
    headers: tuple[tuple[str, str], ...]
    """Header (name, value) pairs as received, in order."""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)


@dataclass(frozen=True)
class Forwarded(ProxyRequest):
    """An absolute-form request the proxy forwarded, with the exact body bytes it relayed."""

    body: bytes = b""


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


class _Conn:
    """A socket with a read buffer: the head is parsed, whatever follows is kept."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def read_head(self) -> bytes | None:
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > _MAX_HEAD:
                raise _Refused(431, "Request Header Fields Too Large")
            if not self._fill():
                if self.buf:
                    raise _Refused(400, "Bad Request")
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise _Refused(400, "Bad Request")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if len(self.buf) > _MAX_HEAD or not self._fill():
                raise _Refused(400, "Bad Request")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def read_chunked(self) -> tuple[bytes, bytes]:
        """The raw chunked framing (relayed as is) and the decoded body."""
        raw: list[bytes] = []
        body: list[bytes] = []
        while True:
            line = self.read_line()
            raw.append(line)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = self.read_line()
                    raw.append(trailer)
                    if trailer == b"\r\n":
                        return b"".join(raw), b"".join(body)
            chunk = self.read_exact(size + 2)
            raw.append(chunk)
            body.append(chunk[:-2])


def _parse_head(head: bytes) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise _Refused(400, "Bad Request")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise _Refused(400, "Bad Request")
        headers.append((name, value.strip()))
    return lines[0], parts[0], parts[1], tuple(headers)


def _loopback_port(host: str | None, port: int | None) -> int:
    """The port to connect to on 127.0.0.1; refuses every other host without resolving it."""
    if host is None or host.lower() not in LOOPBACK_NAMES:
        raise _Refused(403, "Forbidden")
    if port is None or not 0 < port < 65536:
        raise _Refused(400, "Bad Request")
    return port


def _split_authority(authority: str) -> tuple[str | None, int | None]:
    host, sep, port = authority.rpartition(":")
    if not sep or not port.isdigit():
        return None, None
    return host, int(port)


class ConnectProxy:
    """A threaded HTTP proxy on 127.0.0.1 that reaches loopback targets only.

    Supports ``CONNECT host:port`` tunnels (what requests and httpx send for
    ``https://`` targets through an ``http://`` proxy: answered ``HTTP/1.1 200
    Connection established``, then bytes are relayed both ways) and absolute-form
    requests (``POST http://127.0.0.1:1234/path HTTP/1.1``, for ``http://``
    targets), forwarded in origin form with hop-by-hop headers dropped and the
    body relayed byte for byte; a forwarded exchange closes the client connection
    after the response. Use as a context manager, or :meth:`start` / :meth:`stop`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[ProxyRequest] = []
        self._connects: list[str] = []
        self._forwarded: list[Forwarded] = []
        self._refused: list[str] = []
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> ConnectProxy:
        """Start listening on an ephemeral port of 127.0.0.1 in a background thread."""
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        class Server(_PromptStop, socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 1024

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="test-connect-proxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (tunnels still open end when either side closes)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ConnectProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        assert self._server is not None, "the proxy is not running"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``proxies=`` / ``proxy=`` / ``HTTPS_PROXY``."""
        return f"http://127.0.0.1:{self.port}"

    # -- records ---------------------------------------------------------------

    @property
    def connects(self) -> list[str]:
        """The ``host:port`` of every CONNECT tunnel the proxy opened, in order."""
        with self._lock:
            return list(self._connects)

    @property
    def forwarded(self) -> list[Forwarded]:
        """Every absolute-form request the proxy forwarded, in order."""
        with self._lock:
            return list(self._forwarded)

    @property
    def refused(self) -> list[str]:
        """The targets (``host:port`` or URL) the proxy answered 403, in order."""
        with self._lock:
            return list(self._refused)

    @property
    def seen(self) -> list[ProxyRequest]:
        """Every request head received (CONNECT and forwarded, refused ones too), in order."""
        with self._lock:
            return list(self._seen)

    def reset(self) -> None:
        """Forget everything recorded so far."""
        with self._lock:
            self._seen.clear()
            self._connects.clear()
            self._forwarded.clear()
            self._refused.clear()

    # -- serving ---------------------------------------------------------------

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = _Conn(sock)
        try:
            head = client.read_head()
            if head is None:
                return
            request_line, method, target, headers = _parse_head(head)
            request = ProxyRequest(method, target, request_line, headers)
            with self._lock:
                self._seen.append(request)
            try:
                if method == "CONNECT":
                    self._tunnel(client, request)
                else:
                    self._forward(client, request)
            except _Refused as refused:
                if refused.status == 403:
                    with self._lock:
                        self._refused.append(target)
                raise
        except _Refused as refused:
            _answer(sock, refused.status, refused.reason)
        except OSError:
            pass  # a client or upstream that went away: nothing to answer
        finally:
            sock.close()

    def _tunnel(self, client: _Conn, request: ProxyRequest) -> None:
        host, port = _split_authority(request.target)
        if host is None:
            raise _Refused(400, "Bad Request")
        upstream = self._connect(_loopback_port(host, port))
        with self._lock:
            self._connects.append(request.target)
        try:
            client.sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if client.buf:
                upstream.sendall(client.buf)
                client.buf = b""
            _relay(client.sock, upstream)
        finally:
            upstream.close()

    def _forward(self, client: _Conn, request: ProxyRequest) -> None:
        parts = urlsplit(request.target)
        if parts.scheme != "http" or not parts.netloc:
            raise _Refused(400, "Bad Request")  # an origin-form request: not for a proxy
        try:
            port = parts.port if parts.port is not None else 80
        except ValueError:
            raise _Refused(400, "Bad Request") from None
        port = _loopback_port(parts.hostname, port)
        lowered = {k.lower(): v for k, v in request.headers}
        if "chunked" in lowered.get("transfer-encoding", "").lower():
            raw_body, body = client.read_chunked()
        else:
            length = lowered.get("content-length", "0").strip() or "0"
            if not length.isdigit():
                raise _Refused(400, "Bad Request")
            raw_body = body = client.read_exact(int(length))
        with self._lock:
            self._forwarded.append(
                Forwarded(request.method, request.target, request.request_line, request.headers, body)
            )
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        version = request.request_line.rsplit(" ", 1)[1]
        lines = [f"{request.method} {path} {version}"]
        lines += [f"{k}: {v}" for k, v in request.headers if k.lower() not in _HOP_BY_HOP]
        lines.append("Connection: close")
        upstream = self._connect(port)
        try:
            upstream.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + raw_body)
            reply = _Conn(upstream)
            head = reply.read_head()
            if head is None:
                raise _Refused(502, "Bad Gateway")
            status_line, *header_lines = head.split(b"\r\n")
            kept = [
                h for h in header_lines if h.split(b":", 1)[0].strip().lower() not in {b"connection", b"keep-alive"}
            ]
            client.sock.sendall(b"\r\n".join([status_line, *kept, b"Connection: close"]) + b"\r\n\r\n" + reply.buf)
            # The upstream closes after its response (Connection: close): relay up to EOF.
            while data := upstream.recv(65536):
                client.sock.sendall(data)
        finally:
            upstream.close()

    @staticmethod
    def _connect(port: int) -> socket.socket:
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=_TIMEOUT)
        except OSError:
            raise _Refused(502, "Bad Gateway") from None
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return upstream


def _answer(sock: socket.socket, status: int, reason: str) -> None:
    body = f"{status} {reason}: this test proxy reaches 127.0.0.1 only\n".encode()
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    with contextlib.suppress(OSError):
        sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until both directions reached EOF (half-closes passed on)."""
    peer = {a: b, b: a}
    open_ = [a, b]
    while open_:
        readable, _, _ = select.select(open_, [], [], _TIMEOUT)
        if not readable:
            return  # idle for too long
        for src in readable:
            data = src.recv(65536)
            if data:
                peer[src].sendall(data)
                continue
            open_.remove(src)
            with contextlib.suppress(OSError):
                peer[src].shutdown(socket.SHUT_WR)
