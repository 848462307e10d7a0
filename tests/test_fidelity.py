"""What the results of the fidelity items cost and how they fail, beside their parity scenarios."""

import unittest
from unittest import mock

from sqlalchemy import func, select

from asyncsessiontest import results
from asyncsessiontest.results import statement_keys
from tests.support import User

users = User.__table__


class CompiledKeysTest(unittest.TestCase):
    def test_a_core_select_is_compiled_once_per_structure(self):
        results._KEYS.clear()
        with mock.patch.object(results, "_compiled_keys", wraps=results._compiled_keys) as compiled:
            for value in range(5):
                keys = statement_keys(select(func.count(), users.c.id + value))
                self.assertEqual(keys, ["count_1", "anon_1"])
            keys = statement_keys(select(users.c.id, users.c.id))
            self.assertEqual(keys, ["id", "id__1"])
            statement_keys(select(users.c.id, users.c.id))
        self.assertEqual(compiled.call_count, 2)

    def test_a_select_without_a_cache_key_is_not_compiled_on_each_execution(self):
        from sqlalchemy import Column, Integer, values

        construct = values(Column("id", Integer), name="v").data([(1,)])
        with mock.patch.object(results, "_compiled_keys") as compiled:
            self.assertEqual(statement_keys(select(construct)), ["id"])
        compiled.assert_not_called()

    def test_an_orm_select_is_not_compiled(self):
        results._KEYS.clear()
        with mock.patch.object(results, "_compiled_keys") as compiled:
            self.assertEqual(statement_keys(select(func.count()).select_from(User)), ["count"])
            self.assertEqual(statement_keys(select(User.id + 1)), ["_no_label"])
        compiled.assert_not_called()


class CursorResultAttributesTest(unittest.TestCase):
    """What a result made apart from any statement says of DML, as a select's real result."""

    def test_a_result_of_no_insert_refuses_inserted_primary_key(self):
        from sqlalchemy.exc import InvalidRequestError

        from asyncsessiontest import make_result

        result = make_result([(1,)])
        for name in ("inserted_primary_key", "inserted_primary_key_rows"):
            with self.subTest(name), self.assertRaises(InvalidRequestError) as caught:
                getattr(result, name)
            self.assertEqual(
                str(caught.exception), "Statement is not an insert() expression construct."
            )
        self.assertFalse(result.is_insert)
        self.assertIsNone(result.lastrowid)
        self.assertIsNone(result.returned_defaults)
        self.assertIsNone(result.returned_defaults_rows)


if __name__ == "__main__":
    unittest.main()
