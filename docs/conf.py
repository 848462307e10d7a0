"""Sphinx configuration for the asyncsessiontest documentation."""

from __future__ import annotations

import re
from pathlib import Path

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

# No intersphinx: building the docs must not need the network.
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

autodoc_member_order = "bysource"

exclude_patterns = ["_build"]

html_theme = "alabaster"
