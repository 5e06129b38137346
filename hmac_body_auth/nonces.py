"""Nonce sources: where increasing nonces come from, and how senders are ordered.

Any zero-argument callable returning an ``int`` works as ``nonce=``. A source
that also implements :class:`OrderedNonceSource` tells the auth how to order
senders beyond one process (a file lease, a Redis lock) and lets the auth raise
its floor after the server reports a nonce error. A source that also implements
:class:`AsyncOrderedNonceSource` can be driven from an event loop without
blocking it.

Every source here survives ``os.fork()`` (``multiprocessing`` with the fork start
method, ``gunicorn --preload``): in the child, the in-process locks are new (a
lock that another thread of the parent held at the moment of the fork would
otherwise stay locked forever in the child), the child holds no cross-process
lock, and it opens its own file descriptor or Redis connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import math
import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol, TypeGuard, TypeVar, runtime_checkable

from ._clock import validate_clock
from .errors import ConfigurationError, LeaseTimeout, NonceError

try:  # POSIX only; FileNonce says so clearly elsewhere.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from ._redis import RedisNonce

__all__ = [
    "AsyncOrderedNonceSource",
    "ClockNonce",
    "FileNonce",
    "NonceSource",
    "OrderedNonceSource",
    "RedisNonce",
    "Unit",
]

Unit = Literal["s", "ms", "us", "ns"]
_DIVISOR: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_T = TypeVar("_T")
_log = logging.getLogger("hmac_body_auth")


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

    Optional: a source may also implement the four coroutines of
    :class:`AsyncOrderedNonceSource` (``acquire_async``, ``release_async``,
    ``next_async``, ``raise_floor_async``), which async flows then await instead
    of calling the blocking methods. Every source in this module does.

    Optional, to save round trips to a shared store (``RedisNonce`` has them):
    ``acquire_next(timeout) -> int`` (and the coroutine ``acquire_next_async``)
    takes the lock and returns the first nonce of the hold in one step; the auth
    then calls it instead of :meth:`acquire` and signs with that nonce (a
    re-signature draws a new one). ``defer_release() -> bool`` is called before
    :meth:`release`: ``True`` means the source took the lock back itself
    (without blocking, say for its next acquire) and :meth:`release` is not
    called; ``False`` means release as usual.
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


@runtime_checkable
class AsyncOrderedNonceSource(OrderedNonceSource, Protocol):
    """An :class:`OrderedNonceSource` that an event loop can drive without blocking.

    Each coroutine does what its blocking namesake does, but waits (for a lock, a
    file, a Redis answer) by awaiting, so other tasks of the loop keep running.
    A lock taken with :meth:`acquire_async` may be given back with
    :meth:`OrderedNonceSource.release` and the other way round.
    """

    async def acquire_async(self, timeout: float | None) -> None:
        """Take the cross-process lock, waiting at most ``timeout`` seconds, without blocking the loop."""
        ...

    async def release_async(self) -> None:
        """Give the cross-process lock back, without blocking the loop."""
        ...

    async def next_async(self) -> int:
        """Return the next nonce, without blocking the loop."""
        ...

    async def raise_floor_async(self, value: int) -> None:
        """Make every later nonce greater than ``value``, without blocking the loop."""
        ...


# The members an OrderedNonceSource has (the protocol's public names and __call__), and which of
# them are methods: isinstance counts a method set to None as missing.
_ORDERED_MEMBERS = tuple(sorted({name for name in vars(OrderedNonceSource) if not name.startswith("_")} | {"__call__"}))
_ORDERED_METHODS = frozenset(name for name in _ORDERED_MEMBERS if callable(getattr(OrderedNonceSource, name)))
# The attributes ClockNonce._start sets: an object with others (a member replaced on it) or
# fewer (its scope deleted) is looked up in full.
_CLOCK_STATE = frozenset({"_clock", "_divisor", "_lock", "_state", "scope", "unit"})
# Per class: the members its class does not define, so each object must have them itself.
# Cleared when large, as classes made at run time would otherwise stay referenced.
_INSTANCE_MEMBERS: dict[type, tuple[str, ...]] = {}


def _class_defines(cls: type, name: str) -> bool:
    for base in cls.__mro__:
        if name in vars(base):
            return name not in _ORDERED_METHODS or vars(base)[name] is not None
    return False


def _is_ordered(value: object) -> TypeGuard[OrderedNonceSource]:
    """Whether ``value`` has every member of :class:`OrderedNonceSource`, as ``isinstance`` checks it.

    A runtime-checkable protocol's ``isinstance`` looks every member up on every
    call (about 6 us on CPython 3.11; an auth is checked twice while it is built).
    Here the members a class defines are found once per class; only the others
    (``scope``, which the sources of this package set in ``__init__``) are looked
    up on the object.
    """
    if value is None:
        return False
    cls = type(value)
    members = _INSTANCE_MEMBERS.get(cls)
    if members is None:
        if len(_INSTANCE_MEMBERS) >= 256:
            _INSTANCE_MEMBERS.clear()
        members = tuple(name for name in _ORDERED_MEMBERS if not _class_defines(cls, name))
        _INSTANCE_MEMBERS[cls] = members
    for name in members:
        if name in _ORDERED_METHODS:
            if getattr(value, name, None) is None:
                return False
        elif not hasattr(value, name):
            return False
    return True


def _unaltered_clock(value: object) -> TypeGuard[ClockNonce]:
    """Whether ``value`` is a :class:`ClockNonce` itself (no subclass), as its constructor left it.

    Such a source is ordered, in this process, and waits for nothing: what
    :func:`_is_ordered` and the lifecycle's lookups of its asyncio API would find.
    Exactly the attributes ``_start`` sets (none replaced, added or deleted: a
    ``scope`` deleted makes it unordered), and the class's ``interprocess`` not
    patched (the general path reads it through the object).
    """
    return type(value) is ClockNonce and vars(value).keys() == _CLOCK_STATE and not ClockNonce.interprocess


def _validate_unit(unit: object) -> int:
    if unit not in _DIVISOR:
        raise ConfigurationError("unit must be one of 's', 'ms', 'us', 'ns'")
    return _DIVISOR[str(unit)]


# -- fork safety ------------------------------------------------------------------
#
# After os.fork() only the forking thread exists in the child; a threading lock
# that another thread held at that moment stays locked forever there. Every live
# source registers here (weakly: the hook never keeps a source alive) and
# re-creates its locks in the child. ``os.register_at_fork`` hooks run for
# ``os.fork()`` and multiprocessing's fork start method, not for ``subprocess``
# (which execs at once).

_FORK_AWARE: weakref.WeakSet[Any] = weakref.WeakSet()


def _track_for_fork(source: object) -> None:
    """Have ``source._after_fork_in_child()`` run in every child forked while it lives."""
    _FORK_AWARE.add(source)


def _after_fork_in_child() -> None:
    ClockNonce._shared_lock = threading.RLock()
    shared = (entry[0]() for entry in list(ClockNonce._shared.values()))
    for source in [*_FORK_AWARE, *(source for source in shared if source is not None)]:
        # A child must start whatever one source does; never let one break the others.
        with contextlib.suppress(Exception):
            source._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


# -- in-process -----------------------------------------------------------------------


class _Counter:
    """The high-water mark of a :class:`ClockNonce` (kept apart so that it can outlive it)."""

    __slots__ = ("last",)

    def __init__(self, last: int = 0) -> None:
        self.last = last


class ClockNonce:
    """In-process nonces: ``max(clock, last + 1)`` under a lock.

    Never below the clock, so a restart continues above the previous run as long
    as that run did not issue more than one nonce per ``unit`` on average; and
    strictly increasing even when the clock steps backwards.

    Args:
        unit: the resolution of the nonce. Microseconds by default, so that a key
            used before with millisecond or second nonces keeps working.
        clock: a zero-argument callable returning int nanoseconds since the Unix
            epoch (``time.time_ns`` by default), whatever the ``unit``; inject a
            fake one in tests. Its first reading is checked at construction
            (:class:`~hmac_body_auth.ConfigurationError` if it is not plausibly nanoseconds).

    """

    interprocess: ClassVar[bool] = False
    # (key, unit) -> (weak reference to the live source, its counter). Held weakly:
    # a key's source goes away with the last auth using it.
    _shared: ClassVar[dict[tuple[str, str], tuple[weakref.ref[ClockNonce], _Counter]]] = {}
    # (key, unit) -> the last nonce of a dropped source, kept only while that value
    # is not yet behind the clock: a source made again for the key continues above it.
    _ahead: ClassVar[dict[tuple[str, str], int]] = {}
    _prune_at: ClassVar[int] = 1024
    # Re-entrant: a dropped source's weakref callback takes it, and may run in a
    # thread that already holds it (a garbage collection inside ``shared``).
    _shared_lock: ClassVar[threading.RLock] = threading.RLock()

    def __init__(self, *, unit: Unit = "us", clock: Callable[[], int] = time.time_ns) -> None:
        divisor = _validate_unit(unit)
        # The default needs no trial reading (an auth built per call builds its key's source).
        self._start(unit, divisor, clock if clock is time.time_ns else validate_clock(clock), _Counter(), None)

    def _start(
        self, unit: Unit, divisor: int, clock: Callable[[], int], state: _Counter, scope: Hashable | None
    ) -> None:
        self._divisor = divisor
        self.unit = unit
        self._clock = clock
        self._state = state
        self._lock = threading.Lock()
        self.scope: Hashable = ("clock", id(self)) if scope is None else scope
        if scope is None:
            # A shared source (given its scope here) is found through the registry after a fork.
            _track_for_fork(self)

    @classmethod
    def shared(cls, key: str, *, unit: Unit = "us") -> ClockNonce:
        """Return the one source the process uses for ``key`` while anything uses it.

        Every live caller of one ``key`` and ``unit`` gets the same object (and so
        one lease). The registry holds it weakly: when no auth uses the key any
        more, the source goes away, keeping only its last nonce while that is
        still ahead of the clock, so a source made again later continues above it.
        """
        ident = (key, unit)
        # A live source found without the lock is the key's (an entry is replaced only once its source is gone).
        entry = cls._shared.get(ident)
        source = entry[0]() if entry is not None else None
        if source is not None:
            return source
        with cls._shared_lock:
            entry = cls._shared.get(ident)
            if entry is not None:
                source = entry[0]()
                if source is not None:
                    return source
                # Dropped, its callback not run yet: carry on from its counter.
                state = entry[1]
            else:
                state = _Counter(cls._ahead.pop(ident, 0))
            # Every auth object of this key shares one lease, too.
            scope = ("clock-key", key, unit)
            if cls is ClockNonce:
                # As __init__ would, without the counter and scope it would make first.
                source = object.__new__(cls)
                source._start(unit, _validate_unit(unit), time.time_ns, state, scope)
            else:
                source = cls(unit=unit)
                source._state = state
                source.scope = scope
            cls._shared[ident] = (weakref.ref(source, functools.partial(_forget_shared, ident)), state)
            return source

    def __call__(self) -> int:
        """Return ``max(clock, last + 1)`` in the configured unit."""
        now = self._clock() // self._divisor
        with self._lock:
            state = self._state
            value = state.last + 1
            if now > value:
                value = now
            state.last = value
            return value

    def raise_floor(self, value: int) -> None:
        """Make every later nonce greater than ``value``."""
        with self._lock:
            if value > self._state.last:
                self._state.last = value

    def acquire(self, timeout: float | None) -> None:
        """Nothing to lock beyond the in-process lease."""

    def release(self) -> None:
        """Nothing to release beyond the in-process lease."""

    async def acquire_async(self, timeout: float | None) -> None:
        """Nothing to lock beyond the in-process lease."""

    async def release_async(self) -> None:
        """Nothing to release beyond the in-process lease."""

    async def next_async(self) -> int:
        """Return the next nonce (no I/O: the same as calling the source)."""
        return self()

    async def raise_floor_async(self, value: int) -> None:
        """Make every later nonce greater than ``value`` (no I/O)."""
        self.raise_floor(value)

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ClockNonce(unit={self.unit!r})"


def _forget_shared(ident: tuple[str, str], ref: weakref.ref[ClockNonce]) -> None:
    """Drop the registry entry of a shared source that went away (its weakref callback)."""
    with ClockNonce._shared_lock:
        entry = ClockNonce._shared.get(ident)
        if entry is None or entry[0] is not ref:
            return  # already replaced by a newer source of the key
        del ClockNonce._shared[ident]
        last = entry[1].last
        if last >= time.time_ns() // _DIVISOR[ident[1]]:
            ClockNonce._ahead[ident] = last
            if len(ClockNonce._ahead) > ClockNonce._prune_at:
                now = {unit: time.time_ns() // divisor for unit, divisor in _DIVISOR.items()}
                for old, value in list(ClockNonce._ahead.items()):
                    if value < now[old[1]]:
                        del ClockNonce._ahead[old]
                ClockNonce._prune_at = max(1024, 2 * len(ClockNonce._ahead))


# -- one host: a counter file with a lease record ----------------------------------------

_BUSY: Final = object()
_HOLD_BOUND: Final = -1.0  # a deadline of hold_timeout from the first wait
_COUNTER_LINE = b"%020d\n"
# pid, host identity, token, start (CLOCK_MONOTONIC ns), hold (ns): fixed width.
_HOLDER_LINE = b"%010d %016x %016x %020d %020d\n"
_FREE_LINE = _HOLDER_LINE % (0, 0, 0, 0, 0)
_READ_SIZE = 256


@functools.cache
def _host_identity() -> int:
    """Identify this boot of this host and this PID namespace, as 64 bits (0 where unknown).

    A holder's pid can only be checked by a process that sees the same pids: the
    same boot (``/proc/sys/kernel/random/boot_id``) and the same PID namespace
    (a container sees other pids than its host).
    """
    parts = []
    with contextlib.suppress(OSError), open("/proc/sys/kernel/random/boot_id", "rb") as f:
        parts.append(f.read().strip())
    with contextlib.suppress(OSError):
        parts.append(b"%d" % os.stat("/proc/self/ns/pid").st_ino)
    if not parts:
        return 0
    return int.from_bytes(hashlib.blake2b(b"|".join(parts), digest_size=8).digest(), "big")


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` (in our PID namespace) exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, and belongs to another user
        return True
    # An exited child that its parent has not waited for yet still answers kill(pid, 0).
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True  # not Linux, or it exited just now (the next poll sees it gone)
    state = stat.rpartition(b")")[2].split()[:1]
    return state not in ([b"Z"], [b"X"])


class FileNonce:
    """Nonces whose high-water mark lives in a file, shared by processes on one host.

    Each nonce is ``max(clock, last + 1)`` with ``last`` read from and written back
    to ``path``. The file survives restarts and a clock that steps backwards.

    Ordering across processes is a *lease record* in the same file: the holder's
    pid, a random token and the time it took the lease. The auth takes the lease
    (:meth:`acquire`) before it allocates a nonce and gives it back
    (:meth:`release`) when the response arrives, so processes sharing the file
    are ordered like threads sharing a :class:`ClockNonce`. Another process takes
    the lease over when its holder

    * has exited (killed, crashed): at once, on the next poll (a waiter checks the
      holder's pid with ``kill(pid, 0)`` and skips zombies);
    * hangs, or is slower than ``hold_timeout``: after ``hold_timeout`` seconds.

    The kernel lock (``fcntl.flock``, exclusive) is held only for the few
    microseconds of each read-modify-write of the file, never across a request.
    That is the design choice: a kernel lock held across a request belongs to an
    open file description, which ``fork()`` shares with the child, so a child
    forked while the lock was held kept every process locked out for as long as
    it lived, and a hung holder kept it forever. ``flock`` rather than POSIX
    ``lockf``: ``lockf`` locks belong to the process, so they do not exclude two
    ``FileNonce`` objects (or threads) of one process, and closing *any*
    descriptor of the file in the process silently drops them. A forked child
    closes its copy of the parent's descriptor (which never unlocks the parent's
    description) and opens its own. Pids are checked only by processes of the
    same boot and PID namespace (containers sharing the file fall back on
    ``hold_timeout``). Times are ``CLOCK_MONOTONIC`` (``time.monotonic_ns``),
    which one host's processes share; a record from before a reboot is treated
    as expired.

    The file holds the counter on its first line (20 digits, as before: files
    written by earlier versions are read as they are) and the lease record on its
    second. Upgrade every process sharing a file at once: earlier versions do not
    read the lease record. POSIX only; local file systems only (not NFS).

    Args:
        path: the counter file (created if missing).
        unit: nonce resolution (microseconds by default).
        clock: a zero-argument callable returning int nanoseconds since the Unix
            epoch (``time.time_ns`` by default), whatever the ``unit``; checked
            like :class:`ClockNonce`'s.
        fsync: flush every new value to disk (durable across power loss, ~30x slower).
        hold_timeout: seconds after which a lease whose holder is alive but never
            gives it back (a hung process) is taken over by a waiter; also bounds
            how long one file update waits for a frozen process. Give it more
            than your slowest request takes.

    Raises:
        ConfigurationError: a bad argument, or no ``fcntl`` (Windows).

    """

    interprocess: ClassVar[bool] = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        unit: Unit = "us",
        clock: Callable[[], int] = time.time_ns,
        fsync: bool = False,
        hold_timeout: float = 30.0,
    ) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise ConfigurationError("FileNonce needs fcntl (POSIX); use RedisNonce or ClockNonce on this platform")
        self._divisor = _validate_unit(unit)
        if (
            isinstance(hold_timeout, bool)
            or not isinstance(hold_timeout, (int, float))
            or not math.isfinite(hold_timeout)
            or not hold_timeout > 0
        ):
            raise ConfigurationError("hold_timeout must be a positive, finite number of seconds")
        self.unit = unit
        self.path = os.path.realpath(os.fspath(path))
        self.hold_timeout = float(hold_timeout)
        self._hold_ns = int(self.hold_timeout * 1e9)
        self._clock = validate_clock(clock)
        self._fsync = fsync
        self._mutex = threading.RLock()
        self._fd = -1
        self._pid = -1
        self._record = b""  # the lease record this object wrote while it holds the lease
        self.scope: Hashable = ("file", self.path, unit)
        self._open()
        _track_for_fork(self)

    # -- the file ----------------------------------------------------------------

    def _open(self) -> int:
        # One descriptor per process: after a fork, the parent's is not ours.
        if self._pid != os.getpid():
            if self._fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(self._fd)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            self._pid = os.getpid()
            self._record = b""
        return self._fd

    def _after_fork_in_child(self) -> None:
        self._mutex = threading.RLock()
        # Closing the child's copy never unlocks the parent's description (flock
        # locks go with the last descriptor of a description, or LOCK_UN).
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd, self._pid, self._record = -1, -1, b""

    def _attempt(self, op: Callable[[int, bytes], _T]) -> _T | object:
        """Run ``op(fd, contents)`` under the kernel lock, or return ``_BUSY`` if it is taken."""
        with self._mutex:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return _BUSY
            try:
                return op(fd, os.pread(fd, _READ_SIZE, 0))
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _run(self, op: Callable[[int, bytes], _T], deadline: float | None, what: str) -> _T:
        """``_attempt`` until the kernel lock is free (it is held for microseconds only).

        ``deadline`` ``_HOLD_BOUND``: at most ``hold_timeout`` from the first wait, so
        that nothing waits forever for a process frozen inside its update.
        """
        pause = 0.00005
        while True:
            result = self._attempt(op)
            if result is not _BUSY:
                return result  # type: ignore[return-value]
            if deadline == _HOLD_BOUND:
                deadline = time.monotonic() + self.hold_timeout
            elif deadline is not None and time.monotonic() >= deadline:
                raise LeaseTimeout(f"timed out waiting for the file lock of {self.path} ({what})")
            time.sleep(pause)
            pause = min(pause * 2, 0.001)

    async def _run_async(self, op: Callable[[int, bytes], _T], deadline: float | None, what: str) -> _T:
        pause = 0.00005
        while True:
            result = self._attempt(op)
            if result is not _BUSY:
                return result  # type: ignore[return-value]
            if deadline == _HOLD_BOUND:
                deadline = time.monotonic() + self.hold_timeout
            elif deadline is not None and time.monotonic() >= deadline:
                raise LeaseTimeout(f"timed out waiting for the file lock of {self.path} ({what})")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.001)

    def _split(self, raw: bytes) -> tuple[int, int]:
        """Return (counter, offset of the lease record) of the file's contents."""
        newline = raw.find(b"\n")
        head = raw if newline < 0 else raw[:newline]
        try:
            last = int(head) if head.strip() else 0
        except ValueError:
            raise NonceError(f"the nonce file {self.path} is corrupt (not an integer)") from None
        return last, (len(raw) if newline < 0 else newline + 1)

    def _write_counter(self, fd: int, raw: bytes, value: int) -> None:
        line = _COUNTER_LINE % value
        newline = raw.find(b"\n")
        if newline + 1 == len(line):
            os.pwrite(fd, line, 0)
        else:
            # A first write, or a wider number: the record never gets shorter, so no
            # digits of an older value are left behind.
            os.pwrite(fd, line + (raw[newline + 1 :] if newline >= 0 else b""), 0)
        if self._fsync:
            os.fsync(fd)

    def _holder(self, raw: bytes, offset: int) -> tuple[int, int, int, int, int]:
        """(pid, host, token, start_ns, hold_ns) of the lease record; pid 0 when free."""
        line = raw[offset : raw.find(b"\n", offset)] if b"\n" in raw[offset:] else raw[offset:]
        if not line.strip():
            return (0, 0, 0, 0, 0)
        try:
            pid, host, token, start, hold = line.split()
            return int(pid), int(host, 16), int(token, 16), int(start), int(hold)
        except ValueError:
            raise NonceError(f"the nonce file {self.path} is corrupt (a bad lease record)") from None

    # -- the lease ------------------------------------------------------------------

    def _take_lease(self, fd: int, raw: bytes) -> bool:
        last, offset = self._split(raw)
        now = time.monotonic_ns()
        me = os.getpid()
        current = raw[offset : offset + len(_FREE_LINE)]
        # Free (or no record yet: a file of an earlier version), or our own hold: take it.
        if current.strip() and current not in (_FREE_LINE, self._record):
            pid, host, _, start, hold = self._holder(raw, offset)
            expired = now >= start + hold or now < start  # now < start: a record from before a reboot
            if pid and not expired and (pid == me or host != _host_identity() or _process_alive(pid)):
                return False
        token = random.getrandbits(63) | 1  # tells holds apart; not a secret
        record = _HOLDER_LINE % (me, _host_identity(), token, now, self._hold_ns)
        if offset == 0 or raw[offset - 1 : offset] != b"\n":
            os.pwrite(fd, _COUNTER_LINE % last + record, 0)
        else:
            os.pwrite(fd, record, offset)
        self._record = record
        return True

    def _drop_lease(self, fd: int, raw: bytes) -> None:
        _, offset = self._split(raw)
        # Still ours? After hold_timeout another process may hold it: not ours to free.
        if self._record and raw[offset : offset + len(self._record)] == self._record:
            os.pwrite(fd, _FREE_LINE, offset)
        self._record = b""

    def acquire(self, timeout: float | None) -> None:
        """Take the lease, waiting at most ``timeout`` seconds (``None``: as long as it takes).

        Raises:
            LeaseTimeout: another live process held the lease for longer.

        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.00005
        while True:
            if self._run(self._take_lease, deadline, "acquire") is True:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise LeaseTimeout(f"timed out waiting for the lease of {self.path}")
            # Back off to at most 1 ms: a holder usually releases within a round trip.
            time.sleep(pause)
            pause = min(pause * 2, 0.001)

    async def acquire_async(self, timeout: float | None) -> None:
        """Take the lease like :meth:`acquire`, polling with ``asyncio.sleep`` (the loop is not blocked)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.00005
        while True:
            if await self._run_async(self._take_lease, deadline, "acquire") is True:
                return
            if deadline is not None and time.monotonic() >= deadline:
                raise LeaseTimeout(f"timed out waiting for the lease of {self.path}")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.001)

    def release(self) -> None:
        """Give the lease back (if this object still holds it; otherwise nothing happens).

        Never raises for a busy file: if the file stays locked by a frozen process
        for ``hold_timeout``, the failure is logged and the lease expires by itself.
        """
        if not self._record or self._pid != os.getpid():
            return
        try:
            self._run(self._drop_lease, _HOLD_BOUND, "release")
        except LeaseTimeout:
            _log.warning("FileNonce %s: could not give the lease back; it expires after hold_timeout", self.path)

    async def release_async(self) -> None:
        """Give the lease back like :meth:`release`, without blocking the loop."""
        if not self._record or self._pid != os.getpid():
            return
        try:
            await self._run_async(self._drop_lease, _HOLD_BOUND, "release")
        except LeaseTimeout:
            _log.warning("FileNonce %s: could not give the lease back; it expires after hold_timeout", self.path)

    # -- nonces ---------------------------------------------------------------------

    def _next_op(self, now: int) -> Callable[[int, bytes], int]:
        def op(fd: int, raw: bytes) -> int:
            last = self._split(raw)[0]
            value = last + 1
            if now > value:
                value = now
            self._write_counter(fd, raw, value)
            return value

        return op

    def _floor_op(self, value: int) -> Callable[[int, bytes], None]:
        def op(fd: int, raw: bytes) -> None:
            if value > self._split(raw)[0]:
                self._write_counter(fd, raw, value)

        return op

    def __call__(self) -> int:
        """Return ``max(clock, last + 1)`` and persist it (with or without the lease held)."""
        return self._run(self._next_op(self._clock() // self._divisor), _HOLD_BOUND, "nonce")

    def raise_floor(self, value: int) -> None:
        """Make every later nonce greater than ``value`` (persisted)."""
        self._run(self._floor_op(value), _HOLD_BOUND, "raise_floor")

    async def next_async(self) -> int:
        """Return the next nonce like calling the source, without blocking the loop."""
        return await self._run_async(self._next_op(self._clock() // self._divisor), _HOLD_BOUND, "nonce")

    async def raise_floor_async(self, value: int) -> None:
        """Make every later nonce greater than ``value``, without blocking the loop."""
        await self._run_async(self._floor_op(value), _HOLD_BOUND, "raise_floor")

    # -- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        """Give a held lease back and close the file descriptor."""
        with self._mutex:
            if self._fd >= 0 and self._pid == os.getpid():
                with contextlib.suppress(Exception):
                    self.release()
                os.close(self._fd)
            self._fd, self._pid, self._record = -1, -1, b""

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def __reduce__(self) -> Any:
        # Rebuilt from the path in the other process: a fresh descriptor, no lease held.
        return (_file_nonce, (self.path, self.unit, self._fsync, self.hold_timeout))

    def __repr__(self) -> str:
        return f"FileNonce({self.path!r}, unit={self.unit!r}, hold_timeout={self.hold_timeout!r})"


def _file_nonce(path: str, unit: Unit, fsync: bool, hold_timeout: float = 30.0) -> FileNonce:
    return FileNonce(path, unit=unit, fsync=fsync, hold_timeout=hold_timeout)


def __getattr__(name: str) -> Any:
    # RedisNonce imports the optional redis client; load it only when asked for.
    if name == "RedisNonce":
        from ._redis import RedisNonce

        return RedisNonce
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
