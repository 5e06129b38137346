"""The secret never shows: not in repr, vars, pickles, copies or logs."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer

from .conftest import KEY, SECRET


def _dump(obj: object) -> str:
    parts = [repr(obj), str(obj)]
    for value in vars(obj).values():
        parts.append(repr(value))
        if hasattr(value, "__dict__") or hasattr(value, "__slots__"):
            parts.append(repr(getattr(value, "__dict__", "")))
    return " ".join(parts)


def test_repr_masks_the_key_and_hides_the_secret() -> None:
    """Repr shows a masked key and never the secret."""
    auth = hba.Poloniex(KEY, SECRET)
    text = repr(auth)
    assert SECRET not in text
    assert KEY not in text
    assert "TEST" in text


def test_vars_do_not_hold_the_secret() -> None:
    """The secret is kept only inside a keyed HMAC object, never as an attribute."""
    auth = hba.Poloniex(KEY, SECRET)
    assert SECRET not in _dump(auth)
    assert SECRET.encode().hex() not in _dump(auth)
    assert SECRET not in repr(auth.signer)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickling_is_refused(protocol: int) -> None:
    """Pickling an auth or a signer raises TypeError instead of writing the secret out."""
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(hba.Poloniex(KEY, SECRET), protocol=protocol)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(hba.Signer(SECRET), protocol=protocol)


def test_copy_and_deepcopy_sign_the_same(server: PoloniexServer) -> None:
    """Copy and deepcopy give working auths that share the key's nonce order."""
    auth = hba.Poloniex(KEY, SECRET)
    for clone in (copy.copy(auth), copy.deepcopy(auth)):
        assert clone.signer.sign(b"x") == auth.signer.sign(b"x")
        assert requests.post(server.url, data={"a": "1"}, auth=clone, timeout=5).status_code == 200
    assert server.stats.accepted == 2


def test_debug_logging_of_a_request_does_not_show_the_secret(
    server: PoloniexServer, caplog: pytest.LogCaptureFixture
) -> None:
    """With every logger at DEBUG, a signed request logs neither the secret nor the auth's repr of it."""
    caplog.set_level(logging.DEBUG)
    auth = hba.Poloniex(KEY, SECRET)
    logging.getLogger("test").debug("auth is %r", auth)
    requests.post(server.url, data={"a": "1"}, auth=auth, timeout=5)
    assert SECRET not in caplog.text


def test_errors_never_contain_the_secret() -> None:
    """A body error raised while signing does not mention the key or the secret."""
    auth = hba.Poloniex(KEY, SECRET)
    with pytest.raises(hba.BodyError) as info:
        auth.sign("POST", "http://localhost/", body="nonce=1")
    assert SECRET not in str(info.value)
    assert KEY not in str(info.value)
