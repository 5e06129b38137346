"""HTTPie auth plugins: ``http --auth-type=<preset> -a KEY:SECRET ...`` signs the request.

Registered through HTTPie's ``httpie.plugins.auth.v1`` entry point group, one
plugin per preset (``--auth-type`` is the preset's name in
:data:`~hmac_body_auth.presets.PRESETS`, the class is the auth class's name and
``Plugin``: ``OKXPlugin``), generated from the registry, plus ``hmac-body``, a
:class:`~hmac_body_auth.BodyDigestAuth` with its defaults (``Key`` / ``Sign``
headers, hex HMAC-SHA512 of the body, no nonce)::

    http --auth-type=poloniex -a KEY:SECRET --form POST https://poloniex.com/tradingApi command=returnBalances
    http --auth-type=okx -a KEY:SECRET:PASSPHRASE https://www.okx.com/api/v5/account/balance

``-a KEY`` alone makes HTTPie prompt for the rest (``SECRET``, or
``SECRET:PASSPHRASE``), which keeps the secret out of shell history. Secrets
never appear in error messages. ``--compress`` changes the body after it was
signed, and ``--session`` stores ``-a`` in the session file: HTTPie does both
for every auth type.

Loading the plugins is cheap (HTTPie loads every installed plugin on each run):
the classes are made from the registry's names alone, and what else they say
(the title, whether ``-a`` carries a passphrase) is read from the preset's
:func:`~hmac_body_auth.presets.entry` when HTTPie first asks for it: the preset
module, and httpx with it, is imported only when its plugin is used (or listed
by ``http --help``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import requests
from httpie.plugins import AuthPlugin

from .errors import ConfigurationError, HmacBodyAuthError
from .presets import PRESETS

if TYPE_CHECKING:
    from ._auth import HmacAuth
    from .presets import Entry

_T = TypeVar("_T")


#: The shape of ``-a``. Not ``KEY:SECRET``: HTTPie prints through rich, which turns ``:SECRET:`` into an emoji.
_CREDENTIALS = {False: "<key>:<secret>", True: "<key>:<secret>:<passphrase>"}


class _Refusal(requests.auth.AuthBase):
    """Raises a configuration error when HTTPie prepares the request, before anything is sent.

    HTTPie calls ``get_auth`` inside its argument parser, which reports only
    ``SystemExit``: an exception raised there escapes as a bare traceback. An
    exception raised while the request is prepared reaches HTTPie's own error
    report instead (``http: error: ConfigurationError: ...``, exit status 1).
    """

    def __init__(self, message: str) -> None:
        self._message = message

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        raise ConfigurationError(self._message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._message!r})"


class _StrHeaders(requests.auth.AuthBase):
    """Gives the auth the request with ``str`` header values, as requests users send them.

    HTTPie encodes every header value to bytes before requests prepares the
    request (https://github.com/httpie/cli/issues/212); the auth reads
    ``Content-Type`` as ``str``. Latin-1 maps each byte to one code point and
    ``http.client`` encodes ``str`` values as latin-1, so the wire bytes stay the same.
    """

    def __init__(self, auth: HmacAuth) -> None:
        self.auth = auth

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        for name, value in list(r.headers.items()):
            if isinstance(value, bytes):
                r.headers[name] = value.decode("latin-1")
        return self.auth(r)

    def __repr__(self) -> str:
        return repr(self.auth)


class _HmacPlugin(AuthPlugin):  # type: ignore[misc]  # httpie has no type hints: AuthPlugin is Any
    """The shared ``get_auth``: HTTPie parses ``-a KEY:SECRET`` (and prompts for a missing secret)."""

    auth_type: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    #: Whether ``-a`` is ``KEY:SECRET:PASSPHRASE``.
    passphrase: bool = False

    def get_auth(self, username: str | None = None, password: str | None = None) -> requests.auth.AuthBase:
        """Return the auth object for ``-a`` as HTTPie parsed it (``username``, the rest in ``password``)."""
        secret, passphrase = password or "", None
        if self.passphrase:
            secret, sep, passphrase = secret.partition(":")
            if not sep:
                # The message names the expected shape only: what was given holds the secret.
                return _Refusal(f"--auth-type={self.auth_type} needs the passphrase too: -a {_CREDENTIALS[True]}")
        try:
            return _StrHeaders(self._build(username or "", secret, passphrase))
        except HmacBodyAuthError as exc:
            # Messages of this package never contain a key or a secret (errors.py).
            return _Refusal(f"--auth-type={self.auth_type}: {exc}")

    def _build(self, key: str, secret: str, passphrase: str | None) -> HmacAuth:
        from .presets import preset

        auth_cls, _ = preset(self.auth_type)
        options = {} if passphrase is None else {"passphrase": passphrase}
        auth: HmacAuth = auth_cls(key, secret, **options)
        return auth


class HmacBodyPlugin(_HmacPlugin):
    """``--auth-type=hmac-body``: :class:`~hmac_body_auth.BodyDigestAuth`, defaults; ``-a :SECRET`` sends no key."""

    auth_type = "hmac-body"
    name = "HMAC of the exact body"
    description = f"Key and Sign headers, hex HMAC-SHA512 of the body, no nonce. -a {_CREDENTIALS[False]}"

    def _build(self, key: str, secret: str, passphrase: str | None) -> HmacAuth:
        from ._auth import BodyDigestAuth

        return BodyDigestAuth(key or None, secret=secret)


class _FromEntry(Generic[_T]):
    """A plugin class attribute read from the preset's registry entry on first use, then kept on the class.

    HTTPie reads ``name`` and ``description`` only for ``http --help``, and
    ``passphrase`` is read when the plugin signs: loading the plugins loads no preset.
    """

    def __init__(self, make: Callable[[Entry], _T]) -> None:
        self._make = make
        self._name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    def __get__(self, instance: object, owner: type[_PresetPlugin]) -> _T:
        from .presets import entry

        value = self._make(entry(owner.auth_type))
        setattr(owner, self._name, value)  # the class's own attribute now hides this descriptor
        return value


def _description(found: Entry) -> str:
    doc = f" ({found.doc})" if found.doc else ""
    return f"Signs {found.title} requests{doc}. -a {_CREDENTIALS[found.needs_passphrase]}"


class _PresetPlugin(_HmacPlugin):
    """The plugin of one preset: everything but ``auth_type`` comes from its registry entry."""

    name = _FromEntry(lambda found: found.title)
    description = _FromEntry(_description)
    passphrase = _FromEntry(lambda found: found.needs_passphrase)


def _plugin(auth_type: str, auth_class: str) -> type[_PresetPlugin]:
    """The plugin class of preset ``auth_type``, named as its entry point names it (``OKXPlugin``)."""
    name = f"{auth_class}Plugin"
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"``--auth-type={auth_type}``: :class:`~hmac_body_auth.presets.{auth_class}`.",
        "auth_type": auth_type,
    }
    return type(name, (_PresetPlugin,), namespace)


# One class per registry entry: a preset added to the registry has its plugin (and needs
# its line in pyproject's httpie.plugins.auth.v1 entry points, which a test checks).
_PLUGINS = {name: _plugin(name, auth) for name, (_module, auth, _verifier) in PRESETS.items()}
globals().update({cls.__name__: cls for cls in _PLUGINS.values()})

__all__ = sorted(["HmacBodyPlugin", *(cls.__name__ for cls in _PLUGINS.values())])
