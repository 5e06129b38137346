"""Why a captured request's signature does not match: the usual mistakes, tried on the scheme's own message.

``hmac-body-auth verify`` uses it. The message is never rebuilt here: for a
recipe preset it is what the preset's verifier reads from the request
(:meth:`~hmac_body_auth.recipe.RecipeVerifier.read`) and the recipe's own
template makes of it; for the generic body-digest scheme it is the body. Against
that message the signature the request carries is recomputed with the other
HMAC algorithms, digest encodings and ways of reading the secret, and the
closest match names what the signer did differently. Mistakes in the request
itself (the body's encoding or order, a nonce added after signing) are tried
through the verifier, for every preset. Nothing here prints a secret.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

from ._signing import _keyed, encode_digest
from .errors import HmacBodyAuthError
from .verify import Verdict, header

__all__ = [
    "Reading",
    "Target",
    "body_digest_target",
    "carried_key",
    "explain",
    "notes",
    "opaque_target",
    "recipe_target",
    "shown",
]

#: Algorithms a signer may have used instead: the ones HMAC APIs use, most common first.
_ALGORITHMS = ("sha256", "sha512", "sha384", "sha1", "sha224", "md5")
#: Digest encodings a signer may have sent: lower-case hex, upper-case hex, base64.
_ENCODINGS = ("hex", "HEX", "base64")
_ENCODING_NAMES = {"hex": "lower-case hex", "HEX": "upper-case hex", "base64": "base64"}
# A secret each encoding decodes ("AAAA": text, base64 and hex), for reading a request without its secret.
_ANY_SECRET = "AAAA"
# The order a report names the parts a header carries in (a codec's parts are a set).
_ORDER = {"key": 0, "signature": 1, "passphrase": 2, "timestamp": 3, "nonce": 4}
_UNEXPLAINED = "no usual mistake explains it: check the key/secret pair, the URL path and the timestamp"


class Reading(NamedTuple):
    """What a request carries, read the scheme's way."""

    key: str | None
    signature: str | None
    message: bytes
    """What the scheme signs, made from the request as received."""


@dataclass(frozen=True)
class Target:
    """The scheme a captured request is checked against.

    ``verifier(secrets)`` builds its verifier; ``read(method, url, headers, body)``
    returns what a request carries (a :class:`Reading`), the verifier's reason it
    carries nothing readable (a :class:`~hmac_body_auth.verify.Verdict`), or
    ``None`` for a scheme whose message cannot be read back (a hand-written preset).
    """

    title: str
    algorithm: str
    digest_encoding: str
    secret_encoding: str
    where: Mapping[str, str]
    """Message part (``key``, ``signature``, ``timestamp``, ...) -> the header or field that carries it."""
    headers: frozenset[str]
    """The names of the headers among :attr:`where` (the others are fields)."""
    verifier: Callable[[Mapping[Any, str | bytes]], Any]
    read: Callable[[str, str, Mapping[str, str], bytes], Reading | Verdict | None]

    @property
    def key_where(self) -> str | None:
        """The header or field that carries the key."""
        return self.where.get("key")

    @property
    def signature_where(self) -> str | None:
        """The header or field that carries the signature."""
        return self.where.get("signature")

    def carrier(self, name: str) -> str:
        """``name`` as a report says it: ``Sign header``, ``nonce field``."""
        return f"{name} {'header' if name in self.headers else 'field'}"


def recipe_target(title: str, verifier_cls: Any, verifier: Callable[[Mapping[Any, str | bytes]], Any]) -> Target:
    """The target of a recipe preset: its verifier reads the request, its recipe makes the message.

    ``verifier_cls`` is the preset's :class:`~hmac_body_auth.recipe.RecipeVerifier`;
    ``verifier(secrets)`` builds the one that checks (with the passphrases given).
    """
    from .recipe import _compiled

    recipe = verifier_cls.recipe
    compiled = _compiled(recipe)

    def read(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Reading | Verdict:
        # The key must be one the verifier knows before it reads on: learn it, then read with it.
        first = verifier_cls({}).read(method, url, headers, body)
        if isinstance(first, Verdict):
            if first.reason != "unknown key" or first.key is None:
                return first
            first = verifier_cls({first.key: _ANY_SECRET}).read(method, url, headers, body)
            if isinstance(first, Verdict):
                return first
        key, found, wire = first
        try:
            message = compiled.message_of(wire)
        except (ValueError, UnicodeError):
            return Verdict(False, "malformed request", key)
        return Reading(key, found.get("signature"), message)

    return Target(
        title=title,
        algorithm=recipe.algorithm,
        digest_encoding=recipe.digest_encoding,
        secret_encoding=recipe.secret_encoding,
        where=dict(compiled.where),
        headers=frozenset(h.name for h in recipe.headers),
        verifier=verifier,
        read=read,
    )


def body_digest_target(
    title: str,
    *,
    key_header: str,
    signature_header: str,
    algorithm: str,
    digest_encoding: str,
    verifier: Callable[[Mapping[Any, str | bytes]], Any],
) -> Target:
    """The target of the body-digest scheme: the message is the body as received."""

    def read(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Reading:
        return Reading(header(headers, key_header), header(headers, signature_header), body)

    return Target(
        title=title,
        algorithm=algorithm,
        digest_encoding=digest_encoding,
        secret_encoding="raw",
        where={"key": key_header, "signature": signature_header},
        headers=frozenset({key_header, signature_header}),
        verifier=verifier,
        read=read,
    )


def opaque_target(title: str, verifier: Callable[[Mapping[Any, str | bytes]], Any]) -> Target:
    """The target of a preset whose message cannot be read back (a hand-written scheme): only its verifier is asked."""
    return Target(
        title=title,
        algorithm="",
        digest_encoding="",
        secret_encoding="raw",
        where={},
        headers=frozenset(),
        verifier=verifier,
        read=lambda method, url, headers, body: None,
    )


def carried_key(target: Target, method: str, url: str, headers: Mapping[str, str], body: bytes) -> str | None:
    """The key the request carries, as the scheme reads it (``None`` if it carries none)."""
    reading = target.read(method, url, headers, body)
    if reading is not None and reading.key is not None:
        return reading.key
    try:
        # A verifier names the key it does not know: ask one that knows none of the request's.
        return target.verifier({"\x00": _ANY_SECRET}).verify(method, url, headers, body).key  # type: ignore[no-any-return]
    except HmacBodyAuthError:
        return None


# -- the candidates ------------------------------------------------------------------------------------


def _decoded(secret: str, encoding: str) -> bytes | None:
    raw = secret.encode("utf-8")
    try:
        if encoding == "base64":
            return base64.b64decode(raw, validate=True) or None
        if encoding == "hex":
            return binascii.unhexlify(raw) or None
    except (binascii.Error, ValueError):
        return None
    return raw or None


_SECRET_READINGS = {
    ("raw", "base64"): "the secret is base64: the signer decoded it first (secret_encoding='base64')",
    ("raw", "hex"): "the secret is hex: the signer decoded it first (secret_encoding='hex')",
    ("base64", "raw"): "the secret was used as text: the signer did not base64-decode it first",
    ("base64", "hex"): "the secret was hex-decoded, not base64-decoded",
    ("hex", "raw"): "the secret was used as text: the signer did not hex-decode it first",
    ("hex", "base64"): "the secret was base64-decoded, not hex-decoded",
}
_WHITESPACE = "secret whitespace: the request was signed with a secret ending in whitespace (a newline from a file?)"


def _keys(secret: str, expected: str) -> Iterator[tuple[str | None, bytes]]:
    """``(what the signer did differently, key bytes)``: the scheme's own reading of the secret first (``None``)."""
    stripped = secret.strip()
    own = _decoded(stripped, expected)
    if own is not None:
        yield None, own
    for encoding in ("raw", "base64", "hex"):
        if encoding != expected:
            other = _decoded(stripped, encoding)
            if other is not None and other != own:
                yield _SECRET_READINGS[(expected, encoding)], other
    if expected == "raw":
        # The signers refuse such secrets; another program's signer may have used one.
        for padded in dict.fromkeys((secret, stripped + "\n", stripped + "\r\n", stripped + " ")):
            if padded != stripped:
                yield _WHITESPACE, padded.encode("utf-8")


def _encoded(digest: bytes, encoding: str) -> str:
    if encoding == "HEX":
        return digest.hex().upper()
    return encode_digest(digest, "hex" if encoding == "hex" else "base64")


def _matches(target: Target, secret: str, reading: Reading) -> Iterator[list[str]]:
    """For each way of signing that gives the request's signature, what it does differently (closest first)."""
    given = reading.signature
    if given is None:
        return
    algorithms = tuple(dict.fromkeys((target.algorithm, *_ALGORITHMS)))
    encodings = tuple(dict.fromkeys((target.digest_encoding, *_ENCODINGS)))
    found = []
    for (secret_note, key), algorithm in itertools.product(_keys(secret, target.secret_encoding), algorithms):
        try:
            mac = _keyed(key, algorithm)
        except HmacBodyAuthError:  # not an algorithm of this Python
            continue
        mac.update(reading.message)
        digest = mac.digest()  # one HMAC of the message per key and algorithm, however many encodings
        encoding = next((e for e in encodings if _encoded(digest, e) == given), None)
        if encoding is None:
            continue
        notes = [] if secret_note is None else [secret_note]
        if algorithm != target.algorithm:
            notes.append(
                f"algorithm: the signature is HMAC-{algorithm.upper()} {encoding.lower()};"
                f" {target.title} signs with HMAC-{target.algorithm.upper()}"
            )
        if encoding != target.digest_encoding:
            notes.append(
                f"digest encoding: the signature is {_ENCODING_NAMES[encoding]}; "
                f"{target.title} sends {_ENCODING_NAMES[target.digest_encoding]}"
            )
        found.append(notes)
    yield from sorted(found, key=len)


def _body_variants(body: bytes) -> Iterator[tuple[str, bytes]]:
    try:
        as_text = body.decode("utf-8")
        latin = as_text.encode("latin-1")
        if latin != body:
            yield "encoding: the body was signed as latin-1 but sent as UTF-8", latin
    except (UnicodeDecodeError, UnicodeEncodeError):
        pass
    try:
        utf8 = body.decode("latin-1").encode("utf-8")
        if utf8 != body:
            yield "encoding: the body was signed as UTF-8 but sent as latin-1", utf8
    except UnicodeEncodeError:
        pass
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    if len(pairs) > 1:
        ordered = urlencode(sorted(pairs)).encode("latin-1")
        if ordered != body:
            yield "parameter order: the parameters were signed sorted, sent in another order", ordered
        no_nonce = urlencode([(k, v) for k, v in pairs if k != "nonce"]).encode("latin-1")
        if no_nonce != body:
            yield "nonce: the signature was made before the nonce was added to the body", no_nonce


# -- the explanation ---------------------------------------------------------------------------------


def _verifies(
    target: Target, secrets: Mapping[Any, str | bytes], request: tuple[str, str, Mapping[str, str], bytes]
) -> bool:
    try:
        return bool(target.verifier(secrets).verify(*request).ok)
    except HmacBodyAuthError:  # a secret this scheme cannot take
        return False


def shown(key: str | None) -> str:
    """A key as the report shows it (quoted, long ones cut)."""
    return "none" if key is None else repr(key if len(key) <= 40 else key[:37] + "...")


def explain(
    target: Target,
    verdict: Verdict,
    *,
    secret: str,
    key: str | None,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """The most likely reason ``target``'s verifier, knowing ``key``'s ``secret``, refused the request (``verdict``)."""
    request = (method, url, headers, body)
    stripped = secret.strip()
    if verdict.reason == "unknown key" and verdict.key != key:
        where = f" ({target.key_where})" if target.key_where else ""
        said = f"key: the request's key{where} is {shown(verdict.key)}, not the --key given"
        if _verifies(target, {verdict.key: stripped}, request):
            return f"{said}; its signature matches the secret (signed with this secret, sent with another key?)"
        return f"{said}, and its signature does not match the secret either"
    reading = target.read(*request)
    if isinstance(reading, Verdict) and reading.reason.startswith("missing "):
        return _missing(target, reading.reason.removeprefix("missing "), stripped, request)
    if isinstance(reading, Reading) and reading.signature is None and target.signature_where is not None:
        return _missing(target, target.signature_where, stripped, request)
    if verdict.reason == "bad passphrase":
        return "passphrase: the signature matches, the passphrase does not (check --passphrase-env/--passphrase-file)"
    if isinstance(reading, Reading):
        for differences in _matches(target, secret, reading):
            if not differences:
                if verdict.reason == "bad signature":
                    break  # the verifier compares otherwise (exactly): the body variants below may tell
                return f"the signature matches the secret; the request is refused for another reason: {verdict.reason}"
            return "; ".join(differences)
    else:
        # No message to recompute: the verifier itself, with the secret read the other ways.
        for note, other in _keys(stripped, target.secret_encoding):
            if note is not None and note != _WHITESPACE and _verifies(target, {key: other}, request):
                return note
    for note, variant in _body_variants(body):
        if _verifies(target, {key: stripped}, (method, url, headers, variant)):
            return note
    if isinstance(reading, Verdict) and reading.reason:
        return f"the request's {reading.reason.removeprefix('bad ')} cannot be read the {target.title} way"
    return _UNEXPLAINED


def _missing(target: Target, what: str, secret: str, request: tuple[str, str, Mapping[str, str], bytes]) -> str:
    """The request lacks a header or field the scheme reads; the signature may be in another header."""
    parts = sorted((part for part, name in target.where.items() if name == what), key=lambda p: (_ORDER.get(p, 9), p))
    named = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
    carries = f", which carries the {named}" if parts else ""
    said = f"the request has no {target.carrier(what)}{carries}: {target.title} sends it with every signed request"
    if what == target.signature_where and what in target.headers:
        method, url, headers, body = request
        # Read the request with a stand-in signature: the message is then known, and any
        # header that holds its signature is where the signer put it.
        reading = target.read(method, url, {**headers, what: "-"}, body)
        if isinstance(reading, Reading):
            for name, value in headers.items():
                candidate = Reading(reading.key, value, reading.message)
                if any(True for _ in _matches(target, secret, candidate)):
                    return f"signature header: the signature is in {name}; {target.title} reads it from {what}"
        return f"{said} (was the request signed for another API, or the header dropped on the way?)"
    return f"{said} (was the request signed for another API?)"


def notes(target: Target, *, method: str, url: str, headers: Mapping[str, str], body: bytes) -> list[str]:
    """What an accepted request does differently from this package's signers (upper-case hex, say)."""
    reading = target.read(method, url, headers, body)
    if not isinstance(reading, Reading) or reading.signature is None or target.digest_encoding != "hex":
        return []
    if reading.signature != reading.signature.lower():
        return [
            f"the signature is upper-case hex: {target.title}'s verifier compares hex in any case, but this "
            "package's signers send lower case (an API that compares exactly would refuse it)"
        ]
    return []
