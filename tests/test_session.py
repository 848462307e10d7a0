"""self.session: a spec'd AsyncMock shaped like the real AsyncSession, over an empty database."""

import asyncio
import inspect
import re
import unittest
import warnings
from types import CodeType
from unittest import mock

from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    union,
    update,
)
from sqlalchemy.engine import Result, ScalarResult
from sqlalchemy.exc import NoResultFound, ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncResult, AsyncScalarResult, AsyncSession
from sqlalchemy.orm import Session

from asyncsessiontest import AsyncSessionTestCase, TransactionStandIn
from tests.support import Address, User, make_persistent, real_session


def real_members(kind_test):
    """Names of AsyncSession members (async with included) for which kind_test(value) is true."""
    names = []
    for name in dir(AsyncSession):
        if name.startswith("__") and name not in ("__aenter__", "__aexit__"):
            continue
        if kind_test(getattr(AsyncSession, name)):
            names.append(name)
    return names


def is_sync_method(value):
    return (inspect.isfunction(value) or inspect.ismethod(value)) and not (
        inspect.iscoroutinefunction(value)
    )


ASYNC_METHODS = real_members(inspect.iscoroutinefunction)
SYNC_METHODS = real_members(is_sync_method)
PROPERTIES = real_members(lambda value: isinstance(value, property))


def arguments_for(name):
    """Return (args, kwargs) that the real signature of AsyncSession.<name> accepts."""
    plausible = {
        "statement": select(User),
        "entity": User,
        "ident": 1,
        "instance": User(id=1),
        "instances": [User(id=1)],
        "fn": lambda sync_session: None,
    }
    signature = inspect.signature(getattr(AsyncSession(), name))
    args, kwargs = [], {}
    for parameter in signature.parameters.values():
        if parameter.default is not inspect.Parameter.empty:
            continue
        value = plausible.get(parameter.name)
        if value is None:
            value = None if name == "__aexit__" else mock.sentinel.argument
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            args.append(value)
        elif parameter.kind == parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
    signature.bind(*args, **kwargs)  # the arguments fit the real method
    return args, kwargs


class SessionObjectTest(AsyncSessionTestCase):
    def test_is_an_async_mock_and_an_instance_of_async_session(self):
        self.assertIsInstance(self.session, mock.AsyncMock)
        self.assertIsInstance(self.session, AsyncSession)

    def test_session_itself_is_not_callable_like_a_real_one(self):
        with self.assertRaises(TypeError) as real:
            AsyncSession()()
        with self.assertRaises(TypeError) as caught:
            self.session()
        self.assertEqual(str(caught.exception), "'AsyncSession' object is not callable")
        self.assertEqual(str(caught.exception), str(real.exception))
        self.assertFalse(self.session.called)

    def test_names_the_real_class_lacks_raise_attribute_error(self):
        for name in ("comit", "rolback", "execute_many", "scalars_all", "fetch"):
            with self.subTest(name=name):
                self.assertFalse(hasattr(AsyncSession, name))
                with self.assertRaisesRegex(AttributeError, name):
                    getattr(self.session, name)

    def test_every_public_name_of_the_real_class_exists(self):
        names = [name for name in dir(AsyncSession) if not name.startswith("_")]
        for name in names:
            with self.subTest(name=name):
                self.assertTrue(hasattr(self.session, name))

    def test_instance_only_attributes_exist(self):
        # not in dir(AsyncSession): a class spec alone would refuse them
        self.assertIsInstance(self.session.sync_session, Session)
        self.assertIsInstance(self.session.bind, AsyncEngine)


class MemberKindTest(AsyncSessionTestCase):
    """Each member of the real class, computed from the class, has the right kind."""

    def test_member_lists_are_not_empty(self):
        self.assertIn("execute", ASYNC_METHODS)
        self.assertIn("__aenter__", ASYNC_METHODS)
        self.assertIn("add", SYNC_METHODS)
        self.assertIn("info", PROPERTIES)

    def test_coroutine_methods_carry_what_async_mock_gives_its_mocks(self):
        # built without AsyncMock's own __init__ on Python 3.8 to 3.11 (see session.py)
        stock, plain = mock.AsyncMock(), mock.MagicMock()
        added = {key: value for key, value in vars(stock).items() if key not in vars(plain)}
        for name in ("execute", "commit"):
            ours = vars(getattr(self.session, name))
            with self.subTest(name):
                self.assertLessEqual(set(added), set(ours))
                for key, value in added.items():
                    if key != "__code__":
                        self.assertEqual(ours[key], value, key)
                code = ours["__code__"]
                self.assertIsInstance(code, CodeType)
                for attribute in dir(CodeType):
                    if attribute.startswith("co_") and attribute in vars(stock.__code__):
                        self.assertEqual(
                            getattr(code, attribute), getattr(stock.__code__, attribute), attribute
                        )
                with self.assertRaises(AttributeError):  # spec_set, as AsyncMock's own
                    code.not_a_code_attribute = 1
        self.assertIsNot(
            vars(self.session.execute)["_mock_await_args_list"],
            vars(self.session.commit)["_mock_await_args_list"],
        )

    async def test_every_coroutine_method_is_an_async_mock_returning_a_coroutine(self):
        for name in ASYNC_METHODS:
            with self.subTest(name=name):
                method = getattr(self.session, name)
                self.assertIsInstance(method, mock.AsyncMock)
                self.assertTrue(asyncio.iscoroutinefunction(method))
                self.assertEqual(
                    inspect.iscoroutinefunction(method),
                    inspect.iscoroutinefunction(mock.AsyncMock()),  # False on Python 3.8
                )
                args, kwargs = arguments_for(name)
                # a real session deletes, refreshes, expires and expunges only its own objects
                self.session.sync_session.expunge_all()
                objects = [a for a in args if isinstance(a, User)]
                objects += [o for a in args if isinstance(a, list) for o in a]  # delete_all
                make_persistent(self.session, *objects)
                returned = method(*args, **kwargs)
                self.assertTrue(inspect.iscoroutine(returned))
                if name == "get_one":  # nothing to find in an empty database
                    with self.assertRaises(NoResultFound):
                        await returned
                else:
                    await returned
                method.assert_awaited_once_with(*args, **kwargs)

    def test_every_plain_method_is_a_plain_mock_returning_a_non_awaitable(self):
        for name in SYNC_METHODS:
            with self.subTest(name=name):
                method = getattr(self.session, name)
                self.assertIsInstance(method, mock.MagicMock)
                self.assertNotIsInstance(method, mock.AsyncMock)
                self.assertFalse(asyncio.iscoroutinefunction(method))
                args, kwargs = arguments_for(name)
                # a real session deletes, refreshes, expires and expunges only its own objects
                self.session.sync_session.expunge_all()
                make_persistent(self.session, *[a for a in args if isinstance(a, User)])
                returned = method(*args, **kwargs)
                self.assertFalse(inspect.iscoroutine(returned))
                # a transaction, awaitable as the real one (the session began one by itself)
                if name not in ("begin", "begin_nested", "get_transaction"):
                    self.assertFalse(inspect.isawaitable(returned))
                method.assert_called_once_with(*args, **kwargs)

    def test_begin_returns_an_awaitable_transaction_like_the_real_one(self):
        for name in ("begin", "begin_nested"):
            with self.subTest(name=name):
                real = getattr(AsyncSession(), name)()
                returned = getattr(self.session, name)()
                self.assertIsInstance(returned, TransactionStandIn)
                self.assertEqual(inspect.isawaitable(returned), inspect.isawaitable(real))
                self.assertTrue(hasattr(returned, "__aenter__"))
                self.assertTrue(hasattr(returned, "__aexit__"))

    def test_version_specific_methods_follow_the_installed_class(self):
        for name in ("get_one", "aclose", "reset", "delete_all", "merge_all"):
            with self.subTest(name=name):
                if hasattr(AsyncSession, name):
                    self.assertIsInstance(getattr(self.session, name), mock.AsyncMock)
                else:
                    with self.assertRaises(AttributeError):
                        getattr(self.session, name)


def real_call_error(name, *args, **kwargs):
    """Return the TypeError message Python gives for this call of the real bound method.

    Python 3.10+ prefixes the qualified name (``AsyncSession.get()``); the mock is not a
    method of a class, so that prefix is dropped.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # close_all() is deprecated on 2.0+
        try:
            getattr(AsyncSession(), name)(*args, **kwargs)
        except TypeError as error:
            return re.sub(r"^[\w.]+\.(?=" + re.escape(name) + r"\()", "", str(error))
    raise AssertionError(f"the real {name}() accepted the call")


class SignatureTest(AsyncSessionTestCase):
    """Calls are checked against the real signatures, at the call, and not recorded."""

    # The library raises Python's own TypeError for the call, named after the method.

    def test_get_without_ident_raises_at_the_call(self):
        with self.assertRaises(TypeError) as caught:
            self.session.get(User)  # no await: the error comes from the call itself
        self.assertEqual(str(caught.exception), "get() missing 1 required positional argument: 'ident'")
        self.assertEqual(self.session.get.call_count, 0)
        self.assertEqual(self.session.get.await_count, 0)
        self.assertEqual(self.session.mock_calls, [])

    async def test_awaited_wrong_call_raises_type_error(self):
        with self.assertRaises(TypeError) as caught:
            await self.session.get(User)
        self.assertEqual(str(caught.exception), "get() missing 1 required positional argument: 'ident'")

    def test_unexpected_keyword(self):
        with self.assertRaises(TypeError) as caught:
            self.session.refresh(User(), colour="red")
        self.assertEqual(str(caught.exception), "refresh() got an unexpected keyword argument 'colour'")
        self.assertEqual(self.session.refresh.call_count, 0)

    def test_misspelled_keyword_is_refused_as_python_refuses_it(self):
        # Python 3.13 adds "Did you mean 'attribute_names'?"
        with self.assertRaises(TypeError) as caught:
            self.session.refresh(User(), attribute_name=["name"])
        self.assertEqual(
            str(caught.exception), real_call_error("refresh", User(), attribute_name=["name"])
        )

    async def test_extra_keywords_pass_the_call_and_fail_at_the_await_as_real_ones_do(self):
        # AsyncSession.execute(statement, params=None, ..., **kw) hands them to the sync session
        inspect.signature(AsyncSession.execute).bind(None, select(User), custom_option=1)
        coroutine = self.session.execute(select(User), custom_option=1)
        with self.assertRaises(TypeError) as caught:
            await coroutine
        self.assertTrue(
            str(caught.exception).endswith("got an unexpected keyword argument 'custom_option'"),
            caught.exception,
        )
        self.session.execute.assert_awaited_once()

    def test_sync_method_with_missing_argument(self):
        with self.assertRaises(TypeError) as caught:
            self.session.add()
        self.assertEqual(str(caught.exception), "add() missing 1 required positional argument: 'instance'")
        self.assertEqual(self.session.add.call_count, 0)

    def test_too_many_positional_arguments(self):
        with self.assertRaises(TypeError) as caught:
            self.session.commit(True)
        self.assertEqual(str(caught.exception), "commit() takes 0 positional arguments but 1 was given")
        self.assertEqual(self.session.commit.call_count, 0)

    def test_every_method_refuses_what_the_real_method_refuses(self):
        instance = AsyncSession()
        refused = 0
        for name in ASYNC_METHODS + SYNC_METHODS:
            try:
                inspect.signature(getattr(instance, name)).bind(no_such_argument=1)
            except TypeError:
                pass
            else:
                continue  # takes **kwargs and has no required parameter: nothing to refuse
            refused += 1
            with self.subTest(name=name):
                method = getattr(self.session, name)
                with self.assertRaises(TypeError) as caught:
                    method(no_such_argument=1)
                self.assertEqual(str(caught.exception), real_call_error(name, no_such_argument=1))
                self.assertEqual(method.call_count, 0)
        self.assertGreater(refused, 20)

    async def test_right_call_after_a_wrong_one_is_counted_once(self):
        with self.assertRaises(TypeError):
            self.session.get(User)
        await self.session.get(User, 5)
        self.session.get.assert_awaited_once_with(User, 5)
        self.assertEqual(self.session.get.call_count, 1)


class ContextAndTransactionTest(AsyncSessionTestCase):
    async def test_async_with_session_gives_the_session_itself(self):
        async with self.session as entered:
            self.assertIs(entered, self.session)
        self.session.__aenter__.assert_awaited_once_with()
        self.session.__aexit__.assert_awaited_once_with(None, None, None)

    async def test_async_with_begin(self):
        self.assertFalse(self.session.in_transaction())
        self.assertIsNone(self.session.get_transaction())
        async with self.session.begin() as transaction:
            self.assertTrue(self.session.in_transaction())
            self.assertIs(self.session.get_transaction(), transaction)
            self.assertIs(transaction.session, self.session)
            self.assertTrue(transaction.is_active)
        self.assertFalse(transaction.is_active)
        self.assertFalse(self.session.in_transaction())
        self.assertIsNone(self.session.get_transaction())

    async def test_async_with_begin_nested(self):
        async with self.session.begin():
            self.assertFalse(self.session.in_nested_transaction())
            async with self.session.begin_nested() as savepoint:
                self.assertTrue(self.session.in_nested_transaction())
                self.assertIs(self.session.get_nested_transaction(), savepoint)
                self.assertTrue(self.session.in_transaction())
            self.assertFalse(self.session.in_nested_transaction())
            self.assertIsNone(self.session.get_nested_transaction())
            self.assertTrue(self.session.in_transaction())
        self.assertFalse(self.session.in_transaction())

    async def test_await_begin(self):
        transaction = await self.session.begin()
        self.assertIsInstance(transaction, TransactionStandIn)
        self.assertTrue(self.session.in_transaction())
        self.assertIs(self.session.get_transaction(), transaction)
        await transaction.commit()
        self.assertFalse(self.session.in_transaction())

    async def test_exception_in_begin_block_propagates_and_ends_the_transaction(self):
        with self.assertRaisesRegex(ValueError, "from the block"):
            async with self.session.begin():
                raise ValueError("from the block")
        self.assertFalse(self.session.in_transaction())

    async def test_begin_block_does_not_call_session_commit(self):
        # as the real one: the block commits through its transaction
        async with self.session.begin():
            pass
        self.session.commit.assert_not_called()
        self.session.begin.assert_called_once_with()


class InstanceAttributeTest(AsyncSessionTestCase):
    def test_info_is_a_real_dict_of_this_session(self):
        self.assertEqual(self.session.info, {})
        self.assertIs(type(self.session.info), dict)
        self.session.info["tenant"] = "acme"
        self.assertEqual(self.session.info, {"tenant": "acme"})

    def test_new_dirty_deleted_are_empty_collections(self):
        for name in ("new", "dirty", "deleted"):
            with self.subTest(name=name):
                value = getattr(self.session, name)
                self.assertEqual(len(value), 0)
                self.assertFalse(value)
                self.assertEqual(list(value), [])

    def test_is_active_is_a_bool(self):
        self.assertIs(self.session.is_active, True)

    def test_autoflush_is_a_bool(self):
        self.assertIs(self.session.autoflush, True)

    def test_no_autoflush_is_a_context_manager(self):
        with self.session.no_autoflush as entered:
            self.session.add(User())
        self.assertNotIsInstance(entered, mock.NonCallableMock)
        self.session.add.assert_called_once()

    def test_identity_map_is_empty(self):
        self.assertEqual(len(self.session.identity_map), 0)

    def test_properties_have_the_type_a_fresh_real_session_gives(self):
        real = AsyncSession()
        for name in PROPERTIES:
            if name == "bind":  # a stand-in engine by design (a real engine-less one has none)
                continue
            with self.subTest(name=name):
                value = getattr(self.session, name)
                # No property is a MagicMock: each has the type and truthiness of a fresh real
                # session's (`binds` and `execution_options` are immutabledict({}) on 2.1 too).
                self.assertNotIsInstance(value, mock.NonCallableMock)
                expected = getattr(real, name)
                if name == "no_autoflush":
                    self.assertTrue(hasattr(value, "__enter__") and hasattr(value, "__exit__"))
                else:
                    self.assertEqual(type(value), type(expected))
                    self.assertEqual(bool(value), bool(expected))


class EmptyResultTest(AsyncSessionTestCase):
    """Nothing configured: real, empty SQLAlchemy results."""

    async def test_execute_returns_a_real_empty_result(self):
        result = await self.session.execute(select(User).where(User.id == 5))
        self.assertIsInstance(result, Result)
        self.assertNotIsInstance(result, mock.NonCallableMock)
        self.assertEqual(result.all(), [])

    async def test_accessors_of_the_empty_result(self):
        statement = select(User).where(User.id == 5)
        self.assertIsNone((await self.session.execute(statement)).scalar_one_or_none())
        self.assertEqual((await self.session.execute(statement)).scalars().all(), [])
        self.assertIsNone((await self.session.execute(statement)).first())
        self.assertIsNone((await self.session.execute(statement)).scalar())
        self.assertEqual((await self.session.execute(statement)).mappings().all(), [])
        with self.assertRaises(NoResultFound) as caught:
            (await self.session.execute(statement)).scalar_one()
        self.assertEqual(str(caught.exception), "No row was found when one was required")

    async def test_keys_come_from_the_statement(self):
        cases = [
            (select(User), ["User"]),
            (select(User.id, User.name), ["id", "name"]),
            (select(User, Address), ["User", "Address"]),
            (select(User.name.label("username")), ["username"]),
            (select(User.__table__), ["id", "name"]),
        ]
        for statement, keys in cases:
            with self.subTest(statement=str(statement)):
                result = await self.session.execute(statement)
                self.assertEqual(list(result.keys()), keys)

    async def test_each_execution_gets_a_fresh_result(self):
        first = await self.session.execute(select(User))
        self.assertEqual(first.all(), [])
        second = await self.session.execute(select(User))
        self.assertIsNot(first, second)
        self.assertEqual(second.all(), [])

    async def test_scalars_scalar_get(self):
        scalars = await self.session.scalars(select(User))
        self.assertIsInstance(scalars, ScalarResult)
        self.assertEqual(scalars.all(), [])
        self.assertIsNone(await self.session.scalar(select(User.name)))
        self.assertIsNone(await self.session.get(User, 1))

    async def test_stream_and_stream_scalars_are_empty_async_results(self):
        result = await self.session.stream(select(User))
        self.assertIsInstance(result, AsyncResult)
        self.assertEqual([row async for row in result], [])
        scalars = await self.session.stream_scalars(select(User))
        self.assertIsInstance(scalars, AsyncScalarResult)
        self.assertEqual([item async for item in scalars], [])
        self.assertEqual(await (await self.session.stream(select(User))).all(), [])

    async def test_dml_has_rowcount_zero_and_fetching_raises(self):
        for statement in (update(User).values(name="x"), delete(User).where(User.id == 1)):
            with self.subTest(statement=str(statement)):
                result = await self.session.execute(statement)
                self.assertEqual(result.rowcount, 0)
                self.assertFalse(result.returns_rows)
                with self.assertRaises(ResourceClosedError):
                    result.all()


class SeedRecipeTest(AsyncSessionTestCase):
    """The hand-rolled recipe keeps working, with values instead of coroutines."""

    async def test_scalar_one_or_none_return_value(self):
        user = User(id=5, name="old")
        self.session.execute.return_value.scalar_one_or_none.return_value = user
        result = await self.session.execute(select(User).where(User.id == 5))
        self.assertIs(result.scalar_one_or_none(), user)
        self.session.execute.return_value.scalar_one_or_none.assert_called_once_with()

    async def test_other_methods_of_a_configured_result_stay_real(self):
        self.session.execute.return_value.scalar_one_or_none.return_value = "expected"
        result = await self.session.execute(select(User))
        self.assertIsInstance(result, Result)
        self.assertEqual(list(result.keys()), ["User"])
        self.assertIsNone((await self.session.execute(select(User))).first())
        self.assertEqual((await self.session.execute(select(User))).scalars().all(), [])
        with self.assertRaises(NoResultFound):
            (await self.session.execute(select(User))).scalar_one()
        self.assertEqual(
            (await self.session.execute(select(User))).scalar_one_or_none(), "expected"
        )

    async def test_scalars_all_through_execute(self):
        users = [User(id=1), User(id=2)]
        self.session.execute.return_value.scalars.return_value.all.return_value = users
        result = await self.session.execute(select(User))
        self.assertEqual(result.scalars().all(), users)
        self.assertIsNone((await self.session.execute(select(User))).scalars().first())
        self.session.execute.return_value.scalars.return_value.all.assert_called_once_with()

    async def test_session_scalars_first(self):
        user = User(id=1)
        self.session.scalars.return_value.first.return_value = user
        scalars = await self.session.scalars(select(User))
        self.assertIs(scalars.first(), user)
        self.assertEqual((await self.session.scalars(select(User))).all(), [])
        self.assertIsInstance(scalars, ScalarResult)
        self.session.scalars.return_value.first.assert_called_once_with()

    async def test_configured_value_is_returned_on_every_execution(self):
        self.session.execute.return_value.scalar.return_value = 3
        for _ in range(2):
            self.assertEqual((await self.session.execute(select(func.count()))).scalar(), 3)
        self.assertEqual(self.session.execute.return_value.scalar.call_count, 2)

    async def test_configured_value_is_not_a_coroutine(self):
        # the trap of AsyncMock(spec=AsyncSession): a truthy coroutine
        self.session.execute.return_value.scalar_one_or_none.return_value = None
        value = (await self.session.execute(select(User))).scalar_one_or_none()
        self.assertIsNone(value)

    async def test_rowcount_set_on_return_value(self):
        # A plain value set on the default return value (rowcount, the usual recipe for UPDATE
        # tests) wins over the real empty result's, as on AsyncMock(spec=AsyncSession).
        self.session.execute.return_value.rowcount = 1
        result = await self.session.execute(update(User).where(User.id == 5).values(name="x"))
        self.assertEqual(result.rowcount, 1)


class PlainMockUseTest(AsyncSessionTestCase):
    async def test_return_value_replaced_entirely(self):
        replacement = object()
        self.session.execute.return_value = replacement
        self.assertIs(await self.session.execute(select(User)), replacement)
        self.session.get.return_value = "user"
        self.assertEqual(await self.session.get(User, 1), "user")
        self.session.in_transaction.return_value = True
        self.assertIs(self.session.in_transaction(), True)

    async def test_side_effect_list_of_values_and_exceptions(self):
        self.session.execute.side_effect = ["first", ValueError("second")]
        self.assertEqual(await self.session.execute(select(User)), "first")
        with self.assertRaisesRegex(ValueError, "second"):
            await self.session.execute(select(User))
        self.assertEqual(self.session.execute.await_count, 2)

    async def test_side_effect_exception(self):
        self.session.commit.side_effect = RuntimeError("db down")
        with self.assertRaisesRegex(RuntimeError, "db down"):
            await self.session.commit()
        self.session.commit.assert_awaited_once_with()

    async def test_side_effect_sync_and_async_callables(self):
        self.session.get.side_effect = lambda entity, ident: f"{entity.__name__} {ident}"
        self.assertEqual(await self.session.get(User, 7), "User 7")

        async def fetch(entity, ident):
            return ident * 2

        self.session.get.side_effect = fetch
        self.assertEqual(await self.session.get(User, 7), 14)

    async def test_side_effect_returning_default_falls_back_to_the_normal_answer(self):
        self.session.execute.side_effect = lambda *args, **kwargs: mock.DEFAULT
        result = await self.session.execute(select(User))
        self.assertIsInstance(result, Result)
        self.assertEqual(result.all(), [])

        async def default(*args, **kwargs):
            return mock.DEFAULT

        self.session.get.side_effect = default
        self.assertIsNone(await self.session.get(User, 1))
        self.session.in_transaction.side_effect = lambda: mock.DEFAULT
        self.assertIs(self.session.in_transaction(), True)  # begun by the execute() above

    async def test_default_with_configured_return_value_keeps_the_seed(self):
        self.session.execute.return_value.scalar_one_or_none.return_value = "seed"
        self.session.execute.side_effect = lambda *args, **kwargs: mock.DEFAULT
        self.assertEqual((await self.session.execute(select(User))).scalar_one_or_none(), "seed")

    async def test_assert_awaited_once_with_and_call_args_list(self):
        first, second = select(User), select(User.id)
        await self.session.execute(first)
        self.session.execute.assert_awaited_once_with(first)
        await self.session.execute(second, {"x": 1})
        self.assertEqual(
            self.session.execute.call_args_list, [mock.call(first), mock.call(second, {"x": 1})]
        )
        self.assertEqual(
            self.session.execute.await_args_list, [mock.call(first), mock.call(second, {"x": 1})]
        )
        self.session.add(User())
        self.assertEqual([name for name, _, _ in self.session.mock_calls], ["execute", "execute", "add"])

    async def test_call_records_are_those_of_a_stock_mock(self):
        # the records are kept without Mock's own bookkeeping: they must be the same, read
        # through every view of them, as those of AsyncMock(spec=AsyncSession)
        stock = mock.AsyncMock(spec=AsyncSession)
        statement, user = select(User), User()

        async def calls(session):
            await session.execute(statement, {"x": 1})
            session.add(user)
            await session.commit()
            session.add(user, _warn=False)

        await calls(self.session)
        await calls(stock)
        for view in ("mock_calls", "method_calls"):
            with self.subTest(view):
                self.assertEqual(getattr(self.session, view), getattr(stock, view))
                self.assertEqual(
                    [(str(record), vars(record)) for record in getattr(self.session, view)],
                    [(str(record), vars(record)) for record in getattr(stock, view)],
                )
        for name in ("execute", "add", "commit"):
            ours, theirs = getattr(self.session, name), getattr(stock, name)
            for view in ("called", "call_count", "call_args", "call_args_list", "mock_calls"):
                with self.subTest(f"{name}.{view}"):
                    self.assertEqual(getattr(ours, view), getattr(theirs, view))
        for name in ("execute", "commit"):
            ours, theirs = getattr(self.session, name), getattr(stock, name)
            for view in ("await_count", "await_args", "await_args_list"):
                with self.subTest(f"{name}.{view}"):
                    self.assertEqual(getattr(ours, view), getattr(theirs, view))
            for view in ("call_args", "await_args"):
                with self.subTest(f"{name}.{view} attributes"):
                    record = getattr(ours, view)
                    self.assertEqual(vars(record), vars(getattr(theirs, view)))
                    arguments = (statement, {"x": 1}) if name == "execute" else ()
                    self.assertEqual((record.args, record.kwargs), (arguments, {}))

    async def test_call_records_reach_a_mock_the_session_is_attached_to(self):
        manager, stock_manager = mock.MagicMock(), mock.MagicMock()
        stock = mock.AsyncMock(spec=AsyncSession)
        manager.attach_mock(self.session, "session")
        stock_manager.attach_mock(stock, "session")
        user = User(id=1)
        for session in (self.session, stock):
            session.add(user)
            await session.flush()
        self.assertEqual(manager.mock_calls, stock_manager.mock_calls)
        self.assertEqual(manager.method_calls, stock_manager.method_calls)
        self.assertEqual(
            [str(record) for record in manager.mock_calls],
            ["call.session.add(<User id=1 name=None>)", "call.session.flush()"],
        )

    def test_mock_add_spec_takes_away_methods_used_before(self):
        self.session.add(User())
        self.session.mock_add_spec(["execute"])
        with self.assertRaisesRegex(AttributeError, "'add'"):
            self.session.add  # noqa: B018  (the lookup is what fails)

    async def test_called_but_not_awaited(self):
        coroutine = self.session.commit()
        self.assertEqual(self.session.commit.call_count, 1)
        self.assertEqual(self.session.commit.await_count, 0)
        with self.assertRaises(AssertionError):
            self.session.commit.assert_awaited()
        await coroutine  # an unawaited session coroutine would fail this test at its end
        self.assertEqual(self.session.commit.await_count, 1)

    async def test_reset_mock_clears_calls_and_keeps_configuration(self):
        self.session.execute.return_value.scalar_one_or_none.return_value = "seed"
        await self.session.execute(select(User))
        self.session.add(User())
        self.session.reset_mock()
        self.assertEqual(self.session.execute.call_count, 0)
        self.assertEqual(self.session.execute.await_count, 0)
        self.assertEqual(self.session.add.call_count, 0)
        self.assertEqual(self.session.mock_calls, [])
        self.assertEqual((await self.session.execute(select(User))).scalar_one_or_none(), "seed")

    async def test_reset_mock_of_return_value_and_side_effect_restores_the_empty_database(self):
        self.session.execute.return_value = "replaced"
        self.session.get.side_effect = ValueError("boom")
        # on the methods themselves: Python 3.8's reset_mock() does not pass these to children
        self.session.execute.reset_mock(return_value=True)
        self.session.get.reset_mock(side_effect=True)
        result = await self.session.execute(select(User))
        self.assertIsInstance(result, Result)
        self.assertIsNone(result.scalar_one_or_none())
        self.assertIsNone(await self.session.get(User, 1))


def outcome(function, *args):
    """Return ("value", v) or ("raises", exception class, message) for function(*args)."""
    try:
        return ("value", function(*args))
    except Exception as error:
        return ("raises", type(error), str(error))


class EmptyDatabaseParityTest(AsyncSessionTestCase):
    """The same scenario on a real AsyncSession over empty SQLite and on self.session."""

    async def compare(self, scenarios):
        """Run each (label, async fn(session)) on both sessions; fail on any difference."""
        async with real_session() as real:
            expected = {label: await scenario(real) for label, scenario in scenarios}
        actual = {label: await scenario(self.session) for label, scenario in scenarios}
        for label, _ in scenarios:
            with self.subTest(label):
                self.assertEqual(actual[label], expected[label])

    @staticmethod
    def fetch(statement, method, *args):
        async def scenario(session):
            result = await session.execute(statement)
            return outcome(getattr(result, method), *args)

        return scenario

    async def test_empty_select_results(self):
        statement = select(User).where(User.id == 5)
        methods = (
            "scalar_one_or_none", "first", "one_or_none", "scalar", "all", "fetchall", "scalar_one", "one",
        )  # fmt: skip
        await self.compare(
            [(method, self.fetch(statement, method)) for method in methods]
            + [
                ("scalars().all()", self.via(statement, lambda r: r.scalars().all())),
                ("mappings().all()", self.via(statement, lambda r: r.mappings().all())),
                ("scalars().first()", self.via(statement, lambda r: r.scalars().first())),
            ]
        )

    @staticmethod
    def via(statement, use):
        async def scenario(session):
            return outcome(use, await session.execute(statement))

        return scenario

    async def test_keys(self):
        statements = {
            "select(User)": select(User),
            "select(User.id, User.name)": select(User.id, User.name),
            "select(User, Address)": select(User, Address).join(Address, Address.user_id == User.id),
            "label": select(User.name.label("n")),
            "table": select(User.__table__),
            "table column": select(User.__table__.c.id),
        }
        await self.compare(
            [(label, self.via(statement, lambda r: list(r.keys()))) for label, statement in statements.items()]
        )

    async def test_selects_that_give_a_row_however_empty_the_tables(self):
        # aggregates without GROUP BY give one row; a select without FROM gives its own row
        statements = {
            "count()": select(func.count()),
            "count() from a table": select(func.count()).select_from(User),
            "count(column)": select(func.count(User.id)).where(User.id > 5),
            "count label": select(func.count(User.id).label("n")),
            "count distinct": select(func.count(User.id.distinct())),
            "count over a join": select(func.count(Address.id)).join(
                User, Address.user_id == User.id
            ),
            "max": select(func.max(User.id)),
            "sum": select(func.sum(User.id)),
            "avg": select(func.avg(User.id)),
            "min and max": select(func.min(User.id), func.max(User.id)),
            "count and max": select(func.count(), func.max(User.id)).select_from(User),
            "coalesce(sum, 0)": select(func.coalesce(func.sum(User.id), 0)),
            "exists()": select(exists().where(User.id == 1)),
            "select().exists()": select(select(User.id).exists()),
            "scalar subquery of count": select(select(func.count(User.id)).scalar_subquery()),
            "scalar subquery of a column": select(select(User.name).scalar_subquery()),
            "literal": select(literal(1)),
            "limit 1": select(func.count()).select_from(User).limit(1),
            # and those that give none
            "group by": select(func.count()).select_from(User).group_by(User.name),
            "having": select(func.count()).select_from(User).having(func.count() > 0),
            "offset": select(func.count()).select_from(User).offset(1),
            "limit 0": select(func.count()).select_from(User).limit(0),
            "entity": select(User),
            "column and label": select(User.id, User.name.label("n")),
            "literal where exists": select(literal(True)).where(exists().where(User.id == 1)),
            "count from a subquery of rows": select(func.count()).select_from(
                select(User).subquery()
            ),
            "two-argument max (SQLite's)": select(func.max(User.id, 1)),
            "from_statement(text())": select(User).from_statement(text("SELECT * FROM users")),
        }
        await self.compare(
            [(label, self.via(statement, lambda r: r.all())) for label, statement in statements.items()]
            + [
                ("scalar(count)", self.via(statements["count() from a table"], lambda r: r.scalar_one())),
                ("keys of count", self.via(statements["count label"], lambda r: list(r.keys()))),
            ]
        )

        async def session_scalar(session):
            return await session.scalar(select(func.count()).select_from(User))

        await self.compare([("session.scalar(count)", session_scalar)])

    async def test_rows_that_cannot_be_known_without_data_are_none(self):
        # a real database gives one row for each of these (or none, depending on the data): no
        # row is a safer answer than a wrong one
        statements = {
            "where without from": select(func.count()).where(literal(1) == literal(2)),
            "count from a subquery with a row": select(func.count()).select_from(
                select(func.count()).select_from(User).subquery()
            ),
            "exists of a union": select(exists(union(select(User.id), select(literal(1))))),
            "value of a parameter": select(bindparam("x", type_=Integer)),
        }
        for label, statement in statements.items():
            with self.subTest(label):
                self.assertEqual((await self.session.execute(statement)).all(), [])

    async def test_rowcount_of_dml_without_returning(self):
        table = User.__table__
        executions = {
            "insert values": (insert(table).values(name="a"),),
            "orm insert values": (insert(User).values(name="a"),),
            "insert with parameters": (insert(table), {"name": "a"}),
            "executemany": (insert(table), [{"name": "a"}, {"name": "b"}]),
            "multi-row values": (insert(table).values([{"name": "a"}, {"name": "b"}]),),
            "multi-row values twice": (
                insert(table).values([{"name": "a"}]).values([{"name": "b"}, {"name": "c"}]),
            ),
            "insert from an empty select": (
                insert(table).from_select(["name"], select(User.name)),
            ),
            "insert from a select without FROM": (
                insert(table).from_select(["name"], select(literal("a"))),
            ),
            "update": (update(User).values(name="b"),),
            "delete": (delete(User).where(User.id == 1),),
        }

        def rowcount(arguments):
            async def scenario(session):
                count = (await session.execute(*arguments)).rowcount
                await session.rollback()  # the next scenario finds the database empty again
                return count

            return scenario

        await self.compare(
            [(label, rowcount(arguments)) for label, arguments in executions.items()]
        )

    async def test_the_session_begins_its_transaction_when_first_used(self):
        def scenario(*steps):
            async def run(session):
                seen = []
                for step in steps:
                    try:
                        returned = step(session)
                        if inspect.isawaitable(returned):
                            await returned
                    except Exception as error:
                        seen.append(("raises", type(error), str(error)))
                    seen.append((session.in_transaction(), session.in_nested_transaction()))
                await session.rollback()  # the next scenario starts afresh
                return seen

            return run

        def add(session):
            session.add(User(name="a"))

        def execute(session):
            return session.execute(select(User))

        async def begin_block(session):
            async with session.begin():
                session.add(User(name="b"))

        await self.compare(
            [
                ("add", scenario(add)),
                ("execute", scenario(execute)),
                ("add, commit", scenario(add, lambda session: session.commit())),
                ("execute, rollback", scenario(execute, lambda session: session.rollback())),
                ("execute, close", scenario(execute, lambda session: session.close())),
                ("flush of nothing", scenario(lambda session: session.flush())),
                ("execute, then begin()", scenario(execute, begin_block)),
                ("begin() block, then add", scenario(begin_block, add)),
                ("begin_nested() first", scenario(lambda session: session.begin_nested())),
                ("add, then begin_nested()", scenario(add, lambda session: session.begin_nested())),
            ]
        )

    async def test_get_begins_the_transaction_when_it_must_query(self):
        # a real get() queries, and so begins, unless the identity map holds the object loaded
        async def get_missing(session):
            await session.get(User, 1)
            began = session.in_transaction()
            await session.rollback()
            return began

        async def get_flushed(session):
            async with session.begin():
                session.add(User(id=7, name="kept"))
                await session.flush()
                found = (await session.get(User, 7)).name
                began_then = session.in_transaction()
            return found, began_then, session.in_transaction()

        await self.compare([("missing", get_missing), ("flushed", get_flushed)])
        self.assertFalse(self.session.in_transaction())

    async def test_session_level_reads(self):
        async def scalars_all(session):
            return (await session.scalars(select(User))).all()

        async def scalar(session):
            return await session.scalar(select(User.name))

        async def get(session):
            return await session.get(User, 1)

        async def stream_rows(session):
            return [row async for row in await session.stream(select(User))]

        async def stream_scalars(session):
            return [user async for user in await session.stream_scalars(select(User))]

        async def stream_first(session):
            return await (await session.stream(select(User.id))).first()

        await self.compare(
            [
                ("scalars().all()", scalars_all),
                ("scalar()", scalar),
                ("get()", get),
                ("async for over stream()", stream_rows),
                ("async for over stream_scalars()", stream_scalars),
                ("stream().first()", stream_first),
            ]
        )

    async def test_get_one(self):
        if not hasattr(AsyncSession, "get_one"):  # SQLAlchemy 1.4
            with self.assertRaises(AttributeError):
                self.session.get_one  # noqa: B018
            return

        async def get_one(session):
            try:
                return await session.get_one(User, 1)
            except Exception as error:
                return (type(error), str(error))

        await self.compare([("get_one()", get_one)])

    async def test_dml_rowcount_and_fetching_all(self):
        statements = {
            "update": update(User).where(User.id == 5).values(name="x"),
            "delete": delete(User).where(User.id == 5),
        }
        scenarios = []
        for label, statement in statements.items():
            scenarios += [
                (f"{label} rowcount", self.via(statement, lambda r: r.rowcount)),
                (f"{label} returns_rows", self.via(statement, lambda r: r.returns_rows)),
                (f"{label} all()", self.fetch(statement, "all")),
                (f"{label} fetchall()", self.fetch(statement, "fetchall")),
                (f"{label} keys()", self.fetch(statement, "keys")),
                (f"{label} scalars()", self.fetch(statement, "scalars")),
            ]
        await self.compare(scenarios)

    async def test_dml_fetching_one_row_raises_resource_closed_error(self):
        # Regression (found by this test, fixed in 8daf9a2): these returned None on the mock.
        statement = delete(User).where(User.id == 5)
        await self.compare(
            [
                (method, self.fetch(statement, method))
                for method in ("first", "one_or_none", "scalar", "scalar_one_or_none")
            ]
        )

    async def test_session_scalar_of_dml_raises_resource_closed_error(self):
        # Regression (found by this test, fixed in 8daf9a2): session.scalar(delete(...)) returned None.
        async def scalar(session):
            try:
                return await session.scalar(delete(User).where(User.id == 5))
            except Exception as error:
                return (type(error), str(error))

        async def scalars(session):
            try:
                return await session.scalars(delete(User).where(User.id == 5))
            except Exception as error:
                return (type(error), str(error))

        await self.compare([("scalar()", scalar), ("scalars()", scalars)])

    async def test_dml_with_returning_is_keyed_by_its_returning_columns(self):
        # Regression (found by this test, fixed in 8daf9a2): the keys were ['column_1'].
        statements = {
            "update returning id": update(User).values(name="x").returning(User.id),
            "delete returning id, name": delete(User).returning(User.id, User.name),
        }
        for label, statement in statements.items():
            # SQLAlchemy 1.4's SQLite dialect cannot compile RETURNING: the statement's own
            # RETURNING columns are what any database that can run it names its keys
            expected = list(statement.exported_columns.keys())
            result = await self.session.execute(statement)
            with self.subTest(label):
                self.assertEqual(list(result.keys()), expected)
                self.assertEqual(result.all(), [])

    async def test_commit_rollback_close_end_a_transaction_begun_by_await_begin(self):
        # Regression (found by this test, fixed in 8daf9a2): the transaction stayed open.
        def ends_with(method):
            async def scenario(session):
                await session.begin()
                before = session.in_transaction()
                await getattr(session, method)()
                return (before, session.in_transaction())

            return scenario

        async def commit_inside_begin_block(session):
            async with session.begin() as transaction:
                await session.commit()
                return transaction.is_active

        await self.compare(
            [(method, ends_with(method)) for method in ("commit", "rollback", "close")]
            + [("commit inside begin() block", commit_inside_begin_block)]
        )

    async def test_begin_blocks(self):
        async def blocks(session):
            seen = []
            async with session.begin():
                seen.append(session.in_transaction())
                async with session.begin_nested():
                    seen.append(session.in_nested_transaction())
                seen.append(session.in_nested_transaction())
            seen.append(session.in_transaction())
            return seen

        async def failing_block(session):
            try:
                async with session.begin():
                    raise KeyError("inside")
            except KeyError:
                pass
            return session.in_transaction()

        await self.compare([("begin blocks", blocks), ("failing block", failing_block)])


if __name__ == "__main__":
    unittest.main()
