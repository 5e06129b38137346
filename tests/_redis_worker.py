"""The child side of the multi-process Redis nonce test (importable, for the "spawn" start method)."""

from __future__ import annotations

import os
from typing import Any


def post_many(
    redis_url: str,
    server_url: str,
    key: str,
    secret: str,
    name: str,
    count: int,
    barrier: Any,
    results: Any,
) -> None:
    """POST ``count`` signed requests through one ``RedisNonce`` and report the statuses."""
    import requests

    from hmac_body_auth import Poloniex
    from hmac_body_auth._redis import RedisNonce

    statuses: list[int] = []
    error = ""
    nonce = RedisNonce(redis_url, name=name)
    try:
        auth = Poloniex(key, secret, nonce=nonce)
        with requests.Session() as session:
            barrier.wait(timeout=60)
            for i in range(count):
                response = session.post(server_url, data={"command": "buy", "n": str(i)}, auth=auth, timeout=30)
                statuses.append(response.status_code)
    except Exception as exc:  # reported to the parent, which fails the test
        error = f"{type(exc).__name__}: {exc}"
    finally:
        nonce.close()
        results.put((os.getpid(), statuses, error))
