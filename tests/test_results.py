"""make_result and CannedResult: real SQLAlchemy results built from canned Python data."""

import collections
import gc
import unittest
import weakref

from sqlalchemy import LABEL_STYLE_TABLENAME_PLUS_COL, Column, Integer, String, func, select
from sqlalchemy.engine import Result, Row
from sqlalchemy.exc import MultipleResultsFound, NoResultFound, ResourceClosedError
from sqlalchemy.orm import declarative_base

from asyncsessiontest import CannedResult, make_result
from asyncsessiontest.results import statement_keys

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String)

    def __repr__(self):
        return f"User(id={self.id!r})"


Point = collections.namedtuple("Point", ["x", "y"])

NO_ROWS = "This result object does not return rows. It has been closed automatically."
NO_ROW_FOUND = "No row was found when one was required"
MULTIPLE_ROWS = "Multiple rows were found when exactly one was required"


class TupleRowsTest(unittest.TestCase):
    def test_is_a_real_sqlalchemy_result(self):
        result = make_result([(1, "a")])

        self.assertIsInstance(result, Result)
        self.assertIsInstance(result, CannedResult)

    def test_each_tuple_is_one_row_with_default_column_names(self):
        result = make_result([(1, "a"), (2, "b")])

        self.assertEqual(list(result.keys()), ["column_1", "column_2"])
        rows = result.all()
        self.assertEqual(rows, [(1, "a"), (2, "b")])
        self.assertEqual((rows[1].column_1, rows[1].column_2), (2, "b"))

    def test_columns_names_the_values(self):
        rows = make_result([(1, "a"), (2, "b")], columns=["id", "name"]).all()

        self.assertEqual([(row.id, row.name) for row in rows], [(1, "a"), (2, "b")])

    def test_columns_may_be_any_sequence_of_names(self):
        result = make_result([(1, "a")], columns=("id", "name"))

        self.assertEqual(list(result.keys()), ["id", "name"])

    def test_rows_may_be_any_iterable(self):
        result = make_result(row for row in [(1,), (2,)])

        self.assertEqual(result.scalars().all(), [1, 2])

    def test_mappings_use_the_column_names(self):
        mappings = make_result([(1, "a")], columns=["id", "name"]).mappings().all()

        self.assertEqual([dict(mapping) for mapping in mappings], [{"id": 1, "name": "a"}])

    def test_partitions_split_the_rows(self):
        partitions = list(make_result([(1,), (2,), (3,)]).partitions(2))

        self.assertEqual(partitions, [[(1,), (2,)], [(3,)]])


class SharedKeysTest(unittest.TestCase):
    """Results with the same columns share what SQLAlchemy knows of them: reshaping one (as
    columns(), mappings() and unique() do) leaves the others as they were."""

    def test_reshaping_one_result_leaves_another_with_the_same_columns_alone(self):
        first = make_result([(1, "a")], columns=["id", "name"])
        second = make_result([(2, "b")], columns=["id", "name"])

        self.assertEqual(first.columns("name").all(), [("a",)])
        self.assertEqual(second.keys(), ["id", "name"])
        row = second.one()
        self.assertEqual((row.id, row.name), (2, "b"))

    def test_a_fresh_copy_gives_the_rows_by_name_after_the_first_was_mapped(self):
        canned = make_result([(1, "a")], columns=["id", "name"])

        self.assertEqual(canned.fresh().mappings().all(), [{"id": 1, "name": "a"}])
        self.assertEqual(canned.fresh().scalars("name").all(), ["a"])
        self.assertEqual(canned.fresh().one()._mapping["id"], 1)


class DictRowsTest(unittest.TestCase):
    def test_keys_become_the_column_names(self):
        result = make_result([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])

        self.assertEqual(list(result.keys()), ["id", "name"])
        self.assertEqual([(row.id, row.name) for row in result], [(1, "a"), (2, "b")])

    def test_values_follow_the_first_dicts_key_order(self):
        result = make_result([{"a": 1, "b": 2}, {"b": 3, "a": 4}])

        self.assertEqual(result.all(), [(1, 2), (4, 3)])

    def test_columns_equal_to_the_keys_are_accepted(self):
        result = make_result([{"a": 1, "b": 2}], columns=["a", "b"])

        self.assertEqual([dict(m) for m in result.mappings()], [{"a": 1, "b": 2}])


class InstanceRowsTest(unittest.TestCase):
    def test_rows_are_keyed_by_class_name_like_an_orm_select(self):
        first, second = User(id=1), User(id=2)
        result = make_result([first, second])

        self.assertEqual(list(result.keys()), ["User"])
        rows = result.all()
        self.assertIs(rows[0].User, first)
        self.assertIs(rows[1][0], second)

    def test_scalars_give_the_instances(self):
        first, second = User(id=1), User(id=2)

        self.assertEqual(make_result([first, second]).scalars().all(), [first, second])

    def test_scalar_one_gives_the_only_instance(self):
        user = User(id=1)

        self.assertIs(make_result([user]).scalar_one(), user)

    def test_unique_drops_repeated_instances(self):
        first, second = User(id=1), User(id=2)

        self.assertEqual(make_result([first, first, second]).unique().all(), [(first,), (second,)])
        self.assertEqual(
            make_result([first, first, second]).scalars().unique().all(), [first, second]
        )

    def test_one_raises_the_real_error_for_several_instances(self):
        with self.assertRaises(MultipleResultsFound) as caught:
            make_result([User(id=1), User(id=2)]).scalar_one()

        self.assertEqual(str(caught.exception), MULTIPLE_ROWS)


class PlainValueRowsTest(unittest.TestCase):
    def test_scalars_give_the_values_back(self):
        self.assertEqual(make_result([1, 2, 3]).scalars().all(), [1, 2, 3])
        self.assertEqual(make_result(["a", None, "c"]).scalars().all(), ["a", None, "c"])

    def test_scalar_gives_the_first_value(self):
        self.assertEqual(make_result([7, 8]).scalar(), 7)

    def test_each_value_is_a_one_column_row(self):
        result = make_result([1, 2])

        self.assertEqual(list(result.keys()), ["column_1"])
        self.assertEqual(result.all(), [(1,), (2,)])

    def test_columns_names_the_one_column(self):
        result = make_result([5], columns=["count"])

        self.assertEqual(result.one().count, 5)


class NamedRowsTest(unittest.TestCase):
    def test_row_objects_keep_their_names(self):
        rows = make_result([(1, "a"), (2, "b")], columns=["id", "name"]).all()
        self.assertIsInstance(rows[0], Row)

        result = make_result(rows)

        self.assertEqual(list(result.keys()), ["id", "name"])
        self.assertEqual([row.name for row in result], ["a", "b"])

    def test_named_tuples_keep_their_names(self):
        result = make_result([Point(1, 2), Point(3, 4)])

        self.assertEqual(list(result.keys()), ["x", "y"])
        self.assertEqual([(row.x, row.y) for row in result], [(1, 2), (3, 4)])

    def test_columns_renames_named_rows(self):
        result = make_result([Point(1, 2)], columns=["a", "b"])

        self.assertEqual(result.one().b, 2)


class EmptyResultTest(unittest.TestCase):
    def test_no_rows_behaves_like_an_empty_result(self):
        self.assertEqual(make_result().all(), [])
        self.assertIsNone(make_result().first())
        self.assertIsNone(make_result().one_or_none())
        self.assertIsNone(make_result().scalar())
        self.assertIsNone(make_result().scalar_one_or_none())
        self.assertEqual(make_result().mappings().all(), [])

    def test_one_raises_the_real_no_result_found(self):
        with self.assertRaises(NoResultFound) as caught:
            make_result().one()

        self.assertEqual(str(caught.exception), NO_ROW_FOUND)

    def test_empty_with_columns_has_those_keys(self):
        result = make_result([], columns=["id", "name"])

        self.assertEqual(list(result.keys()), ["id", "name"])
        self.assertEqual(result.scalars().all(), [])

    def test_no_rows_has_one_default_column_so_scalars_work(self):
        self.assertEqual(list(make_result().keys()), ["column_1"])
        self.assertEqual(make_result().scalars().all(), [])
        self.assertIsNone(make_result().scalars().first())


class RowcountTest(unittest.TestCase):
    def test_rowcount_without_rows_is_a_dml_result(self):
        result = make_result(rowcount=3)

        self.assertEqual(result.rowcount, 3)
        self.assertFalse(result.returns_rows)

    def test_fetching_rows_from_a_dml_result_raises_resource_closed_error(self):
        fetches = {
            "all": lambda result: result.all(),
            "fetchall": lambda result: result.fetchall(),
            "fetchone": lambda result: result.fetchone(),
            "keys": lambda result: result.keys(),
            "iterate": lambda result: list(result),
            "scalars": lambda result: result.scalars().all(),
            "mappings": lambda result: result.mappings().all(),
            "unique": lambda result: result.unique().all(),
            "partitions": lambda result: list(result.partitions()),
        }
        for name, fetch in fetches.items():
            with self.subTest(name):
                with self.assertRaises(ResourceClosedError) as caught:
                    fetch(make_result(rowcount=3))
                self.assertEqual(str(caught.exception), NO_ROWS)

    def test_fetching_one_row_from_a_dml_result_raises_resource_closed_error(self):
        fetches = {
            "first": lambda result: result.first(),
            "one": lambda result: result.one(),
            "one_or_none": lambda result: result.one_or_none(),
            "scalar": lambda result: result.scalar(),
            "scalar_one": lambda result: result.scalar_one(),
            "scalar_one_or_none": lambda result: result.scalar_one_or_none(),
        }
        for name, fetch in fetches.items():
            with self.subTest(name):
                with self.assertRaises(ResourceClosedError) as caught:
                    fetch(make_result(rowcount=3))
                self.assertEqual(str(caught.exception), NO_ROWS)

    def test_rowcount_with_rows(self):
        result = make_result([(1,), (2,)], rowcount=2)

        self.assertEqual(result.rowcount, 2)
        self.assertTrue(result.returns_rows)
        self.assertEqual(result.scalars().all(), [1, 2])

    def test_rowcount_with_columns_and_no_rows_returns_no_rows(self):
        result = make_result([], columns=["id"], rowcount=0)

        self.assertEqual(result.rowcount, 0)
        self.assertEqual(result.all(), [])

    def test_rowcount_is_minus_one_when_not_given(self):
        self.assertEqual(make_result([(1,)]).rowcount, -1)
        self.assertEqual(make_result().rowcount, -1)


class CannedResultTest(unittest.TestCase):
    def test_consumed_once_like_a_real_result(self):
        result = make_result([(1,), (2,)])

        self.assertEqual(result.all(), [(1,), (2,)])
        self.assertEqual(result.all(), [])

    def test_fresh_gives_an_unconsumed_copy(self):
        result = make_result([(1,), (2,)], rowcount=2)
        result.all()

        copy = result.fresh()

        self.assertIsNot(copy, result)
        self.assertEqual(copy.all(), [(1,), (2,)])
        self.assertEqual(copy.rowcount, 2)

    def test_fresh_takes_the_statement_keys_over_default_names(self):
        copy = make_result([(1, "a")]).fresh(["id", "name"])

        self.assertEqual(copy.one().name, "a")

    def test_fresh_keeps_explicit_columns(self):
        copy = make_result([(1, "a")], columns=["key", "value"]).fresh(["id", "name"])

        self.assertEqual(list(copy.keys()), ["key", "value"])

    def test_fresh_of_no_rows_takes_the_statement_keys(self):
        copy = make_result().fresh(["id", "name"])

        self.assertEqual(list(copy.keys()), ["id", "name"])

    def test_fresh_refuses_rows_that_do_not_fit_the_statement(self):
        with self.assertRaises(ValueError) as caught:
            make_result([(1, "a")]).fresh(["id"])

        self.assertEqual(
            str(caught.exception),
            "the canned rows have 2 value(s) each, but the statement selects 1 column(s) "
            "['id']; give rows that fit the statement, or columns= to override its columns",
        )

    def test_repr_shows_columns_and_row_count(self):
        self.assertEqual(
            repr(make_result([(1, "a"), (2, "b")], columns=["id", "name"])),
            "<CannedResult ['id', 'name']: 2 row(s)>",
        )
        self.assertEqual(repr(make_result(rowcount=4)), "<CannedResult no rows, rowcount=4>")
        self.assertEqual(repr(make_result()), "<CannedResult ['column_1']: 0 row(s)>")


class StatementKeysTest(unittest.TestCase):
    """The keys a real database gives each statement, worked out once per structure."""

    def test_keys_of_selects_of_tables_columns_and_expressions(self):
        table = User.__table__
        cases = {
            "entity": (select(User), ["User"]),
            "columns": (select(User.id, User.name).where(User.id == 1), ["id", "name"]),
            "table": (select(table), ["id", "name"]),
            "label": (select(User.id.label("number")), ["number"]),
            "count": (select(func.count()).select_from(User), ["count"]),
            "prefixed": (select(table).set_label_style(LABEL_STYLE_TABLENAME_PLUS_COL),
                         ["users_id", "users_name"]),
        }  # fmt: skip
        for _ in range(2):  # the second time, from the cache
            for name, (statement, keys) in cases.items():
                with self.subTest(name):
                    self.assertEqual(statement_keys(statement), keys)

    def test_a_statement_of_expressions_is_not_kept_alive_by_the_cache(self):
        statement = select(func.count(User.id))
        statement_keys(statement)
        expression = weakref.ref(statement._raw_columns[0])
        del statement
        gc.collect()  # SQLAlchemy 1.4's statements hold cycles of their own
        self.assertIsNone(expression())


class BadInputTest(unittest.TestCase):
    def assertRaisesWithMessage(self, exception, message, function, *args, **kwargs):
        with self.assertRaises(exception) as caught:
            function(*args, **kwargs)
        self.assertIs(type(caught.exception), exception)
        self.assertEqual(str(caught.exception), message)

    def test_rows_of_different_widths(self):
        self.assertRaisesWithMessage(
            ValueError,
            "make_result(): row 2 has 1 value(s), but row 0 has 2: "
            "every row needs the same number of values",
            make_result,
            [(1, "a"), (2, "b"), (3,)],
        )

    def test_dicts_with_different_keys(self):
        self.assertRaisesWithMessage(
            ValueError,
            "make_result(): row 1 has keys ['id', 'title'], but row 0 has keys ['id', 'name']: "
            "every dict needs the same keys",
            make_result,
            [{"id": 1, "name": "a"}, {"id": 2, "title": "b"}],
        )

    def test_columns_not_matching_the_width_of_tuples(self):
        self.assertRaisesWithMessage(
            ValueError,
            "make_result(): columns has 1 name(s) ['id'], but each row has 2 value(s), "
            "e.g. row 0: (1, 'a')",
            make_result,
            [(1, "a")],
            columns=["id"],
        )

    def test_columns_not_matching_one_value_rows(self):
        self.assertRaisesWithMessage(
            ValueError,
            "make_result(): columns has 2 name(s) ['id', 'name'], but each row has 1 value(s), "
            "e.g. row 0: User(id=1)",
            make_result,
            [User(id=1)],
            columns=["id", "name"],
        )

    def test_columns_not_matching_the_dict_keys(self):
        self.assertRaisesWithMessage(
            ValueError,
            "make_result(): columns ['id', 'title'] does not match the dict keys ['id', 'name']",
            make_result,
            [{"id": 1, "name": "a"}],
            columns=["id", "title"],
        )

    def test_columns_with_duplicate_names(self):
        self.assertRaisesWithMessage(
            ValueError,
            "make_result(): columns has duplicate names: ['id', 'id']",
            make_result,
            [(1, 2)],
            columns=["id", "id"],
        )

    def test_columns_as_one_string(self):
        self.assertRaisesWithMessage(
            TypeError,
            "make_result(): columns must be a list of column names (strings), got 'id'",
            make_result,
            [(1,)],
            columns="id",
        )

    def test_columns_that_are_not_strings(self):
        self.assertRaisesWithMessage(
            TypeError,
            "make_result(): columns must be a list of column names (strings), got [1, 2]",
            make_result,
            [(1, 2)],
            columns=[1, 2],
        )

    def test_columns_that_is_not_a_list(self):
        self.assertRaisesWithMessage(
            TypeError,
            "make_result(): columns must be a list of column names (strings), got 5",
            make_result,
            [(1,)],
            columns=5,
        )

    def test_rows_in_different_forms(self):
        self.assertRaisesWithMessage(
            TypeError,
            "make_result(): row 1 is a plain value (2), but row 0 is a tuple: "
            "give every row in the same form",
            make_result,
            [(1,), 2],
        )
        self.assertRaisesWithMessage(
            TypeError,
            "make_result(): row 1 is a tuple ((1,)), but row 0 is a dict: "
            "give every row in the same form",
            make_result,
            [{"id": 1}, (1,)],
        )
        self.assertRaisesWithMessage(
            TypeError,
            "make_result(): row 1 is a plain value (1), but row 0 is an ORM instance: "
            "give every row in the same form",
            make_result,
            [User(id=1), 1],
        )

    def test_rows_that_are_not_a_list_of_rows(self):
        for rows, shown in [("abc", "str 'abc'"), (5, "int 5"), ({"id": 1}, "dict {'id': 1}"),
                            (None, "NoneType None")]:  # fmt: skip
            with self.subTest(rows=rows):
                self.assertRaisesWithMessage(
                    TypeError,
                    f"make_result(): rows must be a list of rows, got {shown}",
                    make_result,
                    rows,
                )

    def test_rows_that_are_already_a_result(self):
        self.assertRaisesWithMessage(
            TypeError,
            "make_result(): rows is already a result; pass it on as it is",
            make_result,
            make_result([(1,)]),
        )

    def test_rowcount_that_is_not_an_int(self):
        for rowcount in ["3", 1.0, True]:
            with self.subTest(rowcount=rowcount):
                self.assertRaisesWithMessage(
                    TypeError,
                    f"make_result(): rowcount must be an int, got {rowcount!r}",
                    make_result,
                    rowcount=rowcount,
                )


if __name__ == "__main__":
    unittest.main()
