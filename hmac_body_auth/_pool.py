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
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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


class _Waiter:
    """A request waiting for a key: woken with the member handed to it, in FIFO order."""

    __slots__ = ("event", "future", "loop", "member")

    def __init__(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.member: _Member | None = None
        self.loop = loop
        self.event = threading.Event() if loop is None else None
        self.future: asyncio.Future[None] | None = loop.create_future() if loop is not None else None

    def wake(self, member: _Member) -> None:
        self.member = member
        if self.event is not None:
            self.event.set()
        elif self.loop is not None and self.future is not None:
            self.loop.call_soon_threadsafe(_resolve, self.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Slots:
    """Which members are free; hands a freed member to the longest waiter."""

    def __init__(self, members: list[_Member], rate: tuple[int, float] | None) -> None:
        self.members = members
        self.rate = rate
        self._lock = threading.Lock()
        self._free = [True] * len(members)
        self._next = 0
        self._waiters: collections.deque[_Waiter] = collections.deque()

    def _pick(self) -> _Member | None:
        # Round-robin among the free members, preferring one whose budget allows a
        # request now (and, where several keys are shared with other auth objects, one
        # whose own lease is not held).
        best: _Member | None = None
        best_ready = float("inf")
        count = len(self.members)
        for step in range(count):
            member = self.members[(self._next + step) % count]
            if not self._free[member.index]:
                continue
            ready = self.ready_at(member)
            lease = member.policy.lease
            if lease is not None and lease.holder is not None:
                ready += 1.0  # taken elsewhere: only if nothing better is free
            if ready < best_ready:
                best, best_ready = member, ready
                if ready <= 0:
                    break
        if best is not None:
            self._free[best.index] = False
            self._next = (best.index + 1) % count
        return best

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

    def try_take(self, loop: asyncio.AbstractEventLoop | None) -> _Member | _Waiter:
        with self._lock:
            if not self._waiters:
                member = self._pick()
                if member is not None:
                    return member
            waiter = _Waiter(loop)
            self._waiters.append(waiter)
            return waiter

    def give_up(self, waiter: _Waiter) -> _Member | None:
        """A waiter timed out or was cancelled: remove it, or return what it was handed meanwhile."""
        with self._lock:
            if waiter.member is not None:
                return waiter.member
            self._waiters.remove(waiter)
            return None

    def give_back(self, member: _Member) -> None:
        with self._lock:
            while self._waiters:
                waiter = self._waiters.popleft()
                if waiter.future is not None and waiter.future.cancelled():
                    continue
                waiter.wake(member)
                return
            self._free[member.index] = True

    def record(self, member: _Member) -> None:
        if self.rate is not None:
            with self._lock:
                member.sent.append(time.monotonic())


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

    __slots__ = ("_member", "_pool")

    def __init__(self, pool: PoolPolicy, out: Any) -> None:
        super().__init__(pool, out)
        self._pool = pool
        self._member: _Member | None = None

    def _take(self) -> _Member:
        slots = self._pool.slots
        got = slots.try_take(None)
        if isinstance(got, _Waiter):
            got.event.wait(self._pool.wait)  # type: ignore[union-attr]
            member = slots.give_up(got)
            if member is None:
                raise LeaseTimeout(f"no key of the pool was free within {self._pool.wait:g} s")
            got = member
        return got

    async def _take_async(self) -> _Member:
        slots = self._pool.slots
        got = slots.try_take(asyncio.get_running_loop())
        if isinstance(got, _Waiter):
            assert got.future is not None
            try:
                await asyncio.wait_for(asyncio.shield(got.future), self._pool.wait)
            except (TimeoutError, asyncio.CancelledError) as exc:
                member = slots.give_up(got)
                if member is not None and isinstance(exc, asyncio.CancelledError):
                    slots.give_back(member)
                    raise
                if member is None:
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    raise LeaseTimeout(f"no key of the pool was free within {self._pool.wait:g} s") from None
                return member
            assert got.member is not None
            return got.member
        return got

    @property
    def ordered(self) -> bool:
        """A pool call always takes a member (one request per key at a time), whatever its lease."""
        return not self.streamed

    @property
    def holding(self) -> bool:
        """Whether the call holds a member of the pool (and its lease, where it has one)."""
        return self._member is not None or super().holding

    def _use(self, member: _Member) -> None:
        self._member = member
        self.policy = member.policy

    def hold(self, *, active: bool = True) -> None:
        """Take a free member (waiting FIFO), honour its budget, then take its lease."""
        if self._member is not None:
            return
        member = self._take()
        try:
            wait = self._pool.slots.ready_at(member) - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._use(member)
            super().hold(active=active)
            self._pool.slots.record(member)
        except BaseException:
            self._member = None
            self._pool.slots.give_back(member)
            raise

    def hold_now(self) -> bool:
        """Whether the call holds its member already; a free member is taken by :meth:`hold_async` only."""
        return self._member is not None

    async def hold_async(self) -> None:
        """As :meth:`hold`, without blocking the event loop."""
        if self._member is not None:
            return
        member = await self._take_async()
        try:
            wait = self._pool.slots.ready_at(member) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._use(member)
            await super().hold_async()
            self._pool.slots.record(member)
        except BaseException:
            self._member = None
            self._pool.slots.give_back(member)
            raise

    def _give_back(self) -> None:
        member, self._member = self._member, None
        if member is not None:
            self._pool.slots.give_back(member)

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
        """From a garbage-collection callback: no lock here; the member is given back from a thread."""
        super().abandon()
        member, self._member = self._member, None
        if member is not None:
            threading.Thread(target=self._pool.slots.give_back, args=(member,), daemon=True).start()

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
