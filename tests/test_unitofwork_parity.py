"""The unit-of-work assertions against a real database: the same scenario, run twice.

Each scenario runs once against ``self.session`` and once against a real ``AsyncSession`` on
SQLite (aiosqlite). The objects ``assertCommitted`` accepts after the mock run must be exactly
the rows the real database kept, and both runs must end the same way (the same exception, or
none). Where the real run fails a commit with a UNIQUE violation, the mock run makes the same
commit fail through ``self.session.commit.side_effect`` (or ``flush.side_effect``).
"""

import os
import shutil
import tempfile
import unittest

from sqlalchemy import Column, Integer, String, event, insert, select
from sqlalchemy.exc import IntegrityError, PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base

import asyncsessiontest
from tests.support import parity_scenario

Base = declarative_base()


class Member(Base):
    __tablename__ = "members"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), unique=True, nullable=False)

    def __repr__(self):
        return f"<Member {self.name}>"


TAKEN = "taken"
"""The name of the row every real database starts with: adding it again violates UNIQUE."""


class Boom(Exception):
    """What a scenario raises inside a block to leave it by an exception."""


FAIL = "fail"
"""In a scenario's mock outcomes: this call fails (with an IntegrityError)."""
OK = "ok"


def scenario(expected, raises=None, commits=(), flushes=()):
    """Describe a scenario: what the database keeps, what it raises, which calls fail.

    :param expected: the names of the rows the real database keeps.
    :param raises: the exception class the scenario ends with, if any.
    :param commits: for the mock run, the outcome of each commit in turn (FAIL or OK),
        ``commit()`` calls and ``begin()`` blocks alike.
    :param flushes: for the mock run, the outcome of each ``flush()`` in turn.
    """

    def decorate(function):
        function.expected = set(expected)
        function.raises = raises
        function.commits = list(commits)
        function.flushes = list(flushes)
        return parity_scenario(function)

    return decorate


# -- scenarios: each takes a session and the members by name (a, b, c, and TAKEN) ------------


@scenario(expected={"a"})
async def begin_block_left_cleanly(session, members):
    async with session.begin():
        session.add(members["a"])


@scenario(expected=set(), raises=Boom)
async def begin_block_left_by_exception(session, members):
    async with session.begin():
        session.add(members["a"])
        raise Boom


@scenario(expected={"a", "c"})
async def savepoint_rolled_back_inside_transaction(session, members):
    async with session.begin():
        session.add(members["a"])
        try:
            async with session.begin_nested():
                session.add(members["b"])
                raise Boom
        except Boom:
            pass
        session.add(members["c"])


@scenario(expected={"a", "b"})
async def savepoint_released_inside_transaction(session, members):
    async with session.begin():
        session.add(members["a"])
        async with session.begin_nested():
            session.add(members["b"])


@scenario(expected=set(), raises=Boom)
async def released_savepoint_then_transaction_rolled_back(session, members):
    async with session.begin():
        async with session.begin_nested():
            session.add(members["b"])
        raise Boom


@scenario(expected={"a"})
async def savepoint_in_autobegun_transaction(session, members):
    session.add(members["a"])
    try:
        async with session.begin_nested():
            session.add(members["b"])
            raise Boom
    except Boom:
        pass
    await session.commit()


@scenario(expected={"a"})
async def savepoint_inside_savepoint(session, members):
    async with session.begin():
        async with session.begin_nested():
            session.add(members["a"])
            try:
                async with session.begin_nested():
                    session.add(members["b"])
                    raise Boom
            except Boom:
                pass


@scenario(expected=set(), raises=IntegrityError, commits=[FAIL])
async def commit_at_end_of_block_fails(session, members):
    async with session.begin():
        session.add(members["a"])
        session.add(members[TAKEN])


@scenario(expected={"b"}, commits=[FAIL, OK])
async def failed_block_then_another_block(session, members):
    try:
        async with session.begin():
            session.add(members["a"])
            session.add(members[TAKEN])
    except IntegrityError:
        pass
    async with session.begin():
        session.add(members["b"])


@scenario(expected={"b"}, commits=[FAIL, OK])
async def failed_commit_rolled_back_then_retried(session, members):
    session.add(members["a"])
    session.add(members[TAKEN])
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
    session.add(members["b"])
    await session.commit()


@scenario(expected={"a", "c"}, flushes=[FAIL])
async def failed_flush_rolls_back_its_savepoint(session, members):
    async with session.begin():
        session.add(members["a"])
        try:
            async with session.begin_nested():
                session.add(members[TAKEN])
                await session.flush()
        except IntegrityError:
            pass
        session.add(members["c"])


@scenario(expected={"b"})
async def rollback_undoes_what_was_added(session, members):
    session.add(members["a"])
    await session.rollback()
    session.add(members["b"])
    await session.commit()


@scenario(expected={"a"})
async def added_again_after_rollback(session, members):
    session.add(members["a"])
    await session.rollback()
    session.add(members["a"])
    await session.commit()


@scenario(expected={"a"})
async def flushed_then_rolled_back_then_committed(session, members):
    session.add(members["a"])
    await session.commit()
    session.add(members["b"])
    await session.flush()
    await session.rollback()
    await session.commit()


@scenario(expected={"b"})
async def expunged_before_commit(session, members):
    session.add_all([members["a"], members["b"]])
    session.expunge(members["a"])
    await session.commit()


@scenario(expected={"b"})
async def closed_before_commit(session, members):
    session.add(members["a"])
    await session.close()
    session.add(members["b"])
    await session.commit()


@scenario(expected={"b"})
async def async_with_session_left_without_commit(session, members):
    async with session:
        session.add(members["a"])
    session.add(members["b"])
    await session.commit()


@scenario(expected={"a"})
async def merged_then_committed(session, members):
    await session.merge(members["a"])
    await session.commit()


# -- a failed commit or flush without rollback(): PendingRollbackError -----------------------


async def _fail_and_go_on(session, members, step):
    """Add a and the taken name, then ``step`` (commit or flush), which fails: no rollback()."""
    session.add(members["a"])
    session.add(members[TAKEN])
    try:
        await step()
    except IntegrityError:
        pass  # the real session refuses to go on until rollback()


@scenario(expected=set(), raises=PendingRollbackError, commits=[FAIL, OK])
async def failed_commit_not_rolled_back(session, members):
    await _fail_and_go_on(session, members, session.commit)
    session.add(members["b"])
    await session.commit()


@scenario(expected=set(), raises=PendingRollbackError, flushes=[FAIL])
async def failed_flush_not_rolled_back(session, members):
    await _fail_and_go_on(session, members, session.flush)
    session.add(members["b"])
    await session.commit()


@scenario(expected=set(), raises=PendingRollbackError, flushes=[FAIL])
async def savepoint_after_a_failed_flush(session, members):
    await _fail_and_go_on(session, members, session.flush)
    async with session.begin_nested():  # refused too
        session.add(members["b"])


def _members():
    return {name: Member(name=name) for name in ("a", "b", "c", TAKEN)}


def _integrity_error():
    return IntegrityError(
        "INSERT INTO members (name) VALUES (?)", (TAKEN,), Exception("UNIQUE constraint failed")
    )


def _outcomes(outcomes):
    return [_integrity_error() if outcome == FAIL else None for outcome in outcomes]


async def _run(function, session, members):
    """Run a scenario; return the class of the exception it ended with, or None."""
    try:
        await function(session, members)
    except Exception as error:
        return type(error)
    return None


class ParityTest(asyncsessiontest.AsyncSessionTestCase):
    maxDiff = None

    async def asyncSetUp(self):
        await super().asyncSetUp()
        directory = tempfile.mkdtemp(prefix="asyncsessiontest-parity-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        self.database = os.path.join(directory, "parity.sqlite")

    async def run_on_mock(self, function):
        """Run ``function`` on self.session; return (how it ended, names assertCommitted accepts)."""
        if function.commits:
            self.session.commit.side_effect = _outcomes(function.commits)
        if function.flushes:
            self.session.flush.side_effect = _outcomes(function.flushes)
        members = _members()
        ended = await _run(function, self.session, members)
        accepted = set()
        for name, member in members.items():
            try:
                self.assertCommitted(member)
            except self.failureException:
                continue
            accepted.add(name)
        return ended, accepted

    async def run_on_database(self, function):
        """Run ``function`` on a real AsyncSession; return (how it ended, names of new rows)."""
        engine = create_async_engine(f"sqlite+aiosqlite:///{self.database}")
        # pysqlite (under aiosqlite) begins transactions itself and breaks SAVEPOINT; this is
        # SQLAlchemy's documented recipe to let SQLAlchemy emit BEGIN
        event.listen(engine.sync_engine, "connect", _no_driver_transactions)
        event.listen(engine.sync_engine, "begin", _emit_begin)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.drop_all)
                await connection.run_sync(Base.metadata.create_all)
                await connection.execute(insert(Member).values(id=1, name=TAKEN))
            session = AsyncSession(engine, expire_on_commit=False)
            ended = await _run(function, session, _members())
            await session.close()
            async with AsyncSession(engine) as reader:
                rows = await reader.execute(select(Member.name).where(Member.id != 1))
                kept = set(rows.scalars().all())
        finally:
            await engine.dispose()
        return ended, kept

    async def assertSameOutcome(self, function):
        """Fail unless the mock and the database agree on ``function``, as it expects."""
        database_ended, kept = await self.run_on_database(function)
        mock_ended, accepted = await self.run_on_mock(function)
        # the scenario's own expectations hold on the real database...
        self.assertEqual((database_ended, kept), (function.raises, function.expected))
        # ...and the mock, with its assertions, reports the same
        self.assertEqual((mock_ended, accepted), (database_ended, kept))

    async def test_begin_block_left_cleanly(self):
        await self.assertSameOutcome(begin_block_left_cleanly)
        self.assertCommitted()
        self.assertNotRolledBack()

    async def test_begin_block_left_by_exception(self):
        await self.assertSameOutcome(begin_block_left_by_exception)
        self.assertRolledBack()
        self.assertNotCommitted()

    async def test_savepoint_rolled_back_inside_transaction(self):
        await self.assertSameOutcome(savepoint_rolled_back_inside_transaction)
        self.assertIn("savepoint: rollback", [op.method for op in self.session_history])
        self.assertNotRolledBack()

    async def test_savepoint_released_inside_transaction(self):
        await self.assertSameOutcome(savepoint_released_inside_transaction)

    async def test_released_savepoint_then_transaction_rolled_back(self):
        await self.assertSameOutcome(released_savepoint_then_transaction_rolled_back)
        self.assertRolledBack()

    async def test_savepoint_in_autobegun_transaction(self):
        await self.assertSameOutcome(savepoint_in_autobegun_transaction)

    async def test_savepoint_inside_savepoint(self):
        await self.assertSameOutcome(savepoint_inside_savepoint)

    async def test_commit_at_end_of_block_fails(self):
        await self.assertSameOutcome(commit_at_end_of_block_fails)
        self.assertNotCommitted()
        self.assertRolledBack()

    async def test_failed_block_then_another_block(self):
        await self.assertSameOutcome(failed_block_then_another_block)

    async def test_failed_commit_rolled_back_then_retried(self):
        await self.assertSameOutcome(failed_commit_rolled_back_then_retried)

    async def test_failed_flush_rolls_back_its_savepoint(self):
        await self.assertSameOutcome(failed_flush_rolls_back_its_savepoint)

    async def test_rollback_undoes_what_was_added(self):
        await self.assertSameOutcome(rollback_undoes_what_was_added)

    async def test_added_again_after_rollback(self):
        await self.assertSameOutcome(added_again_after_rollback)

    async def test_flushed_then_rolled_back_then_committed(self):
        await self.assertSameOutcome(flushed_then_rolled_back_then_committed)
        self.assertFlushed()

    async def test_expunged_before_commit(self):
        await self.assertSameOutcome(expunged_before_commit)

    async def test_closed_before_commit(self):
        await self.assertSameOutcome(closed_before_commit)
        self.assertClosed()

    async def test_async_with_session_left_without_commit(self):
        await self.assertSameOutcome(async_with_session_left_without_commit)
        self.assertClosed()

    async def test_merged_then_committed(self):
        await self.assertSameOutcome(merged_then_committed)

    async def test_failed_commit_not_rolled_back(self):
        # After a commit() that failed, the next commit raises PendingRollbackError until
        # rollback(), as on a real session, and assertCommitted accepts nothing.
        await self.assertSameOutcome(failed_commit_not_rolled_back)

    async def test_failed_flush_not_rolled_back(self):
        # The same after a flush() that failed: the commit raises PendingRollbackError and
        # assertCommitted accepts nothing, as on a real session.
        await self.assertSameOutcome(failed_flush_not_rolled_back)

    async def test_savepoint_after_a_failed_flush(self):
        # begin_nested() raises PendingRollbackError too, as on a real session
        await self.assertSameOutcome(savepoint_after_a_failed_flush)


def _no_driver_transactions(dbapi_connection, connection_record):
    dbapi_connection.isolation_level = None


def _emit_begin(connection):
    connection.exec_driver_sql("BEGIN")


if __name__ == "__main__":
    unittest.main()
