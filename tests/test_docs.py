"""Every code example in the docs and the README runs, against local verifying servers.

- ```python blocks run in a fresh namespace. Real API origins in them (``https://poloniex.com``,
  ``https://api.kraken.com``, ...) are replaced by the origin of a local server that verifies
  that API's scheme with the docs' placeholder credentials (key ``API-KEY``, secret ``SECRET``,
  base64 secret ``U0VDUkVU``, passphrase ``PASSPHRASE``); the server must reject nothing. Only
  loopback addresses resolve while a block runs, so no example can reach the internet.
  A block that imports ``hmac_body_auth.testing`` brings its own server and runs as written.
  An ``async def main`` that the block does not run itself is run with ``asyncio.run``.
  Blocks that define ``test_*`` functions run as a pytest file in a subprocess (the package's
  pytest plugin provides the fixtures).
- ```console blocks run in bash, in a temporary directory: each ``$ command`` (a trailing
  backslash continues it) must print what the block shows; ``...`` stands for any text.
- A block preceded by ``<!-- not-run: reason -->`` is skipped; there must be few of them.
- A block preceded by ``<!-- needs: package -->`` (an optional extra, such as niquests) runs
  where that package is installed and is skipped elsewhere; the niquests examples are marked
  ``niquests`` and run in niquests' own environment (see tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hmac_body_auth.presets import preset
from hmac_body_auth.testing import PoloniexServer, SchemeServer, VerifyingServer
from hmac_body_auth.verify import BodyDigestVerifier

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

KEY, SECRET, SECRET_B64, PASSPHRASE = "API-KEY", "SECRET", "U0VDUkVU", "PASSPHRASE"

#: Origin used in the docs -> the preset whose verifier stands in for it (None: the generic
#: BodyDigestAuth of the docs' api.example.com examples).
ORIGINS: dict[str, str | None] = {
    "https://poloniex.com": "poloniex",
    "https://api.poloniex.com": "poloniex-v3",
    "https://api.binance.com": "binance",
    "https://fapi.binance.com": "binance-futures",
    "https://api.bitfinex.com": "bitfinex",
    "https://api.bitget.com": "bitget",
    "https://www.bitmex.com": "bitmex",
    "https://www.bitstamp.net": "bitstamp",
    "https://api.bitvavo.com": "bitvavo",
    "https://api.bybit.com": "bybit",
    "https://api.exchange.coinbase.com": "coinbase-exchange",
    "https://api.gateio.ws": "gateio",
    "https://api.gemini.com": "gemini",
    "https://api.hitbtc.com": "hitbtc",
    "https://api.kraken.com": "kraken",
    "https://api.kucoin.com": "kucoin",
    "https://api.mexc.com": "mexc",
    "https://www.okx.com": "okx",
    "https://api.example.com": None,
}
_BASE64_SECRET = {"kraken", "coinbase-exchange"}
_PASSPHRASE = {"bitget", "coinbase-exchange", "kucoin", "okx"}

#: The most blocks that may be marked not-run, across all pages.
MAX_NOT_RUN = 4

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.+?)\s*-->\s*$")
_NEEDS = re.compile(r"^\s*<!--\s*needs:\s*(?P<package>[\w.-]+)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    line: int
    lang: str
    source: str
    not_run: str | None
    needs: str | None = None
    """The optional package the block needs (``<!-- needs: niquests -->``)."""

    @property
    def id(self) -> str:
        """``docs/page.md:LINE`` of the opening fence."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> Iterator[Block]:
    """The fenced blocks of ``path``, dedented (blocks inside tabs and lists are indented)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None or not opening["lang"]:
            i += 1
            continue
        indent, start = opening["indent"], i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            i += 1
        i += 1
        previous = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = _NOT_RUN.match(previous)
        needs = _NEEDS.match(previous)
        yield Block(
            path,
            start + 1,
            opening["lang"],
            "\n".join(body) + "\n",
            marker["reason"] if marker else None,
            needs["package"] if needs else None,
        )


ALL = [b for path in SOURCES for b in blocks(path)]
PYTHON = [b for b in ALL if b.lang == "python"]


def _runnable(block: Block) -> Any:
    """``block`` as a parameter: skipped where the package it needs is missing, marked for niquests."""
    if block.needs is None:
        return block
    marks = [pytest.mark.skipif(importlib.util.find_spec(block.needs) is None, reason=f"needs {block.needs}")]
    if block.needs == "niquests":
        marks.append(pytest.mark.niquests)
    return pytest.param(block, marks=marks, id=block.id)


CONSOLE = [b for b in ALL if b.lang == "console"]


# -- python blocks ---------------------------------------------------------------------------


def _origin_pattern(origin: str) -> re.Pattern[str]:
    # Not a prefix of a longer host: https://poloniex.com.evil.example stays as written.
    return re.compile(re.escape(origin) + r"(?![\w.-])")


def _server(name: str | None) -> VerifyingServer:
    if name is None:
        verifier: Any = BodyDigestVerifier(
            {KEY: SECRET},
            key_header="X-Api-Key",
            signature_header="X-Signature",
            algorithm="sha256",
            digest_encoding="base64",
        )
        return SchemeServer(verifier)
    if name == "poloniex":
        return PoloniexServer({KEY: SECRET})
    _, verifier_cls = preset(name)
    kwargs: dict[str, Any] = {"passphrases": {KEY: PASSPHRASE}} if name in _PASSPHRASE else {}
    return SchemeServer(verifier_cls({KEY: SECRET_B64 if name in _BASE64_SECRET else SECRET}, **kwargs))


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name resolution answers only for loopback hosts, so a docs example cannot reach the internet."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in ("127.0.0.1", "localhost", "::1"):
            raise socket.gaierror(socket.EAI_NONAME, f"docs examples may only reach loopback servers, not {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _run_as_pytest(block: Block, tmp_path: Path) -> None:
    tests = re.findall(r"^def (test_\w+)", block.source, re.MULTILINE)
    path = tmp_path / "test_docs_example.py"
    path.write_text(block.source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(tests)} passed" in done.stdout, done.stdout


def _set_from_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give every ``Preset.from_env()`` of the examples the docs' placeholder credentials."""
    monkeypatch.setenv("HMAC_BODY_AUTH_API_KEY", KEY)
    monkeypatch.setenv("HMAC_BODY_AUTH_API_SECRET", SECRET)
    for name in ORIGINS.values():
        if name is None:
            continue
        prefix = preset(name)[0].env_prefix
        monkeypatch.setenv(f"{prefix}_API_KEY", KEY)
        monkeypatch.setenv(f"{prefix}_API_SECRET", SECRET_B64 if name in _BASE64_SECRET else SECRET)
        monkeypatch.setenv(f"{prefix}_API_PASSPHRASE", PASSPHRASE)


@pytest.mark.parametrize("block", [_runnable(b) for b in PYTHON if b.not_run is None], ids=lambda b: b.id)
def test_python_example_runs(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, loopback_only: None
) -> None:
    """The example runs to the end, and every local server standing in for an API rejected nothing."""
    monkeypatch.setenv("HBA_KEY", KEY)
    monkeypatch.setenv("HBA_SECRET", SECRET)
    _set_from_env_credentials(monkeypatch)
    if re.search(r"^def test_", block.source, re.MULTILINE):
        _run_as_pytest(block, tmp_path)
        return
    source = block.source
    servers: dict[str, VerifyingServer] = {}
    if "hmac_body_auth.testing" not in source:
        for origin, name in ORIGINS.items():
            pattern = _origin_pattern(origin)
            if pattern.search(source):
                server = servers[origin] = _server(name).start()
                source = pattern.sub(server.origin, source)
    try:
        namespace: dict[str, Any] = {"__name__": "__docs_example__"}
        exec(compile(source, block.id, "exec"), namespace)  # noqa: S102 - the docs' own examples
        main = namespace.get("main")
        runs_itself = "asyncio.run(" in source
        if inspect.iscoroutinefunction(main) and not runs_itself:
            asyncio.run(main())
        elif "async def" in source and not runs_itself:
            pytest.fail("the example defines async code but neither runs it nor defines `async def main`")
        for origin, server in servers.items():
            assert server.stats.rejected == 0, f"{origin}: {server.stats} {server.received[-1].answer}"
    finally:
        for server in servers.values():
            server.stop()


def test_not_run_blocks_are_few_and_explained() -> None:
    """Few blocks are exempt, each with a reason; every other block runs (listed on failure)."""
    skipped = [f"{b.id}: {b.not_run}" for b in ALL if b.not_run is not None]
    assert len(skipped) <= MAX_NOT_RUN, "\n".join(skipped)
    assert all(b.not_run for b in ALL if b.not_run is not None)


def test_every_docs_page_is_collected() -> None:
    """The collector finds the examples: python blocks in most pages, console blocks in the CLI page."""
    pages_with_python = {b.path.name for b in PYTHON}
    assert len(PYTHON) >= 30, len(PYTHON)
    assert {"index.md", "poloniex.md", "presets.md", "nonces.md", "security.md", "testing.md"} <= pages_with_python
    assert any(b.path.name == "cli.md" for b in CONSOLE)


def test_every_preset_has_a_runnable_example() -> None:
    """presets.md sends a request to each preset's API origin."""
    presets_page = "\n".join(b.source for b in PYTHON if b.path.name == "presets.md" and b.not_run is None)
    for origin in ORIGINS:
        if origin != "https://api.example.com":
            assert _origin_pattern(origin).search(presets_page), origin


# -- console blocks --------------------------------------------------------------------------


def _commands(source: str) -> list[tuple[str, str]]:
    """``[(command, expected output)]`` of a console block."""
    found: list[tuple[str, list[str]]] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\") and i + 1 < len(lines):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            found.append((command, []))
        elif found:
            found[-1][1].append(line.rstrip())
        i += 1
    return [(command, "\n".join(out).strip("\n")) for command, out in found]


def _matches(expected: str, actual: str) -> bool:
    """``actual`` is ``expected`` with each ``...`` standing for any text (trailing spaces ignored)."""
    actual = "\n".join(line.rstrip() for line in actual.strip("\n").splitlines())
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


@pytest.mark.parametrize("block", [b for b in CONSOLE if b.not_run is None], ids=lambda b: b.id)
def test_console_example_prints_what_it_shows(block: Block, tmp_path: Path) -> None:
    """Each command of the console session prints the output shown under it."""
    commands = _commands(block.source)
    assert commands, "a console block without `$ ` commands"
    bash = shutil.which("bash")
    assert bash is not None
    script = ["set +e"]
    for n, (command, _) in enumerate(commands):
        # Keep $? of the previous command for an `echo $?` in the session.
        script.append(f"__rc=$?; printf '\\n@@{n}@@\\n'; (exit $__rc)")
        script.append(f"{command} 2>&1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HBA_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    done = subprocess.run(
        [bash, "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    outputs = re.split(r"\n@@\d+@@\n", "\n" + done.stdout)[1:]
    assert len(outputs) == len(commands), done.stdout + done.stderr
    for (command, expected), actual in zip(commands, outputs, strict=True):
        assert _matches(expected, actual), f"$ {command}\n--- expected\n{expected}\n--- got\n{actual}"


# -- the figure of docs/nonces.md ----------------------------------------------------------


def test_nonces_figure_is_there() -> None:
    """The rejection figure that benchmarks/plot_ordering.py writes exists and docs/nonces.md shows it."""
    figure = ROOT / "docs" / "img" / "rejections.png"
    assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "](img/rejections.png)" in (ROOT / "docs" / "nonces.md").read_text(encoding="utf-8")


def test_nonces_page_states_the_rejections_its_plot_shows() -> None:
    """docs/nonces.md quotes the unordered rejection shares of the results the figure is drawn from."""
    import json

    results = json.loads((ROOT / "benchmarks" / "results" / "ordering.json").read_text())
    threaded: list[int] = []
    tasks: list[int] = []
    failed_threaded: list[int] = []
    for row in results["rejections"]:
        runs = row["runs"]
        shares = [round(100 * r["server_rejected"] / r["server_received"]) for r in runs]
        failed = [round(100 * r["client_failures"] / r["sent"]) for r in runs]
        if row["mode"] == "unordered, no re-sign":
            (tasks if "Async" in row["client"] else threaded).extend(shares)
        if row["mode"] == "unordered, re-sign once" and "Async" not in row["client"]:
            failed_threaded.extend(failed)
    text = " ".join((ROOT / "docs" / "nonces.md").read_text().split())

    def span(values: list[int]) -> str:
        return f"{min(values)} %" if min(values) == max(values) else f"{min(values)} to {max(values)} %"

    assert f"rejected {span(threaded)} of the threaded requests" in text
    assert f"and {span(tasks)} of the asyncio requests" in text
    assert f"({span(failed_threaded)} still fail for the caller)" in text


# -- the benchmarks page -------------------------------------------------------------------

BENCHMARKS_PAGE = ROOT / "docs" / "benchmarks.md"
_TABLE = re.compile(r"<!-- overview-table:start -->\n(?P<table>.*?)<!-- overview-table:end -->", re.DOTALL)
_URL = re.compile(r"https?://[^\s)>\]]+")
_REPO_BLOB = "https://github.com/hmac-body-auth/hmac-body-auth/blob/main/"
#: Names that look like files and are not: ccxt's JSON encoder, ``Exchange.json``.
_NOT_FILES = {"Exchange.json"}
_FILE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-][\w.-]*\.(?:py|json|png|md|toml|txt|ya?ml|ini|cfg|sh))(?![\w/])")


def _files_named(path: Path) -> list[str]:
    """The repository files ``path`` names (in text, code or links) that do not exist, with its own links."""
    text = path.read_text(encoding="utf-8")
    missing = []
    for url in _URL.findall(text):
        if url.startswith(_REPO_BLOB) and not (ROOT / url.removeprefix(_REPO_BLOB).split("#")[0]).exists():
            missing.append(url)
    for name in _FILE.findall(_URL.sub(" ", text)):
        if name not in _NOT_FILES and not any((base / name).exists() for base in (ROOT, path.parent)):
            missing.append(name)
    return missing


def _table_mismatches(page: str, results: dict[str, Any]) -> list[str]:
    """How the overview table of ``page`` differs from ``results`` (the JSON), row by row."""
    found = _TABLE.search(page)
    if found is None:
        return ["no overview-table markers"]
    lines = found["table"].strip().splitlines()
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:] if line.startswith("|")]
    wrong = []
    if [r[0].strip("*") for r in rows] != [row["subject"] for row in results["results"]]:
        wrong.append(f"subjects {[r[0] for r in rows]}")
    for cells, row in zip(rows, results["results"], strict=False):
        client = "-" if row["client"] == "none" else row["client"]
        if cells[1:2] + cells[3:5] != [client, f"{row['median_us']:.2f}", f"{row['ratio']:.2f}"]:
            wrong.append(f"row {cells}")
    for said in (f"at commit `{results['commit']}`", f"Median over {results['rounds']} rounds"):
        if said not in found["table"]:
            wrong.append(f"no {said!r}")
    return wrong


def test_benchmarks_page_table_is_the_overview_results() -> None:
    """The table of docs/benchmarks.md is benchmarks/results/overview.json, row by row, as --write-docs writes it."""
    import json

    results = json.loads((ROOT / "benchmarks" / "results" / "overview.json").read_text())
    page = BENCHMARKS_PAGE.read_text(encoding="utf-8")
    assert _table_mismatches(page, results) == []
    assert results["results"][0]["subject"] == "seed auth", "the first row is the baseline"
    assert results["results"][0]["ratio"] == 1.0
    assert not results["quick"], "the page shows a smoke run"
    # Tamper twin: one changed ratio is caught.
    first = results["results"][1]
    tampered = page.replace(f"| {first['ratio']:.2f} |", f"| {first['ratio'] + 0.5:.2f} |", 1)
    assert tampered != page
    assert _table_mismatches(tampered, results) != []


def test_benchmarks_page_shows_its_plot() -> None:
    """The plot that benchmarks/plot_overview.py writes exists and docs/benchmarks.md shows it."""
    assert (ROOT / "docs" / "img" / "overview.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "](img/overview.png)" in BENCHMARKS_PAGE.read_text(encoding="utf-8")


def test_benchmarks_pages_name_only_files_in_the_repository() -> None:
    """The benchmarks page and the methodology name no file, and link to no repository file, that is missing."""
    assert _FILE.findall("run `benchmarks/bench_overview.py`, see results/overview.json.") == [
        "benchmarks/bench_overview.py",
        "results/overview.json",
    ]
    for path in (BENCHMARKS_PAGE, ROOT / "benchmarks" / "README.md"):
        assert _files_named(path) == [], path


def test_missing_files_named_by_a_page_are_found(tmp_path: Path) -> None:
    """The file check of the benchmarks pages reports a named file and a repository link that do not exist."""
    page = tmp_path / "page.md"
    page.write_text(
        "Run `benchmarks/bench_overview.py` and `benchmarks/bench_gone.py`; see "
        f"[the notes]({_REPO_BLOB}NOTES.md) and [the README]({_REPO_BLOB}README.md).\n",
        encoding="utf-8",
    )
    assert _files_named(page) == [f"{_REPO_BLOB}NOTES.md", "benchmarks/bench_gone.py"]


def test_benchmarks_page_installs_extras_that_exist() -> None:
    """Every `pip install -e '.[extra]'` of the page names an optional extra of pyproject.toml."""
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    named = re.findall(r"pip install -e '\.\[([\w,-]+)\]'", BENCHMARKS_PAGE.read_text(encoding="utf-8"))
    assert named, "the page says how to install what the benchmark needs"
    for group in named:
        assert set(group.split(",")) <= set(extras), group


def test_benchmarks_page_states_no_internal_goal() -> None:
    """The page reports measurements only: no goal line, no target ratio."""
    text = BENCHMARKS_PAGE.read_text(encoding="utf-8")
    assert "goal" not in text.lower()
    assert "<=" not in text
    assert "≤" not in text


# -- the presets reference, generated from the registry ----------------------------------------------


def _reference_presets() -> Any:
    """docs/scripts/reference_presets.py, the page's generator, as a module."""
    spec = importlib.util.spec_from_file_location(
        "reference_presets", ROOT / "docs" / "scripts" / "reference_presets.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_presets_reference_is_the_registry() -> None:
    """docs/reference-presets.md is what docs/scripts/reference_presets.py makes of registry() (else: run it)."""
    generator = _reference_presets()
    page = (ROOT / "docs" / "reference-presets.md").read_text(encoding="utf-8")
    assert page == generator.render(), "out of date: run python docs/scripts/reference_presets.py"
    assert generator.main(["--check"]) == 0


def test_presets_reference_has_a_row_and_a_module_per_entry() -> None:
    """Each registry entry has its table row (name, title, passphrase, env vars, doc URL, headers) and its module."""
    from hmac_body_auth.presets import PRESETS, WEBHOOKS, registry, webhook_entries

    page = (ROOT / "docs" / "reference-presets.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip().strip("`"): line for line in page.splitlines() if line.startswith("| `")}
    assert set(rows) == set(PRESETS) | set(WEBHOOKS)
    for found in registry() + webhook_entries():
        row = rows[found.name]
        assert f"| {found.title}: " in row
        assert found.doc.split()[0] in row
        assert all(f"`{name}`" in row for name in found.header_names)
        assert all(f"**`{name}`**" in row for name in found.secret_headers)
        module = (PRESETS.get(found.name) or WEBHOOKS[found.name])[0]
        assert f"::: hmac_body_auth.presets.{module}\n" in page
    for found in registry():
        row = rows[found.name]
        assert ("| yes |" if found.needs_passphrase else "| no |") in row
        assert f"`{found.env_prefix}_API_KEY`" in row
        assert (f"`{found.env_prefix}_API_PASSPHRASE`" in row) is found.needs_passphrase


def test_presets_reference_check_catches_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tamper twin: a page missing one row fails --check (exit 1) and is rewritten by the generator."""
    generator = _reference_presets()
    stale = tmp_path / "reference-presets.md"
    stale.write_text(generator.render().replace("| `kraken` |", "| `kraken-old` |"), encoding="utf-8")
    monkeypatch.setattr(generator, "PAGE", stale)
    assert generator.main(["--check"]) == 1
    assert generator.main([]) == 0
    assert stale.read_text(encoding="utf-8") == generator.render()
