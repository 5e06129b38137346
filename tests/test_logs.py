"""The log filter redacts signing headers and keys, however they are formatted."""

from __future__ import annotations

import base64
import io
import logging
import re
import subprocess
import sys
from typing import Any

import httpx
import pytest
import requests

import hmac_body_auth as hba
import hmac_body_auth.presets
from hmac_body_auth.logs import DEFAULT_HEADERS, DEFAULT_QUERY_PARAMS, GENERIC_HEADERS, RedactingFilter
from hmac_body_auth.presets import Entry, registry, webhook_entries
from hmac_body_auth.presets.binance import BinanceVerifier
from hmac_body_auth.testing import PoloniexServer, SchemeServer

from .conftest import KEY, SECRET


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    """A logger writing to a string through a handler carrying the filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test-redaction")
    logger.handlers = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    RedactingFilter.install(hba.Poloniex(KEY, SECRET), logger=logger)
    return logger, stream


def test_requests_and_httpx_headers_are_redacted(
    server: PoloniexServer, captured: tuple[logging.Logger, io.StringIO]
) -> None:
    """Logging a signed request's headers (requests and httpx reprs) shows neither key nor signature."""
    logger, stream = captured
    r = requests.post(server.url, data={"a": "1"}, auth=hba.Poloniex(KEY, SECRET), timeout=5)
    logger.info("requests sent %s", r.request.headers)
    resp = httpx.post(server.url, data={"a": "1"}, auth=hba.Poloniex(KEY, SECRET))
    logger.info("httpx sent %r", resp.request.headers)
    logger.debug("raw:\nPOST /tradingApi HTTP/1.1\nKey: %s\nSign: %s\n", KEY, server.received[0].headers["Sign"])
    text = stream.getvalue()
    assert KEY not in text
    for received in server.received:
        assert received.headers["Sign"] not in text
    assert text.count("***") >= 6


def test_keys_in_messages_and_exceptions_are_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    """The key is redacted anywhere in a message or a logged exception's text."""
    logger, stream = captured
    try:
        raise RuntimeError(f"upstream said key {KEY} is locked")
    except RuntimeError:
        logger.exception("failed for %s", KEY)
    assert KEY not in stream.getvalue()
    assert "is locked" in stream.getvalue()


def test_other_text_is_untouched() -> None:
    """Text without credentials passes through unchanged and records are never dropped."""
    f = RedactingFilter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "order %s filled", ("42",), None)
    assert f.filter(record)
    assert record.getMessage() == "order 42 filled"


RENDERINGS = [
    "{'Key': 's1gvalue', 'Sign': 's1gvalue'}",
    "Headers({'key': 's1gvalue', 'sign': 's1gvalue'})",
    "[('Key', 's1gvalue'), (b'Sign', b's1gvalue')]",
    '{"Key": "s1gvalue", "X-MBX-APIKEY": "s1gvalue"}',
    "Key=s1gvalue Sign=s1gvalue",
    "Key=s1gvalue, Sign=s1gvalue",
    "headers: Key='s1gvalue' sign=b's1gvalue'",
    "KC-API-SIGN=s1gvalue;OK-ACCESS-SIGN=s1gvalue",
    "curl -X POST -H 'Sign: s1gvalue' -H \"X-MBX-APIKEY: s1gvalue\" https://api.example.com",
    "curl -H Sign:s1gvalue --header=Key:s1gvalue https://api.example.com",
    "curl -H 'Authorization: HS256 s1gvalue' https://api.hitbtc.com",
    "['Key: s1gvalue', 'Sign: s1gvalue']",
    "POST /tradingApi HTTP/1.1\nKey: s1gvalue\nSign: s1gvalue\n",
    'http://127.0.0.1:8080 "POST /api/v3/order?symbol=X&timestamp=1&signature=s1gvalue HTTP/1.1" 200 12',
    'HTTP Request: POST https://h/api/v3/order?signature=s1gvalue&x=1 "HTTP/1.1 200 OK"',
    "GET https://api.binance.com/api/v3/account?timestamp=1;signature=s1gvalue#frag",
]


@pytest.mark.parametrize("text", RENDERINGS)
def test_renderings_of_signing_values_are_redacted(text: str) -> None:
    """Dict, Headers, tuple, JSON, k=v, curl -H, raw HTTP and URL renderings all lose the value."""
    redacted = RedactingFilter().redact(text)
    assert "s1gvalue" not in redacted
    assert "***" in redacted


def test_lookalike_names_are_untouched() -> None:
    """Only whole header or parameter names count: ``monkey=`` or ``keyring=`` or ``designature=`` keep their values."""
    text = "monkey=1 keyring=2 ?designature=3 &signatures=4"
    assert RedactingFilter().redact(text) == text


def test_extra_query_params_are_redacted() -> None:
    """``params=`` adds query parameters to redact in URLs."""
    redacted = RedactingFilter(params=["X-Sig"]).redact("GET https://h/x?a=1&x-sig=s1gvalue HTTP/1.1")
    assert redacted == "GET https://h/x?a=1&x-sig=*** HTTP/1.1"


# Headers a preset sets that carry nothing secret: left readable for debugging.
NOT_SECRET = {
    "api-expires",
    "cache-control",
    "paptrading",
    "recvwindow",
    "signtimestamp",
    "bitvavo-access-window",
    "x-simulated-trading",
    "webhook-id",
}
NOT_SECRET_PARTS = ("timestamp", "nonce", "version", "recv-window", "sign-type")
ENTRIES = registry() + webhook_entries()


def _query_secrets(found: Entry) -> set[str]:
    """The parameters (lowercase) in which a preset may send its key or signature in the query string."""
    fields = getattr(getattr(found.auth, "recipe", None), "fields", ())
    return {f.name.lower() for f in fields if f.into != "body" and re.search(r"\{(key|signature)\}", f.value)}


@pytest.mark.parametrize("found", ENTRIES, ids=[e.name for e in ENTRIES])
def test_default_query_params_cover_every_preset(found: Entry) -> None:
    """Each preset's query-string key and signature parameters are redacted in URLs without passing the auth."""
    assert _query_secrets(found) <= DEFAULT_QUERY_PARAMS, found.name
    url = "GET https://h/p?a=1" + "".join(f"&{name}=s1gvalue" for name in sorted(_query_secrets(found)))
    assert "s1gvalue" not in RedactingFilter().redact(url)


@pytest.mark.parametrize("found", ENTRIES, ids=[e.name for e in ENTRIES])
def test_default_headers_cover_every_preset(found: Entry) -> None:
    """Each preset's key, signature, passphrase and payload headers are redacted without passing the auth."""
    options: dict[str, Any] = {"passphrase": "pass-phrase-1"} if found.needs_passphrase else {}
    secret = base64.b64encode(b"secret-bytes-0123").decode()
    auth = found.auth(KEY, secret, **options) if found.keyed else found.auth(secret)
    scheme_names = auth.scheme.header_names
    if found.name == "cryptocom":  # its key and signature travel in the JSON body: no header to redact
        assert scheme_names == found.secret_headers == frozenset()
        return
    secret_bearing = {
        n for n in scheme_names if n not in NOT_SECRET and not any(part in n for part in NOT_SECRET_PARTS)
    }
    assert secret_bearing or _query_secrets(found), found.name  # HTX sends its key and signature in the query
    assert secret_bearing <= found.secret_headers <= DEFAULT_HEADERS, found.name


@pytest.mark.parametrize("found", ENTRIES, ids=[e.name for e in ENTRIES])
def test_timestamps_and_nonces_stay_readable(found: Entry) -> None:
    """A preset's timestamp, nonce, version and option headers are not redacted by default (they help debugging)."""
    readable = found.header_names - found.secret_headers
    assert not readable & (DEFAULT_HEADERS - GENERIC_HEADERS), found.name
    for name in readable - GENERIC_HEADERS:
        assert RedactingFilter().redact(f"'{name}': '1700000000000'") == f"'{name}': '1700000000000'"


def test_default_headers_are_the_generic_ones_and_the_registrys() -> None:
    """DEFAULT_HEADERS is GENERIC_HEADERS plus every registry entry's (and webhook's) secret headers: no hand list."""
    assert frozenset().union(GENERIC_HEADERS, *(found.secret_headers for found in ENTRIES)) == DEFAULT_HEADERS
    assert {"authorization", "key", "sign"} <= GENERIC_HEADERS


def test_importing_the_filter_loads_no_preset() -> None:
    """Importing the log filter loads no preset module; building a filter reads the registry."""
    code = (
        "import sys; from hmac_body_auth.logs import RedactingFilter; "
        "before = [m for m in sys.modules if m.startswith('hmac_body_auth.presets.')]; "
        "RedactingFilter(); print(before, 'hmac_body_auth.presets.okx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] True"


def _client_traffic(logger: logging.Logger) -> list[str]:
    """Send Binance (query-signed) and Poloniex (header-signed) calls through requests and httpx; log as people do.

    Returns every signature the servers received.
    """
    signatures: list[str] = []
    binance = hba.presets.Binance(KEY, SECRET)
    with SchemeServer(BinanceVerifier({KEY: SECRET})) as server:
        url = server.origin + "/api/v3/order"
        params = {"symbol": "BTCUSDT", "side": "BUY"}
        r = requests.post(url, params=params, auth=binance, timeout=5)
        assert r.status_code == 200, r.text
        logger.debug("sent %s with %s", r.request.url, r.request.headers)
        logger.debug("curl -X POST -H 'X-MBX-APIKEY: %s' '%s'", r.request.headers["X-MBX-APIKEY"], r.request.url)
        resp = httpx.post(url, params=params, auth=binance, timeout=5)
        assert resp.status_code == 200, resp.text
        logger.debug("sent %r", resp.request.headers)
        signatures += [got.path.rpartition("signature=")[2] for got in server.received]
    poloniex = hba.Poloniex(KEY, SECRET)
    with PoloniexServer({KEY: SECRET}) as polo:
        r = requests.post(polo.url, data={"command": "returnBalances"}, auth=poloniex, timeout=5)
        assert r.status_code == 200, r.text
        logger.debug("sent %s", dict(r.request.headers))
        headers = r.request.headers
        logger.debug("Key=%s Sign=%s", headers["Key"], headers["Sign"])
        logger.debug("curl -H \"Key: %s\" -H 'Sign: %s' %s", headers["Key"], headers["Sign"], polo.url)
        resp = httpx.post(polo.url, data={"command": "returnBalances"}, auth=poloniex, timeout=5)
        assert resp.status_code == 200, resp.text
        logger.debug("sent %s", ", ".join(f"{k}={v}" for k, v in resp.request.headers.items()))
        signatures += [got.headers["Sign"] for got in polo.received]
    assert len(signatures) == 4
    return signatures


@pytest.mark.parametrize("installed", [True, False], ids=["filtered", "tamper-twin-unfiltered"])
def test_real_client_debug_logs_hide_keys_and_signatures(caplog: pytest.LogCaptureFixture, installed: bool) -> None:
    """urllib3 DEBUG and httpx INFO lines and logged headers keep no key or signature; unfiltered they do."""
    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    # install() puts the filter on the root logger's handlers, which pytest keeps across tests.
    installed_filter = RedactingFilter.install() if installed else None
    try:
        signatures = _client_traffic(logging.getLogger("hba-tests.app-logs"))
    finally:
        if installed_filter is not None:
            for handler in root.handlers:
                handler.removeFilter(installed_filter)
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert any(r.name.startswith("urllib3") and "signature=" in r.getMessage() for r in caplog.records)
    assert any(r.name == "httpx" and "signature=" in r.getMessage() for r in caplog.records)
    leaked = [value for value in (KEY, *signatures) if value in text]
    assert SECRET not in text
    if installed:
        assert leaked == []
        assert "signature=***" in text
    else:
        assert leaked == [KEY, *signatures]
