"""The client packages' auth base classes, added to the auth classes when those packages load.

An ``auth=`` object must be a ``requests.auth.AuthBase`` (requests' documented
interface) and an ``httpx.Auth`` (``httpx.Client`` drives only its own ``Auth``
instances through the auth flows: anything else that is callable it wraps in a
``FunctionAuth``, which loses the response handling), and an ``httpx2.Auth`` when
httpx2 is in use. Subclassing them in the class statement would import requests,
httpx and httpx2 into every program that builds an auth, whichever client it uses
(about 200 modules, and most of the cost of ``hmac-body-auth sign``).

So the auth classes start with the placeholder base :class:`Root`, and each
client's base class is added to their ``__bases__`` when the client is there:
at once for a client already imported, otherwise when its package finishes
importing, through :class:`_Watcher` (a ``sys.meta_path`` finder that finds
nothing itself: it wraps the real loader's ``exec_module``). Assigning
``__bases__`` updates the MRO of every subclass (the presets) and so what
``isinstance`` answers for objects built before the client was imported.

The standard library has no post-import hook (PEP 369 was withdrawn); wrapt's
``register_post_import_hook`` does the same thing with a finder of its own, but
would be a dependency (and an import) for these few lines.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

__all__ = ["Root", "attach"]

#: The client package -> (the module holding its auth base class, the class's name), in
#: the order the bases take in the MRO (requests, httpx, httpx2: as when the auth classes
#: subclassed them statically).
_BASES: dict[str, tuple[str, str]] = {
    "requests": ("requests.auth", "AuthBase"),
    "httpx": ("httpx", "Auth"),
    "httpx2": ("httpx2", "Auth"),
}


class Root:
    """The first base of the auth classes, before and after the clients' bases are added.

    A class whose only base is ``object`` cannot take other bases later (CPython
    refuses the ``__bases__`` assignment), a subclass of this one can.
    """


_lock = threading.Lock()
_classes: list[type] = []
_added: dict[str, type] = {}
# The client packages not seen yet; the watcher ignores every other import.
_pending: set[str] = set(_BASES)


def attach(cls: type) -> None:
    """Give ``cls`` (a direct subclass of :class:`Root`) each client's base class, now and as clients load."""
    with _lock:
        _classes.append(cls)
        # The watcher first, then the scan: a client that finishes importing in between is seen twice (harmless).
        if _pending and not any(isinstance(finder, _Watcher) for finder in sys.meta_path):
            sys.meta_path.insert(0, _Watcher())
    for package in _BASES:
        if package in sys.modules:
            _loaded(package)
    with _lock:
        _update(cls)


def _loaded(package: str) -> None:
    """Record ``package``'s auth base (once it has finished importing) and add it to every attached class."""
    module_name, class_name = _BASES[package]
    module = sys.modules.get(module_name)
    base = getattr(module, class_name, None)
    if not isinstance(base, type):
        return  # not (or not yet fully) imported, or not the class we know: leave the classes as they are
    with _lock:
        _pending.discard(package)
        if _added.get(package) is base:
            return
        _added[package] = base
        for cls in _classes:
            _update(cls)


def _update(cls: type) -> None:
    bases = (Root, *(base for package in _BASES if (base := _added.get(package)) is not None))
    if cls.__bases__ != bases:
        cls.__bases__ = bases


class _Watcher:
    """A ``sys.meta_path`` finder that watches the client packages' imports and finds nothing itself.

    For a client package it asks the finders after it for the real spec and, on
    that spec's loader, wraps ``exec_module`` (an instance attribute, removed
    again when the module has run) so that the base classes are added as soon as
    the package has executed; the module keeps its real loader and spec. It stays
    in ``sys.meta_path`` (removing an entry could make a concurrent import in
    another thread skip a finder) and answers ``None`` at once for other names.
    """

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        """The real spec of a client package, its loader watched; ``None`` for anything else."""
        if fullname not in _pending:
            return None
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        run = getattr(loader, "exec_module", None)
        if spec is None or loader is None or run is None:
            return spec

        def exec_module(module: ModuleType) -> None:
            # A loader may serve several modules (a zipimporter): only this one is watched.
            if module.__name__ != fullname:
                run(module)
                return
            try:
                run(module)
            finally:
                if vars(loader).get("exec_module") is exec_module:
                    del loader.exec_module
            _loaded(fullname)

        # A loader that takes no attributes is not watched (a client installed from files has one that does).
        with contextlib.suppress(AttributeError, TypeError):
            loader.exec_module = exec_module
        return spec
