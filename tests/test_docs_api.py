"""The API page documents every public name, and every assertion is in a table that links to it.

docs/api.rst lists each class's members itself, in groups, so that nothing private shows: these
tests fail when a public name is added to the package without its entry on that page.
"""

import inspect
import re
import unittest
from pathlib import Path

import asyncsessiontest

DOCS = Path(__file__).resolve().parent.parent / "docs"

# Public by spelling, but used by the package itself, not by tests: left off the API page.
NOT_API = {
    "History.record": "the session records operations through it",
    "CannedResult.fresh": "the session hands each execution a fresh copy through it",
}

_DIRECTIVE = re.compile(
    r"^(?P<indent> *)\.\. auto(?P<kind>class|exception|function|method|attribute|property)::"
    r" (?P<name>[\w.]+)",
    re.MULTILINE,
)


def documented():
    """Return the names docs/api.rst documents: ``Class`` and ``Class.member``."""
    names, current = set(), None
    for match in _DIRECTIVE.finditer((DOCS / "api.rst").read_text(encoding="utf-8")):
        if match["kind"] in ("class", "exception", "function"):
            current = match["name"]
            names.add(current)
        else:
            if not match["indent"]:
                raise AssertionError(f"{match['name']} is not indented under its class")
            names.add(f"{current}.{match['name']}")
    return names


def own_classes(cls):
    """The package's classes in ``cls``'s method order: not unittest's, SQLAlchemy's or object."""
    return [base for base in cls.__mro__ if base.__module__.startswith("asyncsessiontest")]


def members_defined_by(base):
    """The public names ``base`` itself defines: methods, properties, class attributes, and the
    instance attributes its ``__init__`` sets."""
    members = {name for name in vars(base) if not name.startswith("_") or name == "__call__"}
    members.update(name for name in getattr(base, "__slots__", ()) if not name.startswith("_"))
    init = vars(base).get("__init__")
    if init is not None:
        source = inspect.getsource(init)
        members.update(re.findall(r"^\s+self\.([a-z]\w*)\b[^=\n]*=", source, re.MULTILINE))
    return members


def public_members(cls):
    """Map each public member of ``cls`` to the names its entry may have on the API page: under
    ``cls``, or under the public base class that defines it (ExecutedStatement's ``method`` is
    Operation's)."""
    members = {}
    for base in reversed(own_classes(cls)):
        for name in members_defined_by(base):
            places = {f"{cls.__name__}.{name}"}
            if base.__name__ in asyncsessiontest.__all__:
                places.add(f"{base.__name__}.{name}")
            members[name] = places
    return members


class ApiPageTest(unittest.TestCase):
    def test_every_public_name_is_documented(self):
        missing = sorted(set(asyncsessiontest.__all__) - documented())
        self.assertEqual(missing, [], "add an autoclass or autofunction to docs/api.rst")

    def test_nothing_documented_is_missing_from_the_package(self):
        for name in sorted(documented()):
            with self.subTest(name=name):
                owner, _, member = name.partition(".")
                self.assertIn(owner, asyncsessiontest.__all__)
                if member:
                    cls = getattr(asyncsessiontest, owner)
                    self.assertIn(member, public_members(cls))

    def test_every_public_member_is_documented(self):
        names = documented()
        for name in asyncsessiontest.__all__:
            cls = getattr(asyncsessiontest, name)
            if not inspect.isclass(cls) or issubclass(cls, BaseException):
                continue
            if cls is asyncsessiontest.AsyncSessionTestCase:
                continue  # everything it adds is AsyncSessionMixin's, documented there
            for member, places in sorted(public_members(cls).items()):
                qualified = f"{name}.{member}"
                if places & set(NOT_API):
                    continue
                with self.subTest(member=qualified):
                    self.assertTrue(
                        places & names, f"document {qualified} in docs/api.rst, under {name}"
                    )

    def test_the_test_case_adds_nothing_the_mixin_does_not_document(self):
        own = {
            name
            for name in vars(asyncsessiontest.AsyncSessionTestCase)
            if not name.startswith("_")
        }
        self.assertEqual(own, set())

    def test_the_inherited_assertions_are_among_the_mixins_members(self):
        # autoclass :members: skips inherited methods: these are the ones the page lists itself
        members = public_members(asyncsessiontest.AsyncSessionMixin)
        for name in ("assertCommitted", "assertClosed", "assertExecutedOnce", "assertNumStatements"):
            with self.subTest(name=name):
                self.assertIn(name, members)
                self.assertIn(f"AsyncSessionMixin.{name}", documented())


class AssertionTablesTest(unittest.TestCase):
    """Each assertion is a row of a "Method | Checks that" table, linking to its API entry."""

    TABLES = {"unit_of_work.rst": "UnitOfWorkAssertions", "statements.rst": "StatementAssertions"}

    def rows(self, page):
        text = (DOCS / page).read_text(encoding="utf-8")
        table = text.split("   * - Method\n     - Checks that\n", 1)[1].split("\n\n", 1)[0]
        return re.findall(
            r"^   \* - :meth:`~?(?:[^`<]*<)?asyncsessiontest\.AsyncSessionMixin\.(\w+)>?`$",
            table,
            re.MULTILINE,
        )

    def test_every_assertion_has_a_row_linking_to_it(self):
        from asyncsessiontest import statement_assertions, uow_assertions

        modules = {"UnitOfWorkAssertions": uow_assertions, "StatementAssertions": statement_assertions}
        for page, class_name in self.TABLES.items():
            with self.subTest(page=page):
                cls = getattr(modules[class_name], class_name)
                assertions = [name for name in vars(cls) if name.startswith("assert")]
                self.assertEqual(self.rows(page), assertions)


if __name__ == "__main__":
    unittest.main()
