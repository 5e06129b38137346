"""Regenerate ``poloniex_v3_sdk.json``: requests signed by Poloniex's official Python SDK itself.

SDK: https://github.com/poloniex/polo-sdk-python (not on PyPI), commit
``c2f7c623662f5f46f5d2c2a9b1497925d42c9280`` (2025-02-14), file
``polosdk/spot/rest/request.py``. The scheme is documented at
https://api-docs.poloniex.com/spot/api#authentication.

Not run by the test suite. The SDK is never a project dependency: use a separate venv::

    git clone https://github.com/poloniex/polo-sdk-python /tmp/polo-sdk
    git -C /tmp/polo-sdk checkout c2f7c623662f5f46f5d2c2a9b1497925d42c9280
    python3 -m venv /tmp/polo && /tmp/polo/bin/pip install requests websockets certifi
    POLO_SDK=/tmp/polo-sdk /tmp/polo/bin/python tests/vectors/generate_poloniex_v3_sdk.py

Each case goes through the SDK's own ``Request.__call__`` (``polosdk.spot.rest.request``),
so its dict handling, JSON serialisation, ``encode_uri_component`` and ``_get_sig_header``
all run unchanged. Only three names of that module are replaced, none of which signs:
``datetime`` (the clock, fixed per case), ``hmac`` (a pass-through that records the exact
payload the SDK signs) and ``requests`` (records the call instead of sending it).

Recorded per case: the SDK's headers (``key``, ``signTimestamp``, ``signature``), the payload
it signed (``sdk_message``), and ``sdk_sent_url``, the URL the SDK's ``requests.request(...,
params=params)`` would put on the wire. That URL is ``urlencode``-d (``a+b%281%29``) while the
signature covers ``encodeURIComponent`` values (``a%20b(1)``): the SDK sends other bytes than
it signs. ``expected_url`` is what hmac-body-auth sends: the caller's parameters in their
order, values encoded exactly as the SDK signs them, so the signed and the sent bytes agree.

Repeated parameter names cannot be expressed: the SDK takes ``params`` as a dict (and
``dict.update`` keeps one value per name), so there are no such vectors.
"""

from __future__ import annotations

import base64
import datetime as _datetime
import hashlib
import hmac as _hmac
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

SDK_REPO = "https://github.com/poloniex/polo-sdk-python"
SDK_COMMIT = "c2f7c623662f5f46f5d2c2a9b1497925d42c9280"
DOC = "https://api-docs.poloniex.com/spot/api#authentication"
ORIGIN = "https://api.poloniex.com"
KEY = "HBA-POLO-SDK-KEY-0001"
SECRET = "hba-polo-sdk-secret-0123456789abcdef"

# (name, method, path, params, JSON body as a dict or None, signTimestamp in ms)
CASES: list[tuple[str, str, str, dict[str, Any], dict[str, Any] | None, int]] = [
    ("sdk-get-plain", "GET", "/orders", {"symbol": "BTC_USDT", "limit": "5"}, None, 1700000000000),
    ("sdk-get-space-parens", "GET", "/orders", {"symbol": "BTC_USDT", "clientOrderId": "a b(1)"}, None, 1700000000001),
    ("sdk-get-mark-characters", "GET", "/orders", {"clientOrderId": "()*'!~"}, None, 1700000000002),
    ("sdk-get-unreserved", "GET", "/orders", {"clientOrderId": "A-z_0.9~"}, None, 1700000000003),
    ("sdk-get-spaces", "GET", "/orders", {"clientOrderId": "  two  spaces "}, None, 1700000000004),
    ("sdk-get-plus", "GET", "/orders", {"clientOrderId": "1+1"}, None, 1700000000005),
    ("sdk-get-ampersand-equals", "GET", "/orders", {"clientOrderId": "a&b=c"}, None, 1700000000006),
    ("sdk-get-percent", "GET", "/orders", {"clientOrderId": "100% %20"}, None, 1700000000007),
    ("sdk-get-non-ascii", "GET", "/orders", {"clientOrderId": "é😀日本"}, None, 1700000000008),
    ("sdk-get-reserved", "GET", "/orders", {"clientOrderId": "/?#[]@:;,$"}, None, 1700000000009),
    ("sdk-get-controls", "GET", "/orders", {"clientOrderId": "tab\tnl\n"}, None, 1700000000010),
    ("sdk-get-empty-value", "GET", "/orders", {"symbol": "BTC_USDT", "clientOrderId": ""}, None, 1700000000011),
    (
        "sdk-get-sorting",
        "GET",
        "/orders/history",
        {"z": "1", "a": "a b", "B": "2", "_x": "é", "symbol": "ETH_USDT", "limit": 10},
        None,
        1700000000012,
    ),
    ("sdk-get-no-params", "GET", "/accounts/balances", {}, None, 1700000000013),
    ("sdk-delete-no-body", "DELETE", "/orders/21934611974062080", {}, None, 1700000000014),
    (
        "sdk-post-json-body",
        "POST",
        "/orders",
        {},
        {"symbol": "BTC_USDT", "side": "BUY", "type": "LIMIT", "quantity": "1", "clientOrderId": "a b(1)é"},
        1700000000015,
    ),
    ("sdk-delete-json-body", "DELETE", "/orders/cancelByIds", {}, {"orderIds": ["1", "2"]}, 1700000000016),
]


def _encode_uri_component(text: str) -> str:
    """JavaScript's encodeURIComponent (ECMA-262 "Encode"): all but ``A-Za-z0-9-_.!~*'()`` as UTF-8 %XX."""
    unreserved = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()")
    return "".join(c if c in unreserved else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def _sdk_commit(sdk: Path) -> str:
    """The commit ``sdk`` (a git checkout) is at: the vectors record it."""
    out = subprocess.run(["git", "-C", str(sdk), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def main() -> None:
    """Write poloniex_v3_sdk.json next to this script."""
    if "POLO_SDK" not in os.environ:
        raise SystemExit("set POLO_SDK to a git checkout of polo-sdk-python (see this script's docstring)")
    sdk = Path(os.environ["POLO_SDK"])
    commit = _sdk_commit(sdk)
    if commit != SDK_COMMIT:
        raise SystemExit(f"{sdk} is at {commit}, not the pinned {SDK_COMMIT}")
    sys.path.insert(0, str(sdk))
    import requests  # the SDK's own dependency, to rebuild the URL it would send
    from polosdk.spot.rest import request as sdk_request  # type: ignore[import-not-found]

    vectors = []
    for name, method, path, params, body, stamp in CASES:
        signed: list[bytes] = []
        calls: list[dict[str, Any]] = []

        def new(key: bytes, msg: bytes, digestmod: Any, signed: list[bytes] = signed) -> Any:
            signed.append(msg)
            return _hmac.new(key, msg, digestmod)

        def request(method: str, url: str, calls: list[dict[str, Any]] = calls, **kwargs: Any) -> Any:
            calls.append({"method": method, "url": url, **kwargs})
            return SimpleNamespace(status_code=200, json=dict, text="{}")

        # Half a millisecond past the stamp, so int(timestamp() * 1000) is the stamp whatever the float rounding.
        moment = _datetime.datetime.fromtimestamp((stamp + 0.5) / 1000)
        sdk_request.datetime = SimpleNamespace(now=lambda moment=moment: moment)
        sdk_request.hmac = SimpleNamespace(new=new)
        sdk_request.requests = SimpleNamespace(request=request)
        sdk_request.Request(KEY, SECRET, ORIGIN)(method, path, True, params=dict(params), body=dict(body or {}))
        (call,) = calls
        (message,) = signed
        headers = {k: v for k, v in call["headers"].items() if k != "content-type"}
        assert headers["signTimestamp"] == str(stamp), (headers, stamp)
        sent = requests.Request(method, call["url"], params=call["params"], data=call["data"]).prepare()
        data = call["data"] if isinstance(call["data"], str) else ""
        query = "&".join(f"{k}={_encode_uri_component(str(v))}" for k, v in params.items())
        vectors.append(
            {
                "name": name,
                "source": f"{SDK_REPO} @ {commit}, polosdk.spot.rest.request.Request.__call__",
                "key": KEY,
                "secret": SECRET,
                "method": method,
                "path": path,
                "params": [[k, str(v)] for k, v in params.items()],
                "body": data,
                "content_type": call["headers"].get("content-type"),
                "clock_ms": stamp,
                "headers": headers,
                "sdk_message": message.decode("utf-8"),
                "sdk_sent_url": sent.url,
                "expected_url": ORIGIN + path + (f"?{query}" if query else ""),
            }
        )
        # The payload the SDK signed, recomputed: the recorded headers belong to it.
        assert headers["signature"] == _sign(message), name

    document = {
        "source": f"{SDK_REPO} (official Poloniex Python SDK) @ {commit}; scheme: {DOC}",
        "sdk_repo": SDK_REPO,
        "sdk_commit": commit,
        "doc": DOC,
        "repeated_names": "not expressible: the SDK takes params as a dict",
        "vectors": vectors,
    }
    out = Path(__file__).with_name("poloniex_v3_sdk.json")
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _sign(message: bytes) -> str:
    return base64.b64encode(_hmac.new(SECRET.encode(), message, hashlib.sha256).digest()).decode()


if __name__ == "__main__":
    main()
