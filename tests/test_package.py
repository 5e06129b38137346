"""Packaging facts: the public API, the command line and the demo."""

from __future__ import annotations

import subprocess
import sys

import hmac_body_auth as hba
from hmac_body_auth.cli import main


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted and names every public attribute it lists."""
    assert list(hba.__all__) == sorted(hba.__all__)
    for name in hba.__all__:
        assert hasattr(hba, name)


def test_core_does_not_import_http_clients() -> None:
    """The signing core imports neither requests nor httpx."""
    code = (
        "import sys; import hmac_body_auth._signing, hmac_body_auth._body, hmac_body_auth._core; "
        "print('requests' in sys.modules, 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_lifecycle_and_lease_import_no_http_client() -> None:
    """The request lifecycle and the lease are client-free: importing them loads neither requests nor httpx."""
    code = (
        "import sys; import hmac_body_auth._lifecycle, hmac_body_auth._lease, hmac_body_auth._origin; "
        "print('requests' in sys.modules, 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_importing_and_using_the_package_never_imports_niquests() -> None:
    """The package, an auth and a signed requests call load no niquests (an optional extra)."""
    code = (
        "import sys, requests, hmac_body_auth as hba; auth = hba.Poloniex('K', 'S'); "
        "requests.Request('POST', 'http://x/', data={'a': '1'}, auth=auth).prepare(); "
        "import hmac_body_auth.presets, hmac_body_auth.testing; print('niquests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"]


def test_importing_the_package_does_not_import_aiohttp() -> None:
    """The package, its auth classes and presets load without aiohttp; the middleware imports it on first use."""
    code = (
        "import sys; import hmac_body_auth as hba; hba.Poloniex, hba.HmacAuth, hba.RedisNonce; "
        "import hmac_body_auth.presets, hmac_body_auth.testing; print('aiohttp' in sys.modules); "
        "hba.aiohttp_middleware; print('aiohttp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_aiohttp_middleware_without_aiohttp_says_what_to_install() -> None:
    """Without aiohttp, hba.aiohttp_middleware raises ModuleNotFoundError naming the extra to install."""
    code = (
        "import sys; sys.modules['aiohttp'] = None; import hmac_body_auth as hba\n"
        "try:\n    hba.aiohttp_middleware\nexcept ModuleNotFoundError as exc:\n    print(exc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'hmac-body-auth[aiohttp]'" in out


def test_aiohttp_middleware_needs_an_auth() -> None:
    """aiohttp_middleware refuses an object without a lifecycle, and its repr masks the key like the auth's."""
    import pytest

    with pytest.raises(hba.ConfigurationError, match="lifecycle"):
        hba.aiohttp_middleware(object())  # type: ignore[arg-type]
    text = repr(hba.aiohttp_middleware(hba.Poloniex("KEY-0123456789", "SECRET-XYZ")))
    assert "SECRET-XYZ" not in text
    assert "KEY-0123456789" not in text


def test_adapters_use_only_the_lifecycle_interface() -> None:
    """The client adapters import neither the auth module nor anything private of another module."""
    import ast
    import re
    from pathlib import Path

    package = Path(hba.__file__).parent
    for name in ("_requests.py", "_httpx.py", "_niquests.py", "_aiohttp.py"):
        source = (package / name).read_text()
        tree = ast.parse(source)
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "_auth" not in imported, name  # no cycle with the auth module
        assert not re.search(r"\bauth\._", source), name  # no private state of the auth
        private = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level
            for alias in node.names
            if alias.name.startswith("_")
        }
        assert private == set(), (name, private)


def test_demo_exits_zero_and_reports_each_client(capsys: object) -> None:
    """`hmac-body-auth demo` accepts everything and prints a line per client."""
    assert main(["demo", "--threads", "2", "--per-thread", "5", "--tasks", "20"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    for client in ("requests", "httpx.Client", "httpx.AsyncClient", "aiohttp (tasks)"):
        assert client in out
    assert "OK" in out


def test_python_m_runs_the_demo() -> None:
    """`python -m hmac_body_auth demo` works as a separate process."""
    done = subprocess.run(
        [sys.executable, "-m", "hmac_body_auth", "demo", "--per-thread", "2", "--tasks", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "accepted" in done.stdout


def test_presets_all_is_sorted_and_every_preset_loads() -> None:
    """Every preset named in PRESETS loads with its verifier, and presets.__all__ is sorted and complete."""
    from hmac_body_auth import presets

    assert list(presets.__all__) == sorted(presets.__all__)
    for name in presets.PRESETS:
        auth_cls, verifier_cls = presets.preset(name)
        assert issubclass(auth_cls, hba.HmacAuth)
        assert hasattr(verifier_cls, "verify")
    for name in presets.__all__:
        assert getattr(presets, name) is not None
