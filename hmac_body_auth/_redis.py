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
import contextlib
import inspect
import logging
import math
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal
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
_PRELUDE = """
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
local last, err = '0', nil
local stored = redis.call('GET', KEYS[1])
if stored then
  last, err = canonical(stored, 'the stored nonce')
  if err then return err end
end
"""

# ARGV: unit, then the time in that unit from an injected clock or ''.
_NEXT = (
    _PRELUDE
    + """
local function plus_one(s)
  local i = #s
  while i > 0 and string.sub(s, i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #s) end
  return string.sub(s, 1, i - 1) .. string.char(string.byte(s, i) + 1) .. string.rep('0', #s - i)
end
local now = ARGV[2]
if now == '' then
  -- The server's clock: one clock for every host.
  local t = redis.call('TIME')
  local micros = string.rep('0', 6 - #t[2]) .. t[2]
  local unit = ARGV[1]
  if unit == 's' then now = t[1]
  elseif unit == 'ms' then now = t[1] .. string.sub(micros, 1, 3)
  elseif unit == 'us' then now = t[1] .. micros
  else now = t[1] .. micros .. '000' end
end
now, err = canonical(now, 'the clock')
if err then return err end
local value = plus_one(last)
if greater(now, value) then value = now end
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
    closer: Any = None
    tasks: set[asyncio.Task[bool]] = field(default_factory=set)


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
        self._identity = self._connection_identity(client)
        self.scope: Hashable = ("redis", self._identity, name)
        # The token of the lock held now; acquire and release may run in different threads.
        self._held: str | None = None
        self._held_mutex = threading.Lock()
        self._async: dict[asyncio.AbstractEventLoop, _AsyncClient] = {}
        _track_for_fork(self)

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
        from redis.exceptions import RedisError

        # A new token per hold: a holder whose lock expired can never release its successor's lock.
        token = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                taken = self._client.set(self._lock_name, token, nx=True, px=self._lock_ms)
            except RedisError as exc:
                raise self._error("taking the lock", exc) from exc
            if taken:
                with self._held_mutex:
                    self._held = token
                return
            pause = 0.001
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LeaseTimeout(f"timed out waiting for the Redis lock of nonce sequence {self.name!r}")
                pause = min(pause, left)
            time.sleep(pause)

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
        if not released:
            self._warn_release("it had expired, or Redis lost it")

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
        from redis.exceptions import RedisError

        entry = await self._aclient()
        token = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        while True:
            try:
                taken = await entry.client.set(self._lock_name, token, nx=True, px=self._lock_ms)
            except RedisError as exc:
                raise self._error("taking the lock", exc) from exc
            except asyncio.CancelledError:
                task = asyncio.ensure_future(self._release_token_async(entry, token))
                entry.tasks.add(task)
                task.add_done_callback(entry.tasks.discard)
                raise
            if taken:
                with self._held_mutex:
                    self._held = token
                return
            pause = 0.001
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LeaseTimeout(f"timed out waiting for the Redis lock of nonce sequence {self.name!r}")
                pause = min(pause, left)
            await asyncio.sleep(pause)

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
        if not await self._release_token_async(entry, token):
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
        # Their sockets are the parent's: never used, never finalized here.
        _FORK_LEFTOVERS.append(self._async)
        self._async = {}

    def close(self) -> None:
        """Close the connections of a client this object created (from a URL, or with a timeout)."""
        if self._owns_client:
            self._client.close()
            self._client.connection_pool.disconnect()
        for loop in [loop for loop in self._async if loop.is_closed()]:
            del self._async[loop]

    def __repr__(self) -> str:
        where = _mask_url(self._url) if self._url is not None else f"<client {self._identity}>"
        return f"RedisNonce({where!s}, name={self.name!r}, unit={self.unit!r}, lock_timeout={self.lock_timeout!r})"

    def __reduce__(self) -> Any:
        raise TypeError("RedisNonce holds a Redis connection and cannot be pickled; build one in each process")
