"""The exceptions raised by hmac-body-auth.

Every exception derives from :class:`HmacBodyAuthError`. Messages never contain
an API key or a secret: they name the argument and the rule it broke.
"""

from __future__ import annotations

__all__ = [
    "BodyEncodingError",
    "BodyError",
    "ConfigurationError",
    "HmacBodyAuthError",
    "LeaseTimeout",
    "NonceError",
    "OriginError",
    "RedirectError",
]


class HmacBodyAuthError(Exception):
    """Base class of every error raised by this package."""


class ConfigurationError(HmacBodyAuthError, ValueError):
    """Invalid construction arguments: credentials, header names, algorithm, encoding."""


class BodyError(HmacBodyAuthError, ValueError):
    """The request body cannot be signed as configured; nothing was sent."""


class BodyEncodingError(BodyError):
    """A ``str`` body holds characters that ``body_encoding`` cannot encode."""


class NonceError(HmacBodyAuthError):
    """The nonce source failed or returned an unusable value."""


class LeaseTimeout(NonceError, TimeoutError):
    """Waiting for the per-key ordering lease took longer than allowed."""


class RedirectError(HmacBodyAuthError):
    """A redirect would have carried signed credentials to another origin."""


class OriginError(HmacBodyAuthError):
    """The auth is pinned to an origin and the request goes elsewhere; nothing was sent."""
