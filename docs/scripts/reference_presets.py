"""Write docs/reference-presets.md from the preset registry (``hmac_body_auth.presets.registry()``).

Run ``python docs/scripts/reference_presets.py`` after adding or changing a preset;
``--check`` exits 1 (and writes nothing) when the page is not what the registry says.
tests/test_docs.py checks it too, so a preset added to the registry without a new page
fails the suite with the command to run.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from hmac_body_auth.presets import PRESETS, Entry, registry

PAGE = Path(__file__).resolve().parents[1] / "reference-presets.md"
_URL = re.compile(r"(https?://\S+)(.*)")
_SECRETS = {"raw": "text", "base64": "base64", "hex": "hex"}

_HEAD = """\
# Presets reference

<!-- Generated from the registry by docs/scripts/reference_presets.py: edit that script, not
this page, and run `python docs/scripts/reference_presets.py` after changing a preset. -->

One module per API under `hmac_body_auth.presets`; each has the auth class, its scheme, and a
server-side verifier. Usage, with an example per API, is in [Presets](presets.md).

The registry ([`PRESETS`][hmac_body_auth.presets.PRESETS], read through
[`registry()`][hmac_body_auth.presets.registry]) lists each preset once. The command line
(`--preset`), the HTTPie plugins (`--auth-type`), the pytest fixtures (`hmac_server(name)`),
log redaction and this page are derived from it; names are accepted in any case.

| Name | API | Passphrase | Credentials from the environment | Secret | Headers | Documentation |
|------|-----|------------|----------------------------------|--------|---------|---------------|
"""

_FOOT = """
**Headers in bold** carry the key, the signature, the passphrase or a signed payload:
[`RedactingFilter`][hmac_body_auth.logs.RedactingFilter] hides their values by default. The
secret is written as the API issues it: a base64 secret is decoded before it keys the HMAC.
Credentials from the environment are what
[`from_env()`][hmac_body_auth.HmacAuth.from_env] reads.

::: hmac_body_auth.presets
    options:
      members: [PRESETS, Entry, canonical, entry, preset, registry]
"""


def _doc(url: str) -> str:
    """The doc URL as a link, any note after it kept as text."""
    found = _URL.fullmatch(url.strip())
    if found is None:
        return url or "-"
    link, rest = found.groups()
    host = link.split("/")[2]
    return f"[{host}]({link}){rest}"


def _row(found: Entry) -> str:
    auth, verifier = found.auth, found.verifier
    api = (
        f"{found.title}: [`{auth.__name__}`][{auth.__module__}.{auth.__name__}], "
        f"[`{verifier.__name__}`][{verifier.__module__}.{verifier.__name__}]"
    )
    names = ["KEY", "SECRET", *(["PASSPHRASE"] if found.needs_passphrase else [])]
    env = "<br>".join(f"`{found.env_prefix}_API_{name}`" for name in names)
    headers = ", ".join(
        f"**`{name}`**" if name in found.secret_headers else f"`{name}`" for name in sorted(found.header_names)
    )
    cells = [
        f"`{found.name}`",
        api,
        "yes" if found.needs_passphrase else "no",
        env,
        _SECRETS.get(found.secret_encoding, found.secret_encoding),
        headers or "-",
        _doc(found.doc),
    ]
    return "| " + " | ".join(cells) + " |\n"


def render() -> str:
    """The page, from the registry."""
    modules = "".join(f"\n::: hmac_body_auth.presets.{PRESETS[found.name][0]}\n" for found in registry())
    return _HEAD + "".join(_row(found) for found in registry()) + _FOOT + modules


def main(argv: list[str] | None = None) -> int:
    """Write the page (or, with ``--check``, say whether it is current)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is not current; write nothing")
    args = parser.parse_args(argv)
    page = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") == page
        if not current:
            sys.stderr.write(f"{PAGE} is out of date: run python docs/scripts/reference_presets.py\n")
        return 0 if current else 1
    PAGE.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
