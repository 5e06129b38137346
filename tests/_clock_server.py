"""A loopback server that emulates a timestamp API's clock: its window, refusal and time endpoint.

The server's clock is this machine's plus ``skew_ns`` (change it mid-run for a
step). Signatures are checked with the preset's own verifier; the timestamp is
read as the API reads it (tests/_clock_apis.py, written from the API docs, not
from the recipes the auth uses) and refused with the API's own answer when it is
outside the window. ``GET`` of the API's time endpoint answers the server's time;
its requests are recorded so that tests can check no credential was sent there.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from hmac_body_auth.presets import preset
from hmac_body_auth.testing import _PromptStop
from tests._clock_apis import CLOCK_APIS, ClockApi
from tests._presets import KEY, PASSPHRASE, SECRET, takes


@dataclass
class Counts:
    """What the server saw."""

    accepted: int = 0
    rejected: int = 0
    """Timestamp refusals answered."""
    bad: int = 0
    """Requests refused for anything else (signature, key): must stay 0."""
    probes: int = 0
    """Requests to the time endpoint."""
    probe_headers: list[dict[str, str]] = field(default_factory=list)


class _QuickHTTPServer(_PromptStop, ThreadingHTTPServer):
    """A threading HTTP server that stops at once."""


class ClockServer:
    """Emulates preset ``name``'s clock on 127.0.0.1 (use as a context manager)."""

    def __init__(self, name: str, *, skew_ns: int = 0, api: ClockApi | None = None) -> None:
        self.name = name
        self.api: ClockApi = CLOCK_APIS[name] if api is None else api
        self.skew_ns = skew_ns
        self.counts = Counts()
        self.lock = threading.Lock()
        _, verifier_cls = preset(name)
        options: dict[str, Any] = {}
        if takes(verifier_cls, "passphrases"):
            options["passphrases"] = {KEY: PASSPHRASE}
        self.verifier = verifier_cls({KEY: SECRET}, **options)
        self._httpd: ThreadingHTTPServer | None = None

    def now_ns(self) -> int:
        """The server's clock."""
        return time.time_ns() + self.skew_ns

    @property
    def origin(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> ClockServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = _QuickHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one request."""
        api = self.api
        path = urlsplit(target).path
        server_ms = self.now_ns() // 1_000_000
        if method == "GET" and api.time_path is not None and path == api.time_path:
            with self.lock:
                self.counts.probes += 1
                self.counts.probe_headers.append(headers)
            return 200, {"Content-Type": "application/json"}, api.time_answer(server_ms)
        url = self.origin + target
        verdict = self.verifier.verify(method, url, headers, body)
        signed_ms = api.signed_ms(method, url, headers, body)
        with self.lock:
            if not verdict.ok or signed_ms is None:
                self.counts.bad += 1
                return 401, {"Content-Type": "application/json"}, json.dumps({"error": verdict.reason}).encode()
            if server_ms - signed_ms > api.window_ms or signed_ms - server_ms > api.ahead_ms:
                self.counts.rejected += 1
                return api.rejection(server_ms, signed_ms)
            self.counts.accepted += 1
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'


class _Handler(BaseHTTPRequestHandler):
    server_owner: ClockServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header from the server's (skewed) clock, as a real server would send it."""
        return email.utils.formatdate(self.server_owner.now_ns() / 1e9, usegmt=True)

    def _handle(self) -> None:
        if "Transfer-Encoding" in self.headers:
            # The calls here have small bodies or none: chunked framing means the client
            # invented a body (a GET resent with b"" is sent chunked by requests).
            with self.server_owner.lock:
                self.server_owner.counts.bad += 1
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        status, extra, payload = self.server_owner.answer(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815
