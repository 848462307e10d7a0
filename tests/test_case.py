"""AsyncSessionTestCase and AsyncSessionMixin: set-up, isolation, misuse, session_class.

Tests of the TestCase machinery run inner test classes programmatically (run_tests), from a
plain unittest.TestCase: an IsolatedAsyncioTestCase cannot be run from inside a running loop.
"""

import asyncio
import gc
import inspect
import unittest
import weakref
from unittest import mock

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from asyncsessiontest import AsyncSessionMixin, AsyncSessionTestCase, SessionNotSetUpError
from tests.support import User, run_tests


def not_set_up_message(culprit):
    return (
        f"self.session is not set up: {culprit} does not call super().setUp(), so "
        f"AsyncSessionMixin.setUp() never ran. Add super().setUp() to it "
        f"(first thing in the method, if setUp itself uses self.session)."
    )


class ClassesTest(unittest.TestCase):
    def test_testcase_is_an_isolated_asyncio_testcase_with_the_mixin(self):
        self.assertTrue(issubclass(AsyncSessionTestCase, unittest.IsolatedAsyncioTestCase))
        self.assertTrue(issubclass(AsyncSessionTestCase, AsyncSessionMixin))

    def test_default_session_class_is_async_session(self):
        self.assertIs(AsyncSessionTestCase.session_class, AsyncSession)
        self.assertIs(AsyncSessionMixin.session_class, AsyncSession)

    def test_exported_error_is_a_runtime_error(self):
        self.assertTrue(issubclass(SessionNotSetUpError, RuntimeError))


class MixinWithProjectBaseTest(unittest.TestCase):
    """class MyCase(AsyncSessionMixin, ProjectBaseCase) with the project's own hooks."""

    def test_project_hooks_run_and_see_the_same_session(self):
        events = []

        class ProjectBaseCase(unittest.IsolatedAsyncioTestCase):
            def setUp(self):
                super().setUp()
                events.append(("project setUp", self.session))

            async def asyncSetUp(self):
                await super().asyncSetUp()
                events.append(("project asyncSetUp", self.session))

            async def asyncTearDown(self):
                events.append(("project asyncTearDown", self.session))
                await super().asyncTearDown()

        class MyCase(AsyncSessionMixin, ProjectBaseCase):
            async def asyncSetUp(self):
                await super().asyncSetUp()
                events.append(("my asyncSetUp", self.session))

            async def test_uses_session(self):
                events.append(("test", self.session))
                result = await self.session.execute(select(User))
                events.append(("result", result.scalar_one_or_none()))

        result = run_tests(MyCase("test_uses_session"))

        self.assertTrue(result.wasSuccessful(), result.exceptions)
        self.assertEqual(
            [name for name, _ in events],
            ["project setUp", "project asyncSetUp", "my asyncSetUp", "test", "result", "project asyncTearDown"],
        )
        sessions = [value for name, value in events if name != "result"]
        self.assertTrue(all(session is sessions[0] for session in sessions))
        self.assertIsInstance(sessions[0], mock.AsyncMock)
        self.assertIsInstance(sessions[0], AsyncSession)
        self.assertEqual(dict(events)["result"], None)

    def test_mixin_without_project_setup_override(self):
        class ProjectBaseCase(unittest.IsolatedAsyncioTestCase):
            pass

        seen = []

        class MyCase(AsyncSessionMixin, ProjectBaseCase):
            async def test_get(self):
                seen.append(await self.session.get(User, 1))

        result = run_tests(MyCase("test_get"))

        self.assertTrue(result.wasSuccessful(), result.exceptions)
        self.assertEqual(seen, [None])


class IsolationTest(unittest.TestCase):
    """Nothing configured or recorded in one test is visible in the next."""

    def test_each_test_sees_a_fresh_session_after_a_failure_and_an_error(self):
        seen = {}

        class Inner(AsyncSessionTestCase):
            async def dirty_the_session(self):
                seen.setdefault("sessions", []).append(self.session)
                self.session.execute.return_value.scalar_one_or_none.return_value = "configured"
                self.session.get.return_value = "configured"
                self.session.info["key"] = "value"
                await self.session.begin()  # left open
                self.session.add(User(id=1))
                await self.session.execute(select(User))

            async def test_1_fails(self):
                await self.dirty_the_session()
                self.fail("deliberate failure")

            async def test_2_errors(self):
                await self.dirty_the_session()
                raise RuntimeError("deliberate error")

            async def test_3_passes(self):
                await self.dirty_the_session()

            async def test_4_clean(self):
                session = self.session
                seen["sessions"].append(session)
                seen["mock_calls"] = list(session.mock_calls)
                seen["execute.call_count"] = session.execute.call_count
                seen["add.call_count"] = session.add.call_count
                seen["history"] = list(self.session_history)
                seen["in_transaction"] = session.in_transaction()
                result = await session.execute(select(User))
                seen["scalar_one_or_none"] = result.scalar_one_or_none()
                seen["get"] = await session.get(User, 1)
                seen["info"] = session.info

        result = run_tests(
            Inner("test_1_fails"), Inner("test_2_errors"), Inner("test_3_passes"), Inner("test_4_clean")
        )

        self.assertEqual(str(result.exceptions["test_1_fails"]), "deliberate failure")
        self.assertEqual(str(result.exceptions["test_2_errors"]), "deliberate error")
        self.assertEqual(sorted(result.exceptions), ["test_1_fails", "test_2_errors"])
        self.assertEqual(len(seen["sessions"]), 4)
        self.assertEqual(len({id(session) for session in seen["sessions"]}), 4)
        self.assertEqual(seen["mock_calls"], [])
        self.assertEqual(seen["execute.call_count"], 0)
        self.assertEqual(seen["add.call_count"], 0)
        self.assertIsNone(seen["scalar_one_or_none"])
        self.assertIsNone(seen["get"])
        self.assertEqual(seen["info"], {})
        self.assertFalse(seen["in_transaction"])
        self.assertEqual(seen["history"], [])


    def test_a_finished_tests_session_is_freed_at_once_without_the_garbage_collector(self):
        # left to the collector, every finished test's session would make its passes, and so
        # every later test, slower
        alive = {}

        class Inner(AsyncSessionTestCase):
            async def test(self):
                user, statement = User(name="new"), select(User)
                alive.update(session=weakref.ref(self.session), user=weakref.ref(user))
                alive["statement"] = weakref.ref(statement)
                self.addResult([User(id=1)], statement=statement)
                (await self.session.execute(statement)).scalar_one()
                self.session.add(user)
                async with self.session_factory.begin() as session:
                    await session.flush()
                await self.session.begin_nested()
                await self.session.commit()
                self.assertCommitted(user)

        collecting = gc.isenabled()
        gc.disable()
        try:
            result = run_tests(Inner("test"))
            self.assertEqual(result.exceptions, {})
            self.assertEqual(
                {name: reference() for name, reference in alive.items()},
                {"session": None, "user": None, "statement": None},
            )
        finally:
            if collecting:
                gc.enable()


    def test_code_still_holding_the_session_after_the_test_can_go_on_using_it(self):
        # e.g. a task cancelled when the test's loop closes, cleaning up in its finally
        seen = {}

        async def worker(factory):
            try:
                await asyncio.sleep(3600)
            finally:
                async with factory.begin() as session:
                    await session.execute(select(User))
                    seen["session"] = session
                async with factory() as session:
                    seen["entered"] = session
                seen["flush"] = await session.flush()

        class Inner(AsyncSessionTestCase):
            async def test(self):
                seen["task"] = asyncio.ensure_future(worker(self.session_factory))
                await asyncio.sleep(0)

        result = run_tests(Inner("test"))

        self.assertEqual(result.exceptions, {})
        self.assertTrue(seen["task"].cancelled())
        self.assertIs(seen["entered"], seen["session"])
        self.assertIsNone(seen["flush"])
        self.assertEqual(seen["session"].execute.await_count, 1)

    def test_end_of_test_checks_see_what_tasks_did_in_the_tests_last_loop_turn(self):
        class Inner(AsyncSessionTestCase):
            strict = True

            async def test_hands_a_coroutine_to_a_task(self):
                self.task = asyncio.ensure_future(self.session.commit())

            async def test_a_task_executes_an_unconfigured_statement(self):
                async def execute():
                    try:
                        await self.session.execute(select(User))
                    except AssertionError:
                        pass  # the code under test swallows the failure

                self.task = asyncio.ensure_future(execute())

        result = run_tests(
            Inner("test_hands_a_coroutine_to_a_task"),
            Inner("test_a_task_executes_an_unconfigured_statement"),
        )

        self.assertEqual(sorted(result.exceptions), ["test_a_task_executes_an_unconfigured_statement"])
        self.assertTrue(
            str(result.exceptions["test_a_task_executes_an_unconfigured_statement"]).startswith(
                "Strict mode: No result configured for: SELECT users.id, users.name"
            )
        )


class SetUpMistakesTest(unittest.TestCase):
    def test_setup_without_super_raises_session_not_set_up_error_on_first_use(self):
        class Inner(AsyncSessionTestCase):
            def setUp(self):
                pass

            async def test_a(self):
                self.session.add(User())

        result = run_tests(Inner("test_a"))

        error = result.exceptions["test_a"]
        self.assertIs(type(error), SessionNotSetUpError)
        self.assertEqual(str(error), not_set_up_message("Inner.setUp()"))

    def test_message_names_every_setup_between_the_test_class_and_the_mixin(self):
        class Broken(AsyncSessionTestCase):
            def setUp(self):
                pass

        class Inner(Broken):
            def setUp(self):
                super().setUp()

            async def test_a(self):
                self.session  # noqa: B018

        result = run_tests(Inner("test_a"))

        self.assertEqual(
            str(result.exceptions["test_a"]), not_set_up_message("Inner.setUp() or Broken.setUp()")
        )

    def test_mixin_setup_skipped_names_the_class_and_not_attribute_error(self):
        class ProjectBaseCase(unittest.IsolatedAsyncioTestCase):
            pass

        class Inner(AsyncSessionMixin, ProjectBaseCase):
            def setUp(self):
                pass

            async def test_a(self):
                await self.session.commit()

        result = run_tests(Inner("test_a"))

        error = result.exceptions["test_a"]
        self.assertIs(type(error), SessionNotSetUpError)
        self.assertNotIsInstance(error, AttributeError)
        self.assertEqual(str(error), not_set_up_message("Inner.setUp()"))

    def test_async_setup_without_super_still_has_a_session(self):
        seen = []

        class Inner(AsyncSessionTestCase):
            async def asyncSetUp(self):
                seen.append(self.session)

            async def test_a(self):
                seen.append(self.session)
                seen.append(await self.session.scalar(select(User)))

        result = run_tests(Inner("test_a"))

        self.assertTrue(result.wasSuccessful(), result.exceptions)
        self.assertIs(seen[0], seen[1])
        self.assertIsNone(seen[2])

    def test_assigning_self_session_raises_attribute_error(self):
        class Inner(AsyncSessionTestCase):
            async def test_a(self):
                self.session = mock.AsyncMock()

        result = run_tests(Inner("test_a"))

        error = result.exceptions["test_a"]
        self.assertIs(type(error), AttributeError)
        self.assertEqual(
            str(error),
            "self.session is provided by AsyncSessionMixin and cannot be assigned (in Inner); "
            "configure the provided session instead, e.g. self.session.execute.return_value = ..., "
            "or remove the assignment",
        )

    def test_session_is_available_in_cleanups_and_gone_after_them(self):
        seen = []

        class Inner(AsyncSessionTestCase):
            async def test_a(self):
                seen.append(self.session)
                self.addCleanup(lambda: seen.append(self.session))
                self.addAsyncCleanup(self.async_cleanup)

            async def async_cleanup(self):
                seen.append(self.session)

        test = Inner("test_a")
        result = run_tests(test)

        self.assertTrue(result.wasSuccessful(), result.exceptions)
        self.assertEqual(len(seen), 3)
        self.assertTrue(all(session is seen[0] for session in seen))
        with self.assertRaises(SessionNotSetUpError) as caught:
            test.session  # noqa: B018
        self.assertEqual(
            str(caught.exception),
            "self.session of Inner is only available while a test runs "
            "(from setUp() to the cleanups); each test gets a new one.",
        )

    def test_session_is_gone_after_a_failed_test_too(self):
        class Inner(AsyncSessionTestCase):
            async def test_a(self):
                self.fail("deliberate")

        test = Inner("test_a")
        run_tests(test)

        with self.assertRaises(SessionNotSetUpError):
            test.session  # noqa: B018

    def test_session_before_setup_raises_session_not_set_up_error(self):
        class Inner(AsyncSessionTestCase):
            async def test_a(self):
                pass

        with self.assertRaises(SessionNotSetUpError) as caught:
            Inner("test_a").session  # noqa: B018
        self.assertEqual(str(caught.exception), not_set_up_message("a setUp()"))


class PytestCompatibilityTest(unittest.TestCase):
    """pytest's unittest plugin runs a plain (non-async) test method this way: it sets the
    method as an attribute of the test instance, calls test(result=...), then deletes that
    attribute. run() must leave the attribute where pytest put it."""

    def test_plain_test_method_run_the_way_pytest_runs_it(self):
        class Inner(AsyncSessionTestCase):
            def test_sync(self):
                self.session.add(User())

        test = Inner("test_sync")
        method = test.test_sync
        test.test_sync = method  # pytest: setattr(testcase, name, obj)
        result = unittest.TestResult()
        test(result=result)
        self.assertTrue(result.wasSuccessful(), result.errors + result.failures)
        # Regression (aa08a21, fixed in c8dfd65): run() deleted this attribute, so pytest's own
        # delattr raised AttributeError and every plain `def test_...` failed under pytest.
        self.assertIs(vars(test).get("test_sync"), method)
        delattr(test, "test_sync")  # pytest: delattr(testcase, name)

    def test_run_leaves_no_attribute_behind(self):
        class Inner(AsyncSessionTestCase):
            def test_sync(self):
                pass

            async def test_async(self):
                pass

        for name in ("test_sync", "test_async"):
            with self.subTest(name):
                test = Inner(name)
                result = run_tests(test)
                self.assertTrue(result.wasSuccessful(), result.exceptions)
                self.assertNotIn(name, vars(test))


class ProjectSession(AsyncSession):
    """A project's own AsyncSession subclass with extra methods."""

    async def fetch_user(self, user_id, *, lock=False):
        return await self.get(User, user_id)

    def tenant_of(self, user):
        return f"tenant of {user.name}"

    @property
    def dialect_name(self):
        return self.bind.dialect.name

    def __init__(self, *args, tenant="acme", **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def current_tenant(self):
        return self.tenant


class SessionClassTest(AsyncSessionTestCase):
    session_class = ProjectSession

    def test_session_is_an_instance_of_the_project_class(self):
        self.assertIsInstance(self.session, ProjectSession)
        self.assertIsInstance(self.session, mock.AsyncMock)

    async def test_extra_async_method_is_an_async_mock(self):
        self.assertIsInstance(self.session.fetch_user, mock.AsyncMock)
        self.session.fetch_user.return_value = "user"
        coroutine = self.session.fetch_user(5, lock=True)
        self.assertTrue(inspect.iscoroutine(coroutine))
        self.assertEqual(await coroutine, "user")
        self.session.fetch_user.assert_awaited_once_with(5, lock=True)

    def test_extra_plain_method_returns_a_non_awaitable(self):
        self.assertNotIsInstance(self.session.tenant_of, mock.AsyncMock)
        self.session.tenant_of.return_value = "acme"
        self.assertEqual(self.session.tenant_of(User()), "acme")
        self.session.tenant_of.return_value = mock.DEFAULT
        self.assertEqual(self.session.tenant_of(User(name="ann")), "tenant of ann")
        self.assertEqual(self.session.tenant_of.call_count, 2)

    def test_attributes_the_subclass_init_sets_are_the_tests_to_set(self):
        # __init__ does not run on the mock (docs/limits.rst)
        with self.assertRaises(AttributeError) as caught:
            self.session.current_tenant()
        self.assertEqual(str(caught.exception), "Mock object has no attribute 'tenant'")
        self.session.tenant = "set in setUp"
        self.assertEqual(self.session.current_tenant(), "set in setUp")

    def test_extra_properties_run_their_getter(self):
        self.assertEqual(self.session.dialect_name, "default")

    async def test_extra_methods_run_their_own_code_unless_configured(self):
        user = User(id=5, name="ann")
        self.addObject(user)
        self.assertIs(await self.session.fetch_user(5), user)
        self.session.get.assert_awaited_once_with(User, 5)
        self.session.fetch_user.side_effect = LookupError("configured")
        with self.assertRaisesRegex(LookupError, "configured"):
            await self.session.fetch_user(5)
        self.assertEqual(self.session.get.await_count, 1)

    def test_extra_methods_check_their_signatures(self):
        with self.assertRaises(TypeError) as caught:
            self.session.fetch_user()
        self.assertEqual(str(caught.exception), "fetch_user() missing 1 required positional argument: 'user_id'")
        with self.assertRaises(TypeError) as caught:
            self.session.tenant_of(User(), "extra")
        self.assertEqual(str(caught.exception), "tenant_of() takes 1 positional argument but 2 were given")
        self.assertEqual(self.session.fetch_user.call_count, 0)
        self.assertEqual(self.session.tenant_of.call_count, 0)

    async def test_inherited_methods_still_behave_like_an_empty_database(self):
        result = await self.session.execute(select(User))
        self.assertIsNone(result.scalar_one_or_none())
        self.assertIsInstance(self.session.add, mock.MagicMock)
        self.assertNotIsInstance(self.session.add, mock.AsyncMock)

    def test_not_callable_message_names_the_project_class(self):
        with self.assertRaises(TypeError) as caught:
            self.session()
        self.assertEqual(str(caught.exception), "'ProjectSession' object is not callable")

    def test_names_the_project_class_lacks_raise_attribute_error(self):
        with self.assertRaises(AttributeError):
            self.session.fetch_usr  # noqa: B018


class BadSessionClassTest(unittest.TestCase):
    def run_with_session_class(self, session_class):
        class Inner(AsyncSessionTestCase):
            async def test_a(self):
                pass

        Inner.session_class = session_class
        return run_tests(Inner("test_a")).exceptions["test_a"]

    def test_class_that_is_not_an_async_session_raises_type_error_naming_it(self):
        error = self.run_with_session_class(dict)
        self.assertIs(type(error), TypeError)
        self.assertEqual(
            str(error),
            "Inner.session_class must be AsyncSession or a subclass of it, got <class 'dict'>",
        )

    def test_sync_session_is_refused(self):
        error = self.run_with_session_class(Session)
        self.assertIs(type(error), TypeError)
        self.assertEqual(
            str(error),
            "Inner.session_class must be AsyncSession or a subclass of it, "
            "got <class 'sqlalchemy.orm.session.Session'>",
        )

    def test_an_instance_instead_of_a_class_is_refused(self):
        instance = AsyncSession()
        error = self.run_with_session_class(instance)
        self.assertIs(type(error), TypeError)
        self.assertEqual(
            str(error),
            f"Inner.session_class must be AsyncSession or a subclass of it, got {instance!r}",
        )


if __name__ == "__main__":
    unittest.main()
