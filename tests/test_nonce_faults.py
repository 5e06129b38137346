"""Nonce sources under faults: forked children, dead and hung holders, locks held at fork time."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import threading
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hmac_body_auth._lease import Lease, lease_for
from hmac_body_auth.errors import ConfigurationError, LeaseTimeout
from hmac_body_auth.nonces import AsyncOrderedNonceSource, ClockNonce, FileNonce

from ._clocks import after_check
from ._nonce_fork_worker import fork_quietly, in_child


@pytest.fixture
def path(tmp_path: Path) -> str:
    """A counter file no other test uses."""
    return str(tmp_path / "nonce")


@contextlib.contextmanager
def _held_in_thread(lock: object) -> Iterator[None]:
    """Hold ``lock`` in another thread for the duration of the block (as a busy thread would at fork time)."""
    taken, done = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:  # type: ignore[attr-defined]
            taken.set()
            done.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    try:
        yield
    finally:
        done.set()
        thread.join(5)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _wait_exited(pid: int) -> None:
    """Wait until child ``pid`` has exited, leaving it a zombie (not reaped), as a busy parent would."""
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


# -- FileNonce: dead, forked and hung holders ---------------------------------------


def test_a_child_forked_by_a_dead_holder_does_not_keep_the_lease(path: str) -> None:
    """A holder forks a long-lived child and dies without releasing: another process gets the lease at once."""
    read_end, write_end = os.pipe()
    holder = fork_quietly()
    if holder == 0:
        try:
            source = FileNonce(path)
            source.acquire(5)
            grandchild = fork_quietly()
            if grandchild == 0:
                os.close(write_end)
                time.sleep(60)
                os._exit(0)
            os.write(write_end, b"%d\n" % grandchild)
        finally:
            os._exit(0)  # dies holding the lease
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        grandchild = int(pipe.read())
    try:
        _wait_exited(holder)  # a zombie now: kill(pid, 0) still answers for it
        waiter = FileNonce(path)  # hold_timeout 30 s: only the dead holder's pid can free the lease
        started = time.monotonic()
        waiter.acquire(5)
        assert time.monotonic() - started < 1
        assert waiter() > 0
        waiter.release()
        waiter.close()
    finally:
        _kill(grandchild)
        os.waitpid(holder, 0)


def test_a_hung_holder_process_blocks_others_at_most_hold_timeout(path: str) -> None:
    """A live holder that never releases (hung) is taken over after hold_timeout, not a LeaseTimeout forever."""
    read_end, write_end = os.pipe()
    holder = fork_quietly()
    if holder == 0:
        try:
            source = FileNonce(path, hold_timeout=0.5)
            source.acquire(5)
            os.write(write_end, b"held")
            time.sleep(60)  # alive, never releases
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        assert os.read(read_end, 4) == b"held"
        waiter = FileNonce(path, hold_timeout=0.5)
        with pytest.raises(LeaseTimeout):
            waiter.acquire(0.1)  # still inside the holder's hold_timeout
        started = time.monotonic()
        waiter.acquire(5)
        assert 0.2 < time.monotonic() - started < 3
        waiter.release()
        waiter.close()
    finally:
        os.close(read_end)
        _kill(holder)
        os.waitpid(holder, 0)


def test_a_stopped_holder_is_taken_over_after_hold_timeout(path: str) -> None:
    """A holder frozen with SIGSTOP blocks a waiter no longer than hold_timeout."""
    read_end, write_end = os.pipe()
    holder = fork_quietly()
    if holder == 0:
        try:
            FileNonce(path, hold_timeout=0.3).acquire(5)
            os.write(write_end, b"held")
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        assert os.read(read_end, 4) == b"held"
        os.kill(holder, signal.SIGSTOP)
        waiter = FileNonce(path)
        started = time.monotonic()
        waiter.acquire(5)
        assert time.monotonic() - started < 2
        waiter.release()
        waiter.close()
    finally:
        os.close(read_end)
        _kill(holder)
        os.waitpid(holder, 0)


def test_an_expired_holder_cannot_release_its_successors_lease(path: str) -> None:
    """A holder whose lease was taken over after hold_timeout gives back nothing: the successor keeps it."""
    slow, successor, third = FileNonce(path, hold_timeout=0.2), FileNonce(path), FileNonce(path)
    slow.acquire(1)
    successor.acquire(5)
    slow.release()  # late: not its lease any more
    with pytest.raises(LeaseTimeout):
        third.acquire(0.05)
    successor.release()
    third.acquire(1)
    third.release()
    for source in (slow, successor, third):
        source.close()


def test_nonces_work_with_and_without_the_lease(path: str) -> None:
    """While one object holds the lease, it and others still draw strictly increasing nonces and raise floors."""
    holder, other = FileNonce(path), FileNonce(path)
    holder.acquire(1)
    values: list[int] = []

    def draw() -> None:
        values.extend([holder(), other(), holder(), other()])
        other.raise_floor(values[-1] + 1000)
        values.append(holder())

    # In a thread, so that a source that waits for the lease fails the test instead of hanging it.
    worker = threading.Thread(target=draw, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "a nonce waited for another object's lease"
    holder.release()
    values.append(other())
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[-2] == values[3] + 1001
    holder.close()
    other.close()


def test_a_forked_child_is_not_a_holder_and_has_its_own_descriptor(path: str) -> None:
    """A child forked while its parent holds the lease does not hold it, and cannot release the parent's."""
    source = FileNonce(path)
    source.acquire(1)
    try:

        def child() -> tuple[bool, int]:
            source.release()  # not the child's lease: nothing happens
            other = FileNonce(path)
            try:
                other.acquire(0.05)
            except LeaseTimeout:
                return True, source()
            return False, 0

        blocked, value = in_child(child)
        assert blocked
        assert source() > value
    finally:
        source.release()
        source.close()


def test_a_file_written_by_an_earlier_version_is_still_read(path: str) -> None:
    """An old counter file (20 digits and a newline, or a wider number) keeps its value and gains a lease record."""
    Path(path).write_bytes(b"%020d\n" % 12345)
    source = FileNonce(path, unit="ns", clock=after_check(lambda: 0))
    assert source() == 12346
    source.acquire(1)
    assert source() == 12347
    source.release()
    assert Path(path).read_bytes().startswith(b"%020d\n" % 12347)
    source.close()
    Path(path).write_bytes(b"%d\n" % 10**25)
    source = FileNonce(path, unit="ns", clock=after_check(lambda: 0))
    source.acquire(1)
    assert source() == 10**25 + 1
    source.release()
    assert FileNonce(path, unit="ns", clock=after_check(lambda: 0))() == 10**25 + 2
    source.close()


@pytest.mark.parametrize("bad", [0, -1, True, float("nan"), float("inf"), "1"])
def test_hold_timeout_must_be_a_positive_finite_number(path: str, bad: object) -> None:
    """A hold_timeout that is not a positive, finite number of seconds fails at construction."""
    with pytest.raises(ConfigurationError, match="hold_timeout"):
        FileNonce(path, hold_timeout=bad)  # type: ignore[arg-type]


# -- fork safety: in-process locks held by another thread at fork time ----------------


def test_clock_nonce_works_in_a_child_forked_while_its_locks_were_held() -> None:
    """A child forked while another thread held a ClockNonce's lock and the shared registry's does not deadlock."""
    source = ClockNonce.shared("FORK-KEY")
    first = source()
    with _held_in_thread(source._lock), _held_in_thread(ClockNonce._shared_lock):
        value, same = in_child(lambda: (source(), ClockNonce.shared("FORK-KEY") is source))
    assert value > first
    assert same


@pytest.mark.parametrize("made", ["lease_for", "Lease()"])
def test_a_lease_works_in_a_child_forked_while_its_mutex_was_held(made: str) -> None:
    """A child forked while another thread held a lease's mutex takes and gives back the lease (registered or not)."""
    lease = lease_for(("fork-mutex", made)) if made == "lease_for" else Lease()

    def child() -> bool:
        lease.release(lease.acquire(hold_timeout=5, wait=2))
        return True

    with _held_in_thread(lease._mutex):
        assert in_child(child, timeout=5)


def test_file_nonce_works_in_a_child_forked_while_its_mutex_was_held(path: str) -> None:
    """A child forked while another thread held a FileNonce's mutex draws nonces and takes the lease."""
    source = FileNonce(path)
    first = source()

    def child() -> int:
        source.acquire(1)
        try:
            return source()
        finally:
            source.release()

    with _held_in_thread(source._mutex):
        value = in_child(child)
    assert value > first
    source.acquire(1)  # the child gave its lease back
    source.release()
    source.close()


def test_the_fork_hook_keeps_no_source_alive(path: str) -> None:
    """Sources registered for the fork hook are held weakly: dropping the last reference frees them."""
    import gc
    import weakref

    refs: list[weakref.ref[object]] = [weakref.ref(ClockNonce()), weakref.ref(FileNonce(path))]
    gc.collect()
    assert [ref() for ref in refs] == [None, None]


# -- async: the event loop keeps running ------------------------------------------------


async def _max_gap_while(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    """Run ``work()`` (a coroutine) beside a 5 ms ticker; return the ticker's longest gap and the result."""
    gaps: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
            if stop.is_set():
                return

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.02)  # the ticker runs before the work starts
    try:
        result = await work()
    finally:
        stop.set()
        await ticker
    return max(gaps), result


def test_file_nonce_async_waits_for_the_lease_without_blocking_the_loop(path: str) -> None:
    """acquire_async waits for a lease held by another thread's object while the loop keeps ticking."""
    holder, waiter = FileNonce(path), FileNonce(path, unit="ns", clock=after_check(lambda: 0))
    assert isinstance(waiter, AsyncOrderedNonceSource)
    holder.acquire(1)
    threading.Timer(0.3, holder.release).start()

    async def work() -> list[int]:
        started = time.monotonic()
        await waiter.acquire_async(5)
        assert time.monotonic() - started > 0.2
        values = [await waiter.next_async(), await waiter.next_async()]
        await waiter.raise_floor_async(values[-1] + 10)
        values.append(await waiter.next_async())
        await waiter.release_async()
        holder.acquire(0)
        with pytest.raises(LeaseTimeout):
            await waiter.acquire_async(0.05)
        holder.release()
        return values

    # Blocking on the held file would stop the loop until the holder lets go, 300 ms after the
    # start; 250 ms leaves room for a CI machine running two suites at once.
    gap, values = asyncio.run(_max_gap_while(work))
    assert gap < 0.25
    assert values[1] > values[0]
    assert values[2] == values[1] + 11
    holder.close()
    waiter.close()


def test_clock_nonce_async_methods() -> None:
    """ClockNonce's coroutines draw increasing nonces and raise the floor, with nothing to lock."""
    source = ClockNonce(unit="s", clock=after_check(lambda: 0))
    assert isinstance(source, AsyncOrderedNonceSource)

    async def work() -> list[int]:
        await source.acquire_async(None)
        values = [await source.next_async()]
        await source.raise_floor_async(100)
        values.append(await source.next_async())
        await source.release_async()
        return values

    assert asyncio.run(work()) == [1, 101]


# -- end to end ---------------------------------------------------------------------------


def test_forked_processes_sharing_a_file_are_never_rejected(path: str) -> None:
    """4 fork-started processes x 25 requests through one FileNonce file reach a strict server: 0 rejections."""
    import multiprocessing

    from hmac_body_auth.testing import PoloniexServer

    from ._workers import post_with_file_nonce
    from .conftest import SECRET

    key = "FORKED-FILE-KEY"
    with PoloniexServer({key: SECRET}) as server:
        ctx = multiprocessing.get_context("fork")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: forking with threads
            with ctx.Pool(4) as pool:
                results = pool.starmap(post_with_file_nonce, [(server.url, key, SECRET, path, 25)] * 4)
        stats = server.stats
    assert [s for result in results for s in result] == [200] * 100
    assert stats.bad_nonce == 0
    assert stats.rejected == 0
