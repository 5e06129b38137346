"""pytest fixtures for testing code that calls HMAC-signed APIs, without a network.

Registered through the ``pytest11`` entry point: installing hmac-body-auth makes
them available in every test suite.

- ``hmac_server(preset, key=..., secret=..., passphrase=...)``: start a verifying
  loopback server for a preset (strict nonces, realistic error answers) and get it
  back; ``server.origin`` is its ``http://127.0.0.1:PORT``. ``"poloniex"`` gives a
  :class:`~hmac_body_auth.testing.PoloniexServer` with the real error texts.
- ``hmac_mock_transport(preset, ...)``: an ``httpx.MockTransport`` verifying the
  same way, for tests that must not open sockets.

``preset`` is a registry name in any case (``"kraken"``, ``"Coinbase-Exchange"``);
an unknown one is a :class:`~hmac_body_auth.ConfigurationError` that lists the
valid names. The default credentials are valid for every preset: the key
:data:`DEFAULT_KEY` and :func:`default_secret` (``TEST-SECRET``, written as the
API writes its secrets: base64 for Kraken). Without ``passphrase=`` the
passphrase of a preset that has one is not checked.

Example::

    def test_balances(hmac_server):
        server = hmac_server("kraken", key="K", secret="c2VjcmV0")
        bot = MyBot(base_url=server.origin, auth=Kraken("K", "c2VjcmV0"))
        bot.balances()
        assert server.stats.accepted == 1
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .testing import PoloniexServer, SchemeServer, VerifyingServer, mock_transport

__all__ = ["DEFAULT_KEY", "default_secret", "hmac_mock_transport", "hmac_server"]

DEFAULT_KEY = "TEST-KEY"
"""The API key the fixtures know when none is given."""
_DEFAULT_SECRET = b"TEST-SECRET"


def default_secret(preset: str) -> str:
    """The secret the fixtures use for ``preset`` when none is given: ``TEST-SECRET`` as the API writes secrets.

    Raw for most presets, its base64 (``VEVTVC1TRUNSRVQ=``) or hex where the
    API's secrets are base64 or hex (:attr:`~hmac_body_auth.presets.Entry.secret_encoding`).
    """
    from .presets import entry

    encoding = entry(preset).secret_encoding
    if encoding == "base64":
        return base64.b64encode(_DEFAULT_SECRET).decode("ascii")
    if encoding == "hex":
        return _DEFAULT_SECRET.hex()
    return _DEFAULT_SECRET.decode("ascii")


def _verifier(
    preset: str, key: str, secret: str | bytes | None, passphrase: str | None, options: dict[str, Any]
) -> Any:
    from .presets import entry

    found = entry(preset)
    kwargs = dict(options)
    if passphrase is not None and found.needs_passphrase:
        kwargs.setdefault("passphrases", {key: passphrase})
    return found.verifier({key: default_secret(preset) if secret is None else secret}, **kwargs)


@pytest.fixture
def hmac_server() -> Iterator[Callable[..., VerifyingServer]]:
    """Start verifying servers for presets; they stop when the test ends."""
    started: list[VerifyingServer] = []

    def start(
        preset: str,
        *,
        key: str = DEFAULT_KEY,
        secret: str | bytes | None = None,
        passphrase: str | None = None,
        window_ms: int | None = None,
        **verifier_options: Any,
    ) -> VerifyingServer:
        from .presets import canonical

        server: VerifyingServer
        if canonical(preset) == "poloniex":
            server = PoloniexServer({key: default_secret(preset) if secret is None else secret})
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
        key: str = DEFAULT_KEY,
        secret: str | bytes | None = None,
        passphrase: str | None = None,
        **verifier_options: Any,
    ) -> Any:
        return mock_transport(_verifier(preset, key, secret, passphrase, verifier_options))

    return build
