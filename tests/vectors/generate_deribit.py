r"""Regenerate ``deribit.json``: Deribit's documented shell recipe, run as written, and ccxt.

Not run by the test suite. ccxt is never a project dependency: use a separate venv::

    python3 -m venv /tmp/vec && /tmp/vec/bin/pip install ccxt==4.5.90
    /tmp/vec/bin/python tests/vectors/generate_deribit.py     # needs bash and openssl

Sources
-------
* Docs: https://docs.deribit.com/#authentication ("Deribit Signature Credentials"; Deribit
  API v2.1.1), https://docs.deribit.com/#rpc-error-codes, https://docs.deribit.com/#public-get_time.
* Official SDK: none signs HTTP requests. Deribit's official generated clients
  (github.com/deribit/deribit-api-clients, commit 7ae49f6c4df5c231ed8b346925ee3539dbde46e9,
  ``python/openapi_client/configuration.py``) only know ``Basic`` and ``Bearer``; ``deri-hmac``
  exists there only as documentation text. The official example is the docs' shell recipe
  (``python/README.md`` of that repo, and docs.deribit.com)::

      Signature=$( echo -ne "${Timestamp}\n${Nonce}\n${HttpMethod}\n${URI}\n${Body}\n" \
                   | openssl sha256 -r -hmac "$ClientSecret" | cut -f1 -d' ' )
      curl -s -X ${HttpMethod} -H "Authorization: deri-hmac-sha256 id=${ClientId},ts=${Timestamp},\
      nonce=${Nonce},sig=${Signature}" "https://www.deribit.com${URI}"

  which this script runs verbatim under bash with the case's values (``docs-shell-*`` vectors).
  (``echo -e`` also expands backslash escapes inside the values, so those cases use bodies
  without backslashes.) The docs' printed output ``ea40d5e5...`` depends on the time and a
  random nonce, so it cannot be checked; no fixed HTTP example is published.
* Second implementation: ccxt 4.5.90 ``deribit.sign`` (``ccxt/deribit.py``), ``ccxt-*`` vectors,
  with ``milliseconds`` (and, where stated, ``nonce``) fixed on the instance. ccxt signs only
  ``GET`` with the parameters in the query string (its nonce is the millisecond clock, like ts).

Scheme spec (what the preset implements)
----------------------------------------
* Algorithm: HMAC-SHA256; digest: lower-case hex; secret: the Client Secret string's bytes as is.
  Docs: "Signature = HEX_STRING( HMAC-SHA256( ClientSecret, StringToSign ) ); StringToSign =
  Timestamp + "\n" + Nonce + "\n" + RequestData; RequestData = UPPERCASE(HTTP_METHOD()) + "\n"
  + URI() + "\n" + RequestBody + "\n";"
* Message: ``{ts}\n{nonce}\n{METHOD}\n{URI}\n{body}\n`` (five fields, each followed by
  ``\n``, including the last: an empty body leaves ``\n\n`` at the end). ``URI`` is the path
  plus ``?`` and the query string exactly as sent (``/api/v2/private/get_account_summary?
  currency=BTC``), not sorted, percent-encoding as sent (ccxt: ``urlencode`` with
  ``quote``, so ``café`` -> ``caf%C3%A9``); no ``?`` when there is no query. ``body`` is the
  exact request body (empty string for GET). METHOD upper case.
* Timestamp: Unix milliseconds, decimal; "It's valid for 60 seconds since generation, after that
  time any request with an old timestamp will be rejected." Nonce: "Single usage, user generated
  initialization vector for the server token": an arbitrary string (the docs use 8 random
  ``[a-z0-9]`` characters; ccxt uses the millisecond clock). No receive-window option.
* Where things go: one header, ``Authorization: deri-hmac-sha256 id=<ClientId>,ts=<ts>,
  sig=<hex>,nonce=<nonce>`` (this order in the docs' text and in ccxt; the docs' curl line puts
  ``nonce`` before ``sig``; the current docs' text shows ``id=ClientId, ts=Timestamp,
  sig=Signature, nonce=Nonce`` with a space after each comma). A verifier should read the four
  ``k=v`` pairs in any order, with optional spaces after commas. The preset sends ``id,ts,sig,
  nonce`` without spaces (ccxt's bytes; the ``docs-shell-*`` vectors use the same order). No
  other auth header; key, ts and nonce travel only inside ``Authorization``.
* Bodies: none (GET, parameters in the query: ``GET /api/v2/private/<method>?...``) or a
  JSON-RPC 2.0 object (``Content-Type: application/json``) POSTed, signed over the exact body
  bytes. The POST URI used here, ``/api/v2``, follows JSON-RPC over HTTP; that the server accepts
  a signed POST there is not verified here (uncertain; no implementation at hand signs a POST).
* Errors: JSON-RPC ``{"jsonrpc": "2.0", "id": ..., "error": {"code": 13009, "message":
  "unauthorized"}, "testnet": false, "usIn": ..., "usOut": ..., "usDiff": ...}``; 13009
  ``"unauthorized"``: "Wrong or expired authorization token or bad signature"; 10000
  ``"authorization_required"``: "Authorization issue, invalid or absent signature etc."; 13004
  ``"invalid_credentials"``. Which code a stale ``ts`` or a reused nonce gets, and the HTTP
  status (Deribit answers errors over HTTP with 400 in practice), are not documented: uncertain.
* Server time: ``GET /api/v2/public/get_time`` -> ``{"jsonrpc": "2.0", "result":
  1550147385946, ...}`` (ms).
* Origin ``https://www.deribit.com``; testnet ``https://test.deribit.com`` (separate accounts and
  keys; docs: "all examples in this documentation refer to that environment"). Env prefix:
  ``DERIBIT``.

Docs vs implementations
-----------------------
* Header field order differs between the docs' text, the docs' curl line and ccxt (see above).
* The docs' WebSocket ``client_signature`` example (not this scheme) prints ``e20c9cd5...``,
  which is HMAC(``ABCD``, ``1554883365000\nfdbmmz79\n``) without the trailing ``\n`` its own
  ``echo -ne "...${Data}\n"`` adds: the shell line and the printed value disagree there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import ccxt  # type: ignore[import-not-found]

DOCS = "https://docs.deribit.com/#authentication"
OFFICIAL_REPO = "github.com/deribit/deribit-api-clients@7ae49f6c4df5c231ed8b346925ee3539dbde46e9"
ORIGIN = "https://www.deribit.com"

# The docs' own placeholder credentials and example values (ClientId/ClientSecret/Timestamp/Nonce).
DOC_ID = "AAAAAAAAAAA"
DOC_SECRET = "ABCD"
DOC_STAMP = 1554883365000
DOC_NONCE = "fdbmmz79"

KEY = "HBA-TEST-DERIBIT-ID"
SECRET = "hba-test-deribit-secret-0123456789abcdef"

# The docs' signing line, verbatim, reading its variables from the environment.
DOCS_SHELL = (
    'Signature=$( echo -ne "${Timestamp}\\n${Nonce}\\n${HttpMethod}\\n${URI}\\n${Body}\\n" '
    '| openssl sha256 -r -hmac "$ClientSecret" | cut -f1 -d\' \' ); echo -n "$Signature"'
)


def docs_sign(secret: str, stamp: int, nonce: str, method: str, uri: str, body: str) -> tuple[str, str]:
    """The docs' formula, written from the docs alone: (StringToSign, hex signature)."""
    request_data = f"{method.upper()}\n{uri}\n{body}\n"
    string_to_sign = f"{stamp}\n{nonce}\n{request_data}"
    return string_to_sign, hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def _docs_shell(secret: str, stamp: int, nonce: str, method: str, uri: str, body: str) -> str:
    """Run the docs' shell line under bash and return the signature it prints."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LC_ALL": "C.UTF-8",
        "ClientSecret": secret,
        "Timestamp": str(stamp),
        "Nonce": nonce,
        "HttpMethod": method,
        "URI": uri,
        "Body": body,
    }
    done = subprocess.run(["bash", "-c", DOCS_SHELL], env=env, capture_output=True, check=True)
    return done.stdout.decode()


def _vector(
    name: str,
    key: str,
    secret: str,
    stamp: int,
    nonce: str,
    method: str,
    url: str,
    body: str,
    authorization: str,
    prehash: str,
    note: str,
) -> dict[str, Any]:
    return {
        "name": name,
        "key": key,
        "secret": secret,
        "passphrase": None,
        "options": {},
        "method": method,
        "url": url,
        "content_type": "application/json" if body else None,
        "body": body,
        "clock_ms": stamp,
        "nonce": nonce,
        "expected": {"url": url, "body": body, "headers": {"Authorization": authorization}, "prehash": prehash},
        "note": note,
    }


def _docs_case(name: str, key: str, secret: str, stamp: int, nonce: str, method: str, uri: str, body: str) -> dict:
    """A request signed by the docs' shell recipe, with the header as in the docs' curl line."""
    signature = _docs_shell(secret, stamp, nonce, method, uri, body)
    prehash, expected = docs_sign(secret, stamp, nonce, method, uri, body)
    assert signature == expected, (name, signature, expected)
    # The header as the docs' text defines it (id, ts, sig, nonce); their curl line swaps sig and nonce.
    authorization = f"deri-hmac-sha256 id={key},ts={stamp},sig={signature},nonce={nonce}"
    note = "signature by the docs' shell line run under bash + openssl; header in the docs' text order"
    return _vector(name, key, secret, stamp, nonce, method, ORIGIN + uri, body, authorization, prehash, note)


def _ccxt_case(
    name: str, key: str, secret: str, stamp: int, nonce: str | None, path: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Run ccxt's deribit.sign for a private GET with the clock (and optionally the nonce) fixed."""
    exchange = ccxt.deribit({"apiKey": key, "secret": secret})
    exchange.milliseconds = lambda: stamp
    if nonce is not None:
        exchange.nonce = lambda: nonce
    recorded: list[bytes] = []

    def recording_hmac(request: bytes, secret: bytes, algorithm: Any = hashlib.sha256, digest: str = "hex") -> Any:
        recorded.append(request)
        return ccxt.Exchange.hmac(request, secret, algorithm, digest)

    exchange.hmac = recording_hmac
    out = exchange.sign(path, ["private"], "GET", params)
    assert out["body"] is None
    used_nonce = nonce if nonce is not None else str(stamp)
    note = f"ccxt {ccxt.__version__} deribit.sign({path!r}, ['private'], 'GET', params)"
    if nonce is None:
        note += "; ccxt's own nonce (its millisecond clock, equal to ts)"
    return _vector(
        name,
        key,
        secret,
        stamp,
        used_nonce,
        "GET",
        out["url"],
        "",
        out["headers"]["Authorization"],
        recorded[0].decode(),
        note,
    )


def _check(vector: dict[str, Any]) -> None:
    """docs_sign must reproduce the recorded StringToSign and the header's sig=."""
    uri = vector["expected"]["url"][len(ORIGIN) :]
    prehash, signature = docs_sign(
        vector["secret"], vector["clock_ms"], str(vector["nonce"]), vector["method"], uri, vector["expected"]["body"]
    )
    scheme, _, fields = vector["expected"]["headers"]["Authorization"].partition(" ")
    pairs = dict(part.strip().split("=", 1) for part in fields.split(","))
    assert scheme == "deri-hmac-sha256", vector["name"]
    assert prehash == vector["expected"]["prehash"], (vector["name"], prehash)
    assert pairs == {
        "id": vector["key"],
        "ts": str(vector["clock_ms"]),
        "sig": signature,
        "nonce": str(vector["nonce"]),
    }


def main() -> None:
    """Print the vectors JSON and write deribit.json next to this script."""
    summary_uri = "/api/v2/private/get_account_summary?currency=BTC"
    vectors = [
        # The docs' example request (URI, GET, empty body) with the docs' placeholder values.
        _docs_case("docs-shell-get-account-summary", DOC_ID, DOC_SECRET, DOC_STAMP, DOC_NONCE, "GET", summary_uri, ""),
        _ccxt_case(
            "ccxt-get-account-summary-docs-values",
            DOC_ID,
            DOC_SECRET,
            DOC_STAMP,
            DOC_NONCE,
            "get_account_summary",
            {"currency": "BTC"},
        ),
        _ccxt_case(
            "ccxt-get-positions-query",
            KEY,
            SECRET,
            1700000000000,
            None,
            "get_positions",
            {"currency": "BTC", "kind": "future"},
        ),
        _ccxt_case("ccxt-get-subaccounts-no-query", KEY, SECRET, 1700000000001, "n0nce001", "get_subaccounts", {}),
        _ccxt_case(
            "ccxt-get-buy-non-ascii-label",
            KEY,
            SECRET,
            1700000000002,
            "n0nce002",
            "buy",
            {"instrument_name": "BTC-PERPETUAL", "amount": 10, "type": "market", "label": "café"},
        ),
        _docs_case(
            "docs-shell-post-jsonrpc-body-non-ascii",
            KEY,
            SECRET,
            1700000000003,
            "n0nce003",
            "POST",
            "/api/v2",
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 42,
                    "method": "private/buy",
                    "params": {"instrument_name": "BTC-PERPETUAL", "amount": 10, "type": "market", "label": "café"},
                },
                separators=(",", ":"),
                ensure_ascii=False,
            ),
        ),
    ]
    # The docs' example and ccxt agree on the bytes signed and the signature.
    assert vectors[0]["expected"] == vectors[1]["expected"]
    assert "caf%C3%A9" in vectors[4]["url"]
    for vector in vectors:
        _check(vector)
    document = {
        "source": f"Deribit docs {DOCS} (shell recipe, run; no official SDK signs HTTP: {OFFICIAL_REPO} has "
        f"only Basic/Bearer) and ccxt {ccxt.__version__} deribit.sign",
        "version": ccxt.__version__,
        "generator": "tests/vectors/generate_deribit.py",
        "vectors": vectors,
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    Path(__file__).with_name("deribit.json").write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
