"""Functions run in child processes (importable, so the spawn start method finds them)."""

from __future__ import annotations

import requests

import hmac_body_auth as hba
from hmac_body_auth.nonces import FileNonce, Unit


def post_with_file_nonce(url: str, key: str, secret: str, path: str, count: int, unit: Unit = "us") -> list[int]:
    """POST ``count`` signed requests through one FileNonce; return the HTTP statuses."""
    auth = hba.Poloniex(key, secret, nonce=FileNonce(path, unit=unit), nonce_error=None)
    statuses = []
    with requests.Session() as session:
        for i in range(count):
            r = session.post(url, data={"command": "returnBalances", "i": str(i)}, auth=auth, timeout=30)
            statuses.append(r.status_code)
    return statuses
