"""Every preset's nonce-error parser recognises its API's real error answer and nothing else.

A parser that says "nonce error" makes the auth sign the call again and send it
once more, so a false positive executes an order twice. The parsers are found
through the preset registry: a new preset with a parser and no samples here fails.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmac_body_auth.presets import PRESETS

Parser = Callable[[int, bytes], "int | None"]


def _parsers() -> dict[str, Parser]:
    """Preset name -> the ``*_nonce_error`` function its module exports."""
    found: dict[str, Parser] = {}
    for name, (module, _auth, _verifier) in PRESETS.items():
        loaded = importlib.import_module(f"hmac_body_auth.presets.{module}")
        exported = [attr for attr in loaded.__all__ if attr.endswith("_nonce_error")]
        assert len(exported) <= 1, name
        if exported:
            found[name] = getattr(loaded, exported[0])
    return found


PARSERS = _parsers()
NAMES = sorted(PARSERS)
STATUSES = (200, 400, 422, 500)

POLONIEX_PHRASE = "Nonce must be greater than 1700000000000123. You provided 1700000000000000."

#: Preset -> (status, the API's genuine stale-nonce answer, what the parser returns).
GENUINE: dict[str, tuple[int, bytes, int]] = {
    # Poloniex legacy tradingApi; the X in the text is the floor to raise.
    "poloniex": (422, json.dumps({"error": POLONIEX_PHRASE}).encode(), 1700000000000123),
    # Kraken: https://docs.kraken.com/api/docs/guides/spot-errors (HTTP 200).
    "kraken": (200, b'{"error":["EAPI:Invalid nonce"],"result":{}}', 0),
    # Bitfinex v2: https://docs.bitfinex.com/docs/abbreviations-glossary#error-codes (HTTP 500).
    "bitfinex": (500, b'["error",10114,"nonce: small"]', 0),
    # Gemini: https://docs.gemini.com/rest-api/#error-codes (HTTP 400).
    "gemini": (
        400,
        b'{"result":"error","reason":"InvalidNonce","message":"Nonce \'1700000000000\' not increased"}',
        0,
    ),
}

#: Preset -> successful answers (an executed call) that merely contain the error's text.
ECHOES: dict[str, list[bytes]] = {
    "poloniex": [
        json.dumps(
            {
                "orderNumber": "31226040",
                "resultingTrades": [],
                "clientOrderId": "Nonce must be greater than 99999999999999999999. You provided 1.",
            }
        ).encode(),
        json.dumps({"orderNumber": "31226041", "note": POLONIEX_PHRASE}).encode(),
        json.dumps({"orderNumber": "31226042", "resultingTrades": [{"error": POLONIEX_PHRASE}]}).encode(),
        json.dumps({"error": POLONIEX_PHRASE, "orderNumber": "31226043"}).encode(),
        json.dumps([{"error": POLONIEX_PHRASE}]).encode(),
        json.dumps(POLONIEX_PHRASE).encode(),
        json.dumps({"error": "order note: " + POLONIEX_PHRASE}).encode(),
    ],
    "kraken": [
        b'{"error":[],"result":{"descr":{"order":"buy 1 XBTUSD @ limit 1 EAPI:Invalid nonce"},"txid":["OABC"]}}',
        b'{"error":["EAPI:Invalid nonce"],"result":{"txid":["OABC-DEF"]}}',
        b'{"error":[],"result":{"userref":"{\\"error\\":[\\"EAPI:Invalid nonce\\"],\\"result\\":{}}"}}',
        b'{"error":["EAPI:Invalid nonce"],"result":{},"txid":["OABC"]}',
    ],
    "bitfinex": [
        b'[1567590617442,"on-req",null,null,[[1,null,1,"tBTCUSD",1,1,0.1,0.1,"EXCHANGE LIMIT",null,'
        b'{"note":"[\\"error\\",10114,\\"nonce: small\\"]"}]],null,"SUCCESS","Submitting 1 orders."]',
        b'[["error",10114,"nonce: small"]]',
        b'["error",10114,"nonce: small",{"id":1}]',
        b'{"note":["error",10114,"nonce: small"]}',
    ],
    "gemini": [
        b'{"order_id":"106817811","client_order_id":"InvalidNonce","symbol":"btcusd","is_live":true}',
        b'{"order_id":"106817812","client_order_id":"{\\"result\\":\\"error\\",\\"reason\\":\\"InvalidNonce\\"}"}',
        b'{"result":"error","reason":"InvalidNonce","order_id":"106817813","is_live":true}',
        b'[{"result":"error","reason":"InvalidNonce"}]',
    ],
}


def _hostile(genuine: bytes) -> list[bytes]:
    """Garbage, huge, non-UTF-8, nested, duplicated and non-strict variants of a genuine answer."""
    deep = b"[" * 50_000 + b"]" * 50_000
    text = genuine.decode()
    return [
        b"",
        b"garbage",
        b"\x00" * 100,
        b"\xff\xfe\xfd" + genuine,
        genuine.replace(b'"', b'"\xff', 1),
        text.encode("utf-16"),
        text.encode("utf-32"),
        b"\xef\xbb\xbf" + genuine,
        genuine + b" " * (64 * 1024),
        genuine * 2000,
        b" " * (1 << 20) + genuine,
        deep,
        genuine[:-1] + b"," + b"[" * 20_000 + b"]" * 20_000 + genuine[-1:],
        b'{"error":' + b"[" * 5_000 + b'"Nonce must be greater than 5. You provided 4."' + b"]" * 5_000 + b"}",
        b"1" * 10_000,
        b"NaN",
        b'{"error":["EAPI:Invalid nonce"],"result":NaN}',
        b'{"result":"error","reason":"InvalidNonce","message":Infinity}',
        b'{"error":"x","error":"Nonce must be greater than 5. You provided 4."}',
        b'{"error":[],"error":["EAPI:Invalid nonce"]}',
        b'{"result":"error","reason":["InvalidNonce"]}',
        b'{"result":"error","reason":{"InvalidNonce":1}}',
        b'{"error":"EAPI:Invalid nonce"}',
        b'{"error":["EAPI:Invalid nonce",{"x":1}]}',
        b'["error",10114.0,"nonce: small"]',
        b'["error",true,"nonce: small"]',
        b'["error",10114,["nonce: small"]]',
        b'["error",10114,',
    ]


def test_every_parser_has_samples() -> None:
    """The registry's parsers, the genuine answers and the echoes name the same presets."""
    assert set(PARSERS) == set(GENUINE) == set(ECHOES)
    assert {"poloniex", "kraken", "bitfinex", "gemini"} <= set(PARSERS)


@pytest.mark.parametrize("name", NAMES)
def test_genuine_answer_is_recognised(name: str) -> None:
    """The API's real stale-nonce answer yields the floor (or 0: re-sign with a fresh nonce)."""
    status, body, expected = GENUINE[name]
    assert PARSERS[name](status, body) == expected


@pytest.mark.parametrize("name", NAMES)
def test_genuine_answer_with_whitespace_is_recognised(name: str) -> None:
    """The same answer pretty-printed is still recognised: the shape counts, not the bytes."""
    status, body, expected = GENUINE[name]
    assert PARSERS[name](status, json.dumps(json.loads(body), indent=2).encode() + b"\n") == expected


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("status", STATUSES)
def test_success_echoing_the_phrase_is_not_a_nonce_error(name: str, status: int) -> None:
    """An executed call whose answer echoes the error text (a note, a client order id) is never re-sent."""
    for body in ECHOES[name]:
        assert PARSERS[name](status, body) is None, body[:80]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("status", STATUSES)
def test_hostile_bodies_return_none(name: str, status: int) -> None:
    """Garbage, huge, non-UTF-8, nested, duplicated and non-strict bodies return None without raising."""
    for body in _hostile(GENUINE[name][1]):
        assert PARSERS[name](status, body) is None, body[:80]


@pytest.mark.parametrize("name", NAMES)
def test_truncated_answers_return_none(name: str) -> None:
    """Every proper prefix of the genuine answer (a cut connection) returns None."""
    status, body, _ = GENUINE[name]
    for end in range(len(body)):
        assert PARSERS[name](status, body[:end]) is None, body[:end]


@pytest.mark.parametrize(
    "error",
    [
        "Nonce must be greater than 100000000000000000000. You provided 5.",
        "Nonce must be greater than 1" + "0" * 4000 + ". You provided 5.",
        "Nonce must be greater than \u0661\u0662\u0663. You provided 1.",
        "Nonce must be greater than 123. You provided \u0661.",
        "Nonce must be greater than +123. You provided 1.",
        "Nonce must be greater than 1_000. You provided 1.",
        "Nonce must be greater than 123 . You provided 1.",
        "Nonce must be greater than 5. You provided 6.",
        "Nonce must be greater than 5.",
        "Nonce must be greater than 5. You provided 4. Retry.",
        " Nonce must be greater than 5. You provided 4.",
    ],
    ids=["21-digits", "4001-digits", "arabic-x", "arabic-y", "sign", "underscore", "space", "y-above-x", "no-y",
         "trailer", "leading-space"],
)  # fmt: skip
def test_poloniex_floor_is_bounded_and_ascii(error: str) -> None:
    """A floor of more than 20 digits, non-ASCII digits or an inconsistent sentence is not a nonce error."""
    assert PARSERS["poloniex"](422, json.dumps({"error": error}).encode()) is None


def test_poloniex_largest_floor_is_accepted() -> None:
    """The largest floor the parser takes has 20 digits, above any 64-bit nonce."""
    error = "Nonce must be greater than 99999999999999999999. You provided 18446744073709551615."
    assert PARSERS["poloniex"](422, json.dumps({"error": error}).encode()) == 99999999999999999999


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), status=st.integers(100, 599), body=st.binary(max_size=512))
def test_random_bytes_never_raise(name: str, status: int, body: bytes) -> None:
    """Random bytes give None or a bounded int, never an exception."""
    result = PARSERS[name](status, body)
    assert result is None or (type(result) is int and 0 <= result < 10**20)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), status=st.integers(100, 599), value=_JSON)
def test_random_json_never_raises(name: str, status: int, value: object) -> None:
    """Random JSON values (wrong types in every member) give None or a bounded int, never an exception."""
    result = PARSERS[name](status, json.dumps(value).encode())
    assert result is None or (type(result) is int and 0 <= result < 10**20)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(NAMES), prefix=_JSON, suffix=_JSON)
def test_genuine_answer_inside_other_json_is_not_recognised(name: str, prefix: object, suffix: object) -> None:
    """The genuine answer nested in any other JSON value (an echo) is not a nonce error."""
    status, body, _ = GENUINE[name]
    wrapped = json.dumps({"result": [prefix, json.loads(body), suffix], "echo": body.decode()}).encode()
    assert PARSERS[name](status, wrapped) is None


@pytest.mark.parametrize("name", NAMES)
def test_genuine_answer_with_escaped_characters_is_recognised(name: str) -> None:
    """An error answer whose strings use JSON escapes (a backslash-u code for ``e``) is still recognised."""
    status, body, floor = GENUINE[name]
    escaped = body.replace(b"e", b"\\u0065")  # every "e" is inside a string in these answers
    assert json.loads(escaped) == json.loads(body)
    assert PARSERS[name](status, escaped) == floor


def test_a_success_without_the_phrase_is_not_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 200 answer that cannot hold the error's text costs a substring search, not a JSON parse."""
    from hmac_body_auth.presets import _answers

    def no_parse(*args: object, **kwargs: object) -> object:
        raise AssertionError("parsed")

    monkeypatch.setattr(_answers.json, "loads", no_parse)
    for name in ("poloniex", "kraken"):
        assert PARSERS[name](200, b'{"BTC": "0.00000000", "ETH": "1.50000000"}') is None


NEEDLED = [name for name in NAMES if getattr(PARSERS[name], "needle", None) is not None]


def _policy(parser: Parser) -> Any:
    """The lifecycle policy of an auth whose nonce-error parser is ``parser``."""
    from hmac_body_auth import BodyDigestAuth

    return BodyDigestAuth("K", secret=b"s" * 32, nonce=lambda: 1, nonce_error=parser).lifecycle


def test_poloniex_and_kraken_declare_their_needles() -> None:
    """The parsers of answers to every call (a 200 may be the error) declare the bytes the error holds."""
    assert {"poloniex", "kraken"} <= set(NEEDLED)


@pytest.mark.parametrize("name", NEEDLED)
def test_the_policy_recognises_the_genuine_answer_plain_and_escaped(name: str) -> None:
    """Through the lifecycle (which skips a needled parser): the genuine answer is seen, plain and escaped."""
    status, body, floor = GENUINE[name]
    policy = _policy(PARSERS[name])
    assert policy.parse_nonce_error(status, body) == floor
    assert policy.parse_nonce_error(status, body.replace(b"e", b"\\u0065")) == floor


@pytest.mark.parametrize("name", NEEDLED)
def test_the_policy_does_not_call_a_needled_parser_for_a_body_without_its_needle(name: str) -> None:
    """A success without the needle and without an escape is decided without calling the parser."""
    calls: list[bytes] = []
    parser = PARSERS[name]

    def counted(status: int, body: bytes) -> int | None:
        calls.append(body)
        return parser(status, body)

    counted.needle = parser.needle  # type: ignore[attr-defined]
    policy = _policy(counted)
    assert policy.parse_nonce_error(200, b'{"BTC": "0.00000000", "ETH": "1.50000000"}') is None
    assert calls == []
    assert policy.parse_nonce_error(200, b'{"note": "a \\"quoted\\" word"}') is None
    assert len(calls) == 1  # an escape: the parser decides
