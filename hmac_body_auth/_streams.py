"""Large and streaming bodies: hash in chunks, rewind, or spool to a temporary file.

Used by the adapters (this is local-file I/O, so it is not part of the pure core).
Memory stays bounded: files are read in ``CHUNK`` pieces, and streams that can be
read only once (generators, httpx streams) are spooled, in memory up to
``SPOOL_MEMORY`` bytes and in a temporary file beyond that.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import IO, Any

from ._body import encode_body
from ._signing import Signer

__all__ = ["CHUNK", "SPOOL_MEMORY", "Spool", "file_digest", "is_seekable_file"]

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
    def of(cls, body: Iterable[Any] | IO[Any], encoding: str) -> Spool:
        """Spool a generator, an iterable of chunks or a file object."""
        spool = cls()
        chunks = _file_chunks(body, encoding) if hasattr(body, "read") else body  # type: ignore[arg-type]
        try:
            for chunk in chunks:
                spool.write(encode_body(chunk, encoding))
        except BaseException:
            spool.close()
            raise
        spool.file.seek(0)
        return spool

    @classmethod
    async def of_async(cls, body: AsyncIterable[bytes]) -> Spool:
        """Spool an async stream of byte chunks."""
        spool = cls()
        try:
            async for chunk in body:
                spool.write(chunk)
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
