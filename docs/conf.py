"""Sphinx configuration for the asyncsessiontest documentation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, List

_INIT = Path(__file__).resolve().parent.parent / "asyncsessiontest" / "__init__.py"


def _read_version() -> str:
    # Read the version as setup.py does, so the docs never import a stale installed copy for it.
    match = re.search(
        r"""^__version__\s*=\s*["']([^"']+)["']""",
        _INIT.read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    if match is None:
        raise RuntimeError(f"__version__ not found in {_INIT}")
    return match.group(1)


project = "asyncsessiontest"
author = "the asyncsessiontest authors"
copyright = "2026, the asyncsessiontest authors"
release = _read_version()
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

# The API page (api.rst) lists every member itself, in groups; these settings keep internals out
# of what autodoc shows for them.
autodoc_member_order = "bysource"
# Nearly every parameter is typed Any: signatures read as code calls them, ``addResult(rows=(),
# *, statement=None, ...)``, and the docstrings say what each parameter takes.
autodoc_typehints = "none"

# Every reference must resolve: the docs build runs nitpicky (``sphinx-build -W -n``).
nitpicky = True
# No intersphinx: building the docs must not need the network, and the build machines reach
# package registries only, which serve no Python or SQLAlchemy inventory. References to the
# standard library and to SQLAlchemy therefore render as plain code, unlinked; the names below
# are the only references allowed to stay unresolved.
nitpick_ignore_regex = [
    (r"py:.*", r"(unittest|typing|asyncio|re|sqlalchemy)(\..*)?"),
    (r"py:.*", r"(Any|None|bool|int|str|type|list|dict|tuple|object|BaseException)"),
]

exclude_patterns = ["_build"]

# furo, a maintained theme, installed with the "docs" extra only (setup.py), as nox's docs session
# does; wrap.css wraps long code lines rather than cutting them off.
html_theme = "furo"
html_title = f"asyncsessiontest {release}"
html_static_path = ["_static"]
html_css_files = ["wrap.css"]

# Users never construct the package's classes: unittest builds the test cases, and the test case
# builds the rest (the session's transactions, recorded operations, canned results). Their
# constructors' signatures and parameters name internal state: they stay in the source for
# developers, but are not the API, so the class line shows the name alone.
_BUILT_BY_THE_PACKAGE = {
    "asyncsessiontest.CannedResult",
    "asyncsessiontest.ExecutedStatement",
    "asyncsessiontest.History",
    "asyncsessiontest.Operation",
    "asyncsessiontest.SessionFactoryStandIn",
    "asyncsessiontest.TransactionStandIn",
}


def _drop_constructor_signature(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: Any, return_annotation: Any
) -> Any:
    if what == "class":
        return "", None
    return None


def _drop_constructor_params(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: List[str]
) -> None:
    if what != "class" or name not in _BUILT_BY_THE_PACKAGE:
        return
    kept, in_param = [], False
    for line in lines:
        if line.startswith(":param "):
            in_param = True
        elif not (in_param and line.startswith(" ")):
            in_param = False
            kept.append(line)
    lines[:] = kept


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", _drop_constructor_signature)
    app.connect("autodoc-process-docstring", _drop_constructor_params)
