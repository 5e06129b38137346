"""Server-side verification of HMAC-signed requests, for API and webhook providers.

A :class:`Verifier` checks one request (method, URL, headers, exact body bytes)
and returns a :class:`Verdict`. Every preset ships one; :class:`BodyDigestVerifier`
covers :class:`~hmac_body_auth.BodyDigestAuth` and the Poloniex legacy API.
Signatures are compared in constant time. :class:`ReplayGuard` adds nonce replay
protection (strictly increasing per key, or never seen twice) and a timestamp
window, over a pluggable :class:`NonceStore`. It fails closed: a signed request
without the nonce (or, with a window, the timestamp) its scheme carries is rejected.

``verify()`` never raises on what a client sent: any header, body, nonce or
timestamp text gives a :class:`Verdict`.
"""

from __future__ import annotations

import heapq
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable
from urllib.parse import unquote_to_bytes

from ._clock import milliseconds, validate_clock
from ._signing import DigestEncoding, SecretEncoding, Signer

__all__ = [
    "FOREVER_MS",
    "MAX_DIGITS",
    "BodyDigestVerifier",
    "HeaderVerifier",
    "MemoryNonceStore",
    "NonceStore",
    "ReplayGuard",
    "Verdict",
    "Verifier",
    "ascii_int",
    "constant_time_equal",
    "form_field",
    "header",
]


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one request."""

    ok: bool
    reason: str = ""
    key: str | None = None
    nonce: int | str | None = None
    timestamp_ms: int | None = None

    def __bool__(self) -> bool:
        return self.ok


@runtime_checkable
class Verifier(Protocol):
    """Checks the signature of one request.

    A verifier may also say what its scheme's requests carry, for
    :class:`ReplayGuard` to require it: a ``carries_nonce`` and a
    ``carries_timestamp`` attribute (``bool``). :class:`BodyDigestVerifier` and
    :class:`HeaderVerifier` declare both.
    """

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Return whether the request is correctly signed, and the key, nonce and timestamp it carries."""
        ...


def constant_time_equal(expected: str, given: str | None) -> bool:
    """Compare two signatures (or passphrases: any text) without leaking where they differ."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "replace"), given.encode("utf-8", "replace"))


MAX_DIGITS = 64
"""The most digits :func:`ascii_int` reads by default: a nonce or timestamp is at most 20 digits in
practice, and ``int()`` raises past ``sys.get_int_max_str_digits()`` (4300 by default, 640 at least)."""


def ascii_int(text: str | None, *, max_digits: int = MAX_DIGITS) -> int | None:
    """``text`` as an ``int`` if it is 1 to ``max_digits`` ASCII digits, else ``None``; never raises.

    ``str.isdigit()`` and ``int()`` accept more than a wire format should: ``"²"`` is a digit
    to ``isdigit()`` but ``int()`` refuses it, ``int()`` reads ``"١٢٣"`` (Arabic-Indic digits)
    as 123, and both allow signs, spaces and underscores. Here only ``0-9`` count.
    """
    if text is None or not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    try:
        return int(text)
    except ValueError:  # max_digits above sys.get_int_max_str_digits()
        return None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def form_field(body: bytes, name: str) -> str | None:
    """The last value of form field ``name`` in an urlencoded body, or ``None``."""
    wanted = name.encode()
    found = None
    for piece in body.split(b"&"):
        field, _, value = piece.partition(b"=")
        if unquote_to_bytes(field.replace(b"+", b" ")) == wanted:
            found = unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8", "replace")
    return found


class BodyDigestVerifier:
    """Verify body-digest signatures (the scheme of :class:`~hmac_body_auth.BodyDigestAuth`).

    Args:
        secrets: API key -> secret (``None`` as key for requests without a key header).
        key_header: the header that carries the key.
        signature_header: the header that carries the signature.
        algorithm: a ``hashlib`` algorithm name.
        digest_encoding: ``"hex"`` or ``"base64"``.
        secret_encoding: ``"raw"``, ``"base64"`` or ``"hex"``: how the secrets
            are decoded into key bytes.
        nonce_field: the form field carrying the nonce, or ``None`` for a scheme
            without nonces. A nonce of ASCII digits is an ``int`` in the verdict,
            any other non-empty text a ``str`` (a token that must not repeat); a
            request without it, or with an empty one, has ``nonce=None``, which a
            :class:`ReplayGuard` rejects. Over :data:`MAX_DIGITS` digits is a ``"bad nonce"``.

    """

    #: Requests of this scheme carry no timestamp.
    carries_timestamp = False

    def __init__(
        self,
        secrets: Mapping[str | None, str | bytes],
        *,
        key_header: str = "Key",
        signature_header: str = "Sign",
        algorithm: str = "sha512",
        digest_encoding: DigestEncoding = "hex",
        secret_encoding: SecretEncoding = "raw",
        nonce_field: str | None = "nonce",
    ) -> None:
        self._signers = {
            key: Signer(secret, algorithm=algorithm, digest_encoding=digest_encoding, secret_encoding=secret_encoding)
            for key, secret in secrets.items()
        }
        self.key_header = key_header
        self.signature_header = signature_header
        self.nonce_field = nonce_field

    @property
    def carries_nonce(self) -> bool:
        """Whether requests of this scheme carry a nonce (a ``nonce_field`` is set)."""
        return self.nonce_field is not None

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Check the signature over the exact body bytes."""
        key = header(headers, self.key_header)
        signer = self._signers.get(key)
        if signer is None:
            return Verdict(False, "unknown key", key)
        if not constant_time_equal(signer.sign(body), header(headers, self.signature_header)):
            return Verdict(False, "bad signature", key)
        nonce: int | str | None = None
        if self.nonce_field is not None:
            raw = form_field(body, self.nonce_field) or None
            nonce = ascii_int(raw)
            if nonce is None and raw is not None:
                if raw.isascii() and raw.isdigit():
                    return Verdict(False, "bad nonce", key)
                nonce = raw
        return Verdict(True, "", key, nonce)

    def __repr__(self) -> str:
        return f"BodyDigestVerifier(keys={len(getattr(self, '_signers', ()))}, secret=***)"


class HeaderVerifier:
    """Base of verifiers whose scheme sends key, timestamp, signature (and a passphrase) in headers.

    Subclasses name the headers and the HMAC in class attributes and implement
    :meth:`prehash` (the bytes the API signs) and :meth:`timestamp_ms`; the flow
    (lookup, constant-time comparison, passphrase check, verdict) is shared.

    Args:
        secrets: API key -> secret.
        passphrases: API key -> passphrase; ``None`` to not check passphrases.

    A :meth:`prehash` or :meth:`timestamp_ms` that raises ``ValueError`` (or
    ``UnicodeError``) on what a client sent makes a rejection, not an exception.
    """

    #: Requests of these schemes carry a timestamp and no nonce.
    carries_nonce = False
    carries_timestamp = True

    key_header: str
    timestamp_header: str
    signature_header: str
    passphrase_header: str | None = None
    algorithm: str = "sha256"
    digest_encoding: DigestEncoding = "base64"
    secret_encoding: SecretEncoding = "raw"

    def __init__(self, secrets: Mapping[str, str | bytes], *, passphrases: Mapping[str, str] | None = None) -> None:
        self._signers = {
            key: Signer(
                secret,
                algorithm=self.algorithm,
                digest_encoding=self.digest_encoding,
                secret_encoding=self.secret_encoding,
            )
            for key, secret in secrets.items()
        }
        self._passphrases = dict(passphrases) if passphrases is not None else None

    def prehash(self, timestamp: str, method: str, url: str, body: bytes) -> bytes:
        """The exact bytes the API signs for this request."""
        raise NotImplementedError

    def timestamp_ms(self, value: str) -> int | None:
        """Parse the timestamp header into Unix milliseconds, or ``None`` if malformed."""
        return ascii_int(value)

    def passphrase_ok(self, key: str, given: str | None) -> bool:
        """Whether the passphrase header matches the key's passphrase."""
        expected = self._passphrases.get(key) if self._passphrases is not None else None
        return expected is not None and constant_time_equal(expected, given)

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Recompute the signature from the request as received, then check the passphrase."""
        key = header(headers, self.key_header)
        if key is None:
            return Verdict(False, f"missing {self.key_header}")
        signer = self._signers.get(key)
        if signer is None:
            return Verdict(False, "unknown key", key)
        timestamp = header(headers, self.timestamp_header)
        if timestamp is None:
            return Verdict(False, f"missing {self.timestamp_header}", key)
        try:
            stamp = self.timestamp_ms(timestamp)
        except (ArithmeticError, ValueError):  # a subclass's parser meeting 5000 digits
            stamp = None
        if stamp is None:
            return Verdict(False, f"bad {self.timestamp_header}", key)
        signature = header(headers, self.signature_header)
        if signature is None:
            return Verdict(False, f"missing {self.signature_header}", key)
        try:
            prehash = self.prehash(timestamp, method.upper(), url, body)
        except ValueError:  # UnicodeEncodeError: a URL or header no client could have signed
            return Verdict(False, "malformed request", key)
        if not constant_time_equal(signer.sign(prehash), signature):
            return Verdict(False, "bad signature", key)
        checks_passphrase = self._passphrases is not None and self.passphrase_header is not None
        if checks_passphrase and not self.passphrase_ok(key, header(headers, self.passphrase_header or "")):
            return Verdict(False, "bad passphrase", key)
        return Verdict(True, "", key, None, stamp)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(keys={len(getattr(self, '_signers', ()))}, secret=***, passphrase=***)"


@runtime_checkable
class NonceStore(Protocol):
    """Where a :class:`ReplayGuard` keeps what it has seen (swap in Redis for a fleet)."""

    def advance(self, key: str | None, nonce: int) -> int | None:
        """Store ``nonce`` if greater than the last for ``key``; else return that last value."""
        ...

    def add_once(self, key: str | None, token: str, expires_ms: int) -> bool:
        """Remember ``token`` until ``expires_ms``; return ``False`` if it was seen already."""
        ...


FOREVER_MS: Final = 2**62
"""The ``expires_ms`` :class:`ReplayGuard` gives a string nonce whose request no timestamp window
bounds (none checked, or none carried): it is remembered for good, since it could be replayed any time."""


class MemoryNonceStore:
    """An in-process :class:`NonceStore`.

    Args:
        clock: a zero-argument callable returning int nanoseconds since the Unix
            epoch, the time string nonces expire by (default: ``time.time_ns``).
            :class:`ReplayGuard` gives the store it makes its own ``clock``, so
            that the expiry it computes and the store compare on one clock.
        max_tokens: the most string nonces kept at once. Expired ones go first (in
            the order they expire, a few per call); when that many are still live,
            :meth:`add_once` raises ``OverflowError`` (the guard then rejects the
            request: it fails closed rather than forget a nonce that could be replayed).

    """

    def __init__(self, *, clock: Callable[[], int] | None = None, max_tokens: int = 1_000_000) -> None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError("max_tokens must be a positive int")
        self._lock = threading.Lock()
        self._last: dict[str | None, int] = {}
        self._seen: dict[tuple[str | None, str], int] = {}
        # (expiry, key, token) in expiry order: the expired ones are dropped from the front,
        # never by a pass over every token.
        self._expiries: list[tuple[int, str | None, str]] = []
        self._max_tokens = max_tokens
        self._now_ms = milliseconds(validate_clock(clock) if clock is not None else time.time_ns)

    def advance(self, key: str | None, nonce: int) -> int | None:
        """Store ``nonce`` if greater than the last for ``key``; else return that last value."""
        with self._lock:
            last = self._last.get(key, 0)
            if nonce <= last:
                return last
            self._last[key] = nonce
            return None

    def add_once(self, key: str | None, token: str, expires_ms: int) -> bool:
        """Remember ``token`` until ``expires_ms``; return ``False`` if it was seen already.

        Raises:
            OverflowError: ``max_tokens`` tokens are live (nothing was remembered).

        """
        now = self._now_ms()
        with self._lock:
            seen, expiries = self._seen, self._expiries
            while expiries and expiries[0][0] <= now:
                expiry, old_key, old_token = heapq.heappop(expiries)
                if seen.get((old_key, old_token)) == expiry:  # not remembered again since
                    del seen[(old_key, old_token)]
            if seen.get((key, token), 0) > now:
                return False
            if len(seen) >= self._max_tokens and (key, token) not in seen:
                raise OverflowError(f"more than {self._max_tokens} string nonces are live; none is forgotten early")
            seen[(key, token)] = expires_ms
            heapq.heappush(expiries, (expires_ms, key, token))
            return True


class ReplayGuard:
    """Wrap a verifier with replay protection and a timestamp window; fail closed.

    A request whose signature checks out is then rejected with ``"missing nonce"``
    when nonces are required and it carries none, and with ``"missing timestamp"``
    when timestamps are required and it carries none: a validly signed request
    without them could otherwise be replayed forever.

    What is required follows the verifier's ``carries_nonce`` and
    ``carries_timestamp`` attributes (see :class:`Verifier`), unless
    ``require_nonce`` or ``require_timestamp`` says it explicitly. For a verifier
    that declares neither, a request must carry at least one of the two: a
    timestamp when there is a window, else a nonce.

    Args:
        verifier: checks signatures.
        strict_nonces: integer nonces must increase per key; string nonces
            (UUIDs) must never repeat while the request's timestamp is in the window
            (for good where no window or timestamp bounds that: :data:`FOREVER_MS`).
            ``False`` checks no nonces.
        window_ms: the largest accepted distance between a request's timestamp
            and ``clock()``; ``None`` to not check timestamps.
        require_nonce: reject requests without a nonce. ``None`` (default): if
            ``strict_nonces`` and the verifier's scheme carries nonces. Pass
            ``False`` for a scheme that has none.
        require_timestamp: reject requests without a timestamp. ``None``
            (default): if there is a window and the verifier's scheme carries
            timestamps. Needs ``window_ms``.
        store: where nonces are remembered (default: a :class:`MemoryNonceStore` on ``clock``;
            a store of your own keeps string nonces by its own clock).
        clock: a zero-argument callable returning int nanoseconds since the Unix
            epoch (``time.time_ns``, the default); timestamps are compared in
            milliseconds.

    Raises:
        ValueError: ``require_nonce=True`` without ``strict_nonces``, or
            ``require_timestamp=True`` without ``window_ms``.

    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        strict_nonces: bool = True,
        window_ms: int | None = 30_000,
        require_nonce: bool | None = None,
        require_timestamp: bool | None = None,
        store: NonceStore | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if require_nonce and not strict_nonces:
            raise ValueError("require_nonce=True needs strict_nonces=True: unchecked nonces protect nothing")
        if require_timestamp and window_ms is None:
            raise ValueError("require_timestamp=True needs window_ms: a timestamp without a window checks nothing")
        self.verifier = verifier
        self.strict_nonces = strict_nonces
        self.window_ms = window_ms
        #: Whether a request without a nonce is rejected (``None``: the verifier does not say).
        self.require_nonce = _requirement(require_nonce, strict_nonces, verifier, "carries_nonce")
        #: Whether a request without a timestamp is rejected (``None``: the verifier does not say).
        self.require_timestamp = _requirement(require_timestamp, window_ms is not None, verifier, "carries_timestamp")
        # The store it makes expires string nonces on the guard's clock (an injected or corrected one).
        self.store: Any = store if store is not None else MemoryNonceStore(clock=clock)
        self._clock = milliseconds(validate_clock(clock) if clock is not None else time.time_ns)

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Verify the signature, then the timestamp window, then the nonce; never raises on the request."""
        try:
            verdict = self.verifier.verify(method, url, headers, body)
        except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # A verifier that chokes on what a client sent (int() of 5000 digits, a
            # UnicodeError) rejects the request; the reason names the error to find it.
            return Verdict(False, f"malformed request ({type(exc).__name__})")
        if not verdict.ok:
            return verdict
        key, nonce, stamp = verdict.key, verdict.nonce, verdict.timestamp_ms
        if nonce == "":
            nonce = None
        need_nonce, need_stamp = self.require_nonce, self.require_timestamp
        if nonce is None and stamp is None:
            # A scheme that does not say what it carries, and a request with nothing to check.
            if need_stamp is None and self.window_ms is not None:
                need_stamp = True
            elif need_nonce is None:
                need_nonce = True

        def reject(reason: str) -> Verdict:
            return Verdict(False, reason, key, verdict.nonce, stamp)

        if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int)):
            return reject("bad timestamp")
        if nonce is not None and (isinstance(nonce, bool) or not isinstance(nonce, int | str)):
            return reject("bad nonce")
        now = self._clock()
        window = self.window_ms
        if window is not None:
            if stamp is None and need_stamp:
                return reject("missing timestamp")
            if stamp is not None and abs(now - stamp) > window:
                return reject("timestamp outside the window")
        if not self.strict_nonces:
            return verdict
        if nonce is None:
            return reject("missing nonce") if need_nonce else verdict
        if isinstance(nonce, int):
            last = self.store.advance(key, nonce)
            if last is not None:
                return reject(f"Nonce must be greater than {last}. You provided {nonce}.")
        else:
            # Remembered while the request could come again: its timestamp stays in the window until
            # stamp + window (a client clock ahead of ours: later than now + window); for good where
            # nothing bounds when it could come (no window, or no timestamp).
            # (+ 1: a timestamp exactly window_ms away is still accepted; a store keeps a token while expiry > now.)
            expires = FOREVER_MS if window is None or stamp is None else max(now, stamp) + window + 1
            try:
                fresh = self.store.add_once(key, nonce, expires)
            except OverflowError:
                return reject("too many nonces remembered")
            if not fresh:
                return reject("nonce already used")
        return verdict


def _requirement(explicit: bool | None, applies: bool, verifier: Verifier, attribute: str) -> bool | None:
    """An explicit requirement, else the verifier's declaration if the check applies at all."""
    if explicit is not None:
        return explicit
    if not applies:
        return False
    declared = getattr(verifier, attribute, None)
    return declared if isinstance(declared, bool) else None
