"""Verifier holes found by review: each tampered request below is now refused."""

from __future__ import annotations

import copy
import json

from hmac_body_auth.presets import (
    HTX,
    Binance,
    BinanceVerifier,
    Bitvavo,
    BitvavoVerifier,
    CryptoCom,
    CryptoComVerifier,
    KuCoinVerifier,
)

KEY, SECRET = "KEY-1", "sec"
CLOCK = lambda: 1_700_000_000_000_000_000  # noqa: E731


def test_htx_refuses_a_second_signature_parameter() -> None:
    """An extra Signature (or Signatur%65) next to the checked one is signed over, so the request fails."""
    from hmac_body_auth.presets import HTXVerifier

    signed = HTX(KEY, SECRET, clock=CLOCK).sign("GET", "https://api.huobi.pro/v1/order/orders?symbol=btcusdt&size=5")
    verifier = HTXVerifier({KEY: SECRET})
    assert verifier.verify("GET", signed.url, signed.headers, b"").ok
    base, signature = signed.url.rsplit("&Signature=", 1)
    for extra in ("&Signature=JUNK", "&Signatur%65=JUNK"):
        assert not verifier.verify("GET", base + extra + "&Signature=" + signature, signed.headers, b"").ok


def test_bitvavo_verifier_checks_the_window_header() -> None:
    """A Bitvavo-Access-Window outside 100 to 60000 ms, not a number, or missing is refused."""
    signed = Bitvavo(KEY, SECRET, clock=CLOCK).sign("GET", "https://api.bitvavo.com/v2/balance")
    verifier = BitvavoVerifier({KEY: SECRET})
    assert verifier.verify("GET", signed.url, signed.headers, b"").ok
    for window in ("abc", "99", "60001", "99999999999", "", "\uff11\uff10\uff10\uff10"):
        headers = {**signed.headers, "Bitvavo-Access-Window": window}
        assert not verifier.verify("GET", signed.url, headers, b"").ok, window
    headers = {k: v for k, v in signed.headers.items() if k.lower() != "bitvavo-access-window"}
    assert not verifier.verify("GET", signed.url, headers, b"").ok


def test_cryptocom_refuses_members_that_are_not_signed() -> None:
    """A request object with a member besides id, method, params, api_key, sig and nonce is refused."""
    url = "https://api.crypto.com/exchange/v1/private/create-order"
    signed = CryptoCom(KEY, SECRET, clock=CLOCK).sign(
        "POST", url, body=b'{"side":"BUY"}', content_type="application/json"
    )
    verifier = CryptoComVerifier({KEY: SECRET})
    assert verifier.verify("POST", url, signed.headers, signed.body).ok
    request = json.loads(signed.body)
    request["params_extra"] = {"quantity": "100"}
    assert not verifier.verify("POST", url, signed.headers, json.dumps(request).encode()).ok


def test_binance_verifier_refuses_an_unbounded_recv_window() -> None:
    """recvWindow=inf, nan or above Binance's cap of 60000 never passes the timing rule."""
    now = 1_700_000_000_000
    verifier = BinanceVerifier({KEY: SECRET}, clock=lambda: now * 1_000_000)
    old = Binance(KEY, SECRET, clock=lambda: (now - 10**9) * 1_000_000)
    for window in ("inf", "nan", "60001"):
        signed = old.sign("GET", f"https://api.binance.com/api/v3/account?recvWindow={window}")
        assert not verifier.verify("GET", signed.url, signed.headers, b"").ok, window
    fresh = Binance(KEY, SECRET, clock=lambda: now * 1_000_000).sign("GET", "https://api.binance.com/api/v3/account")
    assert verifier.verify("GET", fresh.url, fresh.headers, b"").ok


def test_verifiers_can_be_copied_but_not_pickled() -> None:
    """copy.copy and copy.deepcopy of a verifier work and verify alike (pickling stays refused)."""
    verifier = KuCoinVerifier({KEY: SECRET}, passphrases={KEY: "pp"})
    assert repr(copy.copy(verifier)) == repr(verifier)
    assert repr(copy.deepcopy(verifier)) == repr(verifier)
