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
    "FormScan",
    "add_form_field",
    "check_form",
    "encode_body",
    "form_body",
    "form_suffix",
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
    if type(encoding) is str and encoding in _BUILTIN_CODECS:
        return encoding
    if not isinstance(encoding, str):
        raise ConfigurationError("body_encoding must be a codec name such as 'latin-1' or 'utf-8'")
    try:
        # Found through the codec registry (CPython caches its lookups; codecs.unregister clears that cache).
        "".encode(encoding)
    except LookupError:
        raise ConfigurationError(f"body_encoding {encoding!r} is not a known codec") from None
    return encoding


#: Spellings of the codecs ``str.encode`` runs by name, without the codec registry: always
#: known, so accepted without a trial encoding (an auth built per call checks its encoding).
#: Any other name is looked up each time, so a codec unregistered since is refused.
_BUILTIN_CODECS = frozenset(
    {
        *("latin-1", "latin1", "latin_1", "iso-8859-1", "iso8859-1", "iso_8859_1", "Latin-1", "ISO-8859-1"),
        *("utf-8", "utf8", "utf_8", "UTF-8", "UTF8", "ascii", "us-ascii", "ASCII"),
    }
)


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


def _form_kind(content_type: str | None) -> str | None:
    """The media type of a body a nonce may join (``None``: untyped); refuse any other."""
    kind = media_type(content_type)
    if kind is not None and kind != FORM_CONTENT_TYPE:
        raise BodyError(
            f"the nonce goes into a form body, but the body is {kind}; "
            "send the parameters as a form (data=dict) or configure the auth without a nonce"
        )
    return kind


def _not_a_form() -> BodyError:
    return BodyError(
        "the nonce goes into a form body, but the body does not look like a form "
        "(name=value pairs joined by &); send data=dict or set Content-Type"
    )


def _has_field(field: str) -> BodyError:
    return BodyError(f"the body already has a {field!r} field; let the auth add the nonce")


def check_form(body: bytes, content_type: str | None, field: str) -> None:
    """Refuse a body the nonce cannot be added to, or that already carries it."""
    # A form's Content-Type seen before costs one lookup; any other goes through _form_kind.
    kind = _MEDIA_TYPES.get(content_type) if content_type is not None else None
    if kind != FORM_CONTENT_TYPE:
        kind = _form_kind(content_type)
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
            raise _not_a_form()
        if unquote_to_bytes(name.replace(b"+", b" ")) == wanted:
            raise _has_field(field)


def add_form_field(body: bytes, field: str, value: int | str) -> bytes:
    """Append ``field=value`` after the caller's fields, keeping their order and bytes."""
    if type(value) is int:
        # The common case, in one copy of the body (large bodies are copied once, not twice).
        if not body:
            return b"%s=%d" % (field.encode("ascii"), value)
        return b"%s%s%s=%d" % (body, b"" if body.endswith(b"&") else b"&", field.encode("ascii"), value)
    pair = _pair(field, value)
    if not body:
        return pair
    if body.endswith(b"&"):
        return body + pair
    return body + b"&" + pair


def _pair(field: str, value: int | str) -> bytes:
    """``field=value`` as bytes, for a nonce value that is an int or a plain token."""
    if type(value) is int:
        return b"%s=%d" % (field.encode("ascii"), value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BodyError(f"the nonce source returned {type(value).__name__}; it must return an int or a str")
    text = str(value)
    if not _VALUE.fullmatch(text):
        raise BodyError("the nonce source returned a value that is not a plain token of letters and digits")
    return f"{field}={text}".encode("ascii")


def form_suffix(field: str, value: int | str, *, empty: bool, ends_with_amp: bool) -> bytes:
    """What :func:`add_form_field` appends to a body that is ``empty`` or ``ends_with_amp`` (or neither)."""
    pair = _pair(field, value)
    return pair if empty or ends_with_amp else b"&" + pair


# Every byte but the two that delimit form fields (deleted to see the fields' outline).
_NOT_DELIMITERS = bytes(b for b in range(256) if b not in b"&=")
# A non-empty field without "=" (after the "&" that starts it, before the "&" that ends it).
_NO_EQUALS = re.compile(rb"&[^&=]+(?=&)")


class FormScan:
    """:func:`check_form` for a body that arrives in chunks: the same refusals, of the same field.

    ``feed(buf, start, end)`` takes the next bytes (a slice of ``buf``, not
    copied), :meth:`finish` the end of the body; either raises the
    :class:`~hmac_body_auth.BodyError` :func:`check_form` raises for the whole
    body, for the first field it refuses. Only the fields that can be refused
    are looked at: a field named by the nonce field's name literally, or one
    whose name has a ``%`` (an escaped name), both found with ``bytes.find``;
    an untyped body (no Content-Type) also has each field checked for a ``=``,
    by the outline of its delimiters. A chunk just hashed is still in the CPU
    cache, so scanning it there costs a fraction of a separate pass over the body.
    """

    __slots__ = (
        "_bytes",
        "_eq",
        "_field",
        "_limit",
        "_name",
        "_nonempty",
        "_typed",
        "_wanted",
        "ends_with_amp",
        "size",
    )

    def __init__(self, content_type: str | None, field: str) -> None:
        self._typed = _form_kind(content_type) is not None
        self._field = field
        self._wanted = field.encode("ascii")
        # Its distinct bytes, those less frequent in text first (see _may_have_name).
        self._bytes = sorted({bytes([b]) for b in self._wanted}, key=lambda b: b.lower() in b"etaoin")
        # A name decodes to the field only if it is at most 3 bytes ("%6E") per byte of the field.
        self._limit = 3 * len(self._wanted)
        # The field being read: its name so far (None: too long to be the nonce field),
        # whether its "=" was seen (the name then checked), whether it has any byte.
        self._name: bytes | None = b""
        self._eq = False
        self._nonempty = False
        #: Bytes fed so far.
        self.size = 0
        #: Whether the bytes fed so far end with "&" (the nonce field then follows without one).
        self.ends_with_amp = False

    def feed(self, buf: bytes, start: int = 0, end: int | None = None) -> None:
        """Check ``buf[start:end]``, the next bytes of the body."""
        if end is None:
            end = len(buf)
        if start >= end:
            return
        self.size += end - start
        self.ends_with_amp = buf[end - 1] == 0x26
        first = buf.find(b"&", start, end)
        if first < 0:
            self._extend(buf, start, end)
            return
        self._extend(buf, start, first)
        self._field_done()
        last = buf.rfind(b"&", first, end)
        if last > first:
            self._fields(buf, first + 1, last)
        self._extend(buf, last + 1, end)

    def finish(self) -> None:
        """The body ended: check its last field."""
        if self.size:
            self._field_done()

    def _may_have_name(self, buf: bytes, start: int, end: int) -> bool:
        # Searching for a 5-byte name visits every 6th byte; looking for each of its
        # bytes alone is memchr, many times faster, and ends at the first one found.
        return all(buf.find(byte, start, end) >= 0 for byte in self._bytes)

    def _check_name(self, name: bytes) -> None:
        if unquote_to_bytes(name.replace(b"+", b" ")) == self._wanted:
            raise _has_field(self._field)

    def _extend(self, buf: bytes, start: int, end: int) -> None:
        # More bytes of the field being read (no "&" among them).
        if start >= end:
            return
        self._nonempty = True
        if self._eq:
            return
        eq = buf.find(b"=", start, end)
        stop = end if eq < 0 else eq
        name = self._name
        if name is not None:
            self._name = name + buf[start:stop] if len(name) + stop - start <= self._limit else None
        if eq >= 0:
            self._eq = True
            if self._name is not None:
                self._check_name(self._name)

    def _field_done(self) -> None:
        if self._nonempty and not self._eq:
            if not self._typed:
                raise _not_a_form()
            if self._name is not None:
                self._check_name(self._name)
        self._name = b""
        self._eq = False
        self._nonempty = False

    def _fields(self, buf: bytes, start: int, end: int) -> None:
        # Whole fields: buf[start - 1] and buf[end] are "&". Find the first refused one.
        first = end
        if not self._typed and b"&&" in buf[start - 1 : end + 1].translate(None, _NOT_DELIMITERS):
            # Two "&" with no "=" between them: an empty field, or one without "=".
            match = _NO_EQUALS.search(buf, start - 1, end + 1)
            if match is not None:
                first = match.start() + 1
        # The name alone, not "&" + name: "&" and "=" are frequent in a form and would
        # defeat bytes.find's skip table; a hit is a field's name if "&" is before it.
        wanted = self._wanted
        hit = buf.find(wanted, start, first) if self._may_have_name(buf, start, first) else -1
        while hit >= 0:
            after = hit + len(wanted)
            if buf[hit - 1] == 0x26 and (after == end or buf[after] in b"=&"):
                first = hit
                break
            hit = buf.find(wanted, hit + 1, first)
        percent = buf.find(b"%", start, first)
        while percent >= 0:
            begin = buf.rfind(b"&", start - 1, percent) + 1
            stop = buf.find(b"&", percent, end)
            stop = end if stop < 0 else stop
            eq = buf.find(b"=", begin, stop)
            name_end = stop if eq < 0 else eq
            if (
                percent < name_end
                and name_end - begin <= self._limit
                and unquote_to_bytes(buf[begin:name_end].replace(b"+", b" ")) == self._wanted
            ):
                first = begin
                break
            percent = buf.find(b"%", stop, first)
        if first < end:
            stop = buf.find(b"&", first, end)
            piece = buf[first : end if stop < 0 else stop]
            name, sep, _ = piece.partition(b"=")
            if not sep and not self._typed:
                raise _not_a_form()
            self._check_name(name)
            raise AssertionError("unreachable: a refused field was found")  # pragma: no cover
