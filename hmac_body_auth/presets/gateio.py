r"""Gate.io API v4 (``https://api.gateio.ws/api/v4/...``).

Docs: https://www.gate.io/docs/developers/apiv4/#api-signature-string-generation; official SDK
gate-api 7.2.161, ``gate_api/api_client.py`` ``ApiClient.gen_sign`` (the spec:
tests/vectors/generate_gateio.py). ``SIGN``: lowercase hex HMAC-SHA512 of
``METHOD + "\n" + path + "\n" + query + "\n" + hex(SHA512(body)) + "\n" + timestamp``, ``path``
with ``/api/v4``, ``query`` "without URL encode" in the order sent (the SDK signs ``unquote_plus``
of what it sends: ``%2C`` as ``,``, ``+`` as a space); ``KEY``: the API key; ``Timestamp``: Unix
seconds. Bodies are JSON; no nonce.

Clock sync: "the gap between its value and current time cannot exceed 60 seconds"; HTTP 401 with
label ``REQUEST_EXPIRED`` (the docs' error labels; the message text is not documented). Server
time: ``GET /api/v4/spot/time``, ``{"server_time": 1597026383085}`` (ms).
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_to_bytes

from .._clocksync import ClockSync
from ..recipe import SECONDS, Header, Recipe, RecipeAuth, RecipeVerifier
from ._answers import Refusal, TimeMember

__all__ = ["GATEIO_CLOCK_SYNC", "GateIO", "GateIOVerifier"]

GATEIO_CLOCK_SYNC = ClockSync(
    # ``{"label": "REQUEST_EXPIRED", "message": "..."}``; any other label is not a clock problem.
    rejection=Refusal(frozenset({401}), {"label": "REQUEST_EXPIRED"}, text=("message",)),
    statuses=frozenset({401}),
    time_path="/api/v4/spot/time",
    server_time=TimeMember(("server_time",)),
    window_ms=60_000,
    doc="https://www.gate.io/docs/developers/apiv4/#apiv4-signed-request-requirements",
)
"""Gate's clock-sync recipe: label REQUEST_EXPIRED (HTTP 401) and ``GET /api/v4/spot/time``; a 60 s window."""

RECIPE = Recipe(
    name="gateio",
    title="Gate.io",
    doc="https://www.gate.io/docs/developers/apiv4/#api-signature-string-generation",
    origin="https://api.gateio.ws",
    env_prefix="GATEIO",
    algorithm="sha512",
    message="{method}\n{path}\n{gate_query}\n{body_sha512}\n{timestamp}",
    parts={
        # The query as sent, form-decoded (``%XX`` as bytes, ``+`` as a space).
        "gate_query": lambda wire: unquote_to_bytes(wire.query.replace("+", " ")),
        "body_sha512": lambda wire: hashlib.sha512(wire.body).hexdigest(),
    },
    headers=(Header("KEY", "{key}"), Header("Timestamp", "{timestamp}"), Header("SIGN", "{signature}")),
    timestamp=SECONDS,
    clock_sync=lambda options: GATEIO_CLOCK_SYNC,
)


class GateIO(RecipeAuth):
    """Auth for the Gate.io API v4: ``GateIO(key, secret)``, ``Timestamp`` in seconds; see docs/presets.md#gateio."""

    recipe = RECIPE


class GateIOVerifier(RecipeVerifier):
    """Verify Gate.io API v4 signatures on the server side (``Timestamp`` may have a fraction, as the SDK sends)."""

    recipe = RECIPE
