"""The seed's auth (the package's first commit), the baseline of the ratio benchmarks.

``load()`` extracts ``hmac_body_auth/`` as it was at :data:`SEED_COMMIT` from this
repository's history (``git archive``) into a temporary directory and imports it
as ``hmac_body_auth_seed``, next to the current package. Its bare auth,
``BodyDigestAuth(secret=...)`` (an HMAC of the body into ``Sign``: no key, no
nonce, no lease), is what "the seed's bare auth" means in these benchmarks.

``at(rev)`` does the same for any commit (``hmac_body_auth_<sha>``): the scripts'
``--against REV`` times the package at ``rev`` next to today's in one run, so a
change is measured before and after on the same machine at the same moment. The
package imports itself only relatively, so a renamed copy is a second package.
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


def load(commit: str = SEED_COMMIT, name: str = NAME) -> ModuleType:
    """Import the package at ``commit`` as ``name`` (default: the seed's; needs this repository's git history)."""
    if name in sys.modules:
        return sys.modules[name]
    where = Path(tempfile.mkdtemp(prefix="hba-seed-"))
    atexit.register(shutil.rmtree, where, True)
    try:
        # Fixed arguments; git and tar from PATH, as a developer runs them.
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "archive", commit, "hmac_body_auth"],  # noqa: S607
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"the baseline needs this repository's git history (commit {commit[:7]}): {exc}") from None
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)  # noqa: S603, S607
    # The package imports itself only relatively, so the renamed directory is a second package.
    (where / "hmac_body_auth").rename(where / name)
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(where))


def at(rev: str) -> ModuleType:
    """Import the package at ``rev`` (a commit, tag or branch) as ``hmac_body_auth_<sha>``."""
    try:
        # Fixed arguments but the revision, which git parses (never a shell).
        sha = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}"],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"--against {rev!r}: not a commit of this repository ({exc})") from None
    return load(sha, f"hmac_body_auth_{sha[:7]}")


def label(module: ModuleType) -> str:
    """``@<sha>`` for a package loaded by :func:`at`."""
    return "@" + module.__name__.rpartition("_")[2]
