"""``await session.connection()``: a connection whose executions answer as the session's do."""

import sys
import unittest

from sqlalchemy import insert, select, text
from sqlalchemy.engine import Result
from sqlalchemy.exc import ArgumentError, ObjectNotExecutableError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncResult

from asyncsessiontest import AsyncSessionTestCase
from tests.support import User, real_session


class ConnectionTest(AsyncSessionTestCase):
    maxDiff = None

    async def test_it_is_an_async_connection_and_the_same_one_each_time(self):
        connection = await self.session.connection()

        self.assertIsInstance(connection, AsyncConnection)
        self.assertIs(await self.session.connection(), connection)
        self.assertTrue(self.session.in_transaction())

    async def test_its_executions_answer_from_the_routes_with_real_results(self):
        statement = select(User.id).where(User.id == 5)
        self.addResult([(5,)], statement=statement, times=None)
        connection = await self.session.connection()

        result = await connection.execute(statement)
        self.assertIsInstance(result, Result)
        self.assertEqual(result.scalar(), 5)
        self.assertEqual(await connection.scalar(statement), 5)
        self.assertEqual((await connection.scalars(statement)).all(), [5])
        streamed = await connection.stream(statement)
        self.assertIsInstance(streamed, AsyncResult)
        self.assertEqual(await streamed.all(), [(5,)])
        self.assertEqual(await (await connection.stream_scalars(statement)).all(), [5])

    async def test_unconfigured_they_answer_as_an_empty_database(self):
        connection = await self.session.connection()

        self.assertEqual((await connection.execute(select(User.id))).all(), [])
        self.assertEqual((await connection.execute(insert(User), [{"name": "a"}])).rowcount, 1)

    async def test_they_are_in_the_history_where_the_assertions_see_them(self):
        statement = select(User.id).where(User.id == 5)
        connection = await self.session.connection()
        line = sys._getframe().f_lineno + 1
        await connection.execute(statement)
        await connection.scalar(select(User.name), {"x": 1})

        self.assertExecutedOnce(statement)
        executed = self.executed_statements[0]
        self.assertEqual(executed.method, "connection.execute")
        self.assertEqual(self.executed_statements[1].params, {"x": 1})
        self.assertEqual(executed.location, (__file__, line))
        self.assertEqual(
            [op.describe_call() for op in self.session_history],
            [
                "connection()",
                "connection.execute(SELECT users.id FROM users WHERE users.id = 5)",
                "connection.scalar(SELECT users.name FROM users {'x': 1})",
            ],
        )
        with self.assertRaises(self.failureException) as caught:
            self.assertNotExecuted(statement)
        self.assertIn("[connection.execute]", str(caught.exception))

    async def test_an_added_exception_is_raised_and_recorded(self):
        self.addException(LookupError("gone"))
        connection = await self.session.connection()

        with self.assertRaises(LookupError):
            await connection.execute(select(User))
        self.assertIsInstance(self.executed_statements[0].error, LookupError)

    async def test_other_methods_are_the_mock_s(self):
        connection = await self.session.connection()

        await connection.run_sync(lambda sync_connection: None)
        connection.run_sync.assert_awaited_once()


class StrictConnectionTest(AsyncSessionTestCase):
    strict = True

    async def test_an_unmatched_execution_fails(self):
        connection = await self.session.connection()

        with self.assertRaises(self.failureException):
            await connection.execute(select(User))
        self._asyncsessiontest.unmatched.clear()  # the failure was the point of the test


class ConnectionMisuseParityTest(AsyncSessionTestCase):
    """Bad input to the connection: refused as a real AsyncConnection refuses it."""

    maxDiff = None

    async def test_refused_as_a_real_connection_refuses(self):
        cases = [
            ("a plain string", ("SELECT 1",), {}),
            ("an int", (5,), {}),
            ("a mapped class", (User,), {}),
            ("a criterion", (User.id == 5,), {}),
            ("params=5", (select(User.id), 5), {}),
            ("an unknown keyword", (select(User.id),), {"foo": 1}),
            ("text", (text("SELECT 1"),), {}),
        ]
        real_outcomes = {}
        async with real_session() as real:
            connection = await real.connection()
            for method in ("execute", "scalar", "scalars", "stream", "stream_scalars"):
                for name, args, kwargs in cases:
                    real_outcomes[method, name] = await outcome(connection, method, args, kwargs)
        connection = await self.session.connection()
        for method in ("execute", "scalar", "scalars", "stream", "stream_scalars"):
            for name, args, kwargs in cases:
                with self.subTest(method=method, case=name):
                    self.assertEqual(
                        await outcome(connection, method, args, kwargs),
                        real_outcomes[method, name],
                    )

    async def test_the_errors_as_text(self):
        connection = await self.session.connection()
        with self.assertRaises(ObjectNotExecutableError) as caught:
            await connection.execute("SELECT 1")
        self.assertEqual(str(caught.exception), "Not an executable object: 'SELECT 1'")
        with self.assertRaises(ArgumentError):
            await connection.execute(select(User.id), 5)
        with self.assertRaises(TypeError) as caught:
            connection.execute(select(User.id), foo=1)  # at the call, as the real one
        self.assertEqual(
            str(caught.exception),
            "AsyncConnection.execute() got an unexpected keyword argument 'foo'"
            if sys.version_info >= (3, 10)
            else "execute() got an unexpected keyword argument 'foo'",
        )


async def outcome(connection, method, args, kwargs):
    """Return ("answered", None) or (exception type, message), the message's first line."""
    try:
        await getattr(connection, method)(*args, **kwargs)
    except Exception as error:
        return type(error), str(error).splitlines()[0]
    return "answered", None


if __name__ == "__main__":
    unittest.main()
