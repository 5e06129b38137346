"""Kraken spot REST private endpoints (``POST https://api.kraken.com/0/private/<Method>``).

Docs: https://docs.kraken.com/api/docs/guides/spot-rest-auth (also served as
https://docs.kraken.com/exchange/guides/rest/authentication).

Each private call is a form-encoded POST whose body carries ``nonce``, an
unsigned 64-bit integer that must increase with every call of the key. The
``API-Key`` header carries the key and ``API-Sign`` the signature::

    API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + postdata)))

where ``uri_path`` is the path starting at ``/0/private`` and ``postdata`` the
exact form body, nonce included. The auth puts ``nonce=N`` first in the body (as
the documented example and most clients do), so the signature covers exactly
the bytes that go on the wire. A stale nonce is answered with
``{"error": ["EAPI:Invalid nonce"]}``: the call was not executed, so the auth
re-signs once with a fresh nonce.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .._auth import HmacAuth
from .._body import FORM_CONTENT_TYPE, check_form, media_type
from .._core import Outgoing, SignedRequest
from .._signing import Signer, validate_key
from ..errors import BodyError, ConfigurationError
from ..nonces import ClockNonce
from ..verify import Verdict, constant_time_equal, form_field, header
from ._answers import json_answer

__all__ = ["Kraken", "KrakenScheme", "KrakenVerifier", "kraken_nonce_error"]

_FIXED = ("algorithm", "digest_encoding", "secret_encoding")
_NONCE_ERROR = "EAPI:Invalid nonce"


def kraken_nonce_error(status: int, body: bytes) -> int | None:
    """Recognise Kraken's ``{"error": ["EAPI:Invalid nonce"]}`` answer: 0 (re-sign with a fresh nonce), else ``None``.

    Kraken answers it with HTTP 200, so only that shape counts: a JSON object
    (strict UTF-8, at most 64 KiB) with nothing but an ``error`` list of strings
    holding exactly that code and an absent, empty or null ``result``. A result
    that merely mentions the code (an order description, say) was executed.
    Kraken does not say which nonce it last saw, so there is no floor to raise.
    """
    answer = json_answer(body, needle=_NONCE_ERROR.encode())
    if not isinstance(answer, dict) or not answer.keys() <= {"error", "result"}:
        return None
    errors, result = answer.get("error"), answer.get("result")
    if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors) or _NONCE_ERROR not in errors:
        return None
    return 0 if result is None or result == {} else None


def _nonce_text(nonce: int | str | None) -> str:
    text = str(nonce) if nonce is not None else ""
    if isinstance(nonce, bool) or not text.isascii() or not text.isdigit():
        raise BodyError("Kraken needs an unsigned integer nonce; the nonce source returned something else")
    return text


def _signature_base(path: str, nonce: str, body: bytes) -> bytes:
    """``uri_path + SHA256(nonce + postdata)``: the bytes Kraken's HMAC covers."""
    return path.encode("utf-8") + hashlib.sha256(nonce.encode("ascii") + body).digest()


class KrakenScheme:
    """What Kraken signs: the URI path and a SHA-256 of the nonce and the exact form body."""

    __slots__ = ()

    header_names: frozenset[str] = frozenset({"api-key", "api-sign"})

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse what Kraken's private API cannot take: non-POST, JSON bodies, a query string, no nonce."""
        if not with_nonce:
            raise BodyError("Kraken signs every private call with a nonce; configure a nonce source")
        if out.method != "POST":
            raise BodyError(f"Kraken private endpoints take POST with a form body, not {out.method}")
        if urlsplit(out.url).query:
            raise BodyError("Kraken signs the path and the form body only; send the parameters as data=, not params=")
        kind = media_type(out.content_type)
        if kind is not None and kind != FORM_CONTENT_TYPE:
            raise BodyError(f"Kraken private endpoints take a form body (data=dict), not {kind}")
        check_form(out.body, out.content_type, "nonce")

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Put ``nonce=N`` first in the form body and sign path + SHA256(nonce + body)."""
        text = _nonce_text(nonce)
        head = b"nonce=" + text.encode("ascii")
        body = head + b"&" + out.body if out.body else head
        signature = signer.sign(_signature_base(urlsplit(out.url).path, text, body))
        headers = {"API-Sign": signature} if key is None else {"API-Key": key, "API-Sign": signature}
        content_type = FORM_CONTENT_TYPE if out.content_type is None else None
        return SignedRequest(out.url, body, headers, content_type, nonce)

    def __repr__(self) -> str:
        return "KrakenScheme()"


class Kraken(HmacAuth):
    """Auth for Kraken's spot REST private endpoints.

    Use it as ``auth=`` with requests or httpx and send the parameters as a
    form (``data={"pair": "XBTUSD", ...}``); the auth adds the nonce.

    Args:
        key: the API key (``API-Key`` header).
        secret: the private key, base64 as Kraken shows it.
        nonce: a zero-argument callable returning an increasing int; by default
            the process-wide millisecond clock nonce of this key
            (``max(now_ms, last + 1)``), shared by every auth object of the key.
            Milliseconds are what Kraken's example and most clients use, so a key
            can move between them and this package.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``ordered=False``, ``lease_timeout=`` or ``origin=``.

    """

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``KRAKEN_API_KEY`` and ``KRAKEN_API_SECRET``.
    env_prefix: ClassVar[str | None] = "KRAKEN"

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
                raise ConfigurationError(f"Kraken fixes {name}; it cannot be changed")
        if "clock" in options:
            # The signature carries no timestamp: a clock here would do nothing.
            raise ConfigurationError(
                "Kraken signs no timestamp, so it takes no clock=; give the clock to the nonce source: "
                "nonce=ClockNonce(unit=..., clock=...)"
            )
        if nonce is None:
            nonce = ClockNonce.shared(key, unit="ms")
        options.setdefault("nonce_error", kraken_nonce_error)
        super().__init__(
            KrakenScheme(),
            key=key,
            secret=secret,
            algorithm="sha512",
            digest_encoding="base64",
            secret_encoding="base64",
            nonce=nonce,
            **options,
        )


class KrakenVerifier:
    """Verify Kraken-signed requests as Kraken does (for tests and API providers).

    Args:
        secrets: API key -> private key (base64).

    """

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha512", digest_encoding="base64", secret_encoding="base64")
            for key, secret in secrets.items()
        }

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute ``API-Sign`` from the path and the body as received."""
        key = header(headers, "API-Key")
        signer = self._signers.get(key) if key is not None else None
        if signer is None:
            return Verdict(False, "unknown key", key)
        given = header(headers, "API-Sign")
        if given is None:
            return Verdict(False, "missing API-Sign", key)
        nonce = form_field(body, "nonce")
        if nonce is None or not nonce.isascii() or not nonce.isdigit():
            return Verdict(False, "missing nonce", key)
        expected = signer.sign(_signature_base(urlsplit(url).path, nonce, body))
        if not constant_time_equal(expected, given):
            return Verdict(False, "bad signature", key)
        return Verdict(True, "", key, int(nonce))

    def __repr__(self) -> str:
        return f"KrakenVerifier(keys={len(self._signers)}, secret=***)"
