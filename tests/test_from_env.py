"""Credentials from the environment: ``Preset.from_env(prefix=None, **kwargs)`` for every preset and generic auth."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from hmac_body_auth import BodyDigestAuth, BodyDigestScheme, ConfigurationError, HmacAuth
from hmac_body_auth.presets import OKX, PRESETS, Binance, Poloniex, preset

from ._presets import KEY, PASSPHRASE, SECRET, takes, verify

DEFAULT_PREFIXES = {
    "binance": "BINANCE",
    "binance-futures": "BINANCE_FUTURES",
    "bitfinex": "BITFINEX",
    "bitget": "BITGET",
    "bitmex": "BITMEX",
    "bitstamp": "BITSTAMP",
    "bitvavo": "BITVAVO",
    "bybit": "BYBIT",
    "coinbase-exchange": "COINBASE_EXCHANGE",
    "gateio": "GATEIO",
    "gemini": "GEMINI",
    "hitbtc": "HITBTC",
    "kraken": "KRAKEN",
    "kucoin": "KUCOIN",
    "mexc": "MEXC",
    "okx": "OKX",
    "poloniex": "POLONIEX",
    "poloniex-v3": "POLONIEX_V3",
}
PASSPHRASE_PRESETS = {"bitget", "coinbase-exchange", "kucoin", "okx"}


def _variables(cls: type[Any], prefix: str) -> dict[str, str]:
    names = {f"{prefix}_API_KEY": KEY, f"{prefix}_API_SECRET": SECRET}
    if takes(cls, "passphrase"):
        names[f"{prefix}_API_PASSPHRASE"] = PASSPHRASE
    return names


def _set(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_every_preset_has_its_documented_default_prefix() -> None:
    """Each preset of the registry names its default prefix; the passphrase presets are the three that take one."""
    assert DEFAULT_PREFIXES.keys() == PRESETS.keys()
    for name, prefix in DEFAULT_PREFIXES.items():
        cls, _ = preset(name)
        assert cls.env_prefix == prefix
        assert takes(cls, "passphrase") is (name in PASSPHRASE_PRESETS)
    assert BodyDigestAuth.env_prefix == "HMAC_BODY_AUTH"
    assert HmacAuth.env_prefix is None


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_from_env_with_the_default_prefix_signs_verifiably(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preset.from_env() reads {PREFIX}_API_KEY/SECRET (and PASSPHRASE) and signs what the verifier accepts."""
    cls, _ = preset(name)
    _set(monkeypatch, _variables(cls, DEFAULT_PREFIXES[name]))
    auth = cls.from_env()
    assert type(auth) is cls
    assert auth.key == KEY
    verdict = verify(name, auth)
    assert verdict.ok, verdict.reason
    assert SECRET not in repr(auth)
    assert PASSPHRASE not in repr(auth)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_from_env_with_a_custom_prefix(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """prefix="MYBOT_X" reads MYBOT_X_API_KEY and friends, not the default variables."""
    cls, _ = preset(name)
    _set(monkeypatch, _variables(cls, "MYBOT_X"))
    for variable in _variables(cls, DEFAULT_PREFIXES[name]):
        monkeypatch.delenv(variable, raising=False)
    assert verify(name, cls.from_env(prefix="MYBOT_X")).ok


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_missing_or_empty_variable_is_named_and_no_value_is_shown(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without one of the variables (or with it empty), from_env names that variable and shows no value."""
    cls, _ = preset(name)
    variables = _variables(cls, "HBA_T")
    for missing in variables:
        for empty in (False, True):
            _set(monkeypatch, variables)
            if empty:
                monkeypatch.setenv(missing, "")
            else:
                monkeypatch.delenv(missing)
            with pytest.raises(ConfigurationError, match=f"{missing} is missing or empty") as caught:
                cls.from_env(prefix="HBA_T")
            message = str(caught.value)
            assert SECRET not in message
            assert PASSPHRASE not in message
            assert KEY not in message
            others = set(variables) - {missing}
            assert not any(f"{other} " in message for other in others)


def test_all_missing_variables_are_named_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing set, the message lists every variable the preset needs."""
    for variable in ("NONE_SET_API_KEY", "NONE_SET_API_SECRET", "NONE_SET_API_PASSPHRASE"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        OKX.from_env(prefix="NONE_SET")
    assert "NONE_SET_API_KEY, NONE_SET_API_SECRET, NONE_SET_API_PASSPHRASE are missing or empty" in str(caught.value)


def test_other_keywords_go_to_the_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keywords other than the credentials are passed on (recv_window, clock, origin)."""
    _set(monkeypatch, _variables(Binance, "BINANCE"))
    auth = Binance.from_env(recv_window=2000, clock=lambda: 1_700_000_000_000_000_000, origin="https://api.binance.com")
    signed = auth.sign("GET", "https://api.binance.com/api/v3/account")
    assert "recvWindow=2000&timestamp=1700000000000&signature=" in signed.url
    with pytest.raises(ConfigurationError, match="nanoseconds"):
        Binance.from_env(clock=lambda: 1_700_000_000_000)


@pytest.mark.parametrize("argument", ["key", "secret", "passphrase"])
def test_credentials_as_keywords_are_refused(argument: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """from_env reads the credentials itself: passing one as a keyword is an error, not a silent override."""
    _set(monkeypatch, _variables(OKX, "OKX"))
    with pytest.raises(ConfigurationError, match=f"reads {argument} from the environment"):
        OKX.from_env(**{argument: "given"})


@pytest.mark.parametrize("prefix", ["", "1BINANCE", "MY-BOT", "MY BOT", "BINANCE_\n", "ÜBER", SECRET, 42])
def test_a_prefix_that_cannot_start_a_variable_name_is_refused_unshown(
    prefix: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prefix that is not the start of an environment variable name is refused without echoing it."""
    with pytest.raises(ConfigurationError, match="prefix must start an environment variable name") as caught:
        Binance.from_env(prefix=prefix)
    if isinstance(prefix, str) and prefix:
        assert prefix not in str(caught.value)


def test_a_bad_value_names_its_variables_but_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret the constructor refuses (a trailing newline) is reported with the variables it came from."""
    bad = SECRET + "\n"
    _set(monkeypatch, {"BINANCE_API_KEY": KEY, "BINANCE_API_SECRET": bad})
    with pytest.raises(ConfigurationError, match="BINANCE_API_SECRET") as caught:
        Binance.from_env()
    assert SECRET not in str(caught.value)
    assert isinstance(caught.value.__cause__, ConfigurationError)


def test_body_digest_auth_and_its_subclasses(monkeypatch: pytest.MonkeyPatch) -> None:
    """BodyDigestAuth reads HMAC_BODY_AUTH_*; a subclass inherits that prefix or sets its own env_prefix."""

    class Inherits(BodyDigestAuth):
        pass

    class Own(BodyDigestAuth):
        env_prefix: ClassVar[str | None] = "MY_API"

    _set(monkeypatch, {"HMAC_BODY_AUTH_API_KEY": KEY, "HMAC_BODY_AUTH_API_SECRET": SECRET})
    _set(monkeypatch, {"MY_API_API_KEY": "OTHER-KEY", "MY_API_API_SECRET": SECRET})
    plain = BodyDigestAuth.from_env(key_header="X-Key", algorithm="sha256")
    assert (type(plain), plain.key, plain.signer.algorithm) == (BodyDigestAuth, KEY, "sha256")
    assert plain.sign("POST", "http://localhost/", body=b"a=1").headers["X-Key"] == KEY
    assert type(Inherits.from_env()) is Inherits
    own = Own.from_env()
    assert (type(own), own.key) == (Own, "OTHER-KEY")
    assert verify("poloniex", Poloniex.from_env(prefix="HMAC_BODY_AUTH")).ok


def test_hmac_auth_needs_a_prefix_and_takes_the_scheme_as_a_keyword(monkeypatch: pytest.MonkeyPatch) -> None:
    """HmacAuth has no default prefix; with one, the scheme and every option go to the constructor."""
    with pytest.raises(ConfigurationError, match=r"HmacAuth.from_env needs prefix="):
        HmacAuth.from_env()
    _set(monkeypatch, {"GENERIC_API_KEY": KEY, "GENERIC_API_SECRET": SECRET})
    scheme = BodyDigestScheme(key_header="Key", signature_header="Sign", nonce_field="nonce")
    auth = HmacAuth.from_env(prefix="GENERIC", scheme=scheme, algorithm="sha512")
    assert (auth.key, auth.scheme) == (KEY, scheme)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_a_missing_key_is_named_as_the_key(name: str) -> None:
    """Preset(None, None) says the key is missing, not that the secret has the wrong type."""
    cls, _ = preset(name)
    options = {"passphrase": PASSPHRASE} if takes(cls, "passphrase") else {}
    for secret in (None, SECRET):
        with pytest.raises(ConfigurationError, match="key is missing"):
            cls(None, secret, **options)
