"""One clock unit: every ``clock=`` in the package reads int nanoseconds since the epoch, checked at construction."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hmac_body_auth as hba
from hmac_body_auth import BodyDigestScheme, ClockNonce, ConfigurationError, FileNonce, HmacAuth
from hmac_body_auth._redis import RedisNonce
from hmac_body_auth.presets import (
    PRESETS,
    Binance,
    BinanceVerifier,
    HitBTC,
    HitBTCVerifier,
    Kraken,
    preset,
)
from hmac_body_auth.verify import ReplayGuard, Verdict

from ._clocks import NOW_NS
from ._presets import KEY, PASSPHRASE, SECRET, takes, verify

#: A reading with every digit distinct below the millisecond, so a wrong conversion shows.
FAKE_NS = 1_700_000_000_123_456_789
FAKE_MS = FAKE_NS // 1_000_000

#: The presets whose recipe signs a timestamp (derived from the registry, so a new preset is covered).
TIMESTAMP_PRESETS = sorted(name for name in PRESETS if preset(name)[0].recipe.timestamp is not None)
#: The presets that sign a nonce and no timestamp, and so take no clock.
NONCE_ONLY_PRESETS = sorted(
    name for name in PRESETS if preset(name)[0].recipe.timestamp is None and not takes(preset(name)[0], "clock")
)
#: The verifiers that take a clock (those that check a receive window themselves).
CLOCK_VERIFIERS = {
    verifier_name: preset(name)[1] for name, (_, _, verifier_name) in PRESETS.items() if takes(preset(name)[1], "clock")
}


class _Stub:
    """A verifier accepting everything with a fixed verdict."""

    carries_nonce = False
    carries_timestamp = True

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    def verify(self, method: str, url: str, headers: Any, body: bytes) -> Verdict:
        return self.verdict


def _preset_auth(name: str, clock: Callable[[], Any]) -> Any:
    cls, _ = preset(name)
    options: dict[str, Any] = {"clock": clock}
    if takes(cls, "passphrase"):
        options["passphrase"] = PASSPHRASE
    return cls(KEY, SECRET, **options)


def _fake_plus(offset_ms: int) -> Callable[[], int]:
    """The fake clock moved by ``offset_ms``."""
    return lambda: FAKE_NS + offset_ms * 1_000_000


def _every_clock(tmp_path: Path) -> dict[str, Callable[[Callable[[], Any]], Any]]:
    """Build each object of the package that takes ``clock=``, given the clock."""
    targets: dict[str, Callable[[Callable[[], Any]], Any]] = {
        "HmacAuth": lambda c: HmacAuth(
            BodyDigestScheme(key_header="Key", signature_header="Sign", nonce_field="nonce"),
            key=KEY,
            secret=SECRET,
            clock=c,
        ),
        "ClockNonce": lambda c: ClockNonce(unit="ms", clock=c),
        "FileNonce": lambda c: FileNonce(tmp_path / "nonce", unit="ms", clock=c),
        # The clock is checked before any connection is made: nothing listens on port 1.
        "RedisNonce": lambda c: RedisNonce("redis://127.0.0.1:1/0", name="clock-check", clock=c),
        "ReplayGuard": lambda c: ReplayGuard(_Stub(Verdict(True, "", KEY)), clock=c),
    }
    for verifier_name, verifier_cls in CLOCK_VERIFIERS.items():
        targets[verifier_name] = functools.partial(lambda cls, c: cls({KEY: SECRET}, clock=c), verifier_cls)
    for name in TIMESTAMP_PRESETS:
        targets[name] = functools.partial(_preset_auth, name)
    return targets


TARGETS = sorted(_every_clock(Path("unused")))

WRONG_UNITS = [
    pytest.param(time.time, "float", id="seconds-float"),
    pytest.param(lambda: time.time_ns() // 1_000_000_000, "seconds", id="seconds-int"),
    pytest.param(lambda: time.time_ns() // 1_000_000, "milliseconds", id="milliseconds"),
    pytest.param(lambda: time.time_ns() // 1_000, "microseconds", id="microseconds"),
    pytest.param(lambda: 10**21, "too large", id="too-large"),
    pytest.param(lambda: -1, "negative", id="negative"),
    pytest.param(lambda: True, "bool", id="bool"),
    pytest.param(lambda: str(time.time_ns()), "str", id="str"),
]


def test_every_clock_argument_of_the_package_is_covered() -> None:
    """A preset takes clock= exactly when its recipe signs a timestamp, and every clock= is a target here."""
    with_clock = {name for name in PRESETS if takes(preset(name)[0], "clock")}
    assert with_clock == set(TIMESTAMP_PRESETS)
    assert {"BinanceVerifier", "HitBTCVerifier"} <= CLOCK_VERIFIERS.keys()
    assert set(TARGETS) >= {*TIMESTAMP_PRESETS, *CLOCK_VERIFIERS}
    for cls in (HmacAuth, ClockNonce, FileNonce, RedisNonce, ReplayGuard):
        assert "clock" in inspect.signature(cls).parameters


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("clock", "looks_like"), WRONG_UNITS)
def test_a_clock_in_another_unit_is_refused(
    tmp_path: Path, target: str, clock: Callable[[], Any], looks_like: str
) -> None:
    """A clock of seconds (float or int), ms, µs, or a non-int reading raises ConfigurationError naming nanoseconds."""
    with pytest.raises(ConfigurationError, match="nanoseconds since the Unix epoch") as caught:
        _every_clock(tmp_path)[target](clock)
    assert looks_like in str(caught.value)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("clock", [time.time_ns, lambda: FAKE_NS], ids=["time_ns", "fake"])
def test_a_nanosecond_clock_is_accepted(tmp_path: Path, target: str, clock: Callable[[], int]) -> None:
    """time.time_ns and a fake nanosecond clock are accepted everywhere."""
    built = _every_clock(tmp_path)[target](clock)
    close = getattr(built, "close", None)
    if close is not None:
        close()


@pytest.mark.parametrize("target", TARGETS)
def test_a_clock_that_is_not_callable_or_raises_is_refused(tmp_path: Path, target: str) -> None:
    """A number instead of a callable, or a clock that raises, is a ConfigurationError at construction."""
    build = _every_clock(tmp_path)[target]
    with pytest.raises(ConfigurationError, match="zero-argument callable"):
        build(FAKE_NS)  # type: ignore[arg-type]

    def broken() -> int:
        raise OSError("no clock")

    with pytest.raises(ConfigurationError, match="raised OSError") as caught:
        build(broken)
    assert isinstance(caught.value.__cause__, OSError)


def test_the_message_says_which_unit_a_millisecond_clock_looks_like() -> None:
    """The message names the expected unit, the reading and the unit it looks like."""
    with pytest.raises(ConfigurationError) as caught:
        Binance(KEY, SECRET, clock=lambda: FAKE_MS)
    message = str(caught.value)
    assert "nanoseconds" in message
    assert "time.time_ns" in message
    assert f"{FAKE_MS} looks like milliseconds" in message
    assert SECRET not in message


@pytest.mark.parametrize("name", TIMESTAMP_PRESETS)
def test_each_timestamp_preset_signs_the_fake_clock_in_its_own_unit(name: str) -> None:
    """With a fake ns clock, the preset's verifier reads the timestamp in ms (whole seconds for the seconds APIs)."""
    verdict = verify(name, _preset_auth(name, lambda: FAKE_NS))
    assert verdict.ok, verdict.reason
    recipe = preset(name)[0].recipe
    written = recipe.timestamp
    # An expiry (BitMEX's api-expires) is the reading plus the default lead; a timestamp is the reading.
    defaults = {option.name: option.default for option in recipe.options}
    ahead = recipe.timestamp_ahead(defaults) if recipe.timestamp_ahead is not None else 0
    # What the API's format can carry: whole seconds for the seconds APIs, else the millisecond.
    expected = written.parse(written.format(FAKE_MS + ahead))
    assert expected - ahead in (FAKE_MS, FAKE_MS // 1000 * 1000, (FAKE_MS + 500) // 1000 * 1000)
    assert verdict.timestamp_ms == expected


def test_binance_signs_the_timestamp_in_milliseconds() -> None:
    """Binance with a fake ns clock sends timestamp=<ms>, not ns."""
    signed = Binance(KEY, SECRET, clock=lambda: FAKE_NS).sign("GET", "https://api.binance.com/api/v3/account")
    assert f"timestamp={FAKE_MS}&signature=" in signed.url


def test_binance_with_time_ns_signs_the_current_millisecond() -> None:
    """The default and time.time_ns sign today's time in ms (13 digits), as Binance expects."""
    before = time.time_ns() // 1_000_000
    for auth in (Binance(KEY, SECRET), Binance(KEY, SECRET, clock=time.time_ns)):
        url = auth.sign("GET", "https://api.binance.com/api/v3/account").url
        stamp = int(url.split("timestamp=")[1].split("&")[0])
        assert before <= stamp <= time.time_ns() // 1_000_000


@pytest.mark.parametrize(("unit", "divisor"), [("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1)])
def test_clock_nonce_converts_the_nanosecond_clock_to_its_unit(unit: Any, divisor: int, tmp_path: Path) -> None:
    """ClockNonce and FileNonce give the fake ns clock in their unit (ms: the ms of the reading)."""
    assert ClockNonce(unit=unit, clock=lambda: FAKE_NS)() == FAKE_NS // divisor
    source = FileNonce(tmp_path / "n", unit=unit, clock=lambda: FAKE_NS)
    try:
        assert source() == FAKE_NS // divisor
    finally:
        source.close()


def test_clock_nonce_with_time_ns_gives_milliseconds() -> None:
    """ClockNonce(unit="ms", clock=time.time_ns) gives today's time in ms, not a thousandth of it."""
    before = time.time_ns() // 1_000_000
    assert before <= hba.ClockNonce(unit="ms", clock=time.time_ns)() <= time.time_ns() // 1_000_000


@pytest.mark.parametrize("name", NONCE_ONLY_PRESETS)
def test_nonce_presets_take_no_clock_and_say_where_it_goes(name: str) -> None:
    """Kraken, Bitfinex and Gemini sign no timestamp: clock= is refused, pointing at the nonce source."""
    cls, _ = preset(name)
    assert not takes(cls, "clock")
    with pytest.raises(ConfigurationError, match=r"no clock=.*nonce=ClockNonce\(unit=\.\.\., clock=\.\.\.\)"):
        cls(KEY, SECRET, clock=lambda: FAKE_NS)


def test_a_clock_for_kraken_goes_to_its_nonce_source() -> None:
    """Kraken with nonce=ClockNonce(unit="ms", clock=fake) signs the fake clock's milliseconds as the nonce."""
    auth = Kraken(KEY, SECRET, nonce=ClockNonce(unit="ms", clock=lambda: FAKE_NS))
    signed = auth.sign("POST", "https://api.kraken.com/0/private/Balance")
    assert signed.body == b"nonce=%d" % FAKE_MS
    assert verify("kraken", auth).ok


def test_verifier_windows_use_the_nanosecond_clock() -> None:
    """BinanceVerifier, HitBTCVerifier and ReplayGuard compare the ms timestamp with their ns clock."""
    url = "https://api.binance.com/api/v3/account"
    signed = Binance(KEY, SECRET, clock=lambda: FAKE_NS, recv_window=5000).sign("GET", url)
    for offset_ms, ok in [(0, True), (5000, True), (5001, False), (-1000, False), (-999, True)]:
        verifier = BinanceVerifier({KEY: SECRET}, clock=_fake_plus(offset_ms))
        assert verifier.verify("GET", signed.url, signed.headers, b"").ok is ok
    hit = HitBTC(KEY, SECRET, window=5000, clock=lambda: FAKE_NS).sign("GET", "https://api.hitbtc.com/x")
    for offset_ms, ok in [(5000, True), (5001, False)]:
        hv = HitBTCVerifier({KEY: SECRET}, clock=_fake_plus(offset_ms))
        assert hv.verify("GET", "https://api.hitbtc.com/x", hit.headers, b"").ok is ok
    stamped = _Stub(Verdict(True, "", KEY, None, FAKE_MS))
    assert ReplayGuard(stamped, clock=lambda: FAKE_NS + 30_000_000_000).verify("GET", url, {}, b"").ok
    late = ReplayGuard(stamped, clock=lambda: FAKE_NS + 30_001_000_000).verify("GET", url, {}, b"")
    assert late.reason == "timestamp outside the window"


def test_the_fake_reading_of_the_test_helpers_is_plausible() -> None:
    """NOW_NS, the reading tests give to the construction check, passes it."""
    assert ClockNonce(unit="ns", clock=lambda: NOW_NS)() == NOW_NS
