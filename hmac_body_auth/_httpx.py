"""httpx adapter (and httpx2, same API): translates ``httpx.Request`` / ``Response`` for the lifecycle.

The per-call hold lives inside ``sync_auth_flow`` / ``async_auth_flow``: httpx
closes the flow when the response headers arrive or sending fails, so the
``finally`` below releases it then (a streamed body is not waited for).

Redirects: httpx follows them below the auth flow and never shows the hops to
it. With httpcore's transports (the default ``HTTPTransport`` /
``AsyncHTTPTransport``, with or without a proxy) the documented ``trace``
extension is called with each hop's request just before its headers are written;
the auth's trace callback asks the lifecycle and refuses the hop
(:class:`~hmac_body_auth.RedirectError`), strips its credentials, or re-signs it
in place. CONNECT requests to a proxy are the tunnel, not a hop. A transport
that does not call ``trace`` (httpx-aiohttp, custom transports) cannot be guarded
per hop: when the client sending the request follows redirects through such a
transport, the flow refuses before anything is sent (httpx passes the auth no
reference to its client; the flow looks at the one frame that called it).

Streamed bodies: httpx exposes a streamed body only as a one-shot byte stream
(``request.stream``); the file object behind it is private. For a body-digest
the auth reads that stream once, hashing it and spooling it (memory up to 8 MiB,
then a temporary file), and sends the spool: as it is without a nonce, followed
by the nonce field with one (a re-sign sends the spool again with a new field).
Other schemes need the whole body and read it into memory.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

from ._body import encode_body
from ._core import SignedRequest
from ._lifecycle import RESEND, SYNC_CLOCK, Action, Call, Policy
from ._streams import Spool
from .errors import BodyError, RedirectError

if TYPE_CHECKING:
    import httpx

__all__ = ["async_flow", "sync_flow"]

_FRAMING = frozenset({"content-length", "transfer-encoding"})
_HEADERS_EVENT = "send_request_headers.started"


def _client(request: httpx.Request) -> ModuleType:
    """The client package of ``request``: httpx, or httpx2 (same API, its own classes)."""
    kind = type(request)
    package = _PACKAGES.get(kind)
    if package is None:
        package = _PACKAGES[kind] = sys.modules[kind.__module__.partition(".")[0]]
    return package


_PACKAGES: dict[type, ModuleType] = {}

#: (raw name, lowercase name, value), as bytes: one header as the flow handles it.
_Entry = tuple[bytes, bytes, bytes]


@functools.cache
def _entries_layout(headers_type: type) -> bool:
    """Whether ``headers_type`` keeps its headers as a list of :data:`_Entry` in ``_list``.

    httpx and httpx2 do (since httpx 0.18). Building ``Headers`` from pairs
    normalizes every header again (half of the flow's own cost when measured),
    so the signed copy hands over its entries directly, but only after checking,
    once per class, that such a list reads back through the public API exactly
    as the public constructor builds it; any other layout takes the public path.
    """
    try:
        built = headers_type([("X-Probe", "v"), ("x-Probe", "w")])
        handed = _handed(headers_type, [(b"X-Probe", b"x-probe", b"v"), (b"x-Probe", b"x-probe", b"w")])
        return bool(
            vars(built).keys() == {"_list", "_encoding"}
            and built._list == handed._list
            and handed.raw == [(b"X-Probe", b"v"), (b"x-Probe", b"w")]
            and handed.get_list("x-probe") == ["v", "w"]
            and handed.multi_items() == built.multi_items()
        )
    except Exception:
        return False


#: The ``Headers`` classes found to have that layout (a set test costs no call per request).
_LISTED: set[type] = set()


def _listed(headers_type: type) -> bool:
    """:func:`_entries_layout`, remembered in :data:`_LISTED` for the per-request checks."""
    if headers_type in _LISTED:
        return True
    if _entries_layout(headers_type):
        _LISTED.add(headers_type)
        return True
    return False


def _entries(headers: httpx.Headers) -> list[_Entry]:
    """The headers as :data:`_Entry` (read, never changed)."""
    if type(headers) in _LISTED or _listed(type(headers)):
        entries: list[_Entry] = headers._list
        return entries
    return [(name, name.lower(), value) for name, value in headers.raw]


def _handed(headers_type: type, entries: list[_Entry]) -> Any:
    # What Headers(None, encoding=None).__init__ leaves, with the entries in place.
    headers: Any = object.__new__(headers_type)
    headers._list = entries
    headers._encoding = None
    return headers


def _headers(package: ModuleType, entries: list[_Entry]) -> httpx.Headers:
    """A new ``Headers`` of ``entries`` (see :func:`_entries_layout`)."""
    headers_type = package.Headers
    if headers_type in _LISTED or _listed(headers_type):
        handed: httpx.Headers = _handed(headers_type, entries)
        return handed
    built: httpx.Headers = headers_type([(name, value) for name, _, value in entries])
    return built


# -- the client that drives the flow ------------------------------------------------


def check_transport(request: httpx.Request, caller: FrameType | None) -> bool:
    """Refuse, before anything is sent, a redirect-following client whose transport cannot be guarded.

    ``caller`` is the frame that asked for the auth flow: httpx's
    ``_send_handling_auth(self, request, auth, follow_redirects, history)``.
    Returns whether the flow must guard redirect hops: ``False`` only when that
    frame shows a client that does not follow them (httpx's default), so that
    no hop can be sent below the flow.
    """
    if caller is None:
        return True
    try:
        names = caller.f_locals
    except Exception:
        return True
    follow = names.get("follow_redirects")
    client = names.get("self")
    if follow is False and client is not None:
        return False
    if follow is not True or client is None:
        return True
    pick = getattr(client, "_transport_for_url", None)
    if pick is None:
        return True
    package = _PACKAGES.get(type(request)) or _client(request)
    # Every transport a hop may go through: the one for this URL and any mounted for
    # other URLs (a redirect can lead there). httpcore's own transports report each
    # hop through trace; a subclass that overrides the send may not reach httpcore.
    mounts: Any = getattr(client, "_mounts", None)
    first = pick(request.url)
    default = getattr(client, "_transport", None)
    # Without mounts the URL's transport is the client's own (checked once, not twice).
    transports = (first,) if first is default else (first, default)
    if mounts:
        transports = (*transports, *mounts.values())
    for transport in transports:
        if transport is not None and not _reports_hops(transport, package):
            break
    else:
        return True
    kind = type(transport)
    raise RedirectError(
        f"this client follows redirects through its transport ({kind.__name__}), which does not report "
        "each hop to the auth, so a redirect could carry the key and signature to another origin; "
        "nothing was sent (use follow_redirects=False with this transport)"
    )


def _reports_hops(transport: Any, package: ModuleType) -> bool:
    """Whether ``transport`` sends through httpcore's own pool, which reports each hop.

    Looked up for every request, not remembered per class: a transport class
    patched after the first request must be refused from then on.
    """
    kind = type(transport)
    if kind is package.HTTPTransport or kind is package.AsyncHTTPTransport:
        return True  # httpcore's own (a patch of the class itself is the class's send, as below)
    if isinstance(transport, package.HTTPTransport):
        return getattr(kind, "handle_request", None) is getattr(package.HTTPTransport, "handle_request", None)
    if isinstance(transport, package.AsyncHTTPTransport):
        return getattr(kind, "handle_async_request", None) is getattr(
            package.AsyncHTTPTransport, "handle_async_request", None
        )
    return False


# -- redirect hops, through httpcore's trace -----------------------------------------


class _Body:
    """A re-signed hop's body for httpcore, which iterates it sync or async."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


def _hop_url(request: Any) -> str | None:
    # httpcore.URL: scheme, host and port as bytes/int, target as bytes. Through a
    # forwarding proxy the target is the absolute URL of the real destination.
    url = getattr(request, "url", None)
    if url is None:
        return None
    target = bytes(url.target)
    if target.startswith((b"http://", b"https://")):
        return target.decode("ascii", "replace")
    scheme = url.scheme.decode() if isinstance(url.scheme, bytes) else str(url.scheme)
    host = url.host.decode() if isinstance(url.host, bytes) else str(url.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = f":{url.port}" if url.port else ""
    return f"{scheme}://{host}{port}{target.decode('ascii', 'replace')}"


class _Guard:
    """State of the trace callback of one signed request: which hop is being sent."""

    __slots__ = ("call", "inner", "is_async", "method", "sent", "spool", "url")

    def __init__(self, call: Call, url: str | httpx.URL, method: str, inner: Any, is_async: bool = False) -> None:
        self.call = call
        #: The request's URL; made a string at the first hop (most requests have none).
        self.url = url
        self.method = method
        self.inner = inner
        self.is_async = is_async
        self.sent = 0
        #: The spooled body a nonce field follows (a re-signed hop sends it again).
        self.spool: Spool | None = None

    def hop(self, info: dict[str, Any]) -> tuple[Action, str, Any] | None:
        """The action for the request whose headers are about to be written, or ``None`` for the first."""
        request = info.get("request")
        method = getattr(request, "method", b"")
        method = method.decode("ascii", "replace") if isinstance(method, bytes) else str(method)
        if method == "CONNECT":
            return None  # the proxy tunnel for the request, not a hop
        self.sent += 1
        if self.sent == 1:
            return None
        url = _hop_url(request)
        if url is None:
            return None
        from_url = self.url
        if type(from_url) is not str:
            self.url = from_url = str(from_url)
        resends_body = method == self.method and method not in ("GET", "HEAD")
        # The hop's method says which kind of redirect it is (httpx turns 301-303 into GET).
        action = self.call.check_hop(307 if resends_body else 302, from_url, url)
        return action, url, request


# -- a redirect the client does not follow --------------------------------------------


@functools.cache
def _refused_type(headers_type: type) -> type:
    """A ``Headers`` class whose pairs cannot be read: a transport (or this auth) sending them raises."""

    def refuse(self: Any, *args: Any) -> Any:
        raise RedirectError(self._hba_reason)

    def describe(self: Any) -> str:
        # Shown in logs and tracebacks that capture locals: it must not raise.
        return "<headers of a refused redirect hop>"

    members: dict[str, Any] = {
        name: refuse for name in ("keys", "values", "items", "multi_items", "__iter__", "get_list")
    }
    members.update({"raw": property(refuse), "__repr__": describe, "__doc__": _refused_type.__doc__})
    return type(f"Refused{headers_type.__name__}", (headers_type,), members)


@functools.cache
def _refused_body_type(stream_type: type) -> type:
    """A ``ByteStream`` class whose bytes cannot be read (sync or async): the body of a refused hop."""

    def refuse(self: Any) -> Any:
        raise RedirectError(self.reason)

    return type(
        "RefusedBody", (stream_type,), {"__iter__": refuse, "__aiter__": refuse, "__doc__": _refused_body_type.__doc__}
    )


def _unfollowed(response: httpx.Response, call: Call, request: httpx.Request) -> None:
    """The ``next_request`` of a redirect the client returned (``follow_redirects=False``), made safe.

    httpx builds it from the signed request: the key, the signature and, on
    307/308, the signed body with its nonce. Decided as a followed hop would be:
    to another origin it is refused (sending it raises
    :class:`~hmac_body_auth.RedirectError`, nothing sent), as requests refuses
    ``r.next``; to the same origin it goes without the key and signature, and a
    body it keeps is the caller's (sent with this auth, it is signed afresh).
    """
    hop = response.next_request
    if hop is None:
        return
    package = _PACKAGES.get(type(hop)) or _client(hop)
    drop = _dropped(call.policy.header_names, False, False)
    entries = [entry for entry in _entries(hop.headers) if entry[1] not in drop]
    reason = None
    # What httpx kept says which kind of hop it is, as for a followed hop (_Guard.hop): a 301 of a
    # PUT keeps method and body, as a 307 does.
    method = hop.method
    resends = method == request.method and method not in ("GET", "HEAD")
    try:
        action = call.check_hop(307 if resends else 302, str(response.request.url), str(hop.url), method=method)
    except RedirectError as exc:
        reason = str(exc)
    else:
        if action is Action.FOLLOW_SIGNED:
            if isinstance(request.stream, package.ByteStream):
                body = request.read()
                entries = [entry for entry in entries if entry[1] not in (b"content-length", b"transfer-encoding")]
                entries.append((b"Content-Length", b"content-length", b"%d" % len(body)))
                hop.stream = package.ByteStream(body)
                hop._content = body
            else:
                reason = "a redirect would resend a streamed body without its signature; nothing was sent"
    if reason is None:
        hop.headers = _headers(package, entries)
        return
    # Nothing of it can be sent or read: not its headers, nor the signed body it kept.
    vars(hop).pop("_content", None)
    unread: Any = _refused_body_type(package.ByteStream)(b"")
    unread.reason = reason
    hop.stream = unread
    refused: Any = object.__new__(_refused_type(package.Headers))
    refused._list = entries
    refused._encoding = "latin-1"  # given: httpx would guess it by reading every pair
    refused._hba_reason = reason
    hop.headers = refused


def _strip(request: Any, names: frozenset[str]) -> None:
    request.headers[:] = [(k, v) for k, v in request.headers if k.decode("latin-1").lower() not in names]


class _SpoolBody:
    """A spooled body and the nonce field after it, for httpcore, which iterates it sync or async."""

    def __init__(self, spool: Spool, suffix: bytes) -> None:
        self.spool = spool
        self.suffix = suffix

    def __iter__(self) -> Iterator[bytes]:
        yield from self.spool.chunks()
        if self.suffix:
            yield self.suffix

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk


def _resign(request: Any, call: Call, signed: SignedRequest, url: str, spool: Spool | None) -> None:
    if signed.url != url:
        raise RedirectError("a same-origin redirect would need a new URL signature; nothing was sent")
    drop = call.policy.header_names | {"content-length", "transfer-encoding"}
    headers = [(k, v) for k, v in request.headers if k.decode("latin-1").lower() not in drop]
    length = len(signed.body) if signed.stream_size is None else signed.stream_size + len(signed.body)
    headers.append((b"Content-Length", str(length).encode("ascii")))
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in signed.headers.items())
    request.headers[:] = headers
    request.stream = _Body(signed.body) if signed.stream_size is None else _SpoolBody(_spooled_body(spool), signed.body)


def _spooled_body(spool: Spool | None) -> Spool:
    if spool is None:  # pragma: no cover - a streamed signature is only made from a spool
        raise BodyError("a streamed body was signed without its spool")
    return spool


def _sync_trace(guard: _Guard) -> Callable[[str, dict[str, Any]], None]:
    def trace(name: str, info: dict[str, Any]) -> None:
        if name.endswith(_HEADERS_EVENT):
            step = guard.hop(info)
            if step is not None:
                action, url, request = step
                if action is Action.FOLLOW_SIGNED:
                    _resign(request, guard.call, guard.call.sign(url), url, guard.spool)
                else:
                    _strip(request, guard.call.policy.header_names)
        if guard.inner is not None:
            guard.inner(name, info)

    return trace


def _async_trace(guard: _Guard) -> Callable[[str, dict[str, Any]], Any]:
    async def trace(name: str, info: dict[str, Any]) -> None:
        if name.endswith(_HEADERS_EVENT):
            step = guard.hop(info)
            if step is not None:
                action, url, request = step
                if action is Action.FOLLOW_SIGNED:
                    _resign(request, guard.call, await guard.call.sign_async(url), url, guard.spool)
                else:
                    _strip(request, guard.call.policy.header_names)
        if guard.inner is not None:
            await guard.inner(name, info)

    return trace


def _check_history(response: httpx.Response, guard: _Guard) -> None:
    # Redirects were followed below us, but the transport never reported the hops:
    # the hop's headers could not be checked. Refuse the answer rather than hide it.
    if guard.sent <= 1 and response.history and any(earlier.has_redirect_location for earlier in response.history):
        raise RedirectError(
            "the transport followed a redirect without reporting the hop to the auth; the key and "
            "signature may have been sent along (use follow_redirects=False with this transport)"
        )


# -- requests ---------------------------------------------------------------------


def _rebuild(
    request: httpx.Request,
    signed: SignedRequest,
    guard: _Guard,
    *,
    is_async: bool,
    stream: Iterator[bytes] | AsyncIterator[bytes] | None = None,
    stream_size: int | None = None,
    spool: Spool | None = None,
) -> httpx.Request:
    """Return the request to send: rebuilt with the signed URL, body and headers.

    Rebuilt rather than patched through private attributes; the old framing
    headers are dropped (a stale Content-Length makes h11 refuse the request)
    and the extensions (timeouts, the user's trace) are kept. ``spool``: the
    body a streamed signature (``signed.stream_size``) covers, sent before the nonce field.
    """
    if signed.stream_size is not None:
        guard.spool = spool = _spooled_body(spool)
        body = _SpoolBody(spool, signed.body)
        stream = body.__aiter__() if is_async else iter(body)
        stream_size = signed.stream_size + len(signed.body)
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _FRAMING]
    if signed.content_type is not None:
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        headers.append(("Content-Type", signed.content_type))
    extensions = dict(request.extensions)
    extensions["trace"] = _async_trace(guard) if is_async else _sync_trace(guard)
    content: Any = signed.body if stream is None else stream
    if stream_size is not None:
        # Given up front, so httpx does not add chunked framing to the stream.
        headers.append(("Content-Length", str(stream_size)))
    # The signed URL; "" where the call does not use one (Policy.needs_url): the request's.
    rebuilt: httpx.Request = _client(request).Request(
        request.method, signed.url or request.url, headers=headers, content=content, extensions=extensions
    )
    if stream is None and (signed.body or request.method not in ("GET", "HEAD")):
        rebuilt.headers["Content-Length"] = str(len(signed.body))
    for name, value in signed.headers.items():
        rebuilt.headers[name] = value
    return rebuilt


def _signed_copy(
    request: httpx.Request,
    call: Call,
    signed: SignedRequest,
    guard: _Guard | None,
    entries: list[_Entry] | None = None,
) -> httpx.Request:
    """Return the request to send: a copy of ``request`` with the signed URL, body and headers.

    A copy, so that the caller's request stays as it was (it can be sent again,
    and is signed afresh then); made without building a request again (which
    re-parses the URL and the headers: most of the auth's cost otherwise). The
    URL is parsed only when the scheme changed it, the body replaced only when
    the scheme changed it (a nonce field), and ``guard`` installs the redirect
    guard's ``trace`` next to the user's. ``entries``: the request's headers, if
    already read (:func:`_facts`).
    """
    kind = type(request)
    package = _PACKAGES.get(kind) or _client(request)
    sent: httpx.Request = object.__new__(kind)
    sent.__dict__.update(request.__dict__)
    if signed.url != call.out.url:
        sent.url = package.URL(signed.url)
    body = signed.body
    replaced = body is not call.out.body
    drop = _dropped(call.policy.header_names, replaced, signed.content_type is not None)
    # One new header list (not a copy and a __setitem__ per header: each rescans the list).
    headers = []
    for entry in _entries(request.headers) if entries is None else entries:
        if entry[1] not in drop:
            headers.append(entry)
    if replaced:
        # httpx has no public setter for a request's body: its stream is public, and
        # the bytes ``request.content`` returns are the ones read() cached.
        sent.stream = package.ByteStream(body)
        sent._content = body
        if body or request.method not in ("GET", "HEAD"):
            headers.append((b"Content-Length", b"content-length", b"%d" % len(body)))
    if signed.content_type is not None:
        headers.append((b"Content-Type", b"content-type", signed.content_type.encode("latin-1")))
    for name, value in signed.headers.items():
        raw, lower = _NAMES.get(name) or _names(name)
        headers.append((raw, lower, value.encode("latin-1")))
    headers_type = package.Headers
    if headers_type in _LISTED or _listed(headers_type):
        # _handed(), inline.
        handed = object.__new__(headers_type)
        handed._list = headers
        handed._encoding = None
        sent.headers = handed
    else:
        sent.headers = _headers(package, headers)
    if guard is not None:
        sent.extensions = {**request.extensions, "trace": _async_trace(guard) if guard.is_async else _sync_trace(guard)}
    return sent


def _names(name: str) -> tuple[bytes, bytes]:
    """A header name as bytes, and lowercased (a scheme's few names, encoded once: :data:`_NAMES`)."""
    raw = name.encode("latin-1")
    names = raw, raw.lower()
    if len(_NAMES) < 256:
        _NAMES[name] = names
    return names


_NAMES: dict[str, tuple[bytes, bytes]] = {}


@functools.lru_cache(maxsize=64)
def _dropped(names: frozenset[str], framing: bool, content_type: bool) -> frozenset[bytes]:
    """The lowercase raw names of the headers a signed copy replaces: the scheme's, the framing, the type."""
    dropped = {name.encode("latin-1") for name in names}
    if framing:
        dropped |= {b"content-length", b"transfer-encoding"}
    if content_type:
        dropped.add(b"content-type")
    return frozenset(dropped)


def _probe(request: httpx.Request, url: str) -> httpx.Request:
    """The server-time request: a bare ``GET`` (no key, signature, cookie or user header), same timeouts."""
    extensions = {"timeout": request.extensions["timeout"]} if "timeout" in request.extensions else {}
    probe: httpx.Request = _client(request).Request("GET", url, extensions=extensions)
    return probe


def _guard(call: Call, request: httpx.Request, signed: SignedRequest, *, is_async: bool = False) -> _Guard:
    # The signed URL, or where the call does not use one (Policy.needs_url: ""), the request's.
    url = signed.url or request.url
    return _Guard(call, url, request.method, request.extensions.get("trace"), is_async)


def _send(
    call: Call,
    request: httpx.Request,
    signed: SignedRequest,
    *,
    hops: bool,
    is_async: bool,
    spool: Spool | None,
    entries: list[_Entry] | None = None,
) -> tuple[httpx.Request, _Guard | None]:
    """The signed request to yield, and its redirect guard when the client may follow hops below the flow.

    A body too large to hold (a file or stream with a nonce field: ``signed.stream_size``)
    is sent from ``spool`` followed by the signed field, in a request built for it.
    """
    if signed.stream_size is not None:
        streamed = _guard(call, request, signed, is_async=is_async)
        return _rebuild(request, signed, streamed, is_async=is_async, spool=spool), streamed
    guard = _guard(call, request, signed, is_async=is_async) if hops else None
    return _signed_copy(request, call, signed, guard, entries), guard


def _streams(policy: Policy, request: httpx.Request) -> bool:
    """Whether to sign this request's body as a stream (bounded memory)."""
    return policy.streams and not isinstance(request.stream, _client(request).ByteStream)


def _spooled(policy: Policy, request: httpx.Request, spool: Spool, is_async: bool) -> tuple[httpx.Request, _Guard]:
    call = policy.stream_call(request.method, str(request.url), request.headers.get("Content-Type"))
    signed = SignedRequest(call.out.url, b"", policy.stream_headers(policy.signer.sign(spool.chunks())), None, None)
    guard = _guard(call, request, signed)
    stream: Iterator[bytes] | AsyncIterator[bytes] = _aiter(spool) if is_async else spool.chunks()
    return _rebuild(request, signed, guard, is_async=is_async, stream=stream, stream_size=spool.size), guard


async def _aiter(spool: Spool) -> AsyncIterator[bytes]:
    for chunk in spool.chunks():
        yield chunk


def _call(policy: Policy, request: httpx.Request, body: bytes, content_type: str | None) -> Call:
    return policy.call(request.method, str(request.url), content_type, body)


def _facts(request: httpx.Request) -> tuple[list[_Entry], str | None]:
    """The request's headers and its Content-Type, in one pass over them.

    ``headers.get()`` would first work out the headers' encoding (another pass
    decoding every header) on a request that has just been built.
    """
    headers = request.headers
    entries = headers._list if type(headers) in _LISTED else _entries(headers)
    return entries, _value(headers, b"content-type", entries)


def _value(headers: httpx.Headers, name: bytes, entries: list[_Entry] | None = None) -> str | None:
    """What ``headers.get(name)`` returns, read from ``entries`` (repeated values joined as httpx joins them)."""
    if entries is None:
        # _entries(), inline: this runs for every request and every response.
        entries = headers._list if type(headers) in _LISTED else _entries(headers)
    found: bytes | None = None
    for _, lower, value in entries:
        if lower == name:
            found = value if found is None else b"%b, %b" % (found, value)
    if found is None or found.isascii():
        return None if found is None else found.decode("ascii")
    # Not ASCII: as httpx decodes it (its guess of the headers' encoding).
    text: str | None = headers.get(name.decode("ascii"))
    return text


def _begun_streamed(
    policy: Policy, request: httpx.Request, content_type: str | None
) -> tuple[Spool | None, Call, SignedRequest]:
    """A body not in memory (a file, a generator) checked, held and signed.

    Returns its spool (a stream a nonce field follows; ``None`` otherwise), call and signature.
    """
    if not policy.digests:
        call = _call(policy, request, _body(policy, request), content_type)
        return None, call, call.hold_and_sign()
    digester = policy.form_stream(request.method, str(request.url), content_type)
    spool = _spool(policy, request, digester.update)
    try:
        call = policy.digested_call(digester)
        return spool, call, call.hold_and_sign()
    except BaseException:
        spool.close()
        raise


async def _achecked(policy: Policy, request: httpx.Request) -> tuple[Spool | None, Call, list[_Entry] | None]:
    """The call of a body that is not in memory yet (an async stream), checked: its spool, call, headers read."""
    entries, content_type = _facts(request)
    if not policy.digests:
        return None, _call(policy, request, await _abody(policy, request), content_type), entries
    digester = policy.form_stream(request.method, str(request.url), content_type)
    spool = await _aspool(request, digester.update)
    try:
        return spool, policy.digested_call(digester), entries
    except BaseException:
        spool.close()
        raise


def _unreadable(exc: Exception) -> BodyError:
    return BodyError(
        f"the request body could not be read ({type(exc).__name__}); "
        "for a file, open it in binary mode ('rb') so that the bytes sent are the bytes signed"
    )


def _body(policy: Policy, request: httpx.Request) -> bytes:
    """The whole body as the bytes that will be sent (a text stream encoded as configured)."""
    if isinstance(request.stream, _client(request).ByteStream):
        return request.read()
    try:
        # httpx sends a text file (an iterable of str) only after encoding it; read
        # it here, encode it with body_encoding, and send exactly those bytes.
        return b"".join(encode_body(chunk, policy.body_encoding) for chunk in request.stream)  # type: ignore[union-attr]
    except (UnicodeError, OSError, TypeError) as exc:
        raise _unreadable(exc) from exc


async def _abody(policy: Policy, request: httpx.Request) -> bytes:
    if isinstance(request.stream, _client(request).ByteStream):
        return await request.aread()
    if not hasattr(request.stream, "__aiter__"):
        raise BodyError("an AsyncClient needs an async body (bytes, str, or an async iterator of bytes)")
    try:
        return b"".join([encode_body(chunk, policy.body_encoding) async for chunk in request.stream])  # type: ignore[union-attr]
    except (UnicodeError, OSError, TypeError) as exc:
        raise _unreadable(exc) from exc


def _spool(policy: Policy, request: httpx.Request, tap: Callable[[bytes], object] | None = None) -> Spool:
    try:
        return Spool.of(request.stream, policy.body_encoding, tap)  # type: ignore[arg-type]
    except (UnicodeError, OSError, TypeError) as exc:
        raise _unreadable(exc) from exc


async def _aspool(request: httpx.Request, tap: Callable[[bytes], object] | None = None) -> Spool:
    if not hasattr(request.stream, "__aiter__"):
        raise BodyError("an AsyncClient needs an async body (bytes, str, or an async iterator of bytes)")
    try:
        return await Spool.of_async(request.stream, tap)
    except (UnicodeError, OSError, TypeError) as exc:
        raise _unreadable(exc) from exc


def sync_flow(
    policy: Policy, request: httpx.Request, *, hops: bool = True
) -> Generator[httpx.Request, httpx.Response, None]:
    """The sync auth flow: check, hold, sign, send; decide after the response; release.

    ``hops``: the client may follow redirects below the flow (guard each hop).
    """
    if policy.streams and _streams(policy, request):
        spool = _spool(policy, request)
        try:
            signed_request, guard = _spooled(policy, request, spool, False)
            response = yield signed_request
            _check_history(response, guard)
            if response.next_request is not None:
                _unfollowed(response, guard.call, request)
        finally:
            spool.close()
        return
    entries, content_type = _facts(request)
    if isinstance(request.stream, (_PACKAGES.get(type(request)) or _client(request)).ByteStream):
        # Bytes in memory (every body but files and generators): read when the request was built.
        form_spool = None
        # "" where nothing uses the URL (Policy.needs_url); a redirect guard keeps its own.
        url = str(request.url) if policy.needs_url else ""
        call, signed = policy.begin(request.method, url, content_type, request.read())
    else:
        form_spool, call, signed = _begun_streamed(policy, request, content_type)
    try:
        if hops or signed.stream_size is not None:
            sent, hops_guard = _send(
                call, request, signed, hops=hops, is_async=False, spool=form_spool, entries=entries
            )
        else:  # the common case, without the _send() layer
            sent, hops_guard = _signed_copy(request, call, signed, None, entries), None
        response = yield sent
        while True:
            if hops_guard is not None:
                _check_history(response, hops_guard)
            if response.next_request is not None:
                _unfollowed(response, call, request)
            status = response.status_code
            # The answer's headers are scanned only for a status whose body may be read.
            length = _value(response.headers, b"content-length") if status in call.policy.answer_statuses else None
            body = response.read() if call.wants_length(status, length) else None
            decision = call.after(status, body, date=response.headers.get("date") if call.wants_date else None)
            if decision.action is SYNC_CLOCK and decision.probe is not None:
                answer = yield _probe(request, decision.probe)
                # httpx reads every answer a flow moves past in full, so reading it here costs nothing.
                decision = call.probed(answer.status_code, answer.read())
            if decision.action is not RESEND or decision.signed is None:
                return
            sent, hops_guard = _send(
                call, request, decision.signed, hops=hops, is_async=False, spool=form_spool, entries=entries
            )
            response = yield sent
    finally:
        call.release()
        if form_spool is not None:
            form_spool.close()


async def async_flow(
    policy: Policy, request: httpx.Request, *, hops: bool = True
) -> AsyncGenerator[httpx.Request, httpx.Response]:
    """The async auth flow: as :func:`sync_flow`, waiting without blocking the event loop."""
    if policy.streams and _streams(policy, request):
        spool = await _aspool(request)
        try:
            signed_request, guard = _spooled(policy, request, spool, True)
            response = yield signed_request
            _check_history(response, guard)
            if response.next_request is not None:
                _unfollowed(response, guard.call, request)
        finally:
            spool.close()
        return
    signed: SignedRequest | None
    entries: list[_Entry] | None
    if isinstance(request.stream, (_PACKAGES.get(type(request)) or _client(request)).ByteStream):
        # In memory already: nothing to wait for but the lease and the nonce source.
        entries, content_type = _facts(request)
        form_spool = None
        # "" where nothing uses the URL (Policy.needs_url); a redirect guard keeps its own.
        url = str(request.url) if policy.needs_url else ""
        call, signed = policy.begin_now(request.method, url, content_type, request.read())
    else:
        form_spool, call, entries = await _achecked(policy, request)
        signed = None
    try:
        if signed is None:
            await call.hold_async()
            # After the hold: a pool's call has its member's policy now.
            signed = call.sign() if call.policy.in_process else await call.sign_async()
        waits = not call.policy.in_process
        if hops or signed.stream_size is not None:
            sent, hops_guard = _send(call, request, signed, hops=hops, is_async=True, spool=form_spool, entries=entries)
        else:  # the common case, without the _send() layer
            sent, hops_guard = _signed_copy(request, call, signed, None, entries), None
        response = yield sent
        while True:
            if hops_guard is not None:
                _check_history(response, hops_guard)
            if response.next_request is not None:
                _unfollowed(response, call, request)
            status = response.status_code
            length = _value(response.headers, b"content-length") if status in call.policy.answer_statuses else None
            wants = call.wants_length(status, length)
            body = await response.aread() if wants else None
            date = response.headers.get("date") if call.wants_date else None
            decision = await call.after_async(status, body, date=date) if waits else call.after(status, body, date=date)
            if decision.action is SYNC_CLOCK and decision.probe is not None:
                answer = yield _probe(request, decision.probe)
                decision = await call.probed_async(answer.status_code, await answer.aread())
            if decision.action is not RESEND or decision.signed is None:
                return
            sent, hops_guard = _send(
                call, request, decision.signed, hops=hops, is_async=True, spool=form_spool, entries=entries
            )
            response = yield sent
    finally:
        if call.policy.in_process:
            call.release()
        else:
            await call.release_async()
        if form_spool is not None:
            form_spool.close()
