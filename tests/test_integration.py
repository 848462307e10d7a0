"""Tests of the mixin in suites that already exist, and of the sample project's recipes.

Other base classes in either documented order, the project's own hooks, unittest.mock.patch
decorators, subTest, async cleanups, enterAsyncContext, class fixtures, the asyncio_debug
switch; then the sample project of tests/sample_project (whose code docs/legacy.rst shows),
against the stand-ins and against a real database.
"""

import asyncio
import gc
import importlib
import os
import sys
import unittest
import warnings
from pathlib import Path
from unittest import mock

import sqlalchemy
import sqlalchemy.ext.asyncio
from sqlalchemy import Column, Integer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import declarative_base, sessionmaker

from asyncsessiontest import (
    AsyncSessionMixin,
    AsyncSessionTestCase,
    SessionFactoryStandIn,
    SessionNotSetUpError,
)

SAMPLE_PROJECT = Path(__file__).resolve().parent / "sample_project"

# The recipe modules docs/legacy.rst includes, and how many tests each holds.
RECIPES = {
    "recipe_patch_factory": 4,
    "recipe_factory_argument": 3,
    "recipe_repository": 2,
    "recipe_fastapi": 3,
    "recipe_base_classes": 1,
}


def _sample_modules():
    return [
        name for name in sys.modules if name == "app" or name.startswith("app.") or name in RECIPES
    ]


def setUpModule():
    # the sample project is a directory of its own, as a user's project would be: its "app"
    # package is importable once the directory is on the path
    existing = sys.modules.get("app")
    if existing is not None and not str(existing.__file__).startswith(str(SAMPLE_PROJECT)):
        raise RuntimeError(f"another 'app' package is imported already: {existing!r}")
    sys.path.insert(0, str(SAMPLE_PROJECT))


def tearDownModule():
    sys.path.remove(str(SAMPLE_PROJECT))
    for name in _sample_modules():
        del sys.modules[name]


class Thing(declarative_base()):  # type: ignore[misc]
    __tablename__ = "things"
    id = Column(Integer, primary_key=True)

    def __repr__(self):
        return "<Thing>"


def run_tests(*tests):
    result = unittest.TestResult()
    unittest.TestSuite(tests).run(result)
    return result


def problems(result):
    return "\n".join(traceback for _, traceback in result.failures + result.errors)


# -- a project's existing base classes ---------------------------------------------------------


class ProjectTestCase(unittest.IsolatedAsyncioTestCase):
    """A project's base class, older than asyncsessiontest, with hooks of its own."""

    def setUp(self):
        super().setUp()
        self.events = ["ProjectTestCase.setUp"]

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.events.append("ProjectTestCase.asyncSetUp")
        self.session_in_asyncSetUp = self.session
        self.debug_in_asyncSetUp = asyncio.get_running_loop().get_debug()


class ProjectMixin:
    """A mixin of a project's, placed before AsyncSessionMixin in the bases."""

    def setUp(self):
        super().setUp()
        self.events = ["ProjectMixin.setUp"]
        self.session_in_setUp = self.session

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.events.append("ProjectMixin.asyncSetUp")
        self.session_in_asyncSetUp = self.session
        self.debug_in_asyncSetUp = asyncio.get_running_loop().get_debug()


class MixinBeforeProjectBaseTest(AsyncSessionMixin, ProjectTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.events.append("MixinBeforeProjectBaseTest.asyncSetUp")
        self.addResult([7])

    async def test_the_project_hooks_ran_with_the_session_ready(self):
        self.assertEqual(
            self.events,
            [
                "ProjectTestCase.setUp",
                "ProjectTestCase.asyncSetUp",
                "MixinBeforeProjectBaseTest.asyncSetUp",
            ],
        )
        self.assertIs(self.session_in_asyncSetUp, self.session)

    async def test_answers_configured_in_asyncSetUp_are_used(self):
        self.assertEqual(await self.session.scalar(sqlalchemy.text("SELECT 7")), 7)

    def test_is_an_isolated_asyncio_test_case(self):
        self.assertIsInstance(self, unittest.IsolatedAsyncioTestCase)
        self.assertIsInstance(self.session, AsyncSession)


class ProjectMixinFirstTest(ProjectMixin, AsyncSessionMixin, unittest.IsolatedAsyncioTestCase):
    async def test_the_project_hooks_ran_with_the_session_ready(self):
        self.assertEqual(self.events, ["ProjectMixin.setUp", "ProjectMixin.asyncSetUp"])
        self.assertIs(self.session_in_setUp, self.session)
        self.assertIs(self.session_in_asyncSetUp, self.session)

    async def test_the_session_works(self):
        await self.session.commit()

        self.assertCommitted()


class LifecycleTest(unittest.TestCase):
    """Every hook of a project's test, in order, sees the session; it is gone after the test."""

    def run_lifecycle(self, bases):
        log = []

        def session_state(test):
            try:
                test.session  # noqa: B018
            except SessionNotSetUpError:
                return "no session"
            return "session"

        class Inner(*bases):
            def setUp(self):
                super().setUp()
                log.append(("setUp", session_state(self)))

            async def asyncSetUp(self):
                await super().asyncSetUp()
                log.append(("asyncSetUp", session_state(self)))
                self.addAsyncCleanup(self.async_cleanup)
                self.addCleanup(lambda: log.append(("cleanup", session_state(self))))

            async def async_cleanup(self):
                await self.session.close()
                log.append(("async cleanup", session_state(self), len(self.session_history)))

            async def test_it(self):
                self.session.add(Thing(id=1))
                log.append(("test", session_state(self)))

            async def asyncTearDown(self):
                log.append(("asyncTearDown", session_state(self)))
                await super().asyncTearDown()

            def tearDown(self):
                log.append(("tearDown", session_state(self)))
                super().tearDown()

        test = Inner("test_it")
        result = run_tests(test)

        self.assertTrue(result.wasSuccessful(), problems(result))
        log.append(("after the test", session_state(test)))
        return log, test

    def check(self, bases):
        log, test = self.run_lifecycle(bases)

        self.assertEqual(
            log,
            [
                ("setUp", "session"),
                ("asyncSetUp", "session"),
                ("test", "session"),
                ("asyncTearDown", "session"),
                ("tearDown", "session"),
                ("cleanup", "session"),
                ("async cleanup", "session", 2),
                ("after the test", "no session"),
            ],
        )
        with self.assertRaises(SessionNotSetUpError) as caught:
            test.session_factory  # noqa: B018
        self.assertEqual(
            str(caught.exception),
            "self.session of Inner is only available while a test runs (from setUp() to the "
            "cleanups); each test gets a new one.",
        )

    def test_mixin_before_the_project_base_class(self):
        self.check((AsyncSessionMixin, ProjectTestCase))

    def test_project_mixin_first(self):
        self.check((ProjectMixin, AsyncSessionMixin, unittest.IsolatedAsyncioTestCase))

    def test_the_ready_made_test_case(self):
        self.check((AsyncSessionTestCase,))


# -- unittest.mock.patch decorators ----------------------------------------------------------


@mock.patch("os.getcwd", return_value="/patched/by/the/class")
class MockPatchDecoratorsTest(AsyncSessionTestCase):
    async def test_class_decorator(self, getcwd):
        self.assertEqual(os.getcwd(), "/patched/by/the/class")
        await self.session.commit()

        self.assertCommitted()
        getcwd.assert_called_once_with()

    @mock.patch("os.getpid", return_value=42)
    async def test_method_and_class_decorators(self, getpid, getcwd):
        self.assertEqual((os.getpid(), os.getcwd()), (42, "/patched/by/the/class"))
        self.session.add(Thing(id=getpid()))

        self.assertEqual([op.method for op in self.session_history], ["add"])


class MockPatchWithAFailingEndOfTestCheckTest(unittest.TestCase):
    def test_end_of_test_checks_run_inside_the_patched_method(self):
        class Inner(AsyncSessionTestCase):
            @mock.patch("os.getpid", return_value=42)
            async def test_leaves_a_coroutine(self, getpid):
                self.session.commit()  # never awaited

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine ... never awaited"
            result = run_tests(Inner("test_leaves_a_coroutine"))
            gc.collect()

        self.assertEqual(len(result.failures), 1)
        self.assertIn(
            "Session coroutines created but never awaited:\ncommit() called at ",
            result.failures[0][1],
        )
        self.assertNotEqual(os.getpid(), 42)


# -- subTest, cleanups, enterAsyncContext, class fixtures ---------------------------------------


class SubTestTest(AsyncSessionTestCase):
    async def test_each_subtest_sees_the_one_session(self):
        self.patchSessionFactory("app.users.SessionLocal")
        from app.users import create_user

        for number, name in enumerate(["ada", "bob"], 1):
            with self.subTest(name=name):
                await create_user(name)

                self.assertEqual(self.session.add.call_count, number)
                self.assertCommitted()


class SubTestFailureTest(unittest.TestCase):
    def test_a_failing_subtest_is_reported_once(self):
        class Inner(AsyncSessionTestCase):
            async def test_subtests(self):
                for value in (1, 2):
                    with self.subTest(value=value):
                        self.assertEqual(value, 1)
                await self.session.commit()

        result = run_tests(Inner("test_subtests"))

        self.assertEqual(len(result.failures), 1)
        self.assertIn("(value=2)", str(result.failures[0][0]))
        self.assertTrue(result.failures[0][1].endswith("AssertionError: 2 != 1\n"))

    def test_a_test_with_a_failed_subtest_reports_only_that_failure(self):
        # The end-of-test checks are skipped after a failed subtest, although the test method
        # returned normally: the leftover queued result is a consequence of that failure.
        class Inner(AsyncSessionTestCase):
            strict = True

            async def test_subtests(self):
                self.addResult([1])
                with self.subTest("lookup"):
                    self.fail("the lookup is wrong")
                    await self.session.scalar(sqlalchemy.text("SELECT 1"))

        result = run_tests(Inner("test_subtests"))

        self.assertEqual(
            [traceback.strip().splitlines()[-1] for _, traceback in result.failures],
            ["AssertionError: the lookup is wrong"],
        )


class AsyncCleanupTest(unittest.TestCase):
    def test_an_async_cleanup_can_use_the_session_and_its_history(self):
        seen = []

        class Inner(AsyncSessionTestCase):
            async def asyncSetUp(self):
                await super().asyncSetUp()
                self.addAsyncCleanup(self.check_closed)

            async def check_closed(self):
                await self.session.close()
                seen.append(repr(self.session_history))
                self.assertClosed()

            async def test_adds(self):
                self.session.add(Thing())

        result = run_tests(Inner("test_adds"))

        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(seen, ["1. add(<Thing>)\n2. close()"])

    def test_a_failing_async_cleanup_fails_the_test(self):
        class Inner(AsyncSessionTestCase):
            async def asyncSetUp(self):
                await super().asyncSetUp()
                self.addAsyncCleanup(self.check_committed)

            async def check_committed(self):
                self.assertCommitted()

            async def test_forgets_to_commit(self):
                self.session.add(Thing(id=1))

        result = run_tests(Inner("test_forgets_to_commit"))

        self.assertEqual(len(result.failures), 1)
        self.assertIn(
            "AssertionError: Expected a commit; none happened.\nSession history:\n"
            "1. add(<Thing>)",
            result.failures[0][1],
        )


class EnterAsyncContextTest(unittest.TestCase):
    def test_enter_async_context_with_the_factory(self):
        if sys.version_info < (3, 11):
            # enterAsyncContext arrived in Python 3.11, and the mixin does not add it
            self.assertFalse(hasattr(unittest.IsolatedAsyncioTestCase, "enterAsyncContext"))
            self.assertFalse(hasattr(AsyncSessionTestCase, "enterAsyncContext"))
            return
        seen = []

        class Inner(AsyncSessionTestCase):
            async def asyncSetUp(self):
                await super().asyncSetUp()
                # registered first, so it runs after the context has been left
                self.addAsyncCleanup(self.record)
                self.entered = await self.enterAsyncContext(self.session_factory.begin())

            async def record(self):
                seen.append(repr(self.session_history))
                self.assertCommitted()
                self.assertClosed()

            async def test_uses_the_session(self):
                self.assertIs(self.entered, self.session)
                self.assertTrue(self.session.in_transaction())

        result = run_tests(Inner("test_uses_the_session"))

        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(
            seen,
            [
                "1. begin()\n2. transaction: begin\n3. in_transaction()\n"
                "4. transaction: commit\n5. async with session: exit"
            ],
        )


class ClassFixturesTest(AsyncSessionMixin, ProjectTestCase):
    asyncio_debug = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.set_up_classes = getattr(cls, "set_up_classes", 0) + 1
        cls.shared_names = ("ada", "bob")

    @classmethod
    def tearDownClass(cls):
        cls.shared_names = None
        super().tearDownClass()

    async def test_class_attributes_and_a_fresh_session(self):
        self.assertEqual(self.set_up_classes, 1)
        self.assertEqual(self.shared_names, ("ada", "bob"))
        self.assertEqual(list(self.session_history), [])
        self.session.add(Thing(id=len(self.shared_names)))

    async def test_class_attributes_and_a_fresh_session_again(self):
        self.assertEqual(self.set_up_classes, 1)
        self.assertEqual(list(self.session_history), [])
        self.session.add(Thing(id=len(self.shared_names)))


# -- the asyncio_debug switch ----------------------------------------------------------------


class DebugModeByDefaultTest(AsyncSessionTestCase):
    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.debug_in_asyncSetUp = asyncio.get_running_loop().get_debug()

    async def test_the_loop_is_in_debug_mode(self):
        self.assertTrue(self.debug_in_asyncSetUp)
        self.assertTrue(asyncio.get_running_loop().get_debug())


class DebugModeOffTest(AsyncSessionTestCase):
    asyncio_debug = False

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.debug_in_asyncSetUp = asyncio.get_running_loop().get_debug()

    async def test_the_loop_is_not_in_debug_mode(self):
        self.assertFalse(self.debug_in_asyncSetUp)
        self.assertFalse(asyncio.get_running_loop().get_debug())


class DebugModeOffWithAProjectBaseTest(AsyncSessionMixin, ProjectTestCase):
    asyncio_debug = False

    async def test_the_loop_is_not_in_debug_mode(self):
        self.assertFalse(self.debug_in_asyncSetUp)
        self.assertFalse(asyncio.get_running_loop().get_debug())


class DebugModeByDefaultWithAProjectBaseTest(AsyncSessionMixin, ProjectTestCase):
    async def test_the_loop_is_in_debug_mode(self):
        self.assertTrue(self.debug_in_asyncSetUp)
        self.assertTrue(asyncio.get_running_loop().get_debug())


class DebugModeOffWithAProjectMixinFirstTest(
    ProjectMixin, AsyncSessionMixin, unittest.IsolatedAsyncioTestCase
):
    asyncio_debug = False

    async def test_the_loop_is_not_in_debug_mode(self):
        self.assertFalse(self.debug_in_asyncSetUp)
        self.assertFalse(asyncio.get_running_loop().get_debug())


class DebugModeSequenceTest(unittest.TestCase):
    def test_switching_it_off_for_one_class_leaves_the_next_test_in_debug_mode(self):
        seen = []

        class Off(AsyncSessionTestCase):
            asyncio_debug = False

            async def test_it(self):
                seen.append(("off", asyncio.get_running_loop().get_debug()))

        class On(AsyncSessionTestCase):
            async def test_it(self):
                seen.append(("on", asyncio.get_running_loop().get_debug()))

        result = run_tests(Off("test_it"), On("test_it"), Off("test_it"))

        self.assertTrue(result.wasSuccessful(), problems(result))
        self.assertEqual(seen, [("off", False), ("on", True), ("off", False)])


# -- the sample project ------------------------------------------------------------------------


class RecipesTest(unittest.TestCase):
    """Each recipe docs/legacy.rst includes runs, and passes."""

    def test_every_recipe_passes(self):
        for name, count in RECIPES.items():
            with self.subTest(recipe=name):
                module = importlib.import_module(name)
                suite = unittest.defaultTestLoader.loadTestsFromModule(module)
                result = unittest.TestResult()

                suite.run(result)

                self.assertEqual(result.testsRun, count)
                self.assertTrue(result.wasSuccessful(), problems(result))

    def test_the_recipes_leave_the_sample_project_as_they_found_it(self):
        import app.db
        import app.main
        import app.users

        for name in RECIPES:
            suite = unittest.defaultTestLoader.loadTestsFromModule(importlib.import_module(name))
            suite.run(unittest.TestResult())

        self.assertIs(app.users.SessionLocal, app.db.SessionLocal)
        self.assertIs(app.main.SessionLocal, app.db.SessionLocal)
        self.assertEqual(app.main.app.dependency_overrides, {})


class SampleFactoryTest(unittest.TestCase):
    def test_the_sample_builds_the_factory_of_this_sqlalchemy(self):
        from app.db import SessionLocal

        async_sessionmaker = getattr(sqlalchemy.ext.asyncio, "async_sessionmaker", None)
        if sqlalchemy.__version__.startswith("1.4"):
            self.assertIsNone(async_sessionmaker)
            self.assertIsInstance(SessionLocal, sessionmaker)
        else:
            self.assertIsInstance(SessionLocal, async_sessionmaker)
        self.assertTrue(issubclass(SessionLocal.class_, AsyncSession))


class PatchWhereUsedTest(AsyncSessionTestCase):
    def test_patching_the_defining_module_misses_a_module_that_imported_the_name(self):
        import app.db
        import app.users

        self.patchSessionFactory("app.db.SessionLocal")

        self.assertIs(app.db.SessionLocal, self.session_factory)
        self.assertIsNot(app.users.SessionLocal, self.session_factory)

    async def test_patching_the_name_where_it_is_looked_up(self):
        from app.users import create_user

        self.patchSessionFactory("app.users.SessionLocal")

        user = await create_user("ada")

        self.assertCommitted(user)

    def test_a_missing_attribute_of_the_sample_is_named(self):
        import app.users

        with self.assertRaises(AttributeError) as caught:
            self.patchSessionFactory("app.users.SessionMaker")

        self.assertEqual(
            str(caught.exception),
            "patchSessionFactory(): cannot patch 'app.users.SessionMaker', it does not exist: "
            f"{app.users!r} does not have the attribute 'SessionMaker'",
        )


class MockPatchOfTheFactoryTest(AsyncSessionTestCase):
    """What docs/legacy.rst says of patching the factory with unittest.mock.patch instead.

    (An AsyncSessionTestCase, though it uses no session, so that process-parallel runners
    can pickle it on Python 3.11+, as they cannot a plain IsolatedAsyncioTestCase.)
    """

    async def test_a_magic_mock_factory_yields_an_async_mock_instead_of_a_session(self):
        from app.users import create_user

        with mock.patch("app.users.SessionLocal") as session_local:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine never awaited"
                await create_user("ada")
                gc.collect()

        session = session_local.begin.return_value.__aenter__.return_value
        self.assertIsInstance(session, mock.AsyncMock)
        self.assertNotIsInstance(session, AsyncSession)
        # add() made a coroutine that nobody awaited
        session.add.assert_called_once()
        session.add.assert_not_awaited()


class PatchRestoredAfterFailureTest(unittest.TestCase):
    def test_the_sample_factory_is_restored_after_a_failing_test(self):
        import app.db
        import app.users

        seen = []

        class Inner(AsyncSessionTestCase):
            async def test_fails(self):
                self.patchSessionFactory("app.users.SessionLocal")
                seen.append(app.users.SessionLocal)
                await app.users.create_user("ada")
                self.assertNotCommitted()

        result = run_tests(Inner("test_fails"))

        self.assertEqual(len(result.failures), 1)
        self.assertIn(
            "AssertionError: Expected no commit; 1 happened: transaction: commit (operation 4).",
            result.failures[0][1],
        )
        self.assertIsInstance(seen[0], SessionFactoryStandIn)
        self.assertIs(app.users.SessionLocal, app.db.SessionLocal)


class DependencyOverrideTest(AsyncSessionTestCase):
    """The FastAPI recipe's core, on the plain dict FastAPI keeps its overrides in."""

    def setUp(self):
        super().setUp()
        from app.main import app

        self.overrides = app.dependency_overrides
        self.assertIs(type(self.overrides), dict)
        self.addCleanup(self.overrides.clear)

    async def test_the_override_hands_the_endpoint_self_session(self):
        from app.main import app, get_session, read_user

        self.overrides[get_session] = lambda: self.session
        self.addObject(self.user(5, "ada"))

        self.assertEqual(await app.call(read_user, user_id=5), {"id": 5, "name": "ada"})
        self.assertEqual(self.session.get.await_count, 1)

    async def test_the_dependency_yields_the_factory_session_and_closes_it(self):
        from app.main import get_session

        self.patchSessionFactory("app.main.SessionLocal")
        dependency = get_session()

        self.assertIs(await dependency.__anext__(), self.session)
        with self.assertRaises(AssertionError):
            self.assertClosed()
        with self.assertRaises(StopAsyncIteration):
            await dependency.__anext__()
        self.assertClosed()

    async def test_without_an_override_the_real_dependency_runs(self):
        from app.main import app, read_user

        self.patchSessionFactory("app.main.SessionLocal")

        self.assertEqual(await app.call(read_user, user_id=6), {"detail": "Not Found"})
        self.assertClosed()

    def user(self, user_id, name):
        from app.models import User

        return User(id=user_id, name=name)


class SampleAgainstARealDatabaseTest(AsyncSessionTestCase):
    """The sample's code on SQLite through its real factory, then through the stand-in: the
    same outcomes."""

    asyncio_debug = False  # aiosqlite's thread hand-offs trip debug mode's slow-callback log

    async def asyncSetUp(self):
        await super().asyncSetUp()
        import app.db
        from app.models import Base

        self.addAsyncCleanup(app.db.engine.dispose)
        async with app.db.engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.run_sync(Base.metadata.create_all)

    async def test_the_same_outcomes(self):
        import app.db
        from app.models import User
        from app.users import UserService, count_users, create_user, rename_user

        # through the real factory
        ada = await create_user("ada")
        with self.assertRaises(IntegrityError):
            await create_user("ada")
        await rename_user(ada.id, "ada2")
        with self.assertRaisesRegex(LookupError, "no user with id 99"):
            await rename_user(99, "x")
        with self.assertRaisesRegex(ValueError, "the name 'ada2' is taken"):
            await UserService().register("ada2")
        await UserService().register("bob")
        self.assertEqual(await count_users(app.db.SessionLocal), 2)
        async with app.db.SessionLocal() as session:
            self.assertEqual((await session.get(User, ada.id)).name, "ada2")

        # through the stand-in
        self.patchSessionFactory("app.users.SessionLocal")
        self.session.commit.side_effect = [
            None,
            IntegrityError("INSERT INTO users", {}, Exception("UNIQUE constraint failed")),
        ]
        user = await create_user("ada")
        self.assertCommitted(user)
        with self.assertRaises(IntegrityError):
            await create_user("ada")
        self.assertRolledBack()
        self.session.commit.side_effect = None
        self.addObject(User(id=1, name="ada"))
        await rename_user(1, "ada2")
        with self.assertRaisesRegex(LookupError, "no user with id 99"):
            await rename_user(99, "x")
        service = UserService()
        service.session_local = self.session_factory
        self.addResult([User(id=1, name="ada2")])
        with self.assertRaisesRegex(ValueError, "the name 'ada2' is taken"):
            await service.register("ada2")
        bob = await service.register("bob")
        self.assertCommitted(bob)
        self.addResult([2])
        self.assertEqual(await count_users(self.session_factory), 2)


if __name__ == "__main__":
    unittest.main()
