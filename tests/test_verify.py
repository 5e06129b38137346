"""The server-side verifier and the scheme server, with the body-digest scheme."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

import hmac_body_auth as hba
from hmac_body_auth.presets import PRESETS, preset
from hmac_body_auth.testing import SchemeServer, VerifyingServer, mock_transport
from hmac_body_auth.verify import (
    BodyDigestVerifier,
    HeaderVerifier,
    MemoryNonceStore,
    ReplayGuard,
    Verdict,
    Verifier,
    ascii_int,
)

from .conftest import KEY, SECRET


def test_body_digest_verifier_accepts_and_rejects() -> None:
    """The verifier accepts what the auth signed and rejects a tampered body (tamper twin)."""
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=lambda: 7)
    signed = auth.sign("POST", "http://localhost/", body="a=1")
    verifier = BodyDigestVerifier({KEY: SECRET})
    verdict = verifier.verify("POST", "http://x/", signed.headers, signed.body)
    assert verdict.ok
    assert (verdict.key, verdict.nonce) == (KEY, 7)
    assert not verifier.verify("POST", "http://x/", signed.headers, signed.body + b"&b=2")
    assert verifier.verify("POST", "http://x/", {"Key": "other"}, signed.body).reason == "unknown key"


def test_replay_guard_rejects_repeated_and_lower_nonces() -> None:
    """A replayed or lower nonce is rejected with the Poloniex text; string nonces must be unique."""
    store = MemoryNonceStore()
    guard = ReplayGuard(BodyDigestVerifier({KEY: SECRET}), store=store)
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=iter([5, 5, 4, 6]).__next__)
    results = [
        guard.verify("POST", "http://x/", s.headers, s.body)
        for s in (auth.sign("POST", "http://localhost/") for _ in range(4))
    ]
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].reason == "Nonce must be greater than 5. You provided 5."
    assert store.advance(KEY, 6) == 6  # the high-water mark: 6 is refused now


def test_scheme_server_and_mock_transport_verify_poloniex() -> None:
    """A SchemeServer (real sockets) and a MockTransport (none) both verify Poloniex requests."""
    verifier = BodyDigestVerifier({KEY: SECRET})
    with SchemeServer(verifier) as server:
        r = requests.post(server.origin + "/tradingApi", data={"a": "1"}, auth=hba.Poloniex(KEY, SECRET), timeout=5)
        assert r.status_code == 200
        bad = requests.post(server.origin, data={"a": "1"}, auth=hba.Poloniex(KEY, SECRET + "x"), timeout=5)
        assert bad.status_code == 401
    with httpx.Client(transport=mock_transport(verifier), auth=hba.Poloniex(KEY, SECRET)) as c:
        assert c.post("http://api.test/tradingApi", data={"a": "1"}).status_code == 200

    async def run() -> int:
        async with httpx.AsyncClient(transport=mock_transport(verifier), auth=hba.Poloniex(KEY, SECRET)) as c:
            return (await c.post("http://api.test/tradingApi", data={"a": "1"})).status_code

    assert asyncio.run(run()) == 200


# -- fail closed: a signed request without its nonce or timestamp ---------------------------------

PAY = "https://api.example.com/v1/pay"
KEY_HEADER, SIGNATURE_HEADER = "X-Api-Key", "X-Signature"


def _docs_verifier(nonce_field: str | None = "nonce") -> BodyDigestVerifier:
    """The verifier of the provider setup in docs/testing.md."""
    return BodyDigestVerifier(
        {KEY: SECRET},
        key_header=KEY_HEADER,
        signature_header=SIGNATURE_HEADER,
        algorithm="sha256",
        digest_encoding="base64",
        nonce_field=nonce_field,
    )


def _docs_auth(nonce: Callable[[], int] | None) -> hba.BodyDigestAuth:
    """The client of docs/testing.md, with or without a nonce source."""
    return hba.BodyDigestAuth(
        KEY,
        secret=SECRET,
        key_header=KEY_HEADER,
        signature_header=SIGNATURE_HEADER,
        algorithm="sha256",
        digest_encoding="base64",
        nonce=nonce,
    )


def _docs_server() -> VerifyingServer:
    """A VerifyingServer (not started) for the docs' scheme."""
    return VerifyingServer(
        {KEY: SECRET},
        key_header=KEY_HEADER,
        signature_header=SIGNATURE_HEADER,
        algorithm="sha256",
        digest_encoding="base64",
    )


def test_docs_setup_rejects_every_replay_of_a_nonceless_request() -> None:
    """Through the docs' ReplayGuard, 100 replays of one signed request without a nonce are all rejected."""
    guard = ReplayGuard(_docs_verifier(), window_ms=None)
    signed = _docs_auth(None).sign("POST", PAY, body="amount=1")
    assert _docs_verifier().verify("POST", PAY, signed.headers, signed.body).ok  # the signature is valid
    verdicts = [guard.verify("POST", PAY, signed.headers, signed.body) for _ in range(100)]
    assert sum(v.ok for v in verdicts) == 0
    assert {v.reason for v in verdicts} == {"missing nonce"}


def test_docs_setup_accepts_a_nonce_once_twin() -> None:
    """Twin: the same request with a nonce is accepted once, its 99 replays and a tampered copy are not."""
    guard = ReplayGuard(_docs_verifier(), window_ms=None)
    signed = _docs_auth(hba.ClockNonce()).sign("POST", PAY, body="amount=1")
    verdicts = [guard.verify("POST", PAY, signed.headers, signed.body) for _ in range(100)]
    assert [v.ok for v in verdicts] == [True] + [False] * 99
    tampered = guard.verify("POST", PAY, signed.headers, signed.body.replace(b"amount=1", b"amount=9"))
    assert tampered.reason == "bad signature"


def test_loopback_servers_reject_nonceless_replays() -> None:
    """A SchemeServer, a VerifyingServer and mock_transport with the docs' scheme accept none of 100 replays."""
    signed = _docs_auth(None).sign("POST", PAY, body="amount=1")
    headers = {**signed.headers, "Content-Type": "application/x-www-form-urlencoded"}
    with SchemeServer(_docs_verifier()) as scheme, requests.Session() as s:
        statuses = [
            s.post(scheme.origin + "/v1/pay", data=signed.body, headers=headers).status_code for _ in range(100)
        ]
        assert statuses == [422] * 100
        assert (scheme.stats.accepted, scheme.stats.bad_nonce) == (0, 100)
    with _docs_server() as plain, requests.Session() as s:
        statuses = [s.post(plain.origin + "/v1/pay", data=signed.body, headers=headers).status_code for _ in range(100)]
        assert statuses == [422] * 100
        assert (plain.stats.accepted, plain.stats.bad_nonce) == (0, 100)
    with httpx.Client(transport=mock_transport(_docs_verifier())) as c:
        answers = [c.post(PAY, content=signed.body, headers=headers) for _ in range(100)]
        assert [r.status_code for r in answers] == [422] * 100
        assert answers[0].json() == {"error": "missing nonce"}


def test_loopback_server_accepts_each_nonce_once_twin() -> None:
    """Twin: the SchemeServer accepts a signed request with a nonce once and rejects its 99 replays."""
    signed = _docs_auth(hba.ClockNonce()).sign("POST", PAY, body="amount=1")
    headers = {**signed.headers, "Content-Type": "application/x-www-form-urlencoded"}
    with SchemeServer(_docs_verifier()) as server, requests.Session() as s:
        statuses = [
            s.post(server.origin + "/v1/pay", data=signed.body, headers=headers).status_code for _ in range(100)
        ]
    assert statuses == [200] + [422] * 99
    assert (server.stats.accepted, server.stats.bad_nonce) == (1, 99)


def test_schemes_without_nonces_say_so_explicitly() -> None:
    """A server for a nonce-less scheme opts out with nonce_field=None or require_nonce=False, and then accepts."""
    signed = _docs_auth(None).sign("POST", PAY, body="amount=1")
    opted_out = _docs_verifier(nonce_field=None)
    assert ReplayGuard(opted_out, window_ms=None).verify("POST", PAY, signed.headers, signed.body).ok
    explicit = ReplayGuard(_docs_verifier(), window_ms=None, require_nonce=False)
    assert explicit.verify("POST", PAY, signed.headers, signed.body).ok
    with httpx.Client(transport=mock_transport(_docs_verifier(), require_nonce=False)) as c:
        assert c.post(PAY, content=signed.body, headers=signed.headers).status_code == 200


class _Stub:
    """A verifier that accepts everything with a fixed verdict, declaring what its scheme carries."""

    def __init__(self, verdict: Verdict, **declared: bool) -> None:
        self.verdict = verdict
        for name, value in declared.items():
            setattr(self, name, value)

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
        """The fixed verdict."""
        return self.verdict


NOW = 1_700_000_000_000
NONE = Verdict(True, "", KEY)
NONCE = Verdict(True, "", KEY, 5)
STAMP = Verdict(True, "", KEY, None, NOW)
BOTH = Verdict(True, "", KEY, 5, NOW)
NONCE_SCHEME = {"carries_nonce": True, "carries_timestamp": False}
STAMP_SCHEME = {"carries_nonce": False, "carries_timestamp": True}


@pytest.mark.parametrize(
    ("verdict", "declared", "options", "reason"),
    [
        (NONE, {}, {"window_ms": None}, "missing nonce"),
        (NONE, {}, {"window_ms": 30_000}, "missing timestamp"),
        (NONE, {}, {"window_ms": 30_000, "require_nonce": False}, "missing timestamp"),
        (NONE, {}, {"window_ms": None, "require_nonce": False}, ""),
        (NONE, {}, {"window_ms": None, "strict_nonces": False}, ""),
        (NONCE, {}, {"window_ms": 30_000}, ""),
        (STAMP, {}, {"window_ms": None}, ""),
        (STAMP, {}, {"window_ms": 30_000}, ""),
        (NONE, NONCE_SCHEME, {"window_ms": 30_000}, "missing nonce"),
        (STAMP, NONCE_SCHEME, {"window_ms": 30_000}, "missing nonce"),
        (NONCE, NONCE_SCHEME, {"window_ms": 30_000}, ""),
        (NONE, NONCE_SCHEME, {"window_ms": None, "require_nonce": False}, ""),
        (NONE, STAMP_SCHEME, {"window_ms": 30_000}, "missing timestamp"),
        (NONCE, STAMP_SCHEME, {"window_ms": 30_000}, "missing timestamp"),
        (STAMP, STAMP_SCHEME, {"window_ms": 30_000}, ""),
        (NONE, STAMP_SCHEME, {"window_ms": 30_000, "require_timestamp": False}, ""),
        (NONCE, STAMP_SCHEME, {"window_ms": 30_000, "require_nonce": True}, "missing timestamp"),
        (STAMP, STAMP_SCHEME, {"window_ms": 30_000, "require_nonce": True}, "missing nonce"),
        (BOTH, STAMP_SCHEME, {"window_ms": 30_000, "require_nonce": True}, ""),
        (Verdict(True, "", KEY, ""), NONCE_SCHEME, {"window_ms": None}, "missing nonce"),
        (Verdict(True, "", KEY, None, NOW - 30_001), STAMP_SCHEME, {}, "timestamp outside the window"),
        (Verdict(True, "", KEY, True), {}, {}, "bad nonce"),
        (Verdict(True, "", KEY, None, "1"), {}, {}, "bad timestamp"),  # type: ignore[arg-type]
    ],
)
def test_replay_guard_requirements(
    verdict: Verdict, declared: dict[str, bool], options: dict[str, Any], reason: str
) -> None:
    """What the guard requires follows the verifier's declaration, explicit options, and else needs one of the two."""
    guard = ReplayGuard(_Stub(verdict, **declared), clock=lambda: NOW * 1_000_000, **options)
    result = guard.verify("POST", PAY, {}, b"")
    assert (result.ok, result.reason) == (not reason, reason)


def test_replay_guard_refuses_requirements_it_cannot_check() -> None:
    """require_nonce without strict nonces, or require_timestamp without a window, fails at construction."""
    with pytest.raises(ValueError, match="strict_nonces"):
        ReplayGuard(_docs_verifier(), strict_nonces=False, require_nonce=True)
    with pytest.raises(ValueError, match="window_ms"):
        ReplayGuard(_docs_verifier(), window_ms=None, require_timestamp=True)
    with pytest.raises(ValueError, match="window_ms"):
        SchemeServer(_docs_verifier(), require_timestamp=True)


def _preset_request(name: str, secret: str = "U0VDUkVU") -> tuple[Any, Any, dict[str, Any]]:
    """A verifier, an auth (signing with ``secret``) and a body each preset signs."""
    auth_cls, verifier_cls = preset(name)
    passphrase = "passphrases" in inspect.signature(verifier_cls).parameters
    verifier = verifier_cls({KEY: "U0VDUkVU"}, **({"passphrases": {KEY: "PP"}} if passphrase else {}))
    auth = auth_cls(KEY, secret, **({"passphrase": "PP"} if passphrase else {}))
    form = "form" in auth_cls.recipe.bodies
    return verifier, auth, {"data": {"a": "1"}} if form else {"json": {"a": "1"}}


@pytest.mark.parametrize("window_ms", [None, 60_000])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_still_accepted_with_default_requirements(name: str, window_ms: int | None) -> None:
    """Each preset's signed request passes the guard's default requirements; one signed with another secret does not."""
    verifier, auth, body = _preset_request(name)
    # Crypto.com's method is the path after /exchange/v1/ (signed; a private one).
    url = "http://api.test/exchange/v1/private/x" if name == "cryptocom" else "http://api.test/v1/x"
    with httpx.Client(transport=mock_transport(verifier, window_ms=window_ms), auth=auth) as c:
        assert c.post(url, **body).status_code == 200
    verifier, wrong, body = _preset_request(name, secret="V1JPTkc=")
    with httpx.Client(transport=mock_transport(verifier, window_ms=window_ms), auth=wrong) as c:
        assert c.post(url, **body).status_code == 401


# -- verify() never raises on what a client sent ------------------------------------------------


def _short(text: str) -> str:
    """A test id: the repr of the first characters, and the length of long texts."""
    return repr(text[:6]) + (f"...({len(text)})" if len(text) > 6 else "")


TRICKY = ["²", "١٢٣", "9" * 5000, "", "-1", " 12", "12 ", "+12", "1_2", "1e9", "0x1f", "\x00", "\udcff", "ÿ", "12\n"]


class _TimestampVerifier(HeaderVerifier):
    """A HeaderVerifier whose scheme signs ``timestamp + METHOD + url + body``."""

    key_header, timestamp_header, signature_header = "X-Key", "X-Ts", "X-Sig"

    def prehash(self, timestamp: str, method: str, url: str, body: bytes) -> bytes:
        """``timestamp + METHOD + url + body``, as a client that can encode them would sign."""
        return (timestamp + method + url).encode() + body


def _signed_form(nonce: str, extra: bytes = b"") -> tuple[dict[str, str], bytes]:
    """Headers and a body carrying ``nonce``, correctly signed for the docs' verifier."""
    body = b"amount=1" + extra + b"&nonce=" + quote(nonce, errors="surrogatepass").encode()
    return {
        "X-Api-Key": KEY,
        "X-Signature": hba.Signer(SECRET, algorithm="sha256", digest_encoding="base64").sign(body),
    }, body


def test_ascii_int_reads_only_ascii_digits() -> None:
    """ascii_int reads 0-9 and nothing else, and gives None instead of raising past the digit limits."""
    assert [ascii_int(t) for t in ["0", "007", "1700000000000", "9" * 64]] == [0, 7, 1_700_000_000_000, int("9" * 64)]
    assert [ascii_int(t) for t in [*TRICKY, None, "9" * 65]] == [None] * (len(TRICKY) + 2)
    assert ascii_int("9" * 5000, max_digits=10_000) is None  # int() itself refuses past 4300 digits


@pytest.mark.parametrize("text", TRICKY, ids=_short)
def test_body_digest_verifier_gives_a_verdict_for_any_nonce_text(text: str) -> None:
    """A correctly signed body with any nonce text gets a Verdict: digits only if ASCII, at most MAX_DIGITS."""
    headers, body = _signed_form(text, extra=b"&memo=\xff\xfe")
    verdict = _docs_verifier().verify("POST", PAY, headers, body)
    guarded = ReplayGuard(_docs_verifier(), window_ms=None).verify("POST", PAY, headers, body)
    assert isinstance(verdict, Verdict)
    assert isinstance(guarded, Verdict)
    assert not isinstance(verdict.nonce, int)  # not "١٢٣" -> 123, not "-1" -> -1
    if text == "":
        assert (verdict.ok, verdict.nonce, guarded.reason) == (True, None, "missing nonce")
    if text == "9" * 5000:
        assert (verdict.ok, verdict.reason, guarded.reason) == (False, "bad nonce", "bad nonce")


def test_body_digest_verifier_nonce_twin() -> None:
    """Twin: an ASCII-digit nonce is an int, and the same request with a changed nonce fails the signature."""
    headers, body = _signed_form("1234567")
    assert _docs_verifier().verify("POST", PAY, headers, body).nonce == 1234567
    assert _docs_verifier().verify("POST", PAY, headers, body.replace(b"1234567", b"1234568")).reason == "bad signature"


@pytest.mark.parametrize("text", TRICKY, ids=_short)
def test_header_verifier_gives_a_verdict_for_any_timestamp_text(text: str) -> None:
    """A HeaderVerifier rejects every timestamp that is not ASCII digits, whatever int() would make of it."""
    verifier = _TimestampVerifier({KEY: SECRET})
    headers = {"X-Key": KEY, "X-Ts": text, "X-Sig": "x"}
    verdict = verifier.verify("GET", PAY, headers, b"\xff")
    assert (verdict.ok, verdict.reason) == (False, "bad X-Ts")
    assert isinstance(ReplayGuard(verifier).verify("GET", PAY, headers, b"\xff"), Verdict)


def test_header_verifier_timestamp_twin() -> None:
    """Twin: an ASCII timestamp verifies and gives timestamp_ms; a URL no client could encode is a rejection."""
    verifier = _TimestampVerifier({KEY: SECRET})
    signature = hba.Signer(SECRET, algorithm="sha256", digest_encoding="base64").sign(b"1700GET" + PAY.encode())
    headers = {"X-Key": KEY, "X-Ts": "1700", "X-Sig": signature}
    assert verifier.verify("GET", PAY, headers, b"").timestamp_ms == 1700
    assert not verifier.verify("GET", PAY + "x", headers, b"")
    assert verifier.verify("GET", PAY + "\udcff", headers, b"").reason == "malformed request"


@pytest.mark.parametrize("text", TRICKY, ids=_short)
def test_verifying_server_refuses_any_nonce_that_is_not_ascii_digits(text: str) -> None:
    """VerifyingServer.verify answers 422 for every such nonce (it read "١٢٣" as 123 and raised on 5000 digits)."""
    server = _docs_server()
    headers, body = _signed_form(text)
    assert server.verify("POST", "/v1/pay", headers, body) == (422, {"error": "Missing or invalid nonce."})
    headers, body = _signed_form("1234567")  # twin
    assert server.verify("POST", "/v1/pay", headers, body)[0] == 200


def test_replay_guard_turns_a_verifier_exception_into_a_rejection() -> None:
    """A verifier that raises on a request (a preset's int() of 5000 digits) gives a rejecting Verdict."""

    class Raising:
        def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Verdict:
            return Verdict(True, "", KEY, int("9" * 5000))

    verdict = ReplayGuard(Raising()).verify("POST", PAY, {}, b"")
    assert (verdict.ok, verdict.reason) == (False, "malformed request (ValueError)")


_chars = st.characters(codec=None, categories=None, exclude_categories=[])  # surrogates too
_text = st.one_of(
    st.text(max_size=40),
    st.text(_chars, max_size=10),
    st.sampled_from(TRICKY),
    st.integers(0, 6000).map(lambda n: "7" * n),
)
_headers = st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=6)


@settings(max_examples=200, deadline=None)
@given(nonce=_text, timestamp=_text, headers=_headers, body=st.binary(max_size=64))
def test_any_nonce_or_timestamp_text_gives_a_verdict(
    nonce: str, timestamp: str, headers: dict[str, str], body: bytes
) -> None:
    """Arbitrary text in nonce and timestamp fields and headers, signed or not, always gives a Verdict."""
    signed_headers, signed_body = _signed_form(nonce, extra=body.replace(b"&", b""))
    docs = _docs_verifier()
    verifiers: list[Verifier] = [docs, ReplayGuard(docs, window_ms=None), ReplayGuard(docs, require_timestamp=False)]
    for verifier in verifiers:
        assert isinstance(verifier.verify("POST", PAY, signed_headers, signed_body), Verdict)
        assert isinstance(verifier.verify("POST", PAY, {**headers, **signed_headers}, body), Verdict)
    stamped = {**headers, "X-Key": KEY, "X-Ts": timestamp, "X-Sig": nonce}
    verifiers = [_TimestampVerifier({KEY: SECRET}), ReplayGuard(_TimestampVerifier({KEY: SECRET}))]
    for verifier in verifiers:
        assert isinstance(verifier.verify("GET", PAY, stamped, body), Verdict)
    server = _docs_server()
    assert server.verify("POST", "/v1/pay", signed_headers, signed_body)[0] in (200, 422)


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(sorted(PRESETS)), value=_text, headers=_headers, body=st.binary(max_size=64))
def test_every_preset_behind_a_replay_guard_gives_a_verdict(
    name: str, value: str, headers: dict[str, str], body: bytes
) -> None:
    """Behind a ReplayGuard, every preset's verifier gives a Verdict for any header text, nonce or timestamp."""
    verifier, _, _ = _preset_request(name)
    keys = ["API-Key", "bfx-apikey", "X-BAPI-API-KEY", "KC-API-KEY", "OK-ACCESS-KEY", "CB-ACCESS-KEY", "key", "Key"]
    keys += ["X-MBX-APIKEY", "X-GEMINI-APIKEY"]
    fields = ["nonce", "bfx-nonce", "X-Auth-Nonce", "X-Auth-Timestamp", "X-BAPI-TIMESTAMP", "KC-API-TIMESTAMP"]
    fields += [
        "OK-ACCESS-TIMESTAMP",
        "CB-ACCESS-TIMESTAMP",
        "signTimestamp",
        "X-BAPI-RECV-WINDOW",
        "KC-API-KEY-VERSION",
    ]
    fields += ["API-Sign", "bfx-signature", "X-Auth-Signature", "X-BAPI-SIGN", "KC-API-SIGN", "OK-ACCESS-SIGN"]
    fields += ["CB-ACCESS-SIGN", "signature", "Sign", "X-GEMINI-PAYLOAD", "X-GEMINI-SIGNATURE", "Authorization"]
    all_headers = {**headers, **dict.fromkeys(fields, value), **dict.fromkeys(keys, KEY)}
    all_headers |= {"X-Auth": "BITSTAMP " + KEY, "X-Auth-Version": "v2"}
    form = body + b"&nonce=" + quote(value, errors="surrogatepass").encode()
    for url in (f"{PAY}?timestamp={value}", PAY + value, PAY + "/\udcff"):
        assert isinstance(ReplayGuard(verifier, window_ms=None).verify("POST", url, all_headers, form), Verdict)


@pytest.mark.parametrize("behind_s", [0, 3600, 3 * 365 * 86400])
def test_replay_guard_on_its_own_clock_refuses_a_replayed_string_nonce(behind_s: int) -> None:
    """A guard on an injected clock (behind real time or not) keeps string nonces by that clock: a replay is refused."""
    from hmac_body_auth.presets import Bitstamp, BitstampVerifier

    def clock() -> int:
        return time.time_ns() - behind_s * 10**9

    auth = Bitstamp("KEY", "SECRET", clock=clock)
    guard = ReplayGuard(BitstampVerifier({"KEY": "SECRET"}), clock=clock)
    signed = auth.sign("POST", "https://www.bitstamp.net/api/v2/balance/", body={"a": "1"})
    first = guard.verify("POST", signed.url, signed.headers, signed.body)
    replay = guard.verify("POST", signed.url, signed.headers, signed.body)
    assert (first.ok, replay.ok, replay.reason) == (True, False, "nonce already used")


def test_memory_nonce_store_expires_string_nonces_by_its_clock() -> None:
    """MemoryNonceStore(clock=...) forgets a string nonce once its clock passes the expiry, not before."""
    start_ms = 1_700_000_000_000  # long before today: the real clock would have expired it at once
    now = [start_ms * 10**6]  # ns
    store = MemoryNonceStore(clock=lambda: now[0])
    assert store.add_once(KEY, "n-1", start_ms + 500)
    assert not store.add_once(KEY, "n-1", start_ms + 500)
    now[0] += 501 * 10**6
    assert store.add_once(KEY, "n-1", start_ms + 1500)


@pytest.mark.parametrize("name", ["poloniex", "okx"])
def test_a_verifier_whose_construction_failed_still_has_a_repr(name: str) -> None:
    """A verifier that raised in its constructor (a bad secret) can be shown, as tracebacks with locals show it."""
    import traceback

    for verifier_type in (preset(name)[1], BodyDigestVerifier):
        try:
            verifier_type({KEY: SECRET + "\n"})
        except hba.ConfigurationError as exc:
            text = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
        else:  # pragma: no cover - the secret is refused
            raise AssertionError("a secret with a trailing newline was accepted")
        # The repr of the half-built verifier, not an AttributeError from it (the secret argument
        # itself is the caller's local, which a traceback with locals shows, as it shows any).
        assert "keys=0, secret=***" in text
        assert "AttributeError" not in text


class _Clock:
    """A clock the test moves (nanoseconds)."""

    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


@pytest.mark.parametrize("ahead_s", [0, 25])
def test_a_string_nonce_is_refused_while_its_timestamp_is_in_the_window(ahead_s: int) -> None:
    """A client clock ahead of the server's: its request's replay is refused until its timestamp leaves the window."""
    from hmac_body_auth.presets import Bitstamp, BitstampVerifier

    server = _Clock(time.time_ns())
    auth = Bitstamp("KEY", "SECRET", clock=lambda: server.now_ns + ahead_s * 10**9)
    guard = ReplayGuard(BitstampVerifier({"KEY": "SECRET"}), clock=server, window_ms=30_000)
    signed = auth.sign("POST", "https://www.bitstamp.net/api/v2/balance/", body={"a": "1"})
    assert guard.verify("POST", signed.url, signed.headers, signed.body).ok
    server.now_ns += (28 + ahead_s) * 10**9  # 29 + ahead_s s after signing: stamp + window not passed
    replay = guard.verify("POST", signed.url, signed.headers, signed.body)
    assert (replay.ok, replay.reason) == (False, "nonce already used")
    server.now_ns += 2 * 10**9  # stamp + window exactly: the timestamp is still in, and so is the nonce
    assert guard.verify("POST", signed.url, signed.headers, signed.body).reason == "nonce already used"
    server.now_ns += 10**6  # 1 ms later: the timestamp itself is refused now
    assert guard.verify("POST", signed.url, signed.headers, signed.body).reason == "timestamp outside the window"


@pytest.mark.parametrize("window_ms", [30_000, None])
def test_a_string_nonce_no_timestamp_bounds_is_refused_for_good(window_ms: int | None) -> None:
    """A UUID nonce on a scheme without timestamps (or with the window off) is never accepted twice."""
    clock = _Clock(time.time_ns())
    guard = ReplayGuard(BodyDigestVerifier({KEY: SECRET}), clock=clock, window_ms=window_ms)
    auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=lambda: "fc224da8441f4afa9fa6b752bcb5cc52")
    signed = auth.sign("POST", "http://localhost/", body="amount=1000")
    assert guard.verify("POST", "http://x/", signed.headers, signed.body).ok
    for days in (0, 2, 400):
        clock.now_ns += days * 86_400 * 10**9
        replay = guard.verify("POST", "http://x/", signed.headers, signed.body)
        assert (replay.ok, replay.reason) == (False, "nonce already used")


def test_memory_nonce_store_drops_expired_tokens_in_order_and_fails_closed_when_full() -> None:
    """Expired tokens make room (oldest expiry first); live ones are never forgotten: a full store refuses more."""
    base = 1_700_000_000_000  # ms
    now = [base * 10**6]
    store = MemoryNonceStore(clock=lambda: now[0], max_tokens=3)
    assert store.add_once(KEY, "a", base + 2_000)
    assert store.add_once(KEY, "b", base + 5_000)
    assert store.add_once(KEY, "c", base + 3_000)
    with pytest.raises(OverflowError):
        store.add_once(KEY, "d", base + 9_000)
    assert not store.add_once(KEY, "a", base + 9_000), "a full store still recognises a live token"
    now[0] = (base + 2_500) * 10**6  # "a" expired
    assert store.add_once(KEY, "d", base + 9_000)
    assert not store.add_once(KEY, "b", base + 9_000)
    assert not store.add_once(KEY, "c", base + 9_000)
    now[0] = (base + 3_500) * 10**6  # "c" expired, "b" not
    assert store.add_once(KEY, "c", base + 9_000), "an expired token may come again"
    assert not store.add_once(KEY, "b", base + 9_000)
    with pytest.raises(ValueError, match="max_tokens"):
        MemoryNonceStore(max_tokens=0)


def test_a_full_nonce_store_makes_the_guard_reject() -> None:
    """When the store cannot remember one more string nonce, the request is rejected, not let through."""
    guard = ReplayGuard(BodyDigestVerifier({KEY: SECRET}), store=MemoryNonceStore(max_tokens=1), window_ms=None)
    for index, expected in enumerate([(True, ""), (False, "too many nonces remembered")]):
        auth = hba.BodyDigestAuth(KEY, secret=SECRET, nonce=lambda index=index: f"uuid-{index}")
        signed = auth.sign("POST", "http://localhost/", body="a=1")
        verdict = guard.verify("POST", "http://x/", signed.headers, signed.body)
        assert (verdict.ok, verdict.reason) == expected


def test_a_listed_signature_is_found_and_a_long_list_is_refused() -> None:
    """A header listing signatures is checked against each; more than MAX_SIGNATURES of them is refused."""
    from hmac_body_auth.recipe import MAX_SIGNATURES

    auth_cls, verifier_cls = preset("poloniex")
    signed = auth_cls(KEY, SECRET).sign("POST", "https://poloniex.com/tradingApi", body={"command": "returnBalances"})
    verifier = verifier_cls({KEY: SECRET})
    good = signed.headers["Sign"]
    url = "https://poloniex.com/tradingApi"
    for listed, ok in (([good], True), (["0" * 128, good], True), (["0" * 128] * MAX_SIGNATURES, False)):
        headers = {**signed.headers, "Sign": " ".join(listed)}
        assert verifier.verify("POST", url, headers, signed.body).ok is ok
    too_many = {**signed.headers, "Sign": " ".join(["0" * 128] * MAX_SIGNATURES + [good])}
    assert verifier.verify("POST", url, too_many, signed.body).reason == "bad signature"


def test_signer_matches_compares_every_candidate() -> None:
    """Signer.matches is Signer.verify over several candidates: any one that is the HMAC matches."""
    signer = hba.Signer(SECRET)
    right = signer.sign(b"data")
    assert signer.matches(b"data", ["nope", right.upper(), b"\xff"])
    assert not signer.matches(b"data", ["nope", b"\xff"])
    assert not signer.matches(b"data", [])
    assert signer.verify(b"data", right)


@pytest.mark.parametrize("name", ["kraken", "gemini"])
def test_a_query_string_the_signature_does_not_cover_is_refused(name: str) -> None:
    """Where the API signs no query string (the auth refuses one), its verifier refuses one added to a request."""
    from tests._presets import CALLS, KEY, SECRET, sample

    auth_cls, verifier_cls = preset(name)
    call = sample(name, CALLS[name][0])
    signed = auth_cls(KEY, SECRET).sign(call.method, call.url, body=call.body, content_type=call.content_type)
    verifier = verifier_cls({KEY: SECRET})
    assert verifier.verify(call.method, signed.url, signed.headers, signed.body).ok
    added = signed.url + "?command=withdraw&amount=1000"
    verdict = verifier.verify(call.method, added, signed.headers, signed.body)
    assert (verdict.ok, verdict.reason) == (False, "a query string the signature does not cover")


def test_a_method_the_api_does_not_sign_is_refused() -> None:
    """Kraken signs POST only: the same signed request arriving as GET is refused."""
    from tests._presets import CALLS, KEY, SECRET, sample

    auth_cls, verifier_cls = preset("kraken")
    call = sample("kraken", CALLS["kraken"][0])
    signed = auth_cls(KEY, SECRET).sign(call.method, call.url, body=call.body, content_type=call.content_type)
    verdict = verifier_cls({KEY: SECRET}).verify("GET", signed.url, signed.headers, signed.body)
    assert (verdict.ok, verdict.reason) == (False, "method GET is not signed by Kraken")


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("url", ["http://[::1/tradingApi", "https://h/p?\udcff=1", "https://h/p?a=%ZZ\udcff"])
def test_a_bare_verifier_never_raises_on_a_malformed_url(name: str, url: str) -> None:
    """Every preset's verifier, without a guard, rejects a URL nothing could parse instead of raising."""
    from tests._presets import KEY, PASSPHRASE, SECRET, takes

    _, verifier_cls = preset(name)
    options = {"passphrases": {KEY: PASSPHRASE}} if takes(verifier_cls, "passphrases") else {}
    verdict = verifier_cls({KEY: SECRET}, **options).verify("POST", url, {"Key": KEY, "Sign": "x"}, b"nonce=1")
    assert isinstance(verdict, Verdict)
    assert not verdict.ok


def test_a_header_verifier_with_a_non_ascii_passphrase_checks_it() -> None:
    """A configured passphrase outside ASCII is compared, not a UnicodeEncodeError on every request."""
    import base64
    import hashlib
    import hmac

    class _Verifier(HeaderVerifier):
        key_header, timestamp_header, signature_header, passphrase_header = "K", "T", "S", "P"

        def prehash(self, timestamp: str, method: str, url: str, body: bytes) -> bytes:
            return timestamp.encode() + method.encode() + body

    stamp = str(int(time.time() * 1000))
    sign = base64.b64encode(hmac.new(b"sec", stamp.encode() + b"POSTx", hashlib.sha256).digest()).decode()
    verifier = _Verifier({"k": "sec"}, passphrases={"k": "pässwort"})
    headers = {"K": "k", "T": stamp, "S": sign}
    assert verifier.verify("POST", "https://h/", {**headers, "P": "pässwort"}, b"x").ok
    assert verifier.verify("POST", "https://h/", {**headers, "P": "passwort"}, b"x").reason == "bad passphrase"
