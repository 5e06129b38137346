"""The per-key lease itself: exclusion, no starvation, per-hold bounds, re-entrancy, fork, cancellation."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

import hmac_body_auth as hba
from hmac_body_auth._lease import Lease, lease_for

T = 30.0  # a hold bound no test reaches


def test_mutual_exclusion_across_threads_and_tasks() -> None:
    """Threads and asyncio tasks never hold the lease at the same time."""
    lease = Lease()
    inside = 0
    worst = 0
    guard = threading.Lock()

    def enter() -> None:
        nonlocal inside, worst
        with guard:
            inside += 1
            worst = max(worst, inside)
        time.sleep(0.0005)
        with guard:
            inside -= 1

    def thread_work() -> None:
        for _ in range(50):
            hold = lease.acquire(hold_timeout=T)
            enter()
            assert lease.release(hold)

    async def task_work() -> None:
        for _ in range(20):
            hold = await lease.acquire_async(hold_timeout=T)
            enter()
            await asyncio.sleep(0)
            assert lease.release(hold)

    async def tasks() -> None:
        await asyncio.gather(*(task_work() for _ in range(10)))

    threads = [threading.Thread(target=thread_work) for _ in range(4)]
    threads.append(threading.Thread(target=asyncio.run, args=(tasks(),)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert worst == 1
    assert lease.holder is None


def test_no_starvation_under_a_greedy_thread() -> None:
    """A thread that re-takes the lease at once cannot keep a waiter out longer than about handoff_after."""
    lease = Lease(handoff_after=0.02)
    stop = threading.Event()

    def greedy() -> None:
        while not stop.is_set():
            hold = lease.acquire(hold_timeout=T)
            time.sleep(0.001)
            lease.release(hold)

    hog = threading.Thread(target=greedy)
    hog.start()
    try:
        time.sleep(0.01)
        waits = []
        for _ in range(5):
            started = time.monotonic()
            hold = lease.acquire(hold_timeout=T)
            waits.append(time.monotonic() - started)
            lease.release(hold)
        assert max(waits) < 0.5
    finally:
        stop.set()
        hog.join()


def _in_thread(fn: Callable[[], object]) -> object:
    box: list[object] = []
    t = threading.Thread(target=lambda: box.append(fn()))
    t.start()
    t.join(30)
    return box[0]


def test_acquire_timeout_raises_lease_timeout() -> None:
    """Waiting longer than ``wait`` raises LeaseTimeout, a NonceError and a TimeoutError."""
    lease = Lease()
    holder = _in_thread(lambda: lease.acquire(hold_timeout=T))
    with pytest.raises(hba.LeaseTimeout):
        lease.acquire(hold_timeout=T, wait=0.05)
    assert issubclass(hba.LeaseTimeout, hba.NonceError)
    assert issubclass(hba.LeaseTimeout, TimeoutError)
    assert lease.release(holder)  # type: ignore[arg-type]


def test_expired_holder_is_taken_over() -> None:
    """A holder that never releases blocks others for at most its own hold_timeout."""
    lease = Lease()
    _in_thread(lambda: lease.acquire(hold_timeout=0.2))
    started = time.monotonic()
    lease.acquire(hold_timeout=T, wait=5)
    assert 0.15 < time.monotonic() - started < 2


def test_each_hold_keeps_its_own_bound() -> None:
    """One auth's short lease_timeout does not shorten the hold of another auth on the same key."""
    lease = lease_for(("test", "bounds"))
    long_hold = _in_thread(lambda: lease.acquire(hold_timeout=5.0))
    # A waiter with a short bound of its own still waits for the long holder.
    with pytest.raises(hba.LeaseTimeout):
        lease.acquire(hold_timeout=0.05, wait=0.5)
    assert lease.holder is long_hold
    assert lease.release(long_hold)  # type: ignore[arg-type]


def test_same_thread_asking_again_is_nested_not_blocked() -> None:
    """The thread sending under the lease asks again (a hook, a signal handler): it proceeds at once, nested."""
    lease = Lease()
    outer = lease.acquire(hold_timeout=T)
    started = time.monotonic()
    inner = lease.acquire(hold_timeout=T, wait=1)
    # Blocked, it would wait out wait=1; the slack is for a loaded CI machine.
    assert time.monotonic() - started < 0.5
    assert inner.nested
    assert not lease.release(inner)  # nested holds own nothing
    assert lease.holder is outer
    assert lease.release(outer)


def test_pending_hold_is_waited_for_even_by_its_preparer() -> None:
    """A hold whose sender is not known yet (requests: prepared, not sent) is waited for, then taken at release."""
    lease = Lease()
    pending = lease.acquire(hold_timeout=T, active=False)
    releaser = threading.Timer(0.1, lease.release, args=(pending,))
    started = time.monotonic()  # before the timer starts: a busy machine may run it late, never early
    releaser.start()
    hold = lease.acquire(hold_timeout=T, wait=5)
    assert 0.09 < time.monotonic() - started < 2
    assert not hold.nested
    lease.release(hold)


def test_activated_hold_is_reentrant_for_its_sender() -> None:
    """Once the sending thread activates a pending hold, a same-key request from that thread is nested."""
    lease = Lease()
    pending = lease.acquire(hold_timeout=T, active=False)
    pending.activate()
    assert lease.acquire(hold_timeout=T, wait=1).nested
    lease.release(pending)


def test_task_reentrancy_and_other_tasks_wait() -> None:
    """The holding task asking again is nested; another task of the same loop waits its turn."""
    lease = Lease()

    async def main() -> tuple[bool, float]:
        outer = await lease.acquire_async(hold_timeout=T)
        nested = (await lease.acquire_async(hold_timeout=T, wait=1)).nested
        asyncio.get_running_loop().call_later(0.1, lease.release, outer)
        started = time.monotonic()
        other = await asyncio.create_task(lease.acquire_async(hold_timeout=T, wait=5))
        lease.release(other)
        return nested, time.monotonic() - started

    nested, waited = asyncio.run(main())
    assert nested
    assert 0.05 < waited < 2


def test_blocking_call_inside_the_holders_event_loop_is_nested() -> None:
    """A sync (blocking) same-key call from the thread whose event loop holds the lease proceeds at once."""
    lease = Lease()

    async def main() -> bool:
        outer = await lease.acquire_async(hold_timeout=T)

        async def other_task() -> bool:
            # A blocking acquire here would stop the loop the holder runs on.
            return lease.acquire(hold_timeout=T, wait=1).nested

        nested = await asyncio.create_task(other_task())
        lease.release(outer)
        return nested

    assert asyncio.run(main())


def test_abandoned_hold_is_free_at_once() -> None:
    """abandon() (from a garbage-collection callback, no locks) frees the lease for the next acquirer."""
    lease = Lease()
    hold = _in_thread(lambda: lease.acquire(hold_timeout=T))
    lease.abandon(hold)  # type: ignore[arg-type]
    started = time.monotonic()
    lease.release(lease.acquire(hold_timeout=T, wait=1))
    assert time.monotonic() - started < 0.5  # not freed, it would wait out wait=1


def test_collectable_hold_dropped_in_a_cycle_is_reclaimed() -> None:
    """A collectable hold whose owner died inside a reference cycle is ended by the waiter's collection, quickly."""
    import gc
    import weakref

    lease = Lease()

    class Owner:
        def __init__(self) -> None:
            self.me = self  # a cycle: refcounting alone never frees it

    gc.disable()
    try:
        owner = Owner()
        hold = lease.acquire(hold_timeout=T, active=False, collectable=True)
        weakref.finalize(owner, lease.abandon, hold)
        del owner
        started = _in_thread(time.monotonic)
        lease.release(_in_thread(lambda: lease.acquire(hold_timeout=T, wait=5)))  # type: ignore[arg-type]
        assert time.monotonic() - started < 1  # type: ignore[operator]
    finally:
        gc.enable()


def test_child_after_fork_starts_with_free_leases() -> None:
    """After fork, with a hold and a waiter in the parent, the child takes the same lease at once."""
    import os

    lease = lease_for(("test", "fork"))
    holder = lease.acquire(hold_timeout=T)
    waiter = threading.Thread(target=lambda: lease.release(lease.acquire(hold_timeout=T, wait=10)))
    waiter.start()
    time.sleep(0.05)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            lease_for(("test", "fork")).acquire(hold_timeout=T, wait=2)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    lease.release(holder)
    waiter.join(10)
    assert os.waitstatus_to_exitcode(status) == 0


def test_registry_forgets_unused_scopes() -> None:
    """Leases of keys no auth uses any more are not kept: 10,000 keys leave no leases behind."""
    import gc

    from hmac_body_auth import _lease

    before = len(_lease._registry)
    for i in range(10_000):
        lease_for(("test-many", i))
    gc.collect()
    assert len(_lease._registry) <= before + 1
    kept = lease_for(("test", "kept"))
    assert lease_for(("test", "kept")) is kept


def test_cancelled_waiters_leave_the_queue() -> None:
    """Cancelled async waiters leave no trace: the next acquirer gets the lease at once."""
    lease = Lease()

    async def main() -> float:
        holder = await lease.acquire_async(hold_timeout=T)

        async def waiter() -> None:
            await lease.acquire_async(hold_timeout=T)

        waiters = [asyncio.create_task(waiter()) for _ in range(20)]
        await asyncio.sleep(0.01)
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        lease.release(holder)
        started = time.monotonic()
        lease.release(await asyncio.wait_for(lease.acquire_async(hold_timeout=T), 1))
        return time.monotonic() - started

    assert asyncio.run(main()) < 0.5  # a lost wake-up would wait out wait_for's 1 s


def test_sources_of_one_scope_share_one_lease() -> None:
    """A wrapper, a subclass and a shared ClockNonce of one scope take one lease: one holds, the others wait."""
    shared = hba.ClockNonce.shared("test-one-scope")

    class Wrapper:
        """An ordered source that delegates to the shared one (a counter, a log...)."""

        interprocess = False

        def __init__(self, inner: hba.ClockNonce) -> None:
            self.inner = inner
            self.scope = inner.scope

        def __call__(self) -> int:
            return self.inner()

        def raise_floor(self, value: int) -> None:
            self.inner.raise_floor(value)

        def acquire(self, timeout: float | None) -> None:
            """In-process: nothing to lock."""

        def release(self) -> None:
            """In-process: nothing to unlock."""

    class Counted(hba.ClockNonce):
        """A subclass given the shared source's scope."""

    counted = Counted()
    counted.scope = shared.scope
    auths = [hba.Poloniex("K1", b"s", nonce=source) for source in (shared, Wrapper(shared), counted)]
    first = auths[0].lifecycle.call("POST", "https://poloniex.com/t", None, "a=1")
    first.hold()
    try:
        for other in auths[1:]:
            assert other.lifecycle.lease is auths[0].lifecycle.lease
            assert not other.lifecycle.call("POST", "https://poloniex.com/t", None, "a=1").hold_now()
    finally:
        first.release()
    after = auths[2].lifecycle.call("POST", "https://poloniex.com/t", None, "a=1")
    assert after.hold_now()
    after.release()
