"""The request lifecycle without sockets: its decision table and its hold-and-release contract.

The table is the one policy every adapter follows (requests, httpx, httpx2); the
end-to-end proof per client is in test_redirects.py and test_promises.py.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

import hmac_body_auth as hba
from hmac_body_auth._lifecycle import BODY_LIMIT, Action, Call, Situation, decide

KEY, SECRET = "LC-KEY-0123", "lifecycle-secret"
REDIRECTS = [301, 302, 303, 307, 308]

# situation -> action: the whole policy, one row per case.
TABLE: list[tuple[Situation, Action]] = [
    *[(Situation(s, redirect=True, same_origin=False), Action.REFUSE) for s in REDIRECTS],
    *[(Situation(s, redirect=True, same_origin=True), Action.FOLLOW_STRIPPED) for s in (301, 302, 303)],
    *[(Situation(s, redirect=True, same_origin=True), Action.FOLLOW_SIGNED) for s in (307, 308)],
    # A 307/308 of a GET or HEAD resends no body: stripped, as httpx's hops of a GET must be.
    *[(Situation(s, redirect=True, same_origin=True, resends_body=False), Action.FOLLOW_STRIPPED) for s in (307, 308)],
    # A streamed body cannot be signed again: a hop that resends it is refused.
    *[(Situation(s, redirect=True, same_origin=True, has_body=False), Action.REFUSE) for s in (307, 308)],
    *[(Situation(s, redirect=True, same_origin=True, has_body=False), Action.FOLLOW_STRIPPED) for s in (301, 303)],
    (Situation(422, nonce_rejected=True), Action.RESEND),
    (Situation(200, nonce_rejected=True), Action.RESEND),
    (Situation(422, nonce_rejected=True, resent=True), Action.DONE),
    (Situation(503, resign_status=True), Action.RESEND),
    (Situation(503, resign_status=True, resent=True), Action.DONE),
    (Situation(503), Action.DONE),
    (Situation(500), Action.DONE),
    (Situation(200), Action.DONE),
    (Situation(401), Action.DONE),
    (Situation(422, nonce_rejected=True, has_body=False), Action.DONE),
    # Clock sync: a timestamp refusal was not executed; re-sign once the server's clock is known.
    (Situation(400, timestamp_rejected=True, clock_known=True), Action.RESEND),
    (Situation(200, timestamp_rejected=True, clock_known=True), Action.RESEND),
    (Situation(400, timestamp_rejected=True, time_endpoint=True), Action.SYNC_CLOCK),
    (Situation(400, timestamp_rejected=True, clock_known=True, time_endpoint=True), Action.RESEND),
    (Situation(400, timestamp_rejected=True), Action.DONE),
    (Situation(400, timestamp_rejected=True, clock_known=True, resent=True), Action.DONE),
    (Situation(400, timestamp_rejected=True, time_endpoint=True, resent=True), Action.DONE),
    (Situation(400, timestamp_rejected=True, clock_known=True, has_body=False), Action.DONE),
    (Situation(400, time_endpoint=True), Action.DONE),
]


@pytest.mark.parametrize(("situation", "action"), TABLE, ids=[f"{s}->{a.value}" for s, a in TABLE])
def test_decision_table(situation: Situation, action: Action) -> None:
    """Each situation leads to exactly the action the documented policy states."""
    assert decide(situation) is action


def test_every_redirect_status_and_origin_has_a_row() -> None:
    """The table covers every redirect status, same and other origin."""
    covered = {(s.status, s.same_origin) for s, _ in TABLE if s.redirect and s.has_body}
    assert covered == {(s, same) for s in REDIRECTS for same in (True, False)}


def _call(**options: Any) -> Call:
    auth = hba.Poloniex(KEY, SECRET, **options)
    return auth.lifecycle.call("POST", "https://poloniex.com/tradingApi", None, "command=buy")


def test_a_call_releases_exactly_once() -> None:
    """release() ends the hold once; later calls (and abandon) do nothing; the next call takes the lease at once."""
    call = _call()
    call.hold()
    assert call.holding
    lease = call.policy.lease
    assert lease is not None
    assert lease.holder is not None
    call.release()
    call.release()
    call.abandon()
    assert not call.holding
    assert lease.holder is None
    other = _call()
    other.hold()
    assert lease.holder is not None
    other.release()


def test_nonce_rejection_raises_the_floor_logs_and_resigns_once(caplog: pytest.LogCaptureFixture) -> None:
    """The API's nonce error: floor raised above X (logged at WARNING with both values), re-signed once, then done."""
    call = _call()
    call.hold()
    first = call.sign()
    answer = b'{"error": "Nonce must be greater than 99999999999999999. You provided 1."}'
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        decision = call.after(422, answer)
    assert decision.action is Action.RESEND
    assert decision.signed is not None
    assert int(decision.signed.nonce) > 99999999999999999  # type: ignore[arg-type]
    assert str(first.nonce) in caplog.text
    assert "99999999999999999" in caplog.text
    assert call.after(422, answer).action is Action.DONE  # only once
    call.release()


@pytest.mark.parametrize("is_async", [False, True], ids=["after", "after_async"])
def test_an_escaped_nonce_error_is_still_recognised(is_async: bool) -> None:
    """A nonce error whose JSON text escapes a character (a backslash-u escape) is parsed, not taken for a success."""
    import asyncio

    call = _call()
    call.hold()
    call.sign()
    answer = b'{"error": "Nonce\\u0020must be greater than 99999999999999999. You provided 1."}'
    assert b"Nonce must" not in answer  # the needle is not in the bytes as they are
    decision = asyncio.run(call.after_async(422, answer)) if is_async else call.after(422, answer)
    assert decision.action is Action.RESEND
    call.release()


def test_nonce_error_naming_the_calls_own_nonce_means_it_ran() -> None:
    """A rejection saying the server's last nonce is this call's own (a duplicate delivery): done, never re-signed."""
    call = _call()
    call.hold()
    sent = call.sign().nonce
    answer = f'{{"error": "Nonce must be greater than {sent}. You provided {sent}."}}'.encode()
    assert call.after(422, answer).action is Action.DONE
    call.release()


def test_success_that_mentions_the_phrase_is_done() -> None:
    """A success whose echoed note contains the nonce-error phrase is not a rejection: done, never resent."""
    call = _call()
    call.hold()
    call.sign()
    body = b'{"orderNumber": 1, "note": "Nonce must be greater than 100000000000000000000. You provided 1."}'
    assert call.after(200, body).action is Action.DONE
    call.release()


@pytest.mark.parametrize(
    ("status", "headers", "buffered", "wanted"),
    [
        (422, {"content-length": "90"}, False, True),
        (200, {"content-length": str(BODY_LIMIT + 1)}, False, False),
        (200, {}, False, False),  # a streamed success of unknown length is never read
        (422, {}, False, True),
        (500, {"content-length": "10"}, False, False),  # not a status this API reports nonce errors with
        (200, {"content-length": str(64 << 20)}, True, True),  # buffered anyway: reading costs nothing
    ],
)
def test_wants_body_only_when_small_or_free(status: int, headers: dict[str, str], buffered: bool, wanted: bool) -> None:
    """The body is read to decide only if small (or read by the client anyway): a big or streamed answer is not."""
    call = _call()
    assert call.wants_body(status, headers, buffered=buffered) is wanted
    if not buffered:  # wants_length: the same answer from the Content-Length value alone
        assert call.wants_length(status, headers.get("content-length")) is wanted


LENGTHS = ["90", " 90 ", "9x", "", "-1", "90, 90", "\u00b2", "\u0661\u0662", "9" * 5000, None]
LENGTHS += [str(BODY_LIMIT), str(BODY_LIMIT + 1), "0" * 20 + "1"]
# Around the four-digit shortcut: the longest lengths it takes, and the first it leaves to the full check.
LENGTHS += ["0", "9999", "0090", "99999", "00090", "9\u0669", " 9"]


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("status", [200, 400, 422, 500])
def test_wants_length_is_wants_body_given_the_length(status: int, length: str | None) -> None:
    """wants_length(status, length) answers as wants_body does with that Content-Length, before and after a resend."""
    call = _call()
    headers = {} if length is None else {"content-length": length}
    wanted = call.wants_length(status, length)
    assert wanted is call.wants_body(status, headers)
    if status != 500:  # a status this API reports nonce errors with: the length alone decides
        small = length is not None and length.strip() in ("90", str(BODY_LIMIT), "0", "9999", "0090", "00090", "9")
        assert wanted is (small if length is not None else status >= 400)
    call.resent = True
    assert call.wants_length(status, length) is call.wants_body(status, headers) is False


@pytest.mark.parametrize("kind", ["no-parser", "no-nonce"])
def test_wants_length_reads_nothing_without_a_nonce_error_to_find(kind: str) -> None:
    """Without a nonce-error parser (or a nonce) no answer's body is read, whatever its status and length."""
    url = "https://example.com/api"
    auth: Any = hba.Poloniex(KEY, SECRET, nonce_error=None)
    if kind == "no-nonce":
        auth = hba.BodyDigestAuth(KEY, secret=SECRET)
    call = auth.lifecycle.call("POST", url, None, "a=1")
    for status in (200, 400, 422):
        assert call.wants_length(status, "90") is call.wants_body(status, {"content-length": "90"}) is False


def test_wants_length_reads_no_streamed_call() -> None:
    """A streamed call (its body not kept to re-sign) never reads an answer to decide."""
    policy = hba.BodyDigestAuth(KEY, secret=SECRET).lifecycle
    call = policy.stream_call("POST", "https://example.com/upload", None)
    assert call.wants_length(422, "90") is call.wants_body(422, {"content-length": "90"}) is False


def test_redirect_decisions_sign_or_strip_or_refuse() -> None:
    """redirect(): other origin raises RedirectError; same-origin 307 is re-signed for the target; 303 is stripped."""
    call = _call()
    call.hold()
    first = call.sign()
    with pytest.raises(hba.RedirectError):
        call.redirect(302, "https://poloniex.com/tradingApi", "https://evil.example/steal")
    signed = call.redirect(307, "https://poloniex.com/tradingApi", "https://poloniex.com/v2")
    assert signed.action is Action.FOLLOW_SIGNED
    assert signed.signed is not None
    assert signed.signed.nonce != first.nonce
    assert signed.signed.url == "https://poloniex.com/v2"
    stripped = call.redirect(303, "https://poloniex.com/tradingApi", "https://poloniex.com/done")
    assert stripped.action is Action.FOLLOW_STRIPPED
    assert stripped.strip == {"key", "sign"}
    call.release()


def test_release_failure_of_a_cross_process_lock_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    """A source whose release fails (Redis gone) loses no response: the failure is logged, the lease is free."""

    class Flaky:
        scope = ("flaky", 1)
        interprocess = True
        value = 0

        def __call__(self) -> int:
            self.value += 1
            return self.value

        def raise_floor(self, value: int) -> None:
            """Not needed here."""

        def acquire(self, timeout: float | None) -> None:
            """Always works."""

        def release(self) -> None:
            raise ConnectionError("redis went away")

    call = hba.Poloniex(KEY, SECRET, nonce=Flaky()).lifecycle.call("POST", "https://poloniex.com/t", None, "a=1")
    call.hold()
    call.sign()
    with caplog.at_level(logging.WARNING, logger="hmac_body_auth"):
        call.release()
    assert "expires by itself" in caplog.text
    assert call.policy.lease is not None
    assert call.policy.lease.holder is None


def test_bad_input_takes_no_nonce_and_no_lease() -> None:
    """A body the scheme refuses raises BodyError before any nonce is allocated or lease taken."""
    calls = 0

    def nonce() -> int:
        nonlocal calls
        calls += 1
        return calls

    auth = hba.Poloniex(KEY, SECRET, nonce=nonce)
    with pytest.raises(hba.BodyError):
        auth.lifecycle.call("POST", "https://poloniex.com/t", "application/json", b"{}")
    assert calls == 0
    assert auth.lifecycle.lease is not None
    assert auth.lifecycle.lease.holder is None


def test_hold_now_takes_a_free_lease_and_declines_a_busy_one() -> None:
    """hold_now() takes a free in-process lease as hold_async() would; a busy lease is left to hold_async()."""
    first, second = _call(), _call()
    assert first.hold_now()
    assert first.holding
    assert not second.hold_now()  # the lease is first's: nothing taken, the caller must wait
    assert not second.holding
    assert first.hold_now()  # holding already: nothing more to take
    first.release()
    assert second.hold_now()
    second.release()
    unordered = _call(ordered=False)
    assert unordered.hold_now()
    assert not unordered.holding


def test_in_process_says_when_nothing_but_the_lease_can_wait(tmp_path: Any) -> None:
    """Policy.in_process: an in-process nonce source (or none) never waits; file, Redis and async sources may."""
    assert hba.Poloniex(KEY, SECRET).lifecycle.in_process
    assert hba.BodyDigestAuth(KEY, secret=SECRET).lifecycle.in_process
    assert hba.Poloniex(KEY, SECRET, nonce=lambda: 1).lifecycle.in_process
    assert not hba.Poloniex(KEY, SECRET, nonce=hba.FileNonce(tmp_path / "n")).lifecycle.in_process
    assert not hba.Poloniex(KEY, SECRET, nonce=hba.RedisNonce("redis://127.0.0.1:1/0", name="t")).lifecycle.in_process

    class Fetched:
        def __call__(self) -> int:
            return 1

        async def next_async(self) -> int:
            return 2

    assert not hba.Poloniex(KEY, SECRET, nonce=Fetched()).lifecycle.in_process

    def counted() -> int:
        return 1

    async def raise_floor_async(value: int) -> None:
        """A floor kept elsewhere (after_async awaits it)."""

    counted.raise_floor_async = raise_floor_async  # type: ignore[attr-defined]
    # Found on the object, as after_async finds it.
    assert not hba.Poloniex(KEY, SECRET, nonce=counted).lifecycle.in_process


@pytest.mark.parametrize("replaced", ["next_async", "raise_floor_async", "interprocess"])
def test_a_clock_nonce_with_a_member_replaced_on_it_is_looked_up_in_full(replaced: str) -> None:
    """A ClockNonce whose asyncio API or interprocess flag is replaced on the object is not taken for the plain one."""
    plain = hba.ClockNonce()
    facts = hba.Poloniex(KEY, SECRET, nonce=plain).lifecycle
    assert (facts.source, facts.interprocess, facts.in_process) == (plain, False, True)

    async def next_async() -> int:
        return 5

    async def raise_floor_async(value: int) -> None:
        """A floor kept elsewhere."""

    source = hba.ClockNonce()
    setattr(source, replaced, {"next_async": next_async, "raise_floor_async": raise_floor_async}.get(replaced, True))
    policy = hba.Poloniex(KEY, SECRET, nonce=source).lifecycle
    assert not policy.in_process
    assert policy.source is source
    assert policy.interprocess is (replaced == "interprocess")


def test_a_plain_clock_nonce_takes_the_known_facts() -> None:
    """A ClockNonce as its constructor (or shared()) left it is known without lookups; an altered one is not."""
    from hmac_body_auth.nonces import _unaltered_clock

    assert _unaltered_clock(hba.ClockNonce())
    assert _unaltered_clock(hba.ClockNonce(unit="ms"))
    assert _unaltered_clock(hba.ClockNonce.shared("test-known-facts"))
    extra = hba.ClockNonce()
    extra.note = "added"  # type: ignore[attr-defined]
    assert not _unaltered_clock(extra)


def test_a_clock_nonce_without_its_scope_is_not_ordered() -> None:
    """A ClockNonce whose scope was deleted is looked up in full: not an ordered source, as isinstance says."""
    source = hba.ClockNonce()
    del source.scope
    policy = hba.Poloniex(KEY, SECRET, nonce=source).lifecycle
    assert policy.source is None
    assert not isinstance(source, hba.OrderedNonceSource)


def test_clock_nonce_interprocess_patched_on_the_class_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    """ClockNonce.interprocess patched on the class is read as the general path reads it, through the object."""
    monkeypatch.setattr(hba.ClockNonce, "interprocess", True)
    policy = hba.Poloniex(KEY, SECRET, nonce=hba.ClockNonce()).lifecycle
    assert policy.interprocess
    assert not policy.in_process


def test_every_auth_of_a_preset_has_a_scheme_of_its_own() -> None:
    """Two auths of one preset get equal, separate schemes (one's scheme changed leaves the other's alone)."""
    first, second = hba.Poloniex(KEY, SECRET), hba.Poloniex(KEY, SECRET)
    assert first.scheme is not second.scheme
    assert type(first.scheme) is type(second.scheme)
    for name in ("key_header", "signature_header", "nonce_field", "header_names"):
        assert getattr(first.scheme, name) == getattr(second.scheme, name)
    first.scheme.nonce_field = "other"  # type: ignore[misc]
    assert second.scheme.nonce_field == "nonce"  # type: ignore[attr-defined]


def test_interprocess_source_is_never_held_now(tmp_path: Any) -> None:
    """A source with a cross-process lock (FileNonce) is held through hold_async() only: hold_now() takes nothing."""
    call = hba.Poloniex(KEY, SECRET, nonce=hba.FileNonce(tmp_path / "n")).lifecycle.call(
        "POST", "https://poloniex.com/t", None, "a=1"
    )
    assert not call.hold_now()
    assert not call.holding


def test_a_scheme_subclass_headers_are_on_every_body() -> None:
    """A BodyDigestScheme subclass's headers() is used for a small body as for a large one."""
    from hmac_body_auth._core import BodyDigestScheme

    class Versioned(BodyDigestScheme):
        def headers(self, key: str | None, signature: str) -> dict[str, str]:
            return {**super().headers(key, signature), "X-Api-Version": "2"}

    scheme = Versioned(key_header="Key", signature_header="Sign", nonce_field="nonce")
    auth = hba.HmacAuth(scheme, key=KEY, secret=SECRET, nonce=lambda: 7)
    for body in (b"a=1", b"a=" + b"1" * (2 << 20)):
        signed = auth.lifecycle.call("POST", "https://poloniex.com/t", None, body).sign()
        assert signed.headers["X-Api-Version"] == "2"
        assert set(signed.headers) == {"Key", "Sign", "X-Api-Version"}


# -- begin(): check, hold and sign in one step ------------------------------------------

FIXED_NS = 1_700_000_000_000_000_000

BEGIN_CASES: list[tuple[str, str | None, str | bytes | None]] = [
    ("POST", None, "command=returnBalances"),
    ("post", None, b"command=returnBalances&currencyPair=BTC_ETH"),
    ("PUT", "application/x-www-form-urlencoded", b"a=1"),
    ("POST", "application/x-www-form-urlencoded; charset=utf-8", "a=%C3%A9&b=+"),
    ("POST", None, b"a=1&"),
    ("POST", None, b""),
    ("POST", None, None),
    ("POST", None, "caf\u00e9=1"),
    ("POST", None, "snow=\u2603"),  # not latin-1: a typed error, from both paths
    ("POST", "application/json", b'{"a": 1}'),
    ("POST", None, b"a=1&nonce=5"),
    ("POST", None, b"a=1&%6Eonce=5"),
    ("GET", None, b""),
    ("HEAD", None, None),
    ("POST", None, b"not a form"),
    # A form's Content-Type seen before: the check is skipped only for a body without the field's name or an escape.
    ("POST", "application/x-www-form-urlencoded", b"note=nonce"),
    ("POST", "application/x-www-form-urlencoded", b"nonce=1"),
    ("POST", "application/x-www-form-urlencoded", b"a=1&%6Eonce=2"),
    ("POST", "application/x-www-form-urlencoded", b""),
    ("POST", "text/plain", b"a=1"),
]


def _fixed_auth() -> hba.Poloniex:
    return hba.Poloniex(KEY, SECRET, nonce=hba.ClockNonce(clock=lambda: FIXED_NS))


def _outcome(step: Any) -> Any:
    try:
        call, signed = step()
    except Exception as exc:  # the error is part of the outcome
        return type(exc), str(exc)
    try:
        return signed, call.holding, call.out
    finally:
        call.release()


@pytest.mark.parametrize(("method", "content_type", "body"), BEGIN_CASES)
def test_begin_is_call_hold_and_sign(method: str, content_type: str | None, body: str | bytes | None) -> None:
    """begin() (one step for the common configuration) gives what call(), hold() and sign() give, errors included."""
    url = "https://poloniex.com/tradingApi"
    fast, general = _fixed_auth().lifecycle, _fixed_auth().lifecycle
    assert fast._plain

    def separate() -> Any:
        call = general.call(method, url, content_type, body)
        call.hold()
        return call, call.sign()

    for _ in range(3):  # the same nonces in turn, too
        assert _outcome(lambda: fast.begin(method, url, content_type, body)) == _outcome(separate)
        assert fast.lease is not None
        assert fast.lease.try_acquire(hold_timeout=1.0) is not None
        fast.lease.release(fast.lease._holder)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["abc", True, 3.5, 7, None, "a b"], ids=repr)
@pytest.mark.parametrize("body", [b"a=1", b"a=1&", b""])
def test_begin_checks_what_a_patched_nonce_source_returns(
    monkeypatch: pytest.MonkeyPatch, value: object, body: bytes
) -> None:
    """ClockNonce.__call__ patched on the class: begin() checks and signs its value as call/hold/sign do, errors too."""
    url = "https://poloniex.com/tradingApi"
    fast, general = _fixed_auth().lifecycle, _fixed_auth().lifecycle
    assert fast._plain
    monkeypatch.setattr(hba.ClockNonce, "__call__", lambda self: value)

    def separate() -> Any:
        call = general.call("POST", url, None, body)
        call.hold()
        return call, call.sign()

    assert _outcome(lambda: fast.begin("POST", url, None, body)) == _outcome(separate)


class _Int(int):
    """An int subclass, as a patched nonce source might return."""


def test_begin_signs_an_int_subclass_nonce_as_sign_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """A nonce of an int subclass goes the checked way, and the signed bytes are the same as sign() makes."""
    url = "https://poloniex.com/tradingApi"
    fast, general = _fixed_auth().lifecycle, _fixed_auth().lifecycle
    monkeypatch.setattr(hba.ClockNonce, "__call__", lambda self: _Int(42))

    def separate() -> Any:
        call = general.call("POST", url, None, b"a=1")
        call.hold()
        return call, call.sign()

    assert _outcome(lambda: fast.begin("POST", url, None, b"a=1")) == _outcome(separate)


def test_begin_ends_the_hold_when_signing_fails() -> None:
    """A nonce source that fails inside begin() leaves the lease free, and the error is a NonceError."""
    readings = iter([FIXED_NS])

    def clock() -> int:
        return next(readings)  # the construction's trial reading, then it fails

    policy = hba.Poloniex(KEY, SECRET, nonce=hba.ClockNonce(clock=clock)).lifecycle
    assert policy._plain
    with pytest.raises(hba.NonceError, match="the nonce source failed: StopIteration"):
        policy.begin("POST", "https://poloniex.com/t", None, "a=1")
    other = policy.call("POST", "https://poloniex.com/t", None, "a=1")
    assert other.hold_now()
    other.release()


def test_begin_now_takes_only_a_free_lease() -> None:
    """begin_now() signs when the lease is free; when it is held, the call comes back checked, unheld, unsigned."""
    policy = _fixed_auth().lifecycle
    first, signed = policy.begin_now("POST", "https://poloniex.com/t", None, "a=1")
    assert signed is not None
    assert first.holding
    second, unsigned = policy.begin_now("POST", "https://poloniex.com/t", None, "a=2")
    assert unsigned is None
    assert not second.holding
    assert second.out.body == b"a=2"
    first.release()
    assert second.hold_now()
    assert second.sign().body.startswith(b"a=2&nonce=")
    second.release()


def test_begin_takes_the_general_path_outside_the_common_configuration() -> None:
    """Pools, pinned origins, clock sync, other sources and other schemes are not _plain; their begin() still signs."""
    pinned = hba.Poloniex(KEY, SECRET, origin="https://poloniex.com").lifecycle
    callable_nonce = hba.Poloniex(KEY, SECRET, nonce=lambda: 7).lifecycle
    pool = hba.KeyPool([hba.Poloniex(KEY, SECRET), hba.Poloniex(KEY + "2", SECRET)]).lifecycle
    for policy in (pinned, callable_nonce, pool):
        assert not policy._plain
        call, signed = policy.begin("POST", "https://poloniex.com/t", None, "a=1")
        try:
            assert signed.body.startswith(b"a=1&nonce=")
            assert call.holding
        finally:
            call.release()
    assert pinned.needs_url
    assert pool.needs_url
    assert not callable_nonce.needs_url
    assert not _fixed_auth().lifecycle.needs_url
    # A scheme that signs the URL (path and query) needs it; so does clock sync.
    from hmac_body_auth.presets.binance import Binance

    binance = Binance(KEY, SECRET).lifecycle
    assert binance.needs_url
    assert not binance._plain


@pytest.mark.parametrize("is_async", [False, True])
def test_a_call_moved_by_a_resigned_hop_resends_to_the_hop(is_async: bool) -> None:
    """After sign(hop URL), a nonce rejection re-signs for the hop's URL (sync and async), not the first URL."""
    import asyncio

    hop = "https://poloniex.com/tradingApi/v2"
    call = _call()
    call.hold()
    call.sign()
    moved = asyncio.run(call.sign_async(hop)) if is_async else call.sign(hop)
    assert moved.url == hop
    # Another client's nonce ahead of ours (the server's last is not this call's own).
    floor = int(moved.nonce or 0) + 1000
    answer = f'{{"error": "Nonce must be greater than {floor}. You provided {moved.nonce}."}}'.encode()
    assert call.check_hop(307, "https://poloniex.com/tradingApi", hop) is Action.FOLLOW_SIGNED
    decision = asyncio.run(call.after_async(200, answer)) if is_async else call.after(200, answer)
    assert decision.action is Action.RESEND
    assert decision.signed is not None
    assert decision.signed.url == hop
    call.release()


@pytest.mark.parametrize("is_async", [False, True])
def test_the_answer_after_a_stripped_hop_decides_nothing(is_async: bool) -> None:
    """Once check_hop said FOLLOW_STRIPPED, even a nonce error's words are DONE: the signed call is not sent again."""
    import asyncio

    call = _call()
    call.hold()
    signed = call.sign()
    assert call.check_hop(302, "https://poloniex.com/tradingApi", "https://poloniex.com/done") is Action.FOLLOW_STRIPPED
    answer = f'{{"error": "Nonce must be greater than {signed.nonce}0. You provided 1."}}'.encode()
    decision = asyncio.run(call.after_async(200, answer)) if is_async else call.after(200, answer)
    assert decision.action is Action.DONE
    call.release()


@pytest.mark.parametrize(
    ("status", "method", "action"),
    [
        (307, "GET", Action.FOLLOW_STRIPPED),
        (307, None, Action.FOLLOW_SIGNED),
        (308, "post", Action.FOLLOW_SIGNED),
        (302, "POST", Action.FOLLOW_STRIPPED),
    ],
)
def test_check_hop_reads_the_method_of_the_request_redirected(status: int, method: str | None, action: Action) -> None:
    """A 307 of the GET a 302 made resends no body (stripped); without a method, the call's own (POST) counts."""
    call = _call()
    assert call.check_hop(status, "https://poloniex.com/a", "https://poloniex.com/b", method=method) is action


@pytest.mark.parametrize("is_async", [False, True])
def test_after_a_transport_resent_the_bytes_nothing_is_resigned(is_async: bool) -> None:
    """resent_bytes=True (urllib3 retried after the bytes may have arrived): a nonce error is DONE, never re-signed."""
    import asyncio

    call = _call()
    call.hold()
    call.sign()
    answer = b'{"error": "Nonce must be greater than 99999999999999999999. You provided 1."}'
    if is_async:
        decision = asyncio.run(call.after_async(200, answer, resent_bytes=True))
    else:
        decision = call.after(200, answer, resent_bytes=True)
    assert decision.action is Action.DONE
    call.release()


def test_only_a_retry_after_the_bytes_may_have_arrived_counts_as_resent() -> None:
    """urllib3's retry history: a status or a read error counts; a failed connect or a redirect does not."""
    from types import SimpleNamespace

    from hmac_body_auth._requests import resent_bytes

    class NewConnectionError(Exception):
        pass

    class ReadTimeoutError(Exception):
        pass

    def response(*entries: Any) -> Any:
        return SimpleNamespace(raw=SimpleNamespace(retries=SimpleNamespace(history=entries)))

    def entry(status: int | None = None, error: Exception | None = None, location: str | None = None) -> Any:
        return SimpleNamespace(status=status, error=error, redirect_location=location)

    assert resent_bytes(response()) is False
    assert resent_bytes(SimpleNamespace(raw=None)) is False
    assert resent_bytes(response(entry(error=NewConnectionError()))) is False
    assert resent_bytes(response(entry(status=302, location="/b"))) is False
    assert resent_bytes(response(entry(status=502))) is True
    assert resent_bytes(response(entry(error=ReadTimeoutError()))) is True
    assert resent_bytes(response(entry(error=NewConnectionError()), entry(status=503))) is True
