"""Server-side verification of HMAC-signed requests, for API and webhook providers.

A :class:`Verifier` checks one request (method, URL, headers, exact body bytes)
and returns a :class:`Verdict`. Every preset ships one; :class:`BodyDigestVerifier`
covers :class:`~hmac_body_auth.BodyDigestAuth` and the Poloniex legacy API.
Signatures are compared in constant time. :class:`ReplayGuard` adds nonce replay
protection (strictly increasing per key, or never seen twice) and a timestamp
window, over a pluggable :class:`NonceStore`.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl, unquote_to_bytes

from ._signing import DigestEncoding, SecretEncoding, Signer

__all__ = [
    "BodyDigestVerifier",
    "HeaderVerifier",
    "MemoryNonceStore",
    "NonceStore",
    "ReplayGuard",
    "Verdict",
    "Verifier",
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
    """Checks the signature of one request."""

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Return whether the request is correctly signed, and the key, nonce and timestamp it carries."""
        ...


def constant_time_equal(expected: str, given: str | None) -> bool:
    """Compare two signatures without leaking where they differ."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


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
        nonce_field: the form field carrying the nonce, or ``None``.

    """

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
            raw = form_field(body, self.nonce_field)
            nonce = int(raw) if raw is not None and raw.isdigit() else raw
        return Verdict(True, "", key, nonce)

    def __repr__(self) -> str:
        return f"BodyDigestVerifier(keys={len(self._signers)}, secret=***)"


class HeaderVerifier:
    """Base of verifiers whose scheme sends key, timestamp, signature (and a passphrase) in headers.

    Subclasses name the headers and the HMAC in class attributes and implement
    :meth:`prehash` (the bytes the API signs) and :meth:`timestamp_ms`; the flow
    (lookup, constant-time comparison, passphrase check, verdict) is shared.

    Args:
        secrets: API key -> secret.
        passphrases: API key -> passphrase; ``None`` to not check passphrases.
    """

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
        return int(value) if value.isdigit() else None

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
        stamp = self.timestamp_ms(timestamp)
        if stamp is None:
            return Verdict(False, f"bad {self.timestamp_header}", key)
        signature = header(headers, self.signature_header)
        if signature is None:
            return Verdict(False, f"missing {self.signature_header}", key)
        if not constant_time_equal(signer.sign(self.prehash(timestamp, method.upper(), url, body)), signature):
            return Verdict(False, "bad signature", key)
        checks_passphrase = self._passphrases is not None and self.passphrase_header is not None
        if checks_passphrase and not self.passphrase_ok(key, header(headers, self.passphrase_header or "")):
            return Verdict(False, "bad passphrase", key)
        return Verdict(True, "", key, None, stamp)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(keys={len(self._signers)}, secret=***, passphrase=***)"


@runtime_checkable
class NonceStore(Protocol):
    """Where a :class:`ReplayGuard` keeps what it has seen (swap in Redis for a fleet)."""

    def advance(self, key: str | None, nonce: int) -> int | None:
        """Store ``nonce`` if greater than the last for ``key``; else return that last value."""
        ...

    def add_once(self, key: str | None, token: str, expires_ms: int) -> bool:
        """Remember ``token`` until ``expires_ms``; return ``False`` if it was seen already."""
        ...


class MemoryNonceStore:
    """An in-process :class:`NonceStore`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str | None, int] = {}
        self._seen: dict[tuple[str | None, str], int] = {}

    def advance(self, key: str | None, nonce: int) -> int | None:
        """Store ``nonce`` if greater than the last for ``key``; else return that last value."""
        with self._lock:
            last = self._last.get(key, 0)
            if nonce <= last:
                return last
            self._last[key] = nonce
            return None

    def add_once(self, key: str | None, token: str, expires_ms: int) -> bool:
        """Remember ``token`` until ``expires_ms``; return ``False`` if it was seen already."""
        now = time.time_ns() // 1_000_000
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
            if self._seen.get((key, token), 0) > now:
                return False
            self._seen[(key, token)] = expires_ms
            return True

    def last(self, key: str | None) -> int:
        """The highest nonce accepted for ``key`` (0 if none)."""
        with self._lock:
            return self._last.get(key, 0)

    def set_last(self, key: str | None, value: int) -> None:
        """Set the high-water mark of ``key`` (tests: simulate another program's nonces)."""
        with self._lock:
            self._last[key] = value


class ReplayGuard:
    """Wrap a verifier with replay protection and a timestamp window.

    Args:
        verifier: checks signatures.
        strict_nonces: integer nonces must increase per key; string nonces
            (UUIDs) must never repeat within ``window_ms``.
        window_ms: the largest accepted distance between a request's timestamp
            and ``clock()``; ``None`` to not check timestamps.
        store: where nonces are remembered.
        clock: Unix time in milliseconds.

    """

    def __init__(
        self,
        verifier: Verifier,
        *,
        strict_nonces: bool = True,
        window_ms: int | None = 30_000,
        store: NonceStore | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.verifier = verifier
        self.strict_nonces = strict_nonces
        self.window_ms = window_ms
        self.store: Any = store if store is not None else MemoryNonceStore()
        self._clock = clock or (lambda: time.time_ns() // 1_000_000)

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """Verify the signature, then the timestamp window, then the nonce."""
        verdict = self.verifier.verify(method, url, headers, body)
        if not verdict.ok:
            return verdict
        now = self._clock()
        window, stamp = self.window_ms, verdict.timestamp_ms
        if window is not None and stamp is not None and abs(now - stamp) > window:
            return Verdict(False, "timestamp outside the window", verdict.key, verdict.nonce, verdict.timestamp_ms)
        if self.strict_nonces and verdict.nonce is not None:
            if isinstance(verdict.nonce, int):
                last = self.store.advance(verdict.key, verdict.nonce)
                if last is not None:
                    return Verdict(
                        False,
                        f"Nonce must be greater than {last}. You provided {verdict.nonce}.",
                        verdict.key,
                        verdict.nonce,
                        verdict.timestamp_ms,
                    )
            elif not self.store.add_once(verdict.key, str(verdict.nonce), now + (self.window_ms or 86_400_000)):
                return Verdict(False, "nonce already used", verdict.key, verdict.nonce, verdict.timestamp_ms)
        return verdict


def query_params(url: str) -> list[tuple[str, str]]:
    """The query parameters of ``url`` in order (helper for verifiers)."""
    query = url.partition("?")[2].partition("#")[0]
    return parse_qsl(query, keep_blank_values=True)
