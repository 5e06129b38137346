r"""Gate.io API v4 (``https://api.gateio.ws/api/v4/...``).

Scheme (https://www.gate.io/docs/developers/apiv4/#api-signature-string-generation; the
official SDK gate-api 7.2.161, ``gate_api/api_client.py`` ``ApiClient.gen_sign``):

* ``SIGN``: lowercase hex HMAC-SHA512, keyed with the secret as is, of
  ``METHOD + "\n" + path + "\n" + query + "\n" + hex(SHA512(body)) + "\n" + timestamp``,
  where ``path`` includes ``/api/v4``, ``query`` is the query string "without URL
  encode" in the order sent (the SDK signs ``unquote_plus`` of what it sends: ``%2C``
  is signed as ``,`` and ``+`` as a space), and ``body`` the raw JSON body (the hash
  of the empty string when there is none);
* ``KEY``: the API key; ``Timestamp``: Unix seconds, the one that was signed.

Bodies are JSON; GET requests carry none. Gate has no nonce, only the timestamp.

Clock sync (:data:`GATEIO_CLOCK_SYNC`): "the gap between its value and current time
cannot exceed 60 seconds"; a stale ``Timestamp`` is refused with HTTP 401 and label
``REQUEST_EXPIRED`` (``{"label": "REQUEST_EXPIRED", "message": "..."}``, the docs'
error labels; the message text is not documented). Server time: ``GET /api/v4/spot/time``,
``{"server_time": 1597026383085}`` (milliseconds).
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_to_bytes

from .._clocksync import ClockSync
from ..recipe import SECONDS, Header, Recipe, RecipeAuth, RecipeVerifier, Wire
from ._answers import Refusal, TimeMember

__all__ = ["GATEIO_CLOCK_SYNC", "GateIO", "GateIOVerifier"]

_EXPIRED = "REQUEST_EXPIRED"


# ``{"label": "REQUEST_EXPIRED", "message": "..."}`` with HTTP 401; any other label is not.
_timestamp_rejection = Refusal(frozenset({401}), {"label": _EXPIRED}, text=("message",))
# ``GET /api/v4/spot/time``: ``{"server_time": <Unix ms>}``.
_server_time = TimeMember(("server_time",))


GATEIO_CLOCK_SYNC = ClockSync(
    rejection=_timestamp_rejection,
    statuses=frozenset({401}),
    time_path="/api/v4/spot/time",
    server_time=_server_time,
    window_ms=60_000,
    doc="https://www.gate.io/docs/developers/apiv4/#apiv4-signed-request-requirements",
)
"""Gate's clock-sync recipe: label REQUEST_EXPIRED (HTTP 401) and ``GET /api/v4/spot/time``; a 60 s window."""


def _query(wire: Wire) -> bytes:
    """The query as sent, form-decoded (``%XX`` as bytes, ``+`` as a space)."""
    return unquote_to_bytes(wire.query.replace("+", " "))


def _body_hash(wire: Wire) -> str:
    return hashlib.sha512(wire.body).hexdigest()


RECIPE = Recipe(
    name="gateio",
    title="Gate.io",
    doc="https://www.gate.io/docs/developers/apiv4/#api-signature-string-generation",
    origin="https://api.gateio.ws",
    env_prefix="GATEIO",
    algorithm="sha512",
    message="{method}\n{path}\n{gate_query}\n{body_sha512}\n{timestamp}",
    parts={"gate_query": _query, "body_sha512": _body_hash},
    headers=(Header("KEY", "{key}"), Header("Timestamp", "{timestamp}"), Header("SIGN", "{signature}")),
    timestamp=SECONDS,
    clock_sync=lambda options: GATEIO_CLOCK_SYNC,
)


class GateIO(RecipeAuth):
    """Auth for the Gate.io API v4: ``GateIO(key, secret)``.

    ``clock``: int nanoseconds since the Unix epoch (``time.time_ns``), sent in whole
    seconds; ``clock_sync``: on REQUEST_EXPIRED, learn the server's clock
    (``GET /api/v4/spot/time``), re-sign once and resend (``False``: ``clock=`` only).
    """

    recipe = RECIPE


class GateIOVerifier(RecipeVerifier):
    """Verify Gate.io API v4 signatures on the server side (``Timestamp`` may have a fraction, as the SDK sends)."""

    recipe = RECIPE
