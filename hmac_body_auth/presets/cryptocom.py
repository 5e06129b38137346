"""Crypto.com Exchange API v1, private REST methods (``POST https://api.crypto.com/exchange/v1/{method}``).

Docs: https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature ("Digital Signature", "Request
Format"), with its JS/Python/Java examples and crypto-com/cdcx-cli ``crates/cdcx-core/src/signing.rs`` at d8ddc06;
vectors: ccxt 4.5.90 (spec and the implementations' disagreements: tests/vectors/generate_cryptocom.py). Everything
travels in the JSON body ``{"id", "method", "params", "api_key", "sig", "nonce"}``: ``sig`` is hex HMAC-SHA256 of
``method + id + api_key + params string + nonce`` (keys sorted, each followed by its value), ``nonce`` Unix ms
(+-60 s), ``method`` the URL path after ``/exchange/v1/``. Values must be strings ("All numbers must be strings"):
others, whose text the implementations disagree on, are refused before anything is sent.

Clock sync (:data:`CRYPTOCOM_CLOCK_SYNC`): HTTP 400, code ``40102`` "INVALID_NONCE: Nonce value differs by more
than 60 seconds" (docs, "Response and Reason Codes"), in the per-method examples' error shape ``{"id", "method",
"code", "message"}`` (``code`` a string there, an int in "Response Format"). v1 has no time endpoint: ``Date`` is read.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii
from typing import Any
from urllib.parse import urlsplit

from .._clocksync import ClockSync, TimestampRejection
from .._core import Outgoing
from ..errors import BodyError, ConfigurationError
from ..recipe import MILLISECONDS, Envelope, Option, Recipe, RecipeAuth, RecipeVerifier, Wire, boolean
from ._answers import _unique_members, json_answer

__all__ = ["CRYPTOCOM_CLOCK_SYNC", "CryptoCom", "CryptoComVerifier", "cryptocom_param_string"]

_NOT_JSON = "Crypto.com takes the params as a JSON object (json={...}); this body is not JSON (in UTF-8)"
_METHOD = re.compile(r"/exchange/v1/(private/[A-Za-z0-9_/-]+)")


def cryptocom_param_string(params: object) -> str:
    """The docs' parameter string of ``params``; ``ValueError`` for a value whose text is not agreed."""
    if not isinstance(params, dict):
        raise ValueError("params must be a JSON object")
    try:
        # Every value a string (the usual order): name + value, in name order, in one pass.
        return "".join([name + params[name] for name in sorted(params)])
    except TypeError:
        pass  # a list, an object or a value that is not agreed: the checks below
    text = []
    for name in sorted(params):
        value = params[name]
        items = value if isinstance(value, list) else [value]
        if not isinstance(value, (str, list)) or not all(
            isinstance(item, str) or (isinstance(item, dict) and all(isinstance(v, str) for v in item.values()))
            for item in items
        ):
            raise ValueError(f"parameter {name!r} must be a string, or a list of strings or of objects of strings")
        text.append(name + "".join(i if isinstance(i, str) else "".join(k + i[k] for k in sorted(i)) for i in items))
    return "".join(text)


#: A duplicate member reads two ways: refused.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_members)


def _json(body: bytes) -> Any:
    """``json.loads(body)``, duplicate members refused; a UTF-8 body is parsed without guessing its encoding."""
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except ValueError:  # not UTF-8 (json.loads also reads UTF-16 and -32), or not JSON: its own answer
        return json.loads(body, object_pairs_hook=_unique_members)


def _carried_json(body: bytes) -> Any:
    """The JSON value of a caller's body, which the request object carries byte for byte: UTF-8 only.

    The object is written around those bytes, so a body in UTF-16 or -32, or with a
    byte order mark, would make it no JSON at all: such a body is refused.
    """
    return _DECODER.decode(body.decode("utf-8"))


class _NotJson(ValueError):
    """The body is not JSON (a ValueError of the param string is about the values)."""


@functools.lru_cache(maxsize=64)
def _cached_params_text(body: bytes) -> str:
    try:
        given = _carried_json(body)
    except ValueError:
        raise _NotJson from None
    return cryptocom_param_string(given)


def _params_text(body: bytes) -> str:
    """The parameter string of a params body; remembered for small ones (check and sign read the same bytes)."""
    return _cached_params_text(body) if len(body) <= 16384 else _cached_params_text.__wrapped__(body)


def _quoted(value: object) -> bytes:
    """``json.dumps(value)`` as bytes (a string, the usual value, without the encoder's layers)."""
    text = encode_basestring_ascii(value) if type(value) is str else json.dumps(value)
    return text.encode("ascii")


def _text(value: object) -> str:
    """``id`` and ``nonce`` as signed: the decimal text of a JSON number or string of digits."""
    if (type(value) is int and value >= 0) or (isinstance(value, str) and value.isascii() and value.isdigit()):
        return str(value)
    raise ValueError("id and nonce must be unsigned integers")


def _message(wire: Wire) -> bytes:
    """``method + id + api_key + params string + nonce``, read from the request object (as signed or received)."""
    request = _json(wire.body)
    try:
        parts = [request["method"], _text(request["id"]), request["api_key"], cryptocom_param_string(request["params"])]
        parts.append(_text(request["nonce"]))
    except (KeyError, TypeError):
        raise ValueError("not a request object") from None
    if not all(isinstance(part, str) for part in parts):
        raise ValueError("method and api_key must be strings")
    return "".join(parts).encode("utf-8")


def _signing_message(wire: Wire) -> bytes | None:
    """:func:`_message` of ``_wrap(wire, None)``, from the caller's body alone (``None``: not a plain UTF-8 one).

    The request object is not written and parsed back: the caller's body is parsed
    once (its params are a JSON value, read the same alone as inside the object).
    """
    body = wire.body.strip()
    options = wire.options
    try:
        if options["envelope"] == "fill":
            given = _carried_json(body)
            method, request_id, params = given["method"], given["id"], cryptocom_param_string(given["params"])
        else:
            method = _METHOD.fullmatch(wire.path)[1]  # type: ignore[index]  # check() matched it
            request_id = wire.timestamp if options["id"] == "nonce" else options["id"]
            params = _params_text(wire.body if body else b"{}")  # as check() read it
        parts = [method, _text(request_id), wire.key, params, _text(wire.timestamp)]
    except (ValueError, KeyError, TypeError):
        return None  # whatever _message says of the body as signed
    if not all(type(part) is str for part in parts):
        return None
    return "".join(parts).encode("utf-8")


def _wrap(wire: Wire, signature: str | None) -> bytes:
    """The request object: the caller's params wrapped (ccxt's member order), or the caller's object filled in."""
    stamp, key = _quoted(wire.timestamp), _quoted(wire.key)
    sig = b',"sig":' + _quoted(signature) if signature is not None else b""
    if wire.options["envelope"] == "fill":
        return wire.body.strip()[:-1].rstrip() + b',"api_key":' + key + b',"nonce":' + stamp + sig + b"}"
    request_id = stamp if wire.options["id"] == "nonce" else str(wire.options["id"]).encode()
    method = _quoted(_METHOD.fullmatch(wire.path)[1])  # type: ignore[index]  # check() matched it
    head = b'{"id":%b,"method":%b,"params":%b' % (request_id, method, wire.body.strip() or b"{}")
    return head + b',"api_key":' + key + sig + b',"nonce":' + stamp + b"}"


def _unwrap(body: bytes) -> dict[str, str]:
    try:
        request = _json(body)
    except ValueError:
        raise ValueError("the body is not a JSON request object") from None
    if not isinstance(request, dict) or not isinstance(request.get("api_key"), str):
        raise ValueError("missing api_key")
    if request.keys() - {"id", "method", "params", "api_key", "sig", "nonce"}:
        raise ValueError("the request object has a member that is not signed")
    if not isinstance(request.get("sig"), str):
        raise ValueError("missing sig")
    return {"key": request["api_key"], "signature": request["sig"], "timestamp": _text(request.get("nonce"))}


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    url = urlsplit(out.url)
    method = _METHOD.fullmatch(url.path)
    if method is None:
        raise BodyError("Crypto.com private methods are POSTed to /exchange/v1/private/...")
    if options["demo"] and url.hostname != "uat-api.3ona.co":
        raise BodyError("demo=True signs for the UAT sandbox (https://uat-api.3ona.co) only")
    given_body = out.body if out.body.strip() else b"{}"
    if options["envelope"] != "fill":
        try:
            _params_text(given_body)  # remembered: sign() reads the same bytes
        except _NotJson:
            raise BodyError(_NOT_JSON) from None
        except ValueError as exc:
            raise BodyError(f"Crypto.com: {exc}") from None
        return
    try:
        given = _carried_json(given_body)
    except ValueError:
        raise BodyError(_NOT_JSON) from None
    try:
        if not isinstance(given, dict) or given.keys() != {"id", "method", "params"}:
            raise ValueError('envelope="fill" takes a body of exactly "id", "method" and "params"')
        _text(given["id"])
        if given["method"] != method[1]:
            raise ValueError("the body's method is not the URL's")
        cryptocom_param_string(given["params"])
    except ValueError as exc:
        raise BodyError(f"Crypto.com: {exc}") from None


def _verify_method(wire: Wire) -> str | None:
    """The method signed must be the one the URL calls."""
    method = _METHOD.fullmatch(wire.path)
    return None if method is not None and _json(wire.body).get("method") == method[1] else "method is not the URL's"


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """Code 40102 (an int or its string), HTTP 400, in the documented error shape; anything else is ``None``."""
    answer = json_answer(body) if status == 400 else None
    if not isinstance(answer, dict) or answer.keys() - {"id", "method", "code", "message", "original"}:
        return None
    if type(answer.get("code")) not in (int, str) or answer.get("code") not in (40102, "40102"):
        return None
    ok = all(isinstance(answer.get(name, ""), str) for name in ("method", "message", "original"))
    return TimestampRejection(None) if ok else None


CRYPTOCOM_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({400}),
    window_ms=60_000,
    doc="https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#response-and-reason-codes",
)
"""Crypto.com's clock-sync recipe: code 40102 (HTTP 400), the ``Date`` header (no time endpoint); +-60 s."""


def _request_id(value: object) -> str | int:
    if value == "nonce" or (type(value) is int and 0 <= value < 2**63):
        return value
    raise ConfigurationError('id must be "nonce" (the nonce\'s text, as ccxt) or an int from 0 to 2**63 - 1')


def _envelope(value: object) -> str:
    if value not in ("params", "fill"):
        raise ConfigurationError('envelope must be "params" (the body is the params) or "fill" (id, method, params)')
    return str(value)


def _options_check(options: Mapping[str, Any]) -> None:
    if options["envelope"] == "fill" and options["id"] != "nonce":
        raise ConfigurationError('envelope="fill" takes the id from the body: give no id=')


RECIPE = Recipe(
    name="cryptocom",
    title="Crypto.com",
    doc="https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#digital-signature",
    origin="https://api.crypto.com",
    env_prefix="CRYPTOCOM",
    message=_message,
    headers=(),
    envelope=Envelope({"key": "api_key", "signature": "sig", "timestamp": "nonce"}, _wrap, _unwrap, _signing_message),
    bodies=frozenset({"json-object"}),
    methods=frozenset({"POST"}),
    query=False,
    timestamp=MILLISECONDS,
    options=(
        Option("id", "nonce", _request_id),
        Option("envelope", "params", _envelope),
        Option("demo", False, boolean("demo")),
    ),
    options_check=_options_check,
    check=_check,
    verify_check=_verify_method,
    clock_sync=lambda options: CRYPTOCOM_CLOCK_SYNC,
)


class CryptoCom(RecipeAuth):
    """Crypto.com Exchange v1 auth: ``CryptoCom(key, secret)``, POST the params as ``json={...}``.

    Options (``id``, ``envelope="fill"``, ``demo``, ``clock``): see docs/presets.md#cryptocom.
    """

    recipe = RECIPE


class CryptoComVerifier(RecipeVerifier):
    """Verify Crypto.com v1 request objects (``api_key``, ``nonce``, ``sig``); a ReplayGuard keeps the 60 s window."""

    recipe = RECIPE
