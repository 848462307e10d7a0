"""Tests for the unit-of-work recording and assertions: session_history, assertCommitted & co."""

import os
import re
import sys
import unittest

from sqlalchemy import Column, Integer, String, select
from sqlalchemy.exc import IntegrityError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import declarative_base

import asyncsessiontest
from asyncsessiontest.recording import Operation
from tests.support import FailureTextMixin, make_persistent

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), unique=True)

    def __repr__(self):
        return f"<User {self.name}>"


class Address(Base):
    __tablename__ = "addresses"

    id = Column(Integer, primary_key=True)
    email = Column(String(100))

    def __repr__(self):
        return f"<Address {self.email}>"


class Tag(Base):
    """Equal by value: the assertions must still tell instances apart by identity."""

    __tablename__ = "tags"

    id = Column(Integer, primary_key=True)
    label = Column(String(20))

    def __eq__(self, other):
        return isinstance(other, Tag) and other.label == self.label

    def __hash__(self):
        return hash(self.label)

    def __repr__(self):
        return f"<Tag {self.label}>"


HAS_ACLOSE = hasattr(AsyncSession, "aclose")
HAS_RESET = hasattr(AsyncSession, "reset")
CASE_PY = os.path.join("asyncsessiontest", "case.py")


def _line():
    """Return the number of the caller's current line."""
    return sys._getframe(1).f_lineno


def _integrity_error(detail="UNIQUE constraint failed: users.name"):
    return IntegrityError("INSERT INTO users (name) VALUES (?)", ("a",), Exception(detail))


def _one_line(error):
    """Return how the history and the messages show ``error``: its first line, then ' ...'."""
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" + (" ..." if len(lines) > 1 else "")


def _last_frame(traceback_text):
    """Return (file, line) of the last frame in a formatted traceback."""
    frames = re.findall(r'File "([^"]+)", line (\d+)', traceback_text)
    file_name, line = frames[-1]
    return file_name, int(line)


def _run(test_class, *names):
    """Run the named tests of an inner TestCase class; return the TestResult."""
    result = unittest.TestResult()
    suite = unittest.TestSuite(test_class(name) for name in names or ["test_it"])
    suite.run(result)
    return result


class RecordingTest(asyncsessiontest.AsyncSessionTestCase):
    async def test_every_operation_is_recorded_in_order(self):
        user, other = User(name="a"), User(name="b")
        self.session.add(user)
        self.session.add_all([other])
        await self.session.flush()
        await self.session.refresh(user)
        self.session.expire(user)
        merged = await self.session.merge(other)
        self.session.expunge(other)
        await self.session.delete(user)
        await self.session.commit()
        await self.session.rollback()
        await self.session.close()
        expected = [
            "add", "add_all", "flush", "refresh", "expire", "merge", "expunge", "delete",
            "commit", "rollback", "close",
        ]  # fmt: skip
        if HAS_ACLOSE:
            await self.session.aclose()
            expected.append("aclose")
        if HAS_RESET:
            await self.session.reset()
            expected.append("reset")

        self.assertIs(merged, other)
        self.assertEqual([op.method for op in self.session_history], expected)
        self.assertTrue(all(isinstance(op, Operation) for op in self.session_history))

    async def test_aclose_and_reset_exist_exactly_where_the_real_class_has_them(self):
        for name, present in (("aclose", HAS_ACLOSE), ("reset", HAS_RESET)):
            with self.subTest(name):
                self.assertEqual(hasattr(self.session, name), present)

    async def test_operation_knows_its_arguments(self):
        user = User(name="a")
        self.session.add(user, _warn=False)
        await self.session.refresh(user, ["name"])
        await self.session.merge(user, load=False)

        add, refresh, merge = self.session_history
        self.assertEqual((add.method, add.args, add.kwargs), ("add", (user,), {"_warn": False}))
        self.assertEqual((refresh.args, refresh.kwargs), ((user, ["name"]), {}))
        self.assertEqual((merge.args, merge.kwargs), ((user,), {"load": False}))

    async def test_operation_knows_whether_it_was_awaited(self):
        coroutine = self.session.commit()
        recorded = self.session_history[-1]
        self.assertFalse(recorded.awaited)
        await coroutine
        self.assertTrue(recorded.awaited)
        self.session.add(User(name="a"))
        self.assertFalse(self.session_history[-1].awaited)  # a plain call has nothing to await

    async def test_operation_knows_whether_it_raised(self):
        error = _integrity_error()
        self.session.flush.side_effect = error
        with self.assertRaises(IntegrityError):
            await self.session.flush()
        await self.session.rollback()
        await self.session.commit()

        flush, rollback, commit = self.session_history
        self.assertIs(flush.error, error)
        self.assertTrue(flush.awaited)
        self.assertIsNone(rollback.error)
        self.assertIsNone(commit.error)

    async def test_after_a_failed_flush_nothing_works_until_rollback(self):
        error = _integrity_error()
        self.session.flush.side_effect = error
        with self.assertRaises(IntegrityError):
            await self.session.flush()
        with self.assertRaises(PendingRollbackError) as caught:
            await self.session.commit()
        self.assertEqual(
            str(caught.exception),
            "This Session's transaction has been rolled back due to a previous exception during "
            "flush. To begin a new transaction with this Session, first issue "
            f"Session.rollback(). Original exception was: {error}",
        )
        self.assertIsInstance(self.session_history[-1].error, PendingRollbackError)
        self.session.add(User(name="b"))  # plain methods still work, as on a real session
        await self.session.rollback()
        await self.session.commit()
        self.assertCommitted()

    async def test_history_repr_numbers_operations_one_per_line(self):
        user = User(name="a")
        self.session.add(user)
        await self.session.refresh(user, attribute_names=["name"])
        self.session.commit.side_effect = ValueError("disk full")
        with self.assertRaises(ValueError):
            await self.session.commit()
        await self.session.rollback()
        with self.assertRaises(ValueError):
            async with self.session.begin():
                pass

        self.assertEqual(
            repr(self.session_history),
            "1. add(<User a>)\n"
            "2. refresh(<User a>, attribute_names=['name'])\n"
            "3. commit()  [raised ValueError: disk full]\n"
            "4. rollback()\n"
            "5. begin()\n"
            "6. transaction: begin\n"
            "7. transaction: commit  [raised ValueError: disk full]\n"
            "8. transaction: rollback",
        )

    async def test_empty_history_repr(self):
        self.assertEqual(repr(self.session_history), "<no operations>")

    async def test_history_repr_one_line_per_executed_statement(self):
        # An executed statement is shown on one line, so the numbered history keeps one
        # operation per line.
        await self.session.execute(select(User.id).where(User.id == 5))
        await self.session.commit()
        lines = repr(self.session_history).splitlines()
        self.assertEqual(len(lines), 2, lines)

    async def test_history_repr_one_line_per_failed_operation(self):
        # A multi-line exception (an IntegrityError) is shown on one line, so a failed commit
        # keeps the history at one operation per line.
        self.session.commit.side_effect = _integrity_error()
        with self.assertRaises(IntegrityError):
            await self.session.commit()
        await self.session.rollback()
        lines = repr(self.session_history).splitlines()
        self.assertEqual(len(lines), 2, lines)

    async def test_begin_block_is_recorded_as_transaction_events(self):
        user = User(name="a")
        async with self.session.begin():
            self.session.add(user)
        self.assertEqual(
            [op.method for op in self.session_history],
            ["begin", "transaction: begin", "add", "transaction: commit"],
        )
        self.assertEqual(
            repr(self.session_history),
            "1. begin()\n2. transaction: begin\n3. add(<User a>)\n4. transaction: commit",
        )

    async def test_begin_nested_block_is_recorded_as_savepoint_events(self):
        async with self.session.begin():
            async with self.session.begin_nested():
                self.session.add(User(name="a"))
        self.assertEqual(
            [op.method for op in self.session_history],
            [
                "begin", "transaction: begin", "begin_nested", "savepoint: begin", "add",
                "savepoint: release", "transaction: commit",
            ],
        )  # fmt: skip

    async def test_async_with_session_is_recorded_as_enter_and_exit(self):
        async with self.session as session:
            self.assertIs(session, self.session)
            self.session.add(User(name="a"))
        self.assertEqual(
            repr(self.session_history),
            "1. async with session: enter\n2. add(<User a>)\n3. async with session: exit",
        )
        self.assertEqual(
            [op.method for op in self.session_history], ["__aenter__", "add", "__aexit__"]
        )


class TransactionTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    async def test_leaving_begin_block_cleanly_counts_as_commit(self):
        user = User(name="a")
        async with self.session.begin():
            self.session.add(user)
        self.assertCommitted()
        self.assertCommitted(user)
        self.assertNotRolledBack()
        # the transaction commits itself, as the real one does: commit() is never called
        self.session.commit.assert_not_awaited()

    async def test_leaving_begin_block_by_exception_rolls_back_and_propagates(self):
        user = User(name="a")
        with self.assertRaisesRegex(ValueError, "invalid"):
            async with self.session.begin():
                self.session.add(user)
                raise ValueError("invalid")
        self.assertEqual(self.session_history[-1].method, "transaction: rollback")
        self.assertRolledBack()
        self.assertNotCommitted()
        self.assertFailureText(
            lambda msg: self.assertCommitted(user, msg=msg),
            "Expected <User a> to be committed; add(<User a>) (operation 3) was undone by "
            "transaction: rollback (operation 4).\n"
            "Session history:\n"
            "1. begin()\n"
            "2. transaction: begin\n"
            "3. add(<User a>)\n"
            "4. transaction: rollback",
        )

    async def test_begin_nested_block_left_by_exception_rolls_back_to_savepoint_only(self):
        before, inside, after = User(name="before"), User(name="inside"), User(name="after")
        async with self.session.begin():
            self.session.add(before)
            with self.assertRaises(KeyError):
                async with self.session.begin_nested():
                    self.session.add(inside)
                    raise KeyError("duplicate")
            self.session.add(after)

        self.assertIn("savepoint: rollback", [op.method for op in self.session_history])
        self.assertCommitted(before, after)
        self.assertNotRolledBack()  # the transaction was not rolled back, only the savepoint
        self.assertFailureText(
            lambda msg: self.assertCommitted(inside, msg=msg),
            "Expected <User inside> to be committed; add(<User inside>) (operation 6) was "
            "undone by savepoint: rollback (operation 7).\n"
            "Session history:\n"
            "1. begin()\n"
            "2. transaction: begin\n"
            "3. add(<User before>)\n"
            "4. begin_nested()\n"
            "5. savepoint: begin\n"
            "6. add(<User inside>)\n"
            "7. savepoint: rollback\n"
            "8. add(<User after>)\n"
            "9. transaction: commit",
        )

    async def test_released_savepoint_commits_with_its_transaction(self):
        inside = User(name="inside")
        async with self.session.begin():
            async with self.session.begin_nested():
                self.session.add(inside)
        self.assertCommitted(inside)

    async def test_released_savepoint_is_undone_by_its_transactions_rollback(self):
        inside = User(name="inside")
        with self.assertRaises(ValueError):
            async with self.session.begin():
                async with self.session.begin_nested():
                    self.session.add(inside)
                raise ValueError
        with self.assertRaises(self.failureException):
            self.assertCommitted(inside)
        self.assertRolledBack()

    async def test_awaited_begin_nested_rolled_back_by_hand(self):
        kept, dropped = User(name="kept"), User(name="dropped")
        self.session.add(kept)
        savepoint = await self.session.begin_nested()
        self.session.add(dropped)
        await savepoint.rollback()
        await self.session.commit()
        self.assertCommitted(kept)
        with self.assertRaises(self.failureException):
            self.assertCommitted(dropped)

    async def test_leaving_async_with_session_closes_it(self):
        user = User(name="a")
        async with self.session:
            self.session.add(user)
        self.assertClosed()
        self.assertNotCommitted()
        with self.assertRaises(self.failureException) as cm:
            self.assertCommitted(user)
        self.assertEqual(
            str(cm.exception),
            "Expected <User a> to be committed; add(<User a>) (operation 2) was undone by "
            "async with session: exit (operation 3).\n"
            "Session history:\n"
            "1. async with session: enter\n"
            "2. add(<User a>)\n"
            "3. async with session: exit",
        )


class FailedOperationTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    async def test_failed_commit_is_recorded_and_is_not_a_commit(self):
        user = User(name="a")
        error = _integrity_error()
        self.session.commit.side_effect = error
        self.session.add(user)
        with self.assertRaises(IntegrityError) as cm:
            await self.session.commit()

        self.assertIs(cm.exception, error)
        self.assertIs(self.session_history[-1].error, error)
        self.assertNotCommitted()
        self.assertFailureText(
            lambda msg: self.assertCommitted(msg=msg),
            f"Expected a commit; commit() raised {_one_line(error)}\n"
            "Session history:\n"
            "1. add(<User a>)\n"
            f"2. commit()  [raised {_one_line(error)}]",
        )
        self.assertFailureText(
            lambda msg: self.assertCommitted(user, msg=msg),
            "Expected <User a> to be committed; add(<User a>) (operation 1) was undone by "
            f"commit() (operation 2), which raised {_one_line(error)}.\n"
            "Session history:\n"
            "1. add(<User a>)\n"
            f"2. commit()  [raised {_one_line(error)}]",
        )

    async def test_commit_at_end_of_begin_block_fails_then_rolls_back(self):
        user = User(name="a")
        error = _integrity_error()
        self.session.commit.side_effect = error
        with self.assertRaises(IntegrityError) as cm:
            async with self.session.begin():
                self.session.add(user)

        self.assertIs(cm.exception, error)
        self.assertEqual(
            [(op.method, op.error) for op in self.session_history],
            [
                ("begin", None),
                ("transaction: begin", None),
                ("add", None),
                ("transaction: commit", error),
                ("transaction: rollback", None),
            ],
        )
        self.assertNotCommitted()
        self.assertRolledBack()
        self.assertFailureText(
            lambda msg: self.assertCommitted(user, msg=msg),
            "Expected <User a> to be committed; add(<User a>) (operation 3) was undone by "
            f"transaction: commit (operation 4), which raised {_one_line(error)}.\n"
            "Session history:\n"
            "1. begin()\n"
            "2. transaction: begin\n"
            "3. add(<User a>)\n"
            f"4. transaction: commit  [raised {_one_line(error)}]\n"
            "5. transaction: rollback",
        )

    async def test_commit_side_effect_sequence_fails_first_block_only(self):
        first, second = User(name="first"), User(name="second")
        self.session.commit.side_effect = [_integrity_error(), None]
        with self.assertRaises(IntegrityError):
            async with self.session.begin():
                self.session.add(first)
        async with self.session.begin():
            self.session.add(second)

        self.assertCommitted(second)
        with self.assertRaises(self.failureException):
            self.assertCommitted(first)

    async def test_commit_side_effect_given_as_class(self):
        self.session.commit.side_effect = ConnectionResetError
        with self.assertRaises(ConnectionResetError):
            async with self.session.begin():
                pass
        self.assertNotCommitted()
        self.assertRolledBack()


class RollbackUndoesTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    async def test_object_added_before_rollback_is_not_committed_later(self):
        user = User(name="a")
        self.session.add(user)
        await self.session.rollback()
        await self.session.commit()
        self.assertCommitted()
        self.assertFailureText(
            lambda msg: self.assertCommitted(user, msg=msg),
            "Expected <User a> to be committed; add(<User a>) (operation 1) was undone by "
            "rollback() (operation 2).\n"
            "Session history:\n"
            "1. add(<User a>)\n"
            "2. rollback()\n"
            "3. commit()",
        )

    async def test_object_added_again_after_rollback_is_committed(self):
        user = User(name="a")
        self.session.add(user)
        await self.session.rollback()
        self.session.add(user)
        await self.session.commit()
        self.assertCommitted(user)

    async def test_object_added_in_rolled_back_savepoint_then_added_again_is_committed(self):
        user = User(name="a")
        async with self.session.begin():
            with self.assertRaises(ValueError):
                async with self.session.begin_nested():
                    self.session.add(user)
                    raise ValueError
            self.session.add(user)
        self.assertCommitted(user)

    async def test_committed_object_stays_committed_after_a_later_rollback(self):
        user = User(name="a")
        self.session.add(user)
        await self.session.commit()
        await self.session.rollback()
        self.assertCommitted(user)
        self.assertRolledBack()

    async def test_close_undoes_what_was_not_committed(self):
        user = User(name="a")
        self.session.add(user)
        await self.session.close()
        await self.session.commit()
        with self.assertRaises(self.failureException) as cm:
            self.assertCommitted(user)
        self.assertEqual(
            str(cm.exception),
            "Expected <User a> to be committed; add(<User a>) (operation 1) was undone by "
            "close() (operation 2).\n"
            "Session history:\n1. add(<User a>)\n2. close()\n3. commit()",
        )

    async def test_reset_and_aclose_undo_what_was_not_committed(self):
        # reset() and aclose() are SQLAlchemy 2.0+; on 1.4 the session has neither
        for name in [n for n, present in (("aclose", HAS_ACLOSE), ("reset", HAS_RESET)) if present]:
            with self.subTest(name):
                user = User(name=name)
                self.session.add(user)
                await getattr(self.session, name)()
                await self.session.commit()
                with self.assertRaises(self.failureException):
                    self.assertCommitted(user)
        self.assertEqual(
            [op.method for op in self.session_history].count("commit"),
            int(HAS_ACLOSE) + int(HAS_RESET),
        )

    async def test_expunged_object_is_not_committed(self):
        user = User(name="a")
        self.session.add(user)
        self.session.expunge(user)
        await self.session.commit()
        with self.assertRaises(self.failureException):
            self.assertCommitted(user)

    async def test_expunged_object_message_says_it_was_added(self):
        # The message names the expunge() that undid the add(), not "it was never added".
        user = User(name="a")
        self.session.add(user)
        self.session.expunge(user)
        await self.session.commit()
        with self.assertRaises(self.failureException) as cm:
            self.assertCommitted(user)
        self.assertEqual(
            str(cm.exception),
            "Expected <User a> to be committed; add(<User a>) (operation 1) was undone by "
            "expunge(<User a>) (operation 2).\n"
            "Session history:\n"
            "1. add(<User a>)\n"
            "2. expunge(<User a>)\n"
            "3. commit()",
        )

    async def test_object_added_after_last_commit(self):
        user = User(name="a")
        await self.session.commit()
        self.session.add(user)
        self.assertFailureText(
            lambda msg: self.assertCommitted(user, msg=msg),
            "Expected <User a> to be committed; add(<User a>) (operation 2) happened after "
            "the last commit.\n"
            "Session history:\n1. commit()\n2. add(<User a>)",
        )

    async def test_object_added_but_never_committed(self):
        user = User(name="a")
        self.session.add(user)
        self.assertFailureText(
            lambda msg: self.assertCommitted(user, msg=msg),
            "Expected <User a> to be committed; add(<User a>) (operation 1) was never "
            "followed by a commit.\n"
            "Session history:\n1. add(<User a>)",
        )

    async def test_add_all_and_merge_count_as_adds(self):
        first, second, merged = User(name="first"), User(name="second"), User(name="merged")
        self.session.add_all([first, second])
        await self.session.merge(merged)
        await self.session.commit()
        self.assertCommitted(first, second, merged)

    async def test_add_all_given_a_generator(self):
        # add_all() records the instances, not the iterable it was given, so a generator is
        # not used up by the first assertion that reads the history.
        user = User(name="a")
        self.session.add_all(instance for instance in [user])
        await self.session.commit()
        self.assertCommitted(user)
        self.assertCommitted(user)
        self.assertAdded(user)


class NeverAwaitedTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    # these tests leave coroutines unawaited on purpose; EndOfTestCheckTest covers the check
    check_awaited = False

    async def test_called_but_not_awaited_commit_does_not_count(self):
        self.session.commit().close()
        self.assertNotCommitted()
        self.assertFalse(self.session_history[0].awaited)
        self.assertFailureText(
            lambda msg: self.assertCommitted(msg=msg),
            "Expected a commit; commit() was called 1 time but never awaited: missing await?\n"
            "Session history:\n"
            "1. commit()  [never awaited]",
        )

    async def test_history_repr_marks_never_awaited_operations(self):
        self.session.commit().close()
        await self.session.rollback()
        self.assertEqual(repr(self.session_history), "1. commit()  [never awaited]\n2. rollback()")

    async def test_called_twice_but_not_awaited(self):
        self.session.commit().close()
        self.session.commit().close()
        with self.assertRaises(self.failureException) as cm:
            self.assertCommitted()
        self.assertEqual(
            str(cm.exception),
            "Expected a commit; commit() was called 2 times but never awaited: missing await?\n"
            "Session history:\n"
            "1. commit()  [never awaited]\n"
            "2. commit()  [never awaited]",
        )

    async def test_unawaited_object_commit(self):
        user = User(name="a")
        self.session.add(user)
        self.session.commit().close()
        with self.assertRaises(self.failureException) as cm:
            self.assertCommitted(user)
        self.assertEqual(
            str(cm.exception),
            "Expected <User a> to be committed; add(<User a>) (operation 1) was never "
            "followed by a commit.\n"
            "Session history:\n"
            "1. add(<User a>)\n"
            "2. commit()  [never awaited]",
        )

    async def test_unawaited_rollback_flush_close(self):
        cases = [
            ("rollback", self.assertRolledBack, "Expected a rollback"),
            ("flush", self.assertFlushed, "Expected a flush"),
            ("close", self.assertClosed, "Expected the session to be closed"),
        ]
        for method, assertion, head in cases:
            with self.subTest(method):
                self.session_history.clear()
                getattr(self.session, method)().close()
                with self.assertRaises(self.failureException) as cm:
                    assertion()
                self.assertEqual(
                    str(cm.exception),
                    f"{head}; {method}() was called 1 time but never awaited: missing await?\n"
                    f"Session history:\n1. {method}()  [never awaited]",
                )

    async def test_unawaited_delete_and_refresh_do_not_count(self):
        user = User(name="a")
        self.session.delete(user).close()
        self.session.refresh(user).close()
        with self.assertRaises(self.failureException):
            self.assertDeleted(user)
        with self.assertRaises(self.failureException):
            self.assertRefreshed(user)


class EndOfTestCheckTest(asyncsessiontest.AsyncSessionTestCase):
    """Run inner test classes: the check happens after the test, in its cleanup."""

    maxDiff = None

    def test_never_awaited_coroutine_fails_the_test_naming_method_and_line(self):
        created = []

        class Inner(asyncsessiontest.AsyncSessionTestCase):
            async def test_it(self):
                user = User(name="a")
                created.append((self.session.commit(), _line()))
                created.append((self.session.refresh(user), _line()))
                await self.session.flush()

        result = _run(Inner)
        for coroutine, _ in created:
            coroutine.close()

        self.assertEqual(len(result.failures), 1, result.failures)
        (commit_line, refresh_line) = [line for _, line in created]
        expected = (
            "Session coroutines created but never awaited:\n"
            f"commit() called at {__file__}:{commit_line}\n"
            f"refresh(<User a>) called at {__file__}:{refresh_line}\n"
            "Await them, or set check_awaited = False on the test class."
        )
        self.assertTrue(
            result.failures[0][1].endswith(f"AssertionError: {expected}\n"),
            result.failures[0][1],
        )

    def test_check_awaited_false_turns_the_check_off(self):
        created = []

        class Inner(asyncsessiontest.AsyncSessionTestCase):
            check_awaited = False

            async def test_it(self):
                created.append(self.session.commit())

        result = _run(Inner)
        created[0].close()
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)
        self.assertEqual(result.testsRun, 1)

    def test_awaited_coroutines_pass(self):
        class Inner(asyncsessiontest.AsyncSessionTestCase):
            async def test_it(self):
                self.session.add(User(name="a"))
                await self.session.flush()
                await self.session.commit()
                self.assertCommitted()

        result = _run(Inner)
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)

    def test_a_test_that_already_failed_reports_only_its_own_failure(self):
        created = []

        class Inner(asyncsessiontest.AsyncSessionTestCase):
            async def test_it(self):
                created.append(self.session.commit())
                self.assertCommitted()

        result = _run(Inner)
        created[0].close()
        self.assertEqual(len(result.failures), 1, [text for _, text in result.failures])
        self.assertIn("missing await?", result.failures[0][1])
        self.assertNotIn("Session coroutines created but never awaited", result.failures[0][1])


class TracebackTest(asyncsessiontest.AsyncSessionTestCase):
    """A failing assertion's traceback ends at the test's own line, not in the package."""

    def test_traceback_points_at_the_failing_line(self):
        user = User(name="a")
        # the first group fails on an empty history, the second after a commit and a rollback
        fail_when_nothing_happened = [
            ("assertCommitted", lambda t: t.assertCommitted(), _line()),
            ("assertCommitted(obj)", lambda t: t.assertCommitted(user), _line()),
            ("assertRolledBack", lambda t: t.assertRolledBack(), _line()),
            ("assertAdded", lambda t: t.assertAdded(Address), _line()),
            ("assertDeleted", lambda t: t.assertDeleted(user), _line()),
            ("assertRefreshed", lambda t: t.assertRefreshed(user), _line()),
            ("assertFlushed", lambda t: t.assertFlushed(), _line()),
            ("assertClosed", lambda t: t.assertClosed(), _line()),
        ]
        fail_when_all_happened = [
            ("assertNotCommitted", lambda t: t.assertNotCommitted(), _line()),
            ("assertNotRolledBack", lambda t: t.assertNotRolledBack(), _line()),
            ("assertNotAdded", lambda t: t.assertNotAdded(user), _line()),
        ]
        cases = [(case, False) for case in fail_when_nothing_happened]
        cases += [(case, True) for case in fail_when_all_happened]
        for (name, assertion, line), prepare in cases:
            with self.subTest(name):

                class Inner(asyncsessiontest.AsyncSessionTestCase):
                    async def test_it(self, assertion=assertion, prepare=prepare):
                        if prepare:
                            self.session.add(user)
                            await self.session.commit()
                            await self.session.rollback()
                        assertion(self)

                result = _run(Inner)
                self.assertEqual(len(result.failures), 1, result.errors)
                text = result.failures[0][1]
                self.assertEqual(_last_frame(text), (__file__, line), text)
                self.assertNotIn(CASE_PY, text)


class AssertionMessageTest(asyncsessiontest.AsyncSessionTestCase, FailureTextMixin):
    async def test_assert_committed_without_any_operation(self):
        self.assertFailureText(
            lambda msg: self.assertCommitted(msg=msg),
            "Expected a commit; none happened.\nSession history:\n<no operations>",
        )

    async def test_assert_committed_lists_each_missing_object(self):
        committed, late, never = User(name="ok"), User(name="late"), User(name="never")
        self.session.add(committed)
        await self.session.commit()
        self.session.add(late)
        self.assertCommitted(committed)
        self.assertFailureText(
            lambda msg: self.assertCommitted(committed, late, never, msg=msg),
            "Expected <User late> to be committed; add(<User late>) (operation 3) happened "
            "after the last commit.\n"
            "Expected <User never> to be committed; it was never added.\n"
            "Session history:\n1. add(<User ok>)\n2. commit()\n3. add(<User late>)",
        )

    async def test_assert_not_committed(self):
        self.assertNotCommitted()
        self.session.add(User(name="a"))
        await self.session.commit()
        async with self.session.begin():
            pass
        self.assertFailureText(
            self.assertNotCommitted,
            "Expected no commit; 2 happened: commit() (operation 2), transaction: commit "
            "(operation 5).\n"
            "Session history:\n"
            "1. add(<User a>)\n"
            "2. commit()\n"
            "3. begin()\n"
            "4. transaction: begin\n"
            "5. transaction: commit",
        )

    async def test_assert_rolled_back(self):
        await self.session.commit()
        self.assertFailureText(
            self.assertRolledBack,
            "Expected a rollback; none happened.\nSession history:\n1. commit()",
        )
        await self.session.rollback()
        self.assertRolledBack()

    async def test_assert_rolled_back_says_when_only_a_savepoint_was(self):
        with self.assertRaises(ValueError):
            async with self.session.begin_nested():
                raise ValueError
        self.assertFailureText(
            self.assertRolledBack,
            "Expected a rollback; none happened. (only a savepoint was rolled back)\n"
            "Session history:\n"
            "1. begin_nested()\n"
            "2. savepoint: begin\n"
            "3. savepoint: rollback",
        )

    async def test_assert_rolled_back_after_failed_rollback(self):
        error = RuntimeError("connection lost")
        self.session.rollback.side_effect = error
        with self.assertRaises(RuntimeError):
            await self.session.rollback()
        with self.assertRaises(self.failureException) as cm:
            self.assertRolledBack()
        self.assertEqual(
            str(cm.exception),
            "Expected a rollback; rollback() raised RuntimeError: connection lost\n"
            "Session history:\n"
            "1. rollback()  [raised RuntimeError: connection lost]",
        )

    async def test_assert_not_rolled_back(self):
        with self.assertRaises(ValueError):
            async with self.session.begin_nested():
                raise ValueError
        self.assertNotRolledBack()  # a savepoint's rollback is not the transaction's
        await self.session.rollback()
        self.assertFailureText(
            self.assertNotRolledBack,
            "Expected no rollback; 1 happened: rollback() (operation 4).\n"
            "Session history:\n"
            "1. begin_nested()\n"
            "2. savepoint: begin\n"
            "3. savepoint: rollback\n"
            "4. rollback()",
        )

    async def test_assert_added_instances_and_classes(self):
        user, tag = User(name="a"), Tag(label="x")
        self.session.add(user)
        self.session.add_all([tag])
        self.assertAdded(user)
        self.assertAdded(User, Tag)
        self.assertAdded(user, tag, User)
        self.assertFailureText(
            lambda msg: self.assertAdded(user, Address, User(name="b"), msg=msg),
            "Expected an instance of Address to be added; it was not added.\n"
            "Expected <User b> to be added; it was not added.\n"
            "Session history:\n1. add(<User a>)\n2. add_all([<Tag x>])",
        )

    async def test_assert_added_compares_instances_by_identity(self):
        added, equal = Tag(label="x"), Tag(label="x")
        self.assertEqual(added, equal)
        self.session.add(added)
        self.assertAdded(added)
        with self.assertRaises(self.failureException):
            self.assertAdded(equal)
        self.assertNotAdded(equal)

    async def test_assert_added_counts_merge(self):
        user = User(name="a")
        await self.session.merge(user)
        self.assertAdded(user)

    async def test_assert_added_ignores_unawaited_merge(self):
        user = User(name="a")
        coroutine = self.session.merge(user)
        with self.assertRaises(self.failureException):
            self.assertAdded(user)
        await coroutine
        self.assertAdded(user)

    async def test_assert_not_added(self):
        user = User(name="a")
        self.assertNotAdded(user, User)
        self.session.add(user)
        self.assertNotAdded(Address, User(name="b"))
        self.assertFailureText(
            lambda msg: self.assertNotAdded(user, User, Address, msg=msg),
            "Expected <User a> not to be added; it was added.\n"
            "Expected an instance of User not to be added; it was added.\n"
            "Session history:\n1. add(<User a>)",
        )

    async def test_assert_deleted(self):
        deleted, kept = User(id=1, name="gone"), User(id=2, name="kept")
        make_persistent(self.session, deleted, kept)  # a real session deletes its own objects
        await self.session.delete(deleted)
        self.assertDeleted(deleted)
        self.assertFailureText(
            lambda msg: self.assertDeleted(deleted, kept, msg=msg),
            "Expected <User kept> to be deleted; it was not deleted.\n"
            "Session history:\n1. delete(<User gone>)",
        )

    async def test_assert_refreshed(self):
        refreshed, other = User(id=1, name="a"), User(id=2, name="b")
        make_persistent(self.session, refreshed, other)  # a real session refreshes its own
        await self.session.refresh(refreshed)
        self.assertRefreshed(refreshed)
        self.assertFailureText(
            lambda msg: self.assertRefreshed(other, msg=msg),
            "Expected <User b> to be refreshed; it was not refreshed.\n"
            "Session history:\n1. refresh(<User a>)",
        )

    async def test_assert_flushed_ignores_the_commits_own_flush(self):
        self.session.add(User(name="a"))
        await self.session.commit()
        self.assertFailureText(
            self.assertFlushed,
            "Expected a flush; none happened.\nSession history:\n1. add(<User a>)\n2. commit()",
        )
        await self.session.flush()
        self.assertFlushed()

    async def test_assert_flushed_ignores_a_failed_flush(self):
        self.session.flush.side_effect = RuntimeError("deadlock")
        with self.assertRaises(RuntimeError):
            await self.session.flush()
        with self.assertRaises(self.failureException) as cm:
            self.assertFlushed()
        self.assertEqual(
            str(cm.exception),
            "Expected a flush; flush() raised RuntimeError: deadlock\n"
            "Session history:\n1. flush()  [raised RuntimeError: deadlock]",
        )

    async def test_assert_closed(self):
        self.assertFailureText(
            self.assertClosed,
            "Expected the session to be closed; none happened.\nSession history:\n<no operations>",
        )
        await self.session.close()
        self.assertClosed()

    async def test_assert_closed_accepts_aclose_where_it_exists(self):
        if HAS_ACLOSE:
            await self.session.aclose()
        else:  # SQLAlchemy 1.4: the real class has no aclose(), nor does the session
            with self.assertRaises(AttributeError):
                self.session.aclose  # noqa: B018
            await self.session.close()
        self.assertClosed()


class ArgumentTypeTest(asyncsessiontest.AsyncSessionTestCase):
    async def test_instance_assertions_reject_non_instances(self):
        for name in ("assertCommitted", "assertDeleted", "assertRefreshed"):
            for wrong in ("a", 5, User):
                with self.subTest(name, wrong=wrong):
                    with self.assertRaises(TypeError) as cm:
                        getattr(self, name)(wrong)
                    self.assertEqual(
                        str(cm.exception),
                        f"{name}(): {wrong!r} is not an ORM instance; give ORM instances",
                    )

    async def test_added_assertions_reject_what_is_neither_instance_nor_mapped_class(self):
        for name in ("assertAdded", "assertNotAdded"):
            for wrong in ("User", None, int):
                with self.subTest(name, wrong=wrong):
                    with self.assertRaises(TypeError) as cm:
                        getattr(self, name)(User(name="a"), wrong)
                    self.assertEqual(
                        str(cm.exception),
                        f"{name}(): {wrong!r} is not an ORM instance; give ORM instances or "
                        "mapped classes",
                    )

    async def test_named_assertions_need_at_least_one_object(self):
        for name in ("assertAdded", "assertNotAdded", "assertDeleted", "assertRefreshed"):
            with self.subTest(name):
                with self.assertRaises(TypeError) as cm:
                    getattr(self, name)()
                self.assertEqual(str(cm.exception), f"{name}(): give at least one object")

    async def test_msg_is_keyword_only_where_objects_are_positional(self):
        user = User(name="a")
        with self.assertRaises(TypeError) as cm:
            self.assertCommitted(user, "a message")
        self.assertEqual(
            str(cm.exception),
            "assertCommitted(): 'a message' is not an ORM instance; give ORM instances",
        )


if __name__ == "__main__":
    unittest.main()
