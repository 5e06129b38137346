"""Clock sync in the lifecycle, without sockets: learn the server's clock from a timestamp refusal, re-sign once.

The per-API recipes are tested in test_clock_recipes.py; every timestamp preset
through every client against a loopback server with a skewed clock in
test_clock_sync_e2e.py.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

import hmac_body_auth as hba
from hmac_body_auth._clocksync import (
    MAX_OFFSET_NS,
    ServerClocks,
    date_header_ns,
    midpoint_offset,
    milliseconds_ns,
    server_clocks,
)
from hmac_body_auth._core import Outgoing, SignedRequest
from hmac_body_auth._lifecycle import Action, Call
from hmac_body_auth._signing import Signer

URL = "https://user:pw@api.clock.example/v1/order?symbol=X#frag"
ORIGIN = "https://api.clock.example"
T0 = 1_800_000_000_000_000_000  # ns; a plausible reading for validate_clock


class FakeClock:
    """A nanosecond clock that moves only when told."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        """The current reading."""
        return self.now


class StampScheme:
    """Signs the millisecond timestamp (X-Ts) with the body."""

    header_names = frozenset({"x-key", "x-ts", "x-sign"})

    def check(self, out: Outgoing, *, with_nonce: bool) -> None:
        """Accept everything."""

    def sign(
        self, out: Outgoing, signer: Signer, key: str | None, nonce: int | str | None, clock: Callable[[], int]
    ) -> SignedRequest:
        """Headers only."""
        stamp = str(clock())
        headers = {"X-Key": key or "", "X-Ts": stamp, "X-Sign": signer.sign(stamp.encode() + out.body)}
        return SignedRequest(out.url, out.body, headers, None, None)


def _refusal(status: int, body: bytes, signed_ms: int | None) -> hba.TimestampRejection | None:
    if status != 400:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("code") != -1021:
        return None
    server = answer.get("server")
    return hba.TimestampRejection(server * 1_000_000 if isinstance(server, int) else None)


def _server_time(body: bytes) -> int | None:
    return milliseconds_ns(json.loads(body).get("serverTime"))


WITH_ENDPOINT = hba.ClockSync(_refusal, frozenset({400}), "/api/time", _server_time, window_ms=5000)
NO_ENDPOINT = hba.ClockSync(_refusal, frozenset({400}), window_ms=5000)


@pytest.fixture(autouse=True)
def _fresh_offsets() -> Any:
    hba.forget_clock_offsets()
    yield
    hba.forget_clock_offsets()


def _auth(clock: FakeClock, sync: hba.ClockSync | None = WITH_ENDPOINT) -> hba.HmacAuth:
    return hba.HmacAuth(StampScheme(), key="K", secret="S", clock=clock, clock_sync=sync)


def _call(auth: hba.HmacAuth, url: str = URL) -> Call:
    call = auth.lifecycle.call("POST", url, "application/json", b"{}")
    call.sign()
    return call


def _stamp(call: Call) -> int:
    assert call.signed is not None
    return int(call.signed.headers["X-Ts"])


def _refused(server_ms: int | None = None) -> bytes:
    answer: dict[str, Any] = {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
    if server_ms is not None:
        answer["server"] = server_ms
    return json.dumps(answer).encode()


def test_a_refusal_carrying_the_server_time_teaches_the_offset_at_the_round_trip_midpoint() -> None:
    """Server time in the refusal: offset = server - midpoint(send, receipt); the resend is signed with it."""
    clock = FakeClock()
    call = _call(_auth(clock))
    assert _stamp(call) == T0 // 1_000_000
    clock.now += 40_000_000  # a 40 ms round trip; the server read its clock 60 s ahead at the midpoint
    server_ms = (T0 + 20_000_000 + 60 * 10**9) // 1_000_000
    decision = call.after(400, _refused(server_ms))
    assert decision.action is Action.RESEND
    assert hba.clock_offset(ORIGIN) == 60 * 10**9 + 500_000  # half of the 1 ms resolution added back
    assert _stamp(call) == (clock.now + 60 * 10**9 + 500_000) // 1_000_000
    assert call.after(400, _refused(server_ms)).action is Action.DONE  # once only


def test_without_a_time_in_the_refusal_the_time_endpoint_is_asked_without_credentials() -> None:
    """SYNC_CLOCK names the endpoint on the call's origin: no userinfo, query or fragment; then a resend."""
    clock = FakeClock()
    call = _call(_auth(clock))
    decision = call.after(400, _refused(), date="Thu, 01 Jan 2026 00:00:00 GMT")
    assert decision.action is Action.SYNC_CLOCK
    assert decision.probe == "https://api.clock.example/api/time"
    clock.now += 10_000_000
    server_ms = (T0 + 5_000_000 - 3 * 10**9) // 1_000_000
    decision = call.probed(200, json.dumps({"serverTime": server_ms}).encode())
    assert decision.action is Action.RESEND
    offset = hba.clock_offset(ORIGIN)
    assert offset is not None
    assert abs(offset - (-3 * 10**9)) <= 5_000_000 + 1_000_000  # within RTT/2 + 1 ms
    assert _stamp(call) == (clock.now + offset) // 1_000_000


def test_a_failed_time_fetch_falls_back_to_the_refusals_date_header() -> None:
    """probed(None, None): the Date header of the refusal (1 s resolution) gives the offset."""
    clock = FakeClock()
    call = _call(_auth(clock))
    date = "Fri, 15 Jan 2027 08:00:00 GMT"
    assert call.after(400, _refused(), date=date).action is Action.SYNC_CLOCK
    decision = call.probed(None, None)
    assert decision.action is Action.RESEND
    date_ns = date_header_ns(date)
    assert date_ns is not None
    assert hba.clock_offset(ORIGIN) == date_ns + 500_000_000 - T0


def test_nothing_to_learn_from_returns_the_refusal(caplog: pytest.LogCaptureFixture) -> None:
    """No time in the answer, no endpoint and no Date: DONE (the caller gets the refusal), logged."""
    call = _call(_auth(FakeClock(), NO_ENDPOINT))
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        assert call.after(400, _refused()).action is Action.DONE
    assert "no server time" in caplog.text
    assert hba.clock_offset(ORIGIN) is None


def test_an_api_without_time_endpoint_learns_from_the_date_header() -> None:
    """No endpoint: the Date header of the refusal is used at once (no SYNC_CLOCK)."""
    clock = FakeClock()
    call = _call(_auth(clock, NO_ENDPOINT))
    assert call.after(400, _refused(), date="Fri, 15 Jan 2027 08:00:00 GMT").action is Action.RESEND


def test_a_garbage_time_answer_and_no_date_is_done() -> None:
    """An endpoint answer that is not a time (or an error status) teaches nothing."""
    call = _call(_auth(FakeClock()))
    assert call.after(400, _refused()).action is Action.SYNC_CLOCK
    assert call.probed(503, b'{"serverTime": 1}').action is Action.DONE
    assert hba.clock_offset(ORIGIN) is None


def test_an_offset_learned_by_another_call_meanwhile_is_used_without_asking_again() -> None:
    """Two calls refused at once: the second re-signs with the first one's offset, no second fetch."""
    clock = FakeClock()
    auth = _auth(clock)
    first, second = _call(auth), _call(auth)
    assert first.after(400, _refused()).action is Action.SYNC_CLOCK
    assert first.probed(200, json.dumps({"serverTime": T0 // 1_000_000 + 60_000}).encode()).action is Action.RESEND
    assert second.after(400, _refused()).action is Action.RESEND
    assert _stamp(second) == _stamp(first)


def test_every_auth_of_the_origin_shares_the_offset_except_clock_sync_off() -> None:
    """The offset describes the server: another key uses it; an auth with clock_sync=None neither uses nor learns it."""
    clock = FakeClock()
    call = _call(_auth(clock))
    call.after(400, _refused(T0 // 1_000_000 + 60_000))
    other_key = hba.HmacAuth(StampScheme(), key="K2", secret="S2", clock=clock, clock_sync=WITH_ENDPOINT)
    assert _stamp(_call(other_key)) == T0 // 1_000_000 + 60_000
    off = _call(_auth(clock, None))
    assert _stamp(off) == T0 // 1_000_000
    assert off.after(400, _refused(T0 // 1_000_000 - 60_000)).action is Action.DONE
    assert hba.clock_offset(ORIGIN) == 60 * 10**9 + 500_000
    other_origin = _call(_auth(clock), "https://api2.clock.example/v1")
    assert _stamp(other_origin) == T0 // 1_000_000


def test_other_answers_are_not_refusals_and_their_bodies_are_not_read() -> None:
    """A success, another code, another status or a failing parser: DONE; bodies read only for the recipe's statuses."""
    call = _call(_auth(FakeClock()))
    assert call.after(200, b'{"ok": true}').action is Action.DONE
    assert call.after(400, b'{"code": -1022, "msg": "Signature for this request is not valid."}').action is Action.DONE
    assert call.after(401, _refused(T0 // 1_000_000)).action is Action.DONE
    assert call.wants_body(400, {"content-length": "80"})
    assert not call.wants_body(200, {"content-length": "80"})
    assert not call.wants_body(400, {"content-length": str(10**7)})

    def broken(status: int, body: bytes, signed_ms: int | None) -> hba.TimestampRejection | None:
        raise ValueError("boom")

    failing = _call(_auth(FakeClock(), hba.ClockSync(broken, frozenset({400}))))
    assert failing.after(400, _refused(1)).action is Action.DONE


def test_the_parser_gets_the_signed_timestamp() -> None:
    """The recipe sees the timestamp the call signed (ms), to tell a window miss from a wrong key."""
    seen: list[int | None] = []

    def parser(status: int, body: bytes, signed_ms: int | None) -> hba.TimestampRejection | None:
        seen.append(signed_ms)
        return None

    call = _call(_auth(FakeClock(), hba.ClockSync(parser, frozenset({401}))))
    call.after(401, b"{}")
    assert seen == [T0 // 1_000_000]


def test_an_offset_beyond_a_day_is_not_learned() -> None:
    """A server time a year off is a parse error or a hostile answer: ignored, the refusal returned."""
    call = _call(_auth(FakeClock(), NO_ENDPOINT))
    assert call.after(400, _refused(T0 // 1_000_000 + 365 * 86_400_000)).action is Action.DONE
    assert hba.clock_offset(ORIGIN) is None
    assert not ServerClocks().learn(("https", "h", 443), MAX_OFFSET_NS + 1, "test")


def test_nonce_rejection_wins_over_timestamp_refusal() -> None:
    """A call whose answer is the API's nonce error re-signs for the nonce; the clock is not touched."""
    auth = hba.HmacAuth(
        StampScheme(),
        key="K",
        secret="S",
        clock=FakeClock(),
        clock_sync=NO_ENDPOINT,
        nonce=hba.ClockNonce(),
        nonce_error=lambda status, body: 5,
    )
    call = _call(auth)
    assert call.after(400, _refused(T0 // 1_000_000 + 60_000)).action is Action.RESEND
    assert hba.clock_offset(ORIGIN) is None


def test_learning_is_thread_safe_and_counts_generations() -> None:
    """Concurrent learns never lose the store's consistency: one generation per learn."""
    clocks = ServerClocks()
    origin = ("https", "x", 443)

    def learn() -> None:
        for i in range(200):
            clocks.learn(origin, i, "test")

    threads = [threading.Thread(target=learn) for _ in range(4)]
    logging.getLogger("hmac_body_auth").disabled = True
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        logging.getLogger("hmac_body_auth").disabled = False
    assert clocks.generation(origin) == 800
    clocks.forget(origin)
    assert clocks.offset(origin) == 0


def test_helpers() -> None:
    """Midpoint, Date header and millisecond parsing."""
    assert midpoint_offset(1_000, 0, 400) == 800
    assert midpoint_offset(1_000, 0, 400, 10) == 805
    assert date_header_ns("Thu, 01 Jan 1970 00:00:10 GMT") == 10 * 10**9
    for bad in (None, "", "yesterday", "Thu, 01 Jan 1970 00:00:10"):
        assert date_header_ns(bad) is None
    assert milliseconds_ns("1700000000000") == 1_700_000_000_000_000_000
    assert milliseconds_ns(1700000000000) == 1_700_000_000_000_000_000
    for bad in (True, "-1", "1.5", "١٢", 0, 10**17, None, 1.5):
        assert milliseconds_ns(bad) is None


def test_recipe_is_validated() -> None:
    """A recipe missing half of its time endpoint, with a relative path or without statuses is refused."""
    with pytest.raises(hba.ConfigurationError):
        hba.ClockSync(_refusal, frozenset({400}), "/time")
    with pytest.raises(hba.ConfigurationError):
        hba.ClockSync(_refusal, frozenset({400}), "time", _server_time)
    with pytest.raises(hba.ConfigurationError):
        hba.ClockSync(_refusal, frozenset())
    with pytest.raises(hba.ConfigurationError):
        hba.ClockSync(_refusal, frozenset({99}))
    with pytest.raises(hba.ConfigurationError):
        hba.HmacAuth(StampScheme(), key="K", secret="S", clock_sync=True)  # type: ignore[arg-type]


def test_process_store_is_the_one_the_public_functions_read() -> None:
    """clock_offset and forget_clock_offsets read and clear the process's store."""
    server_clocks.learn(("https", "api.clock.example", 443), 1234, "test")
    assert hba.clock_offset("https://api.clock.example/anything") == 1234
    hba.forget_clock_offsets("https://api.clock.example")
    assert hba.clock_offset(ORIGIN) is None
    assert hba.clock_offset("not a url") is None
