"""KuCoin REST API (``https://api.kucoin.com/api/v1/...``), API keys of version 1, 2 or 3.

Scheme (https://www.kucoin.com/docs-new/authentication, and
https://www.kucoin.com/docs/basic-info/connection-method/authentication/signing-a-message):

* ``KC-API-SIGN``: base64 HMAC-SHA256, keyed with the secret as is, of
  ``timestamp + METHOD + endpoint + body``, where ``endpoint`` is the path with
  the query string (``/api/v1/deposit-addresses?currency=XBT``) and ``body`` the
  raw JSON body (``""`` when there is none);
* ``KC-API-TIMESTAMP``: Unix time in milliseconds, the one that was signed;
* ``KC-API-KEY`` and ``KC-API-KEY-VERSION``;
* ``KC-API-PASSPHRASE``: for key versions 2 and 3 the base64 HMAC-SHA256 of the
  passphrase keyed with the secret, for version 1 the passphrase in plain text.

"When generating signature, the URL must use the content that has not been
URL-encoded": ``...&passphrase=abc%21%40%2311`` is signed as ``...&passphrase=abc!@#11``.
The scheme therefore signs the percent-decoded path and query of the URL exactly
as it is sent (a ``+`` in the query is a form-encoded space, as KuCoin's servers
read it). Request bodies are JSON ("all requests and responses are
application/json"); other bodies are refused before anything is sent. KuCoin has
no nonce, only the timestamp, so requests need no ordering.

Clock sync (:data:`KUCOIN_CLOCK_SYNC`): "The difference between your timestamp and
the API service time must be less than 5 seconds, or your request will be
considered expired and rejected"; the refusal is system code ``400002``
"KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds"
(https://github.com/Kucoin/kucoin-api-docs, "System error codes" and "Selecting a
Timestamp"), answered with HTTP 400: ``{"code":"400002","msg":"Invalid
KC-API-TIMESTAMP"}`` (kucoin-python-sdk raises it as ``400-{...}``, the status
then the body). The docs also say an error may come with HTTP 200; the strict
reading keeps the status that is seen, 400. The time endpoint is
``GET /api/v1/timestamp``: ``{"code":"200000","msg":"success","data":1546837113087}``.
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


#: Where KuCoin documents system code 400002 and the 5-second rule.
KUCOIN_TIMESTAMP_DOC = "https://www.kucoin.com/docs/basic-info/connection-method/types/timestamps"
_TIMESTAMP_INVALID = "400002"


# ``{"code": "400002", "msg": "..."}`` with HTTP 400; any other code (400003 key, 400005 sign, ...) is not.
_timestamp_rejection = Refusal(frozenset({400}), {"code": _TIMESTAMP_INVALID}, text=("msg",))
# ``GET /api/v1/timestamp``: ``{"code": "200000", "data": <Unix ms>}``.
_server_time = TimeMember(("data",), where={"code": "200000"})


KUCOIN_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({400}),
    time_path="/api/v1/timestamp",
    server_time=_server_time,
    window_ms=5000,
    doc=KUCOIN_TIMESTAMP_DOC,
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
    endpoint = unquote_to_bytes(parts.path or "/")
    if parts.query:
        endpoint += b"?" + unquote_to_bytes(parts.query.replace("+", " "))
    return endpoint


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
    """Auth for the KuCoin REST API (spot, margin, futures: the same signature).

    Args:
        key: the API key (``KC-API-KEY``).
        secret: the API secret, used as is.
        passphrase: the passphrase chosen when the key was created.
        key_version: the key's version, 2 by default (1: the passphrase is sent in
            plain text; 2 and 3: its HMAC with the secret is sent).
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``KC-API-TIMESTAMP`` is sent in milliseconds.
        clock_sync: when the API refuses a call for its timestamp (code 400002), learn
            the server's clock (``GET /api/v1/timestamp``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://api.kucoin.com"``. A ``str`` body is encoded as UTF-8.

    """

    recipe = RECIPE


class KuCoinVerifier(RecipeVerifier):
    """Verify KuCoin signatures (and passphrases) on the server side.

    Args:
        secrets: API key -> secret.
        passphrases: API key -> passphrase; when given, ``KC-API-PASSPHRASE`` is
            checked too, as the key version in ``KC-API-KEY-VERSION`` says.
            ``None``: passphrases are not checked.

    The verdict carries the key and ``KC-API-TIMESTAMP`` (as ``timestamp_ms``); wrap
    it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a time window.
    """

    recipe = RECIPE
