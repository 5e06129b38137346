"""The log filter redacts signing headers and keys, however they are formatted."""

from __future__ import annotations

import io
import logging

import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.logs import RedactingFilter
from hmac_body_auth.testing import PoloniexServer

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
