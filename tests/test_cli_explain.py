"""``hmac-body-auth verify --preset X`` explains a mismatch from the preset's own recipe, for every preset."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from hmac_body_auth.cli import main
from hmac_body_auth.presets import Entry, registry
from hmac_body_auth.recipe import Recipe, RecipeAuth, _compiled

from ._presets import SAMPLES

KEY, PASSPHRASE = "CLI-EXPLAIN-KEY-1", "cli-explain-passphrase"
#: Valid text, and valid base64 (of b"TEST-SECRET") for the presets whose secrets are base64.
SECRET = "VEVTVC1TRUNSRVQ="

ENTRIES = registry()
RECIPES = [e for e in ENTRIES if getattr(e.auth, "recipe", None) is not None]


def _recipe(found: Entry) -> Recipe:
    recipe: Recipe = found.auth.recipe
    return recipe


def _auth(found: Entry, recipe: Recipe | None = None) -> Any:
    """The preset's auth, or one signing with ``recipe`` (a variant of the preset's: another algorithm, ...)."""
    cls = found.auth if recipe is None else type("Variant", (RecipeAuth,), {"recipe": recipe})
    options = {"passphrase": PASSPHRASE} if found.needs_passphrase else {}
    return cls(KEY, SECRET, **options)


def _raw(found: Entry, auth: Any) -> tuple[str, dict[str, str], bytes]:
    """The preset's sample request signed by ``auth``: (request line target and Host, headers, body)."""
    sample = SAMPLES[found.name]
    signed = auth.sign(sample.method, sample.url, body=sample.body, content_type=sample.content_type)
    headers = dict(signed.headers)
    content_type = signed.content_type or sample.content_type
    if content_type and signed.body:
        headers["Content-Type"] = content_type
    return signed.url, headers, signed.body


def _write(tmp_path: Path, method: str, url: str, headers: dict[str, str], body: bytes) -> Path:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
    lines.append(f"Content-Length: {len(body)}")
    path = tmp_path / "captured.http"
    path.write_bytes("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body)
    return path


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret and passphrase come from the environment, as users pass them."""
    monkeypatch.setenv("HBA_SECRET", SECRET)
    monkeypatch.setenv("HBA_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("NO_COLOR", raising=False)


def _verify(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    found: Entry,
    request: tuple[str, dict[str, str], bytes],
    *options: str,
) -> tuple[int, str]:
    url, headers, body = request
    path = _write(tmp_path, SAMPLES[found.name].method, url, headers, body)
    status = main(["verify", "--preset", found.name, *options, "--request", str(path)])
    out = capsys.readouterr().out
    assert SECRET not in out
    return status, out


def _ids(entries: list[Entry]) -> list[str]:
    return [e.name for e in entries]


@pytest.mark.parametrize("found", ENTRIES, ids=_ids(ENTRIES))
def test_a_correct_request_is_ok(capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry) -> None:
    """Twin of the mismatches below: the preset's own signature verifies (exit 0, "OK")."""
    status, out = _verify(capsys, tmp_path, found, _raw(found, _auth(found)), "--key", KEY)
    assert (status, out.split(":")[0]) == (0, "OK"), out


@pytest.mark.parametrize("found", RECIPES, ids=_ids(RECIPES))
def test_another_algorithm_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry) -> None:
    """A request signed with another HMAC algorithm: "algorithm: the signature is HMAC-SHA1 ..."."""
    recipe = _recipe(found)
    other = "sha1" if recipe.algorithm != "sha1" else "sha256"
    request = _raw(found, _auth(found, dataclasses.replace(recipe, algorithm=other)))
    status, out = _verify(capsys, tmp_path, found, request, "--key", KEY)
    assert status == 1, out
    assert f"algorithm: the signature is HMAC-{other.upper()} {recipe.digest_encoding}" in out
    assert f"{found.title} signs with HMAC-{recipe.algorithm.upper()}" in out


@pytest.mark.parametrize("found", RECIPES, ids=_ids(RECIPES))
def test_another_digest_encoding_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry) -> None:
    """A request whose signature is base64 where the API wants hex (or the reverse) says which it is."""
    recipe = _recipe(found)
    other = "base64" if recipe.digest_encoding == "hex" else "hex"
    request = _raw(found, _auth(found, dataclasses.replace(recipe, digest_encoding=other)))
    status, out = _verify(capsys, tmp_path, found, request, "--key", KEY)
    assert status == 1, out
    shown = "base64" if other == "base64" else "lower-case hex"
    assert f"digest encoding: the signature is {shown}" in out


@pytest.mark.parametrize("found", RECIPES, ids=_ids(RECIPES))
def test_another_secret_encoding_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry) -> None:
    """A signer that base64-decoded a text secret, or used a base64 secret as text, is told so."""
    recipe = _recipe(found)
    other = "raw" if recipe.secret_encoding == "base64" else "base64"
    request = _raw(found, _auth(found, dataclasses.replace(recipe, secret_encoding=other)))
    status, out = _verify(capsys, tmp_path, found, request, "--key", KEY)
    assert status == 1, out
    said = "did not base64-decode it" if other == "raw" else "the secret is base64: the signer decoded it first"
    assert said in out


def _signature(found: Entry, request: tuple[str, dict[str, str], bytes]) -> str:
    """The signature the request carries, read the preset's way."""
    url, headers, body = request
    received = found.verifier({KEY: SECRET}).read(SAMPLES[found.name].method, url, headers, body)
    signature: str = received.found["signature"]
    return signature


def _in_header(found: Entry) -> bool:
    return _compiled(_recipe(found)).where["signature"] in {h.name for h in _recipe(found).headers}


def _literal_hex(found: Entry) -> bool:
    """Whether the preset's signature is hex written as is in a header (so a test can change its case)."""
    request = _raw(found, _auth(found))
    signature = _signature(found, request)
    return _recipe(found).digest_encoding == "hex" and signature in request[1].values()


HEX = [e for e in RECIPES if _literal_hex(e)]
IN_HEADER = [e for e in RECIPES if _in_header(e)]


@pytest.mark.parametrize("found", HEX, ids=_ids(HEX))
def test_upper_case_hex_is_noted(capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry) -> None:
    """Upper-case hex passes the preset's verifier (it compares hex in any case), with a note that says it is."""
    url, headers, body = _raw(found, _auth(found))
    signature = _signature(found, (url, headers, body))
    upper = {name: value.replace(signature, signature.upper()) for name, value in headers.items()}
    status, out = _verify(capsys, tmp_path, found, (url, upper, body), "--key", KEY)
    assert status == 0, out
    assert "note: the signature is upper-case hex" in out


def test_upper_case_hex_without_a_preset_is_a_mismatch_explained(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The generic scheme compares exactly: upper-case hex is a mismatch, explained as such."""
    found = next(e for e in ENTRIES if e.name == "poloniex")
    url, headers, body = _raw(found, _auth(found))
    headers["Sign"] = headers["Sign"].upper()
    path = _write(tmp_path, "POST", url, headers, body)
    assert main(["verify", "--key", KEY, "--request", str(path)]) == 1
    assert "digest encoding: the signature is upper-case hex" in capsys.readouterr().out


@pytest.mark.parametrize("found", IN_HEADER, ids=_ids(IN_HEADER))
def test_a_missing_signature_header_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry) -> None:
    """Without the header that carries the signature, the explanation names that header from the recipe."""
    where = _compiled(_recipe(found)).where["signature"]
    url, headers, body = _raw(found, _auth(found))
    del headers[where]
    status, out = _verify(capsys, tmp_path, found, (url, headers, body), "--key", KEY)
    assert status == 1, out
    assert f"the request has no {where} header, which carries the" in out
    assert "signature" in out.split(f"no {where} header")[1]


@pytest.mark.parametrize("found", [e for e in IN_HEADER if e.name == "poloniex"], ids=["poloniex"])
def test_a_signature_in_another_header_is_found(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry
) -> None:
    """A signature sent under another header name is found there and the right name given."""
    url, headers, body = _raw(found, _auth(found))
    headers["Signature"] = headers.pop("Sign")
    status, out = _verify(capsys, tmp_path, found, (url, headers, body), "--key", KEY)
    assert status == 1, out
    assert "signature header: the signature is in Signature; Poloniex reads it from Sign" in out


@pytest.mark.parametrize("found", ENTRIES, ids=_ids(ENTRIES))
def test_a_key_other_than_the_key_given_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry
) -> None:
    """--key K and a request signed for another key: the explanation says so, and that the secret matches."""
    status, out = _verify(capsys, tmp_path, found, _raw(found, _auth(found)), "--key", "SOME-OTHER-KEY")
    assert status == 1, out
    assert f"is '{KEY}', not the --key given; its signature matches the secret" in out
    assert "key: the request's key" in out


@pytest.mark.parametrize("found", ENTRIES, ids=_ids(ENTRIES))
def test_without_key_the_key_is_not_reported_ok(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry
) -> None:
    """Without --key only the signature is checked: the report says so and names the key the request carries."""
    status, out = _verify(capsys, tmp_path, found, _raw(found, _auth(found)))
    assert status == 0, out
    assert not out.startswith("OK")
    assert out.startswith("SIGNATURE OK: the signature matches the secret")
    assert "the key is not checked without --key (the request's" in out
    assert f"is '{KEY}')" in out


@pytest.mark.parametrize("found", ENTRIES, ids=_ids(ENTRIES))
def test_a_wrong_secret_is_a_mismatch(capsys: pytest.CaptureFixture[str], tmp_path: Path, found: Entry) -> None:
    """Tamper twin for every preset: signed with another secret, the request is a mismatch (exit 1)."""
    options = {"passphrase": PASSPHRASE} if found.needs_passphrase else {}
    other = found.auth(KEY, "T1RIRVItU0VDUkVU", **options)  # base64 too, so every preset takes it
    status, out = _verify(capsys, tmp_path, found, _raw(found, other), "--key", KEY)
    assert status == 1, out
    assert out.startswith("MISMATCH")
