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
    __slots__ = ("event", "future", "loop", "token")

    def __init__(self, token: object) -> None:
        self.token = token
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
    """FIFO mutual exclusion across threads and tasks, released by token."""

    def __init__(self, hold_timeout: float = 30.0) -> None:
        self.hold_timeout = hold_timeout
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

    def _try_take(self, waiter: _Waiter | None, token: object) -> bool:
        # Called with the mutex held.
        if self._holder is token:
            return True
        now = time.monotonic()
        free = self._holder is _FREE and (not self._waiters or self._waiters[0] is waiter)
        if free or (self._holder is not _FREE and (now >= self._expires or _abandoned(self._holder))):
            if waiter is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
            self._take(token)
            return True
        return False

    def acquire(self, token: object, timeout: float | None = None) -> None:
        """Block the calling thread until ``token`` holds the lease."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._mutex:
            if self._try_take(None, token):
                return
            waiter = _Waiter(token)
            waiter.event = threading.Event()
            self._waiters.append(waiter)
        while True:
            with self._mutex:
                wait = min(max(self._expires - time.monotonic(), 0.0) + 0.001, _CHECK_EVERY)
            if deadline is not None:
                wait = min(wait, max(deadline - time.monotonic(), 0.0))
            waiter.event.wait(wait)
            with self._mutex:
                waiter.event.clear()
                if self._try_take(waiter, token):
                    return
                if deadline is not None and time.monotonic() >= deadline:
                    self._waiters.remove(waiter)
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
                    wait = min(max(self._expires - time.monotonic(), 0.0) + 0.001, _CHECK_EVERY)
                if deadline is not None:
                    wait = min(wait, max(deadline - time.monotonic(), 0.0))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter.future), wait)
                with self._mutex:
                    if waiter.future.done():
                        waiter.future = loop.create_future()
                    if self._try_take(waiter, token):
                        return
                    if deadline is not None and time.monotonic() >= deadline:
                        self._waiters.remove(waiter)
                        raise LeaseTimeout("timed out waiting for the per-key ordering lease")
        except BaseException:
            # Cancelled while waiting: leave the queue, and pass the lease on if it
            # was just handed to us.
            with self._mutex:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
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
                # Hand over directly so a newcomer cannot jump the queue.
                waiter = self._waiters.popleft()
                self._take(waiter.token)
                waiter.wake()
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
