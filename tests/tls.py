"""The project's test servers over TLS on 127.0.0.1, with a throwaway CA (trustme).

A client verifies the server as it would a real API (verification on, against
this CA only)::

    with ThrowawayCA() as ca, tls_server(PoloniexServer({KEY: SECRET}), ca) as server:
        requests.post(server.url, data=..., verify=ca.ca_bundle, auth=...)
        httpx.Client(verify=ca.client_context()).post(server.url, ...)

``server.url`` / ``server.origin`` are ``https://127.0.0.1:PORT...`` (and so are
the wrapped server's own); the wrapped
:class:`~hmac_body_auth.testing.VerifyingServer` stays reachable as
``server.server`` (its ``received``, ``stats``, ``reset()``...).
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from types import TracebackType
from typing import Generic, TypeVar

import trustme

from hmac_body_auth.testing import VerifyingServer

__all__ = ["TLSServer", "ThrowawayCA", "tls_server"]

S = TypeVar("S", bound=VerifyingServer)


class ThrowawayCA:
    """A fresh certificate authority and one certificate for ``127.0.0.1`` and ``localhost``.

    :attr:`ca_bundle` is a PEM file of the CA alone (``verify=`` for requests,
    ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``); :meth:`client_context` an
    :class:`ssl.SSLContext` that trusts only it (``verify=`` for httpx and httpx2).
    The file is removed by :meth:`close` (or leaving the ``with`` block).
    """

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")
        fd, self._path = tempfile.mkstemp(prefix="hmac-test-ca-", suffix=".pem")
        with os.fdopen(fd, "wb") as f:
            f.write(self.ca.cert_pem.bytes())

    @property
    def ca_bundle(self) -> str:
        """Path of the CA certificate (PEM)."""
        return self._path

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate (PEM bytes)."""
        return self.ca.cert_pem.bytes()

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context (hostname checked) that trusts this CA only."""
        ctx = ssl.create_default_context(cafile=self._path)
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        assert ctx.check_hostname
        return ctx

    def server_context(self) -> ssl.SSLContext:
        """A server context presenting the certificate for ``127.0.0.1`` / ``localhost``."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(ctx)
        return ctx

    def close(self) -> None:
        """Remove the CA bundle file."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)

    def __enter__(self) -> ThrowawayCA:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class TLSServer(Generic[S]):
    """A started :class:`~hmac_body_auth.testing.VerifyingServer` whose socket speaks TLS.

    The TLS handshake runs in the connection's handler thread (at its first read),
    so a slow or failing client never blocks the accept loop. Failed handshakes
    are counted in :attr:`handshake_errors` instead of printed.
    """

    def __init__(self, server: S, ca: ThrowawayCA) -> None:
        self.server = server
        self.ca = ca
        self.handshake_errors = 0
        httpd = getattr(server, "_httpd", None)
        if httpd is None:
            server.start()
            httpd = server._httpd
        assert httpd is not None
        # Same file descriptor, so serve_forever's selector keeps working; accept()
        # now returns server-side SSL sockets.
        httpd.socket = ca.server_context().wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        default_handle_error = httpd.handle_error

        def handle_error(request: object, client_address: object) -> None:
            import sys

            if isinstance(sys.exc_info()[1], ssl.SSLError | ConnectionError):
                self.handshake_errors += 1
                return
            default_handle_error(request, client_address)  # type: ignore[arg-type]

        httpd.handle_error = handle_error  # type: ignore[method-assign]
        # The server's own origin/url say https:// from now on (SchemeServer verifies
        # against origin + path), through a subclass that overrides only ``origin``.
        cls = type(server)
        server.__class__ = type(f"TLS{cls.__name__}", (cls,), {"origin": property(_https_origin)})

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.server.origin.rsplit(":", 1)[1])

    @property
    def origin(self) -> str:
        """``https://127.0.0.1:PORT``."""
        return self.server.origin

    @property
    def url(self) -> str:
        """The wrapped server's ``url``, e.g. ``https://127.0.0.1:PORT/tradingApi``."""
        return self.server.url

    def stop(self) -> None:
        """Stop the wrapped server."""
        self.server.stop()

    def __enter__(self) -> TLSServer[S]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _https_origin(server: VerifyingServer) -> str:
    httpd = server._httpd
    assert httpd is not None, "the server is not running"
    return f"https://127.0.0.1:{httpd.server_address[1]}"


def tls_server(server: S, ca: ThrowawayCA) -> TLSServer[S]:
    """Serve ``server`` (started here if it is not yet) over TLS with ``ca``'s certificate."""
    return TLSServer(server, ca)
