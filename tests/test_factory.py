"""Tests for the session factory stand-in: self.session_factory and patchSessionFactory()."""

import sys
import unittest

import sqlalchemy.ext.asyncio
from sqlalchemy import Column, Integer, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import StaticPool

from asyncsessiontest import AsyncSessionTestCase, SessionFactoryStandIn

Base = declarative_base()


class Account(Base):
    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True)
    name = Column(String(20), unique=True, nullable=False)

    def __repr__(self):
        return f"<Account {self.name}>"


class SpecialSession(AsyncSession):
    """A project's own session class."""


def real_factory(bind=None):
    """Return the factory a project builds: async_sessionmaker on 2.0+, sessionmaker on 1.4."""
    async_sessionmaker = getattr(sqlalchemy.ext.asyncio, "async_sessionmaker", None)
    if async_sessionmaker is None:
        return sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)
    return async_sessionmaker(bind, expire_on_commit=False)


# The module-level factory that patchSessionFactory() replaces in these tests.
SessionLocal = real_factory()
ORIGINAL_SESSION_LOCAL = SessionLocal
TARGET = f"{__name__}.SessionLocal"


def run_test(test):
    result = unittest.TestResult()
    test.run(result)
    return result


def messages(result):
    return [traceback.strip().splitlines()[-1] for _, traceback in result.failures + result.errors]


class SessionFactoryTest(AsyncSessionTestCase):
    def test_is_a_session_factory_stand_in(self):
        self.assertIsInstance(self.session_factory, SessionFactoryStandIn)

    def test_is_the_same_object_throughout_a_test(self):
        self.assertIs(self.session_factory, self.session_factory)

    def test_calling_it_returns_the_session_and_records_the_arguments(self):
        self.assertIs(self.session_factory(), self.session)
        self.assertIs(self.session_factory(expire_on_commit=False), self.session)

        self.assertEqual(self.session_factory.calls, [{}, {"expire_on_commit": False}])

    async def test_async_with_yields_the_session_and_closes_it(self):
        async with self.session_factory() as session:
            self.assertIs(session, self.session)
            session.add(Account(name="ada"))

        self.assertEqual(
            repr(self.session_history),
            "1. async with session: enter\n2. add(<Account ada>)\n3. async with session: exit",
        )
        self.assertClosed()
        self.assertNotCommitted()

    async def test_async_with_and_an_explicit_commit(self):
        account = Account(name="ada")

        async with self.session_factory() as session:
            session.add(account)
            await session.commit()

        self.assertCommitted(account)
        self.assertClosed()

    async def test_begin_yields_the_session_commits_and_closes(self):
        account = Account(name="ada")

        async with self.session_factory.begin() as session:
            self.assertIs(session, self.session)
            session.add(account)

        self.assertEqual(
            repr(self.session_history),
            "1. begin()\n2. transaction: begin\n3. add(<Account ada>)\n"
            "4. transaction: commit\n5. async with session: exit",
        )
        self.assertCommitted(account)
        self.assertNotRolledBack()
        self.assertClosed()
        # as with a real factory, the block commits through its transaction
        self.session.commit.assert_not_awaited()

    async def test_begin_rolls_back_on_an_exception_and_lets_it_through(self):
        account = Account(name="ada")

        with self.assertRaisesRegex(ValueError, "^refused$"):
            async with self.session_factory.begin() as session:
                session.add(account)
                raise ValueError("refused")

        self.assertEqual(
            repr(self.session_history),
            "1. begin()\n2. transaction: begin\n3. add(<Account ada>)\n"
            "4. transaction: rollback\n5. async with session: exit",
        )
        self.assertRolledBack()
        self.assertNotCommitted()
        self.assertClosed()
        with self.assertRaises(self.failureException) as caught:
            self.assertCommitted(account)
        self.assertEqual(
            str(caught.exception).splitlines()[0],
            "Expected <Account ada> to be committed; add(<Account ada>) (operation 3) was undone "
            "by transaction: rollback (operation 4).",
        )

    async def test_begin_records_the_transaction_as_session_begin_does(self):
        async with self.session_factory.begin():
            pass
        through_factory = [op.describe_call() for op in self.session_history]

        async with self.session.begin():
            pass
        through_session = [op.describe_call() for op in self.session_history][
            len(through_factory) :
        ]

        self.assertEqual(through_factory[:-1], through_session)
        self.assertEqual(through_factory[-1], "async with session: exit")

    async def test_begin_with_a_failing_commit_raises_rolls_back_and_closes(self):
        self.session.commit.side_effect = IntegrityError(
            "INSERT INTO accounts", {}, Exception("UNIQUE constraint failed")
        )

        with self.assertRaises(IntegrityError):
            async with self.session_factory.begin() as session:
                session.add(Account(name="ada"))

        self.assertNotCommitted()
        self.assertRolledBack()
        self.assertClosed()

    async def test_each_session_handed_out_starts_without_a_transaction(self):
        # in production each call makes a new session: what the test did on self.session
        # before (which began its transaction) does not make begin() fail on it
        await self.session.execute(select(Account))
        self.assertTrue(self.session.in_transaction())

        async with self.session_factory.begin() as session:
            session.add(Account(name="a"))
        async with self.session_factory() as session:
            await session.execute(select(Account))
            self.assertTrue(session.in_transaction())
        async with self.session_factory() as session:
            async with session.begin():
                session.add(Account(name="b"))

        self.assertFalse(self.session.in_transaction())
        self.assertEqual(self.session.commit.await_count, 0)

    async def test_blocks_of_begin_inside_each_other_raise_no_error(self):
        # two sessions in production, so no "transaction already begun" (the inner block's
        # close still ends the outer transaction: the test has one session)
        async with self.session_factory.begin() as outer:
            outer.add(Account(name="a"))
            async with self.session_factory.begin() as inner:
                inner.add(Account(name="b"))
        self.assertEqual(self.session.add.call_count, 2)
        self.assertFalse(self.session.in_transaction())

    async def test_a_session_of_the_factory_begins_inside_another_ones_block(self):
        async with self.session_factory.begin() as outer:
            outer.add(Account(name="a"))
            async with self.session_factory() as inner:
                async with inner.begin():
                    inner.add(Account(name="b"))
        self.assertEqual(self.session.add.call_count, 2)

    def test_configure_records_the_arguments(self):
        self.session_factory.configure(expire_on_commit=False)
        self.session_factory.configure(autoflush=False)

        self.assertEqual(self.session_factory.kw, {"expire_on_commit": False, "autoflush": False})

    def test_class_is_the_session_class(self):
        self.assertIs(self.session_factory.class_, AsyncSession)
        # a real factory's class_ is a subclass it makes of the class it was given
        self.assertTrue(issubclass(real_factory().class_, self.session_factory.class_))

    def test_repr_names_the_session(self):
        self.assertEqual(
            repr(self.session_factory), f"<SessionFactoryStandIn for {self.session!r}>"
        )

    async def test_an_object_keeping_a_factory_can_be_given_the_stand_in(self):
        class Service:
            def __init__(self):
                self.session_local = SessionLocal

            async def open_account(self, name):
                async with self.session_local.begin() as session:
                    session.add(Account(name=name))

        service = Service()
        service.session_local = self.session_factory

        await service.open_account("ada")

        self.assertAdded(Account)
        self.assertCommitted()
        self.assertIs(SessionLocal, ORIGINAL_SESSION_LOCAL)


class SessionFactoryOfASessionSubclassTest(AsyncSessionTestCase):
    session_class = SpecialSession

    def test_class_is_the_session_class(self):
        self.assertIs(self.session_factory.class_, SpecialSession)
        self.assertIsInstance(self.session_factory(), SpecialSession)


class SessionFactoryPerTestTest(unittest.TestCase):
    def test_each_test_gets_its_own_stand_in_for_its_own_session(self):
        seen = []

        class Inner(AsyncSessionTestCase):
            def test_one(self):
                seen.append((self.session_factory, self.session_factory()))

            def test_two(self):
                seen.append((self.session_factory, self.session_factory()))

        result = unittest.TestResult()
        unittest.TestSuite([Inner("test_one"), Inner("test_two")]).run(result)

        self.assertTrue(result.wasSuccessful(), messages(result))
        (factory_one, session_one), (factory_two, session_two) = seen
        self.assertIsNot(factory_one, factory_two)
        self.assertIsNot(session_one, session_two)
        self.assertIs(factory_one.session, session_one)
        self.assertIs(factory_two.session, session_two)


class PatchSessionFactoryTest(AsyncSessionTestCase):
    async def test_replaces_the_target_with_the_stand_in_and_returns_it(self):
        returned = self.patchSessionFactory(TARGET)

        self.assertIs(returned, self.session_factory)
        self.assertIs(sys.modules[__name__].SessionLocal, self.session_factory)
        async with SessionLocal.begin() as session:
            self.assertIs(session, self.session)
        self.assertCommitted()

    def test_a_missing_attribute_raises_attribute_error_naming_it(self):
        module = sys.modules[__name__]

        with self.assertRaises(AttributeError) as caught:
            self.patchSessionFactory(f"{__name__}.NoSuchFactory")

        self.assertEqual(
            str(caught.exception),
            f"patchSessionFactory(): cannot patch '{__name__}.NoSuchFactory', it does not "
            f"exist: {module!r} does not have the attribute 'NoSuchFactory'",
        )
        self.assertFalse(hasattr(module, "NoSuchFactory"))

    def test_a_missing_module_raises_module_not_found_error_naming_it(self):
        with self.assertRaises(ModuleNotFoundError) as caught:
            self.patchSessionFactory("no_such_module_of_asyncsessiontest.SessionLocal")

        self.assertEqual(
            str(caught.exception),
            "patchSessionFactory(): cannot patch 'no_such_module_of_asyncsessiontest."
            "SessionLocal', it does not exist: No module named "
            "'no_such_module_of_asyncsessiontest'",
        )

    def test_a_missing_submodule_raises_module_not_found_error_naming_it(self):
        # ModuleNotFoundError on every Python, though mock.patch alone reports a missing
        # submodule as a missing attribute from 3.11 on (it resolves with pkgutil.resolve_name).
        with self.assertRaises(ModuleNotFoundError) as caught:
            self.patchSessionFactory("unittest.no_such_module.SessionLocal")

        self.assertEqual(
            str(caught.exception),
            "patchSessionFactory(): cannot patch 'unittest.no_such_module.SessionLocal', it "
            "does not exist: No module named 'unittest.no_such_module'",
        )

    def test_a_name_without_a_dot_raises_type_error(self):
        for target in ("SessionLocal", ""):
            with self.subTest(target=target):
                with self.assertRaises(TypeError) as caught:
                    self.patchSessionFactory(target)

                self.assertEqual(
                    str(caught.exception),
                    "patchSessionFactory(): target must be a dotted path such as "
                    f"'app.db.SessionLocal', got {target!r}",
                )

    def test_a_target_that_is_not_a_string_raises_type_error(self):
        for target in (None, SessionLocal, b"app.db.SessionLocal"):
            with self.subTest(target=target):
                with self.assertRaises(TypeError) as caught:
                    self.patchSessionFactory(target)

                self.assertEqual(
                    str(caught.exception),
                    "patchSessionFactory(): target must be a dotted path such as "
                    f"'app.db.SessionLocal', got {target!r}",
                )

    def test_a_path_with_an_empty_part_raises_type_error_naming_it(self):
        # An empty part is refused with the library's TypeError, not mock.patch's bare
        # ValueError ("Empty module name", "invalid format: ''").
        with self.assertRaises(TypeError) as caught:
            self.patchSessionFactory(".SessionLocal")

        self.assertEqual(
            str(caught.exception),
            "patchSessionFactory(): target must be a dotted path such as "
            "'app.db.SessionLocal', got '.SessionLocal'",
        )

    async def test_patching_twice_hands_out_the_same_stand_in(self):
        # PatchSessionFactoryRestoresTest checks that the original comes back after this
        self.assertIs(self.patchSessionFactory(TARGET), self.patchSessionFactory(TARGET))
        self.assertIs(SessionLocal, self.session_factory)


class PatchSessionFactoryRestoresTest(unittest.TestCase):
    """The original factory is back after the test, however the test ended."""

    def make_test(self, method_name, seen):
        class Inner(AsyncSessionTestCase):
            strict = True

            async def asyncSetUp(self):
                await super().asyncSetUp()
                if method_name == "test_setup_fails":
                    self.patchSessionFactory(TARGET)
                    seen.append(SessionLocal)
                    raise RuntimeError("asyncSetUp broke")

            async def test_passes(self):
                self.patchSessionFactory(TARGET)
                seen.append(SessionLocal)

            async def test_fails(self):
                self.patchSessionFactory(TARGET)
                seen.append(SessionLocal)
                self.fail("deliberate failure")

            async def test_raises(self):
                self.patchSessionFactory(TARGET)
                seen.append(SessionLocal)
                raise LookupError("deliberate error")

            async def test_fails_at_the_end(self):
                self.patchSessionFactory(TARGET)
                seen.append(SessionLocal)
                self.addResult([1])  # never used: strict mode fails the test at its end

            async def test_patches_twice(self):
                self.patchSessionFactory(TARGET)
                self.patchSessionFactory(TARGET)
                seen.append(SessionLocal)

            async def test_setup_fails(self):
                raise AssertionError("never runs")

        return Inner(method_name)

    def check(self, method_name, failures, errors, last_line):
        seen = []
        test = self.make_test(method_name, seen)

        result = run_test(test)

        self.assertEqual(
            (result.testsRun, len(result.failures), len(result.errors)), (1, failures, errors)
        )
        self.assertEqual(messages(result), [last_line] if last_line else [])
        self.assertEqual(len(seen), 1)
        self.assertIsInstance(seen[0], SessionFactoryStandIn)
        self.assertIs(sys.modules[__name__].SessionLocal, ORIGINAL_SESSION_LOCAL)

    def test_after_a_passing_test(self):
        self.check("test_passes", 0, 0, None)

    def test_after_a_failing_test(self):
        self.check("test_fails", 1, 0, "AssertionError: deliberate failure")

    def test_after_an_error(self):
        self.check("test_raises", 0, 1, "LookupError: deliberate error")

    def test_after_a_failure_of_the_end_of_test_checks(self):
        self.check(
            "test_fails_at_the_end",
            1,
            0,
            "1. <CannedResult ['column_1']: 1 row(s)> (queued), times=1, used 0",
        )

    def test_after_patching_twice(self):
        self.check("test_patches_twice", 0, 0, None)

    def test_after_an_error_in_asyncSetUp(self):
        self.check("test_setup_fails", 0, 1, "RuntimeError: asyncSetUp broke")


# -- the same code with a real factory on SQLite, and with the stand-in ---------------------------


async def open_in_begin(factory, name, fail=False):
    async with factory.begin() as session:
        session.add(Account(name=name))
        if fail:
            raise ValueError("refused")


async def open_and_commit(factory, name, fail=False):
    async with factory() as session:
        session.add(Account(name=name))
        if fail:
            raise ValueError("refused")
        await session.commit()


async def open_without_commit(factory, name, fail=False):
    async with factory() as session:
        session.add(Account(name=name))


async def open_and_close_by_hand(factory, name, fail=False):
    session = factory()
    try:
        session.add(Account(name=name))
        if fail:
            raise ValueError("refused")
        await session.commit()
    finally:
        await session.close()


class RealFactoryParityTest(AsyncSessionTestCase):
    """The same code commits or rolls back alike with a real factory and with the stand-in."""

    asyncio_debug = False  # aiosqlite's thread hand-offs trip debug mode's slow-callback log

    async def asyncSetUp(self):
        await super().asyncSetUp()
        engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
        self.addAsyncCleanup(engine.dispose)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        self.real = real_factory(engine)
        async with self.real.begin() as session:
            session.add(Account(name="taken"))

    async def count_accounts(self):
        async with self.real() as session:
            return await session.scalar(select(func.count()).select_from(Account))

    async def outcome_with_real_factory(self, code, name, fail):
        before = await self.count_accounts()
        try:
            await code(self.real, name, fail)
        except Exception as error:
            raised = type(error).__name__
        else:
            raised = None
        return raised, await self.count_accounts() == before + 1

    async def outcome_with_stand_in(self, code, name, fail):
        if name == "taken":
            self.session.commit.side_effect = IntegrityError(
                "INSERT INTO accounts", {}, Exception("UNIQUE constraint failed")
            )
        try:
            await code(self.session_factory, name, fail)
        except Exception as error:
            raised = type(error).__name__
        else:
            raised = None
        added = [op.args[0] for op in self.session_history if op.method == "add" and op.args]
        self.assertEqual(len(added), 1)
        try:
            self.assertCommitted(added[0])
        except self.failureException:
            committed = False
        else:
            committed = True
        self.assertClosed()
        return raised, committed

    async def check(self, code, name, fail, expected):
        real = await self.outcome_with_real_factory(code, name, fail)
        stand_in = await self.outcome_with_stand_in(code, name, fail)

        self.assertEqual(real, expected, "the real factory")
        self.assertEqual(stand_in, expected, "the stand-in")

    def test_the_real_factory_of_this_sqlalchemy(self):
        async_sessionmaker = getattr(sqlalchemy.ext.asyncio, "async_sessionmaker", None)
        if sqlalchemy.__version__.startswith("1.4"):
            self.assertIsNone(async_sessionmaker)
            self.assertIsInstance(self.real, sessionmaker)
        else:
            self.assertIsInstance(self.real, async_sessionmaker)
        self.assertTrue(issubclass(self.real.class_, AsyncSession))

    async def test_begin_block_left_cleanly_commits(self):
        await self.check(open_in_begin, "ada", False, (None, True))

    async def test_begin_block_left_by_an_exception_rolls_back(self):
        await self.check(open_in_begin, "ada", True, ("ValueError", False))

    async def test_begin_block_whose_commit_fails_rolls_back(self):
        await self.check(open_in_begin, "taken", False, ("IntegrityError", False))

    async def test_explicit_commit_commits(self):
        await self.check(open_and_commit, "ada", False, (None, True))

    async def test_exception_before_the_commit_commits_nothing(self):
        await self.check(open_and_commit, "ada", True, ("ValueError", False))

    async def test_failing_explicit_commit(self):
        await self.check(open_and_commit, "taken", False, ("IntegrityError", False))

    async def test_block_without_commit_commits_nothing(self):
        await self.check(open_without_commit, "ada", False, (None, False))

    async def test_session_closed_by_hand_after_commit(self):
        await self.check(open_and_close_by_hand, "ada", False, (None, True))

    async def test_session_closed_by_hand_after_an_exception(self):
        await self.check(open_and_close_by_hand, "ada", True, ("ValueError", False))


if __name__ == "__main__":
    unittest.main()
