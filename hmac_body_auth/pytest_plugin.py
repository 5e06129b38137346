"""pytest fixtures for testing code that calls HMAC-signed APIs, without a network.

Registered through the ``pytest11`` entry point: installing hmac-body-auth makes
them available in every test suite.

- ``hmac_server(preset, key=..., secret=..., passphrase=...)``: start a verifying
  loopback server for a preset (strict nonces, realistic error answers) and get it
  back; ``server.origin`` is its ``http://127.0.0.1:PORT``. ``"poloniex"`` gives a
  :class:`~hmac_body_auth.testing.PoloniexServer` with the real error texts.
- ``hmac_mock_transport(preset, ...)``: an ``httpx.MockTransport`` verifying the
  same way, for tests that must not open sockets.

Example::

    def test_balances(hmac_server):
        server = hmac_server("kraken", key="K", secret="c2VjcmV0")
        bot = MyBot(base_url=server.origin, auth=Kraken("K", "c2VjcmV0"))
        bot.balances()
        assert server.stats.accepted == 1
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .testing import PoloniexServer, SchemeServer, VerifyingServer, mock_transport

__all__ = ["hmac_mock_transport", "hmac_server"]


def _verifier(preset: str, key: str, secret: str | bytes, passphrase: str | None, options: dict[str, Any]) -> Any:
    from .presets import preset as load

    _, verifier_cls = load(preset)
    kwargs = dict(options)
    if passphrase is not None and "passphrases" in inspect.signature(verifier_cls).parameters:
        kwargs.setdefault("passphrases", {key: passphrase})
    return verifier_cls({key: secret}, **kwargs)


@pytest.fixture
def hmac_server() -> Iterator[Callable[..., VerifyingServer]]:
    """Start verifying servers for presets; they stop when the test ends."""
    started: list[VerifyingServer] = []

    def start(
        preset: str,
        *,
        key: str = "TEST-KEY",
        secret: str | bytes = "TEST-SECRET",
        passphrase: str | None = None,
        window_ms: int | None = None,
        **verifier_options: Any,
    ) -> VerifyingServer:
        server: VerifyingServer
        if preset == "poloniex":
            server = PoloniexServer({key: secret})
        else:
            server = SchemeServer(_verifier(preset, key, secret, passphrase, verifier_options), window_ms=window_ms)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def hmac_mock_transport() -> Callable[..., Any]:
    """Build httpx MockTransports that verify a preset's signatures."""

    def build(
        preset: str,
        *,
        key: str = "TEST-KEY",
        secret: str | bytes = "TEST-SECRET",
        passphrase: str | None = None,
        **verifier_options: Any,
    ) -> Any:
        return mock_transport(_verifier(preset, key, secret, passphrase, verifier_options))

    return build
