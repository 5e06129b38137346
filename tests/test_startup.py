"""Start-up: the package and its auth objects load no HTTP client until the program imports one."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Hashable
from typing import Any

import httpx
import httpx2
import pytest
import requests.auth

import hmac_body_auth as hba
from hmac_body_auth.nonces import OrderedNonceSource, _is_ordered
from hmac_body_auth.presets import PRESETS, preset

from .conftest import niquests

CLIENTS = ("requests", "httpx", "httpx2", "aiohttp", "niquests", "urllib3")


def _run(code: str) -> Any:
    """Run ``code`` in a fresh interpreter (outside the checkout) and return the JSON it prints last."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_package_and_building_every_preset_loads_no_http_client() -> None:
    """Importing the package, building every preset, a BodyDigestAuth and a KeyPool, and signing load no client."""
    loaded = _run(
        f"""
        import inspect, json, sys
        import hmac_body_auth as hba
        from hmac_body_auth.presets import PRESETS, preset

        steps = {{}}
        def step(name):
            steps[name] = sorted(c for c in {CLIENTS!r} if c in sys.modules)
        step("import")
        auth = hba.Poloniex("KEY-0001", "secret")
        step("Poloniex")
        auth.sign("POST", "https://poloniex.com/tradingApi", body={{"command": "returnBalances"}})
        for name in PRESETS:
            cls, _ = preset(name)
            extra = {{"passphrase": "p"}} if "passphrase" in inspect.signature(cls).parameters else {{}}
            cls("KEY-0001", "c2VjcmV0", **extra)
        hba.BodyDigestAuth("KEY-0001", secret="secret").sign("POST", "https://x.test/", body=b"a=1")
        pool = hba.KeyPool([hba.Poloniex("KEY-0001", "s"), hba.Poloniex("KEY-0002", "s")])
        pool.sign("POST", "https://poloniex.com/tradingApi", body={{"command": "returnBalances"}})
        step("every preset")
        print(json.dumps(steps))
        """
    )
    assert loaded == {"import": [], "Poloniex": [], "every preset": []}


_AFTER = """
import copy, json, pickle, sys
import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer

KEY, SECRET = "TEST-KEY-0123456789", "0123456789abcdef-secret"
results = {}
with PoloniexServer({KEY: SECRET}) as server:
    # The server has seen a huge nonce: the first send is refused as a nonce error, and only an
    # auth whose response handling runs (not a bare callable) re-signs and succeeds.
    server.last_nonce[KEY] = 10**18
    %(before_class)s
    cls = hba.Poloniex
    %(before_auth)s
    auth = cls(KEY, SECRET)
    pool = hba.KeyPool([hba.Poloniex(KEY, SECRET, ordered=False)])
    assert %(client)r not in sys.modules
    %(after)s
    results["repr"] = repr(auth)
    results["copies"] = type(copy.copy(auth)).__name__ + "," + type(copy.deepcopy(auth)).__name__
    try:
        pickle.dumps(auth)
    except TypeError:
        results["pickle"] = "refused"
    results["stats"] = [server.stats.accepted, server.stats.rejected]
print(json.dumps(results))
"""

_SEND = {
    "requests": """
    import requests, requests.auth
    results["isinstance"] = isinstance(auth, requests.auth.AuthBase) and isinstance(pool, requests.auth.AuthBase)
    results["answer"] = requests.post(server.url, data={"command": "returnBalances"}, auth=auth, timeout=10).json()
    loader = requests.__spec__.loader
    results["loader"] = [type(loader).__name__, "exec_module" in vars(loader)]
""",
    "httpx": """
    import httpx
    results["isinstance"] = isinstance(auth, httpx.Auth) and isinstance(pool, httpx.Auth)
    with httpx.Client() as client:
        results["answer"] = client.post(server.url, data={"command": "returnBalances"}, auth=auth).json()
    loader = httpx.__spec__.loader
    results["loader"] = [type(loader).__name__, "exec_module" in vars(loader)]
""",
    "httpx2": """
    import httpx2
    results["isinstance"] = isinstance(auth, httpx2.Auth) and isinstance(pool, httpx2.Auth)
    with httpx2.Client() as client:
        results["answer"] = client.post(server.url, data={"command": "returnBalances"}, auth=auth).json()
    loader = httpx2.__spec__.loader
    results["loader"] = [type(loader).__name__, "exec_module" in vars(loader)]
""",
    # niquests checks no base class (it calls the auth as requests does): what matters is the dispatch.
    "niquests": """
    import niquests
    results["isinstance"] = callable(auth) and callable(pool)
    with niquests.Session() as session:
        results["answer"] = session.post(server.url, data={"command": "returnBalances"}, auth=auth).json()
    loader = niquests.__spec__.loader
    results["loader"] = [type(loader).__name__, "exec_module" in vars(loader)]
""",
}
#: niquests only where it is installed (its own environment, see tests/conftest.py).
_CLIENTS = [
    *(name for name in sorted(_SEND) if name != "niquests"),
    *([pytest.param("niquests", marks=pytest.mark.niquests)] if niquests is not None else []),
]


@pytest.mark.parametrize("client", _CLIENTS)
@pytest.mark.parametrize("when", ["before the auth class loads", "before the auth is built", "after the auth is built"])
def test_a_client_imported_later_gets_a_working_signed_auth(client: str, when: str) -> None:
    """A client imported at any point: isinstance holds, the call is signed, a nonce error is re-signed."""
    send = textwrap.indent(textwrap.dedent(_SEND[client]), "    ").strip()
    first_line = send.split("\n", 1)[0]  # the import
    code = _AFTER % {
        "before_class": first_line if when == "before the auth class loads" else "",
        "before_auth": first_line if when == "before the auth is built" else "",
        "client": client if when == "after the auth is built" else "(none)",
        "after": send,
    }
    results = _run(code)
    assert results["isinstance"] is True
    assert results["answer"] == {"BTC": "0.00000000", "ETH": "0.00000000"}
    assert results["stats"] == [1, 1]  # the nonce error, then the re-signed call
    # The client module keeps its own loader, and no wrapper is left on it.
    assert results["loader"] == ["SourceFileLoader", False]
    assert "TEST-KEY-0123456789" not in results["repr"]
    assert "0123456789abcdef-secret" not in results["repr"]
    assert results["copies"] == "Poloniex,Poloniex"
    assert results["pickle"] == "refused"


def test_every_auth_class_is_each_clients_auth() -> None:
    """Every preset, HmacAuth, BodyDigestAuth and KeyPool subclass requests' AuthBase, httpx.Auth and httpx2.Auth."""
    classes = [preset(name)[0] for name in PRESETS] + [hba.HmacAuth, hba.BodyDigestAuth, hba.KeyPool]
    for cls in classes:
        for base in (requests.auth.AuthBase, httpx.Auth, httpx2.Auth):
            assert issubclass(cls, base), (cls, base)
    # In the order the classes used to name them statically: requests, httpx, httpx2.
    mro = hba.Poloniex.__mro__
    assert mro.index(requests.auth.AuthBase) < mro.index(httpx.Auth) < mro.index(httpx2.Auth)


class _InstanceScope:
    """Every member on the class but ``scope``, which each object sets (as the package's sources do)."""

    interprocess = False

    def __init__(self, scope: Hashable | None) -> None:
        if scope is not None:
            self.scope = scope

    def __call__(self) -> int:
        return 1

    def raise_floor(self, value: int) -> None:
        """Nothing to raise."""

    def acquire(self, timeout: float | None) -> None:
        """Nothing to take."""

    def release(self) -> None:
        """Nothing to give back."""


class _NoRelease(_InstanceScope):
    """Every member but ``release``: not an ordered source."""

    release = None  # type: ignore[assignment]


def test_the_ordered_source_check_answers_as_isinstance(tmp_path: Any) -> None:
    """The cached ordered-source check gives isinstance's answer for sources, callables and near misses, twice."""
    candidates: list[object] = [
        hba.ClockNonce(),
        hba.ClockNonce.shared("STARTUP-KEY"),
        hba.FileNonce(str(tmp_path / "nonce")),
        _InstanceScope(("mine", 1)),
        _InstanceScope(None),  # the same class, an object without scope
        _NoRelease(("mine", 2)),
        lambda: 1,
        int,
        None,
        42,
    ]
    for _ in range(2):  # the second round answers from the per-class cache
        answers = [_is_ordered(value) for value in candidates]
        assert answers == [isinstance(value, OrderedNonceSource) for value in candidates]
    assert answers == [True, True, True, True, False, False, False, False, False, False]
