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

import hmac
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import unquote_to_bytes, urlsplit

from .._auth import HmacAuth
from .._body import media_type
from .._clocksync import ClockSync, TimestampRejection, milliseconds_ns
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..verify import Verdict, constant_time_equal, header
from ._answers import json_answer

__all__ = ["KUCOIN_CLOCK_SYNC", "KuCoin", "KuCoinScheme", "KuCoinVerifier"]

_JSON = "application/json"
_KEY_VERSIONS = frozenset({1, 2, 3})


#: Where KuCoin documents system code 400002 and the 5-second rule.
KUCOIN_TIMESTAMP_DOC = "https://www.kucoin.com/docs/basic-info/connection-method/types/timestamps"
_TIMESTAMP_INVALID = "400002"


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """``{"code": "400002", "msg": "..."}`` with HTTP 400; any other code (400003 key, 400005 sign, ...) is ``None``."""
    if status != 400:
        return None
    answer = json_answer(body)
    if not isinstance(answer, dict):
        return None
    code, message = answer.get("code"), answer.get("msg")
    if not isinstance(code, str) or code != _TIMESTAMP_INVALID or not isinstance(message, str):
        return None
    return TimestampRejection(None)


def _server_time(body: bytes) -> int | None:
    """``GET /api/v1/timestamp``: ``{"code": "200000", "data": <Unix ms>}`` in nanoseconds, or ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict) or answer.get("code") != "200000" or type(answer.get("data")) is not int:
        return None
    return milliseconds_ns(answer["data"])


KUCOIN_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({400}),
    time_path="/api/v1/timestamp",
    server_time=_server_time,
    window_ms=5000,
    doc=KUCOIN_TIMESTAMP_DOC,
)
"""KuCoin's clock-sync recipe: code 400002 (HTTP 400) and ``GET /api/v1/timestamp``; a 5 s window."""


def _validate_key_version(key_version: object) -> int:
    if isinstance(key_version, str) and key_version.strip() in {"1", "2", "3"}:
        key_version = int(key_version)
    if isinstance(key_version, bool) or key_version not in _KEY_VERSIONS:
        raise ConfigurationError("key_version must be 1, 2 or 3 (the version shown on KuCoin's API Management page)")
    assert isinstance(key_version, int)
    return key_version


def _validate_passphrase(passphrase: object, key_version: int) -> str:
    """Return the passphrase if usable; the messages never echo it."""
    if not isinstance(passphrase, str):
        raise ConfigurationError(f"passphrase must be a str, got {type(passphrase).__name__}")
    if not passphrase:
        raise ConfigurationError("passphrase must not be empty: KuCoin requires the API key's passphrase")
    if "\r" in passphrase or "\n" in passphrase or "\x00" in passphrase:
        raise ConfigurationError("passphrase contains CR, LF or NUL (check for a trailing newline)")
    if key_version == 1 and not all(" " <= c <= "~" for c in passphrase):
        # Version 1 sends the passphrase itself as a header value.
        raise ConfigurationError("a version 1 passphrase is sent as a header and must be printable ASCII")
    return passphrase


def _endpoint(url: str) -> bytes:
    """The ``endpoint`` KuCoin signs: the URL's path and query, percent-decoded (bytes)."""
    parts = urlsplit(url)
    endpoint = unquote_to_bytes(parts.path or "/")
    if parts.query:
        endpoint += b"?" + unquote_to_bytes(parts.query.replace("+", " "))
    return endpoint


def _prehash(timestamp: str, method: str, url: str, body: bytes) -> bytes:
    return timestamp.encode("ascii") + method.encode("ascii") + _endpoint(url) + body


class KuCoinScheme:
    """The KuCoin signature: ``base64(HMAC-SHA256(ts + METHOD + endpoint + body))`` and the passphrase header.

    The passphrase is a credential: it lives in a slot, never in ``repr``, and the
    scheme cannot be pickled.
    """

    __slots__ = ("_passphrase", "header_names", "key_version")

    header_names: frozenset[str]
    key_version: int

    def __init__(self, *, passphrase: str, key_version: int = 2) -> None:
        self.key_version = _validate_key_version(key_version)
        self._passphrase = _validate_passphrase(passphrase, self.key_version).encode("utf-8")
        self.header_names = frozenset(
            {"kc-api-key", "kc-api-sign", "kc-api-timestamp", "kc-api-passphrase", "kc-api-key-version"}
        )

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse bodies that are not JSON: KuCoin's endpoints take JSON only."""
        if not out.body:
            return
        kind = media_type(out.content_type)
        if kind is not None:
            if kind != _JSON:
                raise BodyError(f"KuCoin takes JSON request bodies; got Content-Type {kind!r} (send json=...)")
            return
        try:
            json.loads(out.body)
        except ValueError:
            raise BodyError("the request body is not valid JSON; KuCoin takes JSON request bodies") from None

    def passphrase_header(self, signer: Signer) -> str:
        """The ``KC-API-PASSPHRASE`` value: HMAC'd with the secret (versions 2, 3) or plain (version 1)."""
        if self.key_version == 1:
            return self._passphrase.decode("ascii")
        return signer.sign(self._passphrase)

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Sign ``timestamp + METHOD + endpoint + body`` and return the KC-API headers."""
        if key is None:
            raise ConfigurationError("KuCoin needs the API key in KC-API-KEY: an auth without a key cannot sign")
        timestamp = str(int(clock()))
        headers = {
            "KC-API-KEY": key,
            "KC-API-SIGN": signer.sign(_prehash(timestamp, out.method, out.url, out.body)),
            "KC-API-TIMESTAMP": timestamp,
            "KC-API-PASSPHRASE": self.passphrase_header(signer),
            "KC-API-KEY-VERSION": str(self.key_version),
        }
        content_type = _JSON if out.body and out.content_type is None else None
        return SignedRequest(out.url, out.body, headers, content_type, nonce)

    def __repr__(self) -> str:
        return f"KuCoinScheme(key_version={self.key_version}, passphrase=***)"

    def __reduce__(self) -> Any:
        raise TypeError("KuCoinScheme holds a passphrase and cannot be pickled; build it again")


class KuCoin(HmacAuth):
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

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``KUCOIN_API_KEY``,
    #: ``KUCOIN_API_SECRET`` and ``KUCOIN_API_PASSPHRASE``.
    env_prefix: ClassVar[str | None] = "KUCOIN"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        passphrase: str,
        key_version: int = 2,
        clock: Callable[[], int] | None = None,
        clock_sync: bool = True,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        scheme = KuCoinScheme(passphrase=passphrase, key_version=key_version)
        options.setdefault("body_encoding", "utf-8")
        super().__init__(
            scheme,
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="base64",
            secret_encoding="raw",
            clock=clock,
            clock_sync=KUCOIN_CLOCK_SYNC if clock_sync else None,
            **options,
        )

    def _repr_fields(self) -> str:
        scheme = self._scheme
        assert isinstance(scheme, KuCoinScheme)
        return f"{super()._repr_fields()}, key_version={scheme.key_version}, passphrase=***"


class KuCoinVerifier:
    """Verify KuCoin signatures (and passphrases) on the server side.

    Args:
        secrets: API key -> secret.
        passphrases: API key -> passphrase; when given, ``KC-API-PASSPHRASE`` is
            checked too (as the key version in ``KC-API-KEY-VERSION`` says, version 1
            when the header is absent). ``None``: passphrases are not checked.

    The verdict carries the key and ``KC-API-TIMESTAMP`` (as ``timestamp_ms``); wrap
    it in a :class:`~hmac_body_auth.verify.ReplayGuard` to enforce a time window.
    """

    def __init__(
        self,
        secrets: Mapping[str, str | bytes],
        *,
        passphrases: Mapping[str, str] | None = None,
    ) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha256", digest_encoding="base64") for key, secret in secrets.items()
        }
        self._passphrases = None if passphrases is None else {k: p.encode("utf-8") for k, p in passphrases.items()}

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute ``KC-API-SIGN`` (and the passphrase) from the request as received."""
        key = header(headers, "KC-API-KEY")
        if key is None:
            return Verdict(False, "missing KC-API-KEY")
        signer = self._signers.get(key)
        if signer is None:
            return Verdict(False, "unknown key", key)
        timestamp = header(headers, "KC-API-TIMESTAMP")
        if timestamp is None:
            return Verdict(False, "missing KC-API-TIMESTAMP", key)
        if not timestamp.isascii() or not timestamp.isdigit():
            return Verdict(False, "bad KC-API-TIMESTAMP", key)
        signature = header(headers, "KC-API-SIGN")
        if signature is None:
            return Verdict(False, "missing KC-API-SIGN", key)
        if not constant_time_equal(signer.sign(_prehash(timestamp, method.upper(), url, body)), signature):
            return Verdict(False, "bad signature", key)
        if self._passphrases is not None:
            reason = self._check_passphrase(key, signer, headers)
            if reason:
                return Verdict(False, reason, key)
        return Verdict(True, "", key, None, int(timestamp))

    def _check_passphrase(self, key: str, signer: Signer, headers: Mapping[str, str]) -> str:
        assert self._passphrases is not None
        given = header(headers, "KC-API-PASSPHRASE")
        if given is None:
            return "missing KC-API-PASSPHRASE"
        version = (header(headers, "KC-API-KEY-VERSION") or "1").strip()
        if version not in {"1", "2", "3"}:
            return "bad KC-API-KEY-VERSION"
        passphrase = self._passphrases.get(key)
        if passphrase is None:
            return "bad passphrase"
        if version == "1":
            matches = hmac.compare_digest(passphrase, given.encode("utf-8", "replace"))
        else:
            matches = constant_time_equal(signer.sign(passphrase), given)
        if not matches:
            return "bad passphrase"
        return ""

    def __repr__(self) -> str:
        return f"KuCoinVerifier(keys={len(self._signers)}, secret=***, passphrase=***)"
