"""Bitfinex API v2 authenticated endpoints (``POST https://api.bitfinex.com/v2/auth/...``).

Docs: https://docs.bitfinex.com/docs/rest-auth

Every authenticated call is a POST with a JSON body and three headers:
``bfx-apikey`` (the key), ``bfx-nonce`` (an integer that must increase with every
call of the key; microseconds are customary) and ``bfx-signature``::

    bfx-signature = hex(HMAC-SHA384(secret, "/api/" + apiPath + nonce + body))

where ``apiPath`` is the request path without its leading ``/`` (for example
``v2/auth/r/wallets``) and ``body`` the exact JSON text sent. A request without a
body is sent with the body ``{}``, as the documented examples do. Bitfinex answers
a stale nonce with HTTP 500 and ``["error", 10114, "nonce: small"]``: the call
was not executed, so the auth re-signs once with a fresh nonce.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._body import media_type
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..nonces import ClockNonce
from ..verify import Verdict, constant_time_equal, header
from ._answers import json_answer

__all__ = ["Bitfinex", "BitfinexScheme", "BitfinexVerifier", "bitfinex_nonce_error"]

JSON_CONTENT_TYPE = "application/json"
_FIXED = ("algorithm", "digest_encoding", "secret_encoding")
_NONCE_SMALL = 10114


def bitfinex_nonce_error(status: int, body: bytes) -> int | None:
    """Recognise ``["error", 10114, "nonce: small"]``: 0 (re-sign with a fresh nonce), else ``None``.

    Only an error status (Bitfinex uses 500) with exactly that answer counts: a
    JSON array (strict UTF-8, at most 64 KiB) of ``"error"``, the integer code
    10114 and a message about the nonce; never a 2xx, a truncated body or an
    order that echoes the text.
    """
    if status < 400:
        return None
    answer = json_answer(body)
    if not isinstance(answer, list) or len(answer) != 3:
        return None
    kind, code, message = answer
    if kind != "error" or type(code) is not int or code != _NONCE_SMALL:
        return None
    return 0 if isinstance(message, str) and message.startswith("nonce") else None


def _nonce_text(nonce: int | str | None) -> str:
    text = str(nonce) if nonce is not None else ""
    if isinstance(nonce, bool) or not text.isascii() or not text.isdigit():
        raise BodyError("Bitfinex needs an unsigned integer nonce; the nonce source returned something else")
    return text


def _api_path(url: str) -> str:
    """The path (and query, if any) after the host: ``/v2/auth/r/wallets``."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _signature_base(url: str, nonce: str, body: bytes) -> bytes:
    return b"/api" + _api_path(url).encode("utf-8") + nonce.encode("ascii") + body


class BitfinexScheme:
    """What Bitfinex signs: ``/api`` + path + nonce + the exact JSON body."""

    __slots__ = ()

    header_names: frozenset[str] = frozenset({"bfx-apikey", "bfx-nonce", "bfx-signature"})

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse what Bitfinex's authenticated API cannot take: non-POST, non-JSON bodies, no nonce."""
        if not with_nonce:
            raise BodyError("Bitfinex signs every authenticated call with a nonce; configure a nonce source")
        if out.method != "POST":
            raise BodyError(f"Bitfinex authenticated endpoints take POST with a JSON body, not {out.method}")
        kind = media_type(out.content_type)
        if kind is not None and kind != JSON_CONTENT_TYPE:
            raise BodyError(f"Bitfinex authenticated endpoints take a JSON body (json=...), not {kind}")
        if out.body and out.body.lstrip()[:1] not in (b"{", b"["):
            raise BodyError("Bitfinex authenticated endpoints take a JSON body (json=...); this body is not JSON")

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Sign ``/api`` + path + nonce + body (``{}`` for an empty body)."""
        text = _nonce_text(nonce)
        body = out.body or b"{}"
        signature = signer.sign(_signature_base(out.url, text, body))
        headers = {"bfx-nonce": text, "bfx-signature": signature}
        if key is not None:
            headers = {"bfx-nonce": text, "bfx-apikey": key, "bfx-signature": signature}
        content_type = JSON_CONTENT_TYPE if out.content_type is None else None
        return SignedRequest(out.url, body, headers, content_type, nonce)

    def __repr__(self) -> str:
        return "BitfinexScheme()"


class Bitfinex(HmacAuth):
    """Auth for Bitfinex API v2 authenticated endpoints.

    Send the parameters as JSON (``json={...}``, or no body for ``{}``).
    A stale nonce is answered with HTTP 500 (read for a nonce error, unlike
    other 5xx answers, which may mean the call ran).

    Args:
        key: the API key (``bfx-apikey`` header).
        secret: the API secret.
        nonce: a zero-argument callable returning an increasing int; by default
            the process-wide microsecond clock nonce of this key
            (``max(now_us, last + 1)``), as Bitfinex's own examples use
            (``Date.now() * 1000``).
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``ordered=False``, ``lease_timeout=`` or ``origin=``.

    """

    #: Statuses whose answers are read for a nonce error: the generic 200 and 4xx,
    #: plus 500, with which Bitfinex reports ``["error", 10114, "nonce: small"]``
    #: (that exact answer means the call was not executed).
    nonce_error_statuses: ClassVar[frozenset[int]] = frozenset({200, 500, *range(400, 500)})

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``BITFINEX_API_KEY`` and ``BITFINEX_API_SECRET``.
    env_prefix: ClassVar[str | None] = "BITFINEX"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        nonce: Callable[[], int] | None = None,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        for name in _FIXED:
            if name in options:
                raise ConfigurationError(f"Bitfinex fixes {name}; it cannot be changed")
        if "clock" in options:
            # The signature carries no timestamp: a clock here would do nothing.
            raise ConfigurationError(
                "Bitfinex signs no timestamp, so it takes no clock=; give the clock to the nonce source: "
                "nonce=ClockNonce(unit=..., clock=...)"
            )
        if nonce is None:
            nonce = ClockNonce.shared(key, unit="us")
        options.setdefault("nonce_error", bitfinex_nonce_error)
        super().__init__(
            BitfinexScheme(),
            key=key,
            secret=secret,
            algorithm="sha384",
            digest_encoding="hex",
            nonce=nonce,
            **options,
        )


class BitfinexVerifier:
    """Verify Bitfinex v2 authenticated requests as Bitfinex does (for tests and API providers).

    Args:
        secrets: API key -> API secret.

    """

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha384", digest_encoding="hex") for key, secret in secrets.items()
        }

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute ``bfx-signature`` from the path, the ``bfx-nonce`` header and the body as received."""
        key = header(headers, "bfx-apikey")
        signer = self._signers.get(key) if key is not None else None
        if signer is None:
            return Verdict(False, "unknown key", key)
        given = header(headers, "bfx-signature")
        if given is None:
            return Verdict(False, "missing bfx-signature", key)
        nonce = header(headers, "bfx-nonce")
        if nonce is None or not nonce.isascii() or not nonce.isdigit():
            return Verdict(False, "missing bfx-nonce", key)
        if not constant_time_equal(signer.sign(_signature_base(url, nonce, body)), given):
            return Verdict(False, "bad signature", key)
        return Verdict(True, "", key, int(nonce))

    def __repr__(self) -> str:
        return f"BitfinexVerifier(keys={len(self._signers)}, secret=***)"
