"""How each timestamp API reads, refuses and tells its time, written from the APIs' docs.

An emulation for loopback servers (tests/_clock_server.py), independent of the
recipes the auths use (hmac_body_auth/presets/*.py): it imports nothing of the
package, so a recipe that misreads an API is caught by the self-test in
tests/test_clock_recipes.py instead of agreeing with itself. Each :class:`ClockApi`
reads the signed timestamp from a request as that API does, gives the window it
applies and answers a refusal, and its time endpoint, byte for byte as documented
(or, where the docs give no body, as the API is seen to answer; said per API).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit

__all__ = ["CLOCK_APIS", "ClockApi"]

_JSON = {"Content-Type": "application/json"}
_DIGITS = re.compile(r"[0-9]{1,16}", re.ASCII)
_ISO_MS = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\.([0-9]{3})Z", re.ASCII)


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _int_ms(value: str | None) -> int | None:
    return int(value) if value is not None and _DIGITS.fullmatch(value) else None


def _header_ms(name: str) -> Callable[[str, str, Mapping[str, str], bytes], int | None]:
    def signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
        return _int_ms(_header(headers, name))

    return signed_ms


def _iso_ms(stamp: int) -> str:
    seconds, millis = divmod(stamp, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _no_time_endpoint(server_ms: int) -> bytes:
    raise LookupError("this API has no server-time endpoint")


@dataclass(frozen=True)
class ClockApi:
    """One timestamp API's clock rules, as its docs give them."""

    name: str
    window_ms: int
    """How far the signed time may lag the server's (ms)."""
    ahead_ms: int
    """How far it may lead the server's (ms)."""
    signed_ms: Callable[[str, str, Mapping[str, str], bytes], int | None]
    """``(method, url, headers, body)`` -> the signed timestamp in Unix ms, read as the API reads it."""
    rejection: Callable[[int, int], tuple[int, dict[str, str], bytes]]
    """``(server_ms, signed_ms)`` -> ``(status, headers, body)`` of the API's refusal."""
    time_path: str | None
    """The public server-time endpoint (``GET``), or ``None``."""
    time_answer: Callable[[int], bytes]
    """``server_ms`` -> that endpoint's body (raises ``LookupError`` without an endpoint)."""
    time_resolution_ns: int = 1_000_000
    """The resolution of the time endpoint's answer."""
    doc: str = ""


# --- Binance: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
# Refused unless timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow
# (default 5000); errors.md: "-1021 INVALID_TIMESTAMP", HTTP 400, two messages.


def _binance_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    # "If a parameter sent in both the query string and request body, the query string parameter will be used."
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)) if body else {}
    stamp = _int_ms(query.get("timestamp", form.get("timestamp")))
    if stamp is not None and stamp >= 10**14:  # the docs allow microseconds too
        stamp //= 1000
    return stamp


def _binance_rejection(server_ms: int, signed_ms: int) -> tuple[int, dict[str, str], bytes]:
    if signed_ms >= server_ms + 1000:
        message = "Timestamp for this request was 1000ms ahead of the server's time."
    else:
        message = "Timestamp for this request is outside of the recvWindow."
    return 400, {"Content-Type": "application/json;charset=UTF-8"}, _compact({"code": -1021, "msg": message})


BINANCE = ClockApi(
    name="binance",
    window_ms=5000,
    ahead_ms=1000,  # "timestamp < serverTime + 1000": exactly 1000 ms ahead is refused too (not modelled)
    signed_ms=_binance_signed_ms,
    rejection=_binance_rejection,
    time_path="/api/v3/time",
    time_answer=lambda server_ms: _compact({"serverTime": server_ms}),
    doc="https://developers.binance.com/docs/binance-spot-api-docs/errors",
)


# --- Bybit v5: https://bybit-exchange.github.io/docs/v5/guide ("Authentication"):
# server_time - recv_window <= timestamp < server_time + 1000; retCode 10002 in an
# HTTP 200 answer, retMsg as reported in https://github.com/bybit-exchange/pybit/issues/191.


def _bybit_rejection(server_ms: int, signed_ms: int) -> tuple[int, dict[str, str], bytes]:
    message = (
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{signed_ms}],server_timestamp[{server_ms}],recv_window[5000]"
    )
    answer = {"retCode": 10002, "retMsg": message, "result": {}, "retExtInfo": {}, "time": server_ms}
    return 200, dict(_JSON), _compact(answer)


def _bybit_time(server_ms: int) -> bytes:
    # https://bybit-exchange.github.io/docs/v5/market/time
    result = {"timeSecond": str(server_ms // 1000), "timeNano": str(server_ms * 1_000_000)}
    return _compact({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": server_ms})


BYBIT = ClockApi(
    name="bybit",
    window_ms=5000,
    ahead_ms=1000,
    signed_ms=_header_ms("X-BAPI-TIMESTAMP"),
    rejection=_bybit_rejection,
    time_path="/v5/market/time",
    time_answer=_bybit_time,
    doc="https://bybit-exchange.github.io/docs/v5/error",
)


# --- OKX v5: https://www.okx.com/docs-v5/en/#error-code-rest-api-public: 50102
# "Timestamp request expired", HTTP 401; 30 s (ahead: not documented separately).


def _okx_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    value = _header(headers, "OK-ACCESS-TIMESTAMP")
    match = _ISO_MS.fullmatch(value) if value is not None else None
    if match is None:
        return None
    parts = [int(group) for group in match.groups()]
    return calendar.timegm((*parts[:6], 0, 0, 0)) * 1000 + parts[6]


OKX = ClockApi(
    name="okx",
    window_ms=30_000,
    ahead_ms=30_000,
    signed_ms=_okx_signed_ms,
    rejection=lambda server_ms, signed_ms: (
        401,
        dict(_JSON),
        _compact({"msg": "Timestamp request expired", "code": "50102", "data": []}),
    ),
    time_path="/api/v5/public/time",
    time_answer=lambda server_ms: _compact({"code": "0", "msg": "", "data": [{"ts": str(server_ms)}]}),
    doc="https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time",
)


# --- KuCoin: "less than 5 seconds" either way; 400002 "KC-API-TIMESTAMP Invalid", HTTP 400
# (https://github.com/Kucoin/kucoin-api-docs; the body as kucoin-python-sdk users see it).

KUCOIN = ClockApi(
    name="kucoin",
    window_ms=5000,
    ahead_ms=5000,
    signed_ms=_header_ms("KC-API-TIMESTAMP"),
    rejection=lambda server_ms, signed_ms: (
        400,
        dict(_JSON),
        _compact({"code": "400002", "msg": "Invalid KC-API-TIMESTAMP"}),
    ),
    time_path="/api/v1/timestamp",
    time_answer=lambda server_ms: _compact({"code": "200000", "msg": "success", "data": server_ms}),
    doc="https://www.kucoin.com/docs/basic-info/connection-method/types/timestamps",
)


# --- Coinbase Exchange: https://docs.cdp.coinbase.com/exchange/rest-api/authentication:
# CB-ACCESS-TIMESTAMP in seconds ("Decimal values are allowed"), within 30 s of the
# API's time; refused with HTTP 401 {"message":"request timestamp expired"}.


def _coinbase_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    value = _header(headers, "CB-ACCESS-TIMESTAMP")
    if value is None or not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,9})?", value, re.ASCII):
        return None
    try:
        return int(Decimal(value) * 1000)
    except InvalidOperation:
        return None


def _coinbase_time(server_ms: int) -> bytes:
    iso = _iso_ms(server_ms)
    seconds, millis = divmod(server_ms, 1000)
    return f'{{"iso":"{iso}","epoch":{seconds}.{millis:03d}}}'.encode()


COINBASE_EXCHANGE = ClockApi(
    name="coinbase-exchange",
    window_ms=30_000,
    ahead_ms=30_000,
    signed_ms=_coinbase_signed_ms,
    rejection=lambda server_ms, signed_ms: (401, dict(_JSON), _compact({"message": "request timestamp expired"})),
    time_path="/time",
    time_answer=_coinbase_time,
    doc="https://docs.cdp.coinbase.com/exchange/rest-api/authentication",
)


# --- Bitstamp: https://www.bitstamp.net/api/ ("Authentication"): X-Auth-Timestamp in ms,
# "more than 150 seconds from current server time" refused with API0017; the HTTP 403 and
# the body's shape are those of its other authentication errors. No time endpoint.

BITSTAMP = ClockApi(
    name="bitstamp",
    window_ms=150_000,
    ahead_ms=150_000,
    signed_ms=_header_ms("X-Auth-Timestamp"),
    rejection=lambda server_ms, signed_ms: (
        403,
        dict(_JSON),
        json.dumps(
            {"status": "error", "reason": "X-Auth-Timestamp header is out of boundaries", "code": "API0017"}
        ).encode(),
    ),
    time_path=None,
    time_answer=_no_time_endpoint,
    doc="https://www.bitstamp.net/api/#section/Authentication",
)


# --- HitBTC API 3: https://api.hitbtc.com/ ("Authentication", "Errors"): the timestamp is the
# third field of the HS256 credential; a refused timestamp is the generic 1002 (HTTP 401),
# the error metadata carrying the server's time (as CryptoMarket's SDKs model it); the
# window is the request's, 10 000 ms by default. No time endpoint.


def _hitbtc_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    value = _header(headers, "Authorization")
    if value is None or not value.startswith("HS256 "):
        return None
    try:
        fields = base64.b64decode(value[6:].strip(), validate=True).decode("ascii").split(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return _int_ms(fields[2]) if len(fields) in (3, 4) else None


def _hitbtc_rejection(server_ms: int, signed_ms: int) -> tuple[int, dict[str, str], bytes]:
    error = {"code": 1002, "message": "Authorization is required or has been failed", "description": ""}
    return 401, dict(_JSON), _compact({"timestamp": _iso_ms(server_ms), "error": error, "status": 401})


HITBTC = ClockApi(
    name="hitbtc",
    window_ms=10_000,
    ahead_ms=10_000,
    signed_ms=_hitbtc_signed_ms,
    rejection=_hitbtc_rejection,
    time_path=None,
    time_answer=_no_time_endpoint,
    doc="https://api.hitbtc.com/#errors",
)


# --- Poloniex spot (v3): https://api-docs.poloniex.com/spot/api/#authentication: "400:
# signTimestamp is more than 1 second from poloniex system time"; "408" when older than
# a recvWindow that is sent (the preset sends none by default). No message is documented:
# the bodies below use the docs' descriptions.


def _poloniex_rejection(server_ms: int, signed_ms: int) -> tuple[int, dict[str, str], bytes]:
    answer = {"code": 400, "message": "signTimestamp is more than 1 second from poloniex system time"}
    return 400, dict(_JSON), _compact(answer)


POLONIEX_V3 = ClockApi(
    name="poloniex-v3",
    window_ms=1000,
    ahead_ms=1000,
    signed_ms=_header_ms("signTimestamp"),
    rejection=_poloniex_rejection,
    time_path="/timestamp",
    time_answer=lambda server_ms: _compact({"serverTime": server_ms}),
    doc="https://api-docs.poloniex.com/spot/api/#authentication",
)


# --- Bitget v2: https://www.bitget.com/api-doc/common/signature: ACCESS-TIMESTAMP in ms;
# code 40008 "Request timestamp expired" with HTTP 400 (the status and envelope as users
# report them); the window is not documented (30 s, as third parties say). Server time:
# https://www.bitget.com/api-doc/common/public/Get-Server-Time.


def _bitget_rejection(server_ms: int, signed_ms: int) -> tuple[int, dict[str, str], bytes]:
    answer = {"code": "40008", "msg": "Request timestamp expired", "requestTime": server_ms, "data": None}
    return 400, dict(_JSON), _compact(answer)


def _bitget_time(server_ms: int) -> bytes:
    answer = {"code": "00000", "msg": "success", "requestTime": server_ms, "data": {"serverTime": str(server_ms)}}
    return _compact(answer)


BITGET = ClockApi(
    name="bitget",
    window_ms=30_000,
    ahead_ms=30_000,
    signed_ms=_header_ms("ACCESS-TIMESTAMP"),
    rejection=_bitget_rejection,
    time_path="/api/v2/public/time",
    time_answer=_bitget_time,
    doc="https://www.bitget.com/api-doc/common/signature",
)


# --- Gate API v4: https://www.gate.io/docs/developers/apiv4/ ("APIv4 signed request
# requirements"): Timestamp in seconds (the SDK sends a fraction), "the gap between its value
# and current time cannot exceed 60 seconds"; HTTP 401 with label REQUEST_EXPIRED (the message
# text is not documented: the one below is made up). Server time: GET /api/v4/spot/time, {"server_time": <ms>}.


def _gateio_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    value = _header(headers, "Timestamp")
    if value is None or not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,9})?", value, re.ASCII):
        return None
    return int(Decimal(value) * 1000)


GATEIO = ClockApi(
    name="gateio",
    window_ms=60_000,
    ahead_ms=60_000,
    signed_ms=_gateio_signed_ms,
    rejection=lambda server_ms, signed_ms: (
        401,
        dict(_JSON),
        _compact({"label": "REQUEST_EXPIRED", "message": "gap between request Timestamp and server time exceeds 60"}),
    ),
    time_path="/api/v4/spot/time",
    time_answer=lambda server_ms: _compact({"server_time": server_ms}),
    doc="https://www.gate.io/docs/developers/apiv4/#apiv4-signed-request-requirements",
)


# --- MEXC spot v3: https://mexcdevelop.github.io/apidocs/spot_v3_en/#timing-security, as
# Binance: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow (5000);
# code 700003 with HTTP 400 (ccxt #22619). Server time: GET /api/v3/time.

MEXC = ClockApi(
    name="mexc",
    window_ms=5000,
    ahead_ms=1000,
    signed_ms=_binance_signed_ms,
    rejection=lambda server_ms, signed_ms: (
        400,
        dict(_JSON),
        _compact({"code": 700003, "msg": "Timestamp for this request is outside of the recvWindow."}),
    ),
    time_path="/api/v3/time",
    time_answer=lambda server_ms: _compact({"serverTime": server_ms}),
    doc="https://mexcdevelop.github.io/apidocs/spot_v3_en/#timing-security",
)


# --- Crypto.com Exchange v1: https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html
# ("Request Format", "Response and Reason Codes", "Common Issues"): the body's "nonce" is the time
# in ms, refused beyond 60 s either way with HTTP 400, code 40102 INVALID_NONCE, in the response
# shape {"id", "method", "code", "message"} ("code" an int as "Response Format" types it). No
# server-time endpoint in v1: the client reads the Date header.


def _cryptocom_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    try:
        nonce = json.loads(body).get("nonce")
    except (ValueError, AttributeError):
        return None
    if type(nonce) is int:
        nonce = str(nonce)
    return _int_ms(nonce) if isinstance(nonce, str) else None


CRYPTOCOM = ClockApi(
    name="cryptocom",
    window_ms=60_000,
    ahead_ms=60_000,
    signed_ms=_cryptocom_signed_ms,
    rejection=lambda server_ms, signed_ms: (
        400,
        dict(_JSON),
        _compact({"id": 1, "method": "private/user-balance", "code": 40102, "message": "INVALID_NONCE"}),
    ),
    time_path=None,
    time_answer=_no_time_endpoint,
    doc="https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#response-and-reason-codes",
)


# --- Deribit API v2: https://docs.deribit.com/#authentication: ts (ms) in "Authorization:
# deri-hmac-sha256 id=..,ts=..,sig=..,nonce=..", "valid for 60 seconds since generation" (how far
# ahead is not said: 60 s here too). No stale-ts code is documented: 13009 "unauthorized" with HTTP
# 401, as a bad signature is answered (knowm/XChange #3783, ccxt #9133), carrying usIn (us).
# Server time: GET /api/v2/public/get_time, {"jsonrpc": "2.0", "result": <ms>}.


def _deribit_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    value = _header(headers, "Authorization") or ""
    fields = dict(pair.strip().partition("=")[::2] for pair in value.partition(" ")[2].split(","))
    return _int_ms(fields.get("ts"))


def _deribit_rejection(server_ms: int, signed_ms: int) -> tuple[int, dict[str, str], bytes]:
    answer = {
        "jsonrpc": "2.0",
        "error": {"message": "unauthorized", "code": 13009},
        "testnet": False,
        "usIn": server_ms * 1000,
        "usOut": server_ms * 1000 + 50,
        "usDiff": 50,
    }
    return 401, dict(_JSON), _compact(answer)


DERIBIT = ClockApi(
    name="deribit",
    window_ms=60_000,
    ahead_ms=60_000,
    signed_ms=_deribit_signed_ms,
    rejection=_deribit_rejection,
    time_path="/api/v2/public/get_time",
    time_answer=lambda server_ms: _compact({"jsonrpc": "2.0", "id": 1, "result": server_ms, "testnet": False}),
    doc="https://docs.deribit.com/#rpc-error-codes",
)

# --- Binance USD-M futures: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info
# ("Timing Security"), spot's rule and answers on another host: -1021 with HTTP 400
# (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).
# Server time: GET /fapi/v1/time.

BINANCE_FUTURES = ClockApi(
    name="binance-futures",
    window_ms=5000,
    ahead_ms=1000,
    signed_ms=_binance_signed_ms,
    rejection=_binance_rejection,
    time_path="/fapi/v1/time",
    time_answer=lambda server_ms: _compact({"serverTime": server_ms}),
    doc="https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code",
)

# --- BitMEX: https://www.bitmex.com/app/apiKeysUsage: api-expires (Unix seconds) is an expiry,
# refused once it is in the past with HTTP 400 and the server's time in seconds
# (BitMEX/sample-market-maker#49). No bound on how far ahead is documented (ccxt's users send a day
# ahead), so a client ahead of the server is never refused: the shared step-to-the-other-side run of
# tests/test_clock_sync_e2e.py does not apply, and BITMEX is not in CLOCK_APIS (see
# tests/presets/test_bitmex.py). Server time: GET /api/v1.


def _bitmex_expires_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    seconds = _int_ms(_header(headers, "api-expires"))
    return None if seconds is None else seconds * 1000


def _bitmex_expired(server_ms: int, signed_ms: int) -> tuple[int, dict[str, str], bytes]:
    message = f"This request has expired - `expires` is in the past. Current time: {server_ms // 1000}"
    return 400, dict(_JSON), _compact({"error": {"message": message, "name": "HTTPError"}})


BITMEX = ClockApi(
    name="bitmex",
    window_ms=0,  # signed_ms is the expiry: refused once the server's clock has passed it
    ahead_ms=10**12,
    signed_ms=_bitmex_expires_ms,
    rejection=_bitmex_expired,
    time_path="/api/v1",
    time_answer=lambda server_ms: _compact({"name": "BitMEX API", "version": "1.2.0", "timestamp": server_ms}),
    doc="https://github.com/BitMEX/sample-market-maker/issues/49",
)

# --- Bitvavo: https://docs.bitvavo.com/docs/errors, errorCode 304 "Request was not received within
# acceptable window ... of Bitvavo-Access-Timestamp header", HTTP 403 (ccxt/ccxt#8890). The window is
# the Bitvavo-Access-Window the preset sends (10000 ms); which side it applies to is not documented:
# modelled on both sides, as the message reads. Server time: GET /v2/time.

BITVAVO = ClockApi(
    name="bitvavo",
    window_ms=10_000,
    ahead_ms=10_000,
    signed_ms=_header_ms("Bitvavo-Access-Timestamp"),
    rejection=lambda server_ms, signed_ms: (
        403,
        dict(_JSON),
        _compact(
            {
                "errorCode": 304,
                "error": "Request was not received within acceptable window (default 30s, or custom with "
                "Bitvavo-Access-Window header) of Bitvavo-Access-Timestamp header (or timestamp parameter for "
                "websocket).",
            }
        ),
    ),
    time_path="/v2/time",
    time_answer=lambda server_ms: _compact({"time": server_ms, "timeNs": server_ms * 1_000_000}),
    doc="https://docs.bitvavo.com/docs/errors",
)

# --- HTX (Huobi) spot: https://huobiapi.github.io/docs/spot/v1/en/#authentication: the Timestamp
# query parameter, UTC YYYY-MM-DDThh:mm:ss, "less than 1 minute" from the server's time (FAQ Q6);
# refused with HTTP 200 and response code 12001's answer (Huobi's REST_authentication wiki page,
# as ccxt #25931 shows it). Server time: GET /v1/common/timestamp, {"status":"ok","data":<ms>}.
_HTX_STAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})", re.ASCII)
_HTX_STALE = {
    "status": "error",
    "err-code": "api-signature-not-valid",
    "err-msg": "Signature not valid: Invalid submission time or incorrect time format "
    "[无效的提交时间\uff0c或时间格式错误]",
    "data": None,
}


def _htx_signed_ms(method: str, url: str, headers: Mapping[str, str], body: bytes) -> int | None:
    match = _HTX_STAMP.fullmatch(dict(parse_qsl(urlsplit(url).query)).get("Timestamp", ""))
    return None if match is None else calendar.timegm((*(int(g) for g in match.groups()), 0, 0, 0)) * 1000


HTX = ClockApi(
    name="htx",
    window_ms=60_000,
    ahead_ms=60_000,
    signed_ms=_htx_signed_ms,
    rejection=lambda server_ms, signed_ms: (
        200,
        dict(_JSON),
        json.dumps(_HTX_STALE, ensure_ascii=False, separators=(",", ":")).encode(),
    ),
    time_path="/v1/common/timestamp",
    time_answer=lambda server_ms: _compact({"status": "ok", "data": server_ms}),
    doc="https://huobiapi.github.io/docs/spot/v1/en/#authentication",
)

#: Preset registry name -> its API's clock rules (the presets' default options).
CLOCK_APIS: dict[str, ClockApi] = {
    api.name: api
    for api in (
        BINANCE,
        BYBIT,
        OKX,
        KUCOIN,
        COINBASE_EXCHANGE,
        BITSTAMP,
        HITBTC,
        POLONIEX_V3,
        BITGET,
        GATEIO,
        MEXC,
        CRYPTOCOM,
        DERIBIT,
        BINANCE_FUTURES,
        BITVAVO,
        HTX,
    )
}
