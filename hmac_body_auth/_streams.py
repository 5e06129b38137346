"""Large and streaming bodies: hash in chunks, rewind, or spool to a temporary file.

Used by the adapters (this is local-file I/O, so it is not part of the pure core).
Memory stays bounded: files are read in ``CHUNK`` pieces, and streams that can be
read only once (generators, httpx streams) are spooled, in memory up to
``SPOOL_MEMORY`` bytes and in a temporary file beyond that.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from typing import IO, Any

from ._body import encode_body
from ._core import Digester
from ._signing import Signer
from .errors import BodyError

__all__ = ["CHUNK", "SPOOL_MEMORY", "Spool", "Suffixed", "digest_file", "file_digest", "is_seekable_file"]

CHUNK = 1 << 20
SPOOL_MEMORY = 8 << 20


def is_seekable_file(body: Any) -> bool:
    """Whether ``body`` is a file object the auth can read and rewind."""
    if not (hasattr(body, "read") and hasattr(body, "seek") and hasattr(body, "tell")):
        return False
    try:
        seekable = body.seekable() if hasattr(body, "seekable") else True
        body.tell()
    except (OSError, ValueError):
        return False
    return bool(seekable)


def _file_chunks(body: IO[Any], encoding: str) -> Iterator[bytes]:
    while True:
        chunk = body.read(CHUNK)
        if not chunk:
            return
        yield encode_body(chunk, encoding)


def file_digest(signer: Signer, body: IO[Any], encoding: str) -> tuple[str, int]:
    """Sign a seekable file from its current position in chunks, rewind it, return (signature, size)."""
    start = body.tell()
    size = 0

    def counted() -> Iterator[bytes]:
        nonlocal size
        for chunk in _file_chunks(body, encoding):
            size += len(chunk)
            yield chunk

    try:
        signature = signer.sign(counted())
    finally:
        body.seek(start)
    return signature, size


def digest_file(digester: Digester, body: IO[Any], encoding: str) -> None:
    """Give ``digester`` a seekable file from its current position, in chunks, then rewind it."""
    start = body.tell()
    try:
        for chunk in _file_chunks(body, encoding):
            digester.update(chunk)
    finally:
        body.seek(start)


class Suffixed:
    """The body sent when a nonce field follows a file: the file's next ``size`` bytes, then ``suffix``.

    A read-only file object over the caller's file (or a spool), which it reads
    as it is sent: the body is never in memory. Positions are the file's own
    (``tell()`` starts at the file's position when it was signed), so that
    requests' rewind before a redirect hop and urllib3's before a retry, which
    seek back to the position they saw first, resend the same bytes.
    """

    def __init__(self, file: IO[bytes], start: int, size: int, suffix: bytes) -> None:
        self.file = file
        self.start = start
        self.size = size
        self.suffix = suffix
        self.length = size + len(suffix)
        self._at = 0
        file.seek(start)

    @classmethod
    def around(cls, body: Any, size: int, suffix: bytes) -> Suffixed:
        """The body of a new signature: ``body`` is the file, or the :class:`Suffixed` sent before."""
        if isinstance(body, Suffixed):
            return cls(body.file, body.start, size, suffix)
        return cls(body, body.tell(), size, suffix)

    def read(self, n: int | None = -1) -> bytes:
        """Up to ``n`` bytes (all that is left by default): the file's, then the suffix's."""
        at = self._at
        left = self.length - at
        if left <= 0:
            return b""
        n = left if n is None or n < 0 else min(n, left)
        if at < self.size:
            chunk = self.file.read(min(n, self.size - at))
            if not chunk:
                # Content-Length promised the signed size: stop rather than send a short body.
                raise BodyError("the file became shorter after it was signed; the request was not completed")
        else:
            chunk = self.suffix[at - self.size : at - self.size + n]
        self._at = at + len(chunk)
        return chunk

    def readable(self) -> bool:
        """Readable."""
        return True

    def seekable(self) -> bool:
        """Seekable (to any position between the start and the end)."""
        return True

    def tell(self) -> int:
        """The position, as the file's own."""
        return self.start + self._at

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset`` (a position as :meth:`tell` gives it; whence 0 only)."""
        if whence != 0:
            raise OSError("a signed body can only be rewound to a position tell() gave")
        at = min(max(offset - self.start, 0), self.length)
        self.file.seek(self.start + min(at, self.size))
        self._at = at
        return self.start + at

    def close(self) -> None:
        """Nothing to do: the caller's file stays the caller's to close."""


class Spool:
    """A body read once into memory or, beyond ``SPOOL_MEMORY``, a temporary file."""

    def __init__(self) -> None:
        # Closed by the adapter that owns the request (close()), not by a with-block.
        self.file: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115
        self.size = 0

    def write(self, chunk: bytes) -> None:
        """Append a chunk."""
        self.file.write(chunk)
        self.size += len(chunk)

    @classmethod
    def of(cls, body: Iterable[Any] | IO[Any], encoding: str, tap: Callable[[bytes], object] | None = None) -> Spool:
        """Spool a generator, an iterable of chunks or a file object (``tap``: also given each chunk)."""
        spool = cls()
        chunks = _file_chunks(body, encoding) if hasattr(body, "read") else body  # type: ignore[arg-type]
        try:
            for chunk in chunks:
                data = encode_body(chunk, encoding)
                spool.write(data)
                if tap is not None:
                    tap(data)
        except BaseException:
            spool.close()
            raise
        spool.file.seek(0)
        return spool

    @classmethod
    async def of_async(cls, body: AsyncIterable[bytes], tap: Callable[[bytes], object] | None = None) -> Spool:
        """Spool an async stream of byte chunks (``tap``: also given each chunk)."""
        spool = cls()
        try:
            async for chunk in body:
                spool.write(chunk)
                if tap is not None:
                    tap(chunk)
        except BaseException:
            spool.close()
            raise
        spool.file.seek(0)
        return spool

    def chunks(self) -> Iterator[bytes]:
        """Iterate the spooled bytes from the start, in ``CHUNK`` pieces."""
        self.file.seek(0)
        while True:
            chunk = self.file.read(CHUNK)
            if not chunk:
                return
            yield chunk

    def read_all(self) -> bytes:
        """Return the whole body (for schemes that need it in memory) and close the spool."""
        self.file.seek(0)
        data = self.file.read()
        self.close()
        return data

    def close(self) -> None:
        """Free the memory or delete the temporary file."""
        self.file.close()
