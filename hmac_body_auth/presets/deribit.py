r"""Deribit API v2 over HTTP (``https://www.deribit.com/api/v2/...``), "Deribit Signature Credentials".

Docs: https://docs.deribit.com/#authentication (v2.1.1); vectors: the docs' shell recipe run as written, and ccxt
4.5.90 ``deribit.sign`` (spec: tests/vectors/generate_deribit.py); the official clients, deribit/deribit-api-clients
@7ae49f6, do not sign HTTP requests. ``sig`` (in ``Authorization``) is hex HMAC-SHA256 of
``ts\nnonce\nMETHOD\nURI\nbody\n``, ``URI`` the path and query as sent, ``ts`` Unix ms (valid 60 s); the nonce is
"single usage, user generated": random by default, so requests need no ordering. GET with a query, or a JSON-RPC
object POSTed (``POST /api/v2``; no implementation at hand signs a POST).

Clock sync (:data:`DERIBIT_CLOCK_SYNC`): no code for a stale ``ts`` is documented (https://docs.deribit.com/#rpc-error-codes);
a bad signature is 13009 ``"unauthorized"``, HTTP 401 (knowm/XChange#3783), shaped as in ccxt#9133. Every answer has
the server's receipt time ``usIn`` (µs), so, as for HitBTC, a 13009 is a clock refusal only when ``usIn`` shows ``ts``
more than 60 s away. Server time: ``GET /api/v2/public/get_time`` -> ``{"jsonrpc": "2.0", "result": <ms>}``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._clocksync import ClockSync, TimestampRejection, milliseconds_ns
from .._core import Outgoing
from ..errors import BodyError, ConfigurationError, NonceError
from ..recipe import MILLISECONDS, Codec, Header, Option, Recipe, RecipeAuth, RecipeVerifier, boolean
from ._answers import json_answer

__all__ = ["DERIBIT_CLOCK_SYNC", "Deribit", "DeribitVerifier", "deribit_nonce"]

_WINDOW_MS = 60_000
_FIELDS = {"id": "key", "ts": "timestamp", "sig": "signature", "nonce": "nonce"}


def deribit_nonce() -> str:
    """A fresh nonce: 16 random lowercase hex characters (the docs use 8 random ``[a-z0-9]``)."""
    return secrets.token_hex(8)


def _text(value: object, what: str) -> str:
    """Visible ASCII without ``,`` (which separates the header's fields)."""
    if isinstance(value, str) and value and value.isascii() and value.isprintable() and not set(value) & {" ", ","}:
        return value
    raise (NonceError if what == "nonce" else ConfigurationError)(f"a Deribit {what} is visible ASCII without ','")


def _key_check(key: str) -> None:
    _text(key, "key")


def _format(parts: Mapping[str, str]) -> str:
    """``deri-hmac-sha256 id=..,ts=..,sig=..,nonce=..`` (the docs' text order, as ccxt sends it)."""
    return "deri-hmac-sha256 " + ",".join(f"{field}={parts[part]}" for field, part in _FIELDS.items())


def _parse(value: str) -> dict[str, str] | None:
    """The four fields in any order, with optional spaces after the commas (the docs write both)."""
    scheme, _, fields = value.partition(" ")
    if scheme != "deri-hmac-sha256":
        raise ValueError("Authorization is not deri-hmac-sha256")
    found: dict[str, str] = {}
    for pair in fields.split(","):
        name, eq, text = pair.strip().partition("=")
        if not eq or name not in _FIELDS or _FIELDS[name] in found or not text:
            return None
        found[_FIELDS[name]] = text
    return found if len(found) == len(_FIELDS) else None


def _check(out: Outgoing, options: Mapping[str, Any]) -> None:
    if options["testnet"] and urlsplit(out.url).hostname != "test.deribit.com":
        raise BodyError("testnet=True signs for https://test.deribit.com only (its keys are not production's)")


def _timestamp_rejection(status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
    """A 13009 (HTTP 401) whose ``usIn`` is more than 60 s from ``signed_ms``; anything else is ``None``."""
    answer = json_answer(body) if status == 401 else None
    if signed_ms is None or not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0" or "result" in answer:
        return None
    error, received_us = answer.get("error"), answer.get("usIn")
    if not isinstance(error, dict) or type(error.get("code")) is not int or error.get("code") != 13009:
        return None
    if error.get("message") != "unauthorized" or type(received_us) is not int or received_us <= 0:
        return None
    return TimestampRejection(received_us * 1000) if abs(received_us // 1000 - signed_ms) > _WINDOW_MS else None


def _server_time(body: bytes) -> int | None:
    """``GET /api/v2/public/get_time``: ``result`` (an int of Unix ms) in nanoseconds, or ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0" or "error" in answer:
        return None
    result = answer.get("result")
    return milliseconds_ns(result) if type(result) is int else None


DERIBIT_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({401}),
    time_path="/api/v2/public/get_time",
    server_time=_server_time,
    window_ms=_WINDOW_MS,
    doc="https://docs.deribit.com/#rpc-error-codes",
)
"""Deribit's clock-sync recipe: 13009 (HTTP 401) with ``usIn`` 60 s off, and ``GET /api/v2/public/get_time``."""

RECIPE = Recipe(
    name="deribit",
    title="Deribit",
    doc="https://docs.deribit.com/#authentication",
    origin="https://www.deribit.com",
    env_prefix="DERIBIT",
    message="{timestamp}\n{nonce}\n{method}\n{path_query}\n{body}\n",
    headers=(Header("Authorization", Codec(frozenset(_FIELDS.values()), _format, _parse)),),
    bodies=frozenset({"json-object"}),
    methods=frozenset({"GET", "POST"}),
    timestamp=MILLISECONDS,
    nonce=lambda key: deribit_nonce,
    nonce_text=lambda nonce: _text(nonce, "nonce"),
    ordered=False,
    key_check=_key_check,
    options=(Option("testnet", False, boolean("testnet")),),
    check=_check,
    clock_sync=lambda options: DERIBIT_CLOCK_SYNC,
)


class Deribit(RecipeAuth):
    """Deribit API v2 auth: ``Deribit(client_id, secret)``; GET ``params=``, POST ``json=``; docs/presets.md#deribit."""

    recipe = RECIPE


class DeribitVerifier(RecipeVerifier):
    """Verify ``deri-hmac-sha256`` requests (fields in any order); a ReplayGuard refuses a nonce seen before."""

    recipe = RECIPE
