"""Package metadata for asyncsessiontest; the version lives in asyncsessiontest/__init__.py."""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def read_version() -> str:
    """Return ``__version__`` from the package without importing it."""
    text = (HERE / "asyncsessiontest" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if match is None:
        raise RuntimeError("__version__ not found in asyncsessiontest/__init__.py")
    return match.group(1)


TEST_REQUIRES = ["aiosqlite", "asyncpg", "pytest", "unittest-parallel"]
DOCS_REQUIRES = ["sphinx", "furo"]
# The addresses the package is published under; installation.rst clones REPOSITORY.
REPOSITORY = "https://github.com/asyncsessiontest/asyncsessiontest"

setup(
    name="asyncsessiontest",
    version=read_version(),
    description="Unit tests for code that uses SQLAlchemy's AsyncSession, from plain unittest.",
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    author="The asyncsessiontest authors",
    url=REPOSITORY,
    project_urls={
        "Documentation": "https://asyncsessiontest.readthedocs.io/",
        "Source": REPOSITORY,
        "Changelog": f"{REPOSITORY}/blob/main/CHANGELOG.rst",
        "Issues": f"{REPOSITORY}/issues",
    },
    license="MIT",
    packages=["asyncsessiontest"],
    package_data={"asyncsessiontest": ["py.typed"]},
    zip_safe=False,
    python_requires=">=3.8",
    install_requires=["SQLAlchemy[asyncio]>=1.4"],
    extras_require={
        "test": TEST_REQUIRES,
        "docs": DOCS_REQUIRES,
        "dev": [*TEST_REQUIRES, *DOCS_REQUIRES, "coverage[toml]", "mypy", "ruff", "nox"],
    },
    keywords=["sqlalchemy", "asyncio", "unittest", "testing", "mock", "asyncsession"],
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Framework :: AsyncIO",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Database",
        "Topic :: Software Development :: Testing",
        "Topic :: Software Development :: Testing :: Mocking",
        "Topic :: Software Development :: Testing :: Unit",
        "Typing :: Typed",
    ],
)
