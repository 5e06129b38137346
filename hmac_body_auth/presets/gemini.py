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
from collections.abc import Mapping
from typing import Any

from .._body import media_type
from .._core import Outgoing
from ..errors import BodyError, NonceError
from ..nonces import ClockNonce
from ..recipe import Codec, Header, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import json_answer

__all__ = ["Gemini", "GeminiVerifier", "gemini_nonce_error"]

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


def _payload(wire: Wire) -> str:
    """base64 of ``{"request": path, "nonce": nonce, ...parameters as written}`` (an int nonce is a JSON number)."""
    # An int nonce is a JSON number, as in the docs' example; a str nonce a JSON string.
    head = '{"request":%s,"nonce":%s' % (json.dumps(wire.path), json.dumps(wire.raw_nonce))  # noqa: UP031
    params = _params(wire.body)
    return base64.b64encode(head.encode("utf-8") + (b"," + params if params else b"") + b"}").decode("ascii")


def _nonce(nonce: object) -> str:
    if isinstance(nonce, bool) or not isinstance(nonce, (int, str)) or not str(nonce).isprintable():
        raise NonceError("Gemini needs an int (or str) nonce; the nonce source returned something else")
    return str(nonce)


def _read_payload(value: str) -> dict[str, str]:
    """The payload header as received, and the nonce inside it (when it has one)."""
    parts = {"payload": value}
    try:
        fields = json.loads(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return parts
    nonce = fields.get("nonce") if isinstance(fields, dict) else None
    if (type(nonce) is int and nonce >= 0) or (isinstance(nonce, str) and nonce.isascii() and nonce.isdigit()):
        parts["nonce"] = str(nonce)
    return parts


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
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


def _verify_payload(wire: Wire) -> str | None:
    """The payload must be a JSON object whose ``request`` is the URL's path and which carries a nonce."""
    try:
        fields = json.loads(base64.b64decode(wire.found["payload"], validate=True))
    except (binascii.Error, ValueError):
        return "payload is not base64 JSON"
    if not isinstance(fields, dict):
        return "payload is not a JSON object"
    if fields.get("request") != wire.path:
        return "payload request does not match the URL path"
    return None if "nonce" in wire.found else "missing nonce"


RECIPE = Recipe(
    name="gemini",
    title="Gemini",
    doc="https://docs.gemini.com/rest-api/#private-api-invocation",
    origin="https://api.gemini.com",
    env_prefix="GEMINI",
    algorithm="sha384",
    message="{payload}",
    parts={"payload": _payload},
    headers=(
        Header("X-GEMINI-APIKEY", "{key}"),
        Header("X-GEMINI-PAYLOAD", Codec(frozenset({"payload"}), lambda parts: parts["payload"], _read_payload)),
        Header("X-GEMINI-SIGNATURE", "{signature}"),
        Header("Cache-Control", "no-cache"),
    ),
    bodies=frozenset({"json-object"}),
    methods=frozenset({"POST"}),
    query=False,
    nonce=lambda key: ClockNonce.shared(key, unit="ms"),
    nonce_text=_nonce,
    nonce_error=gemini_nonce_error,
    moves_body="text/plain",
    check=_check,
    verify_check=_verify_payload,
)


class Gemini(RecipeAuth):
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

    recipe = RECIPE


class GeminiVerifier(RecipeVerifier):
    """Verify Gemini private requests as Gemini does (for tests and API providers).

    Checks the signature over the ``X-GEMINI-PAYLOAD`` header as received, then
    that the payload is a JSON object whose ``request`` is the URL's path and
    which carries a nonce.

    Args:
        secrets: API key -> API secret.

    """

    recipe = RECIPE
