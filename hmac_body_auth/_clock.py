"""One clock unit for the whole package: a ``clock=`` returns int nanoseconds since the Unix epoch.

Every ``clock=`` (auths, presets, nonce sources, verifiers) is a zero-argument
callable like ``time.time_ns``. :func:`validate_clock` reads it once at
construction and refuses a reading that is not plausibly nanoseconds, so a
seconds, milliseconds or microseconds clock fails loudly instead of signing a
timestamp a million times off. Pure: no I/O beyond calling the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from .errors import ConfigurationError

__all__ = ["milliseconds", "validate_clock"]

# Plausible nanosecond readings: 1973-03-03 (10**17 ns) to 5138 (10**20 ns). Today's
# time in seconds (~1.7e9), milliseconds (~1.7e12) or microseconds (~1.7e15) all fall
# below, and each unit lands in its own decade range, which names the mistake.
_MIN_NS = 10**17
_MAX_NS = 10**20
_UNIT_BELOW = ((10**11, "seconds"), (10**14, "milliseconds"), (_MIN_NS, "microseconds"))
_EXPECTED = "a zero-argument callable returning int nanoseconds since the Unix epoch, like time.time_ns"


def validate_clock(clock: object, *, argument: str = "clock") -> Callable[[], int]:
    """Return ``clock`` once one reading shows it is a nanosecond clock; else raise ConfigurationError.

    The reading must be an ``int`` (not a ``bool``, not a ``float``) between 10**17
    and 10**20: a reading of seconds, milliseconds or microseconds since the epoch is
    named as such in the message.
    """
    if not callable(clock):
        raise ConfigurationError(f"{argument} must be {_EXPECTED}; got a value of type {type(clock).__name__}")
    try:
        reading = clock()
    except Exception as exc:
        raise ConfigurationError(f"{argument}() raised {type(exc).__name__}; it must be {_EXPECTED}") from exc
    if isinstance(reading, float):
        raise ConfigurationError(
            f"{argument} must be {_EXPECTED}; it returned a float (time.time gives seconds, use time.time_ns)"
        )
    if isinstance(reading, bool) or not isinstance(reading, int):
        raise ConfigurationError(f"{argument} must be {_EXPECTED}; it returned a {type(reading).__name__}")
    if reading < 0:
        raise ConfigurationError(f"{argument} must be {_EXPECTED}; its reading {reading} is negative")
    if reading < _MIN_NS:
        unit = next(name for bound, name in _UNIT_BELOW if reading < bound)
        raise ConfigurationError(f"{argument} must be {_EXPECTED}; its reading {reading} looks like {unit}")
    if reading > _MAX_NS:
        raise ConfigurationError(f"{argument} must be {_EXPECTED}; its reading {reading} is too large for nanoseconds")
    return cast("Callable[[], int]", clock)


def milliseconds(clock: Callable[[], int]) -> Callable[[], int]:
    """A view of a nanosecond clock in Unix milliseconds, what :meth:`~hmac_body_auth.Scheme.sign` receives."""

    def clock_ms() -> int:
        return clock() // 1_000_000

    return clock_ms
