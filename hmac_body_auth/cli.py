"""The ``hmac-body-auth`` command line: ``demo``, ``sign`` and ``verify``.

Built on the standard library's ``argparse``: it is well kept, needs no extra
dependency, and covers subcommands, help texts and exit codes. Secrets come from
an environment variable or a file and are never printed.

Exit codes: 0 success (signature matches), 1 mismatch or failed demo, 2 usage error.
"""

from __future__ import annotations

import argparse
import contextvars
import inspect
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO
from urllib.parse import urlencode, urlsplit

from . import __version__
from .errors import HmacBodyAuthError

if TYPE_CHECKING:
    from ._explain import Target
    from .presets import Entry

__all__ = ["main"]

_EPILOG = """examples:
  hmac-body-auth demo
      sign traffic through requests, httpx and httpx async against a local
      Poloniex-like server and report

  HBA_SECRET=... hmac-body-auth sign --preset poloniex --key KEY \\
      POST https://poloniex.com/tradingApi --data command=returnBalances
      print the exact bytes and headers that would be sent

  HBA_SECRET=... hmac-body-auth verify --preset poloniex --request captured.http
      say whether a captured request's signature matches, and if not, why

secrets: --secret-env NAME (default HBA_SECRET) or --secret-file PATH (one trailing
newline is removed); they are never printed. exit codes: 0 ok, 1 mismatch, 2 usage error.
"""


class _Style:
    """Colour on a terminal (unless NO_COLOR is set), plain text otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.on = stream.isatty() and "NO_COLOR" not in os.environ

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text

    def good(self, text: str) -> str:
        return self._wrap("32;1", text)

    def bad(self, text: str) -> str:
        return self._wrap("31;1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)


class _UsageError(Exception):
    """A user error: printed and exit code 2."""


_DEFAULT_ENVS = frozenset({"HBA_SECRET", "HBA_PASSPHRASE"})
#: Exit code after Ctrl-C (SIGINT), as shells report it: 128 + 2.
_INTERRUPTED = 130


# Secret files hold one line; anything larger is the wrong file (and is not read whole).
_MAX_SECRET_FILE = 64 * 1024
# POSIX portable names (uppercase, digits, _); a lowercase name counts only if it is set.
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*", re.ASCII)
_ANY_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


def _read_secret_file(path: str, what: str) -> str:
    """The secret in ``path`` without one trailing newline; a one-line usage error otherwise."""
    try:
        with open(path, "rb") as f:
            data = f.read(_MAX_SECRET_FILE + 1)
    except IsADirectoryError:
        raise _UsageError(f"the {what} file is a directory, not a file") from None
    except OSError as exc:
        raise _UsageError(f"cannot read the {what} file: {exc.strerror or type(exc).__name__}") from None
    if len(data) > _MAX_SECRET_FILE:
        raise _UsageError(f"the {what} file is larger than 64 KiB: is it the right file?")
    try:
        value = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _UsageError(f"the {what} file is not UTF-8 text") from None
    # A file written by an editor or `echo` ends in a newline: not part of the secret.
    value = value.removesuffix("\n").removesuffix("\r") if value.endswith("\n") else value
    if not value:
        raise _UsageError(f"the {what} file is empty")
    return value


def _env_name(name: str, option: str) -> str:
    """``name`` if it can name an environment variable; never echoes it (it may be a pasted secret)."""
    if _ENV_NAME.fullmatch(name) or (_ANY_ENV_NAME.fullmatch(name) and name in os.environ):
        return name
    raise _UsageError(
        f"{option} takes the NAME of an environment variable (such as HBA_SECRET), and the value given is"
        " not a valid environment variable name; it is not shown, in case it is the secret itself"
    )


def _secret(args: argparse.Namespace, *, env: str, file: str | None, what: str, option: str) -> str | None:
    if file:
        return _read_secret_file(file, what)
    value = os.environ.get(_env_name(env, option))
    if value is not None:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _UsageError(f"the {what} in the environment variable {option} names is not UTF-8 text") from None
    return value


def _no_secret(what: str, env: str, option: str, file_option: str) -> _UsageError:
    # Name the variable only when it is the default: a custom name might be a pasted secret.
    where = f"${env}" if env in _DEFAULT_ENVS else f"the environment variable {option} names"
    return _UsageError(f"no {what}: set {where} or pass {file_option}")


def _add_scheme_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scheme")
    group.add_argument("--preset", help="an API preset: " + ", ".join(_preset_names()))
    group.add_argument("--key", help="the API key")
    group.add_argument("--secret-env", default="HBA_SECRET", metavar="NAME", help="env variable holding the secret")
    group.add_argument("--secret-file", metavar="PATH", help="file holding the secret")
    group.add_argument("--passphrase-env", default="HBA_PASSPHRASE", metavar="NAME", help="env variable, passphrase")
    group.add_argument("--passphrase-file", metavar="PATH", help="file holding the passphrase")
    generic = parser.add_argument_group("generic body-digest scheme (without --preset)")
    generic.add_argument("--key-header", default="Key")
    generic.add_argument("--signature-header", default="Sign")
    generic.add_argument("--algorithm", default="sha512")
    generic.add_argument("--digest-encoding", default="hex", choices=["hex", "base64"])
    generic.add_argument("--body-encoding", default="latin-1")
    generic.add_argument("--nonce-field", default="nonce")


def _preset_names() -> list[str]:
    from .presets import PRESETS, WEBHOOKS

    return [*sorted(PRESETS), *sorted(WEBHOOKS)]


def _entry(args: argparse.Namespace) -> Entry:
    """The registry entry of ``--preset`` (any case); ``args.preset`` becomes its registry name."""
    from .errors import ConfigurationError
    from .presets import entry

    try:
        found = entry(args.preset)
    except ConfigurationError as exc:  # the message lists the valid names
        raise _UsageError(str(exc)) from None
    args.preset = found.name
    return found


def _build_auth(args: argparse.Namespace, *, nonce: int | None, clock_ms: int | None) -> Any:
    secret = _secret(args, env=args.secret_env, file=args.secret_file, what="secret", option="--secret-env")
    if not secret:
        raise _no_secret("secret", args.secret_env, "--secret-env", "--secret-file")
    if args.preset is None:
        from ._auth import BodyDigestAuth

        return BodyDigestAuth(
            args.key,
            secret=secret,
            key_header=args.key_header,
            signature_header=args.signature_header,
            algorithm=args.algorithm,
            digest_encoding=args.digest_encoding,
            body_encoding=args.body_encoding,
            nonce=(lambda: nonce) if nonce is not None else None,
            nonce_field=args.nonce_field,
            ordered=False,
        )
    found = _entry(args)
    if found.keyed and not args.key:
        raise _UsageError("--key is required with --preset")
    if not found.keyed and args.key:
        raise _UsageError(f"{found.name} signs with the secret alone: it takes no --key")
    cls = found.auth
    kwargs: dict[str, Any] = {}
    if found.needs_passphrase:
        passphrase = _secret(
            args, env=args.passphrase_env, file=args.passphrase_file, what="passphrase", option="--passphrase-env"
        )
        if not passphrase:
            raise _no_secret(
                f"passphrase ({args.preset} needs one)",
                args.passphrase_env,
                "--passphrase-env",
                "--passphrase-file",
            )
        kwargs["passphrase"] = passphrase
    if nonce is not None:
        kwargs["nonce"] = lambda: nonce
    if clock_ms is not None and "clock" in inspect.signature(cls).parameters:
        kwargs["clock"] = lambda: clock_ms * 1_000_000  # clock= is in nanoseconds
    return cls(args.key, secret, **kwargs) if found.keyed else cls(secret, **kwargs)


def _body(args: argparse.Namespace) -> tuple[bytes | None, str | None]:
    if args.json is not None:
        return args.json.encode("utf-8"), "application/json"
    if args.data_file:
        return _read_file(args.data_file, "--data-file"), args.content_type
    if args.data:
        pairs: list[tuple[str, str]] = []
        for item in args.data:
            name, sep, value = item.partition("=")
            if not sep:
                raise _UsageError("--data takes name=value; one --data has no '=' (its value is not shown)")
            pairs.append((name, value))
        return urlencode(pairs).encode("ascii"), "application/x-www-form-urlencoded"
    return None, args.content_type


def _read_file(path: str, option: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise _UsageError(f"cannot read the {option} file: {exc.strerror or type(exc).__name__}") from None


def _printable(body: bytes) -> str:
    # Bytes that are not UTF-8 show as \xNN escapes rather than mojibake.
    return body.decode("utf-8", "backslashreplace")


def _checked_url(url: str) -> str:
    """``url`` if it parses as an http(s) URL with a host; a usage error that says why otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise _UsageError(f"the URL is not valid: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _UsageError(
            "the URL must be an http:// or https:// URL with a host, such as https://api.example.com/path"
        )
    return url


def _cmd_sign(args: argparse.Namespace, out: TextIO) -> int:
    _checked_url(args.url)
    auth = _build_auth(args, nonce=args.nonce, clock_ms=args.clock_ms)
    body, content_type = _body(args)
    signed = auth.sign(args.method, args.url, body=body, content_type=content_type)
    parts = urlsplit(signed.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    style = _Style(out)
    out.write(f"{args.method.upper()} {target} HTTP/1.1\n")
    out.write(f"Host: {parts.netloc}\n")
    final_type = signed.content_type or content_type
    if final_type and signed.body:
        out.write(f"Content-Type: {final_type}\n")
    if signed.body or args.method.upper() not in ("GET", "HEAD"):
        out.write(f"Content-Length: {len(signed.body)}\n")
    for name, value in signed.headers.items():
        # A passphrase header carries a secret (or a digest of one): shown masked.
        shown = "*** (passphrase, not shown)" if "passphrase" in name.lower() else value
        out.write(f"{name}: {shown}\n")
    out.write("\n")
    if signed.body:
        out.write(_printable(signed.body) + "\n")
    out.write(style.dim(f"# signed {len(signed.body)} body bytes; nonce={signed.nonce}\n"))
    return 0


def _parse_raw_request(raw: bytes, scheme: str) -> tuple[str, str, dict[str, str], bytes]:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = raw.partition(b"\n\n")
    lines = head.decode("latin-1").splitlines()
    if not lines or len(lines[0].split()) < 2:
        raise _UsageError("the captured request must start with a request line such as 'POST /path HTTP/1.1'")
    method, target = lines[0].split()[:2]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    lowered = {k.lower(): v for k, v in headers.items()}
    length = lowered.get("content-length")
    if length is not None and length.isdigit():
        body = body[: int(length)]
    if target.startswith(("http://", "https://")):
        url = target
    else:
        host = lowered.get("host")
        if not host:
            raise _UsageError("the captured request has no Host header; pass --url")
        url = f"{scheme}://{host}{target}"
    return method, url, headers, body


def _target(args: argparse.Namespace) -> Target:
    """What the captured request is checked against: the preset's verifier and recipe, or the generic scheme."""
    from . import _explain

    if args.preset is None:
        from .verify import BodyDigestVerifier

        def generic(secrets: Mapping[Any, str | bytes]) -> Any:
            # A request without the key header is checked against the same secret.
            return BodyDigestVerifier(
                {**secrets, None: next(iter(secrets.values()))},
                key_header=args.key_header,
                signature_header=args.signature_header,
                algorithm=args.algorithm,
                digest_encoding=args.digest_encoding,
                nonce_field=args.nonce_field,
            )

        return _explain.body_digest_target(
            f"the scheme given (--algorithm {args.algorithm}, --digest-encoding {args.digest_encoding})",
            key_header=args.key_header,
            signature_header=args.signature_header,
            algorithm=args.algorithm,
            digest_encoding=args.digest_encoding,
            verifier=generic,
        )
    found = _entry(args)
    passphrase = None
    if found.needs_passphrase:
        passphrase = _secret(
            args, env=args.passphrase_env, file=args.passphrase_file, what="passphrase", option="--passphrase-env"
        )

    def preset_verifier(secrets: Mapping[Any, str | bytes]) -> Any:
        # Without a passphrase given, the verifier checks none; a webhook's takes its secret alone.
        kwargs = {"passphrases": dict.fromkeys(secrets, passphrase)} if passphrase else {}
        return found.verifier(secrets if found.keyed else next(iter(secrets.values())), **kwargs)

    return _explain.recipe_target(found.title, found.verifier, preset_verifier)


def _captured(args: argparse.Namespace) -> tuple[str, str, dict[str, str], bytes]:
    if args.request:
        raw = sys.stdin.buffer.read() if args.request == "-" else _read_file(args.request, "--request")
        return _parse_raw_request(raw, args.scheme)
    if not args.url:
        raise _UsageError("pass --request FILE, or --method, --url, --header and --data-file")
    headers = {}
    for item in args.header or []:
        name, sep, value = item.partition(":")
        if not sep:
            raise _UsageError("--header takes 'Name: value'; one --header has no ':' (its value is not shown)")
        headers[name.strip()] = value.strip()
    body = _read_file(args.data_file, "--data-file") if args.data_file else b""
    return args.method, args.url, headers, body


def _cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    from . import _explain

    if args.preset is not None:
        _entry(args)  # an unknown name fails before the secret is read
    secret = _secret(args, env=args.secret_env, file=args.secret_file, what="secret", option="--secret-env")
    if not secret:
        raise _no_secret("secret", args.secret_env, "--secret-env", "--secret-file")
    method, url, headers, body = _captured(args)
    target = _target(args)
    stripped = secret.strip()
    key = args.key if args.key is not None else _explain.carried_key(target, method, url, headers, body)
    if not target.keyed:
        key = None  # a webhook delivery carries no key: the secret is all there is to check
    style = _Style(out)
    try:
        verdict = target.verifier({key: stripped}).verify(method, url, headers, body)
    except HmacBodyAuthError as exc:
        raise _UsageError(str(exc)) from None
    if verdict.ok:
        note = " (surrounding whitespace of the given secret ignored)" if secret != stripped else ""
        if args.key is None and target.keyed:
            # The secret alone checks the signature: any key header would pass. Say so, not just "OK".
            where = f" ({target.key_where})" if target.key_where else ""
            out.write(
                style.good("SIGNATURE OK")
                + f": the signature matches the secret ({len(body)} body bytes){note}; the key is not checked"
                + f" without --key (the request's key{where} is {_explain.shown(key)})\n"
            )
        else:
            out.write(style.good("OK") + f": the signature matches ({len(body)} body bytes){note}\n")
        for line in _explain.notes(target, method=method, url=url, headers=headers, body=body):
            out.write(f"note: {line}\n")
        return 0
    reason = _explain.explain(
        target, verdict, secret=secret, key=key, method=method, url=url, headers=headers, body=body
    )
    out.write(style.bad("MISMATCH") + f": {verdict.reason}\n")
    out.write(f"most likely: {reason}\n")
    return 1


#: What the command line was given, for :meth:`_Parser.error` (one command line per process).
_ARGV: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("hmac_body_auth_argv", default=())


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors never repeat a value from the command line.

    argparse quotes what it could not take (``unrecognized arguments: ...``,
    ``ambiguous option: --secret=VALUE could match ...``, ``invalid int value: 'VALUE'``):
    a secret typed in the wrong place would be printed. Option names stay; values are ``***``.
    """

    def error(self, message: str) -> NoReturn:
        values: set[str] = set()
        for token in _ARGV.get():
            _, equals, value = token.partition("=")
            if token.startswith("-") and equals:
                values.add(value)
            elif not token.startswith("-"):
                values.add(token)
        # As typed and as argparse quotes it (repr: backslashes, quotes); longest first (a value
        # inside another is hidden with it); no secret is shorter than 4.
        forms = {form for v in values if len(v) >= 4 for form in (v, repr(v), repr(v)[1:-1])}
        for form in sorted(forms, key=len, reverse=True):
            message = message.replace(form, "'***'" if form[:1] in "'\"" and form[-1:] == form[:1] else "***")
        super().error(message)


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


_positive.__name__ = "positive int"  # what argparse calls the type in its error


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hmac-body-auth",
        description="Sign HTTP requests with an HMAC of their exact body; debug signature mismatches.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the demo against an embedded local server (no network)")
    demo.add_argument("--threads", type=_positive, default=4, help="threads per sync client (default 4)")
    demo.add_argument("--per-thread", type=_positive, default=10, help="requests per thread (default 10)")
    demo.add_argument("--tasks", type=_positive, default=50, help="concurrent asyncio tasks (default 50)")

    sign = commands.add_parser(
        "sign",
        help="print the exact bytes and headers a request would be sent with",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sign.add_argument("method", help="HTTP method, e.g. POST")
    sign.add_argument("url", help="the full URL, query included")
    _add_scheme_options(sign)
    body = sign.add_argument_group("body")
    body.add_argument("--data", action="append", metavar="NAME=VALUE", help="a form field (repeatable)")
    body.add_argument("--json", help="a JSON body, sent as is")
    body.add_argument("--data-file", metavar="PATH", help="raw body bytes from a file")
    body.add_argument("--content-type", help="Content-Type of --data-file")
    determinism = sign.add_argument_group("determinism")
    determinism.add_argument("--nonce", type=int, help="use this nonce instead of the clock")
    determinism.add_argument("--clock-ms", type=int, help="use this Unix time in ms instead of the clock")

    verify = commands.add_parser(
        "verify",
        help="check a captured request's signature and explain a mismatch",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_scheme_options(verify)
    captured = verify.add_argument_group("the captured request")
    captured.add_argument(
        "--request", metavar="FILE", help="raw HTTP request (request line, headers, body); - for stdin"
    )
    captured.add_argument("--scheme", default="https", choices=["http", "https"], help="scheme for a raw request")
    captured.add_argument("--method", default="POST")
    captured.add_argument("--url")
    captured.add_argument("--header", action="append", metavar="'NAME: VALUE'")
    captured.add_argument("--data-file", metavar="PATH", help="the body bytes")
    return parser


_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO], int]] = {"sign": _cmd_sign, "verify": _cmd_verify}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    _ARGV.set(tuple(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except KeyboardInterrupt:
        # Ctrl-C is how a user stops the demo: a quiet line, not a traceback.
        name = f"hmac-body-auth {args.command}" if args.command else "hmac-body-auth"
        sys.stderr.write(f"\n{name}: interrupted\n")
        return _INTERRUPTED


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(sys.stdout, threads=args.threads, per_thread=args.per_thread, tasks=args.tasks)
    command = _COMMANDS.get(args.command or "")
    if command is None:
        parser.print_help()
        return 2
    try:
        return command(args, sys.stdout)
    except _UsageError as exc:
        sys.stderr.write(f"hmac-body-auth {args.command}: {exc}\n")
        return 2
    except HmacBodyAuthError as exc:
        sys.stderr.write(f"hmac-body-auth {args.command}: {type(exc).__name__}: {exc}\n")
        return 2
