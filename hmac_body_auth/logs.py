"""Keep API keys and signatures out of logs.

:class:`RedactingFilter` is a ``logging.Filter`` that rewrites each record's
final message (and its formatted exception) so that the values of signing
headers and the API keys of the given auths read ``***``. Install it on the
handlers that write logs::

    RedactingFilter.install(auth)          # every handler of the root logger

What prints headers or bodies in the clients:

- ``http.client.HTTPConnection.debuglevel = 1`` (used by requests through
  urllib3) prints every request line, header and the body with ``print()`` to
  standard output: no logging filter can redact it. Leave it off with real keys.
- urllib3's ``urllib3`` logger at DEBUG logs the method, URL and status, not headers.
- httpx's ``httpx`` logger at INFO/DEBUG logs the method, URL and status; httpcore's
  ``httpcore`` logger at DEBUG logs connection events, not header values.
- ``repr(request.headers)`` shows ``Key``/``Sign`` in both clients (httpx masks only
  ``Authorization``): logging a request's headers yourself is the common leak, and
  what this filter catches.
- A query-string signature (Binance's ``signature=``, HTX's ``Signature=`` and
  ``AccessKeyId=``) is part of the URL that urllib3 (DEBUG) and httpx (INFO) log with
  every request: redacted too.

Recognised renderings of a signing header: ``'Name': 'value'`` (dict and
``Headers`` reprs, JSON), ``('Name', 'value')``, ``Name: value`` at the start of a
line (raw HTTP), ``'Name: value'`` and ``-H "Name: value"`` (curl), ``Name=value``
(keyword reprs, ``k=v`` dumps, query strings); and ``param=value`` in URLs for the
query parameters in :data:`DEFAULT_QUERY_PARAMS`.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

__all__ = ["DEFAULT_HEADERS", "DEFAULT_QUERY_PARAMS", "GENERIC_HEADERS", "RedactingFilter"]

GENERIC_HEADERS = frozenset(
    {
        "authorization",
        "key",
        "sign",
        "signature",
        "x-api-key",
        "x-signature",
        "api-key",
        "api-sign",
    }
)
"""Header names redacted whatever the presets say (lowercase): ``Authorization``, the
:class:`~hmac_body_auth.BodyDigestAuth` defaults ``Key``/``Sign`` and common API-key and signature names."""

if TYPE_CHECKING:
    DEFAULT_HEADERS: frozenset[str]
    """Header names whose values are always redacted (lowercase): :data:`GENERIC_HEADERS` and
    every header in which a preset or a webhook scheme of the registry sends a key, a
    signature, a passphrase or a signed payload (:attr:`~hmac_body_auth.presets.Entry.secret_headers`).
    Computed on first use: importing this module loads no preset."""


@functools.cache
def _default_headers() -> frozenset[str]:
    from .presets import registry, webhook_entries

    return GENERIC_HEADERS.union(*(found.secret_headers for found in (*registry(), *webhook_entries())))


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_HEADERS":
        return _default_headers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


DEFAULT_QUERY_PARAMS = frozenset({"signature", "accesskeyid"})
"""Query parameters whose values are always redacted in URLs (lowercase; Binance's ``signature``,
HTX's ``Signature`` and ``AccessKeyId``: the key too, as the presets' key headers are)."""

_MASK = "***"
# An unquoted value: up to whitespace or a delimiter of reprs, lists and query strings.
_BARE = r"""(?!b?['"])[^\s,;&'"(){}<>\[\]]+"""


class RedactingFilter(logging.Filter):
    """Redact signing header values and API keys from log records.

    Args:
        *auths: auth objects (or plain key strings) whose keys are redacted
            wherever they appear; their schemes' header names are added.
        headers: extra header names to redact (case-insensitive).
        params: extra URL query parameters to redact (case-insensitive).

    """

    def __init__(self, *auths: Any, headers: Iterable[str] = (), params: Iterable[str] = ()) -> None:
        super().__init__()
        names = set(_default_headers()) | {h.lower() for h in headers}
        secrets: set[str] = set()
        for auth in auths:
            if isinstance(auth, str):
                secrets.add(auth)
                continue
            key = getattr(auth, "key", None)
            if isinstance(key, str):
                secrets.add(key)
            scheme = getattr(auth, "scheme", None) or getattr(auth, "_scheme", None)
            names |= set(getattr(scheme, "header_names", ()))
        alternatives = _alternatives(names)
        queries = _alternatives(set(DEFAULT_QUERY_PARAMS) | {p.lower() for p in params})
        quoted_value = r"""(['"])(?:\\.|(?!\2).)*\2"""  # '...' or "..." (group 2), escapes allowed
        self._patterns: list[tuple[re.Pattern[str], str]] = [
            # 'Name': 'value' / "Name": "value" / b'Name', b'value' (dict, Headers and tuple reprs, JSON)
            (re.compile(rf"""(?i)(b?['"](?:{alternatives})['"]\s*[:,]\s*b?){quoted_value}"""), rf"\1\2{_MASK}\2"),
            # Name: value at the start of a line (raw HTTP)
            (re.compile(rf"(?im)^((?:{alternatives}):[ \t]*)\S.*?(?=[ \t]*$)"), rf"\1{_MASK}"),
            # 'Name: value' / "Name: value" (curl -H, header lists)
            (re.compile(rf"""(?i)((['"])(?:{alternatives})[ \t]*:[ \t]*)[^'"\r\n]+"""), rf"\1{_MASK}"),
            # -H Name:value / --header=Name:value (curl without quotes)
            (re.compile(rf"(?i)((?:-H|--header)[ \t=]+(?:{alternatives})[ \t]*:[ \t]*)[^\s'\"]+"), rf"\1{_MASK}"),
            # Name='value' / Name=value (keyword reprs, k=v dumps, query strings and form bodies)
            (re.compile(rf"(?i)(?<![\w-])((?:{alternatives})[ \t]*=[ \t]*b?){quoted_value}"), rf"\1\2{_MASK}\2"),
            (re.compile(rf"(?i)(?<![\w-])((?:{alternatives})[ \t]*=[ \t]*){_BARE}"), rf"\1{_MASK}"),
            # ?signature=value / &signature=value in URLs (urllib3 and httpx request lines)
            (re.compile(rf"(?i)([?&;](?:{queries})=)[^&#;\s'\"<>]+"), rf"\1{_MASK}"),
        ]
        self._secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return ``text`` with header values, query signatures and keys replaced by ``***``."""
        for pattern, replacement in self._patterns:
            text = pattern.sub(replacement, text)
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message and exception text; never drop the record."""
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True

    @classmethod
    def install(
        cls,
        *auths: Any,
        logger: logging.Logger | None = None,
        headers: Iterable[str] = (),
        params: Iterable[str] = (),
    ) -> RedactingFilter:
        """Add one filter to every handler of ``logger`` (the root logger by default)."""
        target = logger if logger is not None else logging.getLogger()
        instance = cls(*auths, headers=headers, params=params)
        for handler in target.handlers:
            handler.addFilter(instance)
        return instance


def _alternatives(names: Iterable[str]) -> str:
    """A regex alternation of ``names``, longest first so ``api-key`` wins over ``key``."""
    return "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))
