"""Nonce sources: where increasing nonces come from, and how senders are ordered.

Any zero-argument callable returning an ``int`` works as ``nonce=``. A source
that also implements :class:`OrderedNonceSource` tells the auth how to order
senders beyond one process (a file lock, a Redis lock) and lets the auth raise
its floor after the server reports a nonce error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import ClassVar, Literal, Protocol, runtime_checkable

from .errors import ConfigurationError

__all__ = [
    "ClockNonce",
    "NonceSource",
    "OrderedNonceSource",
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

    scope: Hashable
    interprocess: bool

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
