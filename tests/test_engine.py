"""session.bind and get_bind(): real engines with the test's dialect, that do no IO."""

import unittest
from unittest import mock

import sqlalchemy
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from asyncsessiontest import AsyncSessionTestCase
from asyncsessiontest.engine import NO_IO, NoIOAsyncEngine, NoIOEngine
from tests.support import User

NO_IO_TEXT = (
    "asyncsessiontest: the session mock does no IO, so it has no database connection to give "
    "(session.bind, get_bind(), connection() and code run through run_sync() lead to none). "
    "Statements executed through the session, run_sync() included, are answered by the "
    "test's routes (addResult(..., statement=...)); test code that needs a connection of its "
    "own against a real database."
)


class DefaultDialectTest(AsyncSessionTestCase):
    def test_bind_is_an_async_engine_with_sqlalchemys_default_dialect(self):
        bind = self.session.bind
        self.assertIsInstance(bind, AsyncEngine)
        self.assertNotIsInstance(bind, mock.NonCallableMock)
        self.assertIs(type(bind.dialect), DefaultDialect)
        self.assertEqual((bind.name, bind.driver, str(bind.url)), ("default", "default", "default://"))
        self.assertEqual(repr(bind), "NoIOAsyncEngine(default://)")
        self.assertFalse(getattr(bind.dialect, "insert_returning", False))

    def test_get_bind_is_the_sync_engine_of_bind(self):
        sync_bind = self.session.get_bind()
        self.assertIsInstance(sync_bind, Engine)
        self.assertIs(sync_bind, self.session.bind.sync_engine)
        self.assertIs(sync_bind, self.session.sync_session.get_bind())
        self.assertIs(self.session.get_bind(mapper=User), sync_bind)
        self.session.get_bind.assert_called_with(mapper=User)

    def test_a_configured_get_bind_wins(self):
        self.session.get_bind.return_value = "configured"
        self.assertEqual(self.session.get_bind(), "configured")

    @unittest.skipUnless(hasattr(AsyncSession, "get_async_bind"), "SQLAlchemy 2.1's")
    def test_get_async_bind_is_bind(self):
        self.assertIs(self.session.get_async_bind(), self.session.bind)

    def test_execution_options_keep_the_dialect(self):
        bind = self.session.bind.execution_options(isolation_level="SERIALIZABLE")
        self.assertIsInstance(bind, NoIOAsyncEngine)
        self.assertIs(bind.dialect, self.session.bind.dialect)
        self.assertEqual(bind.get_execution_options()["isolation_level"], "SERIALIZABLE")
        sync_bind = self.session.get_bind().execution_options(logging_token="t")
        self.assertIsInstance(sync_bind, NoIOEngine)
        self.assertEqual(sync_bind.get_execution_options()["logging_token"], "t")
        self.assertNotIn("logging_token", self.session.get_bind().get_execution_options())

    def test_the_message_says_the_mock_does_no_io(self):
        self.assertEqual(NO_IO, NO_IO_TEXT)


class ConnectingTest(AsyncSessionTestCase):
    """What would do IO raises: outside a greenlet as production does, inside one saying why."""

    async def test_connect_raises(self):
        with self.assertRaises(InvalidRequestError) as caught:
            async with self.session.bind.connect():
                pass
        self.assertEqual(str(caught.exception), NO_IO_TEXT)

    async def test_connect_with_execution_options_raises(self):
        with self.assertRaises(InvalidRequestError) as caught:
            async with self.session.bind.execution_options(isolation_level="AUTOCOMMIT").connect():
                pass
        self.assertEqual(str(caught.exception), NO_IO_TEXT)
        with self.assertRaises(MissingGreenlet):
            self.session.get_bind().execution_options(logging_token="t").connect()

    async def test_begin_raises(self):
        with self.assertRaises(InvalidRequestError) as caught:
            async with self.session.bind.begin():
                pass
        self.assertEqual(str(caught.exception), NO_IO_TEXT)

    async def test_a_connection_asked_in_run_sync_raises(self):
        with self.assertRaises(InvalidRequestError) as caught:
            await self.session.run_sync(lambda sync_session: sync_session.connection())
        self.assertEqual(str(caught.exception), NO_IO_TEXT)

    async def test_the_sync_engine_from_async_code_raises_missing_greenlet(self):
        # as a real AsyncSession's get_bind().connect() does, called outside a greenlet
        with self.assertRaises(MissingGreenlet):
            self.session.get_bind().connect()

    async def test_executions_are_answered_all_the_same(self):
        self.addResult([User(id=1, name="ann")])
        self.assertEqual((await self.session.scalars(select(User))).one().name, "ann")


class NamedDialectTest(AsyncSessionTestCase):
    sql_dialect = "postgresql"

    def test_bind_has_the_dialect_of_the_messages(self):
        dialect = self.session.bind.dialect
        self.assertEqual(dialect.name, "postgresql")
        self.assertIs(dialect, self._asyncsessiontest_state.dialect)
        self.assertIs(self.session.get_bind().dialect, dialect)
        self.assertEqual(
            getattr(dialect, "insert_returning", None),
            None if sqlalchemy.__version__.startswith("1.") else True,
        )


class DialectInstanceTest(AsyncSessionTestCase):
    sql_dialect = postgresql.dialect()

    def test_bind_has_the_very_dialect_instance(self):
        self.assertIs(self.session.bind.dialect, self.sql_dialect)
        self.assertIs(self.session.sync_session.bind.dialect, self.sql_dialect)


if __name__ == "__main__":
    unittest.main()
