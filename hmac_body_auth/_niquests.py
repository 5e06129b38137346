"""niquests adapter: ``Session`` and ``AsyncSession``, through niquests' request hooks.

niquests prepares a request as requests does (the auth is called with a
``PreparedRequest`` whose body and headers are requests-compatible), so the body
handling and the bytes put back into the request are the requests adapter's
(``_requests.checked_call`` and ``put``). What differs is when things happen:

- **prepare** (``auth(r)``): the body becomes the exact bytes to sign and the
  request is checked; nothing is held or signed yet (a file or generator body
  that the auth signs as it streams is hashed now, as with requests). Two hooks
  are registered, ahead of the user's.
- **pre_request** (niquests runs it in ``send``, in the sending thread or task,
  for the request and for each redirect hop): the call takes the per-key hold
  and signs. niquests calls an auth's ``__call__`` synchronously even in an
  ``AsyncSession``, but it awaits hooks that are coroutine functions. The hook
  looks at the one frame that dispatched it (niquests' ``async_dispatch_hook``
  is a coroutine, ``dispatch_hook`` a plain function): in an ``AsyncSession`` it
  inserts its coroutine twin right after itself, which the dispatcher awaits
  next, and which takes the hold with ``hold_async`` without blocking the loop.
- **response** (run when the response headers arrive, before niquests follows a
  redirect): the lifecycle decides; the hook re-signs and resends through the
  same connection adapter, or asks the API's time endpoint, and releases the
  hold (through its coroutine twin in an ``AsyncSession``). A redirect's hop is
  decided in the hop's own pre_request, with the URL niquests will send it to:
  refused before anything is sent, stripped, or re-signed with a fresh nonce
  under a new hold.

A send that fails (connection refused, timeout) gets no response: its hold ends
when the request object is dropped (CPython frees it as soon as the exception
that carries it is gone), in an ``AsyncSession`` when the sending task ends, or,
at the latest, after ``lease_timeout``.

niquests is never imported here: the request's own classes are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import sys
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from functools import partial
from types import FrameType
from typing import Any, NamedTuple

from ._body import encode_body
from ._core import SignedRequest
from ._lifecycle import BODY_LIMIT, RESEND, SYNC_CLOCK, Action, Call, Decision, Policy
from ._requests import checked_call, is_redirect, probe, probe_settings, put, resend, resent_bytes
from ._streams import Spool
from .errors import BodyError, HmacBodyAuthError, RedirectError

__all__ = ["apply", "handles"]

log = logging.getLogger("hmac_body_auth")

# niquests' objects, typed loosely: niquests is an optional dependency, absent
# where the package is type-checked.
_Request = Any
_Response = Any


def handles(r: object) -> bool:
    """Whether ``r`` is a niquests ``PreparedRequest`` (niquests is then imported already)."""
    niquests = sys.modules.get("niquests")
    return niquests is not None and isinstance(r, niquests.PreparedRequest)


def apply(policy: Policy, r: _Request) -> _Request:
    """Check ``r`` and register the hooks that sign it when it is sent and drive the rest of its lifecycle."""
    flow = _Flow(policy, r)
    if _is_async_body(r.body):
        # An AsyncSession's async iterable body: read (spooled) when it is sent, in the event loop.
        flow.unread = r.body
    else:
        # A file that a nonce field follows is read into memory here (form_streams=False):
        # sending it as a file and a suffix (requests' way) is not verified with niquests' transports.
        flow.checked(*checked_call(policy, r, form_streams=False))
    # Registered now, ahead of the user's hooks (niquests adds those after the auth ran).
    r.hooks["pre_request"].append(flow.pre_request)
    r.hooks["response"].append(flow.on_response)
    return r


def _is_async_body(body: object) -> bool:
    return hasattr(body, "__aiter__") and not isinstance(body, (str, bytes)) and not hasattr(body, "__iter__")


async def _encoded(body: AsyncIterable[Any], encoding: str) -> AsyncIterator[bytes]:
    async for chunk in body:
        yield encode_body(chunk, encoding)


def _dispatched_async(dispatcher: FrameType | None) -> bool:
    """Whether the frame that called a hook is niquests' asynchronous dispatcher (a coroutine)."""
    return dispatcher is not None and bool(dispatcher.f_code.co_flags & inspect.CO_COROUTINE)


def _await_next(hooks: list[Any], this: Any, then: Callable[..., Awaitable[Any]]) -> None:
    """Make the dispatcher that is running ``this`` await ``then`` right after it.

    niquests' dispatcher iterates the live hook list: a hook inserted after the
    running one is the next it calls (and awaits, being a coroutine function).
    The twin is a one-shot: spent ones are removed by the next dispatch (only ever
    after the running hook, so that the iteration skips nothing).
    """
    _drop_twins(hooks, this)
    spent = False

    # A plain coroutine function: niquests awaits a hook only if iscoroutinefunction() says so.
    async def twin(data: Any, **kwargs: Any) -> Any:
        nonlocal spent
        if spent:  # called again by niquests after a TypeError: never a second time
            return None
        spent = True
        return await then(data, **kwargs)

    setattr(twin, _TWIN_OF, this)
    hooks.insert(hooks.index(this) + 1, twin)


#: The attribute that marks a twin with the hook it belongs to.
_TWIN_OF = "hba_twin_of"


def _drop_twins(hooks: list[Any], this: Any) -> None:
    """Remove the spent twins of ``this`` (they are after it: the running dispatch skips nothing)."""
    if this not in hooks:
        return
    start = hooks.index(this) + 1
    hooks[start:] = [hook for hook in hooks[start:] if getattr(hook, _TWIN_OF, None) != this]


@contextlib.contextmanager
def _once() -> Iterator[None]:
    # niquests calls a hook again, without keyword arguments, when it raises
    # TypeError (taken for a signature mismatch): a failure must not sign twice.
    try:
        yield
    except TypeError as exc:
        raise HmacBodyAuthError(f"signing the request failed ({type(exc).__name__})") from exc


class _Hop(NamedTuple):
    """A redirect answered; its hop is decided when niquests sends it."""

    status: int
    from_url: str
    call: Call
    """The call whose request was redirected (or, after a stripped hop, the last signed one)."""
    signed: bool
    """The redirected request carried the key and signature."""


# Weak references must outlive their request for their callbacks to run.
_PENDING: set[weakref.ref[Any]] = set()


class _Flow:
    """The hooks of one prepared request: which call is in flight, and which redirect awaits its hop."""

    def __init__(self, policy: Policy, request: _Request) -> None:
        self.policy = policy
        self.original = weakref.ref(request)
        #: An async body not read yet (see :meth:`_read`).
        self.unread: Any = None
        self.had_body = self.was_stream = False
        #: The checked call of the prepared request; the first send uses it, later ones a copy.
        self.template: Call | None = None
        self.first: Call | None = None
        #: The call whose request is in flight, and that request.
        self.current: Call | None = None
        self.sent: weakref.ref[Any] | None = None
        #: The last call signed (redirect hops after a stripped one are checked against it).
        self.last: Call | None = None
        self.hop: _Hop | None = None
        #: The task sending an async call, and its done callback (see _watch).
        self.watching: tuple[asyncio.Task[Any], Callable[[object], None]] | None = None

    def checked(self, call: Call, had_body: bool, was_stream: bool) -> None:
        """The prepared request's checked call (``_requests.checked_call``'s answer)."""
        self.template = self.first = self.last = call
        self.had_body, self.was_stream = had_body, was_stream

    async def _read(self, request: _Request) -> None:
        """Spool an async body (memory, then a temporary file) and check it as the file it now is."""
        body, self.unread = self.unread, None
        try:
            spool = await Spool.of_async(_encoded(body, self.policy.body_encoding))
        except (UnicodeError, OSError, TypeError) as exc:
            raise BodyError(f"the async request body could not be read ({type(exc).__name__})") from exc
        weakref.finalize(request, spool.close)
        request.body = spool.file
        self.checked(*checked_call(self.policy, request, form_streams=False))

    # -- pre_request: hold and sign ---------------------------------------------------

    def pre_request(self, request: _Request, **kwargs: Any) -> None:
        """The pre_request hook: take the hold and sign (in an AsyncSession, in the coroutine twin)."""
        with _once():
            hooks = request.hooks["pre_request"]
            if _dispatched_async(sys._getframe(1)):
                _await_next(hooks, self.pre_request, self._pre_request_async)
                return
            _drop_twins(hooks, self.pre_request)
            if self.unread is not None:
                raise BodyError("a niquests.Session cannot send an async body; use niquests.AsyncSession")
            start = self._start(request)
            if start is None:
                return
            call, hop = start
            call.hold(active=False)  # collectable: ends when the request is dropped unanswered
            call.sending()  # this thread sends it, now
            try:
                self._put(request, call.sign(), hop=hop)
            except BaseException:
                call.release()
                raise
            self._track(call, request)

    async def _pre_request_async(self, request: _Request, **kwargs: Any) -> None:
        with _once():
            if self.unread is not None:
                await self._read(request)
            start = self._start(request)
            if start is None:
                return
            call, hop = start
            await call.hold_async()
            try:
                self._put(request, await call.sign_async(), hop=hop)
            except BaseException:
                await call.release_async()
                raise
            self._track(call, request)
            self._watch(call, asyncio.current_task())

    def _start(self, request: _Request) -> tuple[Call, bool] | None:
        """The call to sign ``request`` with and whether it is a redirect hop; ``None``: send it as it is.

        Raises :class:`~hmac_body_auth.RedirectError` for a hop that must not be sent.
        """
        hop, self.hop = self.hop, None
        if hop is None or request is self.original():
            # The prepared request (or a copy of it) is sent: each send is a call of its own.
            call, self.template = self.template, None
            if call is None:
                first = self.first
                assert first is not None  # set at prepare, or by _read before any send
                call = Call(self.policy, first.out, streamed=first.streamed)
            if call.streamed:
                # Signed at prepare time (no nonce): nothing to hold or sign; redirects still decided.
                self._track(call, request)
                return None
            return call, False
        return self._follow(hop, request)

    def _follow(self, hop: _Hop, request: _Request) -> tuple[Call, bool] | None:
        url = request.url or ""
        # A hop of a request that no longer carries credentials resends nothing signed.
        status = hop.status if hop.signed else 302
        try:
            action = hop.call.check_hop(status, hop.from_url, url, method=request.method)
        except RedirectError:
            log.warning("redirect refused: the hop would carry the key and signature (nothing was sent)")
            raise
        if action is Action.FOLLOW_SIGNED:
            # Same origin, body resent: a call of its own, re-signed for the hop's URL.
            return Call(self.policy, hop.call.out._replace(url=url)), True
        headers = request.headers
        for name in [name for name in headers if name.lower() in self.policy.header_names]:
            del headers[name]
        self.last = hop.call
        return None

    def _put(self, request: _Request, signed: SignedRequest, *, hop: bool) -> None:
        if not hop:
            put(request, signed, had_body=self.had_body, was_stream=self.was_stream)
            return
        if signed.url != request.url:
            # The scheme signs the URL itself (a query signature): niquests sends the
            # hop to the Location it was given, so the signature could not go with it.
            raise RedirectError("a same-origin redirect would need a new URL signature; nothing was sent")
        put(request, signed, had_body=True, was_stream=False)

    def _track(self, call: Call, request: _Request) -> None:
        self.current, self.sent, self.last = call, weakref.ref(request), call
        if call.holding:
            # Dropped unanswered (sending failed): end the hold then.
            def dropped(ref: weakref.ref[Any]) -> None:
                _PENDING.discard(ref)
                call.abandon()

            _PENDING.add(weakref.ref(request, dropped))

    def _watch(self, call: Call, task: asyncio.Task[Any] | None) -> None:
        # A failed send leaves the exception (and with it the request) alive as long as
        # the caller keeps it; an exception that leaves the event loop's run keeps it
        # for good. The sending task's end ends the hold at the latest. (The async hold
        # is not "collectable": waiters running the garbage collector in the event loop
        # made 400 concurrent tasks five times slower.)
        self._unwatch()
        if task is None or not call.holding:
            return

        def ended(_: object) -> None:
            call.abandon()

        task.add_done_callback(ended)
        self.watching = (task, ended)

    def _unwatch(self) -> None:
        watching, self.watching = self.watching, None
        if watching is not None:
            task, ended = watching
            task.remove_done_callback(ended)

    # -- response: decide, resend, release ----------------------------------------------

    def on_response(self, response: _Response, **kwargs: Any) -> Any:
        """The response hook: decide, resend or ask the time endpoint, release."""
        with _once():
            hooks = response.request.hooks["response"]
            if _dispatched_async(sys._getframe(1)):
                _await_next(hooks, self.on_response, self._on_response_async)
                return None
            _drop_twins(hooks, self.on_response)
            call = self._answering(response)
            try:
                return self._answer(call, response, kwargs)
            finally:
                if call is not None:
                    call.release()

    async def _on_response_async(self, response: _Response, **kwargs: Any) -> Any:
        with _once():
            call = self._answering(response)
            try:
                return await self._answer_async(call, response, kwargs)
            finally:
                if call is not None:
                    await call.release_async()

    def _answering(self, response: _Response) -> Call | None:
        """The call that ``response`` answers, if it may still decide (it is in flight, and held)."""
        call, sent = self.current, self.sent
        if call is None or sent is None or response.request is not sent():
            return None
        self.current = self.sent = None
        self._unwatch()
        return call if call.holding or not call.ordered else None

    def _answer(self, call: Call | None, response: _Response, kwargs: dict[str, Any]) -> Any:
        status, location = response.status_code, response.headers.get("location")
        if call is not None and not is_redirect(status, location):
            buffered = not kwargs.get("stream")
            body = response.content if call.wants_body(status, response.headers, buffered=buffered) else None
            decision = call.after(
                status, body, date=response.headers.get("date"), resent_bytes=partial(resent_bytes, response)
            )
            if decision.action is SYNC_CLOCK and decision.probe is not None:
                decision = probe(call, response, decision.probe, kwargs, client=_client(response))
            if decision.action is RESEND and decision.signed is not None:
                response = resend(response, decision.signed, _resend_settings(kwargs))
        self._redirected(call, response)
        return response

    async def _answer_async(self, call: Call | None, response: _Response, kwargs: dict[str, Any]) -> Any:
        status, location = response.status_code, response.headers.get("location")
        if call is not None and not is_redirect(status, location):
            buffered = not kwargs.get("stream")
            wants = call.wants_body(status, response.headers, buffered=buffered)
            body = await response.content if wants else None
            decision = await call.after_async(
                status, body, date=response.headers.get("date"), resent_bytes=partial(resent_bytes, response)
            )
            if decision.action is SYNC_CLOCK and decision.probe is not None:
                decision = await _probe_async(call, response, decision.probe, kwargs)
            if decision.action is RESEND and decision.signed is not None:
                response = await _resend_async(response, decision.signed, _resend_settings(kwargs))
        self._redirected(call, response)
        return response

    def _redirected(self, call: Call | None, response: _Response) -> None:
        previous = call or self.last
        if previous is not None and is_redirect(response.status_code, response.headers.get("location")):
            # Decided when niquests sends the hop (pre_request), with the URL it sends it to.
            self.hop = _Hop(response.status_code, response.url or "", previous, signed=call is not None)


def _client(response: _Response) -> Any:
    """The niquests package (it is imported: ``response`` is one of its objects)."""
    return sys.modules[type(response).__module__.partition(".")[0]]


def _resend_settings(kwargs: dict[str, Any]) -> dict[str, Any]:
    # A resend is awaited here: never a lazy (multiplexed) answer.
    return {**kwargs, "multiplexed": False} if kwargs.get("multiplexed") else kwargs


async def _probe_async(call: Call, response: _Response, url: str, kwargs: dict[str, Any]) -> Decision:
    """As ``_requests.probe``, awaited: a bare ``GET`` of the time endpoint through the same adapter."""
    client = _client(response)
    request = client.Request("GET", url).prepare()
    try:
        answer = await response.connection.send(request, **probe_settings(kwargs))
    except client.RequestException as exc:
        log.warning("the server-time endpoint could not be reached (%s)", type(exc).__name__)
        return await call.probed_async(None, None)
    try:
        body = b""
        async for chunk in await answer.iter_content(BODY_LIMIT + 1):
            body += chunk
            if len(body) > BODY_LIMIT:  # not a time answer; probed() ignores it
                break
    except client.RequestException:
        body = b""
    finally:
        await answer.close()
    return await call.probed_async(answer.status_code, body)


async def _resend_async(response: _Response, signed: SignedRequest, kwargs: dict[str, Any]) -> Any:
    """As ``_requests.resend``, awaited: the same request re-signed, sent once more through the same adapter."""
    request = response.request
    put(request, signed, had_body=request.body is not None, was_stream=False)
    await response.content  # drain, so that the connection can be reused
    await response.close()
    new = await response.connection.send(request, **kwargs)
    new.history.append(response)
    return new
