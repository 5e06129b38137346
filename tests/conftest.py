"""Shared fixtures: real loopback servers and one way to call every client path."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import ssl
import sys
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
import pytest
import requests

import hmac_body_auth as hba
from hmac_body_auth.testing import PoloniexServer, VerifyingServer

# Bytecode caches on, whatever the environment says (these machines set
# PYTHONDONTWRITEBYTECODE): without them every xdist worker rewrites and compiles
# every test module, and every subprocess a test starts (the CLI, the docs' console
# examples, the workers of the fork and process tests) compiles the package again.
# This file is loaded before the workers start, so they and their subprocesses inherit it.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

KEY = "TEST-KEY-0123456789"
SECRET = "0123456789abcdef-secret"

# niquests replaces urllib3 with urllib3-future where it is installed, so it is tested in
# an environment of its own (.ci/run's niquests job, tox's niquests env), which sets
# HBA_NIQUESTS=required: there a missing niquests is an error, and so is a run in
# which no niquests test passed. Elsewhere the niquests parameters do not exist.
NIQUESTS_REQUIRED = os.environ.get("HBA_NIQUESTS") == "required"
try:
    import niquests
except ImportError:
    if NIQUESTS_REQUIRED:
        raise
    niquests = None


def _niquests_client(name: str) -> list[Any]:
    """``[name]`` as a parameter marked ``niquests``, or ``[]`` where niquests is absent."""
    return [pytest.param(name, marks=pytest.mark.niquests)] if niquests is not None else []


#: The niquests clients, as parameters marked ``niquests`` (none where niquests is absent).
NIQUESTS_SYNC = _niquests_client("niquests.Session")
NIQUESTS_ASYNC = _niquests_client("niquests.AsyncSession")
NIQUESTS = [*NIQUESTS_SYNC, *NIQUESTS_ASYNC]
CLIENTS = [
    "requests.post",
    "requests.Session",
    "httpx.Client",
    "httpx.AsyncClient",
    "httpx.post",
    "aiohttp",
    *NIQUESTS,
]
#: The clients that prepare requests as requests does (the auth sees the same bodies).
REQUESTS_LIKE = ["requests.post", "requests.Session", *NIQUESTS]
#: One session per kind: requests' and niquests' (see :func:`session`).
SESSIONS = ["requests.Session", *NIQUESTS]


class _AsyncSessionFromSync:
    """A ``niquests.AsyncSession`` driven from synchronous test code: each call runs on one event loop.

    Lets a test written against a requests-like session run unchanged through the
    async adapter (its pre_request and response hooks are awaited as in an app).
    """

    def __init__(self, **options: Any) -> None:
        self._runner = asyncio.Runner()

        async def open_session() -> Any:
            return niquests.AsyncSession(**options)

        self._session = self._runner.run(open_session())

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._runner.run(self._session.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)

    def send(self, prepared: Any, **kwargs: Any) -> Any:
        return self._runner.run(self._session.send(prepared, **kwargs))

    def close(self) -> None:
        try:
            self._runner.run(self._session.close())
        finally:
            self._runner.close()


@contextlib.contextmanager
def session(client: str, **options: Any) -> Iterator[Any]:
    """A requests-like session of ``client`` (one of :data:`SESSIONS`; ``requests.post`` means requests too)."""
    if client.startswith("requests"):
        with requests.Session() as s:
            yield s
    elif client == "niquests.Session":
        with niquests.Session(**options) as s:
            yield s
    elif client == "niquests.AsyncSession":
        facade = _AsyncSessionFromSync(**options)
        try:
            yield facade
        finally:
            facade.close()
    else:
        raise AssertionError(client)


def _cached_default_context(create: Callable[..., ssl.SSLContext]) -> Callable[..., ssl.SSLContext]:
    """``create_ssl_context`` that builds httpx's default context (the CA bundle) once per CA setting.

    Every ``httpx.Client()`` without ``verify=`` parses a whole CA bundle again
    (40-50 ms here), hundreds of times in this suite, for plain-http tests that
    never use it. The default context is built once per value of the CA variables
    (``SSL_CERT_FILE``, ``SSL_CERT_DIR``) and reused as is; every other call (a
    ``verify=`` context or path, a client certificate) goes through unchanged.
    """
    made: dict[tuple[str | None, ...], ssl.SSLContext] = {}

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> ssl.SSLContext:
        if verify is not True or cert is not None:
            return create(verify=verify, cert=cert, trust_env=trust_env)
        # The default context depends on the CA variables (read with trust_env): one per value.
        where = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")) if trust_env else (None,)
        if where not in made:
            made[where] = create(verify=verify, cert=cert, trust_env=trust_env)
        return made[where]

    return create_ssl_context


@pytest.fixture(scope="session", autouse=True)
def _one_default_ssl_context() -> Iterator[None]:
    patched = []
    for name in ("httpx._transports.default", "httpx2._transports.default"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        original = module.create_ssl_context
        module.create_ssl_context = _cached_default_context(original)
        patched.append((module, original))
    yield
    for module, original in patched:
        module.create_ssl_context = original


@pytest.fixture
def server() -> Iterator[PoloniexServer]:
    """A strict Poloniex-like server that knows KEY/SECRET."""
    with PoloniexServer({KEY: SECRET}) as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def open_server() -> Iterator[VerifyingServer]:
    """A verifying server without nonce tracking, for auths without a nonce."""
    with VerifyingServer({KEY: SECRET, None: SECRET}, nonce_field=None) as srv:
        yield srv


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Map requests-style body arguments onto httpx's (data=dict, content=bytes/str)."""
    out = dict(kwargs)
    data = out.pop("data", None)
    headers = dict(out.pop("headers", None) or {})
    if isinstance(data, dict):
        out["data"] = data
    elif isinstance(data, list):
        out["content"] = urlencode(data).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif data is not None:
        out["content"] = data
    if headers:
        out["headers"] = headers
    return out


def aiohttp_session(auth: Any, **kwargs: Any) -> aiohttp.ClientSession:
    """An aiohttp session that signs every request with ``auth`` (call inside a running loop)."""
    kwargs.setdefault("timeout", aiohttp.ClientTimeout(total=10))
    return aiohttp.ClientSession(middlewares=(hba.aiohttp_middleware(auth),), **kwargs)


async def aiohttp_call(method: str, url: str, auth: Any, **kwargs: Any) -> tuple[int, Any]:
    """One request on a new signing aiohttp session: (status, decoded JSON); body arguments as aiohttp takes them."""
    async with aiohttp_session(auth) as session, session.request(method, url, **kwargs) as response:
        return response.status, json.loads(await response.read())


def call(client: str, method: str, url: str, auth: Any, **kwargs: Any) -> tuple[int, Any]:
    """Send one request through ``client``; return (status, decoded JSON)."""
    if client == "requests.post":
        r = requests.request(method, url, auth=auth, timeout=10, **kwargs)
        return r.status_code, r.json()
    if client in ("requests.Session", "niquests.Session", "niquests.AsyncSession"):
        with session(client) as s:
            r = s.request(method, url, auth=auth, timeout=10, **kwargs)
            return r.status_code, r.json()
    if client == "aiohttp":
        # aiohttp takes data= as requests does (a dict or pairs are a form, str and bytes as they are).
        return asyncio.run(aiohttp_call(method, url, auth, **kwargs))
    hkw = _httpx_kwargs(kwargs)
    if client == "httpx.post":
        resp = httpx.request(method, url, auth=auth, timeout=10, **hkw)
        return resp.status_code, resp.json()
    if client == "httpx.Client":
        with httpx.Client(auth=auth, timeout=10) as c:
            resp = c.request(method, url, **hkw)
            return resp.status_code, resp.json()
    if client == "httpx.AsyncClient":

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(auth=auth, timeout=10) as c:
                return await c.request(method, url, **hkw)

        resp = asyncio.run(go())
        return resp.status_code, resp.json()
    raise AssertionError(client)


# -- niquests' own environment: its tests must run there ------------------------------------

_niquests_passed = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the niquests tests that passed (on the controller, from every worker's reports)."""
    global _niquests_passed
    if report.when == "call" and report.passed and "niquests" in report.keywords:
        _niquests_passed += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Where niquests is required, a run in which no niquests test passed fails (on the controller)."""
    if NIQUESTS_REQUIRED and not hasattr(session.config, "workerinput") and exitstatus == 0 and not _niquests_passed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say how many niquests tests passed where they are required (and why the run failed if none did)."""
    if NIQUESTS_REQUIRED and not hasattr(config, "workerinput"):
        if _niquests_passed:
            terminalreporter.write_line(f"niquests tests passed: {_niquests_passed}")
        else:
            terminalreporter.write_line("FAILED: HBA_NIQUESTS=required, but no niquests test passed", red=True)


# -- how many xdist workers `-n auto` starts ---------------------------------------------------------


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than there are cores: a third of the suite's time is spent waiting.

    Servers answering 100 ms late, Redis behind a delaying relay, subprocesses starting:
    while one worker waits, another uses its core (measured on 2 cores: 3 workers 54 s,
    2 workers 68 s, 4 workers 57 s).
    """
    return (os.cpu_count() or 1) + 1
