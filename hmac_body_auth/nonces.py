"""Nonce sources: where increasing nonces come from, and how senders are ordered.

Any zero-argument callable returning an ``int`` works as ``nonce=``. A source
that also implements :class:`OrderedNonceSource` tells the auth how to order
senders beyond one process (a file lock, a Redis lock) and lets the auth raise
its floor after the server reports a nonce error.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from .errors import ConfigurationError, LeaseTimeout, NonceError

try:  # POSIX only; FileNonce says so clearly elsewhere.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from ._redis import RedisNonce

__all__ = [
    "ClockNonce",
    "FileNonce",
    "NonceSource",
    "OrderedNonceSource",
    "RedisNonce",
    "Unit",
]

Unit = Literal["s", "ms", "us", "ns"]
_DIVISOR: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


@runtime_checkable
class NonceSource(Protocol):
    """The minimum: each call returns an int greater than every earlier one."""

    def __call__(self) -> int:
        """Return the next nonce."""
        ...


@runtime_checkable
class OrderedNonceSource(Protocol):
    """A nonce source that takes part in per-key ordering.

    The auth holds a process-wide lease on :attr:`scope` from the allocation of a
    nonce until the response arrives. Sources shared between processes or hosts
    also set :attr:`interprocess` and implement :meth:`acquire` and
    :meth:`release`, which the auth calls inside that lease, around the nonce and
    the send. :meth:`raise_floor` is called when the server reports that it has
    seen a nonce ``value``: every later nonce must be greater.
    """

    @property
    def scope(self) -> Hashable:
        """Who shares ordering in this process (sources with equal scopes share one lease)."""
        ...

    @property
    def interprocess(self) -> bool:
        """Whether :meth:`acquire` / :meth:`release` lock across processes or hosts."""
        ...

    def __call__(self) -> int:
        """Return the next nonce."""
        ...

    def raise_floor(self, value: int) -> None:
        """Make every later nonce greater than ``value``."""
        ...

    def acquire(self, timeout: float | None) -> None:
        """Take the cross-process lock (a no-op for in-process sources)."""
        ...

    def release(self) -> None:
        """Give the cross-process lock back."""
        ...


def _validate_unit(unit: object) -> int:
    if unit not in _DIVISOR:
        raise ConfigurationError("unit must be one of 's', 'ms', 'us', 'ns'")
    return _DIVISOR[str(unit)]


class ClockNonce:
    """In-process nonces: ``max(clock, last + 1)`` under a lock.

    Never below the clock, so a restart continues above the previous run as long
    as that run did not issue more than one nonce per ``unit`` on average; and
    strictly increasing even when the clock steps backwards.

    Args:
        unit: the resolution of the nonce. Microseconds by default, so that a key
            used before with millisecond or second nonces keeps working.
        clock: a zero-argument callable returning Unix time in nanoseconds
            (``time.time_ns`` by default); inject a fake one in tests.

    """

    interprocess: ClassVar[bool] = False
    _shared: ClassVar[dict[tuple[str, str], ClockNonce]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, *, unit: Unit = "us", clock: Callable[[], int] = time.time_ns) -> None:
        self._divisor = _validate_unit(unit)
        self.unit = unit
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()
        self.scope: Hashable = ("clock", id(self))

    @classmethod
    def shared(cls, key: str, *, unit: Unit = "us") -> ClockNonce:
        """Return the one source the process uses for ``key`` (created on first use)."""
        with cls._shared_lock:
            source = cls._shared.get((key, unit))
            if source is None:
                source = cls._shared[(key, unit)] = cls(unit=unit)
                # Every auth object of this key shares one lease, too.
                source.scope = ("clock-key", key, unit)
            return source

    def __call__(self) -> int:
        """Return ``max(clock, last + 1)`` in the configured unit."""
        now = self._clock() // self._divisor
        with self._lock:
            value = self._last + 1
            if now > value:
                value = now
            self._last = value
            return value

    def raise_floor(self, value: int) -> None:
        """Make every later nonce greater than ``value``."""
        with self._lock:
            if value > self._last:
                self._last = value

    def acquire(self, timeout: float | None) -> None:
        """Nothing to lock beyond the in-process lease."""

    def release(self) -> None:
        """Nothing to release beyond the in-process lease."""

    def __repr__(self) -> str:
        return f"ClockNonce(unit={self.unit!r})"


class FileNonce:
    """Nonces whose high-water mark lives in a file, shared by processes on one host.

    Each nonce is ``max(clock, last + 1)`` with ``last`` read from and written back
    to ``path`` under an exclusive ``fcntl.flock``. The auth holds that lock from
    nonce allocation until the response arrives, so processes sharing the file are
    ordered like threads sharing a :class:`ClockNonce`. The file survives restarts
    and a clock that steps backwards; a process that dies releases the lock (the
    kernel drops it with the file descriptor).

    ``fcntl.flock`` is used directly rather than a lock library: it is in the
    standard library, costs ~4 us, and is released by the kernel when a holder
    dies; libraries such as ``filelock`` poll every 50 ms by default, which would
    add that much latency to every request that waits. POSIX only.

    Args:
        path: the counter file (created if missing).
        unit: nonce resolution (microseconds by default).
        clock: zero-argument callable returning Unix time in nanoseconds.
        fsync: flush every new value to disk (durable across power loss, ~30x slower).

    """

    interprocess: ClassVar[bool] = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        unit: Unit = "us",
        clock: Callable[[], int] = time.time_ns,
        fsync: bool = False,
    ) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise ConfigurationError("FileNonce needs fcntl (POSIX); use RedisNonce or ClockNonce on this platform")
        self._divisor = _validate_unit(unit)
        self.unit = unit
        self.path = os.path.realpath(os.fspath(path))
        self._clock = clock
        self._fsync = fsync
        self._mutex = threading.RLock()
        self._fd = -1
        self._pid = -1
        self._held = False
        self.scope: Hashable = ("file", self.path, unit)
        self._open()

    def _open(self) -> int:
        # A child process must not share the parent's open file description:
        # flock is per description, so the two would not exclude each other.
        if self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            self._pid = os.getpid()
            self._held = False
        return self._fd

    def _read(self, fd: int) -> int:
        raw = os.pread(fd, 64, 0).strip()
        if not raw:
            return 0
        try:
            return int(raw)
        except ValueError:
            raise NonceError(f"the nonce file {self.path} is corrupt (not an integer)") from None

    def _write(self, fd: int, value: int) -> None:
        # Fixed width: a shorter number never leaves digits of a longer one behind.
        os.pwrite(fd, b"%020d\n" % value, 0)
        if self._fsync:
            os.fsync(fd)

    def acquire(self, timeout: float | None) -> None:
        """Take the exclusive file lock, waiting at most ``timeout`` seconds."""
        with self._mutex:
            fd = self._open()
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise LeaseTimeout(f"timed out waiting for the lock of {self.path}") from None
                # Back off to at most 1 ms: a holder usually releases within a round trip.
                time.sleep(pause)
                pause = min(pause * 2, 0.001)
        self._held = True

    def release(self) -> None:
        """Give the file lock back."""
        with self._mutex:
            if self._held and self._pid == os.getpid():
                self._held = False
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _update(self, compute: Callable[[int], int]) -> int:
        with self._mutex:
            fd = self._open()
            locked_here = not self._held
            if locked_here:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                last = self._read(fd)
                value = compute(last)
                if value != last:
                    self._write(fd, value)
                return value
            finally:
                if locked_here:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def __call__(self) -> int:
        """Return ``max(clock, last + 1)`` and persist it."""
        now = self._clock() // self._divisor
        return self._update(lambda last: max(now, last + 1))

    def raise_floor(self, value: int) -> None:
        """Make every later nonce greater than ``value`` (persisted)."""
        self._update(lambda last: max(last, value))

    def close(self) -> None:
        """Close the file descriptor (the lock goes with it)."""
        with self._mutex:
            if self._fd >= 0 and self._pid == os.getpid():
                os.close(self._fd)
            self._fd, self._pid, self._held = -1, -1, False

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __reduce__(self) -> Any:
        # Rebuilt from the path in the other process: a fresh descriptor, no lock held.
        return (_file_nonce, (self.path, self.unit, self._fsync))

    def __repr__(self) -> str:
        return f"FileNonce({self.path!r}, unit={self.unit!r})"


def _file_nonce(path: str, unit: Unit, fsync: bool) -> FileNonce:
    return FileNonce(path, unit=unit, fsync=fsync)


def __getattr__(name: str) -> Any:
    # RedisNonce imports the optional redis client; load it only when asked for.
    if name == "RedisNonce":
        from ._redis import RedisNonce

        return RedisNonce
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
