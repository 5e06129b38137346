"""HTTPie auth plugins: ``http --auth-type=<preset> -a KEY:SECRET ...`` signs the request.

Registered through HTTPie's ``httpie.plugins.auth.v1`` entry point group, one
plugin per preset (``--auth-type`` is the preset's name in
:data:`~hmac_body_auth.presets.PRESETS`) plus ``hmac-body``, a
:class:`~hmac_body_auth.BodyDigestAuth` with its defaults (``Key`` / ``Sign``
headers, hex HMAC-SHA512 of the body, no nonce)::

    http --auth-type=poloniex -a KEY:SECRET --form POST https://poloniex.com/tradingApi command=returnBalances
    http --auth-type=okx -a KEY:SECRET:PASSPHRASE https://www.okx.com/api/v5/account/balance

``-a KEY`` alone makes HTTPie prompt for the rest (``SECRET``, or
``SECRET:PASSPHRASE``), which keeps the secret out of shell history. Secrets
never appear in error messages. ``--compress`` changes the body after it was
signed, and ``--session`` stores ``-a`` in the session file: HTTPie does both
for every auth type.

Loading the plugins is cheap (HTTPie loads every installed plugin on each run):
the preset module, and httpx with it, is imported only when its plugin is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import requests
from httpie.plugins import AuthPlugin

from .errors import ConfigurationError, HmacBodyAuthError

if TYPE_CHECKING:
    from ._auth import HmacAuth

__all__ = [
    "BinancePlugin",
    "BitfinexPlugin",
    "BitstampPlugin",
    "BybitPlugin",
    "CoinbaseExchangePlugin",
    "GeminiPlugin",
    "HitBTCPlugin",
    "HmacBodyPlugin",
    "KrakenPlugin",
    "KuCoinPlugin",
    "OKXPlugin",
    "PoloniexPlugin",
    "PoloniexV3Plugin",
]


#: The shape of ``-a``. Not ``KEY:SECRET``: HTTPie prints through rich, which turns ``:SECRET:`` into an emoji.
_CREDENTIALS = {False: "<key>:<secret>", True: "<key>:<secret>:<passphrase>"}


class _Refusal(requests.auth.AuthBase):
    """Raises a configuration error when HTTPie prepares the request, before anything is sent.

    HTTPie calls ``get_auth`` inside its argument parser, which reports only
    ``SystemExit``: an exception raised there escapes as a bare traceback. An
    exception raised while the request is prepared reaches HTTPie's own error
    report instead (``http: error: ConfigurationError: ...``, exit status 1).
    """

    def __init__(self, message: str) -> None:
        self._message = message

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        raise ConfigurationError(self._message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._message!r})"


class _StrHeaders(requests.auth.AuthBase):
    """Gives the auth the request with ``str`` header values, as requests users send them.

    HTTPie encodes every header value to bytes before requests prepares the
    request (https://github.com/httpie/cli/issues/212); the auth reads
    ``Content-Type`` as ``str``. Latin-1 maps each byte to one code point and
    ``http.client`` encodes ``str`` values as latin-1, so the wire bytes stay the same.
    """

    def __init__(self, auth: HmacAuth) -> None:
        self.auth = auth

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        for name, value in list(r.headers.items()):
            if isinstance(value, bytes):
                r.headers[name] = value.decode("latin-1")
        return self.auth(r)

    def __repr__(self) -> str:
        return repr(self.auth)


class _HmacPlugin(AuthPlugin):  # type: ignore[misc]  # httpie has no type hints: AuthPlugin is Any
    """The shared ``get_auth``: HTTPie parses ``-a KEY:SECRET`` (and prompts for a missing secret)."""

    auth_type: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    #: Whether ``-a`` is ``KEY:SECRET:PASSPHRASE`` (checked against the preset's signature by a test).
    passphrase: ClassVar[bool] = False

    def get_auth(self, username: str | None = None, password: str | None = None) -> requests.auth.AuthBase:
        """Return the auth object for ``-a`` as HTTPie parsed it (``username``, the rest in ``password``)."""
        secret, passphrase = password or "", None
        if self.passphrase:
            secret, sep, passphrase = secret.partition(":")
            if not sep:
                # The message names the expected shape only: what was given holds the secret.
                return _Refusal(f"--auth-type={self.auth_type} needs the passphrase too: -a {_CREDENTIALS[True]}")
        try:
            return _StrHeaders(self._build(username or "", secret, passphrase))
        except HmacBodyAuthError as exc:
            # Messages of this package never contain a key or a secret (errors.py).
            return _Refusal(f"--auth-type={self.auth_type}: {exc}")

    def _build(self, key: str, secret: str, passphrase: str | None) -> HmacAuth:
        from .presets import preset

        auth_cls, _ = preset(self.auth_type)
        options = {} if passphrase is None else {"passphrase": passphrase}
        auth: HmacAuth = auth_cls(key, secret, **options)
        return auth


class HmacBodyPlugin(_HmacPlugin):
    """``--auth-type=hmac-body``: :class:`~hmac_body_auth.BodyDigestAuth`, defaults; ``-a :SECRET`` sends no key."""

    auth_type = "hmac-body"
    name = "HMAC of the exact body"
    description = f"Key and Sign headers, hex HMAC-SHA512 of the body, no nonce. -a {_CREDENTIALS[False]}"

    def _build(self, key: str, secret: str, passphrase: str | None) -> HmacAuth:
        from ._auth import BodyDigestAuth

        return BodyDigestAuth(key or None, secret=secret)


def _description(api: str, passphrase: bool = False) -> str:
    return f"Signs {api} requests. -a {_CREDENTIALS[passphrase]}"


class BinancePlugin(_HmacPlugin):
    """``--auth-type=binance``: :class:`~hmac_body_auth.presets.Binance`."""

    auth_type = "binance"
    name = "Binance"
    description = _description("Binance spot SIGNED")


class BitfinexPlugin(_HmacPlugin):
    """``--auth-type=bitfinex``: :class:`~hmac_body_auth.presets.Bitfinex`."""

    auth_type = "bitfinex"
    name = "Bitfinex"
    description = _description("Bitfinex v2 authenticated")


class BitstampPlugin(_HmacPlugin):
    """``--auth-type=bitstamp``: :class:`~hmac_body_auth.presets.Bitstamp`."""

    auth_type = "bitstamp"
    name = "Bitstamp"
    description = _description("Bitstamp v2 private")


class BybitPlugin(_HmacPlugin):
    """``--auth-type=bybit``: :class:`~hmac_body_auth.presets.Bybit`."""

    auth_type = "bybit"
    name = "Bybit"
    description = _description("Bybit v5")


class CoinbaseExchangePlugin(_HmacPlugin):
    """``--auth-type=coinbase-exchange``: :class:`~hmac_body_auth.presets.CoinbaseExchange`."""

    auth_type = "coinbase-exchange"
    name = "Coinbase Exchange"
    description = _description("Coinbase Exchange", passphrase=True)
    passphrase = True


class GeminiPlugin(_HmacPlugin):
    """``--auth-type=gemini``: :class:`~hmac_body_auth.presets.Gemini`."""

    auth_type = "gemini"
    name = "Gemini"
    description = _description("Gemini private")


class HitBTCPlugin(_HmacPlugin):
    """``--auth-type=hitbtc``: :class:`~hmac_body_auth.presets.HitBTC`."""

    auth_type = "hitbtc"
    name = "HitBTC"
    description = _description("HitBTC v3 (HS256)")


class KrakenPlugin(_HmacPlugin):
    """``--auth-type=kraken``: :class:`~hmac_body_auth.presets.Kraken`."""

    auth_type = "kraken"
    name = "Kraken"
    description = _description("Kraken private")


class KuCoinPlugin(_HmacPlugin):
    """``--auth-type=kucoin``: :class:`~hmac_body_auth.presets.KuCoin`."""

    auth_type = "kucoin"
    name = "KuCoin"
    description = _description("KuCoin (API key version 2)", passphrase=True)
    passphrase = True


class OKXPlugin(_HmacPlugin):
    """``--auth-type=okx``: :class:`~hmac_body_auth.presets.OKX`."""

    auth_type = "okx"
    name = "OKX"
    description = _description("OKX v5", passphrase=True)
    passphrase = True


class PoloniexPlugin(_HmacPlugin):
    """``--auth-type=poloniex``: :class:`~hmac_body_auth.Poloniex` (the legacy ``tradingApi``)."""

    auth_type = "poloniex"
    name = "Poloniex (legacy tradingApi)"
    description = _description("Poloniex tradingApi")


class PoloniexV3Plugin(_HmacPlugin):
    """``--auth-type=poloniex-v3``: :class:`~hmac_body_auth.presets.PoloniexV3`."""

    auth_type = "poloniex-v3"
    name = "Poloniex v3"
    description = _description("Poloniex spot (api.poloniex.com)")
