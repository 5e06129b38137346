"""Strict reading of API answers, shared by the presets' nonce-error parsers.

A nonce-error parser tells the auth that a call was *not* executed, so the auth
signs it again and sends it once more. A false positive executes the call twice
(an order placed twice), so a parser reads only the API's exact error shape and
never searches the body for a phrase: an order note or a client order id may
echo any text. Anything unexpected is "not a nonce error" (``None``), never an
exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .._clocksync import TimestampRejection, milliseconds_ns
from .._lifecycle import lacks

__all__ = [
    "MAX_ANSWER_BYTES",
    "Refusal",
    "TimeMember",
    "coded_answer",
    "json_answer",
    "milliseconds_member",
    "nonce_floor",
]

#: Error answers are short; a larger body is some other answer and is not parsed.
MAX_ANSWER_BYTES = 64 * 1024

# A floor is an unsigned integer of at most 20 ASCII digits (2**64 - 1 has 20):
# no Unicode digits, signs, underscores or spaces, as int() would accept.
_FLOOR = re.compile(r"[0-9]{1,20}", re.ASCII)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    answer: dict[str, Any] = {}
    for name, value in pairs:
        if name in answer:
            raise ValueError("duplicate member name")
        answer[name] = value
    return answer


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_answer(body: object, *, needle: bytes | None = None) -> Any:
    """The JSON value of ``body``, or ``None`` unless it is strict UTF-8 JSON of at most 64 KiB.

    Strict: UTF-8 only (no UTF-16/32 guessing), no ``NaN``/``Infinity``, no
    duplicate member names; deep nesting and huge numbers are refused, not raised.

    ``needle``: bytes that every answer the caller looks for contains (the text of
    one of its strings or numbers). A body without them is not parsed: ``None``.
    Parsers of answers to every call (a 200 that may be the nonce error) pass it,
    so that a success costs a substring search, not a JSON parse.
    """
    if not isinstance(body, (bytes, bytearray)) or len(body) > MAX_ANSWER_BYTES:
        return None
    if needle is not None and lacks(body, needle):  # else parse to be sure
        return None
    try:
        return json.loads(bytes(body).decode("utf-8"), object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None


_Parser = TypeVar("_Parser", bound=Callable[[int, bytes], "int | None"])


def with_needle(needle: bytes) -> Callable[[_Parser], _Parser]:
    """Declare a nonce-error parser's ``needle`` (see :func:`hmac_body_auth._lifecycle.needle_of`).

    The parser must return ``None`` for a body that :func:`json_answer` with this
    needle leaves unparsed; the lifecycle then skips calling it for such a body.
    """

    def declare(parser: _Parser) -> _Parser:
        setattr(parser, "needle", needle)  # noqa: B010  # a function attribute, for needle_of()
        return parser

    return declare


def nonce_floor(text: str) -> int | None:
    """``int(text)`` if ``text`` is 1 to 20 ASCII digits, else ``None``."""
    return int(text) if _FLOOR.fullmatch(text) else None


def coded_answer(body: object, code: str, message: str) -> tuple[object, str] | None:
    """``(code, message)`` of a JSON object with exactly those two members (the message a str), else ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict) or answer.keys() != {code, message} or not isinstance(answer[message], str):
        return None
    return answer[code], answer[message]


def milliseconds_member(body: object, name: str) -> int | None:
    """A JSON object's ``name`` member, an int of Unix milliseconds, in nanoseconds; else ``None``."""
    answer = json_answer(body)
    if not isinstance(answer, dict) or type(answer.get(name)) is not int:
        return None
    return milliseconds_ns(answer[name])


def _same(value: object, expected: object) -> bool:
    """Equal and of the same type: ``"400002"`` is not ``400002``, and ``True`` is not ``1``."""
    return type(value) is type(expected) and value == expected


@dataclass(frozen=True)
class Refusal:
    """An API's documented "timestamp refused" answer, read exactly: a ``ClockSync.rejection``.

    A JSON object answered with one of ``statuses`` whose ``members`` have exactly
    those values (and types), whose ``text`` members are strings, and (``only``)
    that has no other member. ``status_member``: a member that must equal the HTTP
    status (PoloniexV3 answers ``{"code": 408}`` with a 408). ``needle``: bytes every
    such answer holds, for an API that refuses with the status of its successes (HTX's
    200): other answers are not parsed (see :func:`json_answer`). The answer says
    nothing of the server's time (the time endpoint gives it).
    """

    statuses: frozenset[int]
    members: Mapping[str, object] = field(default_factory=dict)
    text: tuple[str, ...] = ()
    only: bool = False
    status_member: str | None = None
    needle: bytes | None = None

    def __hash__(self) -> int:
        # Frozen but holding a dict: hashed by its items, so a ClockSync that holds it stays hashable.
        return hash((self.statuses, tuple(self.members.items()), self.text, self.only, self.status_member, self.needle))

    def __call__(self, status: int, body: bytes, signed_ms: int | None) -> TimestampRejection | None:
        if status not in self.statuses:
            return None
        answer = json_answer(body, needle=self.needle)
        if not isinstance(answer, dict):
            return None
        if self.only and answer.keys() != {*self.members, *self.text, *filter(None, [self.status_member])}:
            return None
        if not all(_same(answer.get(name, _ABSENT), value) for name, value in self.members.items()):
            return None
        if not all(isinstance(answer.get(name), str) for name in self.text):
            return None
        if self.status_member is not None and not _same(answer.get(self.status_member), status):
            return None
        return TimestampRejection(None)


_ABSENT = object()


@dataclass(frozen=True)
class TimeMember:
    """A time endpoint's answer, read exactly: a ``ClockSync.server_time`` giving nanoseconds or ``None``.

    The member at ``path`` (names of objects, indexes of one-element lists) of a JSON
    object whose ``where`` members have exactly those values: Unix milliseconds
    (``unit="ms"``) as a JSON integer, or (``text=True``) as a string of digits.
    """

    path: tuple[str | int, ...]
    where: Mapping[str, object] = field(default_factory=dict)
    text: bool = False
    unit: Literal["ms"] = "ms"

    def __hash__(self) -> int:
        return hash((self.path, tuple(self.where.items()), self.text, self.unit))

    def __call__(self, body: bytes) -> int | None:
        answer = json_answer(body)
        if not isinstance(answer, dict) or not all(_same(answer.get(k, _ABSENT), v) for k, v in self.where.items()):
            return None
        value: Any = answer
        for step in self.path:
            if isinstance(step, int):
                if not isinstance(value, list) or len(value) != 1:
                    return None
                value = value[0]
            elif isinstance(value, dict):
                value = value.get(step)
            else:
                return None
        if type(value) is not (str if self.text else int):
            return None
        return milliseconds_ns(value)
