"""addResult, addException, addObject and strict mode, through AsyncSessionTestCase."""

import re
import unittest

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError, NoResultFound, ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncResult, AsyncScalarResult, AsyncSession
from sqlalchemy.orm import declarative_base

from asyncsessiontest import AsyncSessionTestCase, make_result

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String)

    def __repr__(self):
        return f"User(id={self.id!r})"


class Address(Base):
    __tablename__ = "addresses"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"))
    email = Column(String)


class Membership(Base):
    __tablename__ = "memberships"

    user_id = Column(Integer, primary_key=True)
    group_id = Column(Integer, primary_key=True)


audit_log = Table("audit_log", Base.metadata, Column("id", Integer, primary_key=True))

NO_ROWS = "This result object does not return rows. It has been closed automatically."
HAS_GET_ONE = hasattr(AsyncSession, "get_one")  # AsyncSession.get_one() is 2.0+


def user_by_id(user_id):
    return select(User).where(User.id == user_id)


class QueuedResultsTest(AsyncSessionTestCase):
    async def test_queued_results_answer_executions_in_order(self):
        self.addResult([1])
        self.addResult([2])

        first = await self.session.scalar(select(User.id))
        second = await self.session.scalar(select(Address.id))
        third = await self.session.scalar(select(User.id))

        self.assertEqual((first, second, third), (1, 2, None))

    async def test_routed_results_are_tried_before_the_queue(self):
        self.addResult(["queued"])
        self.addResult(["routed"], statement=select(User.name))

        self.assertEqual(await self.session.scalar(select(User.name)), "routed")
        self.assertEqual(await self.session.scalar(select(User.name)), "queued")

    async def test_times_answers_that_many_executions_then_the_next_in_the_queue(self):
        self.addResult([1], times=2)
        self.addResult([2])

        values = [await self.session.scalar(select(User.id)) for _ in range(4)]

        self.assertEqual(values, [1, 1, 2, None])

    async def test_times_none_answers_every_execution(self):
        self.addResult([1], times=None)
        self.addResult([2])

        values = [await self.session.scalar(select(User.id)) for _ in range(5)]

        self.assertEqual(values, [1, 1, 1, 1, 1])

    async def test_rows_may_be_a_result_from_make_result(self):
        self.addResult(make_result([(1, "a")], columns=["key", "value"]))

        row = (await self.session.execute(select(User.id, User.name))).one()

        self.assertEqual((row.key, row.value), (1, "a"))

    async def test_rowcount_is_set_on_the_result(self):
        self.addResult(rowcount=3)

        result = await self.session.execute(update(User).values(name="x"))

        self.assertEqual(result.rowcount, 3)


class FreshResultTest(AsyncSessionTestCase):
    async def test_every_execution_gets_a_fresh_result(self):
        self.addResult([(1, "a"), (2, "b")], statement=User, times=None)

        first = await self.session.execute(select(User.id, User.name))
        self.assertEqual(first.all(), [(1, "a"), (2, "b")])
        second = await self.session.execute(select(User.id, User.name))

        self.assertIsNot(first, second)
        self.assertEqual(second.all(), [(1, "a"), (2, "b")])

    async def test_a_result_from_make_result_is_never_consumed_by_executions(self):
        canned = make_result([1, 2])
        self.addResult(canned, times=2)

        self.assertEqual((await self.session.scalars(select(User.id))).all(), [1, 2])
        self.assertEqual((await self.session.scalars(select(User.id))).all(), [1, 2])
        self.assertEqual(canned.scalars().all(), [1, 2])


class RoutingFormsTest(AsyncSessionTestCase):
    async def test_a_statement_matches_new_equal_statements_including_bound_values(self):
        user = User(id=5)
        self.addResult([user], statement=user_by_id(5), times=None)

        self.assertIsNone(await self.session.scalar(user_by_id(6)))
        self.assertIs(await self.session.scalar(user_by_id(5)), user)

    async def test_an_orm_column_equals_its_table_column(self):
        self.addResult(["a"], statement=select(User.name).where(User.__table__.c.id == 5))

        found = await self.session.scalar(select(User.name).where(User.id == 5))

        self.assertEqual(found, "a")

    async def test_a_string_matches_the_sql_ignoring_spacing_and_case(self):
        self.addResult(["a"], statement="select USERS.name\n   FROM users where users.id = :id_1")

        found = await self.session.scalar(select(User.name).where(User.id == 5))

        self.assertEqual(found, "a")

    async def test_a_string_compares_placeholders_not_values(self):
        self.addResult(["a"], statement=str(select(User.name).where(User.id == 5)), times=2)

        self.assertEqual(await self.session.scalar(select(User.name).where(User.id == 5)), "a")
        self.assertEqual(await self.session.scalar(select(User.name).where(User.id == 6)), "a")

    async def test_a_string_does_not_match_other_sql(self):
        self.addResult(["a"], statement="SELECT users.name FROM users")

        self.assertIsNone(await self.session.scalar(select(User.name).where(User.id == 5)))

    async def test_a_pattern_is_searched_in_the_sql(self):
        self.addResult(["a"], statement=re.compile(r"WHERE users\.id = :id_\d"))

        self.assertIsNone(await self.session.scalar(select(User.name)))
        self.assertEqual(await self.session.scalar(select(User.name).where(User.id == 5)), "a")

    async def test_a_statement_route_leaves_statements_on_other_entities_to_later_routes(self):
        # SQLAlchemy's compare() raises AttributeError for ORM statements on different entities
        self.addResult([1], statement=select(User.id).where(User.id == 5))
        self.addResult([2], statement=Address)

        self.assertEqual(await self.session.scalar(select(Address.id)), 2)
        self.assertEqual(await self.session.scalar(select(User.id).where(User.id == 5)), 1)

    async def test_a_mapped_class_matches_any_statement_on_its_table(self):
        self.addResult(rowcount=1, statement=User, times=None)
        statements = {
            "select": select(User.id),
            "insert": insert(User).values(name="a"),
            "update": update(User).values(name="a"),
            "delete": delete(User),
            "join": select(Address.id).join(User, User.id == Address.user_id),
            "subquery": select(Address.id).where(Address.user_id.in_(select(User.id))),
        }
        for kind, statement in statements.items():
            with self.subTest(kind):
                result = await self.session.execute(statement)
                self.assertEqual(result.rowcount, 1)

    async def test_a_mapped_class_does_not_match_other_tables(self):
        self.addResult(rowcount=1, statement=User)

        result = await self.session.execute(update(Address).values(email="x"))

        self.assertEqual(result.rowcount, 0)

    async def test_a_table_matches_any_statement_on_it(self):
        self.addResult([7], statement=audit_log, times=2)
        self.addResult([8], statement=User.__table__)

        self.assertEqual(await self.session.scalar(select(audit_log.c.id)), 7)
        self.assertEqual(await self.session.scalar(select(User.id)), 8)
        self.assertIsNone(await self.session.scalar(select(Address.id)))

    async def test_routes_are_tried_in_the_order_added(self):
        self.addResult(["first"], statement=User)
        self.addResult(["second"], statement=select(User.name))

        self.assertEqual(await self.session.scalar(select(User.name)), "first")
        self.assertEqual(await self.session.scalar(select(User.name)), "second")

    async def test_a_used_up_route_no_longer_answers(self):
        self.addResult(["a"], statement=User, times=2)

        values = [await self.session.scalar(select(User.name)) for _ in range(3)]

        self.assertEqual(values, ["a", "a", None])

    async def test_a_route_with_no_limit_answers_every_matching_execution(self):
        self.addResult(["a"], statement=User, times=None)

        values = [await self.session.scalar(select(User.name)) for _ in range(4)]

        self.assertEqual(values, ["a"] * 4)

    async def test_unsupported_forms_raise_type_error_at_add_result(self):
        clause = User.id == 5
        subquery = select(User).subquery()
        cases = [
            (5, "5 (int)"),
            (object, "<class 'object'> (type)"),
            ([User], f"[{User!r}] (list)"),
            (clause, f"{clause!r} (BinaryExpression)"),
            (subquery, f"{subquery!r} (Subquery)"),
        ]
        for statement, shown in cases:
            with self.subTest(statement=statement):
                with self.assertRaises(TypeError) as caught:
                    self.addResult([1], statement=statement)
                self.assertEqual(
                    str(caught.exception),
                    f"addResult(): statement: cannot match statements against {shown}; give a "
                    f"SQLAlchemy statement, a SQL string, a compiled re.Pattern, a mapped class "
                    f"or a Table",
                )

    async def test_a_bytes_pattern_raises_type_error_at_add_result(self):
        with self.assertRaises(TypeError) as caught:
            self.addResult([1], statement=re.compile(b"users"))
        self.assertEqual(
            str(caught.exception),
            "addResult(): statement: re.compile(b'users') is a bytes pattern, but it is searched "
            "in the SQL text, a str; compile it from a str, e.g. re.compile('users')",
        )

    async def test_unsupported_forms_raise_type_error_at_add_exception(self):
        with self.assertRaises(TypeError) as caught:
            self.addException(ValueError, statement=5)

        self.assertEqual(
            str(caught.exception),
            "addException(): statement: cannot match statements against 5 (int); give a "
            "SQLAlchemy statement, a SQL string, a compiled re.Pattern, a mapped class or a Table",
        )


class ExecutionMethodsTest(AsyncSessionTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.first, self.second = User(id=1, name="a"), User(id=2, name="b")
        self.addResult([self.first, self.second], statement=User, times=None)

    async def test_execute_returns_the_result(self):
        result = await self.session.execute(select(User))

        self.assertEqual(result.all(), [(self.first,), (self.second,)])

    async def test_scalars_returns_the_first_column(self):
        result = await self.session.scalars(select(User))

        self.assertEqual(result.all(), [self.first, self.second])

    async def test_scalar_returns_the_first_column_of_the_first_row(self):
        self.assertIs(await self.session.scalar(select(User)), self.first)

    async def test_scalar_returns_none_without_rows(self):
        self.assertIsNone(await self.session.scalar(select(Address)))

    async def test_stream_supports_async_for(self):
        result = await self.session.stream(select(User))

        self.assertIsInstance(result, AsyncResult)
        self.assertEqual([row async for row in result], [(self.first,), (self.second,)])

    async def test_stream_supports_the_async_result_methods(self):
        calls = {
            "all": lambda result: result.all(),
            "first": lambda result: result.first(),
            "scalars_all": lambda result: result.scalars().all(),
            "scalar": lambda result: result.scalar(),
            "mappings_all": lambda result: result.mappings().all(),
        }
        expected = {
            "all": [(self.first,), (self.second,)],
            "first": (self.first,),
            "scalars_all": [self.first, self.second],
            "scalar": self.first,
            "mappings_all": [{"User": self.first}, {"User": self.second}],
        }
        for name, call in calls.items():
            with self.subTest(name):
                got = await call(await self.session.stream(select(User)))
                self.assertEqual(got, expected[name])

    async def test_stream_scalar_one_works_on_every_sqlalchemy_version(self):
        address = Address(id=1)
        self.addResult([address], statement=Address, times=None)

        self.assertIs(await (await self.session.stream(select(Address))).scalar_one(), address)
        self.assertIs(
            await (await self.session.stream(select(Address))).scalar_one_or_none(), address
        )

    async def test_stream_scalars_supports_async_for_and_all(self):
        result = await self.session.stream_scalars(select(User))
        self.assertIsInstance(result, AsyncScalarResult)
        self.assertEqual([user async for user in result], [self.first, self.second])

        result = await self.session.stream_scalars(select(User))
        self.assertEqual(await result.all(), [self.first, self.second])


class AddExceptionTest(AsyncSessionTestCase):
    async def test_an_instance_is_raised_by_the_matching_execution(self):
        error = IntegrityError("INSERT INTO users", {}, Exception("UNIQUE constraint failed"))
        self.addException(error, statement=User)

        with self.assertRaises(IntegrityError) as caught:
            await self.session.execute(insert(User).values(name="a"))

        self.assertIs(caught.exception, error)

    async def test_a_class_is_raised_by_the_matching_execution(self):
        self.addException(LookupError)

        with self.assertRaises(LookupError):
            await self.session.scalar(select(User.id))

    async def test_routed_exceptions_leave_other_statements_alone(self):
        self.addException(LookupError, statement=Address)

        self.assertIsNone(await self.session.scalar(select(User.id)))
        with self.assertRaises(LookupError):
            await self.session.scalar(select(Address.id))

    async def test_queued_exceptions_and_results_answer_in_order(self):
        self.addResult([1])
        self.addException(LookupError)
        self.addResult([3])

        self.assertEqual(await self.session.scalar(select(User.id)), 1)
        with self.assertRaises(LookupError):
            await self.session.scalar(select(User.id))
        self.assertEqual(await self.session.scalar(select(User.id)), 3)

    async def test_times_raises_that_many_times(self):
        self.addException(LookupError, statement=User, times=2)

        for _ in range(2):
            with self.assertRaises(LookupError):
                await self.session.execute(select(User))
        self.assertEqual((await self.session.execute(select(User))).all(), [])

    async def test_times_none_raises_every_time(self):
        self.addException(LookupError, statement=User, times=None)

        for _ in range(5):
            with self.assertRaises(LookupError):
                await self.session.execute(select(User))

    async def test_raised_by_every_execution_method(self):
        self.addException(LookupError, statement=User, times=None)
        methods = ["execute", "scalars", "scalar", "stream", "stream_scalars"]
        for name in methods:
            with self.subTest(name), self.assertRaises(LookupError):
                await getattr(self.session, name)(select(User))

    async def test_an_exception_that_is_not_an_exception_raises_type_error(self):
        for exc in ["boom", 5, object]:
            with self.subTest(exc=exc):
                with self.assertRaises(TypeError) as caught:
                    self.addException(exc)
                self.assertEqual(
                    str(caught.exception),
                    f"addException(): exc must be an exception instance or class, got {exc!r}",
                )


class TimesValidationTest(AsyncSessionTestCase):
    async def test_times_below_one_raises_value_error(self):
        for times in [0, -1]:
            for name, add in [("addResult", self.addResult), ("addException", self.addException)]:
                with self.subTest(name, times=times):
                    with self.assertRaises(ValueError) as caught:
                        add([1] if name == "addResult" else LookupError, times=times)
                    self.assertEqual(
                        str(caught.exception),
                        f"{name}(): times must be at least 1 (or None), got {times!r}",
                    )

    async def test_times_that_is_not_an_int_raises_type_error(self):
        for times in ["2", True, 1.5]:
            for name, add in [("addResult", self.addResult), ("addException", self.addException)]:
                with self.subTest(name, times=times):
                    with self.assertRaises(TypeError) as caught:
                        add([1] if name == "addResult" else LookupError, times=times)
                    self.assertEqual(
                        str(caught.exception),
                        f"{name}(): times must be a positive int or None, got {times!r}",
                    )


class AddResultBadInputTest(AsyncSessionTestCase):
    def assertRaisesWithMessage(self, exception, message, **kwargs):
        with self.assertRaises(exception) as caught:
            self.addResult(**kwargs)
        self.assertIs(type(caught.exception), exception)
        self.assertEqual(str(caught.exception), message)

    async def test_errors_name_add_result(self):
        self.assertRaisesWithMessage(
            ValueError,
            "addResult(): row 1 has 1 value(s), but row 0 has 2: "
            "every row needs the same number of values",
            rows=[(1, "a"), (2,)],
        )
        self.assertRaisesWithMessage(
            ValueError,
            "addResult(): row 1 has keys ['id'], but row 0 has keys ['id', 'name']: "
            "every dict needs the same keys",
            rows=[{"id": 1, "name": "a"}, {"id": 2}],
        )
        self.assertRaisesWithMessage(
            ValueError,
            "addResult(): columns has 1 name(s) ['id'], but each row has 2 value(s), "
            "e.g. row 0: (1, 'a')",
            rows=[(1, "a")],
            columns=["id"],
        )
        self.assertRaisesWithMessage(
            TypeError,
            "addResult(): rows must be a list of rows, got str 'abc'",
            rows="abc",
        )
        self.assertRaisesWithMessage(
            TypeError, "addResult(): rowcount must be an int, got '1'", rowcount="1"
        )

    async def test_a_result_with_columns_or_rowcount_raises_type_error(self):
        message = (
            "addResult(): rows is already a result; give columns and rowcount to "
            "make_result() instead"
        )
        self.assertRaisesWithMessage(TypeError, message, rows=make_result([1]), columns=["id"])
        self.assertRaisesWithMessage(TypeError, message, rows=make_result([1]), rowcount=1)


class AddObjectTest(AsyncSessionTestCase):
    async def test_get_returns_the_added_instance_with_that_primary_key(self):
        first, second = User(id=1), User(id=2)
        self.addObject(first, second)

        self.assertIs(await self.session.get(User, 2), second)
        self.assertIs(await self.session.get(User, 1), first)

    async def test_get_returns_none_for_an_unknown_primary_key(self):
        self.addObject(User(id=1))

        self.assertIsNone(await self.session.get(User, 3))

    async def test_get_returns_none_without_added_objects(self):
        self.assertIsNone(await self.session.get(User, 1))

    async def test_get_only_finds_instances_of_the_class_asked_for(self):
        self.addObject(Address(id=1))

        self.assertIsNone(await self.session.get(User, 1))

    async def test_composite_primary_keys_are_tuples(self):
        membership = Membership(user_id=1, group_id=2)
        self.addObject(membership)

        self.assertIs(await self.session.get(Membership, (1, 2)), membership)
        self.assertIsNone(await self.session.get(Membership, (2, 1)))

    async def test_get_one_finds_the_added_instance_or_raises_no_result_found(self):
        user = User(id=1)
        self.addObject(user)
        if not HAS_GET_ONE:
            # SQLAlchemy 1.4 has no AsyncSession.get_one; the session is shaped like the real one
            with self.assertRaises(AttributeError):
                self.session.get_one  # noqa: B018
            return

        self.assertIs(await self.session.get_one(User, 1), user)
        with self.assertRaises(NoResultFound) as caught:
            await self.session.get_one(User, 2)
        self.assertEqual(str(caught.exception), "No row was found when one was required")

    async def test_get_is_not_an_execution(self):
        self.addResult([User(id=1)])
        self.addResult([User(id=2)], statement=User)

        self.assertIsNone(await self.session.get(User, 1))
        self.assertIsNone(await self.session.get(User, 2))
        self.assertEqual(self.executed_statements, [])
        self.assertEqual((await self.session.scalar(select(User))).id, 2)
        self.assertEqual((await self.session.scalar(select(User))).id, 1)

    async def test_added_objects_do_not_answer_executions(self):
        self.addObject(User(id=1))

        self.assertIsNone(await self.session.scalar(user_by_id(1)))

    async def test_anything_but_an_orm_instance_raises_type_error(self):
        for value in [User, 5, "user"]:
            with self.subTest(value=value):
                with self.assertRaises(TypeError) as caught:
                    self.addObject(User(id=1), value)
                self.assertEqual(
                    str(caught.exception),
                    f"addObject(): {value!r} is not an instance of a mapped class; "
                    f"give ORM instances, e.g. self.addObject(User(id=1))",
                )

    async def test_a_refused_call_adds_nothing(self):
        with self.assertRaises(TypeError):
            self.addObject(User(id=1), 5)

        self.assertIsNone(await self.session.get(User, 1))


class EmptyDefaultTest(AsyncSessionTestCase):
    async def test_a_select_gets_an_empty_result(self):
        result = await self.session.execute(select(User.id, User.name))

        self.assertEqual(list(result.keys()), ["id", "name"])
        self.assertEqual(result.all(), [])

    async def test_every_execution_method_answers_empty(self):
        self.assertEqual((await self.session.execute(select(User))).all(), [])
        self.assertEqual((await self.session.scalars(select(User))).all(), [])
        self.assertIsNone(await self.session.scalar(select(User)))
        self.assertEqual(await (await self.session.stream(select(User))).all(), [])
        self.assertEqual(await (await self.session.stream_scalars(select(User))).all(), [])

    async def test_a_text_statement_gets_an_empty_result(self):
        self.assertEqual((await self.session.scalars(text("SELECT id FROM users"))).all(), [])
        self.assertIsNone(await self.session.scalar(text("SELECT id FROM users")))

    async def test_dml_without_returning_gets_the_empty_databases_rowcount_and_no_rows(self):
        # an INSERT inserts its row; an UPDATE or DELETE finds nothing
        for statement, rowcount in [(insert(User).values(name="a"), 1), (update(User), 0),
                                    (delete(User), 0)]:  # fmt: skip
            for fetch in ["all", "first", "one_or_none", "scalar"]:
                with self.subTest(str(statement), fetch=fetch):
                    result = await self.session.execute(statement)
                    self.assertEqual(result.rowcount, rowcount)
                    with self.assertRaises(ResourceClosedError) as caught:
                        getattr(result, fetch)()
                    self.assertEqual(str(caught.exception), NO_ROWS)

    async def test_scalar_of_dml_raises_resource_closed_error(self):
        with self.assertRaises(ResourceClosedError) as caught:
            await self.session.scalar(update(User).values(name="a"))

        self.assertEqual(str(caught.exception), NO_ROWS)

    async def test_an_empty_queued_result_for_a_text_statement_gives_empty_scalars(self):
        self.addResult([])

        self.assertEqual((await self.session.scalars(text("SELECT id FROM users"))).all(), [])


class ColumnNamesTest(AsyncSessionTestCase):
    async def test_select_gives_the_rows_the_statements_column_names(self):
        self.addResult([(1, "a")])

        row = (await self.session.execute(select(User.id, User.name))).one()

        self.assertEqual((row.id, row.name), (1, "a"))

    async def test_an_empty_result_has_the_statements_column_names(self):
        self.addResult([])

        result = await self.session.execute(select(User.id, User.name))

        self.assertEqual(list(result.keys()), ["id", "name"])

    async def test_an_orm_select_keys_entities_by_class_name(self):
        user = User(id=1)
        self.addResult([(user, "x@example.com")])

        row = (
            await self.session.execute(
                select(User, Address.email).join(Address, Address.user_id == User.id)
            )
        ).one()

        self.assertIs(row.User, user)
        self.assertEqual(row.email, "x@example.com")

    async def test_columns_overrides_the_statements_names(self):
        self.addResult([(1, "a")], columns=["key", "value"])

        result = await self.session.execute(select(User.id, User.name))

        self.assertEqual(list(result.keys()), ["key", "value"])

    async def test_dict_rows_are_matched_to_the_statements_columns_by_name(self):
        # Dict rows are matched to the statement's columns by name, not by position, so keys
        # written in another order than the select's columns keep their values.
        self.addResult([{"name": "x", "id": 1}])

        row = (await self.session.execute(select(User.id, User.name))).one()

        self.assertEqual((row.id, row.name), (1, "x"))

    async def test_returning_gives_the_rows_the_returned_column_names(self):
        self.addResult([(5, "a")])

        row = (
            await self.session.execute(insert(User).values(name="a").returning(User.id, User.name))
        ).one()

        self.assertEqual((row.id, row.name), (5, "a"))

    async def test_rows_that_do_not_fit_the_statement_raise_with_both_shapes(self):
        self.addResult([(1, "a")])

        with self.assertRaises(ValueError) as caught:
            await self.session.execute(select(User.id))

        self.assertEqual(
            str(caught.exception),
            "the canned rows have 2 value(s) each, but the statement selects 1 column(s) "
            "['id']; give rows that fit the statement, or columns= to override its columns",
        )


class UserConfigurationWinsTest(AsyncSessionTestCase):
    async def test_a_side_effect_replaces_routing_without_consuming_routes(self):
        self.addResult([1], statement=User)
        self.session.scalar.side_effect = [7]

        self.assertEqual(await self.session.scalar(select(User.id)), 7)
        self.assertEqual((await self.session.execute(select(User.id))).scalar_one(), 1)

    async def test_an_exception_side_effect_is_raised_without_consuming_the_queue(self):
        self.addResult([1])
        self.session.execute.side_effect = LookupError("configured")

        with self.assertRaises(LookupError):
            await self.session.execute(select(User.id))
        self.assertEqual(await self.session.scalar(select(User.id)), 1)

    async def test_a_replaced_return_value_replaces_routing_without_consuming_routes(self):
        self.addResult([1], statement=User)
        replaced = make_result([9])
        self.session.execute.return_value = replaced

        self.assertIs(await self.session.execute(select(User.id)), replaced)
        self.assertEqual(await self.session.scalar(select(User.id)), 1)

    async def test_one_configured_method_overrides_only_that_method(self):
        user = User(id=1)
        self.addResult([user], statement=User)
        self.session.execute.return_value.scalar_one_or_none.return_value = "configured"

        result = await self.session.execute(select(User))

        self.assertEqual(result.scalar_one_or_none(), "configured")
        self.assertEqual(result.all(), [(user,)])

    async def test_other_methods_follow_each_executions_own_result(self):
        self.addResult([1])
        self.addResult([2])
        self.session.execute.return_value.scalar_one_or_none.return_value = "configured"

        first = await self.session.execute(select(User.id))
        second = await self.session.execute(select(User.id))
        third = await self.session.execute(select(User.id))

        self.assertEqual([first.scalar_one(), second.scalar_one()], [1, 2])
        self.assertEqual(third.all(), [])
        self.assertEqual(third.scalar_one_or_none(), "configured")

    async def test_a_method_configured_to_return_none_returns_none(self):
        self.addResult([5])
        self.session.execute.return_value.scalar_one_or_none.return_value = None

        result = await self.session.execute(select(User.id))

        self.assertIsNone(result.scalar_one_or_none())

    async def test_a_partly_configured_result_is_still_a_real_result(self):
        self.addResult([1, 2])
        self.session.execute.return_value.scalars.return_value.all.return_value = ["configured"]

        result = await self.session.execute(select(User.id))

        self.assertIsInstance(result, Result)
        self.assertEqual(result.scalars().all(), ["configured"])
        self.assertEqual(result.all(), [(1,), (2,)])

    async def test_configuring_scalars_results_overrides_that_method_only(self):
        self.addResult([1, 2])
        self.session.scalars.return_value.first.return_value = 42

        self.assertEqual((await self.session.scalars(select(User.id))).first(), 42)
        self.addResult([3, 4])
        self.assertEqual((await self.session.scalars(select(User.id))).all(), [3, 4])

    async def test_configuring_stream_results_overrides_that_method_only(self):
        self.addResult([1, 2], times=2)
        self.session.stream.return_value.scalar_one.return_value = 42

        self.assertEqual(await (await self.session.stream(select(User.id))).scalar_one(), 42)
        self.assertEqual(await (await self.session.stream(select(User.id))).all(), [(1,), (2,)])


def run_test(case_class, name):
    """Run one test of ``case_class`` and return its ``unittest.TestResult``."""
    result = unittest.TestResult()
    case_class(name).run(result)
    return result


def failure_message(traceback_text, exception_name="AssertionError"):
    """Return the message of the exception a failure's traceback text ends with."""
    marker = f"\n{exception_name}: "
    # a failure raised by the library alone has no traceback lines before the message
    traceback_text = "\n" + traceback_text
    return traceback_text[traceback_text.rindex(marker) + len(marker) :].rstrip("\n")


UNMATCHED_SIX = (
    "No result configured for: SELECT users.id FROM users WHERE users.id = 6\n"
    "Routes (5):\n"
    "1. <CannedResult ['column_1']: 1 row(s)> for <SELECT users.id FROM users WHERE users.id = 5>, "
    "times=1, used 0: users.id = 6, expected 5\n"
    "2. <CannedResult ['column_1']: 1 row(s)> for <any statement on Address>, times=1, used 0: "
    "uses users\n"
    "3. <CannedResult ['column_1']: 1 row(s)> for <sql 'SELECT 1'>, times=1, used 0: "
    "the SQL text differs\n"
    "4. raise LookupError for <regex 'addresses'>, no limit, used 0: "
    "no match for 'addresses' in its SQL\n"
    "5. <CannedResult ['column_1']: 1 row(s)> for <any statement on User>, times=1, used 1: "
    "used up\n"
    "No queued results left.\n"
    "Add one with self.addResult(rows, statement=...) or self.addResult(rows), "
    "or set strict = False."
)

UNMATCHED_NO_ROUTES = (
    "No result configured for: SELECT users.id, users.name FROM users\n"
    "No routes configured.\n"
    "No queued results left.\n"
    "Add one with self.addResult(rows, statement=...) or self.addResult(rows), "
    "or set strict = False."
)


class StrictModeTest(unittest.TestCase):
    maxDiff = None

    def test_strict_is_off_by_default(self):
        self.assertIs(AsyncSessionTestCase.strict, False)

    def test_an_unmatched_execution_raises_at_the_call_naming_every_route(self):
        raised = []

        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                self.addResult([1], statement=select(User.id).where(User.id == 5))
                self.addResult([1], statement=Address)
                self.addResult([1], statement="SELECT 1")
                self.addException(LookupError, statement=re.compile("addresses"), times=None)
                self.addResult([2], statement=User)
                await self.session.scalar(select(User.id).where(User.id == 9))
                try:
                    await self.session.scalar(select(User.id).where(User.id == 6))
                except BaseException as error:
                    raised.append(error)

        run_test(Inner, "test")

        self.assertEqual(len(raised), 1)
        self.assertIs(type(raised[0]), AssertionError)
        self.assertEqual(str(raised[0]), UNMATCHED_SIX)

    def test_the_call_raises_the_test_cases_failure_exception(self):
        class CustomFailure(AssertionError):
            pass

        raised = []

        class Inner(AsyncSessionTestCase):
            strict = True
            failureException = CustomFailure

            async def test(self):
                try:
                    await self.session.execute(select(User))
                except BaseException as error:
                    raised.append(error)

        run_test(Inner, "test")

        self.assertEqual([type(error) for error in raised], [CustomFailure])

    def test_the_reasons_name_the_clause_and_operator_that_differ(self):
        raised = []

        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                self.addResult([1], statement=select(User.id).where(User.name.like("a%")).limit(1))
                try:
                    await self.session.scalar(select(User.id).where(User.name.like("b%")).limit(2))
                except AssertionError as error:
                    raised.append(str(error))

        run_test(Inner, "test")

        self.assertEqual(
            raised[0].splitlines()[2],
            "1. <CannedResult ['column_1']: 1 row(s)> for "
            "<SELECT users.id FROM users WHERE users.name LIKE 'a%' LIMIT 1>, times=1, used 0: "
            "LIMIT 2, expected 1; users.name LIKE 'b%', expected 'a%'",
        )

    def test_a_swallowed_unmatched_execution_fails_the_test_at_its_end(self):
        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                try:
                    await self.session.execute(select(User.id, User.name))
                except Exception:
                    pass

        result = run_test(Inner, "test")

        self.assertEqual(len(result.failures), 1)
        self.assertEqual(result.errors, [])
        self.assertEqual(
            failure_message(result.failures[0][1]), "Strict mode: " + UNMATCHED_NO_ROUTES
        )

    def test_unmatched_dml_fails_in_strict_mode(self):
        raised = []

        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                try:
                    await self.session.execute(update(User).values(name="a"))
                except AssertionError as error:
                    raised.append(str(error))

        run_test(Inner, "test")

        self.assertEqual(len(raised), 1)
        self.assertEqual(
            raised[0].splitlines()[0], "No result configured for: UPDATE users SET name='a'"
        )

    def test_results_added_but_never_used_fail_the_test_at_its_end(self):
        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                self.addResult([1], statement=select(User.id).where(User.id == 5))
                self.addResult([(1, "a")], columns=["id", "name"])
                self.addException(ValueError("boom"), statement=User)
                self.addException(KeyError)
                self.addResult(rowcount=3, times=None)
                self.addResult([2], statement=audit_log)
                await self.session.scalar(select(audit_log.c.id))

        result = run_test(Inner, "test")

        self.assertEqual((len(result.failures), result.errors), (1, []))
        self.assertEqual(
            failure_message(result.failures[0][1]),
            "Strict mode: results added but never used:\n"
            "1. <CannedResult ['column_1']: 1 row(s)> for "
            "<SELECT users.id FROM users WHERE users.id = 5>, times=1, used 0\n"
            "2. <CannedResult ['id', 'name']: 1 row(s)> (queued), times=1, used 0\n"
            "3. raise ValueError('boom') for <any statement on User>, times=1, used 0\n"
            "4. raise KeyError (queued), times=1, used 0\n"
            "5. <CannedResult no rows, rowcount=3> (queued), no limit, used 0",
        )

    def test_a_test_that_uses_everything_it_added_passes(self):
        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                self.addResult([1], statement=User)
                self.addResult([2])
                self.addObject(User(id=1))
                await self.session.scalar(select(User.id))
                await self.session.scalar(select(Address.id))

        result = run_test(Inner, "test")

        self.assertEqual((result.testsRun, result.failures, result.errors), (1, [], []))

    def test_get_without_added_objects_is_not_a_strict_failure(self):
        seen = []

        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                seen.append(await self.session.get(User, 1))

        result = run_test(Inner, "test")

        self.assertEqual(seen, [None])
        self.assertEqual((result.failures, result.errors), ([], []))

    def test_without_strict_unused_and_unmatched_pass(self):
        class Inner(AsyncSessionTestCase):
            async def test(self):
                self.addResult([1], statement=Address)
                await self.session.execute(select(User))

        result = run_test(Inner, "test")

        self.assertEqual((result.testsRun, result.failures, result.errors), (1, [], []))

    def test_end_of_test_checks_are_skipped_when_the_test_already_failed(self):
        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                self.addResult([1])
                self.fail("the test's own failure")

        result = run_test(Inner, "test")

        self.assertEqual(
            [failure_message(text) for _, text in result.failures], ["the test's own failure"]
        )

    def test_an_unmatched_execution_that_fails_the_test_is_reported_once(self):
        class Inner(AsyncSessionTestCase):
            strict = True

            async def test(self):
                await self.session.execute(select(User.id, User.name))

        result = run_test(Inner, "test")

        self.assertEqual(
            [failure_message(text) for _, text in result.failures], [UNMATCHED_NO_ROUTES]
        )


if __name__ == "__main__":
    unittest.main()
