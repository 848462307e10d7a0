"""Sessions for the test matrix, type checks, lint and docs: ``nox`` runs them all."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "pytest", "typecheck", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True
# The stdlib venv seeds pip from the interpreter itself; recent virtualenv releases
# no longer ship pip for Python 3.8.
nox.options.default_venv_backend = "venv"

PYTHONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
# SQLAlchemy series -> oldest Python it supports.
SQLALCHEMY_SERIES = {"1.4": (3, 8), "2.0": (3, 8), "2.1": (3, 11)}
TEST_MATRIX = [
    (python, sqlalchemy)
    for python in PYTHONS
    for sqlalchemy, oldest in SQLALCHEMY_SERIES.items()
    if tuple(int(part) for part in python.split(".")) >= oldest
]

# Print the versions actually installed and fail if pip picked another SQLAlchemy series.
CHECK_VERSIONS = """\
import sys, sqlalchemy
print(sys.version, sqlalchemy.__version__)
if not sqlalchemy.__version__.startswith(sys.argv[1] + "."):
    sys.exit("expected SQLAlchemy " + sys.argv[1] + ".*, got " + sqlalchemy.__version__)
"""


def install_sqlalchemy(session: nox.Session, series: str, *packages: str) -> None:
    """Install *packages* with SQLAlchemy pinned to *series*, in one resolve."""
    session.install(*packages, f"SQLAlchemy[asyncio]=={series}.*")
    session.run("python", "-c", CHECK_VERSIONS, series)


@nox.session
@nox.parametrize("python,sqlalchemy", TEST_MATRIX)
def tests(session: nox.Session, sqlalchemy: str) -> None:
    """Run the unittest suite on one Python and one SQLAlchemy series."""
    install_sqlalchemy(session, sqlalchemy, "-e", ".[test]")
    session.run("python", "-m", "unittest", *session.posargs)


@nox.session(python="3.11")
def pytest(session: nox.Session) -> None:
    """Run the same suite under pytest, as users of pytest will."""
    install_sqlalchemy(session, "2.0", "-e", ".[test]")
    session.run("python", "-m", "pytest", "tests", "-q", *session.posargs)


@nox.session(python="3.11")
@nox.parametrize("sqlalchemy", ["2.0", "2.1"])
def typecheck(session: nox.Session, sqlalchemy: str) -> None:
    """Check the package with mypy --strict against SQLAlchemy's own annotations."""
    install_sqlalchemy(session, sqlalchemy, ".", "mypy")
    session.run("mypy", "--strict", "asyncsessiontest")


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Lint the package, the tests and the build scripts with ruff."""
    session.install("ruff")
    session.run(
        "ruff", "check", "asyncsessiontest", "tests", "benchmarks", "docs", "noxfile.py", "setup.py"
    )


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """Build the HTML docs nitpicky, failing on any warning, a broken reference included."""
    session.install(".[docs]")
    session.run(
        "sphinx-build", "-W", "-n", "--keep-going", "-E", "-b", "html", "docs", "docs/_build/html"
    )
