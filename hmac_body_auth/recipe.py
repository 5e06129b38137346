"""Recipes: what one API signs, stated as data, with signing and verifying both derived from it.

A :class:`Recipe` says, for one API: the HMAC (algorithm, digest and secret
encodings), the message (a template of named parts such as ``{timestamp}``,
``{method}``, ``{path_query}`` and ``{body}``, or a small function where a
template cannot say it), where the nonce, the timestamp and the signature go
(:class:`Header` templates and :class:`Field` parameters of the body or query),
the bodies it accepts, its answers that mean "not executed" and its options.

:class:`RecipeScheme` signs with it (a :class:`~hmac_body_auth.Scheme`),
:class:`RecipeVerifier` verifies with it (a :class:`~hmac_body_auth.verify.Verifier`)
and :class:`RecipeAuth` is the base of every preset's auth class. Because both
sides read the same templates, they cannot drift: a message part, header or field
is declared once. Nothing here imports an HTTP client.
"""

from __future__ import annotations

import calendar
import functools
import hmac
import inspect
import json
import operator
import re
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, Literal, NamedTuple
from urllib.parse import SplitResult, unquote, unquote_to_bytes, urlsplit

from ._auth import HmacAuth
from ._body import FORM_CONTENT_TYPE, check_form, media_type
from ._clocksync import ClockSync
from ._core import BodyDigestScheme, Outgoing, SignedRequest
from ._lifecycle import NonceErrorParser, PolicyTemplate
from ._signing import DigestEncoding, SecretEncoding, Signer, validate_key
from .errors import BodyError, ConfigurationError, NonceError
from .verify import MAX_DIGITS, Verdict, ascii_int, form_field, header

# Verdict is part of what a recipe module works with (a verifier that adds a check returns one).

__all__ = [
    "ISO_MILLISECONDS",
    "ISO_SECONDS",
    "MILLISECONDS",
    "SECONDS",
    "Codec",
    "Envelope",
    "Field",
    "Header",
    "Option",
    "Recipe",
    "RecipeAuth",
    "RecipeScheme",
    "RecipeVerifier",
    "TimeFormat",
    "Verdict",
    "Wire",
]

JSON_CONTENT_TYPE = "application/json"
_BODILESS = frozenset({"GET", "HEAD"})
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# Printable ASCII without leading or trailing space: a header value that goes out unchanged.
_HEADER_TEXT = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z$")
_ISO_SECONDS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})", re.ASCII)
_DECIMAL_SECONDS = re.compile(r"^([0-9]{1,12})(?:\.([0-9]{1,9}))?$")

BodyKind = Literal["form", "json", "json-object", "any"]
# Template parts whose value is a credential, a signature or the request's content (Gemini's payload).
_SECRET_PARTS = frozenset({"key", "signature", "passphrase", "payload", "body", "params"})


# -- time formats ------------------------------------------------------------------------------


class TimeFormat(NamedTuple):
    """How a timestamp is written: ``format(unix_ms) -> text`` and its inverse ``parse(text) -> unix_ms | None``."""

    format: Callable[[int], str]
    parse: Callable[[str], int | None]


def _parse_ms(text: str) -> int | None:
    return ascii_int(text, max_digits=16)


def _parse_seconds(text: str) -> int | None:
    match = _DECIMAL_SECONDS.fullmatch(text)
    if match is None:
        return None
    return int(match[1]) * 1000 + int((match[2] or "").ljust(3, "0")[:3])


@functools.lru_cache(maxsize=4)
def _iso_second(seconds: int) -> str:
    # Requests in the same second share the formatting of it (gmtime + strftime: most of the cost).
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _format_iso(ms: int) -> str:
    seconds, millis = divmod(int(ms), 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


def _parse_iso(text: str) -> int | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, millis = (int(g) for g in match.groups())
    try:
        return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) * 1000 + millis
    except (ValueError, OverflowError):
        return None


def _parse_iso_seconds(text: str) -> int | None:
    match = _ISO_SECONDS.fullmatch(text)
    if match is None:
        return None
    try:
        return calendar.timegm((*(int(g) for g in match.groups()), 0, 0, 0)) * 1000
    except (ValueError, OverflowError):
        return None


MILLISECONDS = TimeFormat(str, _parse_ms)
"""Unix milliseconds as decimal digits (``1700000000000``)."""
SECONDS = TimeFormat(lambda ms: str(ms // 1000), _parse_seconds)
"""Unix seconds as decimal digits (``1700000000``); a verifier also reads ``1700000000.123``."""
ISO_MILLISECONDS = TimeFormat(_format_iso, _parse_iso)
"""UTC ISO 8601 with milliseconds (``2020-12-08T09:08:57.715Z``)."""
ISO_SECONDS = TimeFormat(lambda ms: _iso_second(int(ms) // 1000), _parse_iso_seconds)
"""UTC ISO 8601 in whole seconds, without a zone (``2017-05-11T15:19:30``; milliseconds truncated)."""


# -- declarations ------------------------------------------------------------------------------


class Codec(NamedTuple):
    """A header value that a template cannot say (base64 of joined parts, a list of signatures).

    ``format(parts) -> value`` and its inverse ``parse(value) -> parts | None`` (or a
    ``ValueError`` whose text is the verifier's reason);
    ``names``: the parts it carries (``key``, ``signature``, ``timestamp``, options).
    """

    names: frozenset[str]
    format: Callable[[Mapping[str, str]], str]
    parse: Callable[[str], Mapping[str, str] | None]


class Envelope(NamedTuple):
    """A request body that carries the key, the timestamp and the signature (Crypto.com's JSON request object).

    ``wrap(wire, signature)`` writes the body to send from the caller's request as
    ``wire`` shows it (with its key, timestamp, nonce and options); with
    ``signature=None`` it is the body as signed (the message is computed from that).
    ``unwrap(body)`` is a verifier's inverse: the parts a received body carries
    (``key``, ``signature``, ``timestamp``, ...), or ``None`` (or a ``ValueError``
    whose text is the reason) if it has none. ``names``: part -> where the body carries it.
    """

    names: Mapping[str, str]
    wrap: Callable[[Wire, str | None], bytes]
    unwrap: Callable[[bytes], Mapping[str, str] | None]
    message: Callable[[Wire], bytes | None] | None = None
    """The signing side's shortcut: the recipe's message of ``wrap(wire, None)``, made from ``wire``
    without writing that body and reading it back (``None``: for this request, do that). A
    verifier reads the message from the body it received, with the recipe's own ``message``."""


@dataclass(frozen=True)
class Header:
    """A header the scheme sets: its name and a template of its value (``"{signature}"``, ``"sha256={signature}"``).

    ``when``: the name of an option; the header is sent only when that option is
    set (truthy). A verifier reads the placeholders back from the value it received.
    """

    name: str
    value: str | Codec
    when: str | None = None


@dataclass(frozen=True)
class Field:
    """A parameter the scheme adds: ``name=value`` with ``value`` a template (``"{nonce}"``, ``"{signature}"``).

    ``into``: ``"body"`` (a form field), ``"query"``, or ``"params"``: the body when
    the request has one, else the query string. ``first``: put it before the
    caller's parameters (else after). A field whose template holds ``{signature}``
    is added after signing; the others are signed.
    """

    name: str
    value: str
    into: Literal["body", "query", "params"] = "body"
    first: bool = False
    when: str | None = None
    unless_given: bool = False
    """Leave it out when the caller's parameters already have it (Binance's own ``recvWindow`` wins)."""
    quote: bool = False
    """Percent-encode the value as it goes in (RFC 3986 unreserved characters kept, ``:`` as ``%3A``,
    ``+`` as ``%2B``): for values that are not URL-safe, such as HTX's timestamp and base64 signature."""


@dataclass(frozen=True)
class Option:
    """An API-specific constructor option (``recv_window=``, ``demo=``): its default and its check.

    ``check(value)`` returns the value to use or raises
    :class:`~hmac_body_auth.ConfigurationError` (without echoing a secret).
    The value is available to templates as ``{name}``.
    """

    name: str
    default: Any
    check: Callable[[Any], Any]


def check_passphrase(passphrase: object) -> str:
    """Return the passphrase if it can go in a header unchanged; never echo it."""
    if not isinstance(passphrase, str):
        raise ConfigurationError(f"passphrase must be a str, got {type(passphrase).__name__}")
    if not _HEADER_TEXT.fullmatch(passphrase):
        raise ConfigurationError(
            "passphrase must be non-empty printable ASCII without leading or trailing whitespace "
            "(check for a trailing newline)"
        )
    return passphrase


@dataclass(frozen=True)
class Recipe:
    """One API's signature, declared.

    The auth, its scheme and its verifier are derived from it; see the module docstring.
    """

    name: str
    """The registry name users type (``"okx"``): lowercase, ``-`` between words."""
    title: str
    """The API's name in messages and docs (``"OKX"``)."""
    doc: str
    """The URL of the API documentation this recipe follows."""
    origin: str
    """The API's usual origin (``"https://www.okx.com"``): the CLI's default base URL."""
    env_prefix: str
    """``from_env`` reads ``{env_prefix}_API_KEY`` (and ``_API_SECRET``, ``_API_PASSPHRASE``)."""
    message: str | Callable[[Wire], bytes]
    """What is HMACed: a template of parts (see :class:`Wire`), or a function of the wire request."""
    headers: tuple[Header, ...]
    """The headers the scheme sets, in order."""
    fields: tuple[Field, ...] = ()
    """The parameters the scheme adds to the body or query string, in order."""
    algorithm: str = "sha256"
    digest_encoding: DigestEncoding = "hex"
    secret_encoding: SecretEncoding = "raw"
    body_encoding: str = "utf-8"
    """How a ``str`` body becomes bytes."""
    bodies: frozenset[BodyKind] = frozenset({"json"})
    """The body kinds the API takes (a request may always have none)."""
    methods: frozenset[str] | None = None
    """The methods the API's signed endpoints take (``None``: any)."""
    query: bool = True
    """Whether the caller may put parameters in the query string."""
    empty_body: bytes = b""
    """The body sent (and signed) when the caller gives none (Bitfinex: ``{}``)."""
    timestamp: TimeFormat | None = None
    """How ``{timestamp}`` is written (``None``: the API signs no timestamp and the auth takes no ``clock=``)."""
    timestamp_ahead: Callable[[Mapping[str, Any]], int] | None = None
    """Milliseconds (given the option values) added to the clock's reading before it is written: the API
    signs an expiry time, not the time of signing (BitMEX ``api-expires``). A verifier reads the expiry."""
    nonce: Callable[[str], Callable[[], int | str]] | None = None
    """The default nonce source for a key (``None``: the API has no nonce)."""
    nonce_text: Literal["digits", "any"] | Callable[[object], str] = "digits"
    """What a nonce must look like: unsigned decimal digits, any visible ASCII text, or a check
    that returns the nonce's text or raises :class:`~hmac_body_auth.NonceError`."""
    ordered: bool = True
    """Whether requests with the default nonce source are serialized per key (``False`` for random nonces)."""
    passphrase: Callable[[str, Signer, Mapping[str, Any]], str] | None = None
    """``None``: no passphrase; else what ``{passphrase}`` is, given the passphrase, the signer and the options."""
    passphrase_check: Callable[[Any, Mapping[str, Any]], str] = lambda passphrase, options: check_passphrase(passphrase)
    """Validates a passphrase at construction, given the option values (never echoes it)."""
    parts: Mapping[str, Callable[[Wire], str | bytes]] = field(default_factory=dict)
    """Message parts of the API's own (``{endpoint}``), computed from the wire request."""
    options: tuple[Option, ...] = ()
    options_check: Callable[[Mapping[str, Any]], None] | None = None
    """A rule over the option values together (each checked by its :class:`Option` first), raising
    ConfigurationError: values that are each valid but do not go together."""
    keyed: bool = True
    """``False``: the scheme signs with a shared secret only, no API key (webhooks): ``Name(secret)``."""
    secret_decode: Callable[[str | bytes], bytes] | None = None
    """Turns a secret as issued into key bytes where no ``secret_encoding`` says it (``whsec_`` + base64)."""
    key_check: Callable[[str], None] | None = None
    """An extra rule for the API key (HitBTC: no ``:``), raising ConfigurationError without echoing it."""
    requery: Callable[[str], str] | None = None
    """How the query string goes on the wire, re-encoded from the caller's (PoloniexV3's SDK
    encoding); it is then signed as sent. ``None``: as the client encoded it."""
    moves_body: str | None = None
    """``None``: the body goes on the wire. A content type: the body's parameters travel in the
    message and headers only (Gemini's payload), and the request goes out empty with that type."""
    verify_check: Callable[[Wire], str | None] | None = None
    """A verifier's last rule, after the signature: a rejection reason or ``None`` (``wire.found``: the parts read)."""
    check: Callable[[Outgoing, Mapping[str, Any]], None] | None = None
    """An extra check for what a template cannot say (reserved parameter names, ...)."""
    nonce_error: NonceErrorParser | None = None
    """Recognises the API's "nonce too low" answer (the call was not executed: re-sign once)."""
    nonce_error_statuses: frozenset[int] | None = None
    """Statuses whose answers are read for ``nonce_error`` (``None``: the default 200 and 4xx)."""
    clock_sync: Callable[[Mapping[str, Any]], ClockSync] | None = None
    """The API's clock-sync recipe, given the option values (``None``: the API reports no stale timestamp)."""
    bodiless_content_type: str | None = None
    """The ``Content-Type`` sent with a request that has no body and no type (MEXC refuses a call
    without one: 700013); ``None``: none."""
    envelope: Envelope | None = None
    """``None``: the caller's body goes on the wire. An :class:`Envelope`: the body is a request
    object written from the caller's, which carries the credentials and the signature."""

    @property
    def needs_passphrase(self) -> bool:
        """Whether the API's keys come with a passphrase."""
        return self.passphrase is not None

    def header_names(self) -> frozenset[str]:
        """Every header (lowercase) the scheme may set: removed before a redirect to another origin."""
        return frozenset(h.name.lower() for h in self.headers)

    def secret_header_names(self) -> frozenset[str]:
        """The headers (lowercase) that carry the key, the signature, the passphrase or a signed payload.

        What log redaction hides; a timestamp, a nonce, an option or a constant stays readable.
        """
        return frozenset(h.name.lower() for h in self.headers if _header_template(h.value).names & _SECRET_PARTS)


def plain_passphrase(passphrase: str, signer: Signer, options: Mapping[str, Any]) -> str:
    """The passphrase as it is (OKX, Coinbase Exchange)."""
    return passphrase


def boolean(name: str) -> Callable[[Any], bool]:
    """An :class:`Option` check for ``True``/``False``."""

    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ConfigurationError(f"{name} must be True or False")
        return value

    return check


def milliseconds_window(name: str, *, optional: bool, most: int = 60_000) -> Callable[[Any], int | None]:
    """An :class:`Option` check for a receive window in milliseconds (1 to ``most``; ``None`` if ``optional``)."""

    def check(value: Any) -> int | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= most:
            none = "None or " if optional else ""
            raise ConfigurationError(f"{name} must be {none}an int of milliseconds between 1 and {most}")
        return value

    return check


# -- the wire request, what messages are made of ---------------------------------------------------


class Wire:
    """A request as it goes on the wire, with what the scheme adds: what a message is made of.

    Template parts: ``{method}`` (upper case), ``{path}`` (``/`` when empty),
    ``{query}`` (as written, without ``?``), ``{path_query}`` (``/p?q`` or ``/p``),
    ``{host}``, ``{body}`` (the exact bytes), ``{params}`` (query string then
    body, no separator), ``{payload}`` (the query string for GET/HEAD/DELETE
    without a body, else the body), ``{content_type}``, ``{key}``, ``{nonce}``,
    ``{timestamp}``, every option by name, and the recipe's own :attr:`Recipe.parts`.
    """

    __slots__ = (
        "_split",
        "body",
        "content_type",
        "found",
        "key",
        "method",
        "nonce",
        "options",
        "raw_nonce",
        "timestamp",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: str,
        body: bytes,
        content_type: str | None,
        key: str | None,
        nonce: str | None,
        timestamp: str | None,
        options: Mapping[str, Any],
        found: Mapping[str, str] | None = None,
    ) -> None:
        #: On the verifying side, the parts read back from the request (they stand for computed parts).
        self.found = found or {}
        #: The nonce as its source gave it (an ``int`` or a ``str``; ``None`` on the verifying side).
        self.raw_nonce: int | str | None = None
        self.method = method
        self.url = url
        self.body = body
        self.content_type = content_type
        self.key = key
        self.nonce = nonce
        self.timestamp = timestamp
        self.options = options
        self._split: tuple[str, SplitResult] | None = None

    def _parts(self) -> SplitResult:
        # Split once per wire request (a message may use several parts of the URL), again if the URL was changed.
        split = self._split
        if split is None or split[0] is not self.url:
            split = self._split = (self.url, urlsplit(self.url))
        return split[1]

    @property
    def path(self) -> str:
        """The URL's path as written (``/`` when empty)."""
        return self._parts().path or "/"

    @property
    def query(self) -> str:
        """The URL's query string as written, without ``?``."""
        return self._parts().query

    @property
    def path_query(self) -> str:
        """``path?query`` (just the path without a query)."""
        parts = self._parts()
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    @property
    def host(self) -> str:
        """The URL's host name, lower case."""
        return self._parts().hostname or ""

    def part(self, name: str) -> str | bytes:
        """The value of template part ``name``."""
        if name == "body":
            return self.body
        if name == "method":
            return self.method
        if name in ("path", "query", "path_query", "host"):
            value: str = getattr(self, name)
            return value
        if name == "params":
            return self.query.encode("utf-8") + self.body
        if name == "payload":
            return self.body if self.body else self.query
        if name == "content_type":
            return self.content_type or ""
        if name in ("key", "nonce", "timestamp"):
            return getattr(self, name) or ""
        value_ = self.options.get(name)
        return "" if value_ is None else str(value_)


class _Template:
    """A template compiled once: literal text and named parts, rendered to bytes."""

    __slots__ = ("_constant", "_format", "_get", "_order", "_single", "names", "pieces", "regex")

    def __init__(self, text: str) -> None:
        pieces: list[tuple[bool, str]] = []
        pattern = []
        at = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > at:
                pieces.append((False, text[at : match.start()]))
                pattern.append(re.escape(text[at : match.start()]))
            pieces.append((True, match[1]))
            pattern.append(f"(?P<{match[1]}>.*?)" if match[1] not in dict.fromkeys(pattern) else ".*?")
            at = match.end()
        if at < len(text):
            pieces.append((False, text[at:]))
            pattern.append(re.escape(text[at:]))
        self.pieces = tuple(pieces)
        self.names = frozenset(name for is_part, name in pieces if is_part)
        self.regex = re.compile("".join(pattern), re.DOTALL)
        # Rendering is one bytes % tuple: the literals with %b where the parts go.
        self._order = tuple(name for is_part, name in pieces if is_part)
        self._format = b"".join(
            b"%b" if is_part else piece.encode("utf-8").replace(b"%", b"%%") for is_part, piece in pieces
        )
        self._constant = None if self._order else text
        self._single = self._order[0] if len(pieces) == 1 and self._order else None
        # A tuple of the parts' values, in order (itemgetter of one name gives the value, not a tuple).
        self._get: Callable[[Mapping[str, str | bytes]], tuple[str | bytes, ...]] | None = None
        if len(self._order) > 1:
            self._get = operator.itemgetter(*self._order)
        elif self._order and self._single is None:
            only = self._order[0]
            self._get = lambda values: (values[only],)

    def fill(self, values: Mapping[str, str | bytes]) -> bytes:
        """Render from ``values``, which hold every part (the signing side's one pass)."""
        if self._get is None:
            if self._single is None:
                return self._format
            value = values[self._single]
            return value if value.__class__ is bytes else value.encode("utf-8")  # type: ignore[union-attr]
        return self._format % tuple([v if v.__class__ is bytes else v.encode("utf-8") for v in self._get(values)])  # type: ignore[union-attr]

    def fill_text(self, values: Mapping[str, str | bytes]) -> str:
        """Render a header value from ``values``."""
        if self._constant is not None:
            return self._constant
        if self._single is not None:
            value = values[self._single]
            return value if value.__class__ is str else value.decode("utf-8")  # type: ignore[union-attr]
        return self.fill(values).decode("utf-8")

    def render(self, lookup: Callable[[str], str | bytes]) -> bytes:
        if self._single is not None:
            value = lookup(self._single)
            return value if isinstance(value, bytes) else value.encode("utf-8")
        values = [lookup(name) for name in self._order]
        return self._format % tuple(v if isinstance(v, bytes) else v.encode("utf-8") for v in values)

    def text(self, lookup: Callable[[str], str | bytes]) -> str:
        if self._constant is not None:
            return self._constant
        if self._single is not None:
            value = lookup(self._single)
            return value if isinstance(value, str) else value.decode("utf-8")
        return self.render(lookup).decode("utf-8")

    def read(self, value: str) -> dict[str, str] | None:
        """The parts of ``value`` (a header received), or ``None`` if it does not have the template's shape."""
        match = self.regex.fullmatch(value)
        return None if match is None else match.groupdict()


class _Coded:
    """A :class:`Codec` header, with a template's interface."""

    __slots__ = ("codec", "names")

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.names = codec.names

    def fill_text(self, values: Mapping[str, str | bytes]) -> str:
        return self.text(values.__getitem__)

    def text(self, lookup: Callable[[str], str | bytes]) -> str:
        values = {}
        for name in self.names:
            value = lookup(name)
            values[name] = value.decode("utf-8") if isinstance(value, bytes) else value
        return self.codec.format(values)

    def read(self, value: str) -> dict[str, str] | None:
        """The parts of ``value``; ``None``, or a ``ValueError`` whose text is the reason, if it has none."""
        parts = self.codec.parse(value)
        return None if parts is None else dict(parts)


def _header_template(value: str | Codec) -> _Template | _Coded:
    return _Coded(value) if isinstance(value, Codec) else _Template(value)


# The parts that are the wire request's attributes and properties, read directly (not through Wire.part).
_WIRE_GETTERS: dict[str, Callable[[Wire], str | bytes]] = {
    name: operator.attrgetter(name) for name in ("method", "body", "path", "query", "path_query", "host")
}


def _getter(recipe: Recipe, name: str) -> Callable[[Wire], str | bytes]:
    """How the signing side computes part ``name``: the recipe's own function, else the wire's."""
    own = recipe.parts.get(name)
    if own is not None:
        return own
    return _WIRE_GETTERS.get(name) or operator.methodcaller("part", name)


def _compiled(recipe: Recipe) -> _Compiled:
    cached = _COMPILED.get(id(recipe))
    if cached is None or cached.recipe is not recipe:
        cached = _Compiled(recipe)
        _COMPILED[id(recipe)] = cached
    return cached


class _Compiled:
    """A recipe's templates, compiled once per recipe."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.message = _Template(recipe.message) if isinstance(recipe.message, str) else None
        self.headers = tuple((h, _header_template(h.value)) for h in recipe.headers)
        self.fields = tuple((f, _Template(f.value)) for f in recipe.fields)
        self.nonce_field = next((f.name for f in recipe.fields if "nonce" in _Template(f.value).names), None)
        names = {f.name.encode("ascii") for f in recipe.fields}
        self.field_names = frozenset(names)
        #: The fields besides the nonce (which check_form guards): a caller's parameter must not take their names.
        skipped = {f.name.encode("ascii") for f in recipe.fields if f.unless_given}
        if self.nonce_field:
            skipped.add(self.nonce_field.encode("ascii"))
        self.reserved = self.field_names - skipped
        #: placeholder -> the header or field that carries it (what a verifier's reasons name).
        # The parts the signing side computes from the wire request, each once, with its getter.
        given = {"key", "timestamp", "nonce", "signature", "passphrase", *(o.name for o in recipe.options)}
        used = set(self.message.names if self.message is not None else ())
        for _, template in self.headers:
            used |= template.names
        self.derived = tuple((name, _getter(recipe, name)) for name in sorted(used - given))
        self.where: dict[str, str] = {}
        for spec_name, template in [(h.name, t) for h, t in self.headers] + [(f.name, t) for f, t in self.fields]:
            for name in template.names:
                self.where.setdefault(name, spec_name)
        if recipe.envelope is not None:
            for name, member in recipe.envelope.names.items():
                self.where.setdefault(name, member)

    def message_of(self, wire: Wire) -> bytes:
        recipe = self.recipe
        if self.message is None:
            assert callable(recipe.message)
            return recipe.message(wire)
        return self.message.render(self.resolver(wire, None))

    def resolver(self, wire: Wire, values: dict[str, str | bytes] | None) -> Callable[[str], str | bytes]:
        """Look up template parts: ``values`` given, parts read back by a verifier, the recipe's own, the wire's."""
        parts = self.recipe.parts
        found = wire.found
        known: dict[str, str | bytes] = values if values is not None else {}

        def lookup(name: str) -> str | bytes:
            value = known.get(name)
            if value is not None:
                return value
            if name in found and name in parts:
                return found[name]
            own = parts.get(name)
            value = own(wire) if own is not None else wire.part(name)
            known[name] = value
            return value

        return lookup


_COMPILED: dict[int, _Compiled] = {}


# -- signing ---------------------------------------------------------------------------------------


def _join(params: bytes, extra: bytes, *, first: bool) -> bytes:
    if not params:
        return extra
    if first:
        return extra + b"&" + params
    return params + extra if params.endswith(b"&") else params + b"&" + extra


def _names(params: bytes) -> list[bytes]:
    """The decoded parameter names of a query string or form body, in order."""
    return [unquote_to_bytes(p.partition(b"=")[0].replace(b"+", b" ")) for p in params.split(b"&") if p]


_DECODER = json.JSONDecoder()


def json_value(body: bytes) -> Any:
    """``json.loads(body)``, faster for the usual UTF-8 body.

    ``json.loads`` of bytes first guesses the encoding (UTF-8, -16 or -32, a BOM);
    a UTF-8 body is decoded and parsed directly, and anything that fails that way
    goes through ``json.loads`` for its answer, so what is accepted stays the same.
    """
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except ValueError:
        return json.loads(body)


class _Plan(NamedTuple):
    """What a recipe's scheme does with one set of option values, decided once (shared by its schemes; read only)."""

    compiled: _Compiled
    option_text: dict[str, str]
    """Each option as its templates show it: ``""`` for ``None``."""
    header_names: frozenset[str]
    ahead: int
    before: tuple[tuple[Field, _Template], ...]
    """The fields the options switch on that go in before signing, then those after (they carry it)."""
    after: tuple[tuple[Field, _Template], ...]
    headers: tuple[tuple[str, _Template | _Coded], ...]
    sniff: bool
    default_type: str | None


def _plan(recipe: Recipe, options: dict[str, Any]) -> _Plan:
    """The plan of ``recipe`` with ``options`` (remembered per recipe and option values)."""
    ident: Hashable = None
    if not options:
        ident = (id(recipe), ())  # most recipes take no option: no tuple of them to build
    elif all(type(value) in _PLAIN_TYPES for value in options.values()):
        # The type too: True == 1 == 1.0, but each is written its own way.
        ident = (id(recipe), tuple((name, type(value), value) for name, value in options.items()))
    if ident is not None:
        cached = _PLANS.get(ident)
        if cached is not None and cached[0] is recipe:
            return cached[1]
    compiled = _compiled(recipe)
    active = [(f, t) for f, t in compiled.fields if f.when is None or options.get(f.when)]
    takes_json = "json" in recipe.bodies or "json-object" in recipe.bodies
    sniff = takes_json and "form" in recipe.bodies
    default_type: str | None = JSON_CONTENT_TYPE if takes_json else FORM_CONTENT_TYPE
    if "any" in recipe.bodies:
        default_type, sniff = None, False
    plan = _Plan(
        compiled=compiled,
        option_text={name: "" if value is None else str(value) for name, value in options.items()},
        header_names=recipe.header_names(),
        ahead=recipe.timestamp_ahead(options) if recipe.timestamp_ahead is not None else 0,
        before=tuple((f, t) for f, t in active if "signature" not in t.names),
        after=tuple((f, t) for f, t in active if "signature" in t.names),
        headers=tuple((h.name, t) for h, t in compiled.headers if h.when is None or options.get(h.when)),
        sniff=sniff,
        default_type=default_type,
    )
    if ident is not None:
        if len(_PLANS) >= 256:
            _PLANS.clear()
        _PLANS[ident] = (recipe, plan)
    return plan


#: Option values a plan is remembered for (any other is planned for its scheme alone).
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
#: (id of the recipe, option values) -> (the recipe, its plan): the recipe kept, so that its id is not reused.
_PLANS: dict[Hashable, tuple[Recipe, _Plan]] = {}


class RecipeScheme:
    """Signs with a :class:`Recipe`: a :class:`~hmac_body_auth.Scheme`.

    Holds the option values and the passphrase (a credential: masked in ``repr``,
    never pickled).
    """

    __slots__ = (
        "_after",
        "_ahead",
        "_before",
        "_compiled",
        "_default_type",
        "_headers",
        "_option_text",
        "_passphrase",
        "_plan",
        "_signed_passphrase",
        "_sniff",
        "header_names",
        "options",
        "recipe",
    )

    header_names: frozenset[str]

    def __init__(self, recipe: Recipe, options: Mapping[str, Any], passphrase: str | None = None) -> None:
        self.recipe = recipe
        self.options = dict(options)
        self._passphrase = passphrase
        self._signed_passphrase: tuple[Signer, str] | None = None
        self._follow(_plan(recipe, self.options))

    def _follow(self, plan: _Plan) -> None:
        self._plan = plan
        self._compiled = plan.compiled
        self._option_text = plan.option_text
        self.header_names = plan.header_names
        self._ahead = plan.ahead
        self._before, self._after, self._headers = plan.before, plan.after, plan.headers
        self._sniff, self._default_type = plan.sniff, plan.default_type

    def bound(self, passphrase: str | None) -> RecipeScheme:
        """A scheme of the same recipe and option values with ``passphrase`` (what they decide, not decided again)."""
        other: RecipeScheme = object.__new__(RecipeScheme)
        other.recipe = self.recipe
        other.options = dict(self.options)
        other._passphrase = passphrase
        other._signed_passphrase = None
        other._follow(self._plan)
        return other

    # -- check -------------------------------------------------------------------------------------

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Refuse what the API cannot take, before a nonce is allocated or a lease taken."""
        recipe = self.recipe
        title = recipe.title
        if recipe.nonce is not None and not with_nonce:
            raise BodyError(f"{title} signs every call with a nonce; configure a nonce source")
        if recipe.methods is not None and out.method not in recipe.methods:
            allowed = "/".join(sorted(recipe.methods))
            raise BodyError(f"{title} signed endpoints take {allowed}, not {out.method}")
        if not recipe.query and urlsplit(out.url).query:
            how = "data=dict" if "form" in recipe.bodies else "json={...}"
            raise BodyError(
                f"{title} signs the path and the body only (the signed payload); send the parameters as {how}, "
                "not params="
            )
        if recipe.check is not None:
            recipe.check(out, self.options)
        self._check_reserved(out)
        if not out.body:
            return
        if out.method in _BODILESS:
            raise BodyError(f"{title} {out.method} requests carry their parameters in the query string, not a body")
        kind = media_type(out.content_type)
        bodies = recipe.bodies
        if "any" in bodies:
            return  # a webhook signs whatever it delivers, as it is
        takes_json = "json" in bodies or "json-object" in bodies
        if kind is None:
            # No Content-Type: the bytes say which kind the caller meant.
            looks_json = out.body.lstrip()[:1] in (b"{", b"[")
            kind = JSON_CONTENT_TYPE if takes_json and (looks_json or "form" not in bodies) else FORM_CONTENT_TYPE
        if kind == FORM_CONTENT_TYPE and "form" in bodies:
            self._check_form(out)
        elif kind == JSON_CONTENT_TYPE and takes_json:
            self._check_json(out.body)
        else:
            kinds = sorted({"JSON" if b.startswith("json") else "form" for b in bodies})
            types = ", ".join(JSON_CONTENT_TYPE if k == "JSON" else FORM_CONTENT_TYPE for k in kinds)
            how = " or ".join("json=..." if k == "JSON" else "data=dict" for k in kinds)
            raise BodyError(
                f"{title} takes a {' or '.join(kinds)} body ({types}); got Content-Type {kind!r} (send {how})"
            )

    def _check_json(self, body: bytes) -> None:
        title = self.recipe.title
        try:
            value = json_value(body)
        except ValueError:
            raise BodyError(
                f"the request body is not JSON (not valid JSON text); {title} takes JSON request bodies (json=...)"
            ) from None
        if "json-object" in self.recipe.bodies and not isinstance(value, dict):
            raise BodyError(f"{title} takes parameters as a JSON object (json={{...}}), not a JSON array or value")

    def _check_form(self, out: Outgoing) -> None:
        nonce_field = self._compiled.nonce_field
        check_form(out.body, out.content_type, nonce_field or "\x00")

    def _check_reserved(self, out: Outgoing) -> None:
        """A caller's parameter must not take the name of one the auth adds."""
        reserved = self._compiled.reserved
        if not reserved:
            return
        form = out.body if media_type(out.content_type) in (None, FORM_CONTENT_TYPE) else b""
        if not form and "?" not in out.url:
            return  # no parameter to read
        given = set(_names(form)) | set(_names(urlsplit(out.url).query.encode("utf-8")))
        for name in sorted(given & reserved):
            raise BodyError(f"the request already has a {name.decode()!r} parameter; let the auth add it")

    # -- sign --------------------------------------------------------------------------------------

    def sign(
        self,
        out: Outgoing,
        signer: Signer,
        key: str | None,
        nonce: int | str | None,
        clock: Callable[[], int],
    ) -> SignedRequest:
        """Add the fields, sign the message, set the headers: what to send."""
        recipe = self.recipe
        compiled = self._compiled
        if key is None and recipe.keyed:
            raise ConfigurationError(f"{recipe.title} signs with the API key: an auth without a key cannot sign")
        stamp = recipe.timestamp.format(int(clock()) + self._ahead) if recipe.timestamp is not None else None
        nonce_text = self._nonce_text(nonce) if recipe.nonce is not None else None
        options = self.options
        values: dict[str, str | bytes] = dict(self._option_text)
        values["key"] = key or ""
        values["timestamp"] = stamp or ""
        values["nonce"] = nonce_text or ""
        simple = values.__getitem__

        url, body = out.url, out.body or recipe.empty_body
        if recipe.requery is not None and "?" in url:
            rest, hash_, fragment = url.partition("#")
            base, _, query = rest.partition("?")
            url = f"{base}?{recipe.requery(query)}{hash_}{fragment}"
        content_type = None
        for spec, template in self._before:
            if spec.unless_given and _given(spec.name, url, body):
                continue
            url, body, added = _place(spec, template.render(simple), url, body, out.method)
            if added and out.content_type is None:
                content_type = FORM_CONTENT_TYPE
        wire = Wire(out.method, url, body, out.content_type or content_type, key, nonce_text, stamp, options)
        wire.raw_nonce = nonce
        caller, envelope = wire, recipe.envelope
        message: bytes | None = None
        if envelope is not None:
            if envelope.message is not None and not compiled.derived:
                message = envelope.message(caller)
            if message is None:
                # The message is made of the request object as signed; the caller's request is what it wraps.
                signed = envelope.wrap(caller, None)
                wire = Wire(out.method, url, signed, caller.content_type, key, nonce_text, stamp, options)
                wire.raw_nonce = nonce
        if message is None:
            for name, getter in compiled.derived:
                values[name] = getter(wire)
            message = compiled.message.fill(values) if compiled.message is not None else compiled.message_of(wire)
        values["signature"] = signature = signer.sign(message)
        if envelope is not None:
            body = envelope.wrap(caller, signature)
        for spec, template in self._after:
            url, body, added = _place(spec, template.render(simple), url, body, out.method)
            if added and out.content_type is None:
                content_type = FORM_CONTENT_TYPE
        if recipe.passphrase is not None:
            assert self._passphrase is not None
            # The same for every request of one signer (KuCoin v2 sends HMAC(secret, passphrase)): made once.
            made = self._signed_passphrase
            if made is None or made[0] is not signer:
                made = self._signed_passphrase = (signer, recipe.passphrase(self._passphrase, signer, options))
            values["passphrase"] = made[1]
        headers = {name: template_.fill_text(values) for name, template_ in self._headers}
        if recipe.moves_body is not None:
            return SignedRequest(url, b"", headers, recipe.moves_body, nonce)
        if content_type is None and body and out.content_type is None:
            content_type = self._default_type
            if self._sniff and body.lstrip()[:1] not in (b"{", b"["):
                content_type = FORM_CONTENT_TYPE
        elif content_type is None and not body and out.content_type is None:
            content_type = recipe.bodiless_content_type
        return SignedRequest(url, body, headers, content_type, nonce)

    def _nonce_text(self, nonce: int | str | None) -> str:
        title = self.recipe.title
        kind = self.recipe.nonce_text
        if callable(kind):
            return kind(nonce)
        text = str(nonce) if nonce is not None else ""
        if kind == "digits":
            if isinstance(nonce, bool) or not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
                raise NonceError(f"{title} needs an unsigned integer nonce; the nonce source returned something else")
        elif not text or not text.isascii() or not text.isprintable() or " " in text:
            raise NonceError(f"{title} nonces are visible ASCII text; the nonce source returned something else")
        return text

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.options.items())
        secret = ", passphrase=***" if self._passphrase is not None else ""
        return f"RecipeScheme({self.recipe.name!r}{', ' if shown else ''}{shown}{secret})"

    def __reduce__(self) -> Any:
        raise TypeError("a RecipeScheme may hold a passphrase and cannot be pickled; build the auth again")


def _given(name: str, url: str, body: bytes) -> bool:
    """Whether the caller's query string or form body already has parameter ``name``."""
    wanted = name.encode("ascii")
    query = url.partition("#")[0].partition("?")[2].encode("utf-8")
    return wanted in _names(query) or wanted in _names(body)


#: The bytes ``quote_from_bytes(..., safe="")`` keeps as they are (RFC 3986 unreserved), which no unquoting changes.
UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_RESERVED = re.compile(b"[^" + re.escape(UNRESERVED) + b"]")
_ESCAPES = {bytes([byte]): b"%%%02X" % byte for byte in range(256)}


def percent_encoded(data: bytes) -> bytes:
    """``quote_from_bytes(data, safe="")`` as bytes: every byte but the unreserved ones as ``%XX`` (upper case).

    One regular-expression pass that stops only at the bytes to escape (a signature
    or a timestamp has a few); ``quote_from_bytes`` looks up every byte.
    """
    if not data.translate(None, UNRESERVED):
        return data  # nothing to escape
    return _RESERVED.sub(_escape, data)


def _escape(match: re.Match[bytes]) -> bytes:
    return _ESCAPES[match[0]]


def _place(spec: Field, value: bytes, url: str, body: bytes, method: str) -> tuple[str, bytes, bool]:
    """Add ``name=value`` where the field goes; whether it went into the body."""
    if spec.quote:
        value = percent_encoded(value)
    pair = spec.name.encode("ascii") + b"=" + value
    into = spec.into
    if into == "params":
        into = "body" if body else "query"
    if into == "body":
        return url, _join(body, pair, first=spec.first), True
    rest, hash_, fragment = url.partition("#")
    base, _mark, query = rest.partition("?")
    joined = _join(query.encode("utf-8"), pair, first=spec.first).decode("utf-8")
    return f"{base}?{joined}{hash_}{fragment}", body, False


# -- verifying -------------------------------------------------------------------------------------


class _Passphrases:
    """Each key's passphrase, kept out of ``repr`` and ``vars`` (a credential, like the secrets)."""

    __slots__ = ("_by_key",)

    def __init__(self, given: Mapping[str, str]) -> None:
        self._by_key = dict(given)

    def get(self, key: str) -> str | None:
        return self._by_key.get(key)

    def __repr__(self) -> str:
        return f"<passphrases of {len(self._by_key)} key(s): ***>"

    def __reduce__(self) -> Any:
        raise TypeError("passphrases cannot be pickled")


MAX_SIGNATURES: Final = 8
"""The most signatures one request's header may list (Stripe sends one per secret while it rotates)."""


class RecipeVerifier:
    """Verifies requests signed with a :class:`Recipe`, on the server side.

    Args:
        secrets: API key -> secret.
        passphrases: API key -> passphrase, for a recipe with a passphrase
            (``None``: passphrases are not checked).
        **options: the recipe's option values the verifier assumes where a request
            does not carry them (a header or field that carries an option is read).

    The verdict carries the key, the nonce (``int`` for digits) and the timestamp
    in Unix milliseconds; wrap the verifier in a
    :class:`~hmac_body_auth.verify.ReplayGuard` to enforce order and a window.
    """

    recipe: ClassVar[Recipe]
    """The recipe of a subclass (a verifier of any recipe: ``RecipeVerifier(secrets, recipe=...)``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        recipe = cls.__dict__.get("recipe")
        if recipe is not None and "__init__" not in cls.__dict__:
            # help() and inspect show what this API's verifier takes: passphrases only where keys have one.
            cls.__signature__ = _verifier_signature(recipe)  # type: ignore[attr-defined]

    def __init__(
        self,
        secrets: Mapping[str, str | bytes | list[str | bytes]] | str | bytes | list[str | bytes],
        *,
        passphrases: Mapping[str, str] | None = None,
        recipe: Recipe | None = None,
        **options: Any,
    ) -> None:
        if recipe is None:
            recipe = type(self).recipe
        self._recipe = recipe
        self._signers = {
            key: [_signer(recipe, s) for s in _several(given)] for key, given in _accounts(recipe, secrets)
        }
        self._passphrases = _Passphrases(passphrases) if passphrases is not None and recipe.needs_passphrase else None
        known = {o.name: o for o in recipe.options}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ConfigurationError(f"{type(self).__name__} takes no option {unknown[0]!r}")
        self._options = {name: o.check(options.get(name, o.default)) for name, o in known.items()}
        if recipe.options_check is not None:
            recipe.options_check(self._options)
        self._compiled = _compiled(recipe)

    def __reduce__(self) -> Any:
        # It holds every key's secrets (and passphrases): refuse on purpose, not by the accident of a lambda.
        raise TypeError(f"{type(self).__name__} holds secrets and cannot be pickled; build it again from them")

    def __copy__(self) -> Any:
        # Copies stay possible (refusing pickles must not refuse copy.copy): the signers are immutable, shared.
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        twin = self.__copy__()
        twin._signers = {key: list(signers) for key, signers in self._signers.items()}
        return twin

    @property
    def carries_nonce(self) -> bool:
        """Whether the scheme's requests carry a nonce."""
        return self._recipe.nonce is not None

    @property
    def carries_timestamp(self) -> bool:
        """Whether the scheme's requests carry a timestamp."""
        return self._recipe.timestamp is not None

    def read(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Received | Verdict:
        """What the request carries (key, signature, nonce, timestamp, the signed wire), or the reason it does not."""
        compiled = self._compiled
        found: dict[str, str] = {}
        if self._recipe.envelope is not None:
            try:
                carried = self._recipe.envelope.unwrap(body)
            except ValueError as exc:  # the envelope's own reason
                return Verdict(False, str(exc) or "bad request body")
            if carried is None:
                return Verdict(False, "bad request body")
            found.update(carried)
        # The key first: an unknown key is the answer, whatever else the request lacks.
        for spec, template in sorted(compiled.headers, key=lambda pair: "key" not in pair[1].names):
            if "key" in found and "key" not in template.names and found["key"] not in self._signers:
                return Verdict(False, "unknown key", found["key"])
            if spec.when is not None and not self._options.get(spec.when):
                continue
            value = header(headers, spec.name)
            if value is None and template.names <= self._options.keys():
                # A constant header (X-BAPI-SIGN-TYPE: 2) or one that carries only an option
                # (the verifier's own value then stands): nothing signed is missing.
                continue
            if value is None:
                return Verdict(False, f"missing {spec.name}", found.get("key"))
            try:
                parts = template.read(value)
            except ValueError as exc:  # a codec's own reason
                return Verdict(False, str(exc) or f"bad {spec.name}", found.get("key"))
            if parts is None:
                return Verdict(False, f"bad {spec.name}", found.get("key"))
            found.update(parts)
        wire_url, wire_body = url, body
        for spec_, template_ in compiled.fields:
            source = body if spec_.into == "body" or (spec_.into == "params" and body) else None
            query = urlsplit(url).query
            params = source if source is not None else query.encode("utf-8")
            if "signature" in template_.names:
                # As written: a signature is ASCII, and a "+" in a wrongly encoded one must not become a space.
                raw = _last_as_written(params, spec_.name)
                if raw is not None and spec_.quote:
                    raw = unquote(raw)  # %XX only: a "+" stays a "+"
            else:
                raw = form_field(params, spec_.name)
            if raw is None:
                if (spec_.when is not None and spec_.name not in found) or template_.names == {"nonce"}:
                    # An option's field, or the nonce: a request signed without a nonce is still
                    # checked (the verdict says nonce=None; a ReplayGuard then refuses it).
                    continue
                return Verdict(False, f"missing {spec_.name}", found.get("key"))
            # Read back through the template: a constant field (SignatureVersion=2) must have its value.
            parts = template_.read(raw)
            if parts is None:
                return Verdict(False, f"bad {spec_.name}", found.get("key"))
            found.update(parts)
            if "signature" in template_.names:
                if source is not None:
                    wire_body = _without_last(body, spec_.name)
                else:
                    wire_url = _url_without_last(url, spec_.name)
        key = found.get("key")
        if key is None and self._recipe.keyed:
            return Verdict(False, "missing key")
        return Received(
            key,
            found,
            Wire(
                method.upper(),
                wire_url,
                wire_body,
                header(headers, "Content-Type"),
                key,
                found.get("nonce"),
                found.get("timestamp"),
                {**self._options, **{k: v for k, v in found.items() if k in self._options}},
                found,
            ),
        )

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute the signature from the request as received, then check the passphrase; never raises on it."""
        try:
            return self._verify(method, url, headers, body)
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # What a client sent that nothing could parse (a URL "http://[::1/", a lone surrogate).
            return Verdict(False, f"malformed request ({type(exc).__name__})")

    def _verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        received = self.read(method, url, headers, body)
        if isinstance(received, Verdict):
            return received
        recipe = self._recipe
        key, found, wire = received
        signers = self._signers.get(key)
        if not signers:
            return Verdict(False, "unknown key", key)
        # What the signing side refuses, and so what a signature of the API's never covers.
        if recipe.methods is not None and method.upper() not in recipe.methods:
            return Verdict(False, f"method {method.upper()} is not signed by {recipe.title}", key)
        if not recipe.query and urlsplit(url).query:
            return Verdict(False, "a query string the signature does not cover", key)
        stamp = None
        if recipe.timestamp is not None:
            stamp = recipe.timestamp.parse(found.get("timestamp", ""))
            if stamp is None:
                return Verdict(False, f"bad {self._compiled.where['timestamp']}", key)
        nonce: int | str | None = None
        if recipe.nonce is not None:
            text = found.get("nonce", "")
            nonce = ascii_int(text) if recipe.nonce_text == "digits" else (text or None)
            if callable(recipe.nonce_text) and text:
                try:
                    recipe.nonce_text(text)
                except NonceError:
                    return Verdict(False, f"bad {self._compiled.where['nonce']}", key)
                # A checked nonce of digits is a number (ReplayGuard then wants it to increase).
                nonce = ascii_int(text) if text.isascii() and text.isdigit() else text
            if nonce is None and text:
                return Verdict(False, "bad nonce", key)
        signature = found.get("signature")
        if signature is None:
            return Verdict(False, f"missing {self._compiled.where['signature']}", key)
        try:
            message = self._compiled.message_of(wire)
        except (ValueError, UnicodeError):
            return Verdict(False, "malformed request", key)
        # Several secrets (rotation) and several signatures (a header may list them): any pair that
        # matches. Each secret's HMAC is computed once, and only so many are listed in practice.
        listed = signature.split()
        if len(listed) > MAX_SIGNATURES:
            return Verdict(False, "bad signature", key)
        matching = next((s for s in signers if s.matches(message, listed)), None)
        if matching is None:
            return Verdict(False, "bad signature", key)
        if recipe.verify_check is not None:
            reason = recipe.verify_check(wire)
            if reason is not None:
                return Verdict(False, reason, key)
        if self._passphrases is not None and recipe.passphrase is not None:
            expected = self._passphrases.get(key) if key is not None else None
            given = found.get("passphrase")
            if (
                expected is None
                or given is None
                or not hmac.compare_digest(
                    recipe.passphrase(expected, matching, wire.options).encode("utf-8"),
                    given.encode("utf-8", "replace"),
                )
            ):
                return Verdict(False, "bad passphrase", key)
        return Verdict(True, "", key, nonce, stamp)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(keys={len(getattr(self, '_signers', ()))}, secret=***)"


def _signer(recipe: Recipe, secret: str | bytes) -> Signer:
    if recipe.secret_decode is not None:
        secret = recipe.secret_decode(secret)
    return Signer(
        secret,
        algorithm=recipe.algorithm,
        digest_encoding=recipe.digest_encoding,
        secret_encoding=recipe.secret_encoding,
    )


def _several(given: object) -> list[str | bytes]:
    """One secret, or several (the old and the new during a rotation)."""
    if isinstance(given, (str, bytes)):
        return [given]
    if isinstance(given, (list, tuple)) and given and all(isinstance(s, (str, bytes)) for s in given):
        return list(given)
    raise ConfigurationError("a secret must be str or bytes, or a non-empty list of them (rotation)")


def _accounts(recipe: Recipe, secrets: object) -> list[tuple[str | None, object]]:
    """``key -> secret(s)``; for a keyless scheme (webhooks) also just the secret(s)."""
    if isinstance(secrets, Mapping):
        return list(secrets.items())
    if not recipe.keyed:
        return [(None, secrets)]
    raise ConfigurationError("secrets must be a mapping of API key -> secret")


class Received(NamedTuple):
    """What a request carries, read back through the recipe's templates."""

    key: str | None
    found: dict[str, str]
    wire: Wire


def _last_as_written(params: bytes, name: str) -> str | None:
    """The last value of parameter ``name``, not percent-decoded."""
    wanted = name.encode("ascii") + b"="
    found = None
    for piece in params.split(b"&"):
        if piece.startswith(wanted):
            found = piece[len(wanted) :].decode("ascii", "replace")
    return found


def _without_last(params: bytes, name: str) -> bytes:
    """``params`` without its last ``name=...`` parameter (the signature, added last)."""
    head, _sep, tail = params.rpartition(b"&")
    if tail.partition(b"=")[0] == name.encode("ascii"):
        return head
    return params


def _url_without_last(url: str, name: str) -> str:
    rest, hash_, fragment = url.partition("#")
    base, _mark, query = rest.partition("?")
    kept = _without_last(query.encode("utf-8"), name).decode("utf-8")
    if kept == query and query.partition("=")[0] == name:
        kept = ""
    return f"{base}{'?' if kept else ''}{kept}{hash_}{fragment}"


# -- the auth --------------------------------------------------------------------------------------


_FIXED = ("algorithm", "digest_encoding", "secret_encoding")


def _body_digest(recipe: Recipe) -> BodyDigestScheme | None:
    """The body-digest scheme when that is all a recipe says (the fast path, with streamed bodies), else ``None``.

    An HMAC of the exact body, the key and signature in headers and at most a
    nonce field after the caller's: :class:`~hmac_body_auth.BodyDigestAuth`'s scheme.
    Decided once per recipe; each auth gets a scheme of its own.
    """
    cached = _BODY_DIGESTS.get(id(recipe))
    if cached is None or cached[0] is not recipe:
        names = _body_digest_names(recipe)
        scheme = None
        if names is not None:
            scheme = BodyDigestScheme(key_header=names[0], signature_header=names[1], nonce_field=names[2])
        cached = _BODY_DIGESTS[id(recipe)] = (recipe, scheme)
    return None if cached[1] is None else cached[1].copy()


#: id of a recipe -> (the recipe, the body-digest scheme its auths copy, or ``None``).
_BODY_DIGESTS: dict[int, tuple[Recipe, BodyDigestScheme | None]] = {}


def _body_digest_names(recipe: Recipe) -> tuple[str, str, str] | None:
    if recipe.message != "{body}" or recipe.options or recipe.passphrase or recipe.timestamp or recipe.empty_body:
        return None
    if recipe.bodies != frozenset({"form"}) or recipe.check is not None or recipe.methods or not recipe.query:
        return None
    if len(recipe.headers) != 2 or [h.value for h in recipe.headers] != ["{key}", "{signature}"]:
        return None
    if any(h.when for h in recipe.headers) or len(recipe.fields) != 1:
        return None
    nonce = recipe.fields[0]
    if nonce.value != "{nonce}" or nonce.into != "body" or nonce.first or nonce.when:
        return None
    key, signature = recipe.headers
    return key.name, signature.name, nonce.name


class RecipeAuth(HmacAuth):
    """The auth of a preset: ``Name(key, secret, *, passphrase=, nonce=, clock=, <options>, **HmacAuth options)``.

    A subclass sets ``recipe``; everything else (validation of every option
    at construction, the nonce source, the clock sync, ``repr``) is derived.
    """

    recipe: ClassVar[Recipe]
    """The API's recipe, which a subclass sets."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        recipe = cls.__dict__.get("recipe")
        if recipe is not None:
            cls.env_prefix = recipe.env_prefix
            cls.__signature__ = _auth_signature(recipe)  # type: ignore[attr-defined]
            if recipe.nonce_error_statuses is not None:
                cls.nonce_error_statuses = recipe.nonce_error_statuses

    def __init__(self, *credentials: str | bytes, **options: Any) -> None:
        recipe = self.recipe
        key: Any
        secret: Any
        # Name(key, secret) (and a passphrase where the API has one): the configuration is the
        # class's, decided once (_Prototype); only the credentials are checked and bound.
        plain = len(credentials) == 2 and (not options or (len(options) == 1 and "passphrase" in options))
        if plain:
            prototype = _PROTOTYPES.get(type(self))
            if (
                prototype is not None
                and prototype.recipe is recipe
                and prototype.statuses is self.nonce_error_statuses
                and (recipe.passphrase is not None) is bool(options)
                and self._from_prototype(prototype, credentials[0], credentials[1], options.get("passphrase"))
            ):
                return
        if len(credentials) == 2 and recipe.keyed:
            key, secret = credentials  # the common call, Name(key, secret): nothing to look up
        else:
            key, secret = self._credentials(credentials, options)
        if recipe.passphrase is not None and "passphrase" not in options:
            raise TypeError(f"{type(self).__name__}() missing required keyword-only argument: 'passphrase'")
        if options:
            for name, wanted in (("passphrase", recipe.passphrase), ("clock_sync", recipe.clock_sync)):
                if name in options and wanted is None:
                    raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {name!r}")
        passphrase = options.pop("passphrase", None)
        nonce = options.pop("nonce", None)
        clock = options.pop("clock", None)
        clock_sync = options.pop("clock_sync", True)
        title = recipe.title
        if recipe.keyed:
            key = validate_key(key)
            if recipe.key_check is not None:
                recipe.key_check(key)
        if recipe.secret_decode is not None:
            secret = recipe.secret_decode(secret)
        if options:
            # After the key and secret checks, as before: their errors come first.
            for name in _FIXED:
                if name in options:
                    raise ConfigurationError(f"{title} fixes {name}; it cannot be changed")
        own = {}
        for option in recipe.options:
            own[option.name] = option.check(options.pop(option.name, option.default))
        if recipe.options_check is not None:
            recipe.options_check(own)
        if clock is not None and recipe.timestamp is None:
            raise ConfigurationError(
                f"{title} signs no timestamp, so it takes no clock=; give the clock to the nonce source: "
                "nonce=ClockNonce(unit=..., clock=...)"
            )
        if not isinstance(clock_sync, bool):
            raise ConfigurationError("clock_sync must be True or False")
        if recipe.passphrase is not None:
            passphrase = recipe.passphrase_check(passphrase, own)
        if recipe.nonce is None:
            if nonce is not None:
                raise ConfigurationError(f"{title} fixes nonce: it signs no nonce, so it takes no nonce=")
        elif nonce is None:
            nonce = recipe.nonce(key or "")
            if not recipe.ordered:
                options.setdefault("ordered", False)
        options.setdefault("nonce_error", recipe.nonce_error)
        options.setdefault("body_encoding", recipe.body_encoding)
        sync = recipe.clock_sync(own) if recipe.clock_sync is not None and clock_sync else None
        super().__init__(
            _body_digest(recipe) or RecipeScheme(recipe, own, passphrase),
            key=key,
            secret=secret,
            algorithm=recipe.algorithm,
            digest_encoding=recipe.digest_encoding,
            secret_encoding=recipe.secret_encoding,
            nonce=nonce,
            clock=clock,
            clock_sync=sync,
            **options,
        )
        if plain and _prototyped(type(self)):
            template = self._policy.template()
            if template is not None:
                if len(_PROTOTYPES) >= 256:  # classes made at run time: bounded, as the other caches
                    _PROTOTYPES.clear()
                scheme = self._scheme
                _PROTOTYPES[type(self)] = _Prototype(
                    recipe,
                    self.nonce_error_statuses,
                    own,
                    # Without this auth's passphrase (a credential); None: the body-digest scheme.
                    scheme.bound(None) if isinstance(scheme, RecipeScheme) else None,
                    template,
                    ordered=self._policy.lease is not None,
                )

    def _from_prototype(self, prototype: _Prototype, key: Any, secret: Any, passphrase: Any) -> bool:
        """``__init__`` for ``Name(key, secret)``: the same checks of the credentials, in the same order.

        ``False``: the class's configuration does not fit these credentials
        (:meth:`HmacAuth._assume`); ``__init__`` then builds it all.
        """
        recipe = prototype.recipe
        key = validate_key(key)  # a prototype is only made for a recipe that takes a key (two credentials)
        if recipe.key_check is not None:
            recipe.key_check(key)
        if recipe.secret_decode is not None:
            secret = recipe.secret_decode(secret)
        if recipe.passphrase is not None:
            passphrase = recipe.passphrase_check(passphrase, prototype.own)
        nonce = recipe.nonce(key) if recipe.nonce is not None else None
        sync = recipe.clock_sync(prototype.own) if recipe.clock_sync is not None else None
        signer = Signer(
            secret,
            algorithm=recipe.algorithm,
            digest_encoding=recipe.digest_encoding,
            secret_encoding=recipe.secret_encoding,
        )
        scheme = _body_digest(recipe) if prototype.scheme is None else prototype.scheme.bound(passphrase)
        assert scheme is not None
        return self._assume(prototype.template, scheme, signer, key, nonce, recipe.nonce_error, prototype.ordered, sync)

    def _credentials(self, credentials: tuple[str | bytes, ...], options: dict[str, Any]) -> tuple[Any, Any]:
        """``(key, secret)`` from positional and keyword arguments (key ``None`` if the API takes none)."""
        names = ("key", "secret") if self.recipe.keyed else ("secret",)
        if len(credentials) > len(names):
            raise TypeError(f"{type(self).__name__}() takes {' and '.join(names)}, got {len(credentials)} arguments")
        given: dict[str, Any] = dict(zip(names, credentials, strict=False))
        for name in names[len(credentials) :]:
            if name not in options:
                raise TypeError(f"{type(self).__name__}() missing required argument: {name!r}")
            given[name] = options.pop(name)
        return given.get("key"), given["secret"]

    def _repr_fields(self) -> str:
        scheme = self._scheme
        options = scheme.options if isinstance(scheme, RecipeScheme) else {}
        shown = "".join(f", {name}={value!r}" for name, value in options.items())
        secret = ", passphrase=***" if self.recipe.needs_passphrase else ""
        return f"{super()._repr_fields()}{secret}{shown}"


class _Prototype(NamedTuple):
    """What every ``Name(key, secret)`` of one preset class shares: decided by the first, read by the others."""

    recipe: Recipe
    statuses: frozenset[int]
    own: dict[str, Any]
    """The recipe's options at their defaults, checked (read only)."""
    scheme: RecipeScheme | None
    """The scheme each auth's is bound from, with no passphrase (``None``: the recipe's body-digest scheme)."""
    template: PolicyTemplate
    ordered: bool


#: Preset class -> its prototype (set by the first ``Name(key, secret)`` of the class).
_PROTOTYPES: dict[type, _Prototype] = {}


def _prototyped(cls: type) -> bool:
    """Whether ``cls``'s constructor is this module's and :class:`HmacAuth`'s, nothing between or around them.

    The prototype stands for those two ``__init__``; a class that adds one of its own
    (or a base between them that does) is built in full every time.
    """
    for base in cls.__mro__:
        if base is HmacAuth:
            return True
        init = base.__dict__.get("__init__")
        if init is not None and init is not RecipeAuth.__dict__["__init__"]:
            return False
    return False


def _keyword(name: str, default: Any = inspect.Parameter.empty, annotation: str = "Any") -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _option_annotation(option: Option) -> str:
    """An option's type as its default shows it (``Any`` when the default is ``None``)."""
    kind = type(option.default)
    return kind.__name__ if kind in (bool, int, float, str) else "Any"


def _auth_signature(recipe: Recipe) -> inspect.Signature:
    """What a preset's constructor takes, derived from its recipe (help(), inspect and the docs show it)."""
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("secret", positional, annotation="str | bytes")]
    if recipe.keyed:
        params.insert(0, inspect.Parameter("key", positional, annotation="str"))
    if recipe.passphrase is not None:
        params.append(_keyword("passphrase", annotation="str"))
    if recipe.nonce is not None:
        params.append(_keyword("nonce", None, "Callable[[], int | str] | None"))
    if recipe.timestamp is not None:
        params.append(_keyword("clock", None, "Callable[[], int] | None"))
    if recipe.clock_sync is not None:
        params.append(_keyword("clock_sync", True, "bool"))
    params += [_keyword(option.name, option.default, _option_annotation(option)) for option in recipe.options]
    params.append(inspect.Parameter("options", inspect.Parameter.VAR_KEYWORD, annotation="Any"))
    return inspect.Signature(params)


def _verifier_signature(recipe: Recipe) -> inspect.Signature:
    """What a preset's verifier takes, derived from its recipe."""
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    several = "str | bytes | list[str | bytes]"  # one secret, or the old and the new (rotation)
    secrets = f"Mapping[str, {several}]" if recipe.keyed else f"{several} | Mapping[str | None, {several}]"
    params = [inspect.Parameter("secrets", positional, annotation=secrets)]
    if recipe.passphrase is not None:
        params.append(_keyword("passphrases", None, "Mapping[str, str] | None"))
    params += [_keyword(option.name, option.default, _option_annotation(option)) for option in recipe.options]
    return inspect.Signature(params)
