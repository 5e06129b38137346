"""In-process nonces: strictly increasing, never below the clock, shared per key."""

from __future__ import annotations

import gc
import itertools
import threading
import time
import tracemalloc
import weakref
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hmac_body_auth as hba
from hmac_body_auth.nonces import FileNonce
from hmac_body_auth.presets import poloniex_nonce_error

from ._clocks import after_check


def test_clock_nonce_is_microseconds_and_not_below_the_clock() -> None:
    """The default nonce is the clock in microseconds, or last + 1 when faster than the clock."""
    source = hba.ClockNonce()
    before = time.time_ns() // 1000
    values = [source() for _ in range(1000)]
    assert values[0] >= before
    assert all(b > a for a, b in itertools.pairwise(values))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=200))
def test_clock_nonce_strictly_increases_for_any_clock(clock_values: list[int]) -> None:
    """Whatever the clock does (steps back, stalls, jumps), nonces strictly increase and never lag it."""
    ticks: Iterator[int] = iter(clock_values)
    source = hba.ClockNonce(unit="ns", clock=after_check(lambda: next(ticks)))
    out = [source() for _ in clock_values]
    assert all(b > a for a, b in itertools.pairwise(out))
    assert all(n >= c for n, c in zip(out, clock_values, strict=True))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=2**40)), max_size=100))
def test_raise_floor_keeps_nonces_above_every_floor(steps: list[tuple[bool, int]]) -> None:
    """After raise_floor(x), every later nonce is greater than x."""
    source = hba.ClockNonce(unit="s", clock=after_check(lambda: 0))
    floor = 0
    for is_floor, value in steps:
        if is_floor:
            source.raise_floor(value)
            floor = max(floor, value)
        else:
            assert source() > floor
            floor = max(floor, source.raise_floor(0) or 0)


def test_shared_per_key() -> None:
    """Poloniex auths of one key share one nonce source and one lease; other keys do not."""
    a, b = hba.Poloniex("SHARED-KEY-1", "s"), hba.Poloniex("SHARED-KEY-1", "t")
    c = hba.Poloniex("SHARED-KEY-2", "s")
    assert a._nonce is b._nonce
    shared, other = a._nonce, c._nonce
    assert isinstance(shared, hba.ClockNonce)
    assert isinstance(other, hba.ClockNonce)
    # One source, so one scope: the auths share the lease of that scope.
    assert shared.scope != other.scope
    assert shared is not other


def test_shared_sources_are_held_weakly() -> None:
    """10_000 keys' shared sources, each used once and dropped, leave well under 1 MB behind (not ~1.4 KB each)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(10_000):
            source = hba.ClockNonce.shared(f"GONE-KEY-{i}")
            source()
        del source
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < 1_000_000


def test_live_shared_sources_of_a_key_are_one_object() -> None:
    """While any auth uses a key, every caller of ClockNonce.shared(key) gets that one source; it goes when unused."""
    a = hba.ClockNonce.shared("LIVE-KEY")
    b = hba.ClockNonce.shared("LIVE-KEY")
    assert a is b
    assert hba.ClockNonce.shared("LIVE-KEY", unit="ms") is not a
    auths = [hba.Poloniex("LIVE-KEY-2", "s"), hba.Poloniex("LIVE-KEY-2", "t")]
    assert auths[0]._nonce is auths[1]._nonce is hba.ClockNonce.shared("LIVE-KEY-2")
    ref = weakref.ref(a)
    del a, b
    gc.collect()
    assert ref() is None


def test_a_shared_source_made_again_continues_above_the_dropped_one() -> None:
    """A key's source dropped while its nonces ran ahead of the clock is replaced by one that continues above them."""
    source = hba.ClockNonce.shared("AHEAD-KEY", unit="s")
    issued = [source() for _ in range(5)]  # five per second: four ahead of the clock
    source.raise_floor(issued[-1] + 100)
    del source
    gc.collect()
    again = hba.ClockNonce.shared("AHEAD-KEY", unit="s")
    assert again() == issued[-1] + 101


def test_clock_nonce_threads_unique() -> None:
    """Eight threads drawing from one source never see a duplicate."""
    source = hba.ClockNonce()
    seen: list[int] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [source() for _ in range(2000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == len(seen) == 16000


def test_poloniex_nonce_error_parser() -> None:
    """The real Poloniex error text yields the server's last nonce; other answers yield None."""
    body = b'{"error":"Nonce must be greater than 1700000000000123. You provided 5."}'
    assert poloniex_nonce_error(422, body) == 1700000000000123
    assert poloniex_nonce_error(200, b'{"BTC": "0"}') is None


@settings(max_examples=50, deadline=None)
@given(
    clock_values=st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=50),
    restart_at=st.integers(min_value=0, max_value=50),
)
def test_file_nonce_strictly_increases_for_any_clock_and_restart(
    tmp_path_factory: pytest.TempPathFactory, clock_values: list[int], restart_at: int
) -> None:
    """FileNonce strictly increases under any clock sequence, across a restart (a new instance on the file)."""
    path = tmp_path_factory.mktemp("fn") / "nonce"
    ticks = iter(clock_values)
    source = FileNonce(path, unit="ns", clock=after_check(lambda: next(ticks)))
    out = []
    for i in range(len(clock_values)):
        if i == restart_at:
            source.close()
            source = FileNonce(path, unit="ns", clock=after_check(lambda: next(ticks)))
        out.append(source())
    source.close()
    assert all(b > a for a, b in itertools.pairwise(out))
    assert all(n >= c for n, c in zip(out, clock_values, strict=True))
