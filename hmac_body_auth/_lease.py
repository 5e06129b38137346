"""The per-key ordering lease: mutual exclusion across threads and tasks, with bounded holds.

This layer knows no HTTP client. A :class:`Lease` orders the requests of one key
(one nonce scope): a :class:`Hold` is taken before the nonce is allocated and
released when the response arrives, so a later nonce never overtakes an earlier
one on the way to the server. The contract (docs/nonces.md):

- **Taken** by the request lifecycle before it allocates a nonce; **released**
  exactly once, when the response headers arrive or the send fails.
- **Bounded**: each hold carries its own ``hold_timeout`` (the ``lease_timeout``
  of the auth that took it). A holder that vanished without releasing blocks the
  others at most that long; then a waiter takes the lease over.
- **Re-entrant per owner**: a hold is *active* while its owner (a thread, or an
  asyncio task) is the one sending it. A same-key request made by that owner
  while it holds the lease (from an event hook, a signal handler, a blocking
  call inside the owner's event loop) can never be waited for, since the owner
  cannot release while it waits: it gets a *nested* hold and proceeds at once.
- **Fork-safe**: in a child process every lease starts free with no waiters
  (the parent's holders and waiters do not exist there).

Threads wait on a ``threading.Event``; tasks on an ``asyncio.Future`` woken with
``call_soon_threadsafe``, so an event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Hashable
from typing import Final

from .errors import LeaseTimeout

__all__ = ["Hold", "Lease", "lease_for"]

# How often the head waiter checks whether the holder's hold has expired.
_CHECK_EVERY: Final = 0.05
# When the head waiter of a collectable hold runs a young-generation and then a
# full garbage collection, so that a hold whose request was dropped inside a
# reference cycle (requests' exception tracebacks are cycles) ends at once.
_COLLECT_AFTER: Final = (0.01, 1.0)


def _collect(holder: Hold, waiter: _Waiter) -> bool:
    """Run the next due garbage collection for a collectable holder; return whether one ran."""
    if not holder.collectable or holder.collected >= len(_COLLECT_AFTER):
        return False
    if time.monotonic() - waiter.since < _COLLECT_AFTER[holder.collected]:
        return False
    holder.collected += 1
    gc.collect(1 if holder.collected == 1 else 2)
    return True


def _current_task() -> asyncio.Task[object] | None:
    # Without a running loop there is no task (and asyncio.current_task() would raise).
    loop = _get_running_loop()
    return None if loop is None else asyncio.current_task(loop)


_get_running_loop = asyncio.events._get_running_loop
_get_ident = threading.get_ident
_task_of = asyncio.current_task


class Hold:
    """One holder's claim on a lease: who owns it, until when, and whether it is nested."""

    __slots__ = ("__weakref__", "active", "collectable", "collected", "expires", "nested", "task", "thread", "timeout")

    # Positional: a hold is taken for every request, and keyword arguments cost it about 0.3 us more.
    def __init__(self, timeout: float, active: bool, collectable: bool = False) -> None:
        self.timeout = timeout
        #: Ended when the object it belongs to is garbage-collected (see Lease.abandon).
        self.collectable = collectable
        self.collected = 0
        self.expires = 0.0
        self.thread = _get_ident()
        # _current_task(), inline: a hold is taken for every request.
        loop = _get_running_loop() if active else None
        self.task = None if loop is None else _task_of(loop)
        self.active = active
        #: Taken by the lease's owner again (re-entrant): it owns nothing.
        self.nested = False

    def activate(self) -> None:
        """Mark the hold as being sent by the calling thread (it now owns it)."""
        self.thread = threading.get_ident()
        self.task = None
        self.active = True


class _Waiter:
    __slots__ = ("event", "future", "hold", "loop", "since")

    def __init__(self, hold: Hold) -> None:
        self.hold = hold
        self.since = time.monotonic()
        self.event: threading.Event | None = None
        self.future: asyncio.Future[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()
        elif self.future is not None and self.loop is not None:
            future = self.future

            def _set() -> None:
                if not future.done():
                    future.set_result(None)

            # A closed loop raises RuntimeError: its task is gone too, nothing to wake.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(_set)


_leases: weakref.WeakSet[Lease] = weakref.WeakSet()
#: How long a waiter waits before the lease is handed to it directly (s).
_HANDOFF_AFTER = 0.25


class Lease:
    """Mutual exclusion across threads and tasks, released by hold, each hold bounded in time.

    A released lease is free for whoever asks first (the head waiter is woken to
    ask): handing it to a sleeping waiter would leave it idle until that waiter
    is scheduled, which under the GIL costs more than the request. A waiter that
    has waited ``handoff_after`` seconds is handed the lease directly instead, so
    nobody starves. Only the head waiter polls for an expired holder.
    """

    def __init__(self, handoff_after: float = _HANDOFF_AFTER) -> None:
        self.handoff_after = handoff_after
        self._reset()
        _leases.add(self)

    def _reset(self) -> None:
        self._mutex = threading.Lock()
        self._holder: Hold | None = None
        self._waiters: deque[_Waiter] = deque()

    @property
    def holder(self) -> Hold | None:
        """The hold that owns the lease now, or ``None``."""
        return self._holder

    # -- with the mutex held ----------------------------------------------------

    def _free_for_taking(self) -> bool:
        holder = self._holder
        return holder is None or time.monotonic() >= holder.expires

    def _take(self, hold: Hold) -> Hold:
        hold.expires = time.monotonic() + hold.timeout
        self._holder = hold
        return hold

    def _leave(self, waiter: _Waiter) -> None:
        # The next waiter becomes head and must poll.
        if waiter in self._waiters:
            was_head = self._waiters[0] is waiter
            self._waiters.remove(waiter)
            if was_head and self._waiters:
                self._waiters[0].wake()

    def _wait_time(self, waiter: _Waiter, deadline: float | None) -> float | None:
        # Non-head waiters sleep until woken; the head polls for an expired holder.
        wait: float | None = None
        holder = self._holder
        if self._waiters and self._waiters[0] is waiter and holder is not None:
            wait = min(max(holder.expires - time.monotonic(), 0.0) + 0.001, _CHECK_EVERY)
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.0)
            wait = left if wait is None else min(wait, left)
        return wait

    def _reentrant(self, *, blocking: bool) -> bool:
        # The owner of the current hold asks again: it cannot release while it
        # waits, so waiting would only ever end by timeout.
        holder = self._holder
        if holder is None or not holder.active or holder.thread != threading.get_ident():
            return False
        # A blocking wait stops this whole thread, whichever task the holder is.
        return blocking or holder.task is None or holder.task is _current_task()

    def _claim(self, waiter: _Waiter | None, hold: Hold) -> bool:
        if self._holder is hold:
            # Handed over by release() while this waiter slept.
            if waiter is not None:
                self._leave(waiter)
            return True
        if self._free_for_taking():
            if waiter is not None:
                self._leave(waiter)
            self._take(hold)
            return True
        return False

    # -- public ---------------------------------------------------------------

    def acquire(
        self, *, hold_timeout: float, wait: float | None = None, active: bool = True, collectable: bool = False
    ) -> Hold:
        """Block the calling thread until it holds the lease; return the hold.

        ``active=False`` takes a hold whose sender is not known yet (requests
        prepares in one thread and may send from another); see :meth:`Hold.activate`.
        Raises :class:`~hmac_body_auth.LeaseTimeout` after ``wait`` seconds.
        """
        deadline = None if wait is None else time.monotonic() + wait
        hold = Hold(hold_timeout, active, collectable)
        with self._mutex:
            if self._holder is None:
                # Free (the common case): what _claim() does then, inline.
                hold.expires = time.monotonic() + hold_timeout
                self._holder = hold
                return hold
            if self._reentrant(blocking=True):
                hold.nested = True
                return hold
            if self._claim(None, hold):
                return hold
            waiter = _Waiter(hold)
            event = waiter.event = threading.Event()
            self._waiters.append(waiter)
        while True:
            with self._mutex:
                timeout = self._wait_time(waiter, deadline)
                holder = self._holder if self._waiters and self._waiters[0] is waiter else None
            if holder is not None and _collect(holder, waiter):
                timeout = 0.0
            event.wait(timeout)
            with self._mutex:
                event.clear()
                if self._claim(waiter, hold):
                    return hold
                if deadline is not None and time.monotonic() >= deadline:
                    self._leave(waiter)
                    raise LeaseTimeout("timed out waiting for the per-key ordering lease")

    def try_acquire(self, *, hold_timeout: float) -> Hold | None:
        """The calling task's (or thread's) hold if the lease is free now; ``None`` otherwise (nothing taken)."""
        hold = Hold(hold_timeout, True)
        with self._mutex:
            if self._holder is None:
                # Free (the common case): what _claim() does then, inline.
                hold.expires = time.monotonic() + hold_timeout
                self._holder = hold
                return hold
        return None

    def take_now(
        self,
        *,
        hold_timeout: float,
        active: bool = True,
        collectable: bool = False,
        free: bool = True,
        nested: bool = True,
        blocking: bool = True,
    ) -> Hold | None:
        """A hold if one needs no waiting, else ``None`` (nothing taken).

        With ``free``: the lease is free, or its holder's hold expired (a vanished
        holder: taken over, as a waiter would). With ``nested``: it is held by the
        calling owner, who gets a nested hold (``blocking``: the caller would block its
        whole thread, whichever task holds it, as :meth:`acquire` does; else only the
        holding task is the owner). For a lease whose waiting is done elsewhere (a
        pool's, over several leases): a lease with waiters of its own is not taken past them.
        """
        hold = Hold(hold_timeout, active, collectable)
        with self._mutex:
            if free and self._holder is None and not self._waiters:
                hold.expires = time.monotonic() + hold_timeout
                self._holder = hold
                return hold
            if nested and self._reentrant(blocking=blocking):
                hold.nested = True
                return hold
            if free and not self._waiters and self._free_for_taking():
                self._take(hold)
                return hold
        return None

    def hand_over(self, hold: Hold, to: Hold) -> bool:
        """End ``hold`` by giving the lease to ``to`` at once (its bound starts now); ``False``: it was not the holder.

        For a lease whose waiters queue elsewhere (a pool's): the longest of them is
        handed the lease directly, as :meth:`release` hands it to one that waited long.
        """
        if hold.nested:
            return False
        with self._mutex:
            if self._holder is not hold:
                return False
            self._take(to)
            return True

    async def acquire_async(self, *, hold_timeout: float, wait: float | None = None) -> Hold:
        """Wait, without blocking the event loop, until the calling task holds the lease."""
        free = self.try_acquire(hold_timeout=hold_timeout)
        if free is not None:
            return free
        hold = Hold(hold_timeout, True)
        loop = asyncio.get_running_loop()
        deadline = None if wait is None else time.monotonic() + wait
        with self._mutex:
            if self._reentrant(blocking=False):
                hold.nested = True
                return hold
            if self._claim(None, hold):
                return hold
            waiter = _Waiter(hold)
            waiter.loop = loop
            waiter.future = loop.create_future()
            self._waiters.append(waiter)
        try:
            while True:
                with self._mutex:
                    timeout = self._wait_time(waiter, deadline)
                    future = waiter.future
                    holder = self._holder if self._waiters and self._waiters[0] is waiter else None
                if holder is not None and _collect(holder, waiter):
                    timeout = 0.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(future), timeout)
                with self._mutex:
                    if future.done():
                        waiter.future = loop.create_future()
                    if self._claim(waiter, hold):
                        return hold
                    if deadline is not None and time.monotonic() >= deadline:
                        self._leave(waiter)
                        raise LeaseTimeout("timed out waiting for the per-key ordering lease")
        except BaseException:
            # Cancelled while waiting: leave the queue, and pass the lease on if it
            # was just handed to us.
            with self._mutex:
                self._leave(waiter)
            if self._holder is hold:
                self.release(hold)
            raise

    def abandon(self, hold: Hold) -> None:
        """End ``hold`` without taking the mutex (safe from a garbage-collection callback).

        The hold counts as expired at once: the next acquirer, or the head waiter
        (woken here), takes the lease over.
        """
        if hold.nested:
            return
        hold.expires = 0.0
        # The queue may be emptied by another thread meanwhile: then nobody to wake.
        with contextlib.suppress(IndexError):
            self._waiters[0].wake()

    def release(self, hold: Hold) -> bool:
        """End ``hold``; return whether it still owned the lease (nested holds own nothing)."""
        if hold.nested:
            return False
        with self._mutex:
            if self._holder is not hold:
                return False
            self._holder = None
            if self._waiters:
                head = self._waiters[0]
                if time.monotonic() - head.since >= self.handoff_after:
                    # Waited long enough: hand over directly, no newcomer may take it.
                    self._waiters.popleft()
                    self._take(head.hold)
                    if self._waiters:
                        self._waiters[0].wake()
                head.wake()
            return True


# scope -> a weak reference to its lease, whose callback removes the entry. (A plain dict
# of weak references costs an auth built per call about 1 us less than a WeakValueDictionary.)
_registry: dict[Hashable, weakref.ref[Lease]] = {}
# Re-entrant: a dropped lease's callback takes it, and may run in a thread that already
# holds it (a garbage collection inside lease_for).
_registry_lock = threading.RLock()


def lease_for(scope: Hashable) -> Lease:
    """Return the process-wide lease of ``scope`` (one per API key and nonce store).

    Held weakly: a scope's lease lives as long as an auth object uses it.
    """
    # A live lease found without the lock is the scope's (an entry is replaced only once its lease is gone).
    ref = _registry.get(scope)
    lease = ref() if ref is not None else None
    if lease is not None:
        return lease
    with _registry_lock:
        ref = _registry.get(scope)
        lease = ref() if ref is not None else None
        if lease is None:
            # Not in _leases: a registered lease is found through the registry after a fork.
            lease = object.__new__(Lease)
            lease.handoff_after = _HANDOFF_AFTER
            lease._reset()
            _registry[scope] = weakref.ref(lease, functools.partial(_forget, scope))
        return lease


def _forget(scope: Hashable, ref: weakref.ref[Lease]) -> None:
    """Drop the registry entry of a lease that went away (its weakref callback)."""
    with _registry_lock:
        if _registry.get(scope) is ref:
            del _registry[scope]


def _after_fork_in_child() -> None:
    # Only the forking thread exists in the child: the parent's holders and
    # waiters are gone, and a mutex another thread held would stay held forever.
    global _registry_lock
    _registry_lock = threading.RLock()
    registered = (ref() for ref in list(_registry.values()))
    for lease in [*_leases, *(lease for lease in registered if lease is not None)]:
        lease._reset()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)
