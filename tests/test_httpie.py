"""The HTTPie plugins: the real ``http`` command signs requests that strict loopback servers accept."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

# Not importorskip: httpie is in the test extra, and a missing plugin host must fail the run.
from httpie.context import Environment
from httpie.core import main
from httpie.plugins.registry import plugin_manager

from hmac_body_auth import httpie_plugin as plugins
from hmac_body_auth.presets import PRESETS, entry, registry
from hmac_body_auth.testing import PoloniexServer, SchemeServer, VerifyingServer

from ._presets import CALLS, Call

KEY = "HTTPIE-KEY-0123456789"
SECRET = "hba-httpie-secret-0123456789"
B64_SECRET = "aGJhLWh0dHBpZS1iYXNlNjQtc2VjcmV0LTAxMjM0NTY3ODk="  # Kraken and Coinbase issue base64 secrets
PASSPHRASE = "pass:phrase with colons"  # -a is split on its first two colons only
AUTH_TYPES = {*PRESETS, "hmac-body"}

FORM, JSON = True, False
#: (--auth-type, its secret, --form or HTTPie's default JSON, method, path, request items): hand-picked values
#: HTTPie encodes its own way (spaces, ``!@#``, ``:=`` numbers, repeated keys).
EDGE_CASES = [
    ("binance", SECRET, JSON, "GET", "/api/v3/account", ["omitZeroBalances==true"]),
    ("binance-futures", SECRET, JSON, "GET", "/fapi/v1/openOrders", ["symbol==BTCUSDT"]),
    ("binance-futures", SECRET, FORM, "POST", "/fapi/v1/order", ["symbol=BTCUSDT", "side=BUY", "quantity=1"]),
    ("bitfinex", SECRET, JSON, "POST", "/v2/auth/w/order/submit", ["type=EXCHANGE LIMIT", "symbol=tBTCUSD"]),
    ("bitget", SECRET, JSON, "GET", "/api/v2/mix/account/account", ["symbol==BTCUSDT", "productType==USDT-FUTURES"]),
    ("bitget", SECRET, JSON, "POST", "/api/v2/spot/trade/place-order", ["symbol=BTCUSDT", "side=buy"]),
    ("bitmex", SECRET, JSON, "GET", "/api/v1/position", ['filter=={"symbol": "XBTUSD"}']),
    ("bitmex", SECRET, JSON, "POST", "/api/v1/order", ["symbol=XBTUSD", "orderQty:=100", "text=a b é"]),
    ("bitmex", SECRET, FORM, "DELETE", "/api/v1/order", ["orderID=5f7b8f1e", "text=cancel me"]),
    ("bitstamp", SECRET, FORM, "POST", "/api/v2/buy/btcusd/", ["amount=0.001", "price=20000"]),
    ("bitvavo", SECRET, JSON, "GET", "/v2/trades", ["market==BTC-EUR", "limit==25"]),
    ("bitvavo", SECRET, JSON, "POST", "/v2/order", ["market=BTC-EUR", "side=buy", "amount=1.23"]),
    ("bybit", SECRET, JSON, "GET", "/v5/account/wallet-balance", ["accountType==UNIFIED"]),
    ("coinbase-exchange", B64_SECRET, JSON, "POST", "/orders", ["size=0.01", "side=buy", "product_id=BTC-USD"]),
    ("cryptocom", SECRET, JSON, "POST", "/exchange/v1/private/create-order", ["instrument_name=BTC_USD", "side=BUY"]),
    ("deribit", SECRET, JSON, "GET", "/api/v2/private/get_positions", ["currency==BTC", "kind==future"]),
    ("deribit", SECRET, JSON, "POST", "/api/v2", ["jsonrpc=2.0", "method=private/buy", "params[amount]:=10"]),
    ("gateio", SECRET, JSON, "GET", "/api/v4/spot/orders", ["currency_pair==BTC_USDT", "status==open"]),
    ("gateio", SECRET, JSON, "POST", "/api/v4/spot/orders", ["currency_pair=BTC_USDT", "amount=0.001"]),
    ("gemini", SECRET, JSON, "POST", "/v1/balances", []),
    ("hitbtc", SECRET, JSON, "GET", "/api/3/spot/order", ["symbol==ETH BTC"]),
    ("htx", SECRET, JSON, "GET", "/v1/order/openOrders", ["symbol==ethusdt", "note==a b:c"]),
    ("htx", SECRET, JSON, "POST", "/v1/order/orders/place", ["symbol=ethusdt", "type=buy-limit"]),
    ("kraken", B64_SECRET, FORM, "POST", "/0/private/AddOrder", ["pair=XBTUSD", "volume=1.25"]),
    ("kucoin", SECRET, JSON, "GET", "/api/v1/deposit-addresses", ["currency==BTC", "note==a b!@#"]),
    ("mexc", SECRET, JSON, "GET", "/api/v3/myTrades", ["symbol==BTCUSDT", "limit==10"]),
    ("mexc", SECRET, FORM, "POST", "/api/v3/order", ["symbol=BTCUSDT", "side=BUY", "quantity=1"]),
    ("okx", SECRET, JSON, "GET", "/api/v5/account/balance", ["ccy==BTC,ETH"]),
    ("okx", SECRET, JSON, "POST", "/api/v5/trade/order", ["instId=BTC-USDT", "sz:=1"]),
    ("poloniex", SECRET, FORM, "POST", "/tradingApi", ["command=returnBalances"]),
    ("poloniex-v3", SECRET, JSON, "GET", "/accounts/balances", []),
    ("hmac-body", SECRET, JSON, "POST", "/anything", ["command=returnBalances"]),
]


def _case(name: str, call: Call) -> tuple[str, str, bool, str, str, list[str]]:
    """A cross-preset call as an ``http`` command line: ``k==v`` query items, then ``k=v`` form or JSON items."""
    items = [f"{k}=={v}" for k, v in call.kwargs.get("params", {}).items()]
    body = call.kwargs.get("data", call.kwargs.get("json", {}))
    items += [f"{k}={v}" for k, v in body.items()]
    secret = B64_SECRET if entry(name).secret_encoding == "base64" else SECRET
    return (name, secret, "data" in call.kwargs, call.method, call.path, items)


#: Every plugin at least once (each preset's sample call, from the registry), then the edge cases.
CASES = [_case(name, calls[0]) for name, calls in CALLS.items()] + EDGE_CASES
#: Print the whole exchange (so the secret would show if it leaked) and exit non-zero on a 4xx.
ARGS = ["--ignore-stdin", "--check-status", "--print=HBhb"]


class Run(NamedTuple):
    """What one ``http`` run returned."""

    status: int
    out: str
    err: str


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An HTTPie config directory that keeps HTTPie from checking for updates over the network."""
    path = tmp_path_factory.mktemp("httpie-config")
    (path / "config.json").write_text(json.dumps({"disable_update_warnings": True}))
    return path


@pytest.fixture
def http(config_dir: Path) -> Iterator[Callable[..., Run]]:
    """Run ``http ARGS...`` in this process through ``httpie.core.main``, which the ``http`` command calls."""

    def run(*args: str) -> Run:
        with tempfile.TemporaryFile("w+b") as out, tempfile.TemporaryFile("w+", encoding="utf-8") as err:
            env = Environment(
                stdin=None,
                stdin_isatty=True,
                stdout=out,
                stdout_isatty=False,
                stderr=err,
                stderr_isatty=False,
                config_dir=config_dir,
            )
            status = main(["http", *ARGS, *args], env=env)
            out.seek(0)
            err.seek(0)
            return Run(int(status), out.read().decode(), err.read())

    # main() loads the installed plugins into HTTPie's global registry on every run: undo that.
    saved = list(plugin_manager)
    try:
        yield run
    finally:
        plugin_manager[:] = saved


def _plugins() -> dict[str, type[plugins._HmacPlugin]]:
    """``--auth-type`` -> plugin class, from this package's module (the classes the entry points name)."""
    return {cls.auth_type: cls for cls in (getattr(plugins, name) for name in plugins.__all__)}


def _credentials(auth_type: str, secret: str) -> str:
    return f"{KEY}:{secret}:{PASSPHRASE}" if _plugins()[auth_type].passphrase else f"{KEY}:{secret}"


def _server(auth_type: str, secret: str) -> VerifyingServer:
    """A strict loopback server for ``auth_type`` that knows ``KEY``, ``secret`` and ``PASSPHRASE``."""
    if auth_type == "poloniex":
        return PoloniexServer({KEY: secret})
    if auth_type == "hmac-body":
        return VerifyingServer({KEY: secret}, nonce_field=None)
    found = entry(auth_type)
    if found.needs_passphrase:
        return SchemeServer(found.verifier({KEY: secret}, passphrases={KEY: PASSPHRASE}), window_ms=60_000)
    return SchemeServer(found.verifier({KEY: secret}), window_ms=60_000)


def test_the_http_command_signs_a_poloniex_call(config_dir: Path) -> None:
    """`http --auth-type=poloniex -a KEY:SECRET --form POST .../tradingApi command=returnBalances`, as a process."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["HTTPIE_CONFIG_DIR"] = str(config_dir)
    with PoloniexServer({KEY: SECRET}) as server:
        args = ["--auth-type=poloniex", "-a", f"{KEY}:{SECRET}", "--form", "POST", server.url, "command=returnBalances"]
        done = subprocess.run(
            [sys.executable, "-m", "httpie", *ARGS, *args], capture_output=True, text=True, timeout=60, env=env
        )
    assert done.returncode == 0, done.stderr
    assert (server.stats.accepted, server.stats.bad_signature, server.stats.rejected) == (1, 0, 0)
    assert server.received[0].body.startswith(b"command=returnBalances&nonce=")
    assert '"BTC": "0.00000000"' in done.stdout
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("auth_type", "secret", "form", "method", "path", "items"),
    CASES,
    ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)],
)
def test_every_auth_type_is_accepted(
    http: Callable[..., Run], auth_type: str, secret: str, form: bool, method: str, path: str, items: list[str]
) -> None:
    """Each --auth-type signs what HTTPie sends (its JSON, forms, queries, headers) so that the verifier accepts it."""
    options = ["--form"] if form else []
    with _server(auth_type, secret) as server:
        run = http(
            f"--auth-type={auth_type}",
            "-a",
            _credentials(auth_type, secret),
            *options,
            method,
            server.origin + path,
            *items,
        )
    assert run.status == 0, run.out + run.err
    assert (server.stats.accepted, server.stats.bad_signature, server.stats.rejected) == (1, 0, 0)
    assert secret not in run.out + run.err


@pytest.mark.parametrize("auth_type", ["poloniex", "kraken", "okx"])
def test_a_wrong_secret_is_rejected(http: Callable[..., Run], auth_type: str) -> None:
    """Tamper twin: signed with another secret, the request is rejected and http exits 4 (a 4xx, --check-status)."""
    _, secret, form, method, path, items = next(case for case in EDGE_CASES if case[0] == auth_type)
    wrong = "d3Jvbmctc2VjcmV0LWJhc2U2NC0wMTIzNDU2Nzg5YWI="  # base64, so Kraken takes it too
    options = ["--form"] if form else []
    with _server(auth_type, secret) as server:
        run = http(
            f"--auth-type={auth_type}",
            "-a",
            _credentials(auth_type, wrong),
            *options,
            method,
            server.origin + path,
            *items,
        )
    assert run.status == 4, run.err
    assert (server.stats.accepted, server.stats.bad_signature) == (0, 1)


def test_a_stale_nonce_is_recovered(http: Callable[..., Run]) -> None:
    """A Poloniex "nonce must be greater" answer is read and the call re-signed once, inside HTTPie's send."""
    key = "HTTPIE-NONCE-KEY"  # its own key: the raised nonce floor is process-wide
    with PoloniexServer({key: SECRET}) as server:
        server.last_nonce[key] = 10**19
        run = http("--auth-type=poloniex", "-a", f"{key}:{SECRET}", "--form", "POST", server.url, "command=x")
    assert run.status == 0, run.err
    assert [r.status for r in server.received] == [422, 200]
    assert (server.stats.accepted, server.stats.bad_nonce, server.stats.bad_signature) == (1, 1, 0)


def test_hmac_body_without_a_key(http: Callable[..., Run]) -> None:
    """`-a :SECRET` signs with --auth-type=hmac-body but sends no Key header."""
    with VerifyingServer({None: SECRET}, nonce_field=None) as server:
        run = http("--auth-type=hmac-body", "-a", f":{SECRET}", "--form", "POST", server.url, "a=1")
    assert run.status == 0, run.err
    assert server.stats.accepted == 1
    assert "Key" not in server.received[0].headers


def test_missing_passphrase_is_an_error_without_the_secret(http: Callable[..., Run]) -> None:
    """`http --auth-type=okx -a KEY:SECRET` exits 1 with an error naming the passphrase; nothing sent or echoed."""
    with _server("okx", SECRET) as server:
        run = http("--auth-type=okx", "-a", f"{KEY}:{SECRET}", "GET", server.origin + "/api/v5/account/balance")
    assert run.status == 1
    assert "ConfigurationError: --auth-type=okx needs the passphrase too: -a <key>:<secret>:<passphrase>" in run.err
    assert server.received == []
    assert SECRET not in run.out + run.err + repr(plugins.OKXPlugin().get_auth(KEY, SECRET))


def test_debug_output_hides_the_secret(http: Callable[..., Run], capsys: pytest.CaptureFixture[str]) -> None:
    """`http --debug` prints the auth object among the request arguments: its repr holds no secret."""
    with _server("okx", SECRET) as server:
        credentials = f"{KEY}:{SECRET}:{PASSPHRASE}"
        run = http("--debug", "--auth-type=okx", "-a", credentials, "GET", server.origin + "/api/v5/account/balance")
    dumped = capsys.readouterr().err  # HTTPie writes the request arguments to sys.stderr, not to env.stderr
    assert run.status == 0, run.err
    assert "'auth': OKX(key=" in dumped
    assert SECRET not in run.out + run.err + dumped


def test_bad_credentials_are_an_error_without_the_secret(http: Callable[..., Run]) -> None:
    """A Kraken secret that is not base64 is a configuration error: exit 1, nothing sent, the secret not echoed."""
    secret = "not-base64-secret!!"
    with _server("kraken", B64_SECRET) as server:
        run = http(
            "--auth-type=kraken", "-a", f"{KEY}:{secret}", "--form", "POST", server.origin + "/0/private/Balance"
        )
    assert run.status == 1
    assert "ConfigurationError: --auth-type=kraken: secret is not valid base64" in run.err
    assert server.received == []
    assert secret not in run.out + run.err


def test_registry_lists_every_preset() -> None:
    """Once HTTPie loads the installed entry points, every preset and hmac-body is an --auth-type of this package."""
    saved = list(plugin_manager)
    try:
        plugin_manager.load_installed_plugins()
        mapping = plugin_manager.get_auth_plugin_mapping()
    finally:
        plugin_manager[:] = saved
    missing = AUTH_TYPES - set(mapping)
    assert not missing, f"not registered: {sorted(missing)}; is the package installed (pip install -e .)?"
    ours = {name for name, cls in mapping.items() if cls.__module__ == plugins.__name__}
    assert ours == AUTH_TYPES
    assert {mapping[name].package_name for name in ours} == {"hmac-body-auth"}


def test_plugins_match_the_presets() -> None:
    """One plugin per registry entry plus hmac-body; -a takes a passphrase exactly when the preset's keys have one."""
    assert list(plugins.__all__) == sorted(plugins.__all__)
    mapping = _plugins()
    assert set(mapping) == AUTH_TYPES
    assert mapping["hmac-body"].passphrase is False
    for found in registry():
        plugin = mapping[found.name]
        assert plugin.__name__ == f"{found.auth.__name__}Plugin", found.name
        assert plugin.passphrase is found.needs_passphrase, found.name
        assert plugin.name == found.title, found.name
        shape = "<key>:<secret>:<passphrase>" if found.needs_passphrase else "<key>:<secret>"
        assert plugin.description.endswith(f"-a {shape}"), found.name


def _entry_points() -> dict[str, str]:
    """pyproject.toml's ``httpie.plugins.auth.v1`` entry points: --auth-type -> ``module:Class``."""
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    with pyproject.open("rb") as f:
        project = tomllib.load(f)["project"]
    points: dict[str, str] = project["entry-points"]["httpie.plugins.auth.v1"]
    return points


def test_every_registry_entry_has_its_entry_point() -> None:
    """pyproject.toml names a plugin for every registry entry, and every entry point but hmac-body is one."""
    points = _entry_points()
    names = {found.name for found in registry()}
    assert set(points) - {"hmac-body"} == names, "pyproject's httpie.plugins.auth.v1 and the registry differ"
    for auth_type, target in points.items():
        module, _, name = target.partition(":")
        assert module == plugins.__name__, auth_type
        assert getattr(plugins, name).auth_type == auth_type, auth_type


def test_a_missing_passphrase_is_refused_for_every_preset_that_has_one() -> None:
    """Every plugin whose preset has a passphrase refuses -a KEY:SECRET before anything is signed."""
    with_passphrase = [found.name for found in registry() if found.needs_passphrase]
    assert with_passphrase
    for name in with_passphrase:
        auth = _plugins()[name]().get_auth(KEY, SECRET)
        assert isinstance(auth, plugins._Refusal), name
        assert f"--auth-type={name} needs the passphrase too" in repr(auth)
        assert SECRET not in repr(auth)


def test_loading_the_plugins_is_cheap() -> None:
    """HTTPie imports every plugin on each run: importing these loads neither httpx, the auth classes nor a preset."""
    code = (
        "import sys, hmac_body_auth.httpie_plugin as p; [getattr(p, n).auth_type for n in p.__all__]; "
        "print(sorted(m for m in sys.modules if m in ('httpx', 'hmac_body_auth._auth') "
        "or m.startswith('hmac_body_auth.presets.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
