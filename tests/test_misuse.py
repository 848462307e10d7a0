"""Wrong input to the public API, refused at the call that is wrong, each with its exact error.

And the failures that must stay failures: values whose == gives no bool, objects whose repr
raises, executemany parameters that are not dicts.
"""

import collections
import sys
import unittest
from unittest import mock

from sqlalchemy import Column, ForeignKey, Integer, String, insert, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from asyncsessiontest import (
    AsyncSessionMixin,
    AsyncSessionTestCase,
    SessionFactoryStandIn,
    SessionNotSetUpError,
    make_result,
)
from asyncsessiontest import case as case_module
from tests.support import Address, User, run_tests

Base = declarative_base()


class Person(Base):
    __tablename__ = "people"

    id = Column(Integer, primary_key=True)
    kind = Column(String(20))
    __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "person"}


class Engineer(Person):
    __mapper_args__ = {"polymorphic_identity": "engineer"}


class Pair(Base):
    __tablename__ = "pairs"

    left = Column(Integer, primary_key=True)
    right = Column(Integer, primary_key=True)


class Fragile(Base):
    """A model whose repr raises, as one reading an unloaded attribute does."""

    __tablename__ = "fragile"

    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("people.id"))

    def __repr__(self):
        raise ValueError("repr of an unloaded attribute")


class NotBool:
    """What an array's == gives: a value that refuses to be a bool."""

    def __bool__(self):
        raise ValueError("the truth value of an array with more than one element is ambiguous")


class ArrayLike:
    """A bound value whose == gives a NotBool, as numpy arrays do."""

    def __eq__(self, other):
        return NotBool()

    def __ne__(self, other):
        return NotBool()

    __hash__ = object.__hash__

    def __repr__(self):
        return "ArrayLike()"


def fragile_repr(instance):
    return f"<Fragile object at {id(instance):#x}; repr failed: ValueError>"


# What patchSessionFactory() is pointed at in these tests: settings that are not factories.
DATABASE_URL = "sqlite+aiosqlite://"
POOL_SIZE = 5
SYNC_SESSION_LOCAL = sessionmaker(class_=Session)


class EmptySettings:
    """A settings object that is falsy (it has no entries), holding a factory."""

    def __len__(self):
        return 0


settings = EmptySettings()
settings.SessionLocal = sessionmaker(class_=AsyncSession)


class RefusedMixin:
    maxDiff = None

    def assertRefused(self, error_type, message, function, *args, **kwargs):
        """Fail unless ``function(*args, **kwargs)`` raises exactly ``error_type(message)``."""
        with self.assertRaises(Exception) as caught:
            function(*args, **kwargs)
        self.assertIs(type(caught.exception), error_type, caught.exception)
        self.assertEqual(str(caught.exception), message)


class AddExceptionMisuseTest(RefusedMixin, AsyncSessionTestCase):
    def test_a_class_that_needs_arguments_is_refused_with_how_to_build_it(self):
        self.assertRefused(
            TypeError,
            "addException(): IntegrityError cannot be built without arguments, as raising the "
            "class would do; give an instance, e.g. self.addException(IntegrityError(\"INSERT "
            "...\", {}, Exception(\"UNIQUE constraint failed\")))",
            self.addException,
            IntegrityError,
        )

    def test_any_class_that_needs_arguments_is_refused(self):
        class NeedsCode(Exception):
            def __init__(self, code):
                super().__init__(code)

        for exc, name in ((NeedsCode, "NeedsCode"), (StatementError, "StatementError")):
            with self.subTest(exc=exc):
                self.assertRefused(
                    TypeError,
                    f"addException(): {name} cannot be built without arguments, as raising the "
                    f"class would do; give an instance, e.g. self.addException({name}(...))",
                    self.addException,
                    exc,
                )

    def test_stop_iteration_is_refused(self):
        class Done(StopIteration):
            pass

        for exc, name in ((StopIteration(), "StopIteration"), (StopIteration, "StopIteration"),
                          (Done, "Done")):  # fmt: skip
            with self.subTest(exc=exc):
                self.assertRefused(
                    TypeError,
                    f"addException(): {name} cannot be raised through a coroutine: Python turns "
                    f"it into RuntimeError('coroutine raised StopIteration'); give another "
                    f"exception",
                    self.addException,
                    exc,
                )

    def test_stop_async_iteration_is_refused(self):
        for exc in (StopAsyncIteration(), StopAsyncIteration):
            with self.subTest(exc=exc):
                self.assertRefused(
                    TypeError,
                    "addException(): StopAsyncIteration raised by an awaited call would end an "
                    "async for loop around it silently, as if it had no more items; give "
                    "another exception",
                    self.addException,
                    exc,
                )

    async def test_a_class_that_builds_is_still_raised_anew_each_time(self):
        self.addException(LookupError, times=2)

        errors = []
        for _ in range(2):
            with self.assertRaises(LookupError) as caught:
                await self.session.execute(select(User))
            errors.append(caught.exception)
        self.assertIsNot(errors[0], errors[1])


Point = collections.namedtuple("Point", "x y")
Size = collections.namedtuple("Size", "width height")


class AddResultMisuseTest(RefusedMixin, AsyncSessionTestCase):
    def test_zero_width_rows_are_refused(self):
        self.assertRefused(
            ValueError,
            "addResult(): row 0 is empty (()): a row has one value per column; give rows such "
            "as (1, 'ada'), or no rows ([]) for an empty result",
            self.addResult,
            [(), ()],
        )
        self.assertRefused(
            ValueError,
            "addResult(): row 0 is empty ({}): a row has one value per column; give rows such "
            "as {'id': 1, 'name': 'ada'}, or no rows ([]) for an empty result",
            self.addResult,
            [{}],
        )

    def test_a_set_of_rows_is_refused(self):
        for rows, name in (({(1,), (2,)}, "set"), (frozenset({1, 2}), "frozenset")):
            with self.subTest(rows=rows):
                self.assertRefused(
                    TypeError,
                    f"addResult(): rows is a {name}, whose order is arbitrary (by hash); give "
                    f"the rows in a list, in the order the database would return them",
                    self.addResult,
                    rows,
                )

    def test_a_set_of_columns_is_refused(self):
        self.assertRefused(
            TypeError,
            "addResult(): columns is a set, whose order is arbitrary (by hash); give the names "
            "in a list, in the order of the values in a row",
            self.addResult,
            [(1, "ada")],
            columns={"id", "name"},
        )

    def test_instances_of_different_mapped_classes_are_refused(self):
        self.assertRefused(
            TypeError,
            "addResult(): row 1 is an instance of Address, but row 0 is an instance of User: "
            "the rows of one entity are of one mapped class (or its subclasses); give each "
            "select its own result, or tuples such as (user, address) for a select of both",
            self.addResult,
            [User(id=1), Address(id=2)],
        )

    async def test_instances_of_one_class_hierarchy_are_one_entity(self):
        rows = [Person(id=1), Engineer(id=2)]
        self.addResult(rows)

        self.assertEqual((await self.session.scalars(select(Person))).all(), rows)

    def test_named_tuples_with_different_fields_are_refused(self):
        self.assertRefused(
            ValueError,
            "addResult(): row 1 has the fields ['width', 'height'], but row 0 has ['x', 'y']: "
            "every named tuple or Row needs the same fields, in the same order",
            self.addResult,
            [Point(1, 2), Size(3, 4)],
        )

    def test_rows_of_sqlalchemy_with_different_fields_are_refused(self):
        first = make_result([(1, "ada")], columns=["id", "name"]).one()
        second = make_result([(2, "bob")], columns=["id", "login"]).one()
        self.assertRefused(
            ValueError,
            "addResult(): row 1 has the fields ['id', 'login'], but row 0 has ['id', 'name']: "
            "every named tuple or Row needs the same fields, in the same order",
            self.addResult,
            [first, second],
        )

    def test_dict_rows_with_keys_that_are_not_strings_are_refused(self):
        self.assertRefused(
            TypeError,
            "addResult(): row 1 has the key 1 (int); a dict row maps column names (strings) "
            "to values, e.g. {'id': 1, 'name': 'ada'}",
            self.addResult,
            [{"id": 1}, {1: "ada"}],
        )
        self.assertRefused(
            TypeError,
            "addResult(): row 0 has the key ('users', 'id') (tuple); a dict row maps column "
            "names (strings) to values, e.g. {'id': 1, 'name': 'ada'}",
            self.addResult,
            [{("users", "id"): 1}],
        )

    def test_a_negative_rowcount_is_refused(self):
        self.assertRefused(
            ValueError,
            "addResult(): rowcount must be 0 or more (or -1, a count not known, as a real "
            "result reports it), got -5",
            self.addResult,
            rowcount=-5,
        )

    async def test_a_rowcount_of_minus_one_is_what_a_real_result_reports(self):
        self.addResult(rowcount=-1)

        self.assertEqual((await self.session.execute(select(User))).rowcount, -1)

    def test_an_empty_statement_is_refused(self):
        for statement in ("", "   \n"):
            with self.subTest(statement=statement):
                self.assertRefused(
                    ValueError,
                    f"addResult(): statement is an empty string ({statement!r}), which matches "
                    f"no statement; give the SQL as str(statement) renders it, a statement, a "
                    f"compiled re.Pattern, a mapped class or a Table",
                    self.addResult,
                    [],
                    statement=statement,
                )

    def test_an_empty_statement_is_refused_by_the_assertions_too(self):
        self.assertRefused(
            ValueError,
            "assertExecuted(): statement is an empty string (''), which matches no statement; "
            "give the SQL as str(statement) renders it, a statement, a compiled re.Pattern, a "
            "mapped class or a Table",
            self.assertExecuted,
            "",
        )

    async def test_list_rows_are_one_value_each_and_the_error_says_so(self):
        self.addResult([[1, "ada"]])

        with self.assertRaises(ValueError) as caught:
            await self.session.execute(select(User.id, User.name))

        self.assertEqual(
            str(caught.exception),
            "the canned rows have 1 value(s) each, but the statement selects 2 column(s) "
            "['id', 'name']; give rows that fit the statement, or columns= to override its "
            "columns; each row is a list, which is read as one value (of an ARRAY or JSON "
            "column): give each row as a tuple, e.g. (1, 'ada'), for one value per column",
        )

    def test_list_rows_with_columns_say_a_list_is_one_value(self):
        self.assertRefused(
            ValueError,
            "addResult(): columns has 2 name(s) ['id', 'name'], but each row has 1 value(s), "
            "e.g. row 0: [1, 'ada']; each row is a list, which is read as one value (of an "
            "ARRAY or JSON column): give each row as a tuple, e.g. (1, 'ada'), for one value "
            "per column",
            self.addResult,
            [[1, "ada"]],
            columns=["id", "name"],
        )

    async def test_a_list_is_still_one_value_of_a_one_column_select(self):
        self.addResult([[1, 2], [3]])

        self.assertEqual((await self.session.scalars(select(User.id))).all(), [[1, 2], [3]])

    def test_make_result_refuses_the_same(self):
        self.assertRefused(
            ValueError,
            "make_result(): row 0 is empty (()): a row has one value per column; give rows "
            "such as (1, 'ada'), or no rows ([]) for an empty result",
            make_result,
            [()],
        )


class AddObjectMisuseTest(RefusedMixin, AsyncSessionTestCase):
    def test_an_instance_without_a_primary_key_is_refused(self):
        self.assertRefused(
            ValueError,
            "addObject(): <User id=None name='ada'> has no primary key (User.id is None); "
            "get() finds an instance by its primary key: set it, e.g. User(id=1)",
            self.addObject,
            User(name="ada"),
        )

    def test_an_instance_with_part_of_a_composite_key_is_refused(self):
        pair = Pair(left=1)
        self.assertRefused(
            ValueError,
            f"addObject(): {pair!r} has no primary key (Pair.right is None); get() finds an "
            f"instance by its primary key: set it, e.g. Pair(right=1)",
            self.addObject,
            pair,
        )
        empty = Pair()
        self.assertRefused(
            ValueError,
            f"addObject(): {empty!r} has no primary key (Pair.left, Pair.right are None); get() "
            f"finds an instance by its primary key: set it, e.g. Pair(left=1, right=1)",
            self.addObject,
            empty,
        )

    def test_two_instances_with_the_same_key_are_refused(self):
        self.assertRefused(
            ValueError,
            "addObject(): <User id=1 name='bob'> and <User id=1 name='ada'> have the same "
            "primary key (1): get() would find only one of them; add one instance per primary "
            "key",
            self.addObject,
            User(id=1, name="ada"),
            User(id=1, name="bob"),
        )

    async def test_the_same_key_as_an_instance_added_before_is_refused_and_nothing_added(self):
        first = User(id=1, name="ada")
        self.addObject(first)
        with self.assertRaises(ValueError):
            self.addObject(User(id=2), User(id=1, name="bob"))

        self.assertIs(await self.session.get(User, 1), first)
        self.assertIsNone(await self.session.get(User, 2))

    def test_a_subclass_shares_its_base_class_keys(self):
        person, engineer = Person(id=1), Engineer(id=1)
        self.assertRefused(
            ValueError,
            f"addObject(): {engineer!r} and {person!r} have the same primary key (1): get() "
            f"would find only one of them; add one instance per primary key",
            self.addObject,
            person,
            engineer,
        )

    async def test_the_same_instance_twice_is_one_instance(self):
        user = User(id=1)
        self.addObject(user, user)
        self.addObject(user)

        self.assertIs(await self.session.get(User, 1), user)

    async def test_the_same_key_in_unrelated_classes_is_fine(self):
        user, address = User(id=1), Address(id=1)
        self.addObject(user, address)

        self.assertIs(await self.session.get(User, 1), user)
        self.assertIs(await self.session.get(Address, 1), address)


class ClassAttributeTest(unittest.TestCase):
    maxDiff = None

    def error_of(self, **attributes):
        Inner = type("Inner", (AsyncSessionTestCase,), {"test_it": _passing_test, **attributes})
        result = run_tests(Inner("test_it"))
        self.assertEqual(len(result.errors), 1, result.errors)
        return result.exceptions["test_it"]

    def test_a_flag_that_is_not_a_bool_is_refused_naming_it_and_the_class(self):
        flags = (
            "strict",
            "asyncio_debug",
            "check_awaited",
            "assign_primary_keys",
            "expire_on_commit",
            "check_implicit_io",
        )
        for name in flags:
            for value, shown in (("no", "'no' (str)"), (0, "0 (int)"), (None, "None (NoneType)")):
                with self.subTest(name=name, value=value):
                    error = self.error_of(**{name: value})

                    self.assertIs(type(error), TypeError)
                    self.assertEqual(
                        str(error), f"Inner.{name} must be True or False, got {shown}"
                    )

    def test_an_unhashable_value_is_refused(self):
        error = self.error_of(strict=[])

        self.assertEqual(str(error), "Inner.strict must be True or False, got [] (list)")

    def test_a_wrong_session_class_is_refused_naming_the_class(self):
        error = self.error_of(session_class="AsyncSession")

        self.assertIs(type(error), TypeError)
        self.assertEqual(
            str(error),
            "Inner.session_class must be AsyncSession or a subclass of it, got 'AsyncSession'",
        )

    def test_a_wrong_sql_dialect_is_refused_naming_the_class(self):
        error = self.error_of(sql_dialect=["postgresql"])

        self.assertIs(type(error), TypeError)
        self.assertEqual(
            str(error),
            "Inner.sql_dialect must be a dialect instance, a dialect name such as 'postgresql', "
            "or None; got ['postgresql']",
        )

    def test_settings_are_checked_once_per_class_not_once_per_test(self):
        class Inner(AsyncSessionTestCase):
            strict = True
            sql_dialect = "sqlite"

            async def test_a(self):
                pass

            async def test_b(self):
                pass

            async def test_c(self):
                pass

        # a full cache is emptied: start with an empty one, whatever ran before in this process
        case_module._CHECKED_SETTINGS.clear()
        with mock.patch.object(
            case_module, "_check_settings", wraps=case_module._check_settings
        ) as check:
            result = run_tests(Inner("test_a"), Inner("test_b"), Inner("test_c"))

        self.assertTrue(result.wasSuccessful(), result.errors)
        # (only Inner's: under a thread-parallel runner, other threads' tests check theirs)
        self.assertEqual(sum(1 for call in check.call_args_list if call.args[0][0] is Inner), 1)

    def test_a_setting_changed_on_an_instance_is_checked_too(self):
        class Inner(AsyncSessionTestCase):
            def setUp(self):
                self.strict = "yes"
                super().setUp()

            async def test_it(self):
                pass

        error = run_tests(Inner("test_it")).exceptions["test_it"]

        self.assertEqual(str(error), "Inner.strict must be True or False, got 'yes' (str)")

    def test_good_settings_pass(self):
        class Inner(AsyncSessionTestCase):
            strict = False
            asyncio_debug = False
            check_awaited = False
            assign_primary_keys = True
            sql_dialect = "postgresql"

            async def test_it(self):
                self.assertEqual(self._asyncsessiontest.dialect.name, "postgresql")

        result = run_tests(Inner("test_it"))

        self.assertTrue(result.wasSuccessful(), result.errors + result.failures)


async def _passing_test(self):
    pass


def class_use_message(name):
    return (
        f"self.{name} exists for each test, from setUp() on, not on the class: cls.{name} "
        f"(in setUpClass()?) is only its property. Configure the session in setUp() after "
        f"super().setUp(), in asyncSetUp(), or in the test."
    )


def class_call_message(method):
    return (
        f"{method}() was called on the class (cls.{method}(...) in setUpClass()?), but the "
        f"session it configures exists for each test, from setUp() on. Call self.{method}(...) "
        f"in setUp() after super().setUp(), in asyncSetUp(), or in the test."
    )


class SetUpClassMisuseTest(RefusedMixin, unittest.TestCase):
    def test_the_session_used_on_the_class_says_it_exists_per_test(self):
        self.assertRefused(
            SessionNotSetUpError,
            class_use_message("session"),
            lambda: AsyncSessionTestCase.session.execute,
        )

        def configure():
            AsyncSessionTestCase.session.scalar_result = 5

        self.assertRefused(SessionNotSetUpError, class_use_message("session"), configure)

    def test_the_session_factory_used_on_the_class_says_it_exists_per_test(self):
        self.assertRefused(
            SessionNotSetUpError,
            class_use_message("session_factory"),
            AsyncSessionTestCase.session_factory,
        )
        self.assertRefused(
            SessionNotSetUpError,
            class_use_message("session_factory"),
            lambda: AsyncSessionTestCase.session_factory.begin,
        )

    def test_history_used_on_the_class_says_it_exists_per_test(self):
        for name in ("session_history", "executed_statements"):
            with self.subTest(name=name):
                self.assertRefused(
                    SessionNotSetUpError,
                    class_use_message(name),
                    lambda: getattr(AsyncSessionTestCase, name).append,  # noqa: B023
                )

    def test_the_configuring_methods_called_on_the_class_say_where_to_call_them(self):
        case = AsyncSessionTestCase
        calls = [
            ("addResult", lambda: case.addResult([(1,)])),
            ("addResult", lambda: case.addResult([(1,)], statement=User)),
            ("addResult", lambda: case.addResult()),
            ("addObject", lambda: case.addObject(User(id=1))),
            # unbound, the one argument takes self's place and the one they need is missing
            ("addException", lambda: case.addException(LookupError())),
            ("addException", lambda: case.addException(LookupError, times=2)),
            ("patchSessionFactory", lambda: case.patchSessionFactory("app.db.Local")),
            ("addObject", lambda: AsyncSessionMixin.addObject(User(id=1))),
            # given the class as self, as super() cannot be used in a classmethod
            ("addResult", lambda: case.addResult(case, [(1,)])),
            ("addException", lambda: case.addException(case, LookupError())),
            ("addObject", lambda: case.addObject(case, User(id=1))),
            ("patchSessionFactory", lambda: case.patchSessionFactory(case, "app.db.Local")),
        ]
        for method, call in calls:
            with self.subTest(method=method):
                self.assertRefused(SessionNotSetUpError, class_call_message(method), call)

    def test_from_set_up_class_the_error_reaches_the_report(self):
        class Inner(AsyncSessionTestCase):
            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                cls.session.execute.return_value = None

            async def test_it(self):
                pass

        result = run_tests(Inner("test_it"))

        self.assertEqual(len(result.errors), 1)
        self.assertTrue(
            result.errors[0][1].endswith(
                f"asyncsessiontest.errors.SessionNotSetUpError: {class_use_message('session')}\n"
            ),
            result.errors[0][1],
        )

    def test_the_call_from_set_up_class_reaches_the_report(self):
        class Inner(AsyncSessionTestCase):
            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                cls.addException(LookupError("gone"))

            async def test_it(self):
                pass

        result = run_tests(Inner("test_it"))

        self.assertEqual(len(result.errors), 1)
        self.assertTrue(
            result.errors[0][1].endswith(
                f"asyncsessiontest.errors.SessionNotSetUpError: "
                f"{class_call_message('addException')}\n"
            ),
            result.errors[0][1],
        )

    def test_the_methods_still_work_from_an_instance_and_document_themselves(self):
        class Inner(AsyncSessionTestCase):
            def setUp(self):
                super().setUp()
                AsyncSessionMixin.addResult(self, [(1,)])  # explicitly unbound, given self

            async def test_it(self):
                super().addObject(User(id=2))
                self.assertEqual(await self.session.scalar(select(User.id)), 1)
                self.assertEqual((await self.session.get(User, 2)).id, 2)

        result = run_tests(Inner("test_it"))

        self.assertTrue(result.wasSuccessful(), result.errors + result.failures)
        for name in ("addResult", "addException", "addObject", "patchSessionFactory"):
            with self.subTest(name=name):
                on_class = getattr(AsyncSessionMixin, name)
                self.assertEqual(on_class.__name__, name)
                self.assertTrue(on_class.__doc__.startswith(on_class.__wrapped__.__doc__[:20]))

    def test_the_properties_still_document_themselves(self):
        for name in ("session", "session_factory", "session_history", "executed_statements"):
            with self.subTest(name=name):
                prop = vars(AsyncSessionMixin)[name]
                self.assertIsInstance(prop, property)
                self.assertEqual(prop.__doc__, prop.fget.__doc__)
                self.assertFalse(hasattr(prop, "__wrapped__"))


class NumStatementsMisuseTest(unittest.TestCase):
    maxDiff = None

    def test_assert_num_statements_not_used_in_a_with_fails_the_test(self):
        lines = {}

        class Inner(AsyncSessionTestCase):
            async def test_it(self):
                lines["call"] = sys._getframe().f_lineno + 1
                self.assertNumStatements(1)
                await self.session.execute(select(User))

        result = run_tests(Inner("test_it"))

        self.assertEqual(len(result.failures), 1)
        self.assertEqual(
            str(result.exceptions["test_it"]),
            f"assertNumStatements(1) called at {__file__}:{lines['call']} was never used in a "
            f"with block, so it checked nothing; write: with self.assertNumStatements(1): ...",
        )

    def test_used_in_a_with_it_is_fine(self):
        class Inner(AsyncSessionTestCase):
            async def test_it(self):
                counter = self.assertNumStatements(1)
                with counter:
                    await self.session.execute(select(User))

        result = run_tests(Inner("test_it"))

        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)

    def test_a_test_that_failed_reports_its_own_failure_only(self):
        class Inner(AsyncSessionTestCase):
            async def test_it(self):
                self.assertNumStatements(1)
                self.fail("its own failure")

        result = run_tests(Inner("test_it"))

        self.assertEqual(str(result.exceptions["test_it"]), "its own failure")


class PatchSessionFactoryMisuseTest(RefusedMixin, AsyncSessionTestCase):
    def refusal(self, target, what):
        return (
            f"patchSessionFactory(): {target!r} holds {what}, not a session factory; give the "
            f"path of the async_sessionmaker (or sessionmaker(class_=AsyncSession)) the code "
            f"calls, e.g. 'app.db.SessionLocal'"
        )

    def test_a_setting_is_refused_naming_the_target_and_what_it_holds(self):
        for name, what in (
            ("DATABASE_URL", "'sqlite+aiosqlite://' (str)"),
            ("POOL_SIZE", "5 (int)"),
            ("settings", f"{settings!r} (EmptySettings)"),
        ):
            with self.subTest(name=name):
                target = f"{__name__}.{name}"
                self.assertRefused(
                    TypeError, self.refusal(target, what), self.patchSessionFactory, target
                )
        self.assertEqual(DATABASE_URL, "sqlite+aiosqlite://")

    def test_a_class_that_is_not_a_session_is_refused(self):
        target = f"{__name__}.User"
        self.assertRefused(
            TypeError, self.refusal(target, "the class User"), self.patchSessionFactory, target
        )
        self.assertIs(sys.modules[__name__].User, User)

    def test_a_factory_of_synchronous_sessions_is_refused(self):
        target = f"{__name__}.SYNC_SESSION_LOCAL"
        self.assertRefused(
            TypeError,
            self.refusal(
                target,
                "a sessionmaker of Session, a synchronous session, which self.session (an "
                "AsyncSession) cannot stand in for",
            ),
            self.patchSessionFactory,
            target,
        )

    def test_a_factory_on_a_falsy_object_is_found(self):
        factory = self.patchSessionFactory(f"{__name__}.settings.SessionLocal")

        self.assertIs(settings.SessionLocal, factory)

    def test_a_missing_attribute_of_a_falsy_object_is_an_attribute_error(self):
        with self.assertRaises(AttributeError) as caught:
            self.patchSessionFactory(f"{__name__}.settings.NoSuchFactory")

        self.assertEqual(
            str(caught.exception),
            f"patchSessionFactory(): cannot patch '{__name__}.settings.NoSuchFactory', it does "
            f"not exist: {settings!r} does not have the attribute 'NoSuchFactory'",
        )

    def test_session_classes_functions_and_stand_ins_are_accepted(self):
        self.patchSessionFactory(f"{__name__}.settings.SessionLocal")
        self.patchSessionFactory(f"{__name__}.settings.SessionLocal")  # a stand-in now
        self.assertIs(settings.SessionLocal, self.session_factory)


class PatchUndoneAfterInterruptTest(unittest.TestCase):
    """A patch of patchSessionFactory() is undone even when KeyboardInterrupt stops the test,
    which skips unittest's cleanups."""

    def run_interrupted(self, Inner):
        original = settings.SessionLocal
        try:
            with self.assertRaises(KeyboardInterrupt):
                Inner("test_it").run(unittest.TestResult())
            self.assertIs(settings.SessionLocal, original)
        finally:
            settings.SessionLocal = original

    @unittest.skipIf(
        sys.version_info < (3, 11),
        "before 3.11 IsolatedAsyncioTestCase itself hangs after a KeyboardInterrupt in an async "
        "test (its tear-down waits for the runner task the interrupt ended)",
    )
    def test_interrupted_in_an_async_test(self):
        class Inner(AsyncSessionTestCase):
            async def test_it(self):
                self.patchSessionFactory(f"{__name__}.settings.SessionLocal")
                self.patchSessionFactory(f"{__name__}.settings.SessionLocal")  # twice: both undone
                raise KeyboardInterrupt

        self.run_interrupted(Inner)

    def test_interrupted_in_as_sync_test_after_a_patch_in_set_up(self):
        class Inner(AsyncSessionTestCase):
            def setUp(self):
                super().setUp()
                self.patchSessionFactory(f"{__name__}.settings.SessionLocal")

            def test_it(self):
                raise KeyboardInterrupt

        self.run_interrupted(Inner)

    def test_a_test_that_ends_normally_is_unpatched_by_its_cleanup(self):
        seen = {}

        class Inner(AsyncSessionTestCase):
            async def test_it(self):
                self.patchSessionFactory(f"{__name__}.settings.SessionLocal")
                self.addCleanup(lambda: seen.setdefault("in cleanup", settings.SessionLocal))

        original = settings.SessionLocal
        result = run_tests(Inner("test_it"))

        self.assertTrue(result.wasSuccessful(), result.errors)
        self.assertIsInstance(seen["in cleanup"], SessionFactoryStandIn)  # cleanups run LIFO
        self.assertIs(settings.SessionLocal, original)


class SideEffectRunOutTest(AsyncSessionTestCase):
    """commit.side_effect as a list that ran out: StopAsyncIteration, as AsyncMock raises it,
    from session.commit() and from a begin() block's commit alike."""

    async def test_a_second_commit_raises_stop_async_iteration(self):
        self.session.commit.side_effect = [None]
        await self.session.commit()

        with self.assertRaises(StopAsyncIteration):
            await self.session.commit()

    async def test_a_second_begin_block_raises_stop_async_iteration(self):
        self.session.commit.side_effect = [None]
        async with self.session.begin():
            pass

        with self.assertRaises(StopAsyncIteration):
            async with self.session.begin():
                pass
        self.assertEqual(
            [op.method for op in self.session_history][-2:],
            ["transaction: commit", "transaction: rollback"],
        )

    async def test_the_two_mix_and_share_the_list(self):
        self.session.commit.side_effect = [None, None]
        async with self.session.begin():
            pass
        await self.session.commit()

        for block in (True, False):
            with self.subTest(block=block), self.assertRaises(StopAsyncIteration):
                if block:
                    async with self.session.begin():
                        pass
                else:
                    await self.session.commit()


class SessionFactoryStandInMisuseTest(RefusedMixin, unittest.TestCase):
    def test_a_session_that_is_not_a_session_is_refused(self):
        for value, shown in ((5, "5 (int)"), (None, "None (NoneType)"), (AsyncSession,
                             "<class 'sqlalchemy.ext.asyncio.session.AsyncSession'> (type)")):  # fmt: skip
            with self.subTest(value=value):
                self.assertRefused(
                    TypeError,
                    f"SessionFactoryStandIn(): session must be an AsyncSession or a mock of "
                    f"one, such as a test's self.session; got {shown}",
                    SessionFactoryStandIn,
                    value,
                )

    def test_a_real_session_or_a_mock_is_accepted(self):
        session = AsyncSession()
        self.assertIs(SessionFactoryStandIn(session)(), session)
        session_mock = mock.AsyncMock(spec=AsyncSession)
        self.assertIs(SessionFactoryStandIn(session_mock)(), session_mock)


class ArrayLikeValuesTest(AsyncSessionTestCase):
    """A bound value whose == gives no bool routes and fails as a value that is not equal."""

    maxDiff = None

    async def test_a_route_with_such_a_value_does_not_match_another_one(self):
        self.addResult([(1,)], statement=select(User.id).where(User.name == ArrayLike()))

        result = await self.session.execute(select(User.id).where(User.name == ArrayLike()))

        self.assertEqual(result.all(), [])

    async def test_the_very_same_value_matches(self):
        value = ArrayLike()
        self.addResult([(1,)], statement=select(User.id).where(User.name == value))

        result = await self.session.execute(select(User.id).where(User.name == value))

        self.assertEqual(result.all(), [(1,)])

    async def test_an_assertion_fails_with_the_reason(self):
        await self.session.execute(select(User.id).where(User.name == ArrayLike()))

        with self.assertRaises(self.failureException) as caught:
            self.assertExecuted(select(User.id).where(User.name == ArrayLike()))

        self.assertEqual(
            str(caught.exception),
            "Expected a statement matching <SELECT users.id FROM users WHERE users.name = "
            ":name_1 {'name_1': ArrayLike()}> to be executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT users.id FROM users WHERE users.name = :name_1 {'name_1': ArrayLike()}"
            "   <- closest: users.name = ArrayLike(), expected ArrayLike() (cannot be "
            "compared: == between ArrayLike and ArrayLike gave no True or False (ValueError))",
        )

    async def test_params_with_such_a_value_fail_with_the_reason(self):
        await self.session.execute(select(User.id).where(User.name == ArrayLike()))

        with self.assertRaises(self.failureException) as caught:
            self.assertExecuted(select(User.id).where(User.name == "x"), params={"name_1": 5})
        self.assertIn("<- closest: users.name = ArrayLike(), expected 'x'", str(caught.exception))

        with self.assertRaises(self.failureException) as caught:
            self.assertExecuted(User, params={"name_1": ArrayLike()})
        self.assertIn(
            "<- closest: params: name_1 = ArrayLike(), expected ArrayLike() (cannot be "
            "compared: == between ArrayLike and ArrayLike gave no True or False (ValueError))",
            str(caught.exception),
        )


class BrokenReprTest(AsyncSessionTestCase):
    """An object whose repr raises is shown as <Class object at 0x...; repr failed: Error>."""

    maxDiff = None

    async def test_assert_committed_names_it(self):
        fragile = Fragile(id=1)
        self.session.add(fragile)

        with self.assertRaises(self.failureException) as caught:
            self.assertCommitted(fragile)

        shown = fragile_repr(fragile)
        self.assertEqual(
            str(caught.exception),
            f"Expected {shown} to be committed; add({shown}) (operation 1) was never followed "
            f"by a commit.\nSession history:\n1. add({shown})",
        )

    async def test_assert_added_and_deleted_name_it(self):
        added, missing = Fragile(id=1), Fragile(id=2)
        self.session.add(added)

        with self.assertRaises(self.failureException) as caught:
            self.assertAdded(missing)
        self.assertEqual(
            str(caught.exception),
            f"Expected {fragile_repr(missing)} to be added; it was not added.\n"
            f"Session history:\n1. add({fragile_repr(added)})",
        )
        with self.assertRaises(self.failureException) as caught:
            self.assertDeleted(added)
        self.assertIn(f"Expected {fragile_repr(added)} to be deleted", str(caught.exception))

    async def test_statement_assertions_name_it(self):
        fragile = Fragile(id=3)
        await self.session.execute(select(Fragile.id), {"owner": fragile})

        with self.assertRaises(self.failureException) as caught:
            self.assertExecuted(select(Fragile.id), params={"owner": Fragile(id=4)})

        self.assertIn(
            f"params: owner = {fragile_repr(fragile)}, expected <Fragile object at",
            str(caught.exception),
        )

    async def test_the_executed_parameters_show_it_among_the_others(self):
        fragile = Fragile(id=3)
        await self.session.execute(select(Fragile.id), {"owner": fragile, "n": [1, fragile]})

        self.assertEqual(
            self.executed_statements[0].sql,
            f"SELECT fragile.id FROM fragile {{'owner': {fragile_repr(fragile)}, 'n': [1, "
            f"{fragile_repr(fragile)}]}}",
        )

    def test_an_argument_error_names_it(self):
        class Opaque:
            def __repr__(self):
                raise RuntimeError("no repr")

        value = Opaque()
        with self.assertRaises(TypeError) as caught:
            self.addException(value)
        self.assertEqual(
            str(caught.exception),
            f"addException(): exc must be an exception instance or class, got <Opaque object "
            f"at {id(value):#x}; repr failed: RuntimeError>",
        )


class ExecutemanyParamsTest(AsyncSessionTestCase):
    """Executemany parameters that are not dicts, refused as a real session refuses them, leave
    the assertions working on the refused call."""

    maxDiff = None

    async def test_tuples_give_no_values_by_name(self):
        with self.assertRaises(TypeError):
            await self.session.execute(insert(User), [(1, "ada"), (2, "bob")])

        with self.assertRaises(self.failureException) as caught:
            self.assertExecuted(insert(User), params={"name": ["ada", "bob"]})

        self.assertEqual(
            str(caught.exception),
            "Expected a statement matching <INSERT INTO users (id, name) VALUES (:id, :name)> "
            "with params {'name': ['ada', 'bob']} to be executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. INSERT INTO users (id, name) VALUES (:id, :name) [(1, 'ada'), (2, 'bob')]"
            "   <- closest: params: name = None, expected ['ada', 'bob']",
        )

    async def test_dicts_among_other_rows_still_count(self):
        with self.assertRaises(TypeError):
            await self.session.execute(insert(User), [{"name": "ada"}, 5, {"name": "bob"}])

        self.assertExecuted(insert(User), params={"name": ["ada", "bob"]})


if __name__ == "__main__":
    unittest.main()
