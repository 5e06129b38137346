"""The pytest plugin: fixtures registered through the pytest11 entry point work in a user's suite."""

from __future__ import annotations

import pytest

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
