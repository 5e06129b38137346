"""The pytest plugin: fixtures registered through the pytest11 entry point work in a user's suite."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests

from hmac_body_auth import ConfigurationError
from hmac_body_auth.presets import PRESETS, Entry, entry, registry
from hmac_body_auth.pytest_plugin import DEFAULT_KEY, default_secret
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

from ._presets import SAMPLES

pytest_plugins = ["pytester"]

USER_TESTS = """
import asyncio
import httpx
import requests
from hmac_body_auth.presets import Kraken, OKX, Poloniex


def test_poloniex_server(hmac_server):
    server = hmac_server("poloniex", key="USERKEY1", secret="user-secret")
    r = requests.post(server.url, data={"command": "returnBalances"}, auth=Poloniex("USERKEY1", "user-secret"))
    assert r.status_code == 200 and "BTC" in r.json()
    bad = requests.post(server.url, data={"a": "1"}, auth=Poloniex("USERKEY1", "wrong-secret"))
    assert bad.status_code == 403


def test_kraken_server_strict_nonces(hmac_server):
    server = hmac_server("kraken", key="USERKEY1", secret="c2VjcmV0LWJ5dGVz")
    auth = Kraken("USERKEY1", "c2VjcmV0LWJ5dGVz")
    with httpx.Client(auth=auth) as c:
        for _ in range(3):
            assert c.post(server.origin + "/0/private/Balance", data={}).status_code == 200
    assert server.stats.accepted == 3 and server.stats.bad_nonce == 0


def test_okx_mock_transport(hmac_mock_transport):
    transport = hmac_mock_transport("okx", key="USERKEY1", secret="s3cr3t", passphrase="pp")
    auth = OKX("USERKEY1", "s3cr3t", passphrase="pp")
    with httpx.Client(transport=transport, auth=auth) as c:
        assert c.get("https://www.okx.com/api/v5/account/balance").status_code == 200
    wrong = OKX("USERKEY1", "s3cr3t", passphrase="nope")
    with httpx.Client(transport=transport, auth=wrong) as c:
        assert c.get("https://www.okx.com/api/v5/account/balance").status_code == 401
"""


def test_fixtures_reach_a_users_suite(pytester: pytest.Pytester) -> None:
    """A user's test file gets hmac_server and hmac_mock_transport without any conftest."""
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


# -- the fixtures in this suite (the pytest11 entry point registers them here too) -------------------

ENTRIES = registry()


def _signed_call(name: str, origin: str, *, secret: str, passphrase: str | None = None) -> requests.Response:
    """Send the preset's sample request to ``origin``, signed with the fixtures' default key and ``secret``."""
    found = entry(name)
    options = {"passphrase": passphrase or "any-passphrase"} if found.needs_passphrase else {}
    auth = found.auth(DEFAULT_KEY, secret, **options)
    sample = SAMPLES[found.name]
    parts = urlsplit(sample.url)
    url = origin + parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": sample.content_type} if sample.content_type else {}
    return requests.request(sample.method, url, data=sample.body, headers=headers, auth=auth, timeout=10)


@pytest.mark.parametrize("found", ENTRIES, ids=[e.name for e in ENTRIES])
def test_every_preset_server_accepts_its_default_credentials(
    hmac_server: Callable[..., VerifyingServer], found: Entry
) -> None:
    """hmac_server(name) with no credentials accepts a request signed with DEFAULT_KEY and default_secret(name)."""
    server = hmac_server(found.name)
    response = _signed_call(found.name, server.origin, secret=default_secret(found.name))
    assert response.status_code == 200, response.text
    assert (server.stats.accepted, server.stats.rejected) == (1, 0)


@pytest.mark.parametrize("found", ENTRIES, ids=[e.name for e in ENTRIES])
def test_every_preset_server_rejects_another_secret(hmac_server: Callable[..., VerifyingServer], found: Entry) -> None:
    """Tamper twin: the same request signed with another valid secret is rejected."""
    server = hmac_server(found.name)
    other = {"base64": base64.b64encode(b"OTHER").decode(), "hex": b"OTHER".hex()}.get(found.secret_encoding, "OTHER")
    response = _signed_call(found.name, server.origin, secret=other)
    assert response.status_code in (401, 403), response.text
    assert (server.stats.accepted, server.stats.bad_signature) == (0, 1)


@pytest.mark.parametrize("found", ENTRIES, ids=[e.name for e in ENTRIES])
def test_default_secrets_are_valid_for_their_preset(found: Entry) -> None:
    """default_secret(name) is TEST-SECRET written as the preset's secret_encoding says, and the auth takes it."""
    secret = default_secret(found.name)
    if found.secret_encoding == "base64":
        assert base64.b64decode(secret, validate=True) == b"TEST-SECRET"
    elif found.secret_encoding == "hex":
        assert bytes.fromhex(secret) == b"TEST-SECRET"
    else:
        assert secret == "TEST-SECRET"
    options = {"passphrase": "p"} if found.needs_passphrase else {}
    assert found.auth(DEFAULT_KEY, secret, **options).key == DEFAULT_KEY


@pytest.mark.parametrize("found", [e for e in ENTRIES if e.needs_passphrase], ids=lambda e: e.name)
def test_a_given_passphrase_is_checked(hmac_server: Callable[..., VerifyingServer], found: Entry) -> None:
    """With passphrase=, the server accepts that passphrase and rejects another one."""
    server = hmac_server(found.name, passphrase="the-passphrase")
    good = _signed_call(found.name, server.origin, secret=default_secret(found.name), passphrase="the-passphrase")
    bad = _signed_call(found.name, server.origin, secret=default_secret(found.name), passphrase="another-one")
    assert (good.status_code, bad.status_code) == (200, 401)


def test_preset_names_in_any_case(hmac_server: Callable[..., VerifyingServer]) -> None:
    """Names are the registry's in any case: "Coinbase-Exchange" and "POLONIEX" start the same servers."""
    coinbase = hmac_server("Coinbase-Exchange")
    assert _signed_call("coinbase-exchange", coinbase.origin, secret=default_secret("COINBASE-EXCHANGE")).ok
    assert isinstance(hmac_server("POLONIEX"), PoloniexServer)


def test_an_unknown_preset_lists_the_valid_names(
    hmac_server: Callable[..., VerifyingServer], hmac_mock_transport: Callable[..., Any]
) -> None:
    """hmac_server("coinbase") is a ConfigurationError naming every preset, not a KeyError."""
    for start in (hmac_server, hmac_mock_transport):
        with pytest.raises(ConfigurationError, match="no preset named 'coinbase'") as info:
            start("coinbase")
        assert all(name in str(info.value) for name in PRESETS)


@pytest.mark.parametrize("found", ENTRIES, ids=[e.name for e in ENTRIES])
def test_every_preset_mock_transport_accepts_its_default_credentials(
    hmac_mock_transport: Callable[..., Any], found: Entry
) -> None:
    """hmac_mock_transport(name) with no credentials answers 200 to the sample signed with the defaults."""
    options = {"passphrase": "p"} if found.needs_passphrase else {}
    auth = found.auth(DEFAULT_KEY, default_secret(found.name), **options)
    sample = SAMPLES[found.name]
    headers = {"Content-Type": sample.content_type} if sample.content_type else {}
    with httpx.Client(transport=hmac_mock_transport(found.name.upper()), auth=auth) as client:
        response = client.request(sample.method, sample.url, content=sample.body, headers=headers)
    assert response.status_code == 200, response.text
