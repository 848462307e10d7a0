"""Tests for executed_statements and the statement assertions: assertExecuted & co."""

import datetime
import os
import re
import sys
import unittest
from unittest import mock

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import declarative_base
from sqlalchemy.sql.elements import ClauseElement

import asyncsessiontest
from tests.support import FailureTextMixin

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String(50))


class Event(Base):
    __tablename__ = "events"

    id = Column(Integer, primary_key=True)
    user_id = Column(ForeignKey("users.id"))
    payload = Column(JSON)
    day = Column(Date)
    at = Column(DateTime)


CASE_PY = os.path.join("asyncsessiontest", "case.py")


def _line():
    """Return the number of the caller's current line."""
    return sys._getframe(1).f_lineno


def _last_frame(traceback_text):
    """Return (file, line) of the last frame in a formatted traceback."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', traceback_text)
    file_name, line = frames[-1]
    return file_name, int(line)


def _run(test_class):
    """Run an inner TestCase class's test_it; return the TestResult."""
    result = unittest.TestResult()
    test_class("test_it").run(result)
    return result


class CaptureTest(asyncsessiontest.AsyncSessionTestCase):
    async def test_every_executing_method_is_captured_in_order(self):
        statements = [select(User.id).where(User.id == n) for n in range(5)]
        await self.session.execute(statements[0])
        await self.session.scalars(statements[1])
        await self.session.scalar(statements[2])
        await self.session.stream(statements[3])
        await self.session.stream_scalars(statements[4])
        self.session.add(User(name="a"))
        await self.session.commit()

        captured = self.executed_statements
        self.assertEqual(
            [op.method for op in captured],
            ["execute", "scalars", "scalar", "stream", "stream_scalars"],
        )
        for op, statement in zip(captured, statements):
            self.assertIs(op.statement, statement)
        self.assertIsInstance(captured[0], asyncsessiontest.ExecutedStatement)
        # the statements are in the session history too, in their place among the operations
        self.assertEqual([op.method for op in self.session_history][-2:], ["add", "commit"])
        self.assertEqual(self.session_history[:5], captured)

    async def test_entries_expose_params_and_execution_options(self):
        query = text("SELECT name FROM users WHERE id = :id")
        await self.session.execute(query, {"id": 5}, execution_options={"stream_results": True})
        await self.session.execute(statement=query, params={"id": 6})
        rows = [{"name": "a"}, {"name": "b"}]
        await self.session.execute(insert(User), rows)
        await self.session.execute(select(User))

        first, second, many, plain = self.executed_statements
        self.assertEqual(first.params, {"id": 5})
        self.assertEqual(first.execution_options, {"stream_results": True})
        self.assertIs(second.statement, query)
        self.assertEqual(second.params, {"id": 6})
        self.assertIs(many.params, rows)
        self.assertIsNone(plain.params)
        self.assertEqual(plain.execution_options, {})

    async def test_executing_does_not_compile(self):
        compiled = []
        original = ClauseElement.compile

        def counting_compile(element, *args, **kwargs):
            compiled.append(element)
            return original(element, *args, **kwargs)

        statements = [
            select(User).where(User.id.in_([1, 2])),
            insert(User).values(name="a"),
            update(User).where(User.id == 5).values(name="b"),
            delete(User).where(User.id == 5),
            text("SELECT 1"),
            insert(Event).values(payload={"a": 1}, day=datetime.date(2024, 1, 31)),
        ]
        self.addResult([(1,)])  # a queued answer, used by the first execution
        with mock.patch.object(ClauseElement, "compile", counting_compile):
            for statement in statements:
                await self.session.execute(statement)
            self.assertEqual(compiled, [])
            self.assertEqual([op._sql for op in self.executed_statements], [None] * 6)

            # reading .sql renders (so the patch does see compilation), once per statement
            for index, op in enumerate(self.executed_statements):
                with self.subTest(index):
                    before = len(compiled)
                    self.assertIsInstance(op.sql, str)
                    self.assertGreater(len(compiled), before)
                    after = len(compiled)
                    self.assertEqual(op.sql, op._sql)
                    self.assertEqual(len(compiled), after)

    async def test_unawaited_executions_are_captured_and_marked(self):
        coroutine = self.session.execute(select(User))
        self.assertEqual(len(self.executed_statements), 1)
        self.assertFalse(self.executed_statements[0].awaited)
        await coroutine
        self.assertTrue(self.executed_statements[0].awaited)


class MatchingFormTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    async def test_statement_matches_structure_and_bound_values(self):
        await self.session.execute(select(User.id, User.name).where(User.id == 5))
        self.assertExecuted(select(User.id, User.name).where(User.id == 5))
        self.assertNotExecuted(select(User.id, User.name).where(User.id == 6))
        self.assertNotExecuted(select(User.id).where(User.id == 5))

    async def test_structural_rules(self):
        a, b = User.id == 5, User.name == "x"
        await self.session.execute(select(User).where(a, b))
        await self.session.execute(select(User.id).where(User.id == 7))
        await self.session.execute(select(User))
        # the order of criteria counts
        self.assertNotExecuted(select(User).where(b, a))
        # chained where() is the same statement as one where() with both criteria
        self.assertExecutedOnce(select(User).where(User.id == 5).where(User.name == "x"))
        # the sides of a comparison may be swapped
        self.assertExecuted(select(User.id).where(7 == User.id))
        # the entity and its table are different statements
        self.assertNotExecuted(select(User.__table__))

    async def test_orm_annotated_column_equals_its_table_column(self):
        # inside a statement of the same entity, User.id and users.c.id are the same column
        users = User.__table__
        await self.session.execute(select(User).where(User.id == 7))
        self.assertExecuted(select(User).where(users.c.id == 7))
        self.assertNotExecuted(select(User).where(users.c.id == 8))

    async def test_orm_and_core_selects_of_the_same_sql_differ_and_the_message_says_why(self):
        # compare() tells an ORM select (select(User.id)) from a Core one (select(users.c.id))
        users = User.__table__
        await self.session.execute(select(User.id).where(User.id == 7))
        with self.assertRaises(self.failureException) as caught:
            self.assertExecuted(select(users.c.id).where(users.c.id == 7))
        self.assertEqual(
            str(caught.exception),
            "Expected a statement matching <SELECT users.id FROM users WHERE users.id = 7> to be "
            "executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id FROM users WHERE users.id = 7   <- closest: the same SQL, built "
            "differently: compare() tells ORM and Core statements apart (select(User.id) is not "
            "select(users.c.id))",
        )

    async def test_sql_string_ignores_whitespace_and_case_and_values(self):
        await self.session.execute(select(User.id).where(User.id == 5))
        self.assertExecuted("select users.id\n   FROM users   where users.ID = :id_1")
        self.assertExecuted("SELECT users.id FROM users WHERE users.id = :id_1")
        self.assertNotExecuted("SELECT users.id FROM users")
        self.assertFailureText(
            lambda msg: self.assertExecuted("SELECT users.name FROM users", msg),
            "Expected a statement matching <sql 'SELECT users.name FROM users'> to be executed; "
            "it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id FROM users WHERE users.id = 5",
        )

    async def test_sql_string_of_in_list_uses_sqlalchemy_placeholder(self):
        await self.session.execute(select(User.id).where(User.id.in_([1, 2, 3])))
        self.assertExecuted("SELECT users.id FROM users WHERE users.id IN (__[POSTCOMPILE_id_1])")

    async def test_regex_is_searched_in_the_sql(self):
        await self.session.execute(update(User).where(User.id == 5).values(name="b"))
        self.assertExecuted(re.compile(r"UPDATE users SET name"))
        self.assertExecuted(re.compile(r"where users\.id", re.IGNORECASE))
        self.assertNotExecuted(re.compile(r"^DELETE"))
        self.assertFailureText(
            lambda msg: self.assertExecuted(re.compile(r"^DELETE"), msg),
            "Expected a statement matching <regex '^DELETE'> to be executed; it was not "
            "executed.\n"
            "Statements executed (1):\n"
            "1. UPDATE users SET name='b' WHERE users.id = 5",
        )

    async def test_mapped_class_or_table_matches_any_statement_on_it(self):
        statements = [
            select(User.name).where(User.id == 1),
            insert(User).values(name="a"),
            update(User).where(User.id == 1).values(name="b"),
            delete(User).where(User.id == 1),
            select(Event.id).join(User, User.id == Event.user_id),
        ]
        for statement in statements:
            with self.subTest(str(statement)):
                self.session_history.clear()
                await self.session.execute(statement)
                self.assertExecuted(User)
                self.assertExecuted(User.__table__)

    async def test_mapped_class_does_not_see_into_text(self):
        # text() carries no table metadata: match it by its SQL string or a regex
        await self.session.execute(text("SELECT name FROM users"))
        self.assertNotExecuted(User)
        self.assertExecuted(re.compile("FROM users"))

    async def test_params_from_bound_values(self):
        await self.session.execute(select(User.id).where(User.id == 5))
        self.assertExecuted(User, params={"id_1": 5})
        self.assertNotExecuted(select(User.id).where(User.id == 6))
        self.assertFailureText(
            lambda msg: self.assertExecuted(User, msg, params={"id_1": 6}),
            "Expected a statement matching <any statement on User> with params {'id_1': 6} "
            "to be executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id FROM users WHERE users.id = 5   <- closest: params: id_1 = 5, "
            "expected 6",
        )

    async def test_params_passed_to_execute(self):
        query = text("SELECT name FROM users WHERE id = :id")
        await self.session.execute(query, {"id": 4})
        self.assertExecuted(query, params={"id": 4})
        self.assertExecuted("SELECT name FROM users WHERE id = :id", params={"id": 4})
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuted(re.compile("FROM users"), params={"user": 4})
        self.assertEqual(
            str(cm.exception),
            "Expected a statement matching <regex 'FROM users'> with params {'user': 4} to be "
            "executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT name FROM users WHERE id = :id {'id': 4}   <- closest: params: no "
            "parameter 'user'",
        )

    async def test_params_merge_bound_values_and_execute_params(self):
        query = select(User.id).where(User.id == bindparam("uid"), User.name == "a")
        await self.session.execute(query, {"uid": 5})
        self.assertExecuted(User, params={"uid": 5, "name_1": "a"})

    async def test_params_of_executemany_are_lists_per_key(self):
        rows = [{"name": "a"}, {"name": "b"}, {"name": "c"}]
        await self.session.execute(insert(User), rows)
        self.assertExecuted(insert(User), params={"name": ["a", "b", "c"]})
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuted(insert(User), params={"name": ["a", "b"]})
        self.assertEqual(
            str(cm.exception),
            "Expected a statement matching <INSERT INTO users (id, name) VALUES (:id, :name)> "
            "with params {'name': ['a', 'b']} to be executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. INSERT INTO users (id, name) VALUES (:id, :name) [{'name': 'a'}, {'name': "
            "'b'}, {'name': 'c'}]   <- closest: params: name = ['a', 'b', 'c'], expected "
            "['a', 'b']",
        )

    async def test_unsupported_forms_raise_type_error_at_the_call(self):
        for wrong, shown in [
            (5, "5 (int)"),
            (None, "None (NoneType)"),
            (b"SELECT 1", "b'SELECT 1' (bytes)"),
            (["SELECT 1"], "['SELECT 1'] (list)"),
            (int, "<class 'int'> (type)"),
        ]:
            for name in ("assertExecuted", "assertExecutedOnce", "assertNotExecuted"):
                with self.subTest(name, wrong=wrong):
                    with self.assertRaises(TypeError) as cm:
                        getattr(self, name)(wrong)
                    self.assertEqual(
                        str(cm.exception),
                        f"{name}(): statement: cannot match statements against {shown}; give "
                        "a SQLAlchemy statement, a SQL string, a compiled re.Pattern, a mapped "
                        "class or a Table",
                    )

    async def test_params_must_be_a_dict(self):
        for name in ("assertExecuted", "assertExecutedOnce"):
            with self.subTest(name):
                with self.assertRaises(TypeError) as cm:
                    getattr(self, name)(User, params=[("id", 5)])
                self.assertEqual(
                    str(cm.exception), f"{name}(): params must be a dict, got [('id', 5)]"
                )

    async def test_bytes_pattern_is_rejected_at_the_call(self):
        # A bytes pattern is rejected at the call with a TypeError naming the argument, even
        # when nothing was executed.
        with self.assertRaises(TypeError) as caught:
            self.assertNotExecuted(re.compile(b"DELETE"))
        self.assertEqual(
            str(caught.exception),
            "assertNotExecuted(): statement: re.compile(b'DELETE') is a bytes pattern, but it is "
            "searched in the SQL text, a str; compile it from a str, e.g. re.compile('DELETE')",
        )

    async def test_column_expression_is_rejected_at_the_call(self):
        # A bare criterion such as User.id == 5 is not a statement: it is rejected with a
        # TypeError rather than silently never matching.
        await self.session.execute(select(User).where(User.id == 5))
        with self.assertRaises(TypeError):
            self.assertNotExecuted(User.id == 5)


class AssertionTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    async def test_issue_example_message(self):
        await self.session.execute(select(User.id, User.name).where(User.id == 6))
        await self.session.execute(update(User).where(User.id == 6).values(name="b"))
        self.assertFailureText(
            lambda msg: self.assertExecutedOnce(
                select(User.id, User.name).where(User.id == 5), msg
            ),
            "Expected a statement matching <SELECT users.id, users.name FROM users WHERE "
            "users.id = 5> to be executed once; it was executed 0 times.\n"
            "Statements executed (2):\n"
            "1. SELECT users.id, users.name FROM users WHERE users.id = 6   <- closest: "
            "users.id = 6, expected 5\n"
            "2. UPDATE users SET name='b' WHERE users.id = 6",
        )

    async def test_assert_executed(self):
        await self.session.execute(delete(User).where(User.id == 3))
        await self.session.scalars(select(User.id).where(User.name == "a"))
        self.assertExecuted(delete(User).where(User.id == 3))
        self.assertFailureText(
            lambda msg: self.assertExecuted(select(User.id).where(User.name == "b"), msg),
            "Expected a statement matching <SELECT users.id FROM users WHERE users.name = "
            "'b'> to be executed; it was not executed.\n"
            "Statements executed (2):\n"
            "1. DELETE FROM users WHERE users.id = 3\n"
            "2. SELECT users.id FROM users WHERE users.name = 'a'  [scalars]   <- closest: "
            "users.name = 'a', expected 'b'",
        )

    async def test_closest_prefers_same_statement_over_same_table(self):
        await self.session.execute(select(User.name))
        await self.session.execute(select(User.id).where(User.id == 1))
        await self.session.execute(select(Event.__table__.c.id))
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuted(select(User.id).where(User.id == 2))
        self.assertEqual(
            str(cm.exception),
            "Expected a statement matching <SELECT users.id FROM users WHERE users.id = 2> to "
            "be executed; it was not executed.\n"
            "Statements executed (3):\n"
            "1. SELECT users.name FROM users\n"
            "2. SELECT users.id FROM users WHERE users.id = 1   <- closest: users.id = 1, "
            "expected 2\n"
            "3. SELECT events.id FROM events",
        )

    async def test_statements_on_other_entities_do_not_break_the_matcher(self):
        # compare() between ORM selects of different entities raises inside SQLAlchemy (1.4, 2.0
        # and 2.1); the matcher guards it, so select(User...) assertions still work after
        # select(Event...) was executed.
        await self.session.execute(select(Event.id))
        self.assertNotExecuted(select(User.id))
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuted(select(User.id))
        self.assertEqual(
            str(cm.exception),
            "Expected a statement matching <SELECT users.id FROM users> to be executed; it was "
            "not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT events.id FROM events",
        )

    async def test_closest_on_same_table_says_a_different_statement(self):
        await self.session.execute(select(User))
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuted(select(User.__table__))
        self.assertEqual(
            str(cm.exception),
            "Expected a statement matching <SELECT users.id, users.name FROM users> to be "
            "executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id, users.name FROM users   <- closest: the same SQL, built "
            "differently: compare() tells ORM and Core statements apart (select(User.id) is not "
            "select(users.c.id))",
        )

    async def test_assert_executed_with_nothing_executed(self):
        self.assertFailureText(
            lambda msg: self.assertExecuted(User, msg),
            "Expected a statement matching <any statement on User> to be executed; it was not "
            "executed.\n"
            "No statements were executed.",
        )

    async def test_assert_executed_once(self):
        query = select(User.id).where(User.id == 1)
        await self.session.execute(query)
        self.assertExecutedOnce(query)
        await self.session.execute(select(User.id).where(User.id == 1))
        self.assertFailureText(
            lambda msg: self.assertExecutedOnce(query, msg),
            "Expected a statement matching <SELECT users.id FROM users WHERE users.id = 1> to "
            "be executed once; it was executed 2 times.\n"
            "Statements executed (2):\n"
            "1. SELECT users.id FROM users WHERE users.id = 1   <- matches\n"
            "2. SELECT users.id FROM users WHERE users.id = 1   <- matches",
        )

    async def test_assert_executed_once_with_params(self):
        await self.session.execute(insert(User), [{"name": "a"}])
        await self.session.execute(insert(User), [{"name": "b"}])
        self.assertExecutedOnce(insert(User), params={"name": ["b"]})

    async def test_assert_not_executed(self):
        await self.session.execute(select(User.id))
        await self.session.execute(select(Event.id))
        await self.session.execute(update(User).values(name="x"))
        self.assertNotExecuted(delete(User))
        self.assertFailureText(
            lambda msg: self.assertNotExecuted(User, msg),
            "Expected no statement matching <any statement on User> to be executed; it was "
            "executed 2 times.\n"
            "Statements executed (3):\n"
            "1. SELECT users.id FROM users   <- matches\n"
            "2. SELECT events.id FROM events\n"
            "3. UPDATE users SET name='x'   <- matches",
        )

    async def test_assert_not_executed_once(self):
        await self.session.execute(select(Event.id))
        with self.assertRaises(self.failureException) as cm:
            self.assertNotExecuted(Event)
        self.assertEqual(
            str(cm.exception),
            "Expected no statement matching <any statement on Event> to be executed; it was "
            "executed 1 time.\n"
            "Statements executed (1):\n"
            "1. SELECT events.id FROM events   <- matches",
        )

    async def test_assert_execute_count(self):
        self.assertExecuteCount(0)
        self.assertFailureText(
            lambda msg: self.assertExecuteCount(1, msg),
            "Expected 1 statement to be executed; 0 were executed.\nNo statements were executed.",
        )
        await self.session.execute(select(User.id))
        await self.session.scalar(select(User.name))
        self.assertExecuteCount(2)
        self.assertFailureText(
            lambda msg: self.assertExecuteCount(1, msg),
            "Expected 1 statement to be executed; 2 were executed.\n"
            "Statements executed (2):\n"
            "1. SELECT users.id FROM users\n"
            "2. SELECT users.name FROM users  [scalar]",
        )

    async def test_assert_execute_count_one_was(self):
        await self.session.execute(select(User.id))
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuteCount(3)
        self.assertEqual(
            str(cm.exception),
            "Expected 3 statements to be executed; 1 was executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id FROM users",
        )

    async def test_assert_num_statements_counts_the_block_only(self):
        await self.session.execute(select(User.id))
        with self.assertNumStatements(2):
            await self.session.execute(select(User.name))
            await self.session.execute(select(Event.id))
        with self.assertNumStatements(0):
            self.session.add(User(name="a"))

    async def test_assert_num_statements_failure(self):
        await self.session.execute(select(User.id))

        async def block(msg):
            with self.assertNumStatements(2, msg):
                await self.session.execute(select(User.name))

        expected = (
            "Expected 2 statements to be executed in the block; 1 was executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.name FROM users"
        )
        for long_message, msg, wanted in [
            (True, None, expected),
            (False, None, expected),
            (True, "note", expected + " : note"),
            (False, "note", "note"),
        ]:
            self.longMessage = long_message
            with self.subTest(longMessage=long_message, msg=msg):
                with self.assertRaises(self.failureException) as cm:
                    await block(msg)
                self.assertEqual(str(cm.exception), wanted)
        self.longMessage = True

    async def test_assert_num_statements_lets_the_blocks_error_through(self):
        with self.assertRaisesRegex(LookupError, "no such user"):
            with self.assertNumStatements(5):
                await self.session.execute(select(User.id))
                raise LookupError("no such user")

    async def test_count_arguments_are_checked(self):
        for name in ("assertExecuteCount", "assertNumStatements"):
            for wrong in (-1, True, "2", 2.0, None):
                with self.subTest(name, wrong=wrong):
                    with self.assertRaises(TypeError) as cm:
                        getattr(self, name)(wrong)
                    self.assertEqual(
                        str(cm.exception),
                        f"{name}(): expected must be a non-negative int, got {wrong!r}",
                    )


class NeverAwaitedStatementTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    check_awaited = False

    async def test_unawaited_execution_does_not_count(self):
        query = select(User.id).where(User.id == 1)
        self.session.execute(query).close()
        self.assertNotExecuted(query)
        self.assertExecuteCount(0)
        self.assertFailureText(
            lambda msg: self.assertExecuted(query, msg),
            "Expected a statement matching <SELECT users.id FROM users WHERE users.id = 1> to "
            "be executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id FROM users WHERE users.id = 1  [never awaited]   <- matches, "
            "but was never awaited",
        )

    async def test_unawaited_execution_in_count_and_block(self):
        with self.assertNumStatements(1):
            await self.session.execute(select(User.id))
            self.session.scalars(select(User.name)).close()
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuteCount(2)
        self.assertEqual(
            str(cm.exception),
            "Expected 2 statements to be executed; 1 was executed.\n"
            "Statements executed (2):\n"
            "1. SELECT users.id FROM users\n"
            "2. SELECT users.name FROM users  [scalars]  [never awaited]",
        )


class RenderingTest(asyncsessiontest.AsyncSessionTestCase):
    maxDiff = None

    async def test_sql_renders_values_of_each_kind_of_statement(self):
        cases = [
            (select(User.id, User.name).where(User.id == 5), None,
             "SELECT users.id, users.name FROM users WHERE users.id = 5"),
            (select(User.id).where(User.id.in_([1, 2, 3])), None,
             "SELECT users.id FROM users WHERE users.id IN (1, 2, 3)"),
            (select(User.id).where(User.name.in_(["a", "b"])), None,
             "SELECT users.id FROM users WHERE users.name IN ('a', 'b')"),
            (insert(User).values(id=1, name="a"), None,
             "INSERT INTO users (id, name) VALUES (1, 'a')"),
            (insert(User), [{"name": "a"}, {"name": "b"}],
             "INSERT INTO users (id, name) VALUES (:id, :name) [{'name': 'a'}, {'name': 'b'}]"),
            (update(User).where(User.id == 5).values(name="new"), None,
             "UPDATE users SET name='new' WHERE users.id = 5"),
            (update(User.__table__).where(User.__table__.c.id == 5).values(name="new"), None,
             "UPDATE users SET name='new' WHERE users.id = 5"),
            (delete(User).where(User.id == 5), None, "DELETE FROM users WHERE users.id = 5"),
            (delete(User).where(User.id.in_([5, 6])), None,
             "DELETE FROM users WHERE users.id IN (5, 6)"),
            (text("SELECT name FROM users WHERE id = :id"), {"id": 4},
             "SELECT name FROM users WHERE id = :id {'id': 4}"),
            (text("SELECT name FROM users WHERE id = :id").bindparams(id=4), None,
             "SELECT name FROM users WHERE id = 4"),
            (insert(Event).values(id=1, day=datetime.date(2024, 1, 31)), None,
             "INSERT INTO events (id, day) VALUES (1, '2024-01-31')"),
            (update(Event).where(Event.at < datetime.datetime(2024, 1, 31, 12, 30))
             .values(day=None), None,
             "UPDATE events SET day=NULL WHERE events.at < '2024-01-31 12:30:00'"),
            (insert(Event).values(id=1, payload={"a": [1, 2]}), None,
             "INSERT INTO events (id, payload) VALUES (:id, :payload) "
             "{'id': 1, 'payload': {'a': [1, 2]}}"),
            (select(Event.id).where(Event.payload == {"k": "v"}), None,
             "SELECT events.id FROM events WHERE events.payload = :payload_1 "
             "{'payload_1': {'k': 'v'}}"),
        ]  # fmt: skip
        for statement, params, _ in cases:
            await self.session.execute(statement, params)
        for op, (_, _, expected) in zip(self.executed_statements, cases):
            with self.subTest(expected):
                self.assertEqual(op.sql, expected)

    async def test_orm_enabled_update_and_delete(self):
        await self.session.execute(
            update(User).where(User.name == "old").values(name="new"),
            execution_options={"synchronize_session": False},
        )
        await self.session.execute(delete(User).where(User.id.in_([1, 2])))
        update_op, delete_op = self.executed_statements
        self.assertEqual(update_op.sql, "UPDATE users SET name='new' WHERE users.name = 'old'")
        self.assertEqual(update_op.execution_options, {"synchronize_session": False})
        self.assertEqual(delete_op.sql, "DELETE FROM users WHERE users.id IN (1, 2)")
        self.assertExecuted(update(User).where(User.name == "old").values(name="new"))
        self.assertExecuted(delete(User).where(User.id.in_([1, 2])))
        self.assertNotExecuted(delete(User).where(User.id.in_([1, 3])))
        self.assertExecuted(User, params={"name": "new", "name_1": "old"})
        self.assertExecuted(User, params={"id_1": [1, 2]})

    async def test_rendering_never_raises(self):
        # values to columns that do not exist: the statement cannot compile at all
        broken = insert(User).values(nonexistent=1)
        await self.session.execute(broken)
        self.assertEqual(
            self.executed_statements[0].sql,
            "<Insert that cannot be rendered: Unconsumed column names: nonexistent>",
        )
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuteCount(0)
        self.assertEqual(
            str(cm.exception),
            "Expected 0 statements to be executed; 1 was executed.\n"
            "Statements executed (1):\n"
            "1. <Insert that cannot be rendered: Unconsumed column names: nonexistent>",
        )

    async def test_long_lists_are_cut(self):
        for n in range(25):
            await self.session.execute(select(User.id).where(User.id == n))
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuteCount(0)
        lines = str(cm.exception).splitlines()
        self.assertEqual(lines[:2], [
            "Expected 0 statements to be executed; 25 were executed.",
            "Statements executed (25):",
        ])  # fmt: skip
        self.assertEqual(
            lines[2:],
            [f"{n + 1}. SELECT users.id FROM users WHERE users.id = {n}" for n in range(20)]
            + ["... and 5 more, not shown."],
        )

    async def test_twenty_statements_are_all_shown(self):
        for n in range(20):
            await self.session.execute(select(User.id).where(User.id == n))
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuteCount(0)
        self.assertEqual(
            str(cm.exception).splitlines()[-1], "20. SELECT users.id FROM users WHERE users.id = 19"
        )

    async def test_long_sql_is_cut(self):
        sql = "SELECT " + ", ".join(f"column_number_{n}" for n in range(40)) + " FROM wide"
        await self.session.execute(text(sql))
        await self.session.execute(text(sql[:500]))
        self.assertGreater(len(sql), 500)
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuteCount(0)
        self.assertEqual(
            str(cm.exception),
            "Expected 0 statements to be executed; 2 were executed.\n"
            "Statements executed (2):\n"
            f"1. {sql[:500]}... ({len(sql) - 500} more characters)\n"
            f"2. {sql[:500]}",
        )


class PostgresqlDialectTest(asyncsessiontest.AsyncSessionTestCase):
    sql_dialect = "postgresql"
    maxDiff = None

    async def test_sql_is_rendered_for_postgresql(self):
        await self.session.execute(select(User.id).where(User.name.regexp_match("^a")))
        await self.session.execute(select(User.id).with_for_update(skip_locked=True))
        first, second = self.executed_statements
        self.assertEqual(first.sql, "SELECT users.id FROM users WHERE users.name ~ '^a'")
        self.assertEqual(second.sql, "SELECT users.id FROM users FOR UPDATE SKIP LOCKED")

    async def test_failure_message_shows_postgresql_sql(self):
        await self.session.execute(select(User.id).where(User.name.regexp_match("^a")))
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuted(select(User.id).where(User.name.regexp_match("^b")))
        self.assertEqual(
            str(cm.exception),
            "Expected a statement matching <SELECT users.id FROM users WHERE users.name ~ "
            "'^b'> to be executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id FROM users WHERE users.name ~ '^a'   <- closest: "
            "users.name REGEXP MATCH '^a', expected '^b'",
        )

    async def test_json_falls_back_to_postgresql_placeholders_and_params(self):
        statement = insert(Event).values(id=1, payload={"a": [1, 2]})
        await self.session.execute(statement)
        # the placeholders' casts differ between SQLAlchemy versions: take them from SQLAlchemy
        placeholders = " ".join(str(statement.compile(dialect=postgresql.dialect())).split())
        self.assertIn("%(payload)s", placeholders)
        self.assertEqual(
            self.executed_statements[0].sql,
            placeholders + " {'id': 1, 'payload': {'a': [1, 2]}}",
        )

    async def test_percent_sign_is_shown_as_postgresql_receives_it(self):
        # A percent sign is shown once, as PostgreSQL receives it, not doubled as in the
        # psycopg paramstyle ("users.id %% 2").
        await self.session.execute(select(User.id).where(User.id % 2 == 1))
        self.assertEqual(
            self.executed_statements[0].sql, "SELECT users.id FROM users WHERE users.id % 2 = 1"
        )


class DialectSettingTest(asyncsessiontest.AsyncSessionTestCase):
    sql_dialect = postgresql.dialect()

    async def test_dialect_instance(self):
        await self.session.execute(select(User.id).with_for_update(skip_locked=True))
        self.assertEqual(
            self.executed_statements[0].sql, "SELECT users.id FROM users FOR UPDATE SKIP LOCKED"
        )

    def test_default_dialect_is_sqlalchemys_string_dialect(self):
        class Inner(asyncsessiontest.AsyncSessionTestCase):
            async def test_it(self):
                self.assertIsNone(self.sql_dialect)
                await self.session.execute(select(User.id).with_for_update(skip_locked=True))
                self.assertEqual(
                    self.executed_statements[0].sql, "SELECT users.id FROM users FOR UPDATE"
                )

        result = _run(Inner)
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)

    def test_wrong_dialect_setting_is_a_type_error(self):
        class Inner(asyncsessiontest.AsyncSessionTestCase):
            sql_dialect = 5

            async def test_it(self):
                pass  # never runs: setUp fails

        result = _run(Inner)
        self.assertEqual(len(result.errors), 1)
        self.assertTrue(
            result.errors[0][1].endswith(
                "TypeError: Inner.sql_dialect must be a dialect instance, a dialect name such as "
                "'postgresql', or None; got 5\n"
            ),
            result.errors[0][1],
        )


class UnboundPlaceholderTest(asyncsessiontest.AsyncSessionTestCase):
    async def test_expected_text_statement_keeps_its_placeholder(self):
        # An expected statement whose placeholder has no value is shown with the placeholder
        # kept, as str() shows it, not rendered as a literal NULL.
        query = text("SELECT name FROM users WHERE id = :id")
        await self.session.execute(query, {"id": 3})
        with self.assertRaises(self.failureException) as cm:
            self.assertExecuted(query, params={"id": 4})
        self.assertEqual(
            str(cm.exception).splitlines()[0],
            "Expected a statement matching <SELECT name FROM users WHERE id = :id> with params "
            "{'id': 4} to be executed; it was not executed.",
        )


class TracebackTest(asyncsessiontest.AsyncSessionTestCase):
    """A failing assertion's traceback ends at the test's own line, not in the package."""

    def test_traceback_points_at_the_failing_line(self):
        cases = [
            ("assertExecuted", lambda t: t.assertExecuted(User), _line()),
            ("assertExecutedOnce", lambda t: t.assertExecutedOnce("SELECT 1"), _line()),
            ("assertNotExecuted", lambda t: t.assertNotExecuted(Event), _line()),
            ("assertExecuteCount", lambda t: t.assertExecuteCount(2), _line()),
        ]
        for name, assertion, line in cases:
            with self.subTest(name):

                class Inner(asyncsessiontest.AsyncSessionTestCase):
                    async def test_it(self, assertion=assertion):
                        await self.session.execute(select(Event.id))
                        assertion(self)

                result = _run(Inner)
                self.assertEqual(len(result.failures), 1, result.errors)
                text_ = result.failures[0][1]
                self.assertEqual(_last_frame(text_), (__file__, line), text_)
                self.assertNotIn(CASE_PY, text_)

    def test_traceback_of_a_strict_mode_failure_points_at_the_execution(self):
        lines = {}

        class Inner(asyncsessiontest.AsyncSessionTestCase):
            strict = True

            async def test_it(self):
                lines["execute"] = _line() + 1
                await self.session.execute(select(Event.id))

        result = _run(Inner)
        self.assertEqual(len(result.failures), 1, result.errors)
        text_ = result.failures[0][1]
        self.assertEqual(_last_frame(text_), (__file__, lines["execute"]), text_)
        self.assertNotIn("asyncsessiontest/", text_.split("Error:")[0])

    def test_traceback_of_assert_num_statements_points_at_the_block(self):
        lines = {}

        class Inner(asyncsessiontest.AsyncSessionTestCase):
            async def test_it(self):
                lines["with"] = _line() + 1
                with self.assertNumStatements(2):
                    await self.session.execute(select(Event.id))
                    lines["last"] = _line()

        result = _run(Inner)
        self.assertEqual(len(result.failures), 1, result.errors)
        text_ = result.failures[0][1]
        # Python 3.10 reports a failing __exit__ at the with statement, 3.8 and 3.9 at the
        # block's last line
        line = lines["with"] if sys.version_info >= (3, 10) else lines["last"]
        self.assertEqual(_last_frame(text_), (__file__, line), text_)
        self.assertNotIn(CASE_PY, text_)


if __name__ == "__main__":
    unittest.main()
