"""``RedisNonce``: one nonce sequence and one sender lock for hosts sharing an API key.

Each nonce is ``max(server_time, last + 1)``, computed by a Lua script on the
Redis server, so every host draws from one strictly increasing sequence that
stays at or above the Redis server's clock. A plain ``INCR`` would restart at 1
after the key is lost (a flush, a failover to an empty replica); this sequence
resumes above every nonce issued before, as long as fewer than one nonce per
``unit`` was issued on average.

Ordering across hosts is a Redis lock (redis-py's ``Lock``) held from the
allocation of a nonce until the response arrives; it expires after
``lock_timeout`` seconds, so a crashed holder blocks the others at most that long.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .errors import ConfigurationError, LeaseTimeout, NonceError

if TYPE_CHECKING:
    import redis
    from redis.commands.core import Script
    from redis.lock import Lock

__all__ = ["RedisNonce"]

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

    Args:
        url_or_client: a ``redis://``, ``rediss://`` or ``unix://`` URL, or an
            existing ``redis.Redis`` client (used as is, and not closed by
            :meth:`close`).
        name: names the sequence; every host using one API key must use the same
            name and the same Redis database, and no other key may use it.
        unit: the resolution of the nonce: ``"s"``, ``"ms"``, ``"us"`` (default)
            or ``"ns"``.
        lock_timeout: how long, in seconds, the lock outlives a holder that
            vanished without releasing it.
        clock: a zero-argument callable returning Unix time in nanoseconds, used
            instead of the Redis server's ``TIME``; inject a fake one in tests.

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
    ) -> None:
        try:
            import redis
        except ImportError as exc:
            raise ConfigurationError("RedisNonce needs the redis package: pip install hmac-body-auth[redis]") from exc
        if not isinstance(name, str) or not name:
            raise ConfigurationError("name must be a non-empty string")
        if unit not in _DIVISOR:
            raise ConfigurationError("unit must be one of 's', 'ms', 'us', 'ns'")
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, (int, float)) or not lock_timeout >= 0.001:
            # redis-py sets the expiry in whole milliseconds.
            raise ConfigurationError("lock_timeout must be a number of seconds, at least 0.001")
        if clock is not None and not callable(clock):
            raise ConfigurationError("clock must be None or a zero-argument callable returning Unix time in ns")

        self._url: str | None
        if isinstance(url_or_client, str):
            try:
                client: redis.Redis = redis.Redis.from_url(url_or_client)
            except ValueError as exc:
                raise ConfigurationError(
                    "url_or_client must be a redis://, rediss:// or unix:// URL or a redis.Redis client"
                ) from exc
            self._url = url_or_client
            self._owns_client = True
        elif callable(getattr(url_or_client, "register_script", None)) and callable(
            getattr(url_or_client, "lock", None)
        ):
            client = url_or_client
            self._url = None
            self._owns_client = False
        else:
            raise ConfigurationError(
                "url_or_client must be a redis://, rediss:// or unix:// URL or a redis.Redis client"
            )

        self.name = name
        self.unit = unit
        self.lock_timeout = float(lock_timeout)
        self._divisor = _DIVISOR[unit]
        self._clock = clock
        self._client = client
        self._key = f"hmac-body-auth:nonce:{name}"
        self._lock_name = f"hmac-body-auth:lock:{name}"
        self._next: Script = client.register_script(_NEXT)
        self._raise_floor: Script = client.register_script(_RAISE_FLOOR)
        self._identity = self._connection_identity(client)
        self.scope: Hashable = ("redis", self._identity, name)
        # The lock held now; acquire and release may run in different threads.
        self._held: Lock | None = None
        self._held_mutex = threading.Lock()

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

    # -- nonces --------------------------------------------------------------

    def __call__(self) -> int:
        """Return the next nonce: ``max(now, last + 1)``, atomically on the server."""
        now = ""
        if self._clock is not None:
            ns = self._clock()
            if isinstance(ns, bool) or not isinstance(ns, int) or ns < 0:
                raise NonceError("the clock must return a non-negative int (Unix time in ns)")
            now = str(ns // self._divisor)
        return int(self._next(keys=[self._key], args=[self.unit, now]))

    def raise_floor(self, value: int) -> None:
        """Make every later nonce greater than ``value`` (on every host)."""
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("value must be an int")
        if value > 0:
            self._raise_floor(keys=[self._key], args=[str(value)])

    # -- ordering across hosts -------------------------------------------------

    def acquire(self, timeout: float | None) -> None:
        """Take the Redis lock of this sequence, waiting at most ``timeout`` seconds.

        ``None`` waits as long as it takes. May be released from another thread.

        Raises:
            LeaseTimeout: the lock was not free within ``timeout``.

        """
        # A new Lock object per hold: its token belongs to this hold only, so a
        # holder whose lock expired can never release its successor's lock.
        lock = self._client.lock(
            self._lock_name,
            timeout=self.lock_timeout,
            sleep=0.001,
            blocking_timeout=None if timeout is None else max(timeout, 0.0),
            thread_local=False,
        )
        if not lock.acquire():
            raise LeaseTimeout(f"timed out waiting for the Redis lock of nonce sequence {self.name!r}")
        with self._held_mutex:
            self._held = lock

    def release(self) -> None:
        """Give the Redis lock back.

        A lock that already expired (another host may hold it now) is left alone;
        releasing when nothing is held does nothing. Connection errors propagate.
        """
        from redis.exceptions import LockNotOwnedError

        with self._held_mutex:
            lock, self._held = self._held, None
        if lock is None:
            return
        # Not owned: it expired after lock_timeout, and a successor's lock is not ours to free.
        with contextlib.suppress(LockNotOwnedError):
            lock.release()

    # -- lifecycle and hygiene ---------------------------------------------------

    def close(self) -> None:
        """Close the connections of a client this object created from a URL."""
        if self._owns_client:
            self._client.close()
            self._client.connection_pool.disconnect()

    def __repr__(self) -> str:
        where = _mask_url(self._url) if self._url is not None else f"<client {self._identity}>"
        return f"RedisNonce({where!s}, name={self.name!r}, unit={self.unit!r}, lock_timeout={self.lock_timeout!r})"

    def __reduce__(self) -> Any:
        raise TypeError("RedisNonce holds a Redis connection and cannot be pickled; build one in each process")
