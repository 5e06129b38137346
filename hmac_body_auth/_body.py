"""Pure body handling: str to bytes, form checks and nonce-field injection.

Nothing here imports an HTTP client or does I/O on the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes, urlencode

from .errors import BodyEncodingError, BodyError, ConfigurationError

__all__ = [
    "FORM_CONTENT_TYPE",
    "add_form_field",
    "check_form",
    "encode_body",
    "form_body",
    "validate_body_encoding",
    "validate_field_name",
]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# Characters a form field name may use without percent-encoding (RFC 3986 unreserved).
_FIELD = re.compile(r"^[A-Za-z0-9_.~-]+$")
# A form value as this package writes it: the nonce's decimal digits or an unreserved token.
_VALUE = re.compile(r"^[A-Za-z0-9_.~-]+$")


def validate_body_encoding(encoding: object) -> str:
    """Return ``encoding`` if Python knows it as a text codec."""
    if not isinstance(encoding, str):
        raise ConfigurationError("body_encoding must be a codec name such as 'latin-1' or 'utf-8'")
    try:
        "".encode(encoding)
    except LookupError:
        raise ConfigurationError(f"body_encoding {encoding!r} is not a known codec") from None
    return encoding


def validate_field_name(name: object, *, argument: str) -> str:
    """Return ``name`` if it can be written into a form body without escaping."""
    if not isinstance(name, str) or not _FIELD.fullmatch(name):
        raise ConfigurationError(f"{argument} must be a non-empty form field name of letters, digits and _.~-")
    return name


def form_body(data: Mapping[Any, Any] | Iterable[tuple[Any, Any]]) -> bytes:
    """A dict or list of pairs as a form body, encoded as requests encodes ``data=``.

    ``str`` names and values are UTF-8, a list or tuple value repeats its field,
    ``None`` values are left out, anything else is ``str()``-ed.
    """
    items = data.items() if isinstance(data, Mapping) else data
    pairs: list[tuple[Any, Any]] = []
    try:
        for name, values in items:
            many = values if isinstance(values, (list, tuple)) else (values,)
            for value in many:
                if value is None:
                    continue
                pairs.append(
                    (
                        name.encode("utf-8") if isinstance(name, str) else name,
                        value.encode("utf-8") if isinstance(value, str) else value,
                    )
                )
    except (TypeError, ValueError):
        raise BodyError("a form body is a dict or a list of (name, value) pairs") from None
    return urlencode(pairs).encode("ascii")


def encode_body(body: str | bytes | bytearray | memoryview | None, encoding: str) -> bytes:
    """Return the bytes that go on the wire for ``body``.

    A ``str`` is encoded here, by the auth, so that the signed bytes and the sent
    bytes are the same object whatever the client or urllib3 version would do.
    """
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode(encoding)
        except UnicodeEncodeError as exc:
            raise BodyEncodingError(
                f"the str body has a character at position {exc.start} that {encoding} cannot encode; "
                "pass body_encoding='utf-8' (if the server decodes UTF-8) or send the body as bytes"
            ) from None
    raise BodyError(f"cannot sign a body of type {type(body).__name__}")


def media_type(content_type: str | None) -> str | None:
    """Return the lowercase media type of a Content-Type value, without parameters."""
    if content_type is None:
        return None
    # Every request of a client carries one of a few values: parse each once.
    kind = _MEDIA_TYPES.get(content_type)
    if kind is None:
        kind = content_type.split(";", 1)[0].strip().lower()
        if len(_MEDIA_TYPES) < 256:
            _MEDIA_TYPES[content_type] = kind
    return kind


_MEDIA_TYPES: dict[str, str] = {}


def check_form(body: bytes, content_type: str | None, field: str) -> None:
    """Refuse a body the nonce cannot be added to, or that already carries it."""
    kind = media_type(content_type)
    if kind is not None and kind != FORM_CONTENT_TYPE:
        raise BodyError(
            f"the nonce goes into a form body, but the body is {kind}; "
            "send the parameters as a form (data=dict) or configure the auth without a nonce"
        )
    if not body:
        return
    wanted = field.encode("ascii")
    if kind is not None and wanted not in body and b"%" not in body:
        # Field names are unreserved characters and unescaped names decode to
        # themselves (a "+" becomes a space, which no valid field has), so no
        # field can be the nonce field: skip the split, which copies the body.
        return
    for piece in body.split(b"&"):
        if not piece:
            continue
        name, sep, _ = piece.partition(b"=")
        if not sep and kind is None:
            raise BodyError(
                "the nonce goes into a form body, but the body does not look like a form "
                "(name=value pairs joined by &); send data=dict or set Content-Type"
            )
        if unquote_to_bytes(name.replace(b"+", b" ")) == wanted:
            raise BodyError(f"the body already has a {field!r} field; let the auth add the nonce")


def add_form_field(body: bytes, field: str, value: int | str) -> bytes:
    """Append ``field=value`` after the caller's fields, keeping their order and bytes."""
    if type(value) is int:
        # The common case, in one copy of the body (large bodies are copied once, not twice).
        if not body:
            return b"%s=%d" % (field.encode("ascii"), value)
        return b"%s%s%s=%d" % (body, b"" if body.endswith(b"&") else b"&", field.encode("ascii"), value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BodyError(f"the nonce source returned {type(value).__name__}; it must return an int or a str")
    text = str(value)
    if not _VALUE.fullmatch(text):
        raise BodyError("the nonce source returned a value that is not a plain token of letters and digits")
    pair = f"{field}={text}".encode("ascii")
    if not body:
        return pair
    if body.endswith(b"&"):
        return body + pair
    return body + b"&" + pair
