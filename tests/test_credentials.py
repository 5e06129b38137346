"""Credential and configuration validation: clear errors that never echo the value."""

from __future__ import annotations

from typing import Any

import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer

from .conftest import KEY, SECRET

BAD_KEYS = ["KEY\r\nX-Evil: 1", " KEYLEADING", "KEY\x00NUL", "KEY WITH SPACE", "KEY\ttab", "K\u00e9Y", "", "KEY\n"]
BAD_SECRETS = ["", "secret-from-file\n", " leading-space", "zzsecret\t", b"", b"bytes-newline\n"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_without_echo(key: str) -> None:
    """Keys with whitespace, CR, LF, NUL or non-ASCII raise ConfigurationError naming only the rule."""
    with pytest.raises(hba.ConfigurationError) as info:
        hba.Poloniex(key, SECRET)
    if key.strip():
        assert key.strip() not in str(info.value)
    assert "key" in str(info.value)


@pytest.mark.parametrize("secret", BAD_SECRETS)
def test_bad_secrets_are_refused_without_echo(secret: str | bytes) -> None:
    """Empty secrets and secrets with surrounding whitespace raise ConfigurationError without the value."""
    with pytest.raises(hba.ConfigurationError) as info:
        hba.BodyDigestAuth(KEY, secret=secret)
    text = secret.decode() if isinstance(secret, bytes) else secret
    if text.strip():
        assert text.strip() not in str(info.value)


@pytest.mark.parametrize("secret", [None, 123, ["s"]])
def test_secret_of_wrong_type(secret: Any) -> None:
    """A secret that is not str or bytes is a ConfigurationError."""
    with pytest.raises(hba.ConfigurationError, match="secret"):
        hba.BodyDigestAuth(KEY, secret=secret)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("key_header", "Bad Header"),
        ("key_header", "X:Y"),
        ("signature_header", ""),
        ("signature_header", "Sign\r\n"),
        ("digest_encoding", "base32"),
        ("body_encoding", "no-such-codec"),
        ("nonce_field", "a&b"),
        ("nonce", 5),
        ("lease_timeout", 0),
    ],
)
def test_bad_options_fail_at_construction(option: str, value: Any) -> None:
    """Invalid header names, encodings, fields and nonce sources fail when the auth is built."""
    with pytest.raises(hba.ConfigurationError):
        hba.BodyDigestAuth(KEY, secret=SECRET, **{option: value})


def test_same_key_and_signature_header_refused() -> None:
    """The key and the signature cannot share one header."""
    with pytest.raises(hba.ConfigurationError, match="differ"):
        hba.BodyDigestAuth(KEY, secret=SECRET, key_header="X", signature_header="x")


def test_configuration_errors_are_value_errors() -> None:
    """ConfigurationError is also a ValueError and an HmacBodyAuthError."""
    assert issubclass(hba.ConfigurationError, ValueError)
    assert issubclass(hba.ConfigurationError, hba.HmacBodyAuthError)


def test_nothing_reaches_the_server_with_bad_credentials(server: PoloniexServer) -> None:
    """A request never leaves when the auth cannot be built."""
    with pytest.raises(hba.ConfigurationError):
        requests.post(server.url, data={"a": "1"}, auth=hba.Poloniex("BAD KEY", SECRET), timeout=5)
    assert server.received == []
