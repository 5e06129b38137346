"""requests adapter: translates a ``PreparedRequest`` and its responses for the lifecycle.

Every decision is the lifecycle's (``_lifecycle.Call``); this module only moves
bytes and headers between requests' objects and it, at the three points requests
offers an auth:

- **prepare** (``auth(r)``): the body becomes exact bytes, the call takes the
  per-key hold and signs. The hold belongs to the prepared request, not to the
  preparing thread: requests may prepare in one thread and send from another.
- **send**: requests gives an auth no send-time callback, but the transport reads
  the request's header mapping exactly when it writes the request. The headers
  are therefore a :class:`_SignedHeaders` mapping that tells the call which thread
  is sending (so that a same-key request from that thread, e.g. a signal handler,
  is seen as re-entrant rather than waited for), and that hands a redirect hop
  the headers the lifecycle decided for it.
- **response** (a response hook, run when the headers arrive, before requests
  follows a redirect; requests shares the hooks dict with every copy of the
  request, so the hook also sees every hop): the lifecycle decides, the hook
  re-signs and resends, or prepares the hop, and the hold is released.

A request that never gets a response (connection refused, timeout, never sent)
releases its hold when the ``PreparedRequest`` is dropped (CPython frees it as
soon as the exception that carries it is gone) or, at the latest, after
``lease_timeout``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import weakref
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri

from ._body import encode_body
from ._core import SignedRequest
from ._lifecycle import BODY_LIMIT, REDIRECT_STATUSES, RESEND, SYNC_CLOCK, Action, Call, Decision, Policy
from ._streams import Spool, Suffixed, digest_file, file_digest, is_seekable_file
from .errors import BodyError, RedirectError

if TYPE_CHECKING:
    import requests

# The names without an underscore are shared with the niquests adapter (its objects are
# requests-compatible where these functions touch them).
__all__ = [
    "HOP_GRACE",
    "apply",
    "checked_call",
    "is_redirect",
    "probe",
    "probe_settings",
    "put",
    "resend",
    "resent_bytes",
]

log = logging.getLogger("hmac_body_auth")


class _SignedHeaders(CaseInsensitiveDict):  # type: ignore[type-arg]
    """The signed request's headers: they report the send and shape the redirect hop."""

    # Set right after the class swap in _install (no __init__ runs).
    _hba_call: Call
    #: How the next redirect hop is shaped: ``None`` as it is, a set of header names to strip,
    #: or the reason it was refused (a str).
    _hba_hop: str | frozenset[str] | None

    def __iter__(self) -> Iterator[str]:
        self._hba_call.sending()
        return super().__iter__()

    def items(self) -> Any:
        """As the mapping's items; the transport reading them means the send has started."""
        self._hba_call.sending()
        return super().items()

    def copy(self) -> CaseInsensitiveDict:  # type: ignore[type-arg]
        """A copy; for a redirect hop, the headers the lifecycle decided for it."""
        hop = self._hba_hop
        pairs = _pairs(self)
        if isinstance(hop, str):  # the refusal's reason
            return _RefusedHeaders(pairs, hop)
        if hop is not None:
            pairs = [(k, v) for k, v in pairs if k.lower() not in hop]
        return _install(CaseInsensitiveDict(pairs), self._hba_call)


class _RefusedHeaders(CaseInsensitiveDict):  # type: ignore[type-arg]
    """The headers of a redirect hop the lifecycle refused: sending them raises, before any byte."""

    def __init__(self, pairs: list[tuple[str, Any]], reason: str) -> None:
        super().__init__(pairs)
        self._hba_reason = reason

    def _refuse(self) -> None:
        raise RedirectError(self._hba_reason)

    def __repr__(self) -> str:
        # Shown in logs and in tracebacks that capture locals: it must not raise (items() does).
        return "<headers of a refused redirect hop>"

    def __iter__(self) -> Iterator[str]:
        self._refuse()
        return super().__iter__()  # pragma: no cover

    def items(self) -> Any:
        """Refused: see the class docstring."""
        self._refuse()

    def copy(self) -> CaseInsensitiveDict:  # type: ignore[type-arg]
        """Still refused."""
        return _RefusedHeaders(_pairs(self), self._hba_reason)


def _pairs(headers: CaseInsensitiveDict) -> list[tuple[str, Any]]:  # type: ignore[type-arg]
    # The stored (name as given, value) pairs, without going through our __iter__.
    store: Any = headers.__dict__["_store"]
    return list(store.values())


def _install(headers: CaseInsensitiveDict, call: Call) -> _SignedHeaders:  # type: ignore[type-arg]
    if type(headers) is not _SignedHeaders:
        # The same mapping, one class further down: no copy of the headers.
        headers.__class__ = _SignedHeaders
    signed: _SignedHeaders = headers  # type: ignore[assignment]
    signed._hba_call = call
    signed._hba_hop = None
    return signed


def _store(headers: Any) -> dict[str, tuple[str, Any]] | None:
    """The ``lowercase name -> (name, value)`` store of requests' own header mapping, else ``None``.

    Read and written as ``CaseInsensitiveDict``'s own methods do, without their
    Python call per header (the mapping of every prepared request).
    """
    if type(headers) in _STORED:
        store: dict[str, tuple[str, Any]] = headers.__dict__["_store"]
        return store
    return None


_STORED = frozenset({CaseInsensitiveDict, _SignedHeaders})


def _content_type(r: requests.PreparedRequest) -> str | None:
    store = _store(r.headers)
    if store is None:
        value: str | bytes | None = r.headers.get("Content-Type")
    else:
        entry = store.get("content-type")
        value = None if entry is None else entry[1]
    # requests accepts bytes header values (HTTPie sends only bytes); http.client
    # writes str values as latin-1, so decoding that way names the same bytes.
    return value.decode("latin-1") if isinstance(value, bytes) else value


def put(r: requests.PreparedRequest, signed: SignedRequest, *, had_body: bool, was_stream: bool) -> None:
    """Put the signed URL, body and headers into ``r`` (with a Content-Length of the bytes sent)."""
    if signed.stream_size is not None:
        _put_stream(r, signed)
        return
    body = signed.body
    headers = r.headers
    if signed.url != r.url:
        r.url = signed.url
    if body or had_body:
        r.body = body
    if was_stream:
        # The body is bytes now: requests must not rewind it as the file it noted a
        # position of (UnrewindableBodyError on a 307), and chunked framing would
        # conflict with Content-Length.
        r._body_position = None  # type: ignore[attr-defined]
        if "Transfer-Encoding" in headers:
            del headers["Transfer-Encoding"]
    # _store(), inline.
    store = headers.__dict__["_store"] if type(headers) in _STORED else None
    if store is not None and signed.content_type is None and (body or r.method not in ("GET", "HEAD")):
        # The common case, in requests' own mapping: what the general path below writes.
        store["content-length"] = ("Content-Length", str(len(body)))
        for name, value in signed.headers.items():
            store[name.lower()] = (name, value)
        return
    if body or r.method not in ("GET", "HEAD"):
        headers["Content-Length"] = str(len(body))
    elif "Content-Length" in headers:
        del headers["Content-Length"]
    if signed.content_type is not None:
        headers["Content-Type"] = signed.content_type
    for name, value in signed.headers.items():
        headers[name] = value


def _put_stream(r: requests.PreparedRequest, signed: SignedRequest) -> None:
    """Put a signed streamed body into ``r``: its file (from the start) then the nonce field, never in memory."""
    assert signed.stream_size is not None
    body = Suffixed.around(r.body, signed.stream_size, signed.body)
    r.body = body  # type: ignore[assignment]  # requests streams file objects
    headers = r.headers
    if signed.url != r.url:
        r.url = signed.url
    if "Transfer-Encoding" in headers:
        # Sized now: chunked framing would conflict with Content-Length.
        del headers["Transfer-Encoding"]
    headers["Content-Length"] = str(body.length)
    if signed.content_type is not None:
        headers["Content-Type"] = signed.content_type
    for name, value in signed.headers.items():
        headers[name] = value


def _text_body(body: io.TextIOBase, encoding: str) -> bytes:
    # A text-mode file goes on the wire as the transport encodes it (latin-1 in
    # http.client, UTF-8 in urllib3 2), with a Content-Length of its size on disk:
    # neither is what was signed. Read it, encode it as configured, send those bytes.
    try:
        text = body.read()
    except (UnicodeError, OSError) as exc:
        raise BodyError(
            f"the text-mode file could not be read ({type(exc).__name__}); open it in binary mode ('rb') "
            "so that the bytes sent are the bytes signed"
        ) from exc
    if not isinstance(text, str):  # pragma: no cover - a TextIOBase returns str
        raise BodyError("a text-mode file returned bytes; open it in binary mode ('rb')")
    return encode_body(text, encoding)


def _stream_call(policy: Policy, r: requests.PreparedRequest, body: Any, *, form_streams: bool) -> Call | bytes:
    """A file or generator body: a streamed call, or the bytes to sign as a whole."""
    if policy.streams:
        # No nonce joins a streamed body: check origin and scheme once, before reading it.
        call = policy.stream_call(r.method or "GET", r.url or "", _content_type(r))
        if is_seekable_file(body):
            # Hash in chunks and rewind; requests then streams the file as before.
            signature, size = file_digest(policy.signer, body, policy.body_encoding)
        else:
            spool = Spool.of(body, policy.body_encoding)
            signature = policy.signer.sign(spool.chunks())
            spool.file.seek(0)
            # Closed when the request is gone (sent and answered, or dropped).
            weakref.finalize(r, spool.close)
            r.body = spool.file  # type: ignore[assignment]  # requests streams file objects
            size = spool.size
        headers = r.headers
        if "Transfer-Encoding" in headers:
            del headers["Transfer-Encoding"]
        headers["Content-Length"] = str(size)
        headers.update(policy.stream_headers(signature))
        return call
    if policy.digests and form_streams:
        # A nonce field follows the body: checked and hashed as it is read, then sent
        # as the file (or a spool of the stream) followed by the field (see put).
        digester = policy.form_stream(r.method or "GET", r.url or "", _content_type(r))
        if is_seekable_file(body):
            digest_file(digester, body, policy.body_encoding)
        else:
            spool = Spool.of(body, policy.body_encoding, digester.update)
            weakref.finalize(r, spool.close)
            r.body = spool.file  # type: ignore[assignment]
        return policy.digested_call(digester)
    # Another scheme needs the whole body: it is read into memory.
    return Spool.of(body, policy.body_encoding).read_all()


def checked_call(policy: Policy, r: requests.PreparedRequest, *, form_streams: bool = True) -> tuple[Call, bool, bool]:
    """Check ``r``'s body and return ``(call, had_body, was_stream)``, before any nonce or lease.

    The body becomes the exact bytes to sign (``call.out.body``). A file or
    generator body that the auth signs while streaming it is hashed now and its
    signature put into ``r``: the call is then ``streamed`` and needs no signing.
    One that a nonce field follows is checked and hashed now (``form_streams``;
    otherwise it is read into memory), and signed as the call is.
    """
    body = r.body
    had_body = body is not None
    was_stream = False
    kind = type(body)
    if kind is str or kind is bytes or body is None:
        # What requests prepares for data=dict, str and bytes: no stream checks (an ABC isinstance costs).
        return policy.call(r.method or "GET", r.url or "", _content_type(r), body), had_body, was_stream
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    elif isinstance(body, io.TextIOBase):
        was_stream = True
        body = _text_body(body, policy.body_encoding)
    elif had_body and not isinstance(body, (str, bytes)):
        if not hasattr(body, "read") and not hasattr(body, "__iter__"):
            raise BodyError(f"cannot sign a body of type {type(body).__name__}")
        was_stream = True
        streamed = _stream_call(policy, r, body, form_streams=form_streams)
        if isinstance(streamed, Call):
            return streamed, had_body, was_stream
        body = streamed
    # Encode and check before taking the lease or a nonce: bad input costs neither.
    return policy.call(r.method or "GET", r.url or "", _content_type(r), body), had_body, was_stream


def apply(policy: Policy, r: requests.PreparedRequest) -> requests.PreparedRequest:
    """Sign ``r`` in place and register the hook that drives the rest of its lifecycle."""
    body = r.body
    if type(body) is str or type(body) is bytes:
        # What requests prepares for data=dict, str and bytes: checked, held and signed in one step.
        call, signed = policy.begin(r.method or "GET", r.url or "", _content_type(r), body, active=False)
        had_body, was_stream = True, False
    else:
        call, had_body, was_stream = checked_call(policy, r)
        if call.streamed:
            _install(r.headers, call)
            _register(r, call)
            return r
        signed = call.hold_and_sign(active=False)
    try:
        put(r, signed, had_body=had_body, was_stream=was_stream)
        _install(r.headers, call)
        # Not register_hook(): it does an isinstance(Callable) check per call, and
        # prepared requests always have a "response" list.
        r.hooks["response"].append(_Tracker(r, call))
    except BaseException:
        call.release()
        raise
    return r


class _Sent(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a signed request that ends its call's hold when the request is dropped."""

    __slots__ = ("call",)
    call: Call


def _dropped(ref: _Sent) -> None:
    # Dropped unanswered (never sent, or sending failed): end the hold now.
    _PENDING.discard(ref)
    ref.call.abandon()


# Weak references must outlive their request for their callbacks to run: a weakref
# that dies in the same garbage cycle as its referent is cleared without a call.
_PENDING: set[_Sent] = set()


class _Tracker:
    """One call's response hook, and what it remembers between the responses of its hops.

    One object per request (not closures): it is the hook requests runs for every
    response, and its weak reference to the signed request both recognises that
    request's own response and, while the call holds the lease, ends the hold of
    a request dropped unanswered (a plain weakref callback, not weakref.finalize,
    which costs three times as much).
    """

    __slots__ = ("call", "live", "ordered", "original")

    def __init__(self, r: requests.PreparedRequest, call: Call) -> None:
        self.call = call
        # The next hop carries the call's signature (re-signed for it).
        self.live = False
        self.ordered = call.ordered
        if call.holding:
            sent = _Sent(r, _dropped)
            sent.call = call
            _PENDING.add(sent)
            self.original: weakref.ref[Any] = sent
        else:
            self.original = weakref.ref(r)

    def __call__(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """The response hook (requests also runs it for every redirect hop: copies share the hooks)."""
        try:
            return self._on_response(response, kwargs)
        except BaseException:
            self.call.release()
            raise

    def _on_response(self, response: requests.Response, kwargs: dict[str, Any]) -> requests.Response:
        # Only the signed request, and a hop the lifecycle re-signed, are "live":
        # their answers can lead to a re-sign.
        call = self.call
        if response.request is self.original():
            live = True
        else:
            live, self.live = self.live, False
        decides = live and (not self.ordered or call.holding)
        status = response.status_code
        redirect = status in REDIRECT_STATUSES
        location = response.headers.get("location") if redirect else None
        if decides and not (redirect and location):
            # Read whole anyway without stream=True: then wants_body() is reads() (no header lookup).
            wants = call.wants_body(status, response.headers) if kwargs.get("stream") else call.reads(status)
            body = response.content if wants else None
            date = response.headers.get("date") if call.wants_date else None
            decision = call.after(status, body, date=date, resent_bytes=partial(resent_bytes, response))
            if decision.action is SYNC_CLOCK and decision.probe is not None:
                decision = probe(call, response, decision.probe, kwargs)
            if decision.action is RESEND and decision.signed is not None:
                response = resend(response, decision.signed, kwargs)
                status = response.status_code
                location = response.headers.get("location")
        if location is not None and is_redirect(status, location):
            _prepare_hop(call, self, response, status, location, decides=decides)
        else:
            call.release()
        return response


def _register(r: requests.PreparedRequest, call: Call) -> None:
    # requests' register_hook() does an isinstance(Callable) check per call; the
    # hooks dict is public and prepared requests always have a "response" list.
    r.hooks["response"].append(_Tracker(r, call))


#: urllib3's errors of connecting: a retry after one of them sent nothing before.
_NOT_CONNECTED = frozenset({"NewConnectionError", "ConnectTimeoutError", "NameResolutionError"})


def resent_bytes(response: requests.Response) -> bool:
    """Whether urllib3's ``Retry`` sent the request's bytes again after they may have reached the server.

    Its history lists each retry: one after an answer (a status in
    ``status_forcelist``) or after a read error means a copy of the call may have
    run; one after a failed connect (or a redirect urllib3 followed) does not.
    """
    history = getattr(getattr(getattr(response, "raw", None), "retries", None), "history", None)
    if not history:
        return False  # the common case: no retry
    for entry in history:
        if getattr(entry, "redirect_location", None):
            continue
        error = getattr(entry, "error", None)
        if getattr(entry, "status", None) is None and type(error).__name__ in _NOT_CONNECTED:
            continue
        return True
    return False


def is_redirect(status: int, location: str | None) -> bool:
    """Whether a response with ``status`` and ``location`` is a redirect the client would follow."""
    return status in REDIRECT_STATUSES and bool(location)


def _hop_url(response: requests.Response, location: str) -> str:
    """The URL requests will send the hop to (as ``Session.resolve_redirects`` computes it)."""
    # requests decodes Location as latin-1 and re-reads it as UTF-8, joins relative
    # targets onto the response URL, and re-quotes the result.
    with contextlib.suppress(UnicodeError):
        location = location.encode("latin-1").decode("utf-8")
    if location.startswith("//"):
        location = f"{urlsplit(response.url).scheme}:{location}"
    if not urlsplit(location).netloc:
        return requote_uri(urljoin(response.url, requote_uri(location)))
    return requote_uri(location)


def _prepare_hop(
    call: Call, hops: _Tracker, response: requests.Response, status: int, location: str, *, decides: bool
) -> None:
    """Shape the request requests copies for the next hop (``response.request``) as decided."""
    request = response.request
    headers = request.headers
    # Our header mapping shapes the hop when requests copies it (and refuses it when
    # something sends it); a mapping someone replaced (HTTPie does) is edited here.
    ours = headers if isinstance(headers, _SignedHeaders) and headers._hba_call is call else None
    target = _hop_url(response, location)
    try:
        # The method of the request being redirected: a 302 made a POST a GET, whose 307 resends no body.
        action = call.check_hop(status, response.url, target, method=request.method)
        if action is Action.FOLLOW_SIGNED and not decides:
            # A copy sent again after the release: nothing may be signed any more, and
            # the body would carry a stale nonce.
            raise RedirectError("a redirect would resend a signed body whose call has ended; nothing was sent")
    except RedirectError as exc:
        log.warning("redirect refused (nothing was sent): %s", exc)
        call.release()
        if ours is None:
            raise
        ours._hba_hop = str(exc)
        return
    if action is Action.FOLLOW_SIGNED:
        # Same origin, body resent: never with the stale nonce. The hop is signed
        # by a hook that runs after the user's response hooks (a same-key request
        # they make goes first, nested), right before requests copies the request.
        # The hold stays until the hop's response (this hook runs again for it),
        # but at most HOP_GRACE if nobody follows the redirect (allow_redirects=False).
        call.shorten_hold(HOP_GRACE)
        if ours is not None:
            ours._hba_hop = None
        hops.live = True
        _after_user_hooks(request, call, lambda: _sign_hop(call, request, target))
        return
    strip = call.policy.header_names
    if ours is not None:
        ours._hba_hop = strip
    else:
        for name in [name for name in headers if name.lower() in strip]:
            del headers[name]
    call.release()


#: The longest a re-signed redirect hop keeps the key's lease before it is sent.
HOP_GRACE = 1.0


def _sign_hop(call: Call, request: requests.PreparedRequest, target: str) -> None:
    signed = call.sign(target)
    if signed.url != target:
        # The scheme signs the URL itself (a query signature): requests sets the hop's
        # URL from Location, so the signature could not go with it.
        raise RedirectError("a same-origin redirect would need a new URL signature; nothing was sent")
    put(request, signed._replace(url=request.url or ""), had_body=True, was_stream=False)


def _after_user_hooks(request: requests.PreparedRequest, call: Call, action: Callable[[], None]) -> None:
    # requests iterates the hooks list while dispatching: a hook appended now runs
    # after every hook already there, then removes itself (copies share the list).
    hooks: list[Any] = request.hooks["response"]

    def last(response: requests.Response, **kwargs: Any) -> requests.Response:
        if last in hooks:
            hooks.remove(last)
        try:
            action()
        except BaseException:
            call.release()
            raise
        return response

    hooks.append(last)


#: The send settings a server-time request keeps (no hooks' callbacks, never the body's).
_PROBE_SETTINGS = ("timeout", "verify", "cert", "proxies")


def probe_settings(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The adapter ``send`` arguments of a server-time request: the call's timeout, proxies and TLS, streamed."""
    return {**{name: kwargs[name] for name in _PROBE_SETTINGS if name in kwargs}, "stream": True}


def probe(call: Call, response: requests.Response, url: str, kwargs: dict[str, Any], *, client: Any = None) -> Decision:
    """Ask the API's server-time endpoint: a bare ``GET`` (no key, signature, cookie or user header).

    Sent through the same connection adapter with the call's timeout, proxies and
    TLS settings; at most :data:`BODY_LIMIT` of its answer is read. A failed fetch
    leaves the refusal's ``Date`` header as the server's time. ``client``: the
    package whose ``Request`` and ``RequestException`` to use (requests by default;
    the niquests adapter passes niquests).
    """
    if client is None:
        import requests as client
    request = client.Request("GET", url).prepare()
    try:
        answer = response.connection.send(request, **probe_settings(kwargs))
    except client.RequestException as exc:
        log.warning("the server-time endpoint could not be reached (%s)", type(exc).__name__)
        return call.probed(None, None)
    try:
        body = b""
        for chunk in answer.iter_content(BODY_LIMIT + 1):
            body += chunk
            if len(body) > BODY_LIMIT:  # not a time answer; probed() ignores it
                break
    except client.RequestException:
        body = b""
    finally:
        answer.close()
    return call.probed(answer.status_code, body)


def resend(response: requests.Response, signed: SignedRequest, kwargs: dict[str, Any]) -> requests.Response:
    """Re-sign the same request with a fresh nonce and send it once more.

    The request object itself is updated (not a copy), so that a redirect answering
    the resend is prepared on the request requests will copy for the hop.
    """
    prep = response.request
    # A request sent without a body (a signed GET) is resent without one: an empty
    # body of b"" would go out as chunked framing (requests chunks a body without a length).
    put(prep, signed, had_body=prep.body is not None, was_stream=False)
    response.content  # noqa: B018  (drain so the connection can be reused)
    response.close()
    new: requests.Response = response.connection.send(prep, **kwargs)
    new.history.append(response)
    return new
