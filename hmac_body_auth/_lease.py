"""A per-key lease shared by threads and asyncio tasks, with a bounded hold time.

The lease orders requests of one API key: it is taken before the nonce is
allocated and given back when the response arrives, so a later nonce can never
overtake an earlier one on the way to the server. It is handed over in FIFO
order. A holder that vanishes (a request prepared but never sent, a killed
thread) blocks the others for at most ``hold_timeout`` seconds: after that a
waiter takes the lease over.

Threads wait on a ``threading.Event``; tasks wait on an ``asyncio.Future`` woken
with ``call_soon_threadsafe``, so the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Hashable
from typing import Final

from .errors import LeaseTimeout

__all__ = ["Hold", "Lease", "lease_for"]

_FREE: Final = None
# How often a waiter checks whether the holder was abandoned (see _abandoned).
_CHECK_EVERY: Final = 0.05


def _abandoned(holder: object) -> bool:
    """Ask the holder token whether its request can no longer be in flight."""
    check = getattr(holder, "abandoned", None)
    return bool(check()) if check is not None else False


# Code that is on a thread's stack while a requests call is being prepared or sent
# (file names only: this module imports no HTTP client).
_SENDING_CODE = ("requests" + os.sep + "sessions.py", "requests" + os.sep + "adapters.py", "_requests.py")
# How long a requests holder may sit outside requests' send path before it counts as
# abandoned (its request failed or was never sent). Covers prepare_request() ... send().
_OUTSIDE_GRACE = 0.25


class Hold:
    """A lease token: who holds the per-key lease, from which thread, through which client."""

    __slots__ = ("__weakref__", "outside_since", "thread", "via_requests")

    def __init__(self, *, via_requests: bool) -> None:
        self.thread = threading.get_ident()
        self.via_requests = via_requests
        self.outside_since: float | None = None

    def abandoned(self) -> bool:
        """Whether this holder's request can no longer be in flight (waiters poll this).

        httpx flows release in ``finally`` and never count as abandoned. A requests
        holder whose thread has ended, or has stayed out of requests' send path for
        ``_OUTSIDE_GRACE`` seconds, has either failed to send (the exception
        skipped the response hook) or dropped the prepared request.
        """
        if not self.via_requests:
            return False
        frame = sys._current_frames().get(self.thread)
        if frame is None:
            return True
        while frame is not None:
            if frame.f_code.co_filename.endswith(_SENDING_CODE):
                self.outside_since = None
                return False
            frame = frame.f_back
        now = time.monotonic()
        if self.outside_since is None:
            self.outside_since = now
        return now - self.outside_since >= _OUTSIDE_GRACE


class _Waiter:
    __slots__ = ("event", "future", "loop", "since", "token")

    def __init__(self, token: object) -> None:
        self.token = token
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


class Lease:
    """Mutual exclusion across threads and tasks, released by token, with a bounded hold.

    A released lease is free for whoever asks first (the head waiter is woken to
    ask): handing it to a sleeping waiter would leave it idle until that waiter
    is scheduled, which under the GIL costs more than the request. A waiter that
    has waited ``handoff_after`` seconds is handed the lease directly instead, so
    nobody starves. Only the head waiter polls for an expired or abandoned holder.
    """

    def __init__(self, hold_timeout: float = 30.0, handoff_after: float = 0.25) -> None:
        self.hold_timeout = hold_timeout
        self.handoff_after = handoff_after
        self._mutex = threading.Lock()
        self._holder: object | None = _FREE
        self._expires = 0.0
        self._waiters: deque[_Waiter] = deque()

    @property
    def holder(self) -> object | None:
        """The token that holds the lease now, or ``None``."""
        return self._holder

    def _take(self, token: object) -> None:
        self._holder = token
        self._expires = time.monotonic() + self.hold_timeout

    def _leave(self, waiter: _Waiter) -> None:
        # Called with the mutex held: the next waiter becomes head and must poll.
        if waiter in self._waiters:
            was_head = self._waiters[0] is waiter
            self._waiters.remove(waiter)
            if was_head and self._waiters:
                self._waiters[0].wake()

    def _try_take(self, waiter: _Waiter | None, token: object) -> bool:
        # Called with the mutex held.
        if self._holder is token:
            if waiter is not None:
                self._leave(waiter)
            return True
        if self._holder is _FREE or time.monotonic() >= self._expires or _abandoned(self._holder):
            if waiter is not None:
                self._leave(waiter)
            self._take(token)
            return True
        return False

    def _wait_time(self, waiter: _Waiter, deadline: float | None) -> float | None:
        # Called with the mutex held. Non-head waiters sleep until woken.
        wait: float | None = None
        if self._waiters and self._waiters[0] is waiter:
            wait = min(max(self._expires - time.monotonic(), 0.0) + 0.001, _CHECK_EVERY)
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.0)
            wait = left if wait is None else min(wait, left)
        return wait

    def acquire(self, token: object, timeout: float | None = None) -> None:
        """Block the calling thread until ``token`` holds the lease."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._mutex:
            if self._try_take(None, token):
                return
            waiter = _Waiter(token)
            event = waiter.event = threading.Event()
            self._waiters.append(waiter)
        while True:
            with self._mutex:
                wait = self._wait_time(waiter, deadline)
            event.wait(wait)
            with self._mutex:
                event.clear()
                if self._try_take(waiter, token):
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    self._leave(waiter)
                    raise LeaseTimeout("timed out waiting for the per-key ordering lease")

    async def acquire_async(self, token: object, timeout: float | None = None) -> None:
        """Wait, without blocking the event loop, until ``token`` holds the lease."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._mutex:
            if self._try_take(None, token):
                return
            waiter = _Waiter(token)
            waiter.loop = loop
            waiter.future = loop.create_future()
            self._waiters.append(waiter)
        try:
            while True:
                with self._mutex:
                    wait = self._wait_time(waiter, deadline)
                    future = waiter.future
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(future), wait)
                with self._mutex:
                    if future.done():
                        waiter.future = loop.create_future()
                    if self._try_take(waiter, token):
                        return
                    if deadline is not None and time.monotonic() >= deadline:
                        self._leave(waiter)
                        raise LeaseTimeout("timed out waiting for the per-key ordering lease")
        except BaseException:
            # Cancelled while waiting: leave the queue, and pass the lease on if it
            # was just handed to us.
            with self._mutex:
                self._leave(waiter)
            if self._holder is token:
                self.release(token)
            raise

    def release(self, token: object) -> bool:
        """Give the lease back if ``token`` holds it; return whether it did."""
        with self._mutex:
            if self._holder is not token:
                return False
            self._holder = _FREE
            if self._waiters:
                head = self._waiters[0]
                if time.monotonic() - head.since >= self.handoff_after:
                    # Waited long enough: hand over directly, no newcomer may take it.
                    self._waiters.popleft()
                    self._take(head.token)
                    if self._waiters:
                        self._waiters[0].wake()
                head.wake()
            return True


_registry: dict[Hashable, Lease] = {}
_registry_lock = threading.Lock()


def lease_for(scope: Hashable, hold_timeout: float) -> Lease:
    """Return the process-wide lease of ``scope`` (one per API key and nonce store)."""
    with _registry_lock:
        lease = _registry.get(scope)
        if lease is None:
            lease = _registry[scope] = Lease(hold_timeout)
        else:
            lease.hold_timeout = min(lease.hold_timeout, hold_timeout)
        return lease
