"""Gemini REST private API (``POST https://api.gemini.com/v1/...``).

Docs: https://docs.gemini.com/rest-api/#private-api-invocation (now
https://developer.gemini.com/authentication/api-key and
https://docs.gemini.com/websocket/overview/requests/private-api).

A private call is a POST whose parameters do not travel in the body: they form a
JSON payload ``{"request": "<path>", "nonce": <nonce>, ...parameters}`` that is
base64-encoded into the ``X-GEMINI-PAYLOAD`` header. The body is empty
(``Content-Length: 0``, ``Content-Type: text/plain``)::

    X-GEMINI-APIKEY    = key
    X-GEMINI-PAYLOAD   = base64(json payload)
    X-GEMINI-SIGNATURE = hex(HMAC-SHA384(secret, X-GEMINI-PAYLOAD))

The nonce must increase with every call of the key (the session); the docs
recommend millisecond or finer timestamps. The auth takes the parameters from a
JSON object body (``json={...}``), keeps their bytes, and moves them into the
payload after ``request`` and ``nonce``; the request goes out with an empty body.
Gemini answers a stale nonce with ``{"result": "error", "reason": "InvalidNonce"}``:
the call was not executed, so the auth re-signs once with a fresh nonce.
"""

from __future__ import annotations

import base64
import binascii
import json
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

__all__ = ["Gemini", "GeminiScheme", "GeminiVerifier", "gemini_nonce_error"]

_FIXED = ("algorithm", "digest_encoding", "secret_encoding")
_BODY_TYPES = frozenset({"application/json", "text/plain"})
_NONCE_REASONS = frozenset({"InvalidNonce", "BadNonce"})
_ERROR_MEMBERS = frozenset({"result", "reason", "message"})


def gemini_nonce_error(status: int, body: bytes) -> int | None:
    """Recognise ``{"result": "error", "reason": "InvalidNonce"}``: 0 (re-sign with a fresh nonce), else ``None``.

    Only an error status with exactly that answer counts: a JSON object (strict
    UTF-8, at most 64 KiB) of ``result`` ``"error"``, a nonce ``reason`` and
    optionally a string ``message``; never a 2xx or an order that echoes it.
    """
    if status < 400:
        return None
    answer = json_answer(body)
    if not isinstance(answer, dict) or not answer.keys() <= _ERROR_MEMBERS:
        return None
    reason, message = answer.get("reason"), answer.get("message", "")
    if answer.get("result") != "error" or not isinstance(reason, str) or not isinstance(message, str):
        return None
    return 0 if reason in _NONCE_REASONS else None


def _params(body: bytes) -> bytes:
    """The members of a JSON object body, as written (``b""`` for ``{}`` or no body)."""
    text = body.strip()
    if not text:
        return b""
    return text[1:-1].strip()


class GeminiScheme:
    """What Gemini signs: the base64 JSON payload that carries path, nonce and parameters."""

    __slots__ = ()

    header_names: frozenset[str] = frozenset(
        {"x-gemini-apikey", "x-gemini-payload", "x-gemini-signature", "cache-control"}
    )

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse what Gemini's private API cannot take: non-POST, a query string, non-object bodies."""
        if not with_nonce:
            raise BodyError("Gemini signs every private call with a nonce; configure a nonce source")
        if out.method != "POST":
            raise BodyError(f"Gemini private endpoints take POST, not {out.method}")
        if urlsplit(out.url).query:
            raise BodyError("Gemini takes parameters in the signed payload; pass them as json={...}, not params=")
        kind = media_type(out.content_type)
        if kind is not None and kind not in _BODY_TYPES:
            raise BodyError(f"Gemini takes parameters as a JSON object (json={{...}}), not {kind}")
        if not out.body.strip():
            return
        try:
            params = json.loads(out.body)
        except ValueError:
            raise BodyError("Gemini takes parameters as a JSON object (json={...}); this body is not JSON") from None
        if not isinstance(params, dict):
            raise BodyError("Gemini takes parameters as a JSON object (json={...}), not a JSON array or value")
        for name in ("request", "nonce"):
            if name in params:
                raise BodyError(f"the parameters already have {name!r}; the auth adds it")

    def payload(self, out: Outgoing, nonce: int | str) -> bytes:
        """The JSON payload: ``{"request": path, "nonce": nonce, ...parameters as written}``."""
        if isinstance(nonce, bool) or not isinstance(nonce, (int, str)):
            raise BodyError("Gemini needs an int (or str) nonce; the nonce source returned something else")
        # An int nonce is a JSON number, as in the docs' example; a str nonce a JSON string.
        head = '{"request":%s,"nonce":%s' % (json.dumps(urlsplit(out.url).path), json.dumps(nonce))  # noqa: UP031
        params = _params(out.body)
        return head.encode("utf-8") + (b"," + params if params else b"") + b"}"

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Move the parameters into the base64 payload header and sign it; the body goes out empty."""
        if nonce is None:
            raise BodyError("Gemini signs every private call with a nonce; configure a nonce source")
        encoded = base64.b64encode(self.payload(out, nonce))
        headers = {
            "X-GEMINI-PAYLOAD": encoded.decode("ascii"),
            "X-GEMINI-SIGNATURE": signer.sign(encoded),
            "Cache-Control": "no-cache",
        }
        if key is not None:
            headers = {"X-GEMINI-APIKEY": key, **headers}
        return SignedRequest(out.url, b"", headers, "text/plain", nonce)

    def __repr__(self) -> str:
        return "GeminiScheme()"


class Gemini(HmacAuth):
    """Auth for Gemini's REST private API.

    POST to the endpoint with the parameters as ``json={...}`` (or nothing);
    the auth moves them into the signed ``X-GEMINI-PAYLOAD`` header.

    Args:
        key: the API key (``X-GEMINI-APIKEY`` header).
        secret: the API secret.
        nonce: a zero-argument callable returning an increasing int; by default
            the process-wide millisecond clock nonce of this key
            (``max(now_ms, last + 1)``), as the docs recommend. Keys created with
            "Uses a time based nonce" need seconds within 30 s of the clock instead:
            pass ``nonce=ClockNonce(unit="s")`` and send at most one call a second.
        **options: any other :class:`~hmac_body_auth.HmacAuth` keyword, such as
            ``ordered=False``, ``lease_timeout=`` or ``origin=``.

    """

    #: :meth:`~hmac_body_auth.HmacAuth.from_env` reads ``GEMINI_API_KEY`` and ``GEMINI_API_SECRET``.
    env_prefix: ClassVar[str | None] = "GEMINI"

    def __init__(
        self,
        key: str,
        secret: str | bytes,
        *,
        nonce: Callable[[], int | str] | None = None,
        **options: Any,
    ) -> None:
        key = validate_key(key)
        for name in _FIXED:
            if name in options:
                raise ConfigurationError(f"Gemini fixes {name}; it cannot be changed")
        if "clock" in options:
            # The signature carries no timestamp: a clock here would do nothing.
            raise ConfigurationError(
                "Gemini signs no timestamp, so it takes no clock=; give the clock to the nonce source: "
                "nonce=ClockNonce(unit=..., clock=...)"
            )
        if nonce is None:
            nonce = ClockNonce.shared(key, unit="ms")
        options.setdefault("nonce_error", gemini_nonce_error)
        super().__init__(
            GeminiScheme(),
            key=key,
            secret=secret,
            algorithm="sha384",
            digest_encoding="hex",
            nonce=nonce,
            **options,
        )


class GeminiVerifier:
    """Verify Gemini private requests as Gemini does (for tests and API providers).

    Checks the signature over the ``X-GEMINI-PAYLOAD`` header as received, then
    that the payload is a JSON object whose ``request`` is the URL's path and
    which carries a nonce.

    Args:
        secrets: API key -> API secret.

    """

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
        self._signers = {
            key: Signer(secret, algorithm="sha384", digest_encoding="hex") for key, secret in secrets.items()
        }

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute ``X-GEMINI-SIGNATURE`` and check the payload's path and nonce."""
        key = header(headers, "X-GEMINI-APIKEY")
        signer = self._signers.get(key) if key is not None else None
        if signer is None:
            return Verdict(False, "unknown key", key)
        payload = header(headers, "X-GEMINI-PAYLOAD")
        given = header(headers, "X-GEMINI-SIGNATURE")
        if payload is None or given is None:
            return Verdict(False, "missing X-GEMINI-PAYLOAD or X-GEMINI-SIGNATURE", key)
        if not constant_time_equal(signer.sign(payload.encode("ascii", "replace")), given):
            return Verdict(False, "bad signature", key)
        try:
            fields = json.loads(base64.b64decode(payload, validate=True))
        except (binascii.Error, ValueError):
            return Verdict(False, "payload is not base64 JSON", key)
        if not isinstance(fields, dict):
            return Verdict(False, "payload is not a JSON object", key)
        if fields.get("request") != urlsplit(url).path:
            return Verdict(False, "payload request does not match the URL path", key)
        raw = fields.get("nonce")
        if isinstance(raw, str) and raw.isascii() and raw.isdigit():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            return Verdict(False, "missing nonce", key)
        return Verdict(True, "", key, raw)

    def __repr__(self) -> str:
        return f"GeminiVerifier(keys={len(self._signers)}, secret=***)"
