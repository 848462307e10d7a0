"""The empty-database answers, in their own module: importable alone, without a cycle."""

import ast
import inspect
import unittest

from sqlalchemy import func, insert, select, update

import asyncsessiontest.emptydb
import asyncsessiontest.results
from asyncsessiontest.emptydb import empty_database_rowcount, empty_database_rows
from tests.support import User


def _imports(module):
    tree = ast.parse(inspect.getsource(module))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


class EmptyDatabaseModuleTest(unittest.TestCase):
    def test_the_results_module_does_not_import_it_back(self):
        # the session imports both; emptydb may build on results, never the other way round
        for module, forbidden in (
            (asyncsessiontest.results, {"asyncsessiontest.emptydb", "asyncsessiontest.session"}),
            (asyncsessiontest.emptydb, {"asyncsessiontest.session"}),
        ):
            with self.subTest(module=module.__name__):
                self.assertFalse(_imports(module) & forbidden)

    def test_rows_of_a_count_and_of_a_plain_select(self):
        self.assertEqual(empty_database_rows(select(func.count()).select_from(User)), [(0,)])
        self.assertEqual(empty_database_rows(select(User)), [])

    def test_rowcount_of_inserts_and_updates(self):
        self.assertEqual(empty_database_rowcount(insert(User), [{"name": "a"}, {"name": "b"}]), 2)
        self.assertEqual(empty_database_rowcount(update(User).values(name="b")), 0)


if __name__ == "__main__":
    unittest.main()
