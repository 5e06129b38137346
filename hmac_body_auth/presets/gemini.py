"""Gemini REST private API (``POST https://api.gemini.com/v1/...``).

Docs: https://docs.gemini.com/rest-api/#private-api-invocation (now https://developer.gemini.com/authentication/api-key,
https://docs.gemini.com/websocket/overview/requests/private-api); vectors: the docs' example and ccxt
(tests/vectors/generate_gemini.py). The JSON object body's members, as written, go after ``request`` (the path) and
``nonce`` (increasing per key) into a payload sent as ``X-GEMINI-PAYLOAD = base64(payload)``, with ``X-GEMINI-APIKEY``
and ``X-GEMINI-SIGNATURE = hex(HMAC-SHA384(secret, X-GEMINI-PAYLOAD))``; the body goes out empty (``text/plain``).
A stale nonce, ``{"result": "error", "reason": "InvalidNonce"}``, was not executed: it is re-signed once.
"""

from __future__ import annotations

import base64
import json

from .._body import media_type
from .._core import Outgoing
from ..errors import BodyError, NonceError
from ..nonces import ClockNonce
from ..recipe import Codec, Header, Recipe, RecipeAuth, RecipeVerifier, Wire, json_value
from ._answers import json_answer

__all__ = ["Gemini", "GeminiVerifier", "gemini_nonce_error"]


def gemini_nonce_error(status: int, body: bytes) -> int | None:
    """0 (re-sign) for an error status and exactly ``{"result": "error", "reason": "InvalidNonce"}``, else ``None``.

    The reason may also be ``BadNonce``; a string ``message`` may be added, nothing else.
    """
    answer = json_answer(body) if status >= 400 else None
    if not isinstance(answer, dict) or answer.keys() - {"result", "reason", "message"}:
        return None
    ok = answer.get("result") == "error" and isinstance(answer.get("message", ""), str)
    return 0 if ok and answer.get("reason") in ("InvalidNonce", "BadNonce") else None


def _payload(wire: Wire) -> str:
    """base64 of ``{"request": path, "nonce": nonce, ...parameters as written}`` (an int nonce is a JSON number)."""
    head = f'{{"request":{json.dumps(wire.path)},"nonce":{json.dumps(wire.raw_nonce)}'.encode()
    params = wire.body.strip()[1:-1].strip()  # the members of the JSON object body (none for {} or no body)
    return base64.b64encode(head + (b"," + params if params else b"") + b"}").decode("ascii")


def _nonce(nonce: object) -> str:
    if isinstance(nonce, bool) or not isinstance(nonce, (int, str)) or not str(nonce).isprintable():
        raise NonceError("Gemini needs an int (or str) nonce; the nonce source returned something else")
    return str(nonce)


def _read_payload(value: str) -> dict[str, str]:
    """The payload header as received, and the nonce inside it (when it has one)."""
    try:
        fields = json.loads(base64.b64decode(value, validate=True))
    except ValueError:  # binascii.Error is one
        fields = None
    nonce = fields.get("nonce") if isinstance(fields, dict) else None
    ok = (type(nonce) is int and nonce >= 0) or (isinstance(nonce, str) and nonce.isascii() and nonce.isdigit())
    return {"payload": value, "nonce": str(nonce)} if ok else {"payload": value}


def _check(out: Outgoing, options: object) -> None:
    kind = media_type(out.content_type)
    if kind is not None and kind not in ("application/json", "text/plain"):
        raise BodyError(f"Gemini takes parameters as a JSON object (json={{...}}), not {kind}")
    try:
        params = json_value(out.body) if out.body.strip() else {}
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
    except ValueError:
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
    """Gemini private API auth: ``Gemini(key, secret)``, POST ``json={...}`` or nothing; docs/presets.md#gemini."""

    recipe = RECIPE


class GeminiVerifier(RecipeVerifier):
    """Verify Gemini requests: the signature of ``X-GEMINI-PAYLOAD``, its ``request`` (the path) and nonce."""

    recipe = RECIPE
