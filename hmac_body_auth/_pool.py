"""A pool of keys: one ``auth=`` object over several keys of the same API.

Ordering per key caps a key at one request per round trip. A pool gives each
request a free key (round-robin among the free ones; when all are busy, the first
to free up, first come first served), so N keys carry about N times the ordered
throughput of one, each key still strictly ordered. Client-free: the pool is a
:class:`~hmac_body_auth._lifecycle.Policy` whose calls choose their member when
they take the lease, so every adapter (requests, httpx, httpx2, aiohttp) drives a
pool exactly as it drives one auth.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._lease import Hold, Lease
from ._lifecycle import Call, Decision, Policy, ResentBytes
from ._signing import mask_key
from .errors import ConfigurationError, LeaseTimeout

if TYPE_CHECKING:
    from ._auth import HmacAuth

__all__ = ["PoolPolicy", "PooledCall", "build"]

log = logging.getLogger("hmac_body_auth")

#: Answers that usually mean "this key is not valid (here)": logged with the masked key.
_KEY_REFUSED = frozenset({401, 403})


@dataclass(eq=False)
class _Member:
    index: int
    policy: Policy
    masked: str
    sent: collections.deque[float] = field(default_factory=collections.deque)
    #: The pool's own claim on this key: one call at a time, with a lease's bounds (each hold
    #: expires after the member's lease_timeout, a dropped request's hold ends when it is
    #: collected, a nested hold for the call's own owner, every hold free after a fork).
    slot: Lease = field(default_factory=Lease)


class _Waiter:
    """A request waiting for a key (FIFO): handed one directly when a key is given back.

    ``hold`` is made in the waiting thread or task, so that the slot hold it is handed
    belongs to that owner (re-entrancy, ``sending()``); its bound starts when it is handed.
    """

    __slots__ = ("collect", "collected", "event", "future", "hold", "loop", "member", "since")

    def __init__(self, loop: asyncio.AbstractEventLoop | None, active: bool, collectable: bool) -> None:
        self.loop = loop
        self.since = time.monotonic()
        self.collected = 0
        #: The garbage collection (generation) due before the next look, 0 for none.
        self.collect = 0
        self.hold = Hold(0.0, active, collectable)
        self.member: _Member | None = None
        self.event = threading.Event() if loop is None else None
        self.future: asyncio.Future[None] | None = loop.create_future() if loop is not None else None

    def runs(self) -> bool:
        """Whether it can take a key handed to it now: a thread, or a task of a running event loop."""
        return self.loop is None or self.loop.is_running()

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()
        elif self.loop is not None and self.future is not None:
            # A closed loop raises RuntimeError: its task is gone too, nothing to wake.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(_resolve, self.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


#: How often the head waiter looks again for a key whose hold ended by itself (expired, collected).
_CHECK_EVERY = 0.05
#: How often a waiter that is not the first looks again all the same (s): a first one whose
#: loop stopped (not closed) is passed over, and then the next looks for expired holds.
_LOOK_EVERY = 0.5
#: When the head waiter runs a young-generation, then a full, garbage collection while a key is
#: held by a collectable hold (a request dropped inside a reference cycle ends its hold then).
_COLLECT_AFTER = (0.01, 1.0)

#: Every pool's slots, for the fork hook (in a child the parent's waiters do not exist).
_all_slots: weakref.WeakSet[_Slots] = weakref.WeakSet()


class _Slots:
    """Which members are free: each member's slot lease, taken round-robin; waiting FIFO across them."""

    def __init__(self, members: list[_Member], rate: tuple[int, float] | None) -> None:
        self.members = members
        self.rate = rate
        self._next = 0
        self._reset()
        _all_slots.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._waiters: collections.deque[_Waiter] = collections.deque()

    def _pick(self, active: bool, collectable: bool, blocking: bool, free: bool = True) -> tuple[_Member, Hold] | None:
        # Round-robin among the free members, preferring one whose budget allows a request
        # now (and, where a key is shared with other auth objects, one whose own lease is not
        # held); only then a nested hold of a member the caller holds already (a request
        # from its own hook proceeds at once, as with one auth). ``free=False``: the nested
        # hold only (it takes nothing from anyone, so it never queues behind the waiters).
        # Members are looked at without their mutex first: only one that may be free (or the
        # caller's own) is asked, under its mutex, by take_now().
        now = time.monotonic()
        me = threading.get_ident()
        candidates: list[tuple[float, int, _Member]] = []
        own: list[_Member] = []
        count = len(self.members)
        for step in range(count):
            member = self.members[(self._next + step) % count]
            holder = member.slot.holder
            if holder is not None and holder.expires > now:
                if holder.thread == me:
                    own.append(member)
                continue
            if not free:
                continue
            ready = self.ready_at(member)
            lease = member.policy.lease
            if lease is not None and lease.holder is not None:
                ready += 1.0  # taken elsewhere: only if nothing better is free
            candidates.append((ready, step, member))
        if len(candidates) > 1:
            candidates.sort(key=lambda candidate: candidate[:2])
        for _, _, member in candidates:
            hold = member.slot.take_now(
                hold_timeout=member.policy.lease_timeout, active=active, collectable=collectable, nested=False
            )
            if hold is not None:
                self._next = (member.index + 1) % count
                return member, hold
        for member in own:
            hold = member.slot.take_now(
                hold_timeout=member.policy.lease_timeout,
                active=active,
                collectable=collectable,
                free=False,
                blocking=blocking,
            )
            if hold is not None:
                return member, hold
        return None

    def ready_at(self, member: _Member) -> float:
        """When the member's budget allows its next request (0: now), in ``time.monotonic()`` terms."""
        if self.rate is None:
            return 0.0
        limit, per = self.rate
        sent = member.sent
        now = time.monotonic()
        while sent and sent[0] <= now - per:
            sent.popleft()
        return 0.0 if len(sent) < limit else sent[0] + per

    def _first(self) -> _Waiter | None:
        """The first waiter that can take a key now (None: nobody can)."""
        waiters = self._waiters
        # A task whose event loop was closed while it waited never looks again: out of the queue.
        while waiters and waiters[0].loop is not None and waiters[0].loop.is_closed():
            waiters.popleft()
        # One whose loop stopped without being closed keeps its place, but is passed over.
        return next((waiter for waiter in waiters if waiter.runs()), None)

    def try_take(
        self,
        loop: asyncio.AbstractEventLoop | None,
        *,
        active: bool = True,
        collectable: bool = False,
        blocking: bool = True,
    ) -> tuple[_Member, Hold] | _Waiter:
        """A member and its slot hold now, or the waiter queued for one (then :meth:`retry`, :meth:`leave`)."""
        with self._lock:
            got = self._pick(active, collectable, blocking, free=self._first() is None)
            if got is not None:
                return got
            waiter = _Waiter(loop, active, collectable)
            self._waiters.append(waiter)
            return waiter

    def retry(
        self, waiter: _Waiter, *, active: bool, collectable: bool, blocking: bool
    ) -> tuple[_Member, Hold] | float:
        """For a woken (or polling) waiter: the member it was handed, or one it may take now; else how long to wait."""
        if waiter.collect:
            generation, waiter.collect = waiter.collect, 0
            gc.collect(generation)
        with self._lock:
            if waiter.member is not None:
                return waiter.member, waiter.hold
            first = self._first() is waiter
            # The first looks for a key whose hold ended by itself (expired, collected); any
            # waiter may get a nested hold of a key its owner holds.
            got = self._pick(active, collectable, blocking, free=first)
            if got is not None:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                return got
            return self._poll_wait(waiter) if first else _LOOK_EVERY

    def _poll_wait(self, waiter: _Waiter) -> float:
        # Until the first slot hold would expire (at most _CHECK_EVERY); a collectable holder
        # (a request prepared and maybe dropped) gets the garbage collections a lease runs.
        now = time.monotonic()
        soonest = _CHECK_EVERY
        collectable = False
        for member in self.members:
            holder = member.slot.holder
            if holder is not None:
                soonest = min(soonest, max(holder.expires - now, 0.0) + 0.001)
                collectable = collectable or holder.collectable
        due = waiter.collected < len(_COLLECT_AFTER) and now - waiter.since >= _COLLECT_AFTER[waiter.collected]
        if collectable and due:
            waiter.collected += 1
            waiter.collect = 1 if waiter.collected == 1 else 2  # run by the waiter, outside the lock
            return 0.0
        return soonest

    def leave(self, waiter: _Waiter) -> tuple[_Member, Hold] | None:
        """A waiter timed out or was cancelled: out of the queue; what it was handed meanwhile, if anything."""
        with self._lock:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            if waiter.member is not None:
                return waiter.member, waiter.hold
            following = self._first()
        if following is not None:
            following.wake()  # it may be first now: it looks
        return None

    def timed_out(self, waiter: _Waiter, wait: float) -> tuple[_Member, Hold]:
        """The waiter's bound passed: the key it was handed at the last moment, else LeaseTimeout."""
        handed = self.leave(waiter)
        if handed is None:
            raise LeaseTimeout(f"no key of the pool was free within {wait:g} s")
        return handed

    def interrupted(self, waiter: _Waiter) -> None:
        """The waiter was cancelled or interrupted: out of the queue, and a key handed to it meanwhile to the next."""
        handed = self.leave(waiter)
        if handed is not None:
            self.give_back(*handed)

    def give_back(self, member: _Member, hold: Hold) -> None:
        """End a call's slot hold: the key goes straight to the first waiter that can take it, else it is free."""
        if hold.nested:
            return
        with self._lock:
            waiter = self._first()
            if waiter is not None:
                waiter.hold.timeout = member.policy.lease_timeout
                if not member.slot.hand_over(hold, waiter.hold):
                    return  # taken over meanwhile (its hold had expired): nothing to give
                self._waiters.remove(waiter)
                waiter.member = member
                following = self._first()
            else:
                # Under the pool's lock (then the slot's, the order _pick takes them in): a
                # request that finds the key still held queues, and is handed it here.
                member.slot.release(hold)
                return
        waiter.wake()
        if following is not None:
            following.wake()  # first now: it looks for a key whose hold ran out meanwhile

    def wake_head(self) -> None:
        """Wake the first waiter (it looks for a key whose hold ended), without the lock: from a GC callback too."""
        with contextlib.suppress(IndexError, RuntimeError):
            for waiter in list(self._waiters):  # a copy: made in C, no other thread changes it meanwhile
                if waiter.runs():
                    waiter.wake()
                    return

    def record(self, member: _Member) -> None:
        if self.rate is not None:
            with self._lock:
                member.sent.append(time.monotonic())


def _after_fork_in_child() -> None:
    # The slot leases start free (the lease module's own hook); the waiters were the parent's.
    for slots in list(_all_slots):
        slots._reset()


if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


class PoolPolicy(Policy):
    """The pool's lifecycle: the first member's configuration, and calls that choose their key at hold time."""

    slots: _Slots
    wait: float

    def call(self, method: str, url: str, content_type: str | None, body: str | bytes | None) -> Call:
        """A call that takes a free member's key (and lease) in :meth:`Call.hold`."""
        call = super().call(method, url, content_type, body)
        return PooledCall(self, call.out)


class PooledCall(Call):
    """A :class:`Call` that takes a member when it takes the lease and gives it back when it releases."""

    __slots__ = ("_member", "_pool", "_slot", "_slot_shortened")

    def __init__(self, pool: PoolPolicy, out: Any) -> None:
        super().__init__(pool, out)
        self._pool = pool
        self._member: _Member | None = None
        self._slot: Hold | None = None
        # Its own flag: a member without a lease (ordered=False) has no hold for Call's to follow.
        self._slot_shortened = False

    def _take(self, active: bool) -> tuple[_Member, Hold]:
        slots = self._pool.slots
        got = slots.try_take(None, active=active, collectable=not active, blocking=True)
        if not isinstance(got, _Waiter):
            return got
        waiter = got
        assert waiter.event is not None
        # A little past the bound, so that a key whose hold expires at the bound is taken over.
        deadline = time.monotonic() + self._pool.wait + _CHECK_EVERY
        try:
            while True:
                taken = slots.retry(waiter, active=active, collectable=not active, blocking=True)
                if not isinstance(taken, float):
                    return taken
                if time.monotonic() >= deadline:
                    return slots.timed_out(waiter, self._pool.wait)
                waiter.event.wait(min(taken, max(deadline - time.monotonic(), 0.0)))
                waiter.event.clear()
        except BaseException:
            slots.interrupted(waiter)
            raise

    async def _take_async(self) -> tuple[_Member, Hold]:
        slots = self._pool.slots
        loop = asyncio.get_running_loop()
        got = slots.try_take(loop, blocking=False)
        if not isinstance(got, _Waiter):
            return got
        waiter = got
        deadline = time.monotonic() + self._pool.wait + _CHECK_EVERY
        try:
            while True:
                taken = slots.retry(waiter, active=True, collectable=False, blocking=False)
                if not isinstance(taken, float):
                    return taken
                if time.monotonic() >= deadline:
                    return slots.timed_out(waiter, self._pool.wait)
                future = waiter.future
                assert future is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(future), min(taken, max(deadline - time.monotonic(), 0.0)))
                if future.done():
                    waiter.future = loop.create_future()
        except BaseException:
            slots.interrupted(waiter)
            raise

    @property
    def ordered(self) -> bool:
        """A pool call always takes a member (one request per key at a time), whatever its lease."""
        return not self.streamed

    @property
    def holding(self) -> bool:
        """Whether the call holds a member of the pool (and its lease, where it has one)."""
        return self._member is not None or super().holding

    def _use(self, member: _Member, slot: Hold) -> None:
        self._member = member
        self._slot = slot
        self.policy = member.policy

    def hold(self, *, active: bool = True) -> None:
        """Take a free member (waiting FIFO), honour its budget, then take its lease."""
        if self._member is not None:
            return
        member, slot = self._take(active)
        self._use(member, slot)  # first: whatever interrupts what follows gives the key back
        try:
            wait = self._pool.slots.ready_at(member) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            super().hold(active=active)
            self._pool.slots.record(member)
        except BaseException:
            self._give_back()
            raise

    def hold_now(self) -> bool:
        """Whether the call holds its member already; a free member is taken by :meth:`hold_async` only."""
        return self._member is not None

    async def hold_async(self) -> None:
        """As :meth:`hold`, without blocking the event loop."""
        if self._member is not None:
            return
        member, slot = await self._take_async()
        self._use(member, slot)  # first: a cancellation while it waits for the budget gives the key back
        try:
            wait = self._pool.slots.ready_at(member) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await super().hold_async()
            self._pool.slots.record(member)
        except BaseException:
            self._give_back()
            raise

    def shorten_hold(self, seconds: float) -> None:
        """As :meth:`Call.shorten_hold`, for the member too (a hop nobody sends frees its key)."""
        super().shorten_hold(seconds)
        slot = self._slot
        if slot is not None and not slot.nested:
            slot.expires = min(slot.expires, time.monotonic() + seconds)
            self._slot_shortened = True

    def sending(self) -> None:
        """As :meth:`Call.sending`, for the member too (the sending thread owns it, for its whole bound)."""
        super().sending()
        slot = self._slot
        if slot is None:
            return
        if not slot.active:
            slot.activate()
        if self._slot_shortened:
            self._slot_shortened = False
            slot.expires = time.monotonic() + slot.timeout

    def _give_back(self) -> None:
        member, self._member = self._member, None
        slot, self._slot = self._slot, None
        if member is not None and slot is not None:
            self._pool.slots.give_back(member, slot)

    def release(self) -> None:
        """Release the member's lease, then give the member back to the pool (once)."""
        try:
            super().release()
        finally:
            self._give_back()

    async def release_async(self) -> None:
        """As :meth:`release`, through the source's asyncio API when it has one."""
        try:
            await super().release_async()
        finally:
            self._give_back()

    def abandon(self) -> None:
        """From a garbage-collection callback: no lock taken; the member's slot hold ends as the lease's does."""
        super().abandon()
        member, self._member = self._member, None
        slot, self._slot = self._slot, None
        if member is not None and slot is not None:
            member.slot.abandon(slot)
            self._pool.slots.wake_head()

    def after(
        self,
        status: int,
        body: bytes | None = None,
        *,
        date: str | None = None,
        resent_bytes: ResentBytes = False,
    ) -> Decision:
        """As :meth:`Call.after`; a 401/403 is logged with the masked key (the key stays in the pool)."""
        self._report(status)
        return super().after(status, body, date=date, resent_bytes=resent_bytes)

    async def after_async(
        self,
        status: int,
        body: bytes | None = None,
        *,
        date: str | None = None,
        resent_bytes: ResentBytes = False,
    ) -> Decision:
        """As :meth:`Call.after_async`, reporting a refused key like :meth:`after`."""
        self._report(status)
        return await super().after_async(status, body, date=date, resent_bytes=resent_bytes)

    def _report(self, status: int) -> None:
        if status in _KEY_REFUSED and self._member is not None:
            log.warning(
                "the API answered %d to key %s of the pool; if that key is not valid, remove it "
                "(the pool keeps using it: it never drops a key by itself)",
                status,
                self._member.masked,
            )


def _api_of(policy: Policy, cls: type) -> tuple[Any, ...]:
    """What makes two auths sign for the same API: class, scheme and its options, algorithm, encodings."""
    scheme = policy.scheme
    names: list[str] = []
    for klass in type(scheme).__mro__:
        names.extend(getattr(klass, "__slots__", ()))
    options = [(name, repr(getattr(scheme, name, None))) for name in names]
    options.extend((name, repr(value)) for name, value in sorted(getattr(scheme, "__dict__", {}).items()))
    signer = policy.signer
    return (cls, type(scheme), tuple(options), signer.algorithm, signer.digest_encoding, policy.body_encoding)


def build(members: Sequence[HmacAuth], rate: tuple[int, float] | None) -> PoolPolicy:
    """Check the members and build the pool's policy."""
    from ._auth import HmacAuth

    members = list(members)
    if not members:
        raise ConfigurationError("a KeyPool needs at least one auth")
    if not all(isinstance(m, HmacAuth) for m in members):
        raise ConfigurationError("a KeyPool takes auth objects (presets, BodyDigestAuth, HmacAuth)")
    first = members[0]
    kinds = {_api_of(m.lifecycle, type(m)) for m in members}
    if len(kinds) > 1:
        raise ConfigurationError("the auths of a KeyPool must be of one API: the same class and scheme options")
    keys = [m.lifecycle.key for m in members]
    if None in keys:
        raise ConfigurationError("every auth of a KeyPool needs a key")
    if len(set(keys)) != len(keys):
        raise ConfigurationError("a KeyPool got the same key twice; each key can be in a pool once")
    if rate is not None:
        limit, per = rate
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError("rate must be (requests, seconds) with requests a positive int")
        if isinstance(per, bool) or not isinstance(per, (int, float)) or not per > 0:
            raise ConfigurationError("rate must be (requests, seconds) with seconds a positive number")
        rate = (limit, float(per))
    template = first.lifecycle
    policy = PoolPolicy.__new__(PoolPolicy)
    policy.__dict__.update(template.__dict__)
    # A pool signs every body whole: which key signs is known only once one is free.
    policy.streams = False
    policy.digests = False
    # Its calls choose their member (and that member's policy) at hold time: never the
    # one-step path of a single key's policy, and the URL is given (a member may pin an origin).
    policy._plain = False
    policy.needs_url = True
    policy.slots = _Slots(
        [_Member(i, m.lifecycle, mask_key(m.lifecycle.key or "")) for i, m in enumerate(members)], rate
    )
    policy.wait = min(m.lifecycle.lease_timeout for m in members)
    return policy
