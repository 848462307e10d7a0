"""The session over a test's life: recovery after rollback, closing ends transactions,
reset_mock() forgets the record, a misspelt sql_dialect is named, and nothing a test sets on
its session's type (or its methods' types) reaches another test."""

import asyncio
import threading
import unittest
from unittest.mock import MagicMock, PropertyMock

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from asyncsessiontest import AsyncSessionTestCase
from asyncsessiontest import session as session_module
from tests.support import User, run_tests


def _integrity_error():
    return IntegrityError("INSERT INTO users (name) VALUES (?)", ("a",), Exception("UNIQUE"))


class RecoveryTest(AsyncSessionTestCase):
    async def test_a_begin_block_left_by_a_failed_flush_leaves_a_usable_session(self):
        self.session.flush.side_effect = [_integrity_error(), None]
        with self.assertRaises(IntegrityError):
            async with self.session.begin():
                await self.session.flush()
        await self.session.execute(select(User))  # no PendingRollbackError: the block rolled back
        self.assertRolledBack()

    async def test_a_savepoint_rollback_also_recovers(self):
        self.session.flush.side_effect = [_integrity_error(), None]
        async with self.session.begin():
            with self.assertRaises(IntegrityError):
                async with self.session.begin_nested():
                    await self.session.flush()
            await self.session.flush()
        self.assertCommitted()

    async def test_without_rollback_the_session_refuses(self):
        self.session.flush.side_effect = [_integrity_error(), None]
        with self.assertRaises(IntegrityError):
            await self.session.flush()
        with self.assertRaises(PendingRollbackError):
            await self.session.execute(text("SELECT 1"))

    async def test_leaving_async_with_session_ends_its_transaction(self):
        async with self.session as session:
            await session.begin()
            self.assertTrue(session.in_transaction())
        self.assertFalse(self.session.in_transaction())
        self.assertClosed()


class ResetMockTest(AsyncSessionTestCase):
    async def test_reset_mock_forgets_what_the_assertions_read(self):
        await self.session.commit()
        await self.session.execute(select(User))
        self.session.reset_mock()

        self.assertNotCommitted()
        self.assertExecuteCount(0)
        self.assertEqual(list(self.session_history), [])
        self.session.commit.assert_not_awaited()

    async def test_resetting_one_method_keeps_the_record(self):
        await self.session.commit()
        self.session.commit.reset_mock()
        self.assertCommitted()


class FailedBlockCommitMessageTest(AsyncSessionTestCase):
    async def test_the_reason_names_the_block_commit_that_raised(self):
        error = _integrity_error()
        self.session.commit.side_effect = error
        with self.assertRaises(IntegrityError):
            async with self.session.begin():
                pass
        with self.assertRaises(self.failureException) as caught:
            self.assertCommitted()
        first_line = str(caught.exception).splitlines()[0]
        self.assertEqual(
            first_line,
            "Expected a commit; transaction: commit raised IntegrityError: "
            "(builtins.Exception) UNIQUE ...",
        )


class DialectNameTest(unittest.TestCase):
    def test_a_misspelt_dialect_name_is_a_value_error_naming_the_attribute(self):
        class Inner(AsyncSessionTestCase):
            sql_dialect = "postgrsql"

            async def test_it(self):
                pass

        result = run_tests(Inner("test_it"))
        self.assertEqual(len(result.errors), 1)
        self.assertIn(
            "ValueError: Inner.sql_dialect: no SQLAlchemy dialect named 'postgrsql'",
            result.errors[0][1],
        )


def _set_on_the_types(test):
    """What a test sets on its session's type and on the type of one of its methods."""
    type(test.session).is_active = PropertyMock(return_value=False)
    type(test.session).dirty = PropertyMock(return_value={"changed"})
    type(test.session).bind = PropertyMock(return_value="the test's engine")
    type(test.session.execute).return_value = PropertyMock(return_value="configured")
    type(test.session.execute).marker = "set by the first test"


def _check_the_stock_session(test):
    """What a test sees of a session nobody configured."""
    test.assertIs(test.session.is_active, True)
    test.assertEqual(len(test.session.dirty), 0)
    test.assertNotEqual(test.session.bind, "the test's engine")
    test.assertIsInstance(test.session.execute.return_value, MagicMock)
    test.assertFalse(hasattr(type(test.session.execute), "marker"))


class TypeIsolationTest(unittest.TestCase):
    """``type(self.session).x = PropertyMock(...)`` is unittest.mock's documented way to mock a
    property: it stays with the test that did it."""

    def test_a_property_mock_on_the_session_type_answers_within_the_test(self):
        class Inner(AsyncSessionTestCase):
            async def test_it(self):
                is_active = PropertyMock(return_value=False)
                type(self.session).is_active = is_active
                self.assertIs(self.session.is_active, False)
                is_active.assert_called_once_with()
                type(self.session).dirty = PropertyMock(return_value={"changed"})
                self.assertEqual(self.session.dirty, {"changed"})

        result = run_tests(Inner("test_it"))
        self.assertEqual(result.errors + result.failures, [])

    def test_what_a_test_sets_on_the_types_never_reaches_a_later_test(self):
        class Inner(AsyncSessionTestCase):
            async def test_1_sets(self):
                _set_on_the_types(self)
                self.assertIs(self.session.is_active, False)
                self.assertEqual(self.session.dirty, {"changed"})
                self.assertEqual(self.session.bind, "the test's engine")
                self.assertEqual(self.session.execute.return_value, "configured")

            async def test_2_sees_the_stock_session(self):
                _check_the_stock_session(self)
                await self.session.execute(select(User))  # the method's real answer
                self.assertExecutedOnce(select(User))

        result = run_tests(Inner("test_1_sets"), Inner("test_2_sees_the_stock_session"))
        self.assertEqual(result.errors + result.failures, [])
        self.assertEqual(result.testsRun, 2)

    def test_nor_a_test_of_another_class_run_by_the_same_runner(self):
        class First(AsyncSessionTestCase):
            async def test_sets(self):
                _set_on_the_types(self)

        class Second(AsyncSessionTestCase):
            async def test_sees_the_stock_session(self):
                _check_the_stock_session(self)

        result = run_tests(First("test_sets"), Second("test_sees_the_stock_session"))
        self.assertEqual(result.errors + result.failures, [])

    def test_nor_a_test_running_at_the_same_time_in_another_thread(self):
        # as under unittest-parallel --thread: both sessions exist while one test sets
        types_set, checked = threading.Event(), threading.Event()

        async def wait_for(event):
            waited = await asyncio.get_running_loop().run_in_executor(None, event.wait, 10)
            if not waited:
                raise AssertionError("the other thread's test never got there")

        class Setter(AsyncSessionTestCase):
            async def test_sets(self):
                self.session  # noqa: B018 (the session exists before the other test looks)
                await wait_for(reader_ready)
                _set_on_the_types(self)
                types_set.set()
                await wait_for(checked)
                self.assertIs(self.session.is_active, False)

        class Reader(AsyncSessionTestCase):
            async def test_sees_the_stock_session(self):
                self.session  # noqa: B018
                reader_ready.set()
                await wait_for(types_set)
                try:
                    _check_the_stock_session(self)
                finally:
                    checked.set()

        reader_ready = threading.Event()
        results = {}
        threads = [
            threading.Thread(target=lambda: results.update(setter=run_tests(Setter("test_sets")))),
            threading.Thread(
                target=lambda: results.update(
                    reader=run_tests(Reader("test_sees_the_stock_session"))
                )
            ),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        for name in ("setter", "reader"):
            self.assertEqual(results[name].errors + results[name].failures, [], name)

    def test_a_class_left_unchanged_serves_the_next_tests(self):
        # what keeps the isolation cheap: a class is made for a session (or a method's mock)
        # once, not for every test: the classes lent stay as many as the tests that ran
        class Inner(AsyncSessionTestCase):
            async def test_it(self):
                await self.session.execute(select(User))
                self.session.add(User(id=1))

        def classes_made():
            return sum(len(pool.free) for pool in session_module._POOLS.values())

        run_tests(Inner("test_it"))
        before = classes_made()
        for _ in range(20):
            run_tests(Inner("test_it"))
        self.assertEqual(classes_made(), before)

if __name__ == "__main__":
    unittest.main()
