"""What every preset of the registry must do, whatever its API: one kit, so a new preset is covered by registering it.

Each preset's own test file holds what is particular to its API (its vectors, its
answers, its options); this file holds what all of them share: every kind of call
(``tests/_presets.py`` CALLS) through every client against the preset's verifying
server, concurrent calls, tamper twins, the wrong key or secret, fixed options, and
secrets kept out of ``repr`` and pickles.
"""

from __future__ import annotations

import copy
import pickle
import re
from typing import Any

import pytest

from hmac_body_auth import ConfigurationError
from hmac_body_auth.presets import PRESETS, entry, preset
from hmac_body_auth.testing import SchemeServer

from .._presets import ASYNC_CLIENTS, CALLS, CLIENTS, KEY, PASSPHRASE, SAMPLES, SECRET, Request, send

NAMES = sorted(PRESETS)
OTHER_SECRET = "b3RoZXItc2VjcmV0LWJ5dGVzLTAxMjM0NTY3ODk="  # base64 too, so every preset takes it


def _auth(name: str, secret: str = SECRET, key: str = KEY) -> Any:
    cls, _ = preset(name)
    return cls(key, secret, **({"passphrase": PASSPHRASE} if entry(name).needs_passphrase else {}))


def _verifier(name: str) -> Any:
    _, cls = preset(name)
    return cls({KEY: SECRET}, **({"passphrases": {KEY: PASSPHRASE}} if entry(name).needs_passphrase else {}))


def _calls(name: str, origin: str) -> list[Request]:
    return [(call.method, origin + call.path, dict(call.kwargs)) for call in CALLS[name]]


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("name", NAMES)
def test_every_call_through_every_client_is_accepted(name: str, client: str) -> None:
    """Each kind of call the preset signs, through each client, arrives verified by the preset's own verifier."""
    with SchemeServer(_verifier(name), window_ms=60_000) as server:
        calls = _calls(name, server.origin)
        replies = send(client, _auth(name), calls)
        assert [r.status for r in replies] == [200] * len(calls), [r.text for r in replies]
        assert (server.stats.accepted, server.stats.bad_signature, server.stats.rejected) == (len(calls), 0, 0)


@pytest.mark.parametrize("client", ASYNC_CLIENTS)
@pytest.mark.parametrize("name", NAMES)
def test_concurrent_calls_are_all_accepted(name: str, client: str) -> None:
    """Twelve calls at once on one asyncio client: all accepted (ordered nonces stay ordered, the rest need none)."""
    with SchemeServer(_verifier(name), window_ms=60_000) as server:
        calls = (_calls(name, server.origin) * 12)[:12]
        replies = send(client, _auth(name), calls, concurrent=True)
        assert [r.status for r in replies] == [200] * 12, [r.text for r in replies]
        assert (server.stats.accepted, server.stats.rejected) == (12, 0)


@pytest.mark.parametrize("name", NAMES)
def test_another_secret_or_an_unknown_key_is_rejected(name: str) -> None:
    """Tamper twins of the credentials: signed with another secret, or under a key the verifier does not know."""
    sample = SAMPLES[name]
    verifier = _verifier(name)
    for auth in (_auth(name, secret=OTHER_SECRET), _auth(name, key="HBA-OTHER-KEY-0002")):
        signed = auth.sign(sample.method, sample.url, body=sample.body, content_type=sample.content_type)
        assert not verifier.verify(sample.method, signed.url, signed.headers, signed.body).ok


def _signs(name: str) -> frozenset[str]:
    """The wire parts the preset's message template names (empty for a message made by a function)."""
    message = preset(name)[0].recipe.message
    return frozenset(re.findall(r"{(\w+)}", message)) if isinstance(message, str) else frozenset()


@pytest.mark.parametrize("name", [n for n in NAMES if _signs(n) & {"method", "path", "path_query"}])
def test_a_changed_path_or_method_is_rejected(name: str) -> None:
    """Tamper twins of the request, where the API signs them: another path, or another method, fails."""
    sample = SAMPLES[name]
    signed = _auth(name).sign(sample.method, sample.url, body=sample.body, content_type=sample.content_type)
    verifier = _verifier(name)
    assert verifier.verify(sample.method, signed.url, signed.headers, signed.body).ok
    if _signs(name) & {"path", "path_query"}:
        base, sep, query = signed.url.partition("?")
        assert not verifier.verify(sample.method, base + "x" + sep + query, signed.headers, signed.body).ok
    if "method" in _signs(name):
        other = "POST" if sample.method == "GET" else "GET"
        assert not verifier.verify(other, signed.url, signed.headers, signed.body).ok


@pytest.mark.parametrize("name", NAMES)
def test_a_changed_body_byte_is_rejected(name: str) -> None:
    """Tamper twin of the body: one byte changed in a signed body fails (for the APIs that sign the body)."""
    for call in CALLS[name]:
        if "json" in call.kwargs or "data" in call.kwargs:
            break
    else:
        pytest.fail(f"{name}: CALLS has no call with a body")
    from .._presets import sample as sample_of

    body_sample = sample_of(name, call)
    signed = _auth(name).sign(
        body_sample.method, body_sample.url, body=body_sample.body, content_type=body_sample.content_type
    )
    verifier = _verifier(name)
    assert verifier.verify(body_sample.method, signed.url, signed.headers, signed.body).ok
    if name == "htx" or preset(name)[0].recipe.moves_body is not None:
        # HTX signs no POST body ("the parameters needn't be signed"); Gemini sends none (its payload
        # header carries the parameters): tests/presets/test_htx.py and test_gemini.py tamper those.
        return
    at = signed.body.index(b"BTC") if b"BTC" in signed.body else len(signed.body) // 2
    tampered = signed.body[:at] + bytes([signed.body[at] ^ 0x01]) + signed.body[at + 1 :]
    assert not verifier.verify(body_sample.method, signed.url, signed.headers, tampered).ok


@pytest.mark.parametrize("name", NAMES)
def test_fixed_options_are_refused_without_echoing_credentials(name: str) -> None:
    """The algorithm and digest encoding are the API's; a key with a newline is refused and not echoed."""
    cls, _ = preset(name)
    extra = {"passphrase": PASSPHRASE} if entry(name).needs_passphrase else {}
    for option in ({"algorithm": "md5"}, {"digest_encoding": "base32"}):
        with pytest.raises(ConfigurationError) as caught:
            cls(KEY, SECRET, **extra, **option)
        assert SECRET not in str(caught.value)
    with pytest.raises(ConfigurationError) as caught:
        cls(KEY + "\n", SECRET, **extra)
    assert KEY not in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("name", NAMES)
def test_secrets_stay_out_of_repr_vars_and_pickles(name: str) -> None:
    """Repr and vars show neither the secret nor the passphrase nor the whole key; pickling is refused; a copy signs."""
    auth = _auth(name)
    verifier = _verifier(name)
    shown = repr(auth) + repr(verifier) + repr(getattr(auth, "scheme", ""))
    shown += repr(getattr(auth, "__dict__", {})) + repr(getattr(verifier, "__dict__", {}))
    for secret in (SECRET, PASSPHRASE):
        assert secret not in shown
    assert KEY not in repr(auth) + repr(verifier)
    for value in (auth, verifier):
        with pytest.raises(TypeError):
            pickle.dumps(value)
    sample = SAMPLES[name]
    signed = copy.deepcopy(auth).sign(sample.method, sample.url, body=sample.body, content_type=sample.content_type)
    assert verifier.verify(sample.method, signed.url, signed.headers, signed.body).ok


def test_a_recipe_plan_is_shared_by_equal_options_and_never_by_equal_looking_ones() -> None:
    """Schemes of one recipe and option values share one plan; True, 1 and 1.0 (equal in Python) get their own."""
    from hmac_body_auth.presets.binance import RECIPE
    from hmac_body_auth.recipe import _plan

    one, again = _plan(RECIPE, {"recv_window": 5000}), _plan(RECIPE, {"recv_window": 5000})
    assert one is again
    texts = {_plan(RECIPE, {"recv_window": value}).option_text["recv_window"] for value in (1, True, 1.0)}
    assert texts == {"1", "True", "1.0"}
    unhashable = _plan(RECIPE, {"recv_window": [1]})
    assert unhashable.option_text == {"recv_window": "[1]"}
    assert _plan(RECIPE, {"recv_window": [1]}) is not unhashable
