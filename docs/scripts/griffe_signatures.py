"""Griffe extension for the docs build: classes whose signature is made at runtime show that signature.

A recipe preset's constructor is ``RecipeAuth.__init__(key, secret, **options)`` in
the source; what it takes (``passphrase=``, ``nonce=``, ``clock=``, the API's options)
is derived from its recipe and set as the class's ``__signature__``
(``hmac_body_auth.recipe._auth_signature``), which ``help()`` and ``inspect`` show.
Griffe reads the source only, so the docs would show ``**options`` and warn that the
docstring's ``Args:`` are not parameters. This imports each class of the package that
sets its own ``__signature__`` and gives griffe an ``__init__`` with those parameters.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import griffe

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _parameter(param: inspect.Parameter, parent: griffe.Function) -> griffe.Parameter:
    annotation = None
    if param.annotation is not inspect.Parameter.empty:
        text = param.annotation if isinstance(param.annotation, str) else inspect.formatannotation(param.annotation)
        annotation = griffe.ExprName(text, parent=parent) if text.isidentifier() else text
    default = None if param.default is inspect.Parameter.empty else repr(param.default)
    return griffe.Parameter(param.name, annotation=annotation, kind=_KINDS[param.kind], default=default)


class RuntimeSignatures(griffe.Extension):
    """Give each class with its own runtime ``__signature__`` an ``__init__`` of those parameters."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk the loaded package once every module is there."""
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if obj.is_class:
            self._sign(obj)  # type: ignore[arg-type]
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)  # type: ignore[arg-type]

    @staticmethod
    def _sign(cls: griffe.Class) -> None:
        try:
            runtime = getattr(importlib.import_module(cls.module.path), cls.name, None)
        except ImportError:
            return
        signature = vars(runtime).get("__signature__") if isinstance(runtime, type) else None
        if not isinstance(signature, inspect.Signature):
            return
        init = griffe.Function("__init__", lineno=cls.lineno, endlineno=cls.endlineno, parent=cls)
        params = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
        params += [_parameter(param, init) for param in signature.parameters.values()]
        init.parameters = griffe.Parameters(*params)
        cls.set_member("__init__", init)
