"""``RedisNonce``: one nonce sequence and one sender lock for hosts sharing an API key.

Each nonce is ``max(server_time, last + 1)``, computed by a Lua script on the
Redis server, so every host draws from one strictly increasing sequence that
stays at or above the Redis server's clock. A plain ``INCR`` would restart at 1
after the key is lost (a flush, a failover to an empty replica); this sequence
resumes above every nonce issued before, as long as fewer than one nonce per
``unit`` was issued on average.

Ordering across hosts is a Redis lock (``SET NX PX`` with a random token per
hold, given back by a compare-and-delete script) held from the allocation of a
nonce until the response arrives; it expires after ``lock_timeout`` seconds, so
a crashed holder blocks the others at most that long.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import inspect
import logging
import math
import os
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ._clock import validate_clock
from .errors import ConfigurationError, LeaseTimeout, NonceError
from .nonces import _track_for_fork

if TYPE_CHECKING:
    import redis
    import redis.asyncio
    from redis.commands.core import AsyncScript, Script

__all__ = ["RedisNonce"]

_log = logging.getLogger("hmac_body_auth")

# Kept here rather than imported from ``nonces`` so that ``nonces`` can re-export
# this class without an import cycle.
_DIVISOR: dict[str, int] = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}

# Nonces are handled as decimal strings: Lua numbers are doubles, exact only up
# to 2**53, and a nanosecond nonce (~1.7e18) is far above that.
_HELPERS = """
-- Redis < 5 refuses writes after TIME unless effects are replicated.
if redis.replicate_commands then redis.replicate_commands() end
local function canonical(s, what)
  if type(s) ~= 'string' or not string.match(s, '^%d+$') then
    return nil, redis.error_reply('hmac-body-auth: ' .. what .. ' is not a non-negative integer')
  end
  s = string.gsub(s, '^0+', '')
  if s == '' then return '0' end
  return s
end
local function greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
local function plus_one(s)
  local i = #s
  while i > 0 and string.sub(s, i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #s) end
  return string.sub(s, 1, i - 1) .. string.char(string.byte(s, i) + 1) .. string.rep('0', #s - i)
end
-- The next nonce after the one stored at `key`: max(now, last + 1), `now` from ARGV or the server's TIME.
local function next_nonce(key, unit, now)
  local last, err = '0', nil
  local stored = redis.call('GET', key)
  if stored then
    last, err = canonical(stored, 'the stored nonce')
    if err then return nil, err end
  end
  if now == '' then
    -- The server's clock: one clock for every host.
    local t = redis.call('TIME')
    local micros = string.rep('0', 6 - #t[2]) .. t[2]
    if unit == 's' then now = t[1]
    elseif unit == 'ms' then now = t[1] .. string.sub(micros, 1, 3)
    elseif unit == 'us' then now = t[1] .. micros
    else now = t[1] .. micros .. '000' end
  end
  now, err = canonical(now, 'the clock')
  if err then return nil, err end
  local value = plus_one(last)
  if greater(now, value) then value = now end
  return value
end
"""

_PRELUDE = (
    _HELPERS
    + """
local last, err = '0', nil
local stored = redis.call('GET', KEYS[1])
if stored then
  last, err = canonical(stored, 'the stored nonce')
  if err then return err end
end
"""
)

# ARGV: unit, then the time in that unit from an injected clock or ''.
_NEXT = (
    _HELPERS
    + """
local value, err = next_nonce(KEYS[1], ARGV[1], ARGV[2])
if err then return err end
redis.call('SET', KEYS[1], value)
return value
"""
)

# ARGV: the floor.
_RAISE_FLOOR = (
    _PRELUDE
    + """
local floor
floor, err = canonical(ARGV[1], 'the floor')
if err then return err end
if greater(floor, last) then
  redis.call('SET', KEYS[1], floor)
  return 1
end
return 0
"""
)


# KEYS: the lock; ARGV: the token of the hold. Deletes the lock only if it is still ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# One round trip per ordered request: give back this object's previous lock (if
# it is still ours), take the lock, and allocate the nonce, atomically.
# KEYS: the nonce, the lock, the waiting mark.
# ARGV: [1] unit, [2] the clock or '', [3] the new token, [4] the lock's expiry in ms,
#       [5] the token of a lock to give back first or '', [6] '1' to allocate a nonce,
#       [7] this object's id, [8] the waiting mark's expiry in ms.
# Returns {taken, released (1 given back, -1 not ours any more, 0 none), nonce or '', others waiting}.
# The waiting mark names one waiter: a holder that sees someone else's mark gives a
# lock back instead of passing it to its own next request, so no host starves.
_ACQUIRE = (
    _HELPERS
    + """
local released = 0
if ARGV[5] ~= '' then
  if redis.call('GET', KEYS[2]) == ARGV[5] then
    redis.call('DEL', KEYS[2])
    released = 1
  else
    released = -1
  end
end
local waiting = redis.call('GET', KEYS[3])
local others = 0
if waiting and waiting ~= ARGV[7] then others = 1 end
if (released == 1 and others == 1) or redis.call('EXISTS', KEYS[2]) == 1 then
  if others == 0 then redis.call('SET', KEYS[3], ARGV[7], 'PX', ARGV[8]) end
  return {0, released, '', others}
end
local value, err = '', nil
if ARGV[6] == '1' then
  -- Before the lock is written: a failure leaves no lock behind.
  value, err = next_nonce(KEYS[1], ARGV[1], ARGV[2])
  if err then return err end
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
if waiting == ARGV[7] then redis.call('DEL', KEYS[3]) end
if value ~= '' then redis.call('SET', KEYS[1], value) end
return {1, released, value, others}
"""
)

# How long a waiter's mark outlives its last poll (polls come every millisecond or so).
_WAITING_MS = 25

_SENSITIVE = ("pass", "secret", "token", "cred", "auth")


def _mask_url(url: str) -> str:
    """``url`` with the password (in the userinfo or the query) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user, sep, _password = userinfo.partition(":")
            netloc = f"{user}{':***' if sep else ''}@{hostport}"
        query = parts.query
        if query:
            pairs = [
                (k, "***" if any(word in k.lower() for word in _SENSITIVE) else v)
                for k, v in parse_qsl(query, keep_blank_values=True)
            ]
            query = urlencode(pairs, safe="*", quote_via=quote)
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<unparsable URL>"


# Keyword arguments of a sync connection that must not reach an asyncio one
# (sync callbacks, sync retry objects, sync-only machinery).
_SYNC_ONLY = frozenset(
    {
        "retry",
        "redis_connect_func",
        "event_dispatcher",
        "maint_notifications_config",
        "maint_notifications_pool_handler",
        "oss_cluster_maint_notifications_handler",
        "cache",
        "cache_config",
    }
)


def _positive_seconds(value: object, what: str, minimum: float = 0.0) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not value > minimum
        or (minimum and value < minimum)
    ):
        raise ConfigurationError(f"{what} must be a finite number of seconds, greater than {minimum:g}")
    return float(value)


@dataclass
class _AsyncClient:
    """The asyncio client of one event loop, its scripts, and what closes it with the loop."""

    client: Any
    next: AsyncScript
    raise_floor: AsyncScript
    release: AsyncScript
    acquire: AsyncScript
    closer: Any = None
    tasks: set[asyncio.Task[bool]] = field(default_factory=set)


class _Flusher:
    """One background thread that sends the deferred releases nobody picked up in time.

    :meth:`RedisNonce.defer_release` leaves a released lock with its object for
    ``release_delay`` seconds, so that the object's next request gives it back in
    its own script; when no request comes, this thread gives it back. It sleeps
    until the earliest deadline, so back-to-back requests wake it about once per
    ``release_delay``, not once per request.
    """

    def __init__(self) -> None:
        self.cv = threading.Condition(threading.Lock())
        self.due: dict[RedisNonce, None] = {}  # insertion-ordered set
        self.thread: threading.Thread | None = None
        self.idle = False
        #: When the thread's timed sleep ends (``None``: not in one).
        self.wake_at: float | None = None

    def schedule(self, source: RedisNonce, due: float | None = None) -> None:
        """Have ``source`` flushed when due; ``due``: its time, if earlier than those already waited for."""
        with self.cv:
            self.due[source] = None
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="hmac-body-auth-redis-release", daemon=True)
                self.thread.start()
            elif self.idle or (due is not None and self.wake_at is not None and due < self.wake_at):
                self.cv.notify()

    def _run(self) -> None:
        while True:
            with self.cv:
                while not self.due:
                    self.idle = True
                    self.cv.wait()
                self.idle = False
                now = time.monotonic()
                ready: list[RedisNonce] = []
                soonest: float | None = None
                for source in list(self.due):
                    due = source._pending_due()
                    if due is None:
                        del self.due[source]
                    elif due <= now:
                        del self.due[source]
                        ready.append(source)
                    elif soonest is None or due < soonest:
                        soonest = due
                if not ready:
                    if soonest is not None:
                        self.wake_at = soonest
                        self.cv.wait(soonest - now)
                        self.wake_at = None
                    continue
            for source in ready:
                source._flush_pending(due_only=True)


_FLUSHER = _Flusher()
#: How often a lock a lost reply may hold is released again, and how many "not held" answers end that.
_ORPHAN_RETRY: Final = 0.2
_ORPHAN_TRIES: Final = 5
# Every live RedisNonce, for the exit hook: a release still deferred when the
# program ends must reach Redis, or the lock would outlive the program by lock_timeout.
_LIVE: weakref.WeakSet[RedisNonce] = weakref.WeakSet()


def _flush_at_exit() -> None:
    for source in list(_LIVE):
        with contextlib.suppress(Exception):
            source._flush_pending(due_only=False)
            source._settle_orphans()


def _new_flusher_in_child() -> None:
    # The parent's thread does not exist in the child, and the releases it owes are the parent's.
    global _FLUSHER
    _FLUSHER = _Flusher()


atexit.register(_flush_at_exit)
# A multiprocessing child started by fork ends with os._exit() after threading's own
# shutdown hooks (not atexit's), and its flusher thread (a daemon) dies with it.
with contextlib.suppress(AttributeError, RuntimeError):  # RuntimeError: imported during shutdown
    threading._register_atexit(_flush_at_exit)  # type: ignore[attr-defined]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_flusher_in_child)


# asyncio clients of loops a forked child inherited: kept, never used, so that
# their finalizers do not warn about (or touch) the parent's sockets.
_FORK_LEFTOVERS: list[Any] = []


async def _aclose(client: Any) -> None:
    """Close an asyncio client and its pool (``aclose`` since redis 5.0.1, ``close`` before)."""
    aclose = getattr(client, "aclose", None)
    if aclose is None:  # pragma: no cover - redis 5.0.0
        await client.close(close_connection_pool=True)
    else:
        await aclose(close_connection_pool=True)


async def _close_with_loop(
    registry: dict[asyncio.AbstractEventLoop, _AsyncClient], loop: asyncio.AbstractEventLoop, entry: _AsyncClient
) -> AsyncIterator[None]:
    """Parked at ``yield``; the loop's ``shutdown_asyncgens()`` (``asyncio.run`` calls it) closes the client."""
    try:
        yield
    finally:
        if registry.get(loop) is entry:
            del registry[loop]
        with contextlib.suppress(Exception):
            await _aclose(entry.client)


class RedisNonce:
    """Nonces and sender ordering shared through Redis by every host using one key.

    Each call returns ``max(server_time, last + 1)`` in ``unit``, computed
    atomically by a Lua script on the Redis server and stored at
    ``hmac-body-auth:nonce:{name}``: strictly increasing across all hosts, never
    below the Redis server's clock (one clock for all hosts), and it recovers by
    itself if the key is lost.

    While a request is in flight, its auth holds the Redis lock
    ``hmac-body-auth:lock:{name}`` (from nonce allocation until the response), so
    requests of all hosts reach the server in nonce order. The lock expires
    after ``lock_timeout`` seconds: a crashed holder blocks the others at most
    that long. Give it more than your slowest request takes.

    One Redis round trip per ordered request: the auth takes the lock and the
    nonce in one script (:meth:`acquire_next`). While this object sends back to
    back (its next request follows within ``release_delay`` of the last
    release), the auth hands the released lock to that next request
    (:meth:`defer_release`), whose script gives it back before taking it anew;
    a background thread gives it back if no request comes within
    ``release_delay``, and at exit. A holder that sees another host waiting
    gives the lock back at once instead, so no host starves.

    Failures, and how long they can block:

    * Before the request is sent (:meth:`acquire`, allocating a nonce,
      :meth:`raise_floor`), a Redis error raises :class:`NonceError` (or
      :class:`LeaseTimeout` when the lock stayed taken for ``timeout``), chained
      from the redis-py exception; messages name the server as ``host:port/db``,
      never a password.
    * :meth:`release` runs after the request was sent: if Redis is down, silent,
      or restarted without the lock, it logs a WARNING on the ``hmac_body_auth``
      logger and returns, so the response is never lost; the lock then expires
      by itself after ``lock_timeout``.
    * A Redis that accepts connections but never answers blocks each call for
      ``socket_timeout`` at most. A client this object builds from a URL gets
      ``socket_timeout`` and ``socket_connect_timeout`` (unless the URL sets them)
      and no retries, so that bound holds. A client you pass in is used as is
      when it has both timeouts (its own retry policy then multiplies them); if
      either is ``None``, RedisNonce uses a client of its own on the same
      connection settings with ``socket_timeout`` filled in (and closes it in
      :meth:`close`), because an operation without a timeout can wait forever.
      A client without a standard connection pool (a cluster client) is used as
      is: give it timeouts yourself.

    The ``*_async`` coroutines do the same with redis-py's asyncio client (built
    from the same URL or connection settings, one per event loop, lazily), so an
    event loop is never blocked. Each loop's client is closed when the loop shuts
    down its async generators (``asyncio.run`` does), or by :meth:`aclose`.

    After ``os.fork()`` the child holds no lock, its in-process locks are new,
    and redis-py's connection pools open new connections in the child (they
    check the pid); the parent's asyncio clients are not used there.

    Args:
        url_or_client: a ``redis://``, ``rediss://`` or ``unix://`` URL, or an
            existing ``redis.Redis`` client (not closed by :meth:`close`).
        name: names the sequence; every host using one API key must use the same
            name and the same Redis database, and no other key may use it.
        unit: the resolution of the nonce: ``"s"``, ``"ms"``, ``"us"`` (default)
            or ``"ns"``.
        lock_timeout: how long, in seconds, the lock outlives a holder that
            vanished without releasing it.
        clock: a zero-argument callable returning int nanoseconds since the Unix
            epoch (like ``time.time_ns``), used instead of the Redis server's
            ``TIME``; inject a fake one in tests. Its first reading is checked at
            construction (:class:`~hmac_body_auth.ConfigurationError` if it is not
            plausibly nanoseconds).
        socket_timeout: the longest, in seconds, one Redis call waits for an
            answer or a connection (see above).
        release_delay: how long, in seconds, a lock released between
            back-to-back requests stays with this object for its next request
            (the most it adds to the wait of a host that starts waiting while
            this object holds the lock); ``0`` gives every lock back at once,
            with its own round trip.

    Raises:
        ConfigurationError: a bad argument, or ``redis`` is not installed
            (``pip install hmac-body-auth[redis]``).

    """

    interprocess: ClassVar[bool] = True

    def __init__(
        self,
        url_or_client: str | redis.Redis,
        *,
        name: str,
        unit: Literal["s", "ms", "us", "ns"] = "us",
        lock_timeout: float = 30.0,
        clock: Callable[[], int] | None = None,
        socket_timeout: float = 5.0,
        release_delay: float = 0.002,
    ) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:
            raise ConfigurationError("RedisNonce needs the redis package: pip install hmac-body-auth[redis]") from exc
        if not isinstance(name, str) or not name:
            raise ConfigurationError("name must be a non-empty string")
        if unit not in _DIVISOR:
            raise ConfigurationError("unit must be one of 's', 'ms', 'us', 'ns'")
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, (int, float)) or not lock_timeout >= 0.001:
            # Redis sets the expiry in whole milliseconds.
            raise ConfigurationError("lock_timeout must be a number of seconds, at least 0.001")
        if clock is not None:
            clock = validate_clock(clock)
        self.socket_timeout = _positive_seconds(socket_timeout, "socket_timeout")
        if (
            isinstance(release_delay, bool)
            or not isinstance(release_delay, (int, float))
            or not 0 <= release_delay < lock_timeout
        ):
            raise ConfigurationError("release_delay must be a number of seconds, at least 0 and below lock_timeout")
        self.release_delay = float(release_delay)

        self._url: str | None
        if isinstance(url_or_client, str):
            try:
                # Keywords first; from_url lets a socket_timeout in the URL's query win.
                client: redis.Redis = redis.Redis.from_url(
                    url_or_client,
                    socket_timeout=self.socket_timeout,
                    socket_connect_timeout=self.socket_timeout,
                    retry=Retry(NoBackoff(), 0),
                )
            except ValueError as exc:
                raise ConfigurationError(
                    "url_or_client must be a redis://, rediss:// or unix:// URL or a redis.Redis client"
                ) from exc
            self._url = url_or_client
            self._owns_client = True
        elif callable(getattr(url_or_client, "register_script", None)) and callable(
            getattr(url_or_client, "set", None)
        ):
            self._url = None
            client, self._owns_client = self._bounded(url_or_client)
        else:
            raise ConfigurationError(
                "url_or_client must be a redis://, rediss:// or unix:// URL or a redis.Redis client"
            )

        self.name = name
        self.unit = unit
        self.lock_timeout = float(lock_timeout)
        self._lock_ms = max(1, round(self.lock_timeout * 1000))
        self._divisor = _DIVISOR[unit]
        self._clock = clock
        self._client = client
        self._key = f"hmac-body-auth:nonce:{name}"
        self._lock_name = f"hmac-body-auth:lock:{name}"
        self._next: Script = client.register_script(_NEXT)
        self._raise_floor: Script = client.register_script(_RAISE_FLOOR)
        self._release: Script = client.register_script(_RELEASE)
        self._acquire: Script = client.register_script(_ACQUIRE)
        self._unmark: Script = client.register_script(_RELEASE)  # the mark is ours: delete it
        self._wait_name = f"hmac-body-auth:waiting:{name}"
        # One script over three keys needs them in one slot: a cluster client (no
        # standard pool) keeps one command per step, and releases at once.
        self._fused = isinstance(getattr(getattr(client, "connection_pool", None), "connection_kwargs", None), dict)
        self._identity = self._connection_identity(client)
        self.scope: Hashable = ("redis", self._identity, name)
        # The token of the lock held now; acquire and release may run in different threads.
        self._held: str | None = None
        self._held_mutex = threading.Lock()
        self._reset_handoff()
        self._async: dict[asyncio.AbstractEventLoop, _AsyncClient] = {}
        _track_for_fork(self)
        _LIVE.add(self)

    def _reset_handoff(self) -> None:
        """No lock deferred, not sending back to back (at construction, and in a forked child)."""
        self._flushing = threading.Lock()
        # Names this object in the waiting mark (a forked child is another waiter).
        self._waiter = uuid.uuid4().hex
        # A released lock waiting for this object's next request, and since when.
        self._pending: str | None = None
        self._pending_at = 0.0
        # Tokens an acquire may have taken the lock with although its reply was lost (Redis
        # stalled past socket_timeout, then ran the queued command), and until when to try.
        self._orphans: list[tuple[str, float, int]] = []
        self._orphans_at = 0.0
        # When the last lock was given back (or deferred), and whether the hold
        # now may be deferred (back to back, and nobody else waiting).
        self._last_release = -math.inf
        self._hot = False

    def _bounded(self, client: Any) -> tuple[Any, bool]:
        """``client``, or one of ours on its connection settings when it lacks a socket timeout."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        pool = getattr(client, "connection_pool", None)
        kwargs = getattr(pool, "connection_kwargs", None)
        if not isinstance(kwargs, dict):
            return client, False  # no standard pool (a cluster client): documented, used as is
        if kwargs.get("socket_timeout") is not None and kwargs.get("socket_connect_timeout") is not None:
            return client, False
        connection_class = getattr(pool, "connection_class", None)
        if connection_class not in (redis.Connection, redis.SSLConnection, redis.UnixDomainSocketConnection):
            raise ConfigurationError(
                "the client has no socket_timeout and its connection pool cannot be copied; "
                "give the client a socket_timeout and a socket_connect_timeout"
            )
        settings = dict(kwargs)
        for key in ("socket_timeout", "socket_connect_timeout"):
            if settings.get(key) is None:
                settings[key] = self.socket_timeout
        settings["retry"] = Retry(NoBackoff(), 0)
        return redis.Redis(connection_pool=redis.ConnectionPool(connection_class=connection_class, **settings)), True

    @staticmethod
    def _connection_identity(client: Any) -> str:
        """``host:port/db`` (or ``unix:path/db``) of the client, without credentials."""
        pool = getattr(client, "connection_pool", None)
        kwargs: dict[str, Any] = getattr(pool, "connection_kwargs", None) or {}
        db = kwargs.get("db", 0)
        if kwargs.get("path"):
            return f"unix:{kwargs['path']}/{db}"
        if "host" in kwargs:
            return f"{kwargs['host']}:{kwargs.get('port', 6379)}/{db}"
        return f"{type(client).__name__}@{id(client):#x}"

    def _error(self, what: str, exc: Exception) -> NonceError:
        """A NonceError for a failed Redis call: the server's reply, or only the error's type."""
        from redis.exceptions import ResponseError

        # A server reply (our scripts' messages, NOAUTH, WRONGTYPE) names no secret;
        # connection errors are reduced to their type.
        detail = str(exc) if isinstance(exc, ResponseError) else type(exc).__name__
        return NonceError(f"RedisNonce {self.name!r} at {self._identity}: {what} failed: {detail}")

    def _warn_release(self, reason: str) -> None:
        _log.warning(
            "RedisNonce %r at %s: the lock was not released (%s); it expires by itself within lock_timeout=%gs",
            self.name,
            self._identity,
            reason,
            self.lock_timeout,
        )

    # -- nonces --------------------------------------------------------------

    def _now_arg(self) -> str:
        if self._clock is None:
            return ""
        ns = self._clock()
        if isinstance(ns, bool) or not isinstance(ns, int) or ns < 0:
            raise NonceError("the clock must return a non-negative int (Unix time in ns)")
        return str(ns // self._divisor)

    @staticmethod
    def _floor_arg(value: int) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("value must be an int")
        return str(value) if value > 0 else None

    def __call__(self) -> int:
        """Return the next nonce: ``max(now, last + 1)``, atomically on the server.

        Raises:
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        from redis.exceptions import RedisError

        now = self._now_arg()
        try:
            return int(self._next(keys=[self._key], args=[self.unit, now]))
        except RedisError as exc:
            raise self._error("allocating a nonce", exc) from exc

    def raise_floor(self, value: int) -> None:
        """Make every later nonce greater than ``value`` (on every host).

        Raises:
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        from redis.exceptions import RedisError

        floor = self._floor_arg(value)
        if floor is None:
            return
        try:
            self._raise_floor(keys=[self._key], args=[floor])
        except RedisError as exc:
            raise self._error("raising the floor", exc) from exc

    # -- ordering across hosts -------------------------------------------------

    def acquire(self, timeout: float | None) -> None:
        """Take the Redis lock of this sequence, waiting at most ``timeout`` seconds.

        ``None`` waits as long as it takes. May be released from another thread.
        Polls every millisecond while another holder has it.

        Raises:
            LeaseTimeout: the lock was not free within ``timeout``.
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        if self._fused:
            self._take(timeout, allocate=False)
            return
        from redis.exceptions import RedisError

        # A new token per hold: a holder whose lock expired can never release its successor's lock.
        token = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                taken = self._client.set(self._lock_name, token, nx=True, px=self._lock_ms)
            except RedisError as exc:
                self._orphan(token)  # the command may still run: then give that lock back
                raise self._error("taking the lock", exc) from exc
            if taken:
                with self._held_mutex:
                    self._held = token
                return
            time.sleep(self._pause(deadline))

    def acquire_next(self, timeout: float | None) -> int:
        """Take the lock like :meth:`acquire` and return the next nonce, in one round trip.

        A lock this object deferred (:meth:`defer_release`) is given back in the
        same script first.

        Raises:
            LeaseTimeout: the lock was not free within ``timeout``.
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        if not self._fused:
            self.acquire(timeout)
            return self()
        value = self._take(timeout, allocate=True)
        assert value is not None
        return value

    def _pause(self, deadline: float | None) -> float:
        """Seconds to wait before the next poll; LeaseTimeout once ``deadline`` passed."""
        if deadline is None:
            return 0.001
        left = deadline - time.monotonic()
        if left <= 0:
            raise LeaseTimeout(f"timed out waiting for the Redis lock of nonce sequence {self.name!r}")
        return min(0.001, left)

    def _acquire_args(self, token: str, allocate: bool) -> list[str]:
        return [
            self.unit,
            self._now_arg() if allocate else "",
            token,
            str(self._lock_ms),
            "",  # the deferred lock: filled in by the caller, once
            "1" if allocate else "",
            self._waiter,
            str(_WAITING_MS),
        ]

    def _take_pending(self) -> tuple[str | None, bool]:
        """The deferred lock to give back (``None``: none), and whether this acquire follows back to back."""
        with self._held_mutex:
            pending, self._pending = self._pending, None
            hot = pending is not None or time.monotonic() - self._last_release <= self.release_delay
        return pending, hot

    def _taken(self, reply: Any, token: str, hot: bool, allocate: bool) -> tuple[bool, int | None]:
        """Read the script's reply: whether the lock is ours now, and the nonce."""
        taken, released, value, others = reply
        if int(released) < 0:
            self._warn_release("it had expired, or Redis lost it")
        if not int(taken):
            return False, None
        with self._held_mutex:
            self._held = token
            self._hot = hot and not int(others) and self.release_delay > 0
        return True, int(value) if allocate else None

    def _take(self, timeout: float | None, *, allocate: bool) -> int | None:
        from redis.exceptions import RedisError

        # A new token per hold: a holder whose lock expired can never release its successor's lock.
        token = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        args = self._acquire_args(token, allocate)
        pending, hot = self._take_pending()
        if pending is not None:
            args[4] = pending
        while True:
            try:
                reply = self._acquire(keys=[self._key, self._lock_name, self._wait_name], args=args)
            except RedisError as exc:
                # The script may still run (or have run): the lock is then held by this token, or
                # still by the deferred one it was to give back. Both are given back in the background.
                self._orphan(token, args[4])
                raise self._error("taking the lock", exc) from exc
            taken, value = self._taken(reply, token, hot, allocate)
            if taken:
                return value
            try:
                pause = self._pause(deadline)
            except LeaseTimeout:
                # A waiter that leaves drops its mark, or holders would give their
                # locks back for nobody until it expires.
                with contextlib.suppress(RedisError):
                    self._unmark(keys=[self._wait_name], args=[self._waiter])
                raise
            time.sleep(pause)
            args = self._acquire_args(token, allocate)

    # -- giving the lock back ------------------------------------------------------

    def defer_release(self) -> bool:
        """Hand the held lock to this object's next request instead of giving it back now.

        Does nothing and returns ``False`` unless this object sends back to back
        (this hold followed the previous release within ``release_delay``) and
        nobody else was waiting when the lock was taken: the caller then gives
        the lock back with :meth:`release` or :meth:`release_async`. Otherwise
        returns ``True`` at once, without I/O: the next :meth:`acquire_next`
        of this object gives the lock back in its own script, or a background
        thread does after ``release_delay`` (and at exit), logging a failure like
        :meth:`release`.
        """
        if not self._fused:
            return False
        with self._held_mutex:
            if self._held is None or not self._hot or self._pending is not None:
                return False
            self._pending, self._held = self._held, None
            self._pending_at = self._last_release = time.monotonic()
            self._hot = False
        _FLUSHER.schedule(self)
        return True

    def _pending_due(self) -> float | None:
        """When the deferred lock (or a lock a lost reply may have taken) must be given back; ``None``: none."""
        due = None if self._pending is None else self._pending_at + self.release_delay
        if self._orphans:
            due = self._orphans_at if due is None else min(due, self._orphans_at)
        return due

    def _orphan(self, *tokens: str) -> None:
        """Give back, in the background, locks that acquires whose replies were lost may hold.

        Redis may run a command after the client gave up on its reply (a pause, a
        slow script): then the lock is held by a token nobody has, and every
        request of the sequence would wait ``lock_timeout`` for it. Each token is
        released (only if it is the lock's value) until a release succeeds, at
        most :data:`_ORPHAN_TRIES` times (a "not held" answer may mean the lost
        command has not run yet), and not after :meth:`close` or once the lock
        would have expired anyway.
        """
        give_up = time.monotonic() + self.lock_timeout
        with self._held_mutex:
            self._orphans.extend((token, give_up, _ORPHAN_TRIES) for token in tokens if token)
            self._orphans_at = now = time.monotonic()
        _FLUSHER.schedule(self, now)

    def _settle_orphans(self) -> None:
        """Before the connections close (or the program ends): the remaining tries now, then a WARNING each."""
        deadline = time.monotonic() + _ORPHAN_TRIES * _ORPHAN_RETRY
        while self._orphans and time.monotonic() < deadline:
            time.sleep(_ORPHAN_RETRY)
            with self._flushing:
                self._flush_orphans()
        with self._held_mutex:
            left, self._orphans = self._orphans, []
        for _ in left:
            self._warn_release("closed before Redis answered")

    def _flush_orphans(self) -> None:
        with self._held_mutex:
            orphans, self._orphans = self._orphans, []
        kept: list[tuple[str, float, int]] = []
        for token, give_up, tries in orphans:
            if time.monotonic() >= give_up:
                continue  # expired in Redis by now
            try:
                released = self._release(keys=[self._lock_name], args=[token])
            except Exception as exc:  # a background thread: nobody to raise to; tried again a few times
                if tries <= 1:
                    self._warn_release(type(exc).__name__)
                released = False
            if not released and tries > 1:
                kept.append((token, give_up, tries - 1))
        if kept:
            with self._held_mutex:
                self._orphans.extend(kept)
                self._orphans_at = due = time.monotonic() + _ORPHAN_RETRY
            _FLUSHER.schedule(self, due)

    def _flush_pending(self, *, due_only: bool) -> None:
        """Give back the deferred lock (only once it is due, if ``due_only``); log, never raise."""
        # Held across the send: close() waits for a release in flight before it closes the connections.
        with self._flushing:
            if self._orphans and (not due_only or time.monotonic() >= self._orphans_at):
                self._flush_orphans()
            with self._held_mutex:
                token = self._pending
                if token is None or (due_only and time.monotonic() < self._pending_at + self.release_delay):
                    return
                self._pending = None
            try:
                released = self._release(keys=[self._lock_name], args=[token])
            except Exception as exc:  # a background thread: nobody to raise to; the lock expires by itself
                self._warn_release(type(exc).__name__)
                return
        if not released:
            self._warn_release("it had expired, or Redis lost it")

    def _take_held(self) -> str | None:
        with self._held_mutex:
            token, self._held = self._held, None
        return token

    def release(self) -> None:
        """Give the Redis lock back; never loses the response to a Redis failure.

        Releasing when nothing is held does nothing. A lock that expired (another
        host may hold it now) is left alone. If Redis is down, silent (for up to
        ``socket_timeout``) or lost the lock (restarted empty), a WARNING is
        logged on the ``hmac_body_auth`` logger and the call returns: the lock
        expires by itself after ``lock_timeout``. A server error reply (the lock
        key overwritten by something else, say) is raised as it is.
        """
        from redis.exceptions import ConnectionError, TimeoutError

        token = self._take_held()
        if token is None:
            return
        try:
            released = self._release(keys=[self._lock_name], args=[token])
        except (ConnectionError, TimeoutError) as exc:
            self._warn_release(type(exc).__name__)
            return
        finally:
            self._released_now()
        if not released:
            self._warn_release("it had expired, or Redis lost it")

    def _released_now(self) -> None:
        with self._held_mutex:
            self._last_release = time.monotonic()

    # -- asyncio ---------------------------------------------------------------

    def _make_async_client(self) -> Any:
        import redis.asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        retry = Retry(NoBackoff(), 0)
        if self._url is not None:
            return redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self.socket_timeout,
                socket_connect_timeout=self.socket_timeout,
                retry=retry,
            )
        import redis as sync_redis

        pool = getattr(self._client, "connection_pool", None)
        kwargs = getattr(pool, "connection_kwargs", None)
        classes = {
            sync_redis.Connection: redis.asyncio.Connection,
            sync_redis.SSLConnection: redis.asyncio.SSLConnection,
            sync_redis.UnixDomainSocketConnection: redis.asyncio.UnixDomainSocketConnection,
        }
        connection_class = classes.get(getattr(pool, "connection_class", type(None)))
        if not isinstance(kwargs, dict) or connection_class is None:
            raise ConfigurationError(
                "the async methods of RedisNonce need a URL or a redis.Redis client with a standard connection pool"
            )
        accepted: set[str] = set()
        for cls in connection_class.__mro__:
            init = cls.__dict__.get("__init__")
            if init is not None:
                accepted.update(inspect.signature(init).parameters)
        settings = {k: v for k, v in kwargs.items() if k in accepted and k not in _SYNC_ONLY}
        for key in ("socket_timeout", "socket_connect_timeout"):
            if settings.get(key) is None:
                settings[key] = self.socket_timeout
        settings["retry"] = retry
        return redis.asyncio.Redis(
            connection_pool=redis.asyncio.ConnectionPool(connection_class=connection_class, **settings)
        )

    async def _aclient(self) -> _AsyncClient:
        """The asyncio client of the running loop (made on first use: a client is bound to its loop)."""
        loop = asyncio.get_running_loop()
        entry = self._async.get(loop)
        if entry is not None:
            return entry
        for other in [other for other in self._async if other.is_closed()]:
            del self._async[other]  # its loop closed without shutting down async generators
        client = self._make_async_client()
        entry = _AsyncClient(
            client=client,
            next=client.register_script(_NEXT),
            raise_floor=client.register_script(_RAISE_FLOOR),
            release=client.register_script(_RELEASE),
            acquire=client.register_script(_ACQUIRE),
        )
        self._async[loop] = entry
        # An async generator parked at its first yield: the loop's shutdown_asyncgens()
        # (asyncio.run calls it) closes it, and with it this loop's client.
        entry.closer = _close_with_loop(self._async, loop, entry)
        await entry.closer.__anext__()
        return entry

    async def next_async(self) -> int:
        """Return the next nonce like calling the source, without blocking the event loop.

        Raises:
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        from redis.exceptions import RedisError

        now = self._now_arg()
        entry = await self._aclient()
        try:
            return int(await entry.next(keys=[self._key], args=[self.unit, now]))
        except RedisError as exc:
            raise self._error("allocating a nonce", exc) from exc

    async def raise_floor_async(self, value: int) -> None:
        """Make every later nonce greater than ``value``, without blocking the event loop.

        Raises:
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        from redis.exceptions import RedisError

        floor = self._floor_arg(value)
        if floor is None:
            return
        entry = await self._aclient()
        try:
            await entry.raise_floor(keys=[self._key], args=[floor])
        except RedisError as exc:
            raise self._error("raising the floor", exc) from exc

    async def acquire_async(self, timeout: float | None) -> None:
        """Take the Redis lock like :meth:`acquire`, awaiting Redis and the polls (the loop runs on).

        A task cancelled while its ``SET`` is in flight gives the lock back in the
        background if the ``SET`` took it.

        Raises:
            LeaseTimeout: the lock was not free within ``timeout``.
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        await self._take_async(timeout, allocate=False)

    async def acquire_next_async(self, timeout: float | None) -> int:
        """Take the lock and return the next nonce like :meth:`acquire_next`, without blocking the loop.

        Raises:
            LeaseTimeout: the lock was not free within ``timeout``.
            NonceError: Redis failed or did not answer within ``socket_timeout``.

        """
        value = await self._take_async(timeout, allocate=True)
        assert value is not None
        return value

    async def _take_async(self, timeout: float | None, *, allocate: bool) -> int | None:
        from redis.exceptions import RedisError

        entry = await self._aclient()
        token = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        args = self._acquire_args(token, allocate)
        pending, hot = self._take_pending()
        if pending is not None:
            args[4] = pending
        while True:
            try:
                reply = await entry.acquire(keys=[self._key, self._lock_name, self._wait_name], args=args)
            except RedisError as exc:
                self._orphan(token, args[4])  # as in _take()
                raise self._error("taking the lock", exc) from exc
            except asyncio.CancelledError:
                # The script may have run: give back the lock it may have taken (and
                # the deferred one it may not have), in the background.
                for given in (token, args[4]):
                    if given:
                        task = asyncio.ensure_future(self._release_token_async(entry, given))
                        entry.tasks.add(task)
                        task.add_done_callback(entry.tasks.discard)
                raise
            taken, value = self._taken(reply, token, hot, allocate)
            if taken:
                return value
            try:
                pause = self._pause(deadline)
            except LeaseTimeout:
                with contextlib.suppress(RedisError):
                    await entry.release(keys=[self._wait_name], args=[self._waiter])
                raise
            await asyncio.sleep(pause)
            args = self._acquire_args(token, allocate)

    async def _release_token_async(self, entry: _AsyncClient, token: str) -> bool:
        from redis.exceptions import ConnectionError, TimeoutError

        try:
            return bool(await entry.release(keys=[self._lock_name], args=[token]))
        except (ConnectionError, TimeoutError) as exc:
            self._warn_release(type(exc).__name__)
            return True

    async def release_async(self) -> None:
        """Give the Redis lock back like :meth:`release`, without blocking the event loop."""
        token = self._take_held()
        if token is None:
            return
        entry = await self._aclient()
        try:
            released = await self._release_token_async(entry, token)
        finally:
            self._released_now()
        if not released:
            self._warn_release("it had expired, or Redis lost it")

    async def aclose(self) -> None:
        """Close the asyncio client of the running loop (others close when their loops shut down)."""
        entry = self._async.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await _aclose(entry.client)

    # -- lifecycle and hygiene ---------------------------------------------------

    def _after_fork_in_child(self) -> None:
        self._held_mutex = threading.Lock()
        self._held = None  # the parent's lock is the parent's
        self._reset_handoff()  # and so is a lock it deferred
        # Their sockets are the parent's: never used, never finalized here.
        _FORK_LEFTOVERS.append(self._async)
        self._async = {}

    def close(self) -> None:
        """Give back a deferred lock, and close the connections of a client this object created."""
        self._flush_pending(due_only=False)
        self._settle_orphans()
        if self._owns_client:
            self._client.close()
            self._client.connection_pool.disconnect()
        for loop in [loop for loop in self._async if loop.is_closed()]:
            del self._async[loop]

    def __repr__(self) -> str:
        where = _mask_url(self._url) if self._url is not None else f"<client {self._identity}>"
        return (
            f"RedisNonce({where!s}, name={self.name!r}, unit={self.unit!r}, lock_timeout={self.lock_timeout!r}, "
            f"release_delay={self.release_delay!r})"
        )

    def __reduce__(self) -> Any:
        raise TypeError("RedisNonce holds a Redis connection and cannot be pickled; build one in each process")
