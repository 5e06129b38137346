"""Bitstamp HTTP API v2 (``https://www.bitstamp.net/api/v2/...``), "V2 authentication method".

Scheme (https://www.bitstamp.net/api/, section "Authentication", "V2 authentication method";
quoted in https://github.com/ccxt/ccxt/issues/6456):

* ``X-Auth``: ``"BITSTAMP " + api_key``;
* ``X-Auth-Nonce``: a client-generated random nonce, a lowercase 36-character
  string used only once within 150 seconds (a UUID such as
  ``f93c979d-b00d-43a9-9b9c-fd4cd9547fa6``);
* ``X-Auth-Timestamp``: the request's departure time, UTC, in milliseconds (refused
  when more than 150 seconds from the server's time);
* ``X-Auth-Version``: ``"v2"``;
* ``Content-Type``: ``application/x-www-form-urlencoded``, sent only with a body
  ("you also do not need to set Content-Type header if there is no body");
* ``X-Auth-Signature``: hex HMAC-SHA256, keyed with the secret as is, of
  ``X-Auth + METHOD + host + path + query + Content-Type + nonce + timestamp + "v2" + body``,
  where the query is the URL's query string without ``?`` (``""`` when there is none,
  as in the documentation's example) and the content type is left out when the
  body is empty. The documentation's Python example sends lowercase hex, its Java
  example uppercase; the server takes either, this auth sends lowercase.

The nonce is a UUID, not a counter: requests need no ordering, so the preset does
not serialize them unless you pass your own ``nonce`` source.

Clock sync (:data:`BITSTAMP_CLOCK_SYNC`): among the documented authentication
errors (https://www.bitstamp.net/api/, "Possible authentication errors") is
``API0017`` "X-Auth-Timestamp header is out of boundaries": "Timestamp you added in
the header is either too old or too new. Check that timestamp is within 150
second timeframe." (``API0011`` is "Wrong API key format", ``API0018`` "X-Auth-Timestamp
header is invalid", a format error: neither is read.) Bitstamp answers its
authentication errors with HTTP 403 and ``{"status": "error", "reason": "...",
"code": "API0..."}`` (as seen for API0004 and API0005 in
https://github.com/ccxt/ccxt/issues/4520 and https://github.com/gazbert/bxbot/issues/64);
the docs give no status for API0017 itself, and the strict reading takes the one
its siblings come with. Bitstamp has no server-time endpoint, so the server's
clock is read from the answer's ``Date`` header.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._body import FORM_CONTENT_TYPE, media_type
from .._clocksync import ClockSync, TimestampRejection
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError, NonceError
from ..verify import Verdict, constant_time_equal, header
from ._answers import json_answer

__all__ = ["BITSTAMP_CLOCK_SYNC", "Bitstamp", "BitstampScheme", "BitstampVerifier", "bitstamp_nonce"]

_VERSION = "v2"
_PREFIX = "BITSTAMP "
_NONCE_LENGTH = 36


#: Where Bitstamp documents API0017 (the "Authentication" section).
BITSTAMP_TIMESTAMP_DOC = "https://www.bitstamp.net/api/#section/Authentication"
_OUT_OF_BOUNDARIES = "API0017"


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """``{"status": "error", "code": "API0017", ...}`` with HTTP 403; any other code (API0005 sign, ...) is ``None``."""
    if status != 403:
        return None
    answer = json_answer(body)
    if not isinstance(answer, dict) or answer.get("status") != "error":
        return None
    code = answer.get("code")
    if not isinstance(code, str) or code != _OUT_OF_BOUNDARIES or not isinstance(answer.get("reason"), str):
        return None
    return TimestampRejection(None)


BITSTAMP_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({403}),
    window_ms=150_000,
    doc=BITSTAMP_TIMESTAMP_DOC,
)
"""Bitstamp's clock-sync recipe: API0017 (HTTP 403); no time endpoint; a 150 s window either way."""


def bitstamp_nonce() -> str:
    """A fresh ``X-Auth-Nonce``: a random UUID, 36 lowercase characters."""
    return str(uuid.uuid4())


def _valid_nonce(nonce: object) -> bool:
    return (
        isinstance(nonce, str)
        and len(nonce) == _NONCE_LENGTH
        and nonce.isascii()
        and nonce.isprintable()
        and " " not in nonce
        and nonce == nonce.lower()
    )


def _message(key: str, method: str, url: str, content_type: str, nonce: str, timestamp: str, body: bytes) -> bytes:
    """The string Bitstamp signs, as bytes (UTF-8, as the documentation's example encodes it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    head = _PREFIX + key + method + host + (parts.path or "/") + parts.query
    # The content type is part of the message only when there is a body.
    tail = (content_type if body else "") + nonce + timestamp + _VERSION
    return (head + tail).encode("utf-8") + body


class BitstampScheme:
    """The Bitstamp v2 signature in the ``X-Auth-*`` headers."""

    __slots__ = ("header_names",)

    header_names: frozenset[str]

    def __init__(self) -> None:
        self.header_names = frozenset(
            {"x-auth", "x-auth-signature", "x-auth-nonce", "x-auth-timestamp", "x-auth-version"}
        )

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse what Bitstamp rejects: non-form bodies, and a Content-Type on an empty body."""
        kind = media_type(out.content_type)
        if out.body:
            if kind is not None and kind != FORM_CONTENT_TYPE:
                raise BodyError(
                    f"Bitstamp takes form bodies (application/x-www-form-urlencoded); got Content-Type {kind!r} "
                    "(send data=dict)"
                )
        elif kind is not None:
            raise BodyError("Bitstamp refuses a Content-Type header on a request without a body; remove it")

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Sign the request and return the ``X-Auth-*`` headers."""
        if key is None:
            raise ConfigurationError("Bitstamp signs the API key: an auth without a key cannot sign")
        if not _valid_nonce(nonce):
            raise NonceError(
                "Bitstamp nonces are lowercase 36-character strings (a UUID); the nonce source gave another"
            )
        assert isinstance(nonce, str)
        timestamp = str(int(clock()))
        content_type = out.content_type or FORM_CONTENT_TYPE
        signature = signer.sign(_message(key, out.method, out.url, content_type, nonce, timestamp, out.body))
        headers = {
            "X-Auth": _PREFIX + key,
            "X-Auth-Signature": signature,
            "X-Auth-Nonce": nonce,
            "X-Auth-Timestamp": timestamp,
            "X-Auth-Version": _VERSION,
        }
        set_type = FORM_CONTENT_TYPE if out.body and out.content_type is None else None
        return SignedRequest(out.url, out.body, headers, set_type, nonce)

    def __repr__(self) -> str:
        return "BitstampScheme()"


class Bitstamp(HmacAuth):
    """Auth for the Bitstamp HTTP API v2 (V2 authentication method).

    Args:
        key: the API key (sent as ``X-Auth: BITSTAMP <key>``).
        secret: the API secret, used as is.
        nonce: a zero-argument callable returning a fresh lowercase 36-character
            string per request; by default :func:`bitstamp_nonce` (a random UUID).
            Requests are then not serialized per key (``ordered=False``) unless you
            ask for it, since UUIDs have no order.
        clock: a zero-argument callable returning int nanoseconds since the Unix epoch
            (``time.time_ns``, the default); ``X-Auth-Timestamp`` is sent in milliseconds.
        clock_sync: when the API refuses a call for its timestamp (API0017), learn the
            server's clock (from the answer's ``Date``), re-sign once and resend;
            ``False``: use ``clock=`` only.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``origin="https://www.bitstamp.net"``. A ``str`` body is encoded as UTF-8.

    """

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``BITSTAMP_API_KEY`` and ``BITSTAMP_API_SECRET``.
    env_prefix: ClassVar[str | None] = "BITSTAMP"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        nonce: Callable[[], str] | None = None,
        clock: Callable[[], int] | None = None,
        clock_sync: bool = True,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        if nonce is None:
            nonce = bitstamp_nonce
            options.setdefault("ordered", False)
        options.setdefault("body_encoding", "utf-8")
        super().__init__(
            BitstampScheme(),
            key=key,
            secret=secret,
            algorithm="sha256",
            digest_encoding="hex",
            secret_encoding="raw",
            nonce=nonce,
            clock=clock,
            clock_sync=BITSTAMP_CLOCK_SYNC if clock_sync else None,
            **options,
        )


class BitstampVerifier:
    """Verify Bitstamp v2 signatures on the server side.

    Args:
        secrets: API key -> secret.

    The verdict carries the key, the nonce (a string: a
    :class:`~hmac_body_auth.verify.ReplayGuard` refuses it a second time) and
    ``X-Auth-Timestamp`` (as ``timestamp_ms``; Bitstamp allows 150 seconds).
    """

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha256", digest_encoding="hex") for key, secret in secrets.items()
        }

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute ``X-Auth-Signature`` from the request as received."""
        x_auth = header(headers, "X-Auth")
        if x_auth is None:
            return Verdict(False, "missing X-Auth")
        if not x_auth.startswith(_PREFIX):
            return Verdict(False, "X-Auth must be 'BITSTAMP <key>'")
        key = x_auth[len(_PREFIX) :]
        signer = self._signers.get(key)
        if signer is None:
            return Verdict(False, "unknown key", key)
        if header(headers, "X-Auth-Version") != _VERSION:
            return Verdict(False, "X-Auth-Version must be v2", key)
        nonce = header(headers, "X-Auth-Nonce")
        if nonce is None:
            return Verdict(False, "missing X-Auth-Nonce", key)
        if not _valid_nonce(nonce):
            return Verdict(False, "X-Auth-Nonce must be a lowercase 36-character string", key)
        timestamp = header(headers, "X-Auth-Timestamp")
        if timestamp is None or not timestamp.isascii() or not timestamp.isdigit():
            return Verdict(False, "missing or bad X-Auth-Timestamp", key)
        content_type = header(headers, "Content-Type")
        if not body and content_type:
            return Verdict(False, "Content-Type header is not accepted without a body", key)
        if body and not content_type:
            return Verdict(False, "missing Content-Type", key)
        signature = header(headers, "X-Auth-Signature")
        if signature is None:
            return Verdict(False, "missing X-Auth-Signature", key)
        expected = signer.sign(_message(key, method.upper(), url, content_type or "", nonce, timestamp, body))
        if not constant_time_equal(expected, signature.lower()):
            return Verdict(False, "bad signature", key)
        return Verdict(True, "", key, nonce, int(timestamp))

    def __repr__(self) -> str:
        return f"BitstampVerifier(keys={len(self._signers)}, secret=***)"
