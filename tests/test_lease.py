"""The per-key lease itself: exclusion, no starvation, timeouts, cancellation, vanished holders."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import hmac_body_auth as hba
from hmac_body_auth._lease import Hold, Lease


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
            token = object()
            lease.acquire(token)
            enter()
            lease.release(token)

    async def task_work() -> None:
        for _ in range(20):
            token = object()
            await lease.acquire_async(token)
            enter()
            await asyncio.sleep(0)
            lease.release(token)

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
            token = object()
            lease.acquire(token)
            time.sleep(0.001)
            lease.release(token)

    hog = threading.Thread(target=greedy)
    hog.start()
    try:
        time.sleep(0.01)
        waits = []
        for _ in range(5):
            token = object()
            started = time.monotonic()
            lease.acquire(token)
            waits.append(time.monotonic() - started)
            lease.release(token)
        assert max(waits) < 0.5
    finally:
        stop.set()
        hog.join()


def test_acquire_timeout_raises_lease_timeout() -> None:
    """Waiting longer than the timeout raises LeaseTimeout, a NonceError and a TimeoutError."""
    lease = Lease()
    lease.acquire(holder := object())
    with pytest.raises(hba.LeaseTimeout):
        lease.acquire(object(), timeout=0.05)
    assert issubclass(hba.LeaseTimeout, hba.NonceError)
    assert issubclass(hba.LeaseTimeout, TimeoutError)
    assert lease.release(holder)


def test_expired_holder_is_taken_over() -> None:
    """A holder that never releases blocks others for at most hold_timeout."""
    lease = Lease(hold_timeout=0.2)
    lease.acquire(object())
    started = time.monotonic()
    lease.acquire(object(), timeout=5)
    assert 0.15 < time.monotonic() - started < 2


def test_vanished_requests_thread_is_taken_over() -> None:
    """A requests holder whose thread has ended is abandoned at once, not after hold_timeout."""
    lease = Lease(hold_timeout=30)
    holds: list[Hold] = []

    def take() -> None:
        hold = Hold(via_requests=True)
        lease.acquire(hold)
        holds.append(hold)

    t = threading.Thread(target=take)
    t.start()
    t.join()
    started = time.monotonic()
    lease.acquire(object(), timeout=5)
    assert time.monotonic() - started < 1


def test_cancelled_waiters_leave_the_queue() -> None:
    """Cancelled async waiters leave no trace: the next acquirer gets the lease at once."""
    lease = Lease()

    async def main() -> float:
        holder = object()
        await lease.acquire_async(holder)
        waiters = [asyncio.create_task(lease.acquire_async(object())) for _ in range(20)]
        await asyncio.sleep(0.01)
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        lease.release(holder)
        started = time.monotonic()
        await asyncio.wait_for(lease.acquire_async(object()), 1)
        return time.monotonic() - started

    assert asyncio.run(main()) < 0.1
