"""Credential and configuration validation: clear errors that never echo the value."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

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


#: Every character str.strip() removes: ASCII and Unicode whitespace (U+00A0, U+2007, U+3000, ...).
UNICODE_WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]
# Marked so that no core can be a substring of an error message by chance.
_CORES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40).map(lambda t: f"sk_{t}_9")


def test_unicode_whitespace_covers_the_usual_suspects() -> None:
    """The whitespace list holds the no-break, figure and ideographic spaces and the line separators."""
    assert {"\u00a0", "\u2007", "\u202f", "\u3000", "\u2028", "\u0085", "\x1c", "\n", " "} <= set(UNICODE_WHITESPACE)


@settings(max_examples=300, deadline=None)
@given(
    core=_CORES,
    pad=st.sampled_from(UNICODE_WHITESPACE),
    where=st.sampled_from(["lead", "trail", "both"]),
    as_bytes=st.booleans(),
)
def test_unicode_whitespace_around_a_secret_is_refused_without_echo(
    core: str, pad: str, where: str, as_bytes: bool
) -> None:
    """A secret (str, or UTF-8 bytes) padded with any Unicode whitespace is refused; the message never echoes it."""
    padded = (pad if where != "trail" else "") + core + (pad if where != "lead" else "")
    secret: str | bytes = padded.encode("utf-8") if as_bytes else padded
    with pytest.raises(hba.ConfigurationError, match="whitespace") as info:
        hba.BodyDigestAuth(KEY, secret=secret)
    assert core not in str(info.value)
    assert repr(core)[1:-1] not in str(info.value)
    # Tamper twin: the same secret without the padding is accepted.
    assert hba.BodyDigestAuth(KEY, secret=core.encode("utf-8") if as_bytes else core).signer


@pytest.mark.parametrize("secret", ["\u00a0secret-value", "secret-value\u3000", "secret\u2007value\u2007"])
def test_presets_refuse_unicode_whitespace_secrets(secret: str) -> None:
    """Presets go through the same check: a pasted no-break space is a ConfigurationError."""
    with pytest.raises(hba.ConfigurationError, match="whitespace"):
        hba.Poloniex(KEY, secret)


def test_whitespace_inside_a_secret_is_kept() -> None:
    """Unicode whitespace inside a secret is part of it, and bytes that are not UTF-8 are taken as they are."""
    assert hba.BodyDigestAuth(KEY, secret="sec\u00a0ret").signer
    assert hba.BodyDigestAuth(KEY, secret=b"\xa0secret\xa0").signer


def test_lone_surrogate_secret_is_a_configuration_error() -> None:
    """A str secret that cannot be UTF-8 encoded is refused without echo, not a UnicodeEncodeError."""
    with pytest.raises(hba.ConfigurationError) as info:
        hba.BodyDigestAuth(KEY, secret="secret-value\ud800")
    assert "secret-value" not in str(info.value)
