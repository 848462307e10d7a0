"""Wrong input to the session's own methods: the mock refuses what a real session refuses.

Each case runs on ``self.session`` and on a real ``AsyncSession`` over an empty in-memory SQLite
database (aiosqlite), with the very same argument objects, and the outcomes must be equal: the
same exception type and message, or both answering. Then the mock's error is pinned as text.
"""

import inspect
import unittest

import sqlalchemy
from sqlalchemy import Column, Integer, insert, select, text, update
from sqlalchemy.exc import ArgumentError, InvalidRequestError, NoInspectionAvailable
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, synonym

from asyncsessiontest import AsyncSessionTestCase
from tests.support import Base, User, real_session

SQLALCHEMY_1 = sqlalchemy.__version__.startswith("1.")
EXECUTING = ("execute", "scalars", "scalar", "stream", "stream_scalars")
UNEXPECTED = "got an unexpected keyword argument"


class MisusePair(Base):
    """A model with a composite primary key."""

    __tablename__ = "misuse_pairs"

    left = Column(Integer, primary_key=True)
    right = Column(Integer, primary_key=True)


class MisuseAlias(Base):
    """A model whose key attribute has a synonym, which get() accepts by name."""

    __tablename__ = "misuse_aliases"

    id = Column(Integer, primary_key=True)
    number = synonym("id")


def statement_cases():
    """(name, args, kwargs) of executions a real session refuses (or, on 1.4, a string takes)."""
    return [
        ("a plain string", ("SELECT 1",), {}),
        ("an int", (5,), {}),
        ("None", (None,), {}),
        ("a mapped class", (User,), {}),
        ("a criterion", (User.id == 5,), {}),
        ("a subquery", (select(User).subquery(),), {}),
        ("a scalar subquery", (select(User.id).scalar_subquery(),), {}),
        ("a table", (User.__table__,), {}),
        ("a column", (User.id,), {}),
        ("bytes", (b"SELECT 1",), {}),
        ("params=5", (select(User),), {"params": 5}),
        ("params of ints", (select(User.__table__), [5]), {}),
        ("params a string", (text("SELECT 1"), "x"), {}),
        ("params a set", (select(User), {1}), {}),
        ("an ORM insert with params 5", (insert(User), 5), {}),
        ("an ORM insert with rows of tuples", (insert(User), [(1, "ada")]), {}),
        ("an ORM insert with an int among dicts", (insert(User), [{"name": "a"}, 5]), {}),
        ("an ORM update with params 5", (update(User).values(name="x"), 5), {}),
        ("an ORM update with params [5]", (update(User), [5]), {}),
        ("execution_option=", (select(User),), {"execution_option": {}}),
        ("foo=", (select(User),), {"foo": 1}),
    ]


def get_cases():
    """(name, args) of get() calls whose identifier has the wrong shape, or no mapped class."""
    return [
        ("a scalar for a composite key", (MisusePair, 5)),
        ("three values for a composite key", (MisusePair, (1, 2, 3))),
        ("two values for a simple key", (User, (1, 2))),
        ("a dict with an unknown name", (User, {"nope": 1})),
        ("a dict missing a name of a composite key", (MisusePair, {"left": 1})),
        ("a dict with a name too many", (MisusePair, {"left": 1, "right": 2, "x": 3})),
        ("an instance instead of the class", (User(id=1), 1)),
        ("a class that is not mapped", (int, 1)),
    ]


def get_accepted_cases():
    """(name, args) of get() calls a real session answers (with None, on an empty database)."""
    return [
        ("a one-value tuple", (User, (1,))),
        ("a one-value list", (User, [1])),
        ("a dict by name", (User, {"id": 1})),
        ("a dict by a synonym's name", (MisuseAlias, {"number": 1})),
        ("a composite key as a tuple", (MisusePair, (1, 2))),
        ("a composite key as a dict", (MisusePair, {"left": 1, "right": 2})),
        ("a string", (User, "1")),
    ]


async def outcome(session, method, args, kwargs):
    """Return ("answered", None) or (exception type, message) for one call, awaited if it is
    a coroutine method's."""
    try:
        returned = getattr(session, method)(*args, **kwargs)
        if inspect.isawaitable(returned):
            await returned
    except Exception as error:
        return type(error), str(error)
    finally:
        if session.in_transaction():
            await session.rollback()
    return "answered", None


# where a real session's TypeError comes from inside SQLAlchemy ("'int' object is not
# iterable"), the mock's says what the parameters must be: the same type, its own message
OWN_MESSAGE = {"an ORM insert with params 5", "an ORM insert with rows of tuples",
               "an ORM insert with an int among dicts", "an ORM update with params [5]"}  # fmt: skip


def comparable(outcome_, case):
    """The outcome with what differs by function and Python kept out of a keyword's message.

    A real session's refusal names the sync function that refused the keyword
    (``Session.execute()``, ``Session._execute_internal()``, 1.4's ``Session.get_bind()``);
    Python 3.13 adds "Did you mean ...?". What stays is the keyword and the type.
    """
    kind, message = outcome_
    if kind is TypeError and message and UNEXPECTED in message:
        message = message[message.index(UNEXPECTED) :].split(".")[0]
    if case in OWN_MESSAGE and kind is TypeError:
        message = "(a message of its own)"
    return kind, message


class ExecuteParityTest(AsyncSessionTestCase):
    maxDiff = None

    async def test_executions_are_refused_as_a_real_session_refuses_them(self):
        cases = statement_cases()
        real_outcomes = {}
        async with real_session() as real:
            for method in EXECUTING:
                for name, args, kwargs in cases:
                    real_outcomes[method, name] = await outcome(real, method, args, kwargs)
        for method in EXECUTING:
            for name, args, kwargs in cases:
                if SQLALCHEMY_1 and name == "an ORM insert with an int among dicts":
                    continue  # 1.4 wraps its TypeError in a StatementError; the mock does not
                with self.subTest(method=method, case=name):
                    mock_outcome = await outcome(self.session, method, args, kwargs)
                    self.assertEqual(
                        comparable(mock_outcome, name),
                        comparable(real_outcomes[method, name], name),
                    )

    async def test_get_refuses_an_identifier_of_the_wrong_shape_as_a_real_session_does(self):
        methods = [name for name in ("get", "get_one") if hasattr(self.session, name)]
        real_outcomes = {}
        async with real_session() as real:
            for method in methods:
                for name, args in get_cases() + get_accepted_cases():
                    real_outcomes[method, name] = await outcome(real, method, args, {})
        for method in methods:
            for name, args in get_cases() + get_accepted_cases():
                with self.subTest(method=method, case=name):
                    self.assertEqual(
                        await outcome(self.session, method, args, {}), real_outcomes[method, name]
                    )


def session_method_cases():
    """(name, method, args, kwargs) of other session methods given what they cannot take."""
    transient = User(id=1)
    found = [
        ("add(5)", "add", (5,), {}),
        ("add(None)", "add", (None,), {}),
        ("add(User)", "add", (User,), {}),
        ("add_all(5)", "add_all", (5,), {}),
        ("add_all([5])", "add_all", ([5],), {}),
        ("delete(5)", "delete", (5,), {}),
        ("delete(a transient object)", "delete", (transient,), {}),
        ("merge(5)", "merge", (5,), {}),
        ("merge(User)", "merge", (User,), {}),
        ("refresh(5)", "refresh", (5,), {}),
        ("refresh(a transient object)", "refresh", (transient,), {}),
        ("expire(5)", "expire", (5,), {}),
        ("expire(a transient object)", "expire", (transient,), {}),
        ("expunge(5)", "expunge", (5,), {}),
        ("expunge(a transient object)", "expunge", (transient,), {}),
        ("is_modified(5)", "is_modified", (5,), {}),
        ("run_sync(5)", "run_sync", (5,), {}),
        ("get(5, 1)", "get", (5, 1), {}),
        ("execute(bind_arguments=5)", "execute", (select(User),), {"bind_arguments": 5}),
        ("execute(bind_arguments=[1])", "execute", (select(User),), {"bind_arguments": [1]}),
        ("execute(execution_options=5)", "execute", (select(User),), {"execution_options": 5}),
        ("execute(execution_options=[1])", "execute", (select(User),),
         {"execution_options": [1]}),
        ("execute(execution_options=[])", "execute", (select(User),), {"execution_options": []}),
    ]
    if not SQLALCHEMY_1:  # 1.4 has no merge_all() or delete_all(): the names fail alike
        for method in ("merge_all", "delete_all"):
            if hasattr(AsyncSession, method):
                found.append((f"{method}([5])", method, ([5],), {}))
    return found


class SessionMethodParityTest(AsyncSessionTestCase):
    maxDiff = None

    async def test_other_methods_refuse_as_a_real_session_does(self):
        cases = session_method_cases()
        real_outcomes = {}
        async with real_session() as real:
            for name, method, args, kwargs in cases:
                real_outcomes[name] = await outcome(real, method, args, kwargs)
        for name, method, args, kwargs in cases:
            with self.subTest(case=name):
                self.assertEqual(
                    await outcome(self.session, method, args, kwargs), real_outcomes[name]
                )


class ExecuteRefusalTextTest(AsyncSessionTestCase):
    """The mock's own errors, as text, on the installed SQLAlchemy."""

    maxDiff = None

    async def assertAwaitRaises(self, error_type, message, call):
        coroutine = call()  # the call itself is fine: a real session refuses at the await
        with self.assertRaises(Exception) as caught:
            await coroutine
        self.assertIs(type(caught.exception), error_type, caught.exception)
        self.assertEqual(str(caught.exception), message)

    async def test_a_plain_string_is_refused_from_2_0_on_and_taken_as_text_on_1_4(self):
        for method in EXECUTING:
            with self.subTest(method=method):
                call = getattr(self.session, method)
                if SQLALCHEMY_1:
                    await call("SELECT 1")
                else:
                    await self.assertAwaitRaises(
                        ArgumentError,
                        "Textual SQL expression 'SELECT 1' should be explicitly declared as "
                        "text('SELECT 1')",
                        lambda: call("SELECT 1"),  # noqa: B023
                    )

    async def test_what_is_not_a_statement_is_refused(self):
        for value, shown in ((5, "5"), (None, "None"), (User, repr(User))):
            for method in EXECUTING:
                with self.subTest(value=value, method=method):
                    await self.assertAwaitRaises(
                        ArgumentError,
                        f"Executable SQL or text() construct expected, got {shown}.",
                        lambda: getattr(self.session, method)(value),  # noqa: B023
                    )

    async def test_a_criterion_and_a_subquery_are_refused(self):
        for value in (User.id == 5, select(User).subquery()):
            with self.subTest(value=value):
                await self.assertAwaitRaises(
                    ArgumentError,
                    f"Executable SQL or text() construct expected, got {value!r}.",
                    lambda: self.session.execute(value),  # noqa: B023
                )

    async def test_params_that_are_not_a_dict_or_a_list_of_dicts_are_refused(self):
        not_a_mapping = (
            "mapping or sequence expected for parameters"
            if SQLALCHEMY_1
            else "mapping or list expected for parameters"
        )
        await self.assertAwaitRaises(
            ArgumentError, not_a_mapping, lambda: self.session.execute(select(User), params=5)
        )
        await self.assertAwaitRaises(
            ArgumentError,
            "List argument must consist only of tuples or dictionaries"
            if SQLALCHEMY_1
            else "List argument must consist only of dictionaries",
            lambda: self.session.execute(select(User.__table__), [5]),
        )

    async def test_params_of_an_orm_insert_that_are_not_dicts_are_refused(self):
        await self.assertAwaitRaises(
            TypeError,
            "the parameters of an ORM insert must be a dict, or a list of dicts for several "
            "rows; got [(1, 'ada')]",
            lambda: self.session.execute(insert(User), [(1, "ada")]),
        )

    async def test_falsy_params_are_no_params_as_on_a_real_session(self):
        for params in (None, {}, [], 0, ""):
            with self.subTest(params=params):
                self.assertEqual((await self.session.execute(select(User), params)).all(), [])

    async def test_an_unknown_keyword_is_refused_at_the_await_naming_it(self):
        refuser = "Session.get_bind" if SQLALCHEMY_1 else "Session.execute"
        for method in EXECUTING:
            with self.subTest(method=method):
                await self.assertAwaitRaises(
                    TypeError,
                    f"{refuser}() got an unexpected keyword argument 'execution_option'",
                    lambda: getattr(self.session, method)(  # noqa: B023
                        select(User), execution_option={"populate_existing": True}
                    ),
                )

    @unittest.skipUnless(SQLALCHEMY_1, "only SQLAlchemy 1.4 hands keywords on to get_bind()")
    async def test_on_1_4_the_keywords_of_get_bind_are_taken(self):
        await self.session.execute(select(User), mapper=User)

    async def test_a_refused_execution_is_in_the_history_with_its_error(self):
        with self.assertRaises(ArgumentError):
            await self.session.execute(5)

        self.assertEqual(len(self.executed_statements), 1)
        self.assertIsInstance(self.executed_statements[0].error, ArgumentError)
        self.session.execute.assert_awaited_once_with(5)
        self.assertFalse(self.session.in_transaction())  # refused before it began one

    async def test_a_configured_execute_still_refuses_what_is_not_a_statement(self):
        # what the code passed is wrong whatever the test made the session answer
        self.session.execute.return_value = "configured"
        with self.assertRaises(ArgumentError):
            await self.session.execute(User.id == 5)
        self.assertEqual(await self.session.execute(select(User)), "configured")

    async def test_statements_that_execute_are_not_refused(self):
        from sqlalchemy import func, lambda_stmt

        for statement in (
            select(User),
            text("SELECT 1"),
            func.count(),
            select(User.id).union(select(User.id)),
            lambda_stmt(lambda: select(User)),
            insert(User),
        ):
            with self.subTest(statement=statement):
                await self.session.execute(statement)


class ProjectSyncSession(Session):
    """A project's sync session whose execute() takes keywords of its own."""

    def execute(self, statement, params=None, **kw):
        return super().execute(statement, params)


class ProjectSession(AsyncSession):
    sync_session_class = ProjectSyncSession


class SubclassKeywordsTest(AsyncSessionTestCase):
    """A project's sync session whose execute() takes any keyword decides for itself."""

    session_class = ProjectSession

    async def test_its_keywords_are_taken(self):
        await self.session.execute(select(User), tenant="acme")


class GetRefusalTextTest(AsyncSessionTestCase):
    maxDiff = None

    async def test_a_key_of_the_wrong_length_is_refused(self):
        for method in ("get", "get_one"):
            if not hasattr(self.session, method):
                continue
            for args, columns in (
                ((MisusePair, 5), "'misuse_pairs.left','misuse_pairs.right'"),
                ((User, (1, 2)), "'users.id'"),
            ):
                with self.subTest(method=method, args=args):
                    with self.assertRaises(InvalidRequestError) as caught:
                        await getattr(self.session, method)(*args)
                    self.assertEqual(
                        str(caught.exception),
                        "Incorrect number of values in identifier to formulate primary key "
                        f"for session.get(); primary key columns are {columns}",
                    )

    async def test_a_dict_with_unknown_names_is_refused(self):
        with self.assertRaises(InvalidRequestError) as caught:
            await self.session.get(User, {"nope": 1})
        self.assertEqual(
            str(caught.exception),
            "Incorrect names of values in identifier to formulate primary key for "
            "session.get(); primary key attribute names are 'id' (synonym names are also "
            "accepted)",
        )

    async def test_an_instance_or_a_class_that_is_not_mapped_is_refused(self):
        user = User(id=1)
        with self.assertRaises(ArgumentError) as caught:
            await self.session.get(user, 1)
        self.assertEqual(
            str(caught.exception), f"Expected mapped class or mapper, got: {user!r}"
        )
        with self.assertRaises(NoInspectionAvailable):
            await self.session.get(int, 1)

    async def test_a_dict_by_name_finds_an_added_object(self):
        pair, alias = MisusePair(left=1, right=2), MisuseAlias(id=3)
        self.addObject(pair, alias)
        self.assertIs(await self.session.get(MisusePair, {"right": 2, "left": 1}), pair)
        self.assertIs(await self.session.get(MisuseAlias, {"number": 3}), alias)
        # and, once in the session, from its identity map
        self.assertIs(await self.session.get(MisusePair, {"left": 1, "right": 2}), pair)


if __name__ == "__main__":
    unittest.main()
