"""The declarative answer readers of the presets: ``Refusal`` and ``TimeMember`` read exactly, or say ``None``."""

from __future__ import annotations

import pytest

from hmac_body_auth._clocksync import TimestampRejection
from hmac_body_auth.presets._answers import Refusal, TimeMember

MS = 1_000_000

CODED = Refusal(frozenset({400}), {"code": -1021}, text=("msg",), only=True)
TEXT_CODE = Refusal(frozenset({401}), {"code": "50102"}, text=("msg",))
SAME_STATUS = Refusal(frozenset({400, 408}), text=("message",), only=True, status_member="code")
NEEDLE = Refusal(frozenset({200}), {"status": "error", "err-msg": "stale time"}, needle=b"stale time")


@pytest.mark.parametrize(
    ("refusal", "status", "body"),
    [
        (CODED, 400, b'{"code": -1021, "msg": "Timestamp outside recvWindow"}'),
        (TEXT_CODE, 401, b'{"code": "50102", "msg": "Timestamp request expired", "data": []}'),
        (SAME_STATUS, 408, b'{"code": 408, "message": "timeout"}'),
        (NEEDLE, 200, b'{"status": "error", "err-msg": "stale time"}'),
        (NEEDLE, 200, b'{"status": "error", "err-msg": "stale \\u0074ime"}'),  # an escape: parsed to be sure
    ],
)
def test_the_documented_refusal_is_recognised(refusal: Refusal, status: int, body: bytes) -> None:
    """The exact documented answer is a timestamp rejection that carries no server time."""
    assert refusal(status, body, None) == TimestampRejection(None)


@pytest.mark.parametrize(
    ("refusal", "status", "body"),
    [
        (CODED, 401, b'{"code": -1021, "msg": "x"}'),  # another status
        (CODED, 400, b'{"code": "-1021", "msg": "x"}'),  # the code as a string
        (CODED, 400, b'{"code": -1021.0, "msg": "x"}'),  # the code as a float
        (CODED, 400, b'{"code": -1021, "msg": 1}'),  # the message not a string
        (CODED, 400, b'{"code": -1021, "msg": "x", "extra": 1}'),  # another member where only these are allowed
        (CODED, 400, b'{"code": -1021}'),  # the message missing
        (CODED, 400, b'{"code": -1022, "msg": "Signature for this request is not valid."}'),
        (CODED, 400, b'{"code": -1021, "msg": "x", "code": -1021}'),  # duplicate member names
        (CODED, 400, b"[-1021]"),
        (CODED, 400, b"not json -1021"),
        (TEXT_CODE, 401, b'{"code": 50102, "msg": "x"}'),  # the code as a number
        (TEXT_CODE, 401, b'{"data": {"code": "50102", "msg": "x"}}'),  # nested, e.g. an order note
        (SAME_STATUS, 400, b'{"code": 408, "message": "timeout"}'),  # code and status differ
        (SAME_STATUS, 408, b'{"code": true, "message": "timeout"}'),
        (NEEDLE, 200, b'{"status": "ok", "data": {"note": "stale time"}}'),  # the text elsewhere
        (NEEDLE, 200, b'{"status": "error", "err-msg": "stale"}'),  # without the needle: not parsed
    ],
)
def test_anything_else_is_not_a_refusal(refusal: Refusal, status: int, body: bytes) -> None:
    """A near miss is not a refusal: re-signing it could execute the call twice."""
    assert refusal(status, body, None) is None


@pytest.mark.parametrize(
    ("reader", "body", "expected"),
    [
        (TimeMember(("serverTime",)), b'{"serverTime": 1499827319559}', 1_499_827_319_559 * MS),
        (
            TimeMember(("data", 0, "ts"), where={"code": "0"}, text=True),
            b'{"code":"0","data":[{"ts":"1597026383085"}]}',
            1_597_026_383_085 * MS,
        ),
        (
            TimeMember(("data",), where={"code": "200000"}),
            b'{"code":"200000","data":1546837113087}',
            1_546_837_113_087 * MS,
        ),
    ],
)
def test_the_time_member_is_read_in_nanoseconds(reader: TimeMember, body: bytes, expected: int) -> None:
    """The member at the path, Unix milliseconds, comes back in nanoseconds."""
    assert reader(body) == expected


@pytest.mark.parametrize(
    ("reader", "body"),
    [
        (TimeMember(("serverTime",)), b'{"serverTime": "1499827319559"}'),  # text where a number is documented
        (TimeMember(("serverTime",)), b'{"serverTime": true}'),
        (TimeMember(("serverTime",)), b'{"serverTime": 0}'),
        (TimeMember(("serverTime",)), b'{"time": 1499827319559}'),
        (TimeMember(("data", 0, "ts"), where={"code": "0"}, text=True), b'{"code":"1","data":[{"ts":"1"}]}'),
        (TimeMember(("data", 0, "ts"), where={"code": "0"}, text=True), b'{"code":"0","data":[{"ts":"1"},{"ts":"2"}]}'),
        (TimeMember(("data", 0, "ts"), where={"code": "0"}, text=True), b'{"code":"0","data":{"ts":"1597026383085"}}'),
        (TimeMember(("data", "ts")), b'{"data": [1]}'),
        (TimeMember(("serverTime",)), b"1499827319559"),
    ],
)
def test_a_time_answer_of_another_shape_gives_none(reader: TimeMember, body: bytes) -> None:
    """An answer of another shape gives no server time rather than a wrong one."""
    assert reader(body) is None


def test_readers_are_hashable_so_clock_sync_recipes_are() -> None:
    """A ClockSync holding a Refusal and a TimeMember can be hashed (and equal readers hash alike)."""
    from hmac_body_auth.presets.bitvavo import bitvavo_clock_sync

    assert hash(CODED) == hash(Refusal(frozenset({400}), {"code": -1021}, text=("msg",), only=True))
    assert hash(TimeMember(("serverTime",))) == hash(TimeMember(("serverTime",)))
    assert hash(bitvavo_clock_sync()) == hash(bitvavo_clock_sync())
