"""The seed's auth (the package's first commit), the baseline of the ratio benchmarks.

``load()`` extracts ``hmac_body_auth/`` as it was at :data:`SEED_COMMIT` from this
repository's history (``git archive``) into a temporary directory and imports it
as ``hmac_body_auth_seed``, next to the current package. Its bare auth,
``BodyDigestAuth(secret=...)`` (an HMAC of the body into ``Sign``: no key, no
nonce, no lease), is what "the seed's bare auth" means in these benchmarks.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

#: The first commit: "Core signing, requests/httpx adapters, per-key lease, Poloniex preset, ...".
SEED_COMMIT = "6409145a66d42749cc4a0619a869f40efeaa0872"
NAME = "hmac_body_auth_seed"
ROOT = Path(__file__).resolve().parent.parent


def load() -> ModuleType:
    """Import the seed's package as ``hmac_body_auth_seed`` (needs this repository's git history)."""
    if NAME in sys.modules:
        return sys.modules[NAME]
    where = Path(tempfile.mkdtemp(prefix="hba-seed-"))
    atexit.register(shutil.rmtree, where, True)
    try:
        # Fixed arguments; git and tar from PATH, as a developer runs them.
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "archive", SEED_COMMIT, "hmac_body_auth"],  # noqa: S607
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(
            f"the seed baseline needs this repository's git history (commit {SEED_COMMIT[:7]}): {exc}"
        ) from None
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)  # noqa: S603, S607
    # The seed imports itself only relatively, so the renamed directory is a second package.
    (where / "hmac_body_auth").rename(where / NAME)
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(NAME)
    finally:
        sys.path.remove(str(where))
