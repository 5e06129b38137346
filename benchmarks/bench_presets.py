"""Ratio benchmark: each preset's signing against ccxt's own signing code for the same request.

For every preset in ``hmac_body_auth.presets.PRESETS`` one typical private request
(an order POST, with the parameters each API documents) is signed, inside one run, by

* ``ccxt``: the exchange class's ``sign(path, api, method, params)`` of ccxt (the
  most used multi-exchange client library), credentials set, with ``nonce()``,
  ``milliseconds()`` and ``uuid()`` replaced on the instance by fixed values: the
  baseline. It turns ``params`` into the URL, body and signed headers.
  Poloniex legacy (``poloniex``): ccxt no longer has the retired ``tradingApi``, so
  its baseline is hand-written in the shape of ccxt's former class: the form body with the
  nonce (``urlencode``) and ``hmac.new(secret, body, sha512).hexdigest()``;
* ``sign``: our preset's ``auth.sign(method, body, url=..., content_type=...)`` of
  the same request, the body already encoded (bytes);
* ``encode+sign``: the same, the body encoded from ``params`` inside the call with
  ccxt's own encoder (``Exchange.json``, which is orjson, or ``Exchange.urlencode``),
  so it does what ccxt's ``sign`` does, encoding included;
* ``requests``: the preset through requests, ``Request(..., auth=auth).prepare()``
  minus ``Request(...).prepare()`` without auth, both timed in the same round (the
  difference is what the auth adds to a requests call, lease and hook included).

Fairness: the same request (method, URL, parameters, key, secret, passphrase, the
same fixed timestamp) on both sides; our presets get ``clock=`` and ``nonce=`` (a
counter from the same start as ccxt's ``incrementing_nonce``) injected. KuCoin's
ccxt partner signature (a second HMAC for broker attribution, not part of the API's
authentication) is switched off. Before timing, every signed request of every
subject is checked with the preset's server-side verifier, so both sides provably
sign what the API expects. Rounds are interleaved (the order of the subjects rotates
every round), the garbage collector is off inside the timed loops, and each ratio is
the median over rounds of the per-round ratio (paired, so drift cancels).

ccxt is not a dependency: run it with an interpreter that has both ccxt and this
package (``python3 -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install ccxt &&
/tmp/benchvenv/bin/pip install -e .``), then
``/tmp/benchvenv/bin/python benchmarks/bench_presets.py [--quick]``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gc
import hashlib
import hmac
import inspect
import itertools
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

import hmac_body_auth
from hmac_body_auth.presets import PRESETS, preset

KEY = "account-BENCH-KEY-0001"  # ccxt's gemini wants "account" in the key (an account-level key)
SECRET = base64.b64encode(b"bench-secret-0123456789abcdef0123456789abcdef").decode()  # Kraken, Coinbase: base64
PASSPHRASE = "bench-passphrase"
FIXED_MS = 1_700_000_000_123
FIXED_UUID = "f93c979d-b00d-43a9-9b9c-fd4cd9547fa6"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
GOAL = 1.0

SUBJECTS = ("ccxt", "sign", "encode+sign", "requests")  # "requests": with and without auth, paired


@dataclass
class Case:
    """One preset and its typical request, for ccxt and for us."""

    name: str  # the preset's CLI name
    ccxt_id: str | None  # None: hand-written baseline
    path: str  # ccxt's implicit API path
    url: str
    kind: str  # "json" or "form"
    params: dict[str, str]
    ccxt_params: dict[str, str] | None = None  # when ccxt needs path parameters in params
    options: dict[str, Any] = field(default_factory=dict)  # preset keywords
    verifier_options: dict[str, Any] = field(default_factory=dict)
    seconds: bool = False  # ccxt's nonce() is in seconds (Coinbase's timestamp)
    counter: bool = False  # a nonce counter (Kraken, Bitfinex, Gemini, Poloniex legacy)
    api: tuple[str, ...] = ("private",)  # ccxt's api argument (the section of its API table)
    method: str = "POST"

    @property
    def request(self) -> str:
        return f"{self.method} {urlsplit(self.url).path} ({self.kind if self.method == 'POST' else 'query'})"


CASES = [
    Case(
        "binance",
        "binance",
        "order",
        "https://api.binance.com/api/v3/order",
        "form",
        {
            "symbol": "LTCBTC",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "1",
            "price": "0.1",
            "newClientOrderId": "bench-0001",  # else ccxt makes one up
        },
        options={"recv_window": 10_000},  # ccxt's default recvWindow
    ),
    Case(
        "binance-futures",
        "binanceusdm",
        "order",
        "https://fapi.binance.com/fapi/v1/order",
        "form",
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": "50000",
            "newClientOrderId": "bench-0001",
        },
        options={"recv_window": 10_000},  # ccxt's default recvWindow
        api=("fapiPrivate",),
    ),
    Case(
        "bitfinex",
        "bitfinex",
        "auth/w/order/submit",
        "https://api.bitfinex.com/v2/auth/w/order/submit",
        "json",
        {"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "price": "15", "amount": "0.001"},
        counter=True,
    ),
    Case(
        "bitget",
        "bitget",
        "v2/spot/trade/place-order",
        "https://api.bitget.com/api/v2/spot/trade/place-order",
        "json",
        {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": "50000", "size": "0.001"},
        options={"passphrase": PASSPHRASE},
        verifier_options={"passphrases": {KEY: PASSPHRASE}},
        api=("private", "spot"),
    ),
    Case(
        "bitmex",
        None,
        "",
        "https://www.bitmex.com/api/v1/order",
        "json",
        {"symbol": "XBTUSD", "side": "Buy", "orderQty": "100", "price": "50000", "ordType": "Limit"},
    ),
    Case(
        "bitstamp",
        "bitstamp",
        "buy/{pair}/",
        "https://www.bitstamp.net/api/v2/buy/btcusd/",
        "form",
        {"amount": "0.001", "price": "50000"},
        ccxt_params={"pair": "btcusd", "amount": "0.001", "price": "50000"},
        options={"ordered": False},  # the preset's default with its UUID nonce
    ),
    Case(
        "bitvavo",
        "bitvavo",
        "order",
        "https://api.bitvavo.com/v2/order",
        "json",
        {
            "market": "BTC-EUR",
            "side": "buy",
            "orderType": "limit",
            "amount": "0.001",
            "price": "50000",
            "clientOrderId": "bench-0001",
        },
    ),
    Case(
        "bybit",
        "bybit",
        "v5/order/create",
        "https://api.bybit.com/v5/order/create",
        "json",
        {
            "category": "spot",
            "symbol": "BTCUSDT",
            "side": "Buy",
            "orderType": "Limit",
            "qty": "0.001",
            "price": "50000",
            "orderLinkId": "bench-0001",
        },
    ),
    Case(
        "coinbase-exchange",
        "coinbaseexchange",
        "orders",
        "https://api.exchange.coinbase.com/orders",
        "json",
        {"product_id": "BTC-USD", "side": "buy", "type": "limit", "price": "50000.00", "size": "0.001"},
        options={"passphrase": PASSPHRASE},
        verifier_options={"passphrases": {KEY: PASSPHRASE}},
        seconds=True,
    ),
    Case(
        "cryptocom",
        "cryptocom",
        "private/create-order",
        "https://api.crypto.com/exchange/v1/private/create-order",
        "json",
        {
            "instrument_name": "BTC_USD",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.001",
            "price": "50000",
            "client_oid": "bench-0001",
        },
        api=("v1", "private"),
    ),
    Case(
        "deribit",
        "deribit",
        "buy",
        "https://www.deribit.com/api/v2/private/buy?instrument_name=BTC-PERPETUAL&amount=10&type=limit&price=50000",
        "query",
        {"instrument_name": "BTC-PERPETUAL", "amount": "10", "type": "limit", "price": "50000"},
        method="GET",
    ),
    Case(
        "gateio",
        "gate",
        "orders",
        "https://api.gateio.ws/api/v4/spot/orders",
        "json",
        {"currency_pair": "BTC_USDT", "side": "buy", "amount": "0.001", "price": "50000", "text": "t-bench0001"},
        seconds=True,
        api=("private", "spot"),
    ),
    Case(
        "gemini",
        "gemini",
        "v1/order/new",
        "https://api.gemini.com/v1/order/new",
        "json",
        {
            "symbol": "btcusd",
            "amount": "0.001",
            "price": "50000.00",
            "side": "buy",
            "type": "exchange limit",
            "client_order_id": "bench-0001",
        },
        counter=True,
    ),
    Case(
        "hitbtc",
        "hitbtc",
        "spot/order",
        "https://api.hitbtc.com/api/3/spot/order",
        "json",
        {
            "symbol": "BTCUSDT",
            "side": "buy",
            "type": "limit",
            "quantity": "0.001",
            "price": "50000",
            "client_order_id": "bench-0001",
        },
    ),
    Case(
        "htx",
        "htx",
        "order/orders/place",
        "https://api.huobi.pro/v1/order/orders/place",
        "json",
        {
            "account-id": "100009",
            "symbol": "btcusdt",
            "type": "buy-limit",
            "amount": "0.001",
            "price": "50000",
            "client-order-id": "bench0001",
        },
    ),
    Case(
        "kraken",
        "kraken",
        "AddOrder",
        "https://api.kraken.com/0/private/AddOrder",
        "form",
        {"ordertype": "limit", "pair": "XBTUSD", "price": "37500", "type": "buy", "volume": "1.25"},
        counter=True,
    ),
    Case(
        "kucoin",
        "kucoin",
        "orders",
        "https://api.kucoin.com/api/v1/orders",
        "json",
        {
            "clientOid": "bench-0001",
            "side": "buy",
            "symbol": "BTC-USDT",
            "type": "limit",
            "price": "50000",
            "size": "0.001",
        },
        options={"passphrase": PASSPHRASE},
        verifier_options={"passphrases": {KEY: PASSPHRASE}},
    ),
    Case(
        "mexc",
        "mexc",
        "order",
        "https://api.mexc.com/api/v3/order",
        "form",
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "50000"},
        options={"recv_window": 5000},  # ccxt's default recvWindow
        api=("spot", "private"),
    ),
    Case(
        "okx",
        "okx",
        "trade/order",
        "https://www.okx.com/api/v5/trade/order",
        "json",
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "clOrdId": "bench0001",  # else ccxt makes one up (and adds its broker tag)
            "side": "buy",
            "ordType": "limit",
            "px": "50000",
            "sz": "0.001",
        },
        options={"passphrase": PASSPHRASE},
        verifier_options={"passphrases": {KEY: PASSPHRASE}},
    ),
    Case(
        "poloniex",
        None,
        "",
        "https://poloniex.com/tradingApi",
        "form",
        {"command": "buy", "currencyPair": "BTC_ETH", "rate": "0.05", "amount": "1"},
        counter=True,
    ),
    Case(
        "poloniex-v3",
        "poloniex",
        "orders",
        "https://api.poloniex.com/orders",
        "json",
        {
            "symbol": "BTC_USDT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": "0.001",
            "price": "50000",
            "clientOrderId": "bench-0001",
        },
    ),
]


class LegacyPoloniexBaseline:
    """Poloniex legacy by hand, as ccxt's retired class signed it: form body with nonce, hex HMAC-SHA512."""

    def __init__(self, key: str, secret: str) -> None:
        self.key = key
        self.secret = secret.encode()
        self.nonce = itertools.count(FIXED_MS).__next__

    def sign(self, path: str, api: list[str], method: str, params: dict[str, str]) -> dict[str, Any]:
        body = urlencode({**params, "nonce": self.nonce()})
        sign = hmac.new(self.secret, body.encode(), hashlib.sha512).hexdigest()
        headers = {"Content-Type": FORM, "Key": self.key, "Sign": sign}
        return {"url": "https://poloniex.com/tradingApi", "method": method, "body": body, "headers": headers}


class BitMEXBaseline:
    """BitMEX by hand, as its official ``APIKeyAuthenticator`` signs: verb + path + expires + data, hex HMAC-SHA256.

    ccxt 4.5 has no BitMEX class; this is the shape of BitMEX's own Python code
    (PyPI ``bitmex`` 0.2.2, ``BitMEXAPIKeyAuthenticator.py``): JSON body, expiry 5 s ahead.
    """

    def __init__(self, key: str, secret: str) -> None:
        self.key = key
        self.secret = secret.encode()

    def sign(self, path: str, api: list[str], method: str, params: dict[str, str]) -> dict[str, Any]:
        body = json.dumps(params, separators=(",", ":"))
        expires = str(round(FIXED_MS / 1000) + 5)
        message = (method + "/api/v1/order" + expires + body).encode()
        signature = hmac.new(self.secret, message, hashlib.sha256).hexdigest()
        headers = {"Content-Type": JSON, "api-expires": expires, "api-key": self.key, "api-signature": signature}
        return {"url": "https://www.bitmex.com/api/v1/order", "method": method, "body": body, "headers": headers}


def make_ccxt(ccxt: Any, case: Case) -> Any:
    if case.ccxt_id is None:
        return BitMEXBaseline(KEY, SECRET) if case.name == "bitmex" else LegacyPoloniexBaseline(KEY, SECRET)
    exchange = getattr(ccxt, case.ccxt_id)({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
    stamp = FIXED_MS // 1000 if case.seconds else FIXED_MS
    # Fixed time on the instance; incrementing_nonce() still counts up from it (max(nonce(), last + 1)).
    exchange.nonce = lambda: stamp
    exchange.milliseconds = lambda: FIXED_MS
    exchange.uuid = lambda: FIXED_UUID
    if case.ccxt_id == "kucoin":
        exchange.options["partner"] = {}
    if case.ccxt_id == "htx":
        exchange.hostname = "api.huobi.pro"  # ccxt fills it in from its options when it loads markets
    return exchange


def make_ours(case: Case) -> Any:
    auth_class, _ = preset(case.name)
    options: dict[str, Any] = dict(case.options)
    if case.counter:
        options["nonce"] = itertools.count(FIXED_MS).__next__
    elif case.name == "bitstamp":
        options["nonce"] = lambda: FIXED_UUID
    if "clock" in inspect.signature(auth_class).parameters:  # the timestamp presets; clock= is in ns
        options["clock"] = lambda: FIXED_MS * 1_000_000
    return auth_class(KEY, SECRET, **options)


def make_verifier(case: Case) -> Any:
    _, verifier_class = preset(case.name)
    return verifier_class({KEY: SECRET}, **case.verifier_options)


@dataclass
class Bench:
    case: Case
    calls: dict[str, Callable[[], Any]]
    identical: bool = False


def build(ccxt: Any, case: Case) -> Bench:
    exchange = make_ccxt(ccxt, case)
    auth = make_ours(case)
    method, url, params = case.method, case.url, case.params
    ccxt_params = case.ccxt_params or params
    api = list(case.api)
    path = case.path
    json_body = case.kind == "json"
    content_type = JSON if json_body else FORM if case.kind == "form" else None
    # ccxt's own encoders (orjson, which ccxt requires, for JSON), so encoding costs the same on both sides.
    to_text: Callable[[dict[str, str]], str] = ccxt.Exchange.json if json_body else ccxt.Exchange.urlencode

    def encode(p: dict[str, str]) -> bytes:
        return to_text(p).encode()

    body = encode(params) if case.kind != "query" else None
    data_kw: dict[str, Any] = {"json": params} if json_body else {"data": params}
    if case.kind == "query":
        data_kw = {}

    calls: dict[str, Callable[[], Any]] = {
        "ccxt": lambda: exchange.sign(path, api, method, ccxt_params),
        "sign": lambda: auth.sign(method, url, body=body, content_type=content_type),
        "encode+sign": (
            (lambda: auth.sign(method, url, body=encode(params), content_type=content_type))
            if body is not None
            else (lambda: auth.sign(method, url.split("?")[0] + "?" + ccxt.Exchange.urlencode(params)))
        ),
        "requests+auth": lambda: requests.Request(method, url, auth=auth, **data_kw).prepare(),
        "requests": lambda: requests.Request(method, url, **data_kw).prepare(),
    }
    return Bench(case, calls)


def check(bench: Bench) -> None:
    """Make sure every subject really signs this API's way (a wrong benchmark is worse than none)."""
    case = bench.case
    verifier = make_verifier(case)
    before = copy.deepcopy(case.ccxt_params or case.params)

    def verify(who: str, method: str, url: str, headers: dict[str, str], body: bytes) -> str:
        verdict = verifier.verify(method, url, headers, body)
        if not verdict.ok:
            raise SystemExit(f"{case.name}: {who}'s request does not verify: {verdict.reason}")
        return {k.lower(): v for k, v in headers.items()}.get(signature_header(case), "")

    out = bench.calls["ccxt"]()
    ccxt_body = (out["body"] or "").encode()
    ccxt_sig = verify("ccxt", out["method"], out["url"], dict(out["headers"]), ccxt_body)
    sigs = []
    for name in ("sign", "encode+sign"):
        signed = bench.calls[name]()
        headers = dict(signed.headers)
        headers.setdefault("Content-Type", signed.content_type or (JSON if case.kind == "json" else FORM))
        if case.kind == "query":
            headers.pop("Content-Type")
        sigs.append(verify(f"our {name}", case.method, signed.url, headers, signed.body))
    prepared = bench.calls["requests+auth"]()
    body = prepared.body.encode() if isinstance(prepared.body, str) else (prepared.body or b"")
    verify("our requests", prepared.method, prepared.url, dict(prepared.headers), body)
    if (case.ccxt_params or case.params) != before:
        raise SystemExit(f"{case.name}: ccxt's sign() changed the params; the timed calls would differ")
    bench.identical = bool(ccxt_sig) and ccxt_sig in sigs


def signature_header(case: Case) -> str:
    return {
        "binance": "",  # in the body
        "binance-futures": "",
        "bitmex": "api-signature",
        "bitvavo": "bitvavo-access-signature",
        "cryptocom": "",  # in the body
        "deribit": "authorization",
        "htx": "",  # in the query
        "bitget": "access-sign",
        "gateio": "sign",
        "mexc": "",  # in the query or body
        "bitfinex": "bfx-signature",
        "bitstamp": "x-auth-signature",
        "bybit": "x-bapi-sign",
        "coinbase-exchange": "cb-access-sign",
        "gemini": "x-gemini-signature",
        "hitbtc": "authorization",
        "kraken": "api-sign",
        "kucoin": "kc-api-sign",
        "okx": "ok-access-sign",
        "poloniex": "sign",
        "poloniex-v3": "signature",
    }[case.name]


def time_round(fn: Callable[[], Any], n: int) -> float:
    """Seconds per ``fn()`` over ``n`` calls, the garbage collector off."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / n


def time_pair(with_auth: Callable[[], Any], without: Callable[[], Any], n: int) -> tuple[float, float]:
    """Seconds per call of each, alternating call by call (which goes first alternates too).

    Preparing a request costs far more than signing it, so the two are paired as
    tightly as possible: drift and neighbours' load then land on both alike.
    """
    clock = time.perf_counter
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    a = b = 0.0
    try:
        for i in range(n):
            if i & 1:
                t0 = clock()
                with_auth()
                t1 = clock()
                without()
                t2 = clock()
                a += t1 - t0
                b += t2 - t1
            else:
                t0 = clock()
                without()
                t1 = clock()
                with_auth()
                t2 = clock()
                b += t1 - t0
                a += t2 - t1
    finally:
        if enabled:
            gc.enable()
    return a / n, b / n


def measure(bench: Bench, name: str, n: int, times: dict[str, list[float]]) -> None:
    if name == "requests":
        with_auth, without = time_pair(bench.calls["requests+auth"], bench.calls["requests"], n)
        times["requests+auth"].append(with_auth)
        times["requests"].append(without)
    else:
        times[name].append(time_round(bench.calls[name], n))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few, short rounds)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 21, quick 3)")
    parser.add_argument("--calls", type=int, default=None, help="calls per subject per round (default 300, quick 30)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 21)
    calls = args.calls or (30 if args.quick else 300)

    try:
        import ccxt  # type: ignore[import-not-found]
    except ImportError:
        print(
            "bench_presets: ccxt is not importable with this interpreter; nothing to compare against.\n"
            "  python3 -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install ccxt "
            "&& /tmp/benchvenv/bin/pip install -e .\n"
            "  /tmp/benchvenv/bin/python benchmarks/bench_presets.py"
        )
        sys.exit(0)

    unknown = sorted({case.name for case in CASES} - set(PRESETS))
    if unknown:
        raise SystemExit(f"bench_presets: cases for presets that do not exist: {', '.join(unknown)}")
    missing = sorted(set(PRESETS) - {case.name for case in CASES})
    if missing:
        # A preset newer than its benchmark case: said, not silently left out.
        print(f"bench_presets: no case yet for {', '.join(missing)}", file=sys.stderr)
    benches = [build(ccxt, case) for case in CASES]
    for bench in benches:
        check(bench)

    columns = ("ccxt", "sign", "encode+sign", "requests+auth", "requests")
    times = {bench.case.name: {name: [] for name in columns} for bench in benches}
    for bench in benches:  # warm-up
        for name in SUBJECTS:
            measure(bench, name, max(calls // 10, 10), {name: [] for name in columns})
    for i in range(rounds):
        for bench in benches:
            shift = i % len(SUBJECTS)
            for name in SUBJECTS[shift:] + SUBJECTS[:shift]:
                measure(bench, name, calls, times[bench.case.name])

    print(f"bench_presets: one order POST signed per preset, ours / ccxt, {rounds} rounds x {calls} calls")
    print(
        f"python {platform.python_version()}, ccxt {ccxt.__version__}, requests {requests.__version__}, "
        f"hmac_body_auth {hmac_body_auth.__version__}{', QUICK (smoke only)' if args.quick else ''}"
    )
    print("us per signature (median over rounds); ratios: median over rounds of ours / ccxt in that round")
    print()
    head = (
        f"{'preset':<18} {'request':<36} {'ccxt us':>8} {'sign us':>8} {'ratio':>6} "
        f"{'enc+sign':>9} {'ratio':>6} {'requests':>9} {'ratio':>6}  same sig"
    )
    print(head)
    sign_ratios: list[float] = []
    like_ratios: list[float] = []
    for bench in benches:
        case = bench.case
        t = times[case.name]
        ccxt_t = t["ccxt"]
        via_requests = [a - b for a, b in zip(t["requests+auth"], t["requests"], strict=True)]

        def med(values: list[float]) -> float:
            return statistics.median(values) * 1e6

        def ratio(values: list[float], against: list[float] = ccxt_t) -> float:
            return statistics.median(a / b for a, b in zip(values, against, strict=True))

        r_sign = ratio(t["sign"])
        sign_ratios.append(r_sign)
        like_ratios.append(ratio(t["encode+sign"]))
        label = case.name + ("*" if case.ccxt_id is None else "")
        print(
            f"{label:<18} {case.request:<36} {med(ccxt_t):>8.2f} {med(t['sign']):>8.2f} {r_sign:>6.2f} "
            f"{med(t['encode+sign']):>9.2f} {ratio(t['encode+sign']):>6.2f} "
            f"{med(via_requests):>9.2f} {ratio(via_requests):>6.2f}  {'yes' if bench.identical else 'no'}"
        )
    print()
    print("* poloniex (legacy tradingApi): ccxt no longer has it; the baseline is hand-written in the shape of")
    print("  ccxt's former class: urlencode(params + nonce) and hmac.new(secret, body, sha512).hexdigest()")
    print("* bitmex: ccxt 4.5 has no BitMEX class; the baseline is BitMEX's own APIKeyAuthenticator by hand")
    print("requests = Request(..., auth=auth).prepare() minus Request(...).prepare() in the same round")
    print("same sig = ccxt's and our signature are the same string (otherwise both verify, the bytes differ)")
    worst = max(sign_ratios)
    met = sum(r <= GOAL for r in sign_ratios)
    print()
    print(
        f"goal: sign / ccxt <= {GOAL:.2f} for every preset: {met} of {len(sign_ratios)} met, "
        f"worst {worst:.2f} ({'met' if worst <= GOAL else 'NOT met'})"
    )
    like_met = sum(r <= GOAL for r in like_ratios)
    print(
        f"like for like (ccxt's sign() encodes the params too): encode+sign / ccxt <= {GOAL:.2f}: "
        f"{like_met} of {len(like_ratios)}, worst {max(like_ratios):.2f}"
    )


if __name__ == "__main__":
    main()
