"""Server-clock sync for timestamp-signed APIs, without any HTTP client.

A timestamp API refuses a call whose signed time is outside its window (Binance
-1021, Bybit 10002, OKX 50102, ...). Such a refusal says the call was *not*
executed, so the lifecycle may learn the server's clock and sign once more. What
an API's refusal looks like and where its server time can be read is data: a
:class:`ClockSync` recipe per API. What the server's clock is, is shared: the
learned offset (server minus local, in nanoseconds) is kept per origin for the
whole process, so every auth of that origin (any key) signs with it, except an
auth built with ``clock_sync=False``, which neither uses nor learns it.

Offsets are estimated at the midpoint of the round trip that carried the server's
time: the server read its clock somewhere between our send and our receipt, and
the midpoint is the estimate with the smallest worst-case error (half the round
trip, plus the resolution of the server's reading).
"""

from __future__ import annotations

import email.utils
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import NamedTuple

from ._origin import Origin, origin_of
from .errors import ConfigurationError, OriginError

__all__ = [
    "MAX_OFFSET_NS",
    "ClockSync",
    "ServerClocks",
    "TimestampRejection",
    "clock_offset",
    "forget_clock_offsets",
    "server_clocks",
]

log = logging.getLogger("hmac_body_auth")

#: An offset beyond a day is a parse error or a hostile answer, not a clock: never learned.
MAX_OFFSET_NS = 86_400 * 10**9
_MS = 1_000_000


class TimestampRejection(NamedTuple):
    """The API refused the call for its timestamp (so it was not executed)."""

    server_ns: int | None = None
    """The server's clock when it refused, if the answer carries it (Unix nanoseconds)."""


#: ``(status, body, signed_ms) -> TimestampRejection | None``: ``body`` is at most
#: 64 KiB, ``signed_ms`` the timestamp the call signed (Unix milliseconds).
TimestampErrorParser = Callable[[int, bytes, "int | None"], "TimestampRejection | None"]
#: The server-time endpoint's answer body -> the server's time in Unix nanoseconds, or ``None``.
ServerTimeParser = Callable[[bytes], "int | None"]


@dataclass(frozen=True, slots=True)
class ClockSync:
    """How one API refuses a timestamp and where its server time can be read.

    Args:
        rejection: recognises the API's timestamp refusal exactly as its docs
            give it (never a phrase search: a wrong key must not look like a
            clock problem); returns a :class:`TimestampRejection` or ``None``.
        statuses: the HTTP statuses that refusal comes with (Bybit's is 200); the
            body of another status is never read for it.
        time_path: the API's public server-time endpoint on the same origin
            (``"/api/v3/time"``), fetched with ``GET`` and no credentials; ``None``
            where the API has none.
        server_time: reads that endpoint's answer; required with ``time_path``.
        time_resolution_ns: the resolution of that time (1 ms by default), half of
            which is added back to the truncated reading.
        window_ms: how far the signed time may be from the server's (documentation).
        doc: where the API documents the refusal.

    """

    rejection: TimestampErrorParser
    statuses: frozenset[int]
    time_path: str | None = None
    server_time: ServerTimeParser | None = None
    time_resolution_ns: int = _MS
    window_ms: int | None = None
    doc: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not callable(self.rejection):
            raise ConfigurationError("ClockSync.rejection must be a callable (status, body, signed_ms)")
        if (self.time_path is None) != (self.server_time is None):
            raise ConfigurationError("ClockSync needs both time_path and server_time, or neither")
        if self.time_path is not None and not self.time_path.startswith("/"):
            raise ConfigurationError("ClockSync.time_path must be a path starting with '/'")
        object.__setattr__(self, "statuses", _statuses(self.statuses))

    def parse(self, status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
        """The refusal, if this answer is one; a parser that fails means "not a refusal"."""
        if status not in self.statuses:
            return None
        try:
            found = self.rejection(status, body, signed_ms)
        except Exception:
            log.warning("the timestamp-error parser failed; the response is returned as it is")
            return None
        if not isinstance(found, TimestampRejection):
            return None
        server = found.server_ns
        if server is not None and (isinstance(server, bool) or not isinstance(server, int) or server <= 0):
            return TimestampRejection(None)
        return found

    def read_server_time(self, status: int, body: bytes) -> int | None:
        """The server's time from the time endpoint's answer, or ``None``."""
        if self.server_time is None or not 200 <= status < 300:
            return None
        try:
            value = self.server_time(body)
        except Exception:
            return None
        if value is None or isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return None
        return value


def _statuses(value: Collection[int]) -> frozenset[int]:
    try:
        statuses = frozenset(value)
    except TypeError:
        raise ConfigurationError("ClockSync.statuses must be a collection of HTTP status codes") from None
    if not statuses or not all(type(code) is int and 100 <= code <= 599 for code in statuses):
        raise ConfigurationError("ClockSync.statuses must be a non-empty collection of HTTP status codes")
    return statuses


class _Learned(NamedTuple):
    offset_ns: int
    generation: int


_NOTHING = _Learned(0, 0)


class ServerClocks:
    """The learned server-clock offsets, per origin, for the whole process (thread- and task-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._learned: dict[Origin, _Learned] = {}

    def learned(self, origin: Origin) -> tuple[int, int]:
        """``(offset_ns, generation)`` of ``origin`` (``(0, 0)`` until learned), in one read."""
        return self._learned.get(origin, _NOTHING)

    def offset(self, origin: Origin) -> int:
        """Server minus local clock for ``origin``, in nanoseconds (0 until learned)."""
        learned = self._learned.get(origin)  # a dict read is atomic: no lock on the signing path
        return 0 if learned is None else learned.offset_ns

    def generation(self, origin: Origin) -> int:
        """How many times ``origin``'s offset was learned (to see whether it moved since signing)."""
        learned = self._learned.get(origin)
        return 0 if learned is None else learned.generation

    def learn(self, origin: Origin, offset_ns: int, source: str) -> bool:
        """Record ``origin``'s offset; refused (``False``) if it is beyond :data:`MAX_OFFSET_NS`."""
        if abs(offset_ns) > MAX_OFFSET_NS:
            log.warning("ignored a server clock offset of more than a day for %s (from %s)", _show(origin), source)
            return False
        with self._lock:
            before = self._learned.get(origin)
            self._learned[origin] = _Learned(offset_ns, 1 if before is None else before.generation + 1)
        log.warning(
            "the server clock of %s is %+.3f s from this machine's (from %s); timestamps are corrected",
            _show(origin),
            offset_ns / 1e9,
            source,
        )
        return True

    def forget(self, origin: Origin | None = None) -> None:
        """Forget one origin's offset, or all of them."""
        with self._lock:
            if origin is None:
                self._learned.clear()
            else:
                self._learned.pop(origin, None)


#: The process's learned offsets (shared by every auth with clock sync on).
server_clocks = ServerClocks()


def _show(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}"


def clock_offset(url: str) -> int | None:
    """The learned offset of the server clock of ``url``'s origin, in nanoseconds, or ``None``.

    Positive: the server's clock is ahead of this machine's. ``None`` until a
    timestamp refusal from that origin taught the auths its clock.
    """
    try:
        origin = origin_of(url)
    except OriginError:
        return None
    learned = server_clocks._learned.get(origin)
    return None if learned is None else learned.offset_ns


def forget_clock_offsets(url: str | None = None) -> None:
    """Forget what was learned of ``url``'s server clock (or of every server): sign with the local clock again."""
    server_clocks.forget(None if url is None else origin_of(url))


def midpoint_offset(server_ns: int, sent_ns: int, received_ns: int, resolution_ns: int = 0) -> int:
    """Server minus local clock, the server's reading taken as made at the round trip's midpoint.

    ``resolution_ns``: the server's reading is truncated to this (1 ms for a
    millisecond time, 1 s for a ``Date`` header), so half of it is added back.
    """
    return server_ns + resolution_ns // 2 - (sent_ns + received_ns) // 2


def date_header_ns(value: str | None) -> int | None:
    """The time of an HTTP ``Date`` header (RFC 9110 5.6.7), in Unix nanoseconds, or ``None``."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return int(parsed.timestamp()) * 10**9


def milliseconds_ns(value: object) -> int | None:
    """Unix milliseconds (an int, or a string of ASCII digits) in nanoseconds, or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        value = int(value)
    if isinstance(value, int) and 0 < value < 10**16:
        return value * _MS
    return None
