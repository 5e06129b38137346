"""aiohttp adapter: a client middleware (aiohttp >= 3.12) that drives each request through the lifecycle.

``aiohttp_middleware(auth)`` returns the middleware; it uses nothing of ``auth``
but ``auth.lifecycle`` (a :class:`~hmac_body_auth._lifecycle.Policy`). Every
decision is the lifecycle's; this module reads the request's body, puts the
signed bytes and headers into the ``ClientRequest``, sends it through the next
handler, and reads what the lifecycle asks for.

Facts of aiohttp this rests on (checked on 3.12.0, 3.12.15 and 3.14):

- The body reaches a middleware as a ``Payload`` aiohttp built from ``data=`` /
  ``json=``. A ``str`` was encoded as UTF-8 whatever the auth's ``body_encoding``
  says, and is labelled ``text/plain``; bytes, files and async iterators are
  labelled ``application/octet-stream`` (or a type guessed from a file name).
  The middleware takes the text back, encodes it with ``body_encoding``, and
  sends exactly the bytes it signed, in a payload of its own, with the
  Content-Type the scheme needs (as requests and httpx: a nonce form gets
  ``application/x-www-form-urlencoded``; aiohttp's labels are not the caller's
  content type).
- Middlewares run inside aiohttp's redirect loop, once per hop, and nothing tells
  one that a request is a hop. Each hop is rebuilt from the caller's headers
  (so our headers are gone) but, on 307/308 (and 301/302 of a method other than
  POST), with the previous hop's body object (the stale nonce). Every hop of one
  ``session.request()`` is built with the same ``traces`` list object, and no
  other request shares it: the middleware remembers a redirect it returned under
  that list, and the next request carrying it is the hop (a request made after
  ``allow_redirects=False`` has a list of its own, and is a new call).
- aiohttp resends a request after a dropped keep-alive connection (idempotent
  methods only) on a new request object with the payload it sent (3.12.0:
  rebuilt from the caller's data): the middleware recognises its own payload and
  sends the identical signed bytes again, not re-signed (the first copy may have
  run, and a fresh nonce would let the server run it twice). A retrying
  middleware before this one resends the same request object: that is the
  caller's choice to send again, and the original body is signed again.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

try:
    import aiohttp
except ImportError as exc:  # the optional extra
    raise ModuleNotFoundError(
        "hmac_body_auth.aiohttp_middleware needs aiohttp >= 3.12: pip install 'hmac-body-auth[aiohttp]'",
        name="aiohttp",
    ) from exc
from aiohttp import payload as aiohttp_payload
from aiohttp.abc import AbstractStreamWriter
from aiohttp.multipart import parse_content_disposition
from yarl import URL

from ._core import Digested, Digester, SignedRequest
from ._lifecycle import BODY_LIMIT, REDIRECT_STATUSES, RESEND, SYNC_CLOCK, Action, Call, Policy
from ._origin import origin_of
from ._streams import CHUNK, Spool
from .errors import BodyError, ConfigurationError, OriginError, RedirectError

if TYPE_CHECKING:
    from multidict import CIMultiDict

__all__ = ["aiohttp_middleware"]

log = logging.getLogger("hmac_body_auth")

_BODILESS = ("GET", "HEAD")
#: Content types aiohttp gives a body it cannot type (not the caller's, nor what requests or httpx send).
_OCTETS = "application/octet-stream"


class _HasLifecycle(Protocol):
    @property
    def lifecycle(self) -> Policy: ...


# -- what the caller asked to send ----------------------------------------------------


class _Source:
    """One request's body before signing, kept for resends, retries and re-signed hops."""

    __slots__ = ("__weakref__", "body", "content_type", "form", "label", "payload_headers", "spooled")

    def __init__(
        self,
        body: str | bytes | None,
        content_type: str | None,
        label: str | None = None,
        payload_headers: tuple[tuple[str, str], ...] = (),
        spooled: _Spooled | None = None,
        form: tuple[Spool, Digested] | None = None,
    ) -> None:
        self.body = body
        #: The caller's content type, as requests and httpx would report it to the lifecycle.
        self.content_type = content_type
        #: The Content-Type to send when neither the caller nor the scheme gives one.
        self.label = label
        #: Headers aiohttp copied from the caller's payload, which no longer describe the body.
        self.payload_headers = payload_headers
        #: A body streamed through a spool (bounded memory): signed once, sent as it is.
        self.spooled = spooled
        #: A body spooled and hashed that a nonce field follows: each signature sends the spool, then its field.
        self.form = form


class _Signed(aiohttp_payload.Payload):
    """The exact bytes of one signed attempt, and the source they were signed from."""

    def __init__(self, data: bytes, source: _Source, content_type: str | None) -> None:
        super().__init__(data, content_type=content_type)
        self.data = data
        self.source = source

    @property
    def size(self) -> int:
        """The length of the signed bytes."""
        return len(self.data)

    @property
    def autoclose(self) -> bool:
        """Bytes in memory: nothing to close."""
        return True

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The signed bytes as text."""
        return self.data.decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The signed bytes."""
        return self.data

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the signed bytes."""
        await writer.write(self.data)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        """Write the signed bytes (at most ``content_length``)."""
        await writer.write(self.data if content_length is None else self.data[:content_length])


class _Spooled(aiohttp_payload.Payload):
    """A streamed body read once into a spool (memory, then a temporary file), signed, and sent from there."""

    def __init__(self, spool: Spool, content_type: str | None) -> None:
        super().__init__(spool, content_type=content_type)
        self.spool = spool
        self.source: _Source | None = None
        self.signature_headers: dict[str, str] = {}
        self._closed = False

    @property
    def size(self) -> int:
        """The spooled length."""
        return self.spool.size

    @property
    def consumed(self) -> bool:
        """Replayable until closed (aiohttp closes it when the request is done)."""
        return self._closed

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Not offered: the body may be larger than memory."""
        raise TypeError("a spooled body is not decoded into memory")

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the spooled bytes, reading the file in a worker thread."""
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        """Write the spooled bytes (at most ``content_length``) from the start."""
        spool = self.spool
        await asyncio.to_thread(spool.file.seek, 0)
        left = spool.size if content_length is None else min(content_length, spool.size)
        while left > 0:
            chunk = await asyncio.to_thread(spool.file.read, min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            await writer.write(chunk)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self.spool.close()

    async def close(self) -> None:
        """Delete the spool."""
        self._close()


class _SpooledForm(_Spooled):
    """A spooled body and the nonce field of one signature after it; the spool is its source's (closed with it)."""

    def __init__(self, spool: Spool, suffix: bytes, source: _Source, content_type: str | None) -> None:
        super().__init__(spool, content_type)
        self.suffix = suffix
        self.source = source

    @property
    def size(self) -> int:
        """The spooled length and the nonce field's."""
        return self.spool.size + len(self.suffix)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        """Write the spooled bytes, then the nonce field (at most ``content_length`` in all)."""
        await super().write_with_length(writer, content_length)
        left = len(self.suffix) if content_length is None else min(content_length - self.spool.size, len(self.suffix))
        if left > 0:
            await writer.write(self.suffix[:left])

    def _close(self) -> None:
        # A re-sign replaces this payload with the next signature's over the same spool.
        self._closed = True


class _Into(AbstractStreamWriter):
    """What a payload writes itself into (as it would onto the connection): a spool, or a list."""

    def __init__(self, sink: Callable[[bytes], object]) -> None:
        self.sink = sink

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.sink(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        if chunk:
            self.sink(chunk)

    async def drain(self) -> None:
        return None

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        return None

    def enable_chunking(self) -> None:
        return None

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        return None


#: aiohttp >= 3.12.? gives a payload's bytes directly (3.12.0 only writes them).
_AS_BYTES = "as_bytes" in vars(aiohttp_payload.BytesPayload)

#: Payloads of bytes in memory, exactly these classes (a subclass may close something):
#: replacing one needs no ``update_body()``, whose awaited ``close()`` does nothing for them.
_NOTHING_TO_CLOSE: frozenset[type] = frozenset({aiohttp_payload.BytesPayload, _Signed})


def _unreadable(exc: BaseException) -> BodyError:
    return BodyError(
        f"the request body could not be read ({type(exc).__name__}); "
        "for a file, open it in binary mode ('rb') so that the bytes sent are the bytes signed"
    )


async def _bytes(body: aiohttp_payload.Payload) -> bytes:
    """The bytes an in-memory payload writes, as onto the connection (3.12.0 has no ``as_bytes()``)."""
    chunks: list[bytes] = []
    await body.write(_Into(chunks.append))
    return b"".join(chunks)


async def _spool(body: aiohttp_payload.Payload) -> Spool:
    spool = Spool()
    try:
        await body.write(_Into(spool.write))
    except BaseException as exc:
        spool.close()
        if isinstance(exc, (UnicodeError, OSError, TypeError, ValueError)):
            raise _unreadable(exc) from exc
        raise
    return spool


def _caller_type(req: aiohttp.ClientRequest, body: aiohttp_payload.Payload, *, labelled: bool) -> str | None:
    """The request's Content-Type unless it is the label aiohttp gave ``body`` (``labelled``: a label kind)."""
    given = req.headers.get("Content-Type")
    if given is not None and given == body.content_type and (labelled or given == _OCTETS):
        return None
    return given


def _copied(req: aiohttp.ClientRequest, body: aiohttp_payload.Payload) -> tuple[tuple[str, str], ...]:
    """The headers aiohttp copied from ``body`` into ``req`` (other than its Content-Type label)."""
    headers = body.headers
    if len(headers) == 1 and "Content-Type" in headers:
        return ()  # a form, bytes or JSON: the label only (the common case, without the loop)
    return tuple(
        (name, value)
        for name, value in headers.items()
        if name.lower() != "content-type" and req.headers.get(name) == value
    )


async def _read(policy: Policy, req: aiohttp.ClientRequest) -> _Source:
    """What the request asks to send: text, bytes, or (where the scheme can stream) a spool."""
    body = req.body
    if type(body) is aiohttp_payload.BytesPayload and not req.compress:
        # What data=dict, pairs, bytes and json= become (the common case): no chain of
        # isinstance checks against the ABCs below. As bytes exactly as aiohttp would send them.
        data = await body.as_bytes() if _AS_BYTES else await _bytes(body)
        label = body.content_type
        # _caller_type(labelled=False) and _copied()'s common answer, inline: this runs for every request.
        given = req.headers.get("Content-Type")
        caller = None if given == _OCTETS and label == _OCTETS else given
        headers = body.headers
        copied = () if len(headers) == 1 and "Content-Type" in headers else _copied(req, body)
        return _Source(data, caller, label, copied)
    if isinstance(body, _Signed):
        return body.source  # a retrying middleware resending the request: sign its original body again
    if isinstance(body, _Spooled) and body.source is not None:
        return body.source  # the same, for a streamed body: its spool is sent again
    if not isinstance(body, aiohttp_payload.Payload):
        return _Source(None, req.headers.get("Content-Type"))
    if req.compress:
        raise BodyError("compress= would send other bytes than the ones signed; send the body uncompressed")
    copied = _copied(req, body)
    text_label = f"text/plain; charset={policy.body_encoding}"
    if isinstance(body, aiohttp.MultipartWriter):
        return _Source(await _multipart(body), req.headers.get("Content-Type"), None, copied)
    if isinstance(body, aiohttp_payload.StringPayload):
        # aiohttp encoded the text (UTF-8, or the charset it was given): take the text back.
        text = body.decode(body.encoding or "utf-8")
        return _Source(text, _caller_type(req, body, labelled=True), text_label, copied)
    if isinstance(body, aiohttp_payload.TextIOPayload):
        try:
            text = await asyncio.to_thread(body.decode)
        except (UnicodeError, OSError) as exc:
            raise _unreadable(exc) from exc
        return _Source(text, _caller_type(req, body, labelled=True), text_label, copied)
    if isinstance(body, aiohttp_payload.BytesPayload):
        # bytes, a form (dict, pairs, FormData) or JSON: as aiohttp would send them.
        data = await _bytes(body)
        return _Source(data, _caller_type(req, body, labelled=False), body.content_type, copied)
    # A file or a stream (or a payload of the caller's own): read it once.
    content_type = _caller_type(req, body, labelled=True)
    spool = await _spool(body)
    if policy.digests:
        # A nonce field follows the body: hash and check the spool (in a worker thread), sign per call.
        try:
            digester = policy.form_stream(req.method, str(req.url), content_type)
            await asyncio.to_thread(_digest, digester, spool)
            digest = digester.done(streamed=True).digest
        except BaseException:
            spool.close()
            raise
        assert digest is not None
        form = _Source(None, content_type, body.content_type, copied, form=(spool, digest))
        weakref.finalize(form, spool.close)
        return form
    if not policy.streams:
        # A nonce or another scheme needs the whole body: it is read into memory.
        return _Source(await asyncio.to_thread(spool.read_all), content_type, body.content_type, copied)
    spooled = _Spooled(spool, content_type or body.content_type)
    source = _Source(None, content_type, body.content_type, copied, spooled)
    spooled.source = source
    return source


def _digest(digester: Digester, spool: Spool) -> None:
    for chunk in spool.chunks():
        digester.update(chunk)


def _is_file(part: aiohttp_payload.Payload) -> bool:
    disposition = part.headers.get("Content-Disposition")
    params = parse_content_disposition(disposition)[1] if disposition else {}
    return part.filename is not None or "filename" in params or "filename*" in params


async def _multipart(body: aiohttp.MultipartWriter) -> bytes:
    """The bytes of a multipart body of text fields; a file (or any stream) in it is refused."""
    for part, encoding, te_encoding in body:
        if not isinstance(part, aiohttp_payload.BytesPayload) or encoding or te_encoding or _is_file(part):
            raise BodyError(
                "a form with a file cannot be signed (aiohttp streams it as multipart); "
                "send the fields as a dict or a FormData without files, or build the whole body as bytes"
            )
    return await _bytes(body)


# -- putting what was signed into the request ---------------------------------------------


async def _put(
    req: aiohttp.ClientRequest, signed: SignedRequest, source: _Source, body: Any, *, hop: bool, url: str
) -> None:
    """Put the signed URL, body and headers into ``req``; ``body`` is the payload to send (or ``None``).

    ``url``: the URL the call was checked with (``str(req.url)``), or ``""`` where the
    call does not use it (:attr:`Policy.needs_url`): then the signed URL is ``""`` too.
    """
    if signed.url != url:
        if hop:
            # The redirect policy (docs/security.md) is one for every client: requests and
            # httpx cannot move a hop to a new URL, so no client re-signs a hop's URL.
            raise RedirectError("a same-origin redirect would need a new URL signature; nothing was sent")
        if origin_of(signed.url) != origin_of(str(req.url)):
            raise OriginError("the scheme moved the request to another origin; nothing was sent")
        # As signed, byte for byte: aiohttp sends the path and query of an encoded URL untouched.
        req.url = URL(signed.url, encoded=True)
    headers = req.headers
    for name, value in source.payload_headers:
        if headers.get(name) == value:
            headers.popall(name, None)
    if body is not None:
        if req.body is not body:
            # Sized: Content-Length framing, never chunked (nor both).
            if "Transfer-Encoding" in headers:
                del headers["Transfer-Encoding"]
            if req.chunked is not None:
                req.chunked = None
            update = getattr(req, "update_body", None)
            if update is not None and type(req.body) not in _NOTHING_TO_CLOSE:
                await update(body)  # closes the caller's payload
            else:
                # aiohttp 3.12.0 has no update_body(); and a payload of bytes in memory
                # (the common case) holds nothing that update_body() would close.
                headers.popall("Content-Length", None)
                req.update_body_from_data(body)
        content_type = signed.content_type or source.content_type or source.label
        if content_type is not None:
            headers["Content-Type"] = content_type
    elif signed.content_type is not None:
        headers["Content-Type"] = signed.content_type
    elif "Content-Type" not in headers and req.method in req.POST_METHODS:
        # No body and no type, as requests and httpx send it (aiohttp would add
        # application/octet-stream to a POST, which some APIs refuse without a body).
        req.update_auto_headers([*req.skip_auto_headers, "Content-Type"])
    for name, value in signed.headers.items():
        headers[name] = value


def _payload(signed: SignedRequest, source: _Source) -> aiohttp_payload.Payload | None:
    if signed.stream_size is not None and source.form is not None:
        return _SpooledForm(source.form[0], signed.body, source, signed.content_type or source.content_type)
    if not signed.body and source.body is None:
        return None  # no body, as the caller sent it
    return _Signed(signed.body, source, signed.content_type or source.content_type or source.label)


def _location(resp: aiohttp.ClientResponse) -> str | None:
    if resp.status not in REDIRECT_STATUSES:
        return None
    return resp.headers.get("Location") or resp.headers.get("URI")


async def _probe(req: aiohttp.ClientRequest, url: str) -> tuple[int | None, bytes | None]:
    """Ask the API's server-time endpoint: a bare ``GET`` (no key, signature, cookie or caller header).

    Sent over the session's connector (its TLS settings and pooled connections),
    through the request's proxy, with the session's timeouts; at most
    :data:`BODY_LIMIT` of the answer is read.
    """
    session = req.session
    proxy_headers = dict(req.proxy_headers or {})
    if req.proxy_auth is not None:
        proxy_headers.setdefault("Proxy-Authorization", req.proxy_auth.encode())
    try:
        async with (
            aiohttp.ClientSession(connector=session.connector, connector_owner=False, timeout=session.timeout) as bare,
            bare.get(
                url,
                allow_redirects=False,
                proxy=req.proxy,
                proxy_headers=proxy_headers or None,
                ssl=req.ssl,
                server_hostname=req.server_hostname,
            ) as answer,
        ):
            body = b""
            while len(body) <= BODY_LIMIT:
                chunk = await answer.content.read(BODY_LIMIT + 1 - len(body))
                if not chunk:
                    break
                body += chunk
            return answer.status, body
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("the server-time endpoint could not be reached (%s)", type(exc).__name__)
        return None, None


# -- the middleware -----------------------------------------------------------------------


class _Hop:
    """A redirect the middleware returned, for the hop aiohttp may send next."""

    __slots__ = ("call", "chain", "forget", "from_url", "source", "status")

    def __init__(self, chain: list[Any], call: Call, source: _Source, from_url: str, status: int) -> None:
        # The chain's list is kept alive here, so its id stays this chain's while the hop is pending.
        self.chain = chain
        self.call = call
        self.source = source
        self.from_url = from_url
        self.status = status
        self.forget: weakref.finalize[Any, Any] | None = None


def _chain(req: aiohttp.ClientRequest) -> list[Any]:
    """The object aiohttp builds every hop of one ``session.request()`` with (its trace list)."""
    chain = getattr(req, "_traces", None)
    if not isinstance(chain, list):
        raise ConfigurationError(
            "this aiohttp version does not show the middleware which requests are redirect hops; "
            "hmac-body-auth supports aiohttp >= 3.12, < 4"
        )
    return chain


#: What aiohttp sends an idempotent request again after (a kept-alive connection that dropped),
#: on a new request of the same chain, and those methods (aiohttp's ``IDEMPOTENT_METHODS``).
_RETRIED = (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError)
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
#: Of those, the errors of connecting, which aiohttp never retries (nothing was sent).
_NOT_SENT = aiohttp.ClientConnectorError
#: How long a request whose connection dropped waits for aiohttp's copy (it comes at once, in the
#: same task, or never), and how many such requests are remembered at most.
_RETRY_WINDOW = 10.0
_RETRIES_KEPT = 64

#: What a request sent when its connection dropped, for aiohttp's copy of it (:meth:`_Middleware._again`):
#: ``(chain, id of the request, its URL before signing, the URL the call was checked with, whether it
#: was a hop, what was signed (``None``: a hop followed stripped), the call, the source, when)``.
_Retry = tuple[list[Any], int, URL, str, bool, "SignedRequest | None", Call, _Source, float]


class _Middleware:
    """The client middleware of one auth (see :func:`aiohttp_middleware`)."""

    __slots__ = ("__weakref__", "_auth", "_hops", "_retries")

    def __init__(self, auth: _HasLifecycle) -> None:
        self._auth = auth
        self._hops: dict[int, _Hop] = {}
        self._retries: dict[int, _Retry] = {}

    def __repr__(self) -> str:
        return f"aiohttp_middleware({self._auth!r})"

    async def __call__(self, req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        chain = _chain(req)
        key = id(chain)
        hop = self._hops.pop(key, None)
        if hop is not None:
            if hop.forget is not None:
                hop.forget.detach()
            if hop.chain is chain:
                return await self._follow(req, handler, hop)
        if self._retries:
            retry = self._retries.pop(key, None)
            # The same request object again is a middleware before this one retrying: its choice, signed anew.
            if retry is not None and retry[0] is chain and retry[1] != id(req):
                return await self._again(req, handler, retry)
        policy = self._auth.lifecycle
        return await self._send(policy, req, handler, await _read(policy, req))

    def _expect_retry(
        self,
        req: aiohttp.ClientRequest,
        error: BaseException,
        url: URL,
        checked: str,
        hop: bool,
        signed: SignedRequest | None,
        call: Call,
        source: _Source,
    ) -> None:
        """The connection dropped: aiohttp may send an idempotent request again, on a new request of its chain.

        Not for a connection that was never made (aiohttp does not retry that), and
        kept briefly and boundedly: aiohttp's copy comes at once, or not at all.
        """
        if req.method not in _IDEMPOTENT or isinstance(error, _NOT_SENT):
            return
        retries = self._retries
        now = time.monotonic()
        for key in [key for key, retry in retries.items() if now - retry[-1] > _RETRY_WINDOW]:
            del retries[key]
        while len(retries) >= _RETRIES_KEPT:
            del retries[next(iter(retries))]  # the oldest
        chain = _chain(req)
        retries[id(chain)] = (chain, id(req), url, checked, hop, signed, call, source, now)

    async def _again(
        self, req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType, retry: _Retry
    ) -> aiohttp.ClientResponse:
        """Send the copy aiohttp makes of a request whose kept-alive connection dropped, as it went.

        The first copy may have reached the server and run. The identical bytes
        go again, with the same nonce and signature (a hop followed stripped goes
        stripped again): a strict server refuses them if the first copy ran, and
        runs them if it never arrived (unless a later request of the key got there
        first, after the first copy's hold ended). The answer decides nothing: the
        call is not re-signed. A redirect answering it is guarded as any.
        """
        _, _, url, checked, hop, signed, call, source, _ = retry
        if req.url != url:
            raise RedirectError("a signed request would be sent again to another URL; nothing was sent")
        if signed is None:
            return await self._stripped(req, handler, call, source, copy=True)
        body = req.body
        # aiohttp resends the payload it sent (3.12.0: rebuilt from the caller's data).
        payload = body if isinstance(body, (_Signed, _Spooled)) else (source.spooled or _payload(signed, source))
        await _put(req, signed, source, payload, hop=hop, url=checked)
        resp = await handler(req)
        if resp.status in REDIRECT_STATUSES and _location(resp) is not None:
            self._expect_hop(req, resp, call, source)
        return resp

    async def _stripped(
        self,
        req: aiohttp.ClientRequest,
        handler: aiohttp.ClientHandlerType,
        call: Call,
        source: _Source,
        *,
        copy: bool = False,
    ) -> aiohttp.ClientResponse:
        """Send a hop followed stripped: without the key and signature (nor a signed body).

        ``copy``: aiohttp's copy of the hop (:meth:`_again`), which it does not send a third time.
        """
        for name in call.policy.header_names:
            req.headers.popall(name, None)
        if isinstance(req.body, (_Signed, _Spooled)):
            # A GET or HEAD sent with a body, which aiohttp resends on 307/308.
            raise RedirectError("a redirect would resend the signed body without its signature; nothing was sent")
        try:
            resp = await handler(req)
        except _RETRIED as exc:
            if not copy:
                self._expect_retry(req, exc, req.url, "", False, None, call, source)
            raise
        if _location(resp) is not None:
            self._expect_hop(req, resp, call, source)
        return resp

    async def _follow(
        self, req: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType, hop: _Hop
    ) -> aiohttp.ClientResponse:
        """The hop of a redirect the middleware returned, which aiohttp follows: refuse, strip or re-sign it."""
        call = hop.call
        # What aiohttp does says which kind of hop it is (it keeps method and body on
        # 307/308, and on 301/302 of a method other than POST).
        resends = req.method == call.out.method and req.method not in _BODILESS
        status = hop.status if (hop.status in (307, 308)) == resends else (307 if resends else 302)
        action = call.check_hop(status, hop.from_url, str(req.url))  # raises RedirectError: nothing sent
        if action is Action.FOLLOW_SIGNED:
            return await self._send(call.policy, req, handler, hop.source, hop=True)
        return await self._stripped(req, handler, call, hop.source)

    async def _send(
        self,
        policy: Policy,
        req: aiohttp.ClientRequest,
        handler: aiohttp.ClientHandlerType,
        source: _Source,
        *,
        hop: bool = False,
    ) -> aiohttp.ClientResponse:
        """One signed call: check, hold, sign, send; decide after the response; release."""
        method = req.method
        start = req.url
        spooled = source.spooled
        # Where nothing uses the URL (Policy.needs_url), it is not made a string: a hop of this
        # call is checked with the URLs aiohttp gives then, and _put compares like with like.
        url = str(req.url) if hop or spooled is not None or source.form is not None or policy.needs_url else ""
        signed_now: SignedRequest | None = None
        if spooled is not None:
            call = policy.stream_call(method, url, source.content_type)
            if not spooled.signature_headers:
                signature = await asyncio.to_thread(policy.signer.sign, spooled.spool.chunks())
                spooled.signature_headers = policy.stream_headers(signature)
        elif source.form is not None:
            # Origin and method checked again for this URL; the body was checked when it was hashed.
            out = policy.check(method, url, source.content_type, b"")
            call = Call(policy, out._replace(digest=source.form[1]))
        else:
            # Checked, and held and signed when nothing has to wait (the common case).
            call, signed_now = policy.begin_now(method, url, source.content_type, source.body)
        if signed_now is None and not call.hold_now():
            await call.hold_async()
        try:
            # After the hold: a pool's call has its member's policy now.
            waits = not call.policy.in_process
            payload: aiohttp_payload.Payload | None
            if spooled is not None:
                signed = SignedRequest(call.out.url, b"", spooled.signature_headers, None, None)
                payload = spooled
            else:
                signed = signed_now or (await call.sign_async() if waits else call.sign())
                payload = _payload(signed, source)
            await _put(req, signed, source, payload, hop=hop, url=url)
            try:
                resp = await handler(req)
            except _RETRIED as exc:
                self._expect_retry(req, exc, start, url, hop, signed, call, source)
                raise
            while True:
                # The status first: most answers are no redirect, and _location() is not called for them.
                if resp.status in REDIRECT_STATUSES and _location(resp) is not None:
                    self._expect_hop(req, resp, call, source)
                    return resp
                # aiohttp's headers are str: the length as wants_body() would read it, one call fewer.
                wants = call.wants_length(resp.status, resp.headers.get("Content-Length"))
                body = await resp.read() if wants else None
                date = resp.headers.get("Date") if call.wants_date else None
                if waits:
                    decision = await call.after_async(resp.status, body, date=date)
                else:
                    decision = call.after(resp.status, body, date=date)
                if decision.action is SYNC_CLOCK and decision.probe is not None:
                    decision = await call.probed_async(*await _probe(req, decision.probe))
                if decision.action is not RESEND or decision.signed is None:
                    return resp
                resp.release()
                signed = decision.signed
                await _put(req, signed, source, _payload(signed, source), hop=hop, url=url)
                try:
                    resp = await handler(req)
                except _RETRIED as exc:
                    self._expect_retry(req, exc, start, url, hop, signed, call, source)
                    raise
        finally:
            if call.policy.in_process:
                call.release()
            else:
                await call.release_async()

    def _expect_hop(
        self, req: aiohttp.ClientRequest, resp: aiohttp.ClientResponse, call: Call, source: _Source
    ) -> None:
        """Remember the redirect: if aiohttp follows it, its next request on this chain is the hop."""
        chain = _chain(req)
        hop = _Hop(chain, call, source, str(req.url), resp.status)
        key = id(chain)
        self._hops[key] = hop
        # Not followed (allow_redirects=False, too many redirects): forgotten with the response.
        hop.forget = weakref.finalize(resp, _forget, weakref.ref(self), key, hop)


def _forget(middleware: weakref.ref[_Middleware], key: int, hop: _Hop) -> None:
    owner = middleware()
    if owner is not None and owner._hops.get(key) is hop:
        del owner._hops[key]


def aiohttp_middleware(auth: _HasLifecycle) -> aiohttp.ClientMiddlewareType:
    """An aiohttp (>= 3.12) client middleware that signs each request with ``auth``.

    Pass it to the session, or to one request (a request's ``middlewares=``
    replaces the session's)::

        auth = hba.Poloniex("KEY", "SECRET")
        async with aiohttp.ClientSession(middlewares=(hba.aiohttp_middleware(auth),)) as session:
            async with session.post(url, data={"command": "returnBalances"}) as response:
                ...

    The same lifecycle as for requests and httpx: the exact bytes sent are the
    bytes signed (a ``str`` body is encoded with the auth's ``body_encoding``),
    requests of one key are ordered across tasks, a nonce error or a timestamp
    refusal is re-signed once, and every redirect hop follows the redirect policy
    (another origin: :class:`~hmac_body_auth.RedirectError`, nothing sent there).

    Args:
        auth: an auth object (:class:`~hmac_body_auth.HmacAuth`, a preset, or
            anything with a ``lifecycle``); only its ``lifecycle`` is used.

    Raises:
        ConfigurationError: ``auth`` has no ``lifecycle``.

    """
    if not isinstance(getattr(auth, "lifecycle", None), Policy):
        raise ConfigurationError("aiohttp_middleware needs an auth object (such as hba.Poloniex(...)) with a lifecycle")
    return _Middleware(auth)
