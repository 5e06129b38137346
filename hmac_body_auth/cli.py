"""The ``hmac-body-auth`` command line.

Built on the standard library's ``argparse``: it is well kept, needs no extra
dependency, and covers subcommands, help texts and exit codes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__

__all__ = ["main"]

_EPILOG = """examples:
  hmac-body-auth demo          sign traffic through requests, httpx and httpx async
                               against a local Poloniex-like server and report
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hmac-body-auth",
        description="Sign HTTP requests with an HMAC of their exact body.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="run the demo against an embedded local server (no network)")
    demo.add_argument("--threads", type=int, default=4, help="threads per sync client (default 4)")
    demo.add_argument("--per-thread", type=int, default=10, help="requests per thread (default 10)")
    demo.add_argument("--tasks", type=int, default=50, help="concurrent asyncio tasks (default 50)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        return run_demo(sys.stdout, threads=args.threads, per_thread=args.per_thread, tasks=args.tasks)
    parser.print_help()
    return 2
