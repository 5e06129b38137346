"""Griffe extension for the docs build: Sphinx roles in docstrings become cross-references.

The package's docstrings use ``:class:`~hmac_body_auth.HmacAuth```-style roles (they
read well in ``help()`` and in editors). mkdocstrings renders Markdown, where a role
would show as literal ``:class:`` text. This turns each role into an autorefs link,
``[`HmacAuth`][hmac_body_auth._auth.HmacAuth]``, to the object's canonical path, so
that a re-exported name links to wherever the object is documented, and a role naming
something that does not exist, or is not documented, fails ``mkdocs build --strict``.

Names are resolved like Python would from the docstring's object (``:meth:`sign``` in a
class is that class's method); ``~`` keeps only the last component as the link text.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`(~?)([\w.]+)`")


def _canonical(obj: griffe.Object | griffe.Alias, path: str) -> str | None:
    """The canonical path of ``path`` as seen from ``obj``, or ``None`` if it is unknown."""
    head, _, rest = path.partition(".")
    try:
        full = obj.resolve(head)
    except griffe.NameResolutionError:
        full = head  # an absolute path such as hmac_body_auth.verify.ReplayGuard
    if rest:
        full = f"{full}.{rest}"
    try:
        target = obj.modules_collection[full]
    except KeyError:
        return None
    try:
        return str(target.final_target.path) if target.is_alias else str(target.path)
    except griffe.AliasResolutionError:
        return full


class SphinxRoles(griffe.Extension):
    """Rewrite ``:role:`path``` in every docstring of the package into an autorefs link."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk the loaded package once every module is there, so names resolve across modules."""
        seen: set[int] = set()
        self._walk(pkg, seen)

    def _walk(self, obj: griffe.Object, seen: set[int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(lambda m: self._link(obj, m), obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member, seen)  # type: ignore[arg-type]

    @staticmethod
    def _link(obj: griffe.Object, match: re.Match[str]) -> str:
        short, path = match.group(1), match.group(2)
        text = path.rsplit(".", 1)[-1] if short else path
        target = _canonical(obj, path)
        if target is None:
            # A typo or a renamed object: a warning, which fails `mkdocs build --strict`.
            griffe.logger.warning(f"{obj.relative_filepath}:{obj.lineno}: cannot resolve {match.group(0)}")
            return f"`{text}`"
        return f"[`{text}`][{target}]"
