"""The ``testnet`` option of APIs whose test environment is another host (BitMEX, Binance USD-M futures).

Testnet keys work on the testnet only and live keys on the live API only, so a
request signed for one environment and sent to the other's host is refused before
anything is sent (:class:`~hmac_body_auth.OriginError`), instead of being refused
there, or worse, executed with a live key by a program that meant the testnet.
Any other host (a proxy, a local test server) is left to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .._core import Outgoing
from ..errors import OriginError
from ..recipe import Option, boolean

__all__ = ["TESTNET", "environment_check"]

#: ``testnet=False`` (the default): the live API; ``True``: the testnet.
TESTNET = Option("testnet", False, boolean("testnet"))


Check = Callable[[Outgoing, Mapping[str, Any]], None]


def environment_check(title: str, live: frozenset[str], testnet: frozenset[str], then: Check | None = None) -> Check:
    """A :attr:`~hmac_body_auth.recipe.Recipe.check` refusing the other environment's hosts, then running ``then``."""

    def check(out: Outgoing, options: Mapping[str, Any]) -> None:
        host = (urlsplit(out.url).hostname or "").lower().rstrip(".")
        if options["testnet"] and host in live:
            raise OriginError(f"{title} was built with testnet=True, but the request goes to the live API ({host})")
        if not options["testnet"] and host in testnet:
            raise OriginError(f"{title} was built for the live API, but the request goes to {host}: pass testnet=True")
        if then is not None:
            then(out, options)

    return check
