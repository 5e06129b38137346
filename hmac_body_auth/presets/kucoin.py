"""KuCoin REST API (spot, margin, futures), key versions 1 to 3 (https://www.kucoin.com/docs-new/authentication).

``KC-API-SIGN``: base64 HMAC-SHA256 (the secret as is) of ``timestamp + METHOD + endpoint + body``:
``KC-API-TIMESTAMP`` (Unix ms), the path and query percent-decoded ("the URL must use the content that
has not been URL-encoded"; a ``+`` in the query is a space, as KuCoin reads it) and the raw JSON body
(https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message).
``KC-API-PASSPHRASE``: the passphrase's base64 HMAC-SHA256 with the secret (versions 2, 3), or itself (1).
Clock sync: code 400002 with HTTP 400, a 5 s window (https://github.com/Kucoin/kucoin-api-docs, "System
error codes", "Selecting a Timestamp"; kucoin-python-sdk raises it as ``400-{...}``). The docs say errors
may come with HTTP 200: the strict reading keeps the 400 seen. Server time: ``GET /api/v1/timestamp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from .._clocksync import ClockSync
from .._signing import Signer
from ..errors import ConfigurationError
from ..recipe import MILLISECONDS, Header, Option, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import Refusal, TimeMember

__all__ = ["KUCOIN_CLOCK_SYNC", "KuCoin", "KuCoinVerifier"]

KUCOIN_CLOCK_SYNC = ClockSync(
    rejection=Refusal(frozenset({400}), {"code": "400002"}, text=("msg",)),
    statuses=frozenset({400}),
    time_path="/api/v1/timestamp",
    server_time=TimeMember(("data",), where={"code": "200000"}),
    window_ms=5000,
    doc="https://www.kucoin.com/docs/basic-info/connection-method/types/timestamps",
)
"""KuCoin's clock-sync recipe: code 400002 (HTTP 400) and ``GET /api/v1/timestamp``; a 5 s window."""


def _key_version(key_version: object) -> int:
    if isinstance(key_version, str) and key_version.strip() in {"1", "2", "3"}:
        key_version = int(key_version)
    if isinstance(key_version, bool) or key_version not in (1, 2, 3):
        raise ConfigurationError("key_version must be 1, 2 or 3 (the version shown on KuCoin's API Management page)")
    assert isinstance(key_version, int)
    return key_version


def _check_passphrase(passphrase: object, options: Mapping[str, Any]) -> str:
    """Return the passphrase if usable; the messages never echo it."""
    if not isinstance(passphrase, str):
        raise ConfigurationError(f"passphrase must be a str, got {type(passphrase).__name__}")
    if not passphrase:
        raise ConfigurationError("passphrase must not be empty: KuCoin requires the API key's passphrase")
    if "\r" in passphrase or "\n" in passphrase or "\x00" in passphrase:
        raise ConfigurationError("passphrase contains CR, LF or NUL (check for a trailing newline)")
    if options["key_version"] == 1 and not all(" " <= c <= "~" for c in passphrase):
        # Version 1 sends the passphrase itself as a header value.
        raise ConfigurationError("a version 1 passphrase is sent as a header and must be printable ASCII")
    return passphrase


def _passphrase(passphrase: str, signer: Signer, options: Mapping[str, Any]) -> str:
    """``KC-API-PASSPHRASE``: HMAC'd with the secret (versions 2, 3) or plain (version 1)."""
    return passphrase if str(options["key_version"]) == "1" else signer.sign(passphrase.encode("utf-8"))


def _endpoint(wire: Wire) -> bytes:
    """The ``endpoint`` KuCoin signs: the URL's path and query, percent-decoded (bytes)."""
    parts = urlsplit(wire.url)
    query = b"?" + unquote_to_bytes(parts.query.replace("+", " ")) if parts.query else b""
    return unquote_to_bytes(parts.path or "/") + query


RECIPE = Recipe(
    name="kucoin",
    title="KuCoin",
    doc="https://www.kucoin.com/docs-new/authentication",
    origin="https://api.kucoin.com",
    env_prefix="KUCOIN",
    digest_encoding="base64",
    message="{timestamp}{method}{endpoint}{body}",
    parts={"endpoint": _endpoint},
    headers=(
        Header("KC-API-KEY", "{key}"),
        Header("KC-API-SIGN", "{signature}"),
        Header("KC-API-TIMESTAMP", "{timestamp}"),
        Header("KC-API-PASSPHRASE", "{passphrase}"),
        Header("KC-API-KEY-VERSION", "{key_version}"),
    ),
    timestamp=MILLISECONDS,
    passphrase=_passphrase,
    passphrase_check=_check_passphrase,
    options=(Option("key_version", 2, _key_version),),
    clock_sync=lambda options: KUCOIN_CLOCK_SYNC,
)


class KuCoin(RecipeAuth):
    """Auth for KuCoin REST: ``KuCoin(key, secret, passphrase=..., key_version=2)``; see docs/presets.md#kucoin."""

    recipe = RECIPE


class KuCoinVerifier(RecipeVerifier):
    """Verify KuCoin signatures (and, given ``passphrases=``, ``KC-API-PASSPHRASE`` as its key version says)."""

    recipe = RECIPE
