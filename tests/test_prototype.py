"""``Name(key, secret)`` after the first of its class: the class's configuration reused, only the credentials bound."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

import hmac_body_auth as hba
from hmac_body_auth import _lifecycle, recipe
from hmac_body_auth.presets import PRESETS, preset

from ._presets import KEY, PASSPHRASE, SECRET, takes, verify

NAMES = sorted(PRESETS)
OTHER_KEY = "HBA-TEST-KEY-0002"


def _options(cls: type[Any]) -> dict[str, Any]:
    return {"passphrase": PASSPHRASE} if takes(cls, "passphrase") else {}


def _build(name: str, key: str = KEY, secret: str = SECRET) -> Any:
    cls, _ = preset(name)
    return cls(key, secret, **_options(cls))


@pytest.fixture
def no_prototypes() -> Iterator[None]:
    """Every construction in the test starts without the prototypes other tests left."""
    saved = dict(recipe._PROTOTYPES)
    recipe._PROTOTYPES.clear()
    try:
        yield
    finally:
        recipe._PROTOTYPES.clear()
        recipe._PROTOTYPES.update(saved)


def _configuration(auth: Any) -> dict[str, Any]:
    """The policy's state, its credentials and per-key objects replaced by what they are."""
    policy = auth.lifecycle
    state = dict(vars(policy))
    for name in ("signer", "key", "nonce", "lease", "source", "scheme"):
        state.pop(name)
    state["scheme"] = (type(policy.scheme), policy.scheme.header_names)
    state["nonce kind"] = type(policy.nonce).__name__
    state["source is nonce"] = policy.source is policy.nonce and policy.source is not None
    state["lease"] = policy.lease is not None
    return state


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_builds_from_its_prototype(name: str, no_prototypes: None) -> None:
    """Each preset's second auth comes from the prototype and has the configuration of one built in full."""
    first = _build(name)
    assert type(first) in recipe._PROTOTYPES, "Name(key, secret) leaves a prototype"
    second = _build(name, OTHER_KEY)
    recipe._PROTOTYPES.clear()
    full = _build(name, OTHER_KEY)  # built in full: no prototype
    assert _configuration(second) == _configuration(full)
    assert vars(second).keys() == vars(full).keys()
    assert second.key == full.key == OTHER_KEY
    assert second.lifecycle.key == OTHER_KEY
    assert second.lifecycle.signer is second.signer
    assert second.lifecycle.scheme is second.scheme
    assert second.scheme is not first.scheme, "each auth has a scheme of its own"
    assert second.signer.sign(b"check") == full.signer.sign(b"check")
    if isinstance(full.scheme, recipe.RecipeScheme):
        slots = recipe.RecipeScheme.__slots__
        assert {s: getattr(second.scheme, s) for s in slots} == {s: getattr(full.scheme, s) for s in slots}
        assert second.scheme.options is not first.scheme.options
    # The per-key objects are the key's: the same as an auth built in full for it finds.
    assert second.lifecycle.nonce is full.lifecycle.nonce
    assert second.lifecycle.lease is full.lifecycle.lease
    if first.lifecycle.lease is not None:
        assert second.lifecycle.lease is not first.lifecycle.lease, "another key, another lease"
    assert repr(second) == repr(full)


@pytest.mark.parametrize("name", NAMES)
def test_an_auth_from_the_prototype_signs_what_its_verifier_accepts(name: str, no_prototypes: None) -> None:
    """An auth built from the prototype signs the preset's sample request as its verifier checks it."""
    _build(name, OTHER_KEY)
    auth = _build(name)
    assert type(auth) in recipe._PROTOTYPES
    verdict = verify(name, auth)
    assert verdict.ok, verdict.reason


def test_the_prototype_keeps_no_key_alive(no_prototypes: None) -> None:
    """The first auth's nonce source and lease go away with it, though its class's prototype stays."""
    first = hba.Poloniex("HBA-ONLY-KEY-0001", SECRET)
    source = weakref.ref(first.lifecycle.nonce)
    lease = weakref.ref(first.lifecycle.lease)
    hba.Poloniex(OTHER_KEY, SECRET)  # built from the prototype
    del first
    gc.collect()
    assert hba.Poloniex in recipe._PROTOTYPES
    assert source() is None
    assert lease() is None
    template = recipe._PROTOTYPES[hba.Poloniex].template
    assert all(template._state[name] is None for name in _lifecycle.PolicyTemplate._PER_AUTH)


@pytest.mark.parametrize(
    ("name", "key", "secret", "options", "message"),
    [
        ("poloniex", "bad key\n", SECRET, {}, "visible ASCII"),
        ("poloniex", KEY, SECRET + "\n", {}, "whitespace"),
        ("poloniex", KEY, "", {}, "empty"),
        ("kraken", KEY, "not base64!", {}, "base64"),
        ("hitbtc", "has:colon", SECRET, {}, ":"),
        ("okx", KEY, SECRET, {"passphrase": ""}, "passphrase"),
        ("okx", KEY, SECRET, {"passphrase": 5}, "passphrase"),
    ],
)
def test_bad_credentials_are_refused_the_same_after_a_prototype(
    name: str, key: str, secret: str, options: dict[str, Any], message: str, no_prototypes: None
) -> None:
    """A bad key, secret or passphrase raises the same error with and without a prototype, echoing none of them."""
    cls, _ = preset(name)
    with pytest.raises(hba.ConfigurationError) as full:
        cls(key, secret, **options)
    _build(name)
    assert type(_build(name)) in recipe._PROTOTYPES
    with pytest.raises(hba.ConfigurationError) as fast:
        cls(key, secret, **options)
    assert str(fast.value) == str(full.value)
    assert message in str(fast.value)
    for given in (key, secret, options.get("passphrase")):
        if isinstance(given, str) and len(given) > 3:
            assert given.strip() not in str(fast.value)


def test_missing_or_unexpected_passphrase_is_a_type_error_after_a_prototype(no_prototypes: None) -> None:
    """Passphrase presets still require one, and the others still refuse one, once a prototype exists."""
    okx, _ = preset("okx")
    okx(KEY, SECRET, passphrase=PASSPHRASE)
    hba.Poloniex(KEY, SECRET)
    prototype = recipe._PROTOTYPES[okx]
    assert prototype.scheme is not None
    assert prototype.scheme._passphrase is None, "the prototype keeps no passphrase"
    assert okx(KEY, SECRET, passphrase="another-passphrase").scheme._passphrase == "another-passphrase"
    with pytest.raises(TypeError, match="passphrase"):
        okx(KEY, SECRET)
    with pytest.raises(TypeError, match="passphrase"):
        hba.Poloniex(KEY, SECRET, passphrase=PASSPHRASE)


def test_options_are_always_built_in_full(no_prototypes: None) -> None:
    """An auth with an option (here a nonce source) is built from its arguments, not from the prototype."""
    hba.Poloniex(KEY, SECRET)
    source = hba.ClockNonce(unit="ms")
    auth = hba.Poloniex(OTHER_KEY, SECRET, nonce=source)
    assert auth.lifecycle.nonce is source
    assert auth.lifecycle.lease is not hba.Poloniex(OTHER_KEY, SECRET).lifecycle.lease


def test_a_subclass_with_its_own_init_runs_it_every_time(no_prototypes: None) -> None:
    """A preset subclass whose constructor does more is never built from a prototype."""
    built: list[str] = []

    class Counted(hba.Poloniex):
        def __init__(self, key: str, secret: str) -> None:
            built.append(key)
            super().__init__(key, secret)

    for key in (KEY, OTHER_KEY, KEY):
        assert Counted(key, SECRET).key == key
    assert built == [KEY, OTHER_KEY, KEY]
    assert Counted not in recipe._PROTOTYPES


def test_statuses_changed_on_the_class_are_read(monkeypatch: pytest.MonkeyPatch, no_prototypes: None) -> None:
    """A subclass's nonce-error statuses, or the class's changed after its prototype, configure the next auth."""

    class Narrow(hba.Poloniex):
        nonce_error_statuses = frozenset({422})

    hba.Poloniex(KEY, SECRET)
    for _ in range(2):
        assert Narrow(OTHER_KEY, SECRET).lifecycle.nonce_error_statuses == frozenset({422})
    assert hba.Poloniex(OTHER_KEY, SECRET).lifecycle.nonce_error_statuses != frozenset({422})
    monkeypatch.setattr(hba.Poloniex, "nonce_error_statuses", frozenset({418}))
    assert hba.Poloniex(OTHER_KEY, SECRET).lifecycle.nonce_error_statuses == frozenset({418})


def test_a_nonce_function_given_an_attribute_is_looked_at_again(
    monkeypatch: pytest.MonkeyPatch, no_prototypes: None
) -> None:
    """A default nonce function that gained an asyncio API since the prototype: the policy is built in full."""
    from hmac_body_auth.presets import deribit

    deribit_auth, _ = preset("deribit")
    deribit_auth(KEY, SECRET)

    async def next_async() -> int:
        return 1

    monkeypatch.setattr(deribit.deribit_nonce, "next_async", next_async, raising=False)
    auth = deribit_auth(OTHER_KEY, SECRET)
    assert auth.lifecycle._next_async is next_async
    assert auth.lifecycle.in_process is False


def test_cryptocom_refuses_an_id_with_envelope_fill() -> None:
    """envelope="fill" takes the request id from the body: an id= with it is refused, by the auth and the verifier."""
    auth_cls, verifier_cls = preset("cryptocom")
    with pytest.raises(hba.ConfigurationError, match="give no id="):
        auth_cls(KEY, SECRET, envelope="fill", id=7)
    with pytest.raises(hba.ConfigurationError, match="give no id="):
        verifier_cls({KEY: SECRET}, envelope="fill", id=7)
    assert auth_cls(KEY, SECRET, envelope="fill").scheme.options["envelope"] == "fill"
    assert auth_cls(KEY, SECRET, id=7).scheme.options["id"] == 7


def _fixed_ns() -> int:
    return 1_600_000_000_000_000_000  # 2020-09-13T12:26:40Z


@pytest.mark.parametrize("patched_first", [True, False], ids=["prototype-under-patch", "patch-after-prototype"])
def test_the_clock_is_read_when_each_auth_is_built(
    patched_first: bool, monkeypatch: pytest.MonkeyPatch, no_prototypes: None
) -> None:
    """An auth from the prototype signs with ``time.time_ns`` as it is when it is built, as one built in full does."""
    import time

    binance, _ = preset("binance")
    url = "https://api.binance.com/api/v3/account"
    if patched_first:
        with monkeypatch.context() as patch:
            patch.setattr(time, "time_ns", _fixed_ns)
            binance(KEY, SECRET)  # the prototype, built while the clock is fixed
        auth = binance(OTHER_KEY, SECRET)
        assert auth.lifecycle.local_clock is time.time_ns
        assert "timestamp=1600000000000" not in auth.sign("GET", url).url
    else:
        binance(KEY, SECRET)
        monkeypatch.setattr(time, "time_ns", _fixed_ns)
        auth = binance(OTHER_KEY, SECRET)
        assert auth.lifecycle.local_clock is _fixed_ns
        assert "timestamp=1600000000000" in auth.sign("GET", url).url


def test_a_clock_sync_the_recipe_gives_now_is_the_one_used(
    monkeypatch: pytest.MonkeyPatch, no_prototypes: None
) -> None:
    """The recipe's clock sync is asked for each auth: a different answer than the prototype's builds in full."""
    from hmac_body_auth.presets import okx

    okx_auth, _ = preset("okx")
    assert okx_auth(KEY, SECRET, passphrase=PASSPHRASE).lifecycle.clock_sync is okx.OKX_CLOCK_SYNC
    monkeypatch.setattr(okx, "OKX_CLOCK_SYNC", None)
    auth = okx_auth(OTHER_KEY, SECRET, passphrase=PASSPHRASE)
    assert auth.lifecycle.clock_sync is None
    assert (
        auth.lifecycle.answer_statuses
        == okx_auth(OTHER_KEY, SECRET, passphrase=PASSPHRASE, clock_sync=False).lifecycle.answer_statuses
    )


def test_a_subclass_lease_scope_reads_what_init_set(no_prototypes: None) -> None:
    """A subclass whose ``_lease_scope`` reads the auth's key shares its lease per account, from the prototype too."""
    kraken, _ = preset("kraken")

    class PerAccount(kraken):  # type: ignore[misc, valid-type]
        def _lease_scope(self, key: str | None, nonce: Any) -> Any:
            return ("account", self._key.split("-")[0], self._signer.algorithm)

    first = PerAccount("ACME-1", SECRET)
    second = PerAccount("ACME-2", SECRET)
    assert PerAccount in recipe._PROTOTYPES
    assert second.lifecycle.lease is first.lifecycle.lease
    assert PerAccount("OTHER-1", SECRET).lifecycle.lease is not first.lifecycle.lease
