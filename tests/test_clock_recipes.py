"""Every timestamp preset's clock-sync recipe recognises its API's refusal and nothing else.

A recipe that says "refused for its timestamp" makes the auth re-sign and send the
call once more, so a false positive executes it twice. Each refusal below is the
API's documented (or observed, where the docs give no body) answer, cited; the
near misses are the answers that must not be taken for one: other codes (a wrong
key, a bad signature), the right code with another status, malformed, duplicate-key,
oversized and non-JSON bodies. The recipes are reached through the presets, as the
auth uses them; tests/_clock_apis.py (written from the docs, not from the recipes)
is checked against them at the end.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hmac_body_auth import ClockSync, ConfigurationError, TimestampRejection
from hmac_body_auth.presets import preset
from tests._clock_apis import CLOCK_APIS
from tests._presets import KEY, PASSPHRASE, SAMPLES, SECRET, takes

NAMES = [
    "binance",
    "binance-futures",
    "bitget",
    "bitstamp",
    "bitvavo",
    "bybit",
    "coinbase-exchange",
    "cryptocom",
    "deribit",
    "gateio",
    "hitbtc",
    "htx",
    "kucoin",
    "mexc",
    "okx",
    "poloniex-v3",
]
#: A signed timestamp (Unix ms) used throughout, and a server 20 s ahead of it.
SIGNED_MS = 1_706_972_576_658
SERVER_MS = SIGNED_MS + 20_000
MS = 1_000_000


def _auth(name: str, **options: Any) -> Any:
    auth_cls, _ = preset(name)
    if takes(auth_cls, "passphrase"):
        options["passphrase"] = PASSPHRASE
    return auth_cls(KEY, SECRET, **options)


def _recipe(name: str, **options: Any) -> ClockSync:
    recipe = _auth(name, **options).lifecycle.clock_sync
    assert isinstance(recipe, ClockSync)
    return recipe


def _dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def _iso(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


BYBIT_MESSAGE = (
    "invalid request, please check your server timestamp or recv_window param. "
    f"req_timestamp[{SIGNED_MS}],server_timestamp[{SERVER_MS}],recv_window[5000]"
)
DERIBIT_UNAUTHORIZED = {
    "jsonrpc": "2.0",
    "error": {"message": "unauthorized", "code": 13009},
    "testnet": False,
    "usIn": (SERVER_MS + 61_000) * 1000,
    "usOut": (SERVER_MS + 61_000) * 1000 + 89,
    "usDiff": 89,
}
HTX_STALE = (
    '{"status":"error","err-code":"api-signature-not-valid","err-msg":"Signature not valid: Invalid submission '
    'time or incorrect time format [无效的提交时间\uff0c或时间格式错误]","data":null}'
).encode()
HITBTC_ERROR = {"code": 1002, "message": "Authorization is required or has been failed", "description": ""}

#: Preset -> [(status, the API's timestamp refusal, signed_ms, the server time it carries (ns) or None)].
GENUINE: dict[str, list[tuple[int, bytes, int | None, int | None]]] = {
    # Binance errors.md, "-1021 INVALID_TIMESTAMP" (both messages); HTTP 400 as
    # binance-connector-python reports it: ClientError(400, -1021, ...).
    "binance": [
        (400, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS, None),
        (400, b'{"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server\'s time."}', None, None),
    ],
    # Bitget's envelope with code 40008 "Request timestamp expired", HTTP 400 (as users report it).
    "bitget": [
        (
            400,
            b'{"code":"40008","msg":"Request timestamp expired","requestTime":1706972596658,"data":null}',
            SIGNED_MS,
            None,
        ),
        (400, b'{"code":"40008","msg":"Request timestamp expired"}', None, None),
    ],
    # Gate API v4 error label REQUEST_EXPIRED with HTTP 401 (the message text is not documented).
    "gateio": [
        (
            401,
            b'{"label":"REQUEST_EXPIRED","message":"Request Timestamp is far from the server time"}',
            SIGNED_MS,
            None,
        ),
        (401, b'{"label":"REQUEST_EXPIRED","message":""}', None, None),
    ],
    # Crypto.com Exchange v1 "Response and Reason Codes": 400, 40102 INVALID_NONCE; the shape of the
    # docs' per-method error examples (code a string) and of "Response Format" (code an int).
    "cryptocom": [
        (
            400,
            b'{"id":"1","method":"private/get-order-detail","code":"40102","message":"INVALID_NONCE"}',
            SIGNED_MS,
            None,
        ),
        (400, b'{"id":1,"method":"private/user-balance","code":40102,"message":"INVALID_NONCE"}', None, None),
    ],
    # Deribit documents no stale-ts code: 13009 "unauthorized" with HTTP 401 (knowm/XChange #3783), in
    # the shape of ccxt #9133, read as a refusal only when its usIn (server receipt, us) is 60 s+ off.
    "deribit": [
        (401, _dumps(DERIBIT_UNAUTHORIZED), SIGNED_MS, SERVER_MS * MS + 61_000 * MS),
        (
            401,
            _dumps({**DERIBIT_UNAUTHORIZED, "usIn": (SIGNED_MS - 60_001) * 1000}),
            SIGNED_MS,
            (SIGNED_MS - 60_001) * MS,
        ),
    ],
    # Binance USD-M futures error-code page, "-1021 INVALID_TIMESTAMP" (both messages), HTTP 400.
    "binance-futures": [
        (400, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS, None),
        (400, b'{"code":-1021,"msg":"Timestamp for this request was 1000ms ahead of the server\'s time."}', None, None),
    ],
    # Bitvavo errorCode 304 (https://docs.bitvavo.com/docs/errors), HTTP 403 as ccxt/ccxt#8890 shows it.
    "bitvavo": [
        (
            403,
            b'{"errorCode":304,"error":"Request was not received within acceptable window (default 30s, or custom'
            b" with Bitvavo-Access-Window header) of Bitvavo-Access-Timestamp header (or timestamp parameter for"
            b' websocket)."}',
            SIGNED_MS,
            None,
        ),
    ],
    # HTX: response code 12001's answer (Huobi's REST_authentication wiki page; ccxt #25931), HTTP 200.
    "htx": [
        (200, HTX_STALE, SIGNED_MS, None),
        (200, HTX_STALE, None, None),
    ],
    # MEXC "Error Code" 700003, HTTP 400 (ccxt #22619, hummingbot #7065).
    "mexc": [
        (400, b'{"code":700003,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS, None),
    ],
    # https://bybit-exchange.github.io/docs/v5/error (10002), retMsg as in pybit issue #191, HTTP 200.
    "bybit": [
        (
            200,
            _dumps({"retCode": 10002, "retMsg": BYBIT_MESSAGE, "result": {}, "retExtInfo": {}, "time": SERVER_MS}),
            SIGNED_MS,
            SERVER_MS * MS,
        ),
        # Without the message's numbers: the answer's own "time" (the server's, in ms).
        (
            200,
            _dumps({"retCode": 10002, "retMsg": "", "result": {}, "time": SERVER_MS + 1}),
            SIGNED_MS,
            (SERVER_MS + 1) * MS,
        ),
        (200, _dumps({"retCode": 10002, "retMsg": BYBIT_MESSAGE}), None, SERVER_MS * MS),
    ],
    # https://www.okx.com/docs-v5/en/#error-code-rest-api-public: 50102, HTTP 401.
    "okx": [
        (401, b'{"msg":"Timestamp request expired","code":"50102","data":[]}', SIGNED_MS, None),
        (401, b'{"code":"50102","msg":"Timestamp request expired."}', SIGNED_MS, None),
    ],
    # kucoin-api-docs "System error codes": 400002, HTTP 400 (kucoin-python-sdk issue #82: "400-{...}").
    "kucoin": [(400, b'{"code":"400002","msg":"Invalid KC-API-TIMESTAMP"}', SIGNED_MS, None)],
    # coinbase-pro-node issue #222 / coinbasepro-python issue #453: HTTP 401.
    "coinbase-exchange": [(401, b'{"message":"request timestamp expired"}', SIGNED_MS, None)],
    # https://www.bitstamp.net/api/ "Possible authentication errors": API0017; shape and 403 of API0004/API0005.
    "bitstamp": [
        (
            403,
            b'{"status": "error", "reason": "X-Auth-Timestamp header is out of boundaries", "code": "API0017"}',
            SIGNED_MS,
            None,
        )
    ],
    # API 3 error (code 1002, HTTP 401) with its metadata's server time, 20 s from the signed time.
    "hitbtc": [
        (401, _dumps({"timestamp": _iso(SERVER_MS), "error": HITBTC_ERROR}), SIGNED_MS, SERVER_MS * MS),
        (
            401,
            _dumps(
                {
                    "timestamp": "2024-02-03T15:03:16.658123456Z",
                    "path": "/api/3/spot/balance",
                    "error": HITBTC_ERROR,
                    "request_id": "4cd2b6cf-0e61-4f3b-8a87-08b0b1d6a2a1",
                    "status": 401,
                }
            ),
            SIGNED_MS - 60_000,
            1_706_972_596_658_123_456,
        ),
        # The client ahead of the server: refused just the same.
        (
            401,
            _dumps({"timestamp": _iso(SIGNED_MS - 10_001), "error": HITBTC_ERROR}),
            SIGNED_MS,
            (SIGNED_MS - 10_001) * MS,
        ),
    ],
    # https://api-docs.poloniex.com/spot/api/#authentication: "400: signTimestamp is more than 1 second
    # from poloniex system time"; "408: request timeout as recWindow threshold has been breached".
    "poloniex-v3": [
        (
            400,
            b'{"code":400,"message":"signTimestamp is more than 1 second from poloniex system time"}',
            SIGNED_MS,
            None,
        ),
        (408, b'{"code":408,"message":"request timeout as recvWindow threshold has been breached"}', SIGNED_MS, None),
    ],
}

#: Preset -> answers that are not its timestamp refusal: (status, body, signed_ms).
NEAR_MISSES: dict[str, list[tuple[int, bytes, int | None]]] = {
    "bitget": [
        (400, b'{"code":"40009","msg":"sign signature error","requestTime":1,"data":null}', SIGNED_MS),
        (400, b'{"code":"40037","msg":"Apikey does not exist","requestTime":1,"data":null}', SIGNED_MS),
        (400, b'{"code":"40005","msg":"Invalid ACCESS-TIMESTAMP","requestTime":1,"data":null}', SIGNED_MS),
        (401, b'{"code":"40008","msg":"Request timestamp expired","requestTime":1,"data":null}', SIGNED_MS),
        (200, b'{"code":"40008","msg":"Request timestamp expired","requestTime":1,"data":null}', SIGNED_MS),
        (400, b'{"code":40008,"msg":"Request timestamp expired"}', SIGNED_MS),
        (400, b'{"code":"40008 ","msg":"Request timestamp expired"}', SIGNED_MS),
        (400, b'{"code":"40008","msg":null}', SIGNED_MS),
        (400, b'{"code":"40008"}', SIGNED_MS),
        (400, b'{"code":"40009","code":"40008","msg":"x"}', SIGNED_MS),
        (400, b'[{"code":"40008","msg":"x"}]', SIGNED_MS),
        (200, b'{"code":"00000","msg":"success","data":{"orderId":"1","clientOid":"40008"}}', SIGNED_MS),
    ],
    "gateio": [
        (401, b'{"label":"INVALID_SIGNATURE","message":"Signature mismatch"}', SIGNED_MS),
        (401, b'{"label":"INVALID_KEY","message":"Invalid key provided"}', SIGNED_MS),
        (401, b'{"label":"MISSING_REQUIRED_HEADER","message":"Missing required header: Timestamp"}', SIGNED_MS),
        (400, b'{"label":"REQUEST_EXPIRED","message":"x"}', SIGNED_MS),
        (200, b'{"label":"REQUEST_EXPIRED","message":"x"}', SIGNED_MS),
        (403, b'{"label":"REQUEST_EXPIRED","message":"x"}', SIGNED_MS),
        (401, b'{"label":"request_expired","message":"x"}', SIGNED_MS),
        (401, b'{"label":"REQUEST_EXPIRED"}', SIGNED_MS),
        (401, b'{"label":"REQUEST_EXPIRED","message":null}', SIGNED_MS),
        (401, b'{"label":"INVALID_SIGNATURE","label":"REQUEST_EXPIRED","message":"x"}', SIGNED_MS),
        (401, b'{"error":{"label":"REQUEST_EXPIRED","message":"x"}}', SIGNED_MS),
        (401, b'[{"label":"REQUEST_EXPIRED","message":"x"}]', SIGNED_MS),
    ],
    "cryptocom": [
        (401, b'{"id":"1","method":"private/get-order-detail","code":"40101","message":"UNAUTHORIZED"}', SIGNED_MS),
        (401, b'{"id":"1","method":"private/get-order-detail","code":"40102","message":"INVALID_NONCE"}', SIGNED_MS),
        (200, b'{"id":"1","method":"private/get-order-detail","code":"40102","message":"INVALID_NONCE"}', SIGNED_MS),
        (400, b'{"id":"1","method":"private/create-order","code":"40001","message":"BAD_REQUEST"}', SIGNED_MS),
        (400, b'{"id":"1","method":"private/create-order","code":"40006","message":"DUPLICATE_REQUEST"}', SIGNED_MS),
        (400, b'{"code":"10007","message":"INVALID_NONCE"}', SIGNED_MS),
        (400, b'{"code":40102.0,"message":"INVALID_NONCE"}', SIGNED_MS),
        (400, b'{"code":" 40102","message":"INVALID_NONCE"}', SIGNED_MS),
        (400, b'{"code":"40102","message":null}', SIGNED_MS),
        (400, b'{"code":"40101","code":"40102","message":"x"}', SIGNED_MS),
        (400, b'{"id":1,"method":"private/create-order","code":40102,"result":{"order_id":"1"}}', SIGNED_MS),
        (400, b'[{"code":40102}]', SIGNED_MS),
        (200, b'{"id":1,"method":"private/create-order","code":0,"result":{"client_oid":"40102"}}', SIGNED_MS),
    ],
    "deribit": [
        (401, _dumps({**DERIBIT_UNAUTHORIZED, "usIn": SIGNED_MS * 1000}), SIGNED_MS),
        (401, _dumps({**DERIBIT_UNAUTHORIZED, "usIn": (SIGNED_MS + 60_000) * 1000}), SIGNED_MS),
        (401, _dumps(DERIBIT_UNAUTHORIZED), None),
        (400, _dumps(DERIBIT_UNAUTHORIZED), SIGNED_MS),
        (200, _dumps(DERIBIT_UNAUTHORIZED), SIGNED_MS),
        (401, _dumps({**DERIBIT_UNAUTHORIZED, "error": {"message": "invalid_credentials", "code": 13004}}), SIGNED_MS),
        (401, _dumps({**DERIBIT_UNAUTHORIZED, "error": {"message": "unauthorized", "code": "13009"}}), SIGNED_MS),
        (401, _dumps({**DERIBIT_UNAUTHORIZED, "error": {"message": "unauthorised", "code": 13009}}), SIGNED_MS),
        (401, _dumps({**DERIBIT_UNAUTHORIZED, "usIn": str(SERVER_MS * 1000)}), SIGNED_MS),
        (401, _dumps({k: v for k, v in DERIBIT_UNAUTHORIZED.items() if k != "usIn"}), SIGNED_MS),
        (401, _dumps({**DERIBIT_UNAUTHORIZED, "result": {"order_id": "1"}}), SIGNED_MS),
        (401, _dumps([DERIBIT_UNAUTHORIZED]), SIGNED_MS),
    ],
    "binance-futures": [
        (400, b'{"code":-1022,"msg":"Signature for this request is not valid."}', SIGNED_MS),
        (401, b'{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}', SIGNED_MS),
        (
            400,
            b'{"code":-4164,"msg":"Order\'s notional must be no smaller than 100 (unless you choose reduce only)."}',
            SIGNED_MS,
        ),
        (401, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (200, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (400, b'{"code":"-1021","msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (400, b'{"code":-1021,"msg":null}', SIGNED_MS),
        (400, b'{"code":-1021,"msg":"x","orderId":12345}', SIGNED_MS),
        (400, b'{"code":-1022,"code":-1021,"msg":"x"}', SIGNED_MS),
        (200, b'{"orderId":1021,"symbol":"BTCUSDT","clientOrderId":"-1021"}', SIGNED_MS),
    ],
    "bitvavo": [
        (403, b'{"errorCode":309,"error":"The signature is invalid."}', SIGNED_MS),
        (403, b'{"errorCode":302,"error":"Timestamp is invalid. This must be a timestamp in ms."}', SIGNED_MS),
        (403, b'{"errorCode":303,"error":"Window must be between 100 and 60000 ms."}', SIGNED_MS),
        (400, b'{"errorCode":304,"error":"Request was not received within acceptable window"}', SIGNED_MS),
        (200, b'{"errorCode":304,"error":"Request was not received within acceptable window"}', SIGNED_MS),
        (403, b'{"errorCode":"304","error":"Request was not received within acceptable window"}', SIGNED_MS),
        (403, b'{"errorCode":304.0,"error":"x"}', SIGNED_MS),
        (403, b'{"errorCode":304}', SIGNED_MS),
        (403, b'{"errorCode":304,"error":null}', SIGNED_MS),
        (403, b'{"event":"error","errorCode":304,"error":"x"}', SIGNED_MS),
        (403, b'{"errorCode":309,"errorCode":304,"error":"x"}', SIGNED_MS),
        (200, b'{"orderId":"1","clientOrderId":"304","errorCode":0}', SIGNED_MS),
    ],
    "htx": [
        (
            200,
            HTX_STALE.replace(b"Invalid submission time or incorrect time format", b"Verification failure"),
            SIGNED_MS,
        ),
        (
            200,
            HTX_STALE.replace(b"Invalid submission time or incorrect time format", b"Incorrect Access key"),
            SIGNED_MS,
        ),
        (
            200,
            HTX_STALE.replace(b"Invalid submission time or incorrect time format", b"Submission time is required"),
            1,
        ),
        (200, HTX_STALE.replace("\uff0c".encode(), b","), SIGNED_MS),
        (200, HTX_STALE.replace(b"api-signature-not-valid", b"api-signature-check-failed"), SIGNED_MS),
        (200, HTX_STALE.replace(b'"status":"error"', b'"status":"ok"'), SIGNED_MS),
        (200, HTX_STALE.replace(b'"data":null', b'"data":[]'), SIGNED_MS),
        (200, HTX_STALE.replace(b'"data":null', b'"data":null,"ts":1706972596658'), SIGNED_MS),
        (200, HTX_STALE.replace(b',"data":null', b""), SIGNED_MS),
        (200, HTX_STALE.replace(b'"err-code":"api-signature-not-valid",', b""), SIGNED_MS),
        (200, HTX_STALE.replace(b'"err-code"', b'"err-code":"x","err-code"'), SIGNED_MS),
        (400, HTX_STALE, SIGNED_MS),
        (401, HTX_STALE, SIGNED_MS),
        (200, b"[" + HTX_STALE + b"]", SIGNED_MS),
        (200, b'{"status":"ok","data":{"client-order-id":"Invalid submission time or incorrect time format"}}', 1),
    ],
    "mexc": [
        (400, b'{"code":700002,"msg":"Signature for this request is not valid."}', SIGNED_MS),
        (400, b'{"code":700001,"msg":"API-key format invalid."}', SIGNED_MS),
        (400, b'{"code":700005,"msg":"recvWindow must less than 60000"}', SIGNED_MS),
        (400, b'{"code":700013,"msg":"Invalid content Type."}', SIGNED_MS),
        (401, b'{"code":700003,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (200, b'{"code":700003,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (400, b'{"code":"700003","msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (400, b'{"code":700003.0,"msg":"x"}', SIGNED_MS),
        (400, b'{"code":700003}', SIGNED_MS),
        (400, b'{"code":700003,"msg":"x","orderId":"1"}', SIGNED_MS),
        (400, b'{"code":700002,"code":700003,"msg":"x"}', SIGNED_MS),
        (200, b'{"symbol":"BTCUSDT","orderId":"1","clientOrderId":"700003"}', SIGNED_MS),
    ],
    "binance": [
        (400, b'{"code":-1022,"msg":"Signature for this request is not valid."}', SIGNED_MS),
        (401, b'{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}', SIGNED_MS),
        (400, b'{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}', SIGNED_MS),
        (401, b'{"code":-2014,"msg":"API-key format invalid."}', SIGNED_MS),
        (400, b'{"code":-1131,"msg":"recvWindow must be less than 60000"}', SIGNED_MS),
        (401, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (200, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (500, b'{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (400, b'{"code":"-1021","msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (400, b'{"code":-1021.0,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (400, b'{"code":-1021,"msg":null}', SIGNED_MS),
        (400, b'{"code":-1021}', SIGNED_MS),
        (400, b'{"code":-1021,"msg":"x","orderId":12345}', SIGNED_MS),
        (400, b'{"code":-1022,"code":-1021,"msg":"x"}', SIGNED_MS),
        (400, b'[{"code":-1021,"msg":"x"}]', SIGNED_MS),
        (400, b'{"error":{"code":-1021,"msg":"x"}}', SIGNED_MS),
        (400, b'{"code":-1022,"msg":"Timestamp for this request is outside of the recvWindow."}', SIGNED_MS),
        (200, b'{"symbol":"BTCUSDT","orderId":28,"clientOrderId":"-1021 outside of the recvWindow"}', SIGNED_MS),
    ],
    "bybit": [
        (200, _dumps({"retCode": 10003, "retMsg": "API key is invalid.", "result": {}, "time": SERVER_MS}), SIGNED_MS),
        (200, _dumps({"retCode": 10004, "retMsg": "error sign! origin_string[...]", "time": SERVER_MS}), SIGNED_MS),
        (200, _dumps({"retCode": 10005, "retMsg": "Permission denied", "time": SERVER_MS}), SIGNED_MS),
        (200, _dumps({"retCode": 0, "retMsg": BYBIT_MESSAGE, "result": {"orderId": "1"}}), SIGNED_MS),
        (400, _dumps({"retCode": 10002, "retMsg": BYBIT_MESSAGE, "time": SERVER_MS}), SIGNED_MS),
        (401, _dumps({"retCode": 10002, "retMsg": BYBIT_MESSAGE, "time": SERVER_MS}), SIGNED_MS),
        (200, _dumps({"retCode": "10002", "retMsg": BYBIT_MESSAGE, "time": SERVER_MS}), SIGNED_MS),
        (200, _dumps({"retCode": True, "retMsg": BYBIT_MESSAGE}), SIGNED_MS),
        (200, _dumps({"retCode": 10002, "time": SERVER_MS}), SIGNED_MS),
        (200, _dumps({"ret_code": 10002, "ret_msg": BYBIT_MESSAGE}), SIGNED_MS),
        # The message is about another call's timestamp.
        (200, _dumps({"retCode": 10002, "retMsg": BYBIT_MESSAGE, "time": SERVER_MS}), SIGNED_MS + 1),
        (200, b'{"retCode":10004,"retCode":10002,"retMsg":"x"}', SIGNED_MS),
    ],
    "okx": [
        (401, b'{"msg":"Invalid OK-ACCESS-KEY","code":"50111"}', SIGNED_MS),
        (401, b'{"msg":"Invalid Sign","code":"50113","data":[]}', SIGNED_MS),
        (401, b'{"msg":"Invalid OK-ACCESS-TIMESTAMP","code":"50112","data":[]}', SIGNED_MS),
        (401, b'{"msg":"OK-ACCESS-PASSPHRASE incorrect","code":"50105","data":[]}', SIGNED_MS),
        (200, b'{"msg":"Timestamp request expired","code":"50102","data":[]}', SIGNED_MS),
        (400, b'{"msg":"Timestamp request expired","code":"50102","data":[]}', SIGNED_MS),
        (401, b'{"msg":"Timestamp request expired","code":50102,"data":[]}', SIGNED_MS),
        (401, b'{"msg":"Timestamp request expired","code":"50102 ","data":[]}', SIGNED_MS),
        (401, b'{"code":"50102","data":[]}', SIGNED_MS),
        (401, b'{"msg":"Timestamp request expired","code":"50113","code":"50102"}', SIGNED_MS),
        (
            200,
            b'{"code":"0","msg":"","data":[{"ordId":"1","sMsg":"Timestamp request expired","sCode":"50102"}]}',
            SIGNED_MS,
        ),
    ],
    "kucoin": [
        (401, b'{"code":"400003","msg":"KC-API-KEY not exists"}', SIGNED_MS),
        (401, b'{"code":"400005","msg":"Signature error"}', SIGNED_MS),
        (400, b'{"code":"400005","msg":"Invalid KC-API-SIGN"}', SIGNED_MS),
        (400, b'{"code":"400004","msg":"Invalid KC-API-PASSPHRASE"}', SIGNED_MS),
        (
            400,
            b'{"code":"400001","msg":"Please check the header of your request for KC-API-KEY, KC-API-SIGN"}',
            SIGNED_MS,
        ),
        (401, b'{"code":"400002","msg":"Invalid KC-API-TIMESTAMP"}', SIGNED_MS),
        (200, b'{"code":"400002","msg":"Invalid KC-API-TIMESTAMP"}', SIGNED_MS),
        (400, b'{"code":400002,"msg":"Invalid KC-API-TIMESTAMP"}', SIGNED_MS),
        (400, b'{"code":"400002"}', SIGNED_MS),
        (400, b'{"code":"400005","code":"400002","msg":"x"}', SIGNED_MS),
        (200, b'{"code":"200000","data":{"orderId":"1","remark":"400002 Invalid KC-API-TIMESTAMP"}}', SIGNED_MS),
    ],
    "coinbase-exchange": [
        (401, b'{"message":"invalid signature"}', SIGNED_MS),
        (401, b'{"message":"Invalid API Key"}', SIGNED_MS),
        (401, b'{"message":"Invalid Passphrase"}', SIGNED_MS),
        (401, b'{"message":"Request timestamp expired"}', SIGNED_MS),
        (401, b'{"message":"request timestamp expired "}', SIGNED_MS),
        (401, b'{"message":"error: request timestamp expired"}', SIGNED_MS),
        (401, b'{"message":"request timestamp expired","id":"5b4a6d9f"}', SIGNED_MS),
        (401, b'{"message":"invalid signature","message":"request timestamp expired"}', SIGNED_MS),
        (400, b'{"message":"request timestamp expired"}', SIGNED_MS),
        (200, b'{"message":"request timestamp expired"}', SIGNED_MS),
        (401, b'"request timestamp expired"', SIGNED_MS),
        (401, b"request timestamp expired", SIGNED_MS),
    ],
    "bitstamp": [
        (403, b'{"status": "error", "reason": "Invalid signature", "code": "API0005"}', SIGNED_MS),
        (403, b'{"status": "error", "reason": "Invalid nonce", "code": "API0004"}', SIGNED_MS),
        (403, b'{"status": "error", "reason": "API key not found", "code": "API0001"}', SIGNED_MS),
        (403, b'{"status": "error", "reason": "Wrong API key format", "code": "API0011"}', SIGNED_MS),
        (403, b'{"status": "error", "reason": "X-Auth-Timestamp header is invalid", "code": "API0018"}', SIGNED_MS),
        (
            400,
            b'{"status": "error", "reason": "X-Auth-Timestamp header is out of boundaries", "code": "API0017"}',
            SIGNED_MS,
        ),
        (
            200,
            b'{"status": "error", "reason": "X-Auth-Timestamp header is out of boundaries", "code": "API0017"}',
            SIGNED_MS,
        ),
        (
            403,
            b'{"status": "ok", "reason": "X-Auth-Timestamp header is out of boundaries", "code": "API0017"}',
            SIGNED_MS,
        ),
        (403, b'{"status": "error", "code": "API0017"}', SIGNED_MS),
        (403, b'{"status": "error", "reason": "x", "code": "api0017"}', SIGNED_MS),
        (403, b'{"status": "error", "reason": "x", "code": "API0005", "code": "API0017"}', SIGNED_MS),
        (200, b'{"id": "1", "status": "Open", "reason": "API0017"}', SIGNED_MS),
    ],
    "hitbtc": [
        # A wrong key (or signature) at a good clock: the server's time is within the window.
        (401, _dumps({"timestamp": _iso(SIGNED_MS + 180), "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": _iso(SIGNED_MS + 10_000), "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": _iso(SIGNED_MS - 10_000), "error": HITBTC_ERROR}), SIGNED_MS),
        # The answer carries no (readable) server time.
        (401, _dumps({"error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": str(SERVER_MS), "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": SERVER_MS, "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": "2024-02-03T15:03:16.658", "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": "2024-02-30T15:03:16.658Z", "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": "2024-13-03T15:03:16.658Z", "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": "٢٠٢٤-02-03T15:03:16.658Z", "error": HITBTC_ERROR}), SIGNED_MS),
        # No signed time to compare with.
        (401, _dumps({"timestamp": _iso(SERVER_MS), "error": HITBTC_ERROR}), None),
        # Other codes, other statuses, other shapes.
        (
            403,
            _dumps(
                {
                    "timestamp": _iso(SERVER_MS),
                    "error": {"code": 1003, "message": "Action is forbidden for this API key"},
                }
            ),
            SIGNED_MS,
        ),
        (
            401,
            _dumps(
                {"timestamp": _iso(SERVER_MS), "error": {"code": 1004, "message": "Unsupported authorization method"}}
            ),
            SIGNED_MS,
        ),
        (403, _dumps({"timestamp": _iso(SERVER_MS), "error": HITBTC_ERROR}), SIGNED_MS),
        (400, _dumps({"timestamp": _iso(SERVER_MS), "error": HITBTC_ERROR}), SIGNED_MS),
        (401, _dumps({"timestamp": _iso(SERVER_MS), "error": HITBTC_ERROR, "status": 403}), SIGNED_MS),
        (401, _dumps({"timestamp": _iso(SERVER_MS), "error": {"code": "1002", "message": "x"}}), SIGNED_MS),
        (401, _dumps({"timestamp": _iso(SERVER_MS), "error": {"code": 1002}}), SIGNED_MS),
        (401, _dumps({"timestamp": _iso(SERVER_MS), "code": 1002, "message": "x"}), SIGNED_MS),
        (
            401,
            (
                f'{{"timestamp":"{_iso(SIGNED_MS)}","timestamp":"{_iso(SERVER_MS)}",'
                + '"error":{"code":1002,"message":"x"}}'
            ).encode(),
            SIGNED_MS,
        ),
    ],
    "poloniex-v3": [
        (400, b'{"code":21605,"message":"Invalid Account Type"}', SIGNED_MS),
        (400, b'{"code":601,"message":"Invalid Parameter"}', SIGNED_MS),
        (401, b'{"code":401,"message":"Unauthorized"}', SIGNED_MS),
        (400, b'{"code":408,"message":"x"}', SIGNED_MS),
        (408, b'{"code":400,"message":"x"}', SIGNED_MS),
        (200, b'{"code":400,"message":"x"}', SIGNED_MS),
        (500, b'{"code":500,"message":"Internal System Error"}', SIGNED_MS),
        (400, b'{"code":"400","message":"x"}', SIGNED_MS),
        (400, b'{"code":400.0,"message":"x"}', SIGNED_MS),
        (400, b'{"code":400}', SIGNED_MS),
        (400, b'{"code":400,"message":"x","id":"1"}', SIGNED_MS),
        (400, b'{"code":601,"code":400,"message":"x"}', SIGNED_MS),
        (408, b"<html><body><h1>408 Request Time-out</h1></body></html>", SIGNED_MS),
        (200, b'{"id":"1","clientOrderId":"400 signTimestamp"}', SIGNED_MS),
    ],
}

#: What is no refusal for any API, at any status.
GARBAGE: list[bytes] = [
    b"",
    b"null",
    b"{}",
    b"[]",
    b"not json",
    b"\xff\xfe{\x00}\x00",
    b'{"code": NaN}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"code":-1021,"msg":"' + b"x" * 70_000 + b'"}',
    b'{"retCode":10002,"retMsg":"' + b"x" * 70_000 + b'"}',
    b'{"code":"50102","msg":"' + b"x" * 70_000 + b'"}',
    b'{"message":"request timestamp expired"' + b" " * 70_000 + b"}",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_has_a_recipe_and_samples(name: str) -> None:
    """Each timestamp preset builds a ClockSync by default; the tables here cover each one."""
    assert isinstance(_recipe(name), ClockSync)
    assert name in GENUINE
    assert name in NEAR_MISSES
    assert name in CLOCK_APIS


@pytest.mark.parametrize(
    ("name", "status", "body", "signed_ms", "server_ns"),
    [(name, *case) for name in NAMES for case in GENUINE[name]],
)
def test_the_documented_refusal_is_recognised(
    name: str, status: int, body: bytes, signed_ms: int | None, server_ns: int | None
) -> None:
    """The API's timestamp refusal is recognised, with the server's time where the answer carries it."""
    recipe = _recipe(name)
    assert status in recipe.statuses
    assert recipe.parse(status, body, signed_ms) == TimestampRejection(server_ns)
    assert recipe.rejection(status, body, signed_ms) == TimestampRejection(server_ns)


@pytest.mark.parametrize(
    ("name", "status", "body", "signed_ms"),
    [(name, *case) for name in NAMES for case in NEAR_MISSES[name]],
)
def test_a_near_miss_is_not_a_refusal(name: str, status: int, body: bytes, signed_ms: int | None) -> None:
    """Another code, the code at another status, a malformed or echoed answer: not a timestamp refusal."""
    recipe = _recipe(name)
    assert recipe.rejection(status, body, signed_ms) is None
    assert recipe.parse(status, body, signed_ms) is None


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
@pytest.mark.parametrize("status", [200, 400, 401, 403, 408, 500])
def test_garbage_is_not_a_refusal(name: str, body: bytes, status: int) -> None:
    """Empty, non-JSON, non-UTF-8, NaN, deeply nested and oversized (> 64 KiB) bodies are no refusal."""
    assert _recipe(name).rejection(status, body, SIGNED_MS) is None


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None)
@given(
    status=st.sampled_from([200, 400, 401, 403, 408, 429, 500]),
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    ),
    signed_ms=st.none() | st.integers(min_value=0, max_value=10**16),
)
def test_a_recipe_never_raises(name: str, status: int, body: bytes, signed_ms: int | None) -> None:
    """Whatever the answer, the parser returns a refusal or None; it never raises."""
    found = _recipe(name).rejection(status, body, signed_ms)
    assert found is None or isinstance(found, TimestampRejection)


def test_bybit_reads_the_server_time_only_for_this_call() -> None:
    """Bybit: a message naming another req_timestamp is not this call's refusal; without signed_ms it is read."""
    recipe = _recipe("bybit")
    body = _dumps({"retCode": 10002, "retMsg": BYBIT_MESSAGE, "time": SERVER_MS})
    assert recipe.parse(200, body, SIGNED_MS) == TimestampRejection(SERVER_MS * MS)
    assert recipe.parse(200, body, SIGNED_MS - 1) is None
    assert recipe.parse(200, body, None) == TimestampRejection(SERVER_MS * MS)


def test_hitbtc_compares_with_the_window_it_sends() -> None:
    """HitBTC: 20 s off is a refusal with the default 10 s window, not with a 30 s one (then it is a wrong key)."""
    body = _dumps({"timestamp": _iso(SERVER_MS), "error": HITBTC_ERROR})
    assert _recipe("hitbtc").parse(401, body, SIGNED_MS) == TimestampRejection(SERVER_MS * MS)
    assert _recipe("hitbtc", window=30_000).parse(401, body, SIGNED_MS) is None
    assert _recipe("hitbtc", window=5_000).parse(401, body, SIGNED_MS) == TimestampRejection(SERVER_MS * MS)


#: Preset -> (the documented time-endpoint answer, the time it says in ns).
TIME_ANSWERS: dict[str, tuple[bytes, int]] = {
    # Binance rest-api.md, "Check server time".
    "binance": (b'{\n    "serverTime": 1499827319559\n}', 1_499_827_319_559 * MS),
    # https://www.bitget.com/api-doc/common/public/Get-Server-Time
    "bitget": (
        b'{"code":"00000","msg":"success","requestTime":1700111073740,"data":{"serverTime":"1700111073740"}}',
        1_700_111_073_740 * MS,
    ),
    # Gate API v4 "Get server current time".
    "gateio": (b'{"server_time": 1597026383085}', 1_597_026_383_085 * MS),
    # Binance USD-M futures "Check Server Time".
    "binance-futures": (b'{\n  "serverTime": 1499827319559\n}', 1_499_827_319_559 * MS),
    # BitMEX GET /api/v1 (as third-party clients read it).
    "bitmex": (b'{"name":"BitMEX API","version":"1.2.0","timestamp":1554709447283}', 1_554_709_447_283 * MS),
    # https://docs.bitvavo.com/docs/rest-api/get-server-time/ (newer docs add timeNs).
    "bitvavo": (b'{"time": 1590379519148, "timeNs": 1590379519148000000}', 1_590_379_519_148 * MS),
    # HTX "Get Current Timestamp" (the docs show only "data"; the envelope as ccxt's tests record it).
    "htx": (b'{"status":"ok","data":1494900087029}', 1_494_900_087_029 * MS),
    # MEXC spot v3 "Check Server Time".
    "mexc": (b'{"serverTime": 1645539742000}', 1_645_539_742_000 * MS),
    # https://docs.deribit.com/#public-get_time
    "deribit": (
        b'{"jsonrpc": "2.0", "id": 7365, "result": 1550147385946, "testnet": false, "usIn": 1, "usOut": 2}',
        1_550_147_385_946 * MS,
    ),
    # https://bybit-exchange.github.io/docs/v5/market/time
    "bybit": (
        b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":"1688639403","timeNano":"1688639403423213947"},'
        b'"retExtInfo":{},"time":1688639403423}',
        1_688_639_403_423_213_947,
    ),
    # https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time
    "okx": (b'{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}', 1_597_026_383_085 * MS),
    # kucoin-api-docs, "Server Time".
    "kucoin": (b'{"code":"200000","msg":"success","data":1546837113087}', 1_546_837_113_087 * MS),
    # Coinbase Exchange "Get server time": epoch in (decimal) seconds.
    "coinbase-exchange": (b'{"iso":"2015-01-07T23:47:25.201Z","epoch":1420674445.201}', 1_420_674_445_201 * MS),
    # Poloniex "System Timestamp".
    "poloniex-v3": (b'{"serverTime":1649371360000}', 1_649_371_360_000 * MS),
}
TIME_PATHS = {
    "binance": "/api/v3/time",
    "bitget": "/api/v2/public/time",
    "gateio": "/api/v4/spot/time",
    "binance-futures": "/fapi/v1/time",
    "bitmex": "/api/v1",
    "bitvavo": "/v2/time",
    "htx": "/v1/common/timestamp",
    "mexc": "/api/v3/time",
    "deribit": "/api/v2/public/get_time",
    "bybit": "/v5/market/time",
    "okx": "/api/v5/public/time",
    "kucoin": "/api/v1/timestamp",
    "coinbase-exchange": "/time",
    "poloniex-v3": "/timestamp",
}
#: Preset -> time-endpoint answers that say no time.
TIME_GARBAGE: dict[str, list[bytes]] = {
    "binance": [b'{"serverTime":"1499827319559"}', b'{"serverTime":true}', b'{"serverTime":1.5e12}', b'{"time":1}'],
    "bitget": [
        b'{"code":"40001","data":{"serverTime":"1700111073740"}}',
        b'{"code":"00000","data":{"serverTime":1700111073740}}',
        b'{"code":"00000","data":{"serverTime":"-1700111073740"}}',
        b'{"code":"00000","data":{"serverTime":"0"}}',
        b'{"code":"00000","data":[]}',
        b'{"code":"00000","requestTime":1700111073740}',
    ],
    "gateio": [b'{"server_time":"1597026383085"}', b'{"server_time":true}', b'{"server_time":1.5e12}', b'{"time":1}'],
    "binance-futures": [b'{"serverTime":"1499827319559"}', b'{"serverTime":true}', b'{"serverTime":-1}', b'{"time":1}'],
    "bitmex": [b'{"name":"BitMEX API","timestamp":"1554709447283"}', b'{"timestamp":1.5e12}', b'{"time":1}'],
    "bitvavo": [b'{"time":"1590379519148"}', b'{"time":0}', b'{"time":true}', b'{"errorCode":101,"error":"x"}'],
    "htx": [
        b'{"data":1494900087029}',
        b'{"status":"error","data":1494900087029}',
        b'{"status":"ok","data":"1494900087029"}',
        b'{"status":"ok","data":0}',
        b'{"status":"ok","data":1.5e12}',
    ],
    "mexc": [b'{"serverTime":"1645539742000"}', b'{"serverTime":0}', b'{"serverTime":false}', b'{"time":1}'],
    "deribit": [
        b'{"jsonrpc":"2.0","result":"1550147385946"}',
        b'{"jsonrpc":"2.0","result":1.5e12}',
        b'{"jsonrpc":"2.0","result":true}',
        b'{"result":1550147385946}',
        b'{"jsonrpc":"2.0","error":{"code":10001,"message":"error"},"result":1550147385946}',
    ],
    "bybit": [
        b'{"retCode":10001,"result":{"timeNano":"1688639403423213947"}}',
        b'{"retCode":0,"result":{"timeNano":1688639403423213947}}',
        b'{"retCode":0,"result":{"timeNano":"-1688639403423213947"}}',
        b'{"retCode":0,"result":{"timeNano":"99999999999999999999"}}',
        b'{"retCode":0,"result":{"timeNano":"0"}}',
        b'{"retCode":0,"result":[]}',
        b'{"retCode":0,"result":{"timeNano":"1688639403423213947"},"retCode":0}',
    ],
    "okx": [
        b'{"code":"1","msg":"","data":[{"ts":"1597026383085"}]}',
        b'{"code":0,"msg":"","data":[{"ts":"1597026383085"}]}',
        b'{"code":"0","data":[{"ts":1597026383085}]}',
        b'{"code":"0","data":[{"ts":"1597026383085"},{"ts":"1597026383086"}]}',
        b'{"code":"0","data":[]}',
        b'{"code":"0","data":[{"ts":"+1597026383085"}]}',
    ],
    "kucoin": [
        b'{"code":"400002","data":1546837113087}',
        b'{"code":"200000","data":"1546837113087"}',
        b'{"code":"200000","data":-1}',
        b'{"code":"200000","data":null}',
    ],
    "coinbase-exchange": [
        b'{"iso":"2015-01-07T23:47:25.201Z"}',
        b'{"epoch":"1420674445.201"}',
        b'{"epoch":-1}',
        b'{"epoch":1e300}',
        b'{"epoch":true}',
        b'{"epoch":Infinity}',
    ],
    "poloniex-v3": [b'{"serverTime":"1649371360000"}', b'{"serverTime":0}', b'{"serverTime":false}', b'{"time":1}'],
}


@pytest.mark.parametrize("name", sorted(TIME_ANSWERS))
def test_the_time_endpoint_answer_is_read(name: str) -> None:
    """The documented server-time answer is read to the nanosecond; the path is the documented one."""
    recipe = _recipe(name)
    body, expected = TIME_ANSWERS[name]
    assert recipe.time_path == TIME_PATHS[name]
    assert recipe.server_time is not None
    assert recipe.server_time(body) == expected
    assert recipe.read_server_time(200, body) == expected
    assert recipe.read_server_time(500, body) is None


@pytest.mark.parametrize(
    ("name", "body"), [(name, body) for name in sorted(TIME_GARBAGE) for body in TIME_GARBAGE[name]]
)
def test_a_garbled_time_answer_says_no_time(name: str, body: bytes) -> None:
    """Another code, a string for a number, a negative, out-of-range or duplicated time: no time (None)."""
    recipe = _recipe(name)
    assert recipe.server_time is not None
    assert recipe.server_time(body) is None
    assert recipe.read_server_time(200, body) is None


@pytest.mark.parametrize("name", sorted(TIME_ANSWERS))
@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_says_no_time(name: str, body: bytes) -> None:
    """Empty, non-JSON, nested or oversized time answers are no time, and nothing raises."""
    server_time = _recipe(name).server_time
    assert server_time is not None
    assert server_time(body) is None


@pytest.mark.parametrize("name", ["bitstamp", "cryptocom", "hitbtc"])
def test_apis_without_a_time_endpoint_have_none(name: str) -> None:
    """Bitstamp, Crypto.com (v1) and HitBTC document no public server-time endpoint."""
    recipe = _recipe(name)
    assert recipe.time_path is None
    assert recipe.server_time is None


@pytest.mark.parametrize(
    ("name", "window_ms"),
    [
        ("binance", 5000),
        ("bitget", 30_000),
        ("bybit", 5000),
        ("okx", 30_000),
        ("kucoin", 5000),
        ("coinbase-exchange", 30_000),
        ("cryptocom", 60_000),
        ("deribit", 60_000),
        ("gateio", 60_000),
        ("mexc", 5000),
        ("bitvavo", 10_000),
        ("bitmex", 5000),
        ("binance-futures", 5000),
        ("htx", 60_000),
        ("bitstamp", 150_000),
        ("hitbtc", 10_000),
        ("poloniex-v3", 1000),
    ],
)
def test_the_documented_window(name: str, window_ms: int) -> None:
    """Each recipe states its API's window and cites where the refusal is documented."""
    recipe = _recipe(name)
    assert recipe.window_ms == window_ms
    assert recipe.doc.startswith("https://")


@pytest.mark.parametrize(
    ("name", "options", "window_ms"),
    [
        ("binance", {"recv_window": 10_000}, 10_000),
        ("mexc", {"recv_window": 20_000}, 20_000),
        ("bitvavo", {"access_window": 5000}, 5000),
        ("bitmex", {"expires_after": 60}, 60_000),
        ("binance-futures", {"recv_window": 30_000}, 30_000),
        ("bybit", {"recv_window": 20_000}, 20_000),
        ("hitbtc", {"window": 30_000}, 30_000),
        ("poloniex-v3", {"recv_window": 1500}, 1500),
    ],
)
def test_the_window_follows_the_option(name: str, options: dict[str, Any], window_ms: int) -> None:
    """Where the preset sends a window, the recipe's is that one."""
    assert _recipe(name, **options).window_ms == window_ms


@pytest.mark.parametrize("name", NAMES)
def test_clock_sync_false_turns_it_off(name: str) -> None:
    """clock_sync=False: the auth has no recipe (it signs with clock= only); the default has one."""
    assert _auth(name, clock_sync=False).lifecycle.clock_sync is None
    assert isinstance(_auth(name, clock_sync=True).lifecycle.clock_sync, ClockSync)
    assert isinstance(_auth(name).lifecycle.clock_sync, ClockSync)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "value", [None, 0, 1, "yes", "False", _recipe("okx")], ids=["None", "0", "1", "yes", "False-str", "a-recipe"]
)
def test_clock_sync_must_be_a_bool(name: str, value: object) -> None:
    """A clock_sync that is not True or False raises ConfigurationError."""
    with pytest.raises(ConfigurationError, match="clock_sync"):
        _auth(name, clock_sync=value)


# --- The emulation of tests/_clock_apis.py agrees with the recipes.


@pytest.mark.parametrize("name", NAMES)
def test_emulated_refusals_are_recognised(name: str) -> None:
    """Each emulated refusal (behind and ahead of the window) is recognised, with the time it carries."""
    api, recipe = CLOCK_APIS[name], _recipe(name)
    assert recipe.window_ms == api.window_ms
    server_ms = 1_700_000_000_000
    for signed_ms in (server_ms - api.window_ms - 1, server_ms - 90_000 - api.window_ms, server_ms + api.ahead_ms + 1):
        status, headers, body = api.rejection(server_ms, signed_ms)
        assert headers.get("Content-Type", "").startswith("application/json")
        found = recipe.parse(status, body, signed_ms)
        assert found is not None, (name, status, body)
        if found.server_ns is not None:
            assert abs(found.server_ns - server_ms * MS) < MS


@pytest.mark.parametrize("name", NAMES)
def test_emulated_time_answers_are_read(name: str) -> None:
    """Each emulated time endpoint is the recipe's, and its answer reads back to the right time."""
    api, recipe = CLOCK_APIS[name], _recipe(name)
    assert recipe.time_path == api.time_path
    server_ms = 1_700_000_123_456
    if api.time_path is None:
        with pytest.raises(LookupError):
            api.time_answer(server_ms)
        return
    read = recipe.read_server_time(200, api.time_answer(server_ms))
    assert read is not None
    assert abs(read - server_ms * MS) < api.time_resolution_ns


@pytest.mark.parametrize("name", NAMES)
def test_emulation_reads_the_timestamp_the_preset_signs(name: str) -> None:
    """The emulated API reads, from the preset's signed sample request, the timestamp it signed."""
    now_ns = 1_706_972_576_658_123_456
    auth = _auth(name, clock=lambda: now_ns)
    sample = SAMPLES[name]
    signed = auth.sign(sample.method, sample.url, body=sample.body, content_type=sample.content_type)
    expected = now_ns // MS
    if name in ("coinbase-exchange", "gateio", "htx"):
        expected = expected // 1000 * 1000  # whole seconds
    assert CLOCK_APIS[name].signed_ms(sample.method, signed.url, signed.headers, signed.body) == expected
