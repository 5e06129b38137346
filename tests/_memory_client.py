"""Run in a child process: send one large file body and report the peak memory growth."""

from __future__ import annotations

import json
import resource
import sys


def main() -> None:
    """argv: client path url mode; prints {"status": ..., "growth_mib": ...}."""
    client, path, url, mode = sys.argv[1:5]
    import httpx
    import requests

    import hmac_body_auth as hba

    auth = hba.BodyDigestAuth("MEMKEY-0001", secret="memory-secret")
    # Warm up the client code paths with a small body first, so imports and
    # connection set-up are not counted as growth.
    small = b"x" * 1024
    if client == "requests":
        requests.post(url, data=small, auth=auth, timeout=60)
    else:
        httpx.post(url, content=small, auth=auth, timeout=60)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(path, "rb") as f:
        body: object = f
        if mode == "generator":
            body = iter(lambda: f.read(1 << 20), b"")
        if client == "requests":
            status = requests.post(url, data=body, auth=auth, timeout=120).status_code
        else:
            status = httpx.post(url, content=body, auth=auth, timeout=120).status_code  # type: ignore[arg-type]
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"status": status, "growth_mib": (after - before) / 1024}))


if __name__ == "__main__":
    main()
