"""Run a function in a child made by a real ``os.fork()``, and notice when the child hangs."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import time
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["fork_quietly", "in_child"]


def fork_quietly() -> int:
    """``os.fork()``, without Python 3.12's warning about forking a multi-threaded process (the point here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def in_child(fn: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Return ``fn()`` as computed in a forked child; raise AssertionError if it raised, crashed or hung.

    A child still running after ``timeout`` seconds is killed (a deadlock).
    """
    read_end, write_end = os.pipe()
    pid = fork_quietly()
    if pid == 0:  # the child: never return into pytest
        try:
            os.close(read_end)
            try:
                payload = pickle.dumps(("ok", fn()))
            except BaseException as exc:
                payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"))
            view = memoryview(payload)
            while view:
                view = view[os.write(write_end, view) :]
        finally:
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_end)
        raise AssertionError(f"the forked child was still running after {timeout} s (a deadlock)")
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    if not chunks:
        raise AssertionError(f"the forked child died without an answer (status {status})")
    kind, value = pickle.loads(b"".join(chunks))  # noqa: S301 - our own child's answer
    if kind != "ok":
        raise AssertionError(f"the forked child raised {value}")
    return value
