"""Fake nanosecond clocks for tests (every ``clock=`` of the package reads int ns since the epoch)."""

from __future__ import annotations

from collections.abc import Callable

#: 2023-11-14T22:13:20Z in nanoseconds: a plausible reading for the construction check.
NOW_NS = 1_700_000_000_000_000_000


def after_check(read: Callable[[], int]) -> Callable[[], int]:
    """A clock that gives NOW_NS to the one reading taken at construction, then whatever ``read`` returns.

    Sources check their clock once when built; this drives a built source with any
    later readings (a clock stepped back to 0, stalled, or jumping), as a real clock
    that steps after start-up would.
    """
    checked = False

    def clock() -> int:
        nonlocal checked
        if not checked:
            checked = True
            return NOW_NS
        return read()

    return clock
