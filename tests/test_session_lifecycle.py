"""The session over a test's life: recovery after rollback, closing ends transactions,
reset_mock() forgets the record, and a misspelt sql_dialect is named."""

import unittest

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from asyncsessiontest import AsyncSessionTestCase
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


if __name__ == "__main__":
    unittest.main()
