"""Origins: ``(scheme, host, port)`` of a URL, compared after parsing.

Pure: used by the lifecycle for origin pinning and the redirect policy. Hosts are
compared in their ASCII (IDNA) form, so an origin pinned as ``https://bücher.example``
matches the punycode URL ``https://xn--bcher-kva.example`` that clients send.
"""

from __future__ import annotations

import functools
import logging
import re
from urllib.parse import urlsplit

from .errors import OriginError

__all__ = ["DEFAULT_PORTS", "Origin", "origin_of"]

log = logging.getLogger("hmac_body_auth")

Origin = tuple[str, str, int]

DEFAULT_PORTS = {"http": 80, "https": 443}

_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _ascii_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        # IDNA 2008 (what httpx sends) where the ``idna`` package is installed
        # (httpx depends on it); the standard library's IDNA 2003 codec otherwise.
        import idna

        return str(idna.encode(host, uts46=True).decode("ascii"))
    except ImportError:  # pragma: no cover - idna comes with httpx
        pass
    except (idna.IDNAError, UnicodeError):
        log.debug("IDNA 2008 cannot encode this host; trying IDNA 2003")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise OriginError("the URL has a host name that cannot be encoded (IDNA)") from None


def origin_of(url: str) -> Origin:
    """Return ``(scheme, host, port)`` of ``url``: lowercase, IDNA-encoded host, default ports filled in."""
    # A client calls a few URLs again and again: each is looked up whole first (no regex).
    origin = _BY_URL.get(url)
    if origin is not None:
        return origin
    # The origin depends only on "scheme://netloc" (up to the first "/", "?" or "#"
    # after "//", as urlsplit reads it): parse each such prefix once.
    match = _PREFIX.match(url)
    origin = _parse_prefix(match.group()) if match is not None else _parse(url)
    if len(_BY_URL) >= 1024:
        _BY_URL.clear()  # bounded (URLs with a nonce or a timestamp in the query never repeat)
    _BY_URL[url] = origin
    return origin


#: URL -> its origin, for the URLs seen last (a parse raises before anything is stored).
_BY_URL: dict[str, Origin] = {}


@functools.lru_cache(maxsize=512)
def _parse_prefix(prefix: str) -> Origin:
    return _parse(prefix)


def _parse(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise OriginError("the URL has an invalid port") from None
    host = _ascii_host(parts.hostname or "")
    return scheme, host, port if port is not None else DEFAULT_PORTS.get(scheme, -1)
