"""The session's API, scenario by scenario, on the mock and on a real AsyncSession.

Each scenario is one coroutine function (registered with ``parity_scenario``). A test runs it
on a real ``AsyncSession`` over in-memory SQLite (aiosqlite), seeded with two users and a tag,
and on ``self.session``, given the same rows as canned answers; the two outcomes must be
equal: the same plain values, or the same exception type and message.
"""

import asyncio
import functools
import inspect
import sys
import unittest

import sqlalchemy
from sqlalchemy import Column, Integer, String, event, func, insert, select, update
from sqlalchemy.engine import Engine, Row, RowMapping
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import StaticPool

from asyncsessiontest import AsyncSessionTestCase
from asyncsessiontest.shape import ASYNC, shape_of
from tests.support import parity_scenario

SQLALCHEMY_VERSION = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2])
# Result.tuples() came in 2.0 and is deprecated from 2.1 (rows are tuples already)
HAS_TUPLES = (2, 0) <= SQLALCHEMY_VERSION < (2, 1)
HAS_RETURNING = SQLALCHEMY_VERSION >= (2, 0)  # SQLite's RETURNING, in SQLAlchemy's dialect

Base = declarative_base()


class Person(Base):
    __tablename__ = "people"

    id = Column(Integer, primary_key=True)
    name = Column(String)


class Badge(Base):
    __tablename__ = "badges"

    id = Column(Integer, primary_key=True)
    label = Column(String, unique=True, nullable=False)


people = Person.__table__
ROWS = [(1, "ann"), (2, "bob")]
"""The people both sessions start with."""
TAKEN = "taken"
"""The label of the badge both start with: another one with it violates UNIQUE."""


def canned_people():
    return [Person(id=person_id, name=name) for person_id, name in ROWS]


def plain(value):
    """Turn what a session gives into plain data that compares by value."""
    if isinstance(value, Person):
        return ("Person", value.id, value.name)
    if isinstance(value, Row):
        return ("Row", tuple(value._fields), tuple(plain(item) for item in value))
    if isinstance(value, RowMapping):
        return ("RowMapping", {key: plain(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


async def outcome(scenario, *arguments):
    """Run ``scenario``; say what it returned or raised."""
    try:
        return ("returned", plain(await scenario(*arguments)))
    except Exception as error:
        return ("raised", type(error), str(error).splitlines()[0])


class Boom(Exception):
    """What a scenario raises to leave a block by an exception."""


# -- Result methods ------------------------------------------------------------------------------


def by_id():
    return select(Person.id, Person.name).order_by(Person.id)


@parity_scenario
async def result_all(session):
    return (await session.execute(by_id())).all()


@parity_scenario
async def result_first(session):
    return (await session.execute(by_id())).first()


@parity_scenario
async def result_one_of_two_rows(session):
    return (await session.execute(by_id())).one()


@parity_scenario
async def result_one_or_none_of_two_rows(session):
    return (await session.execute(by_id())).one_or_none()


@parity_scenario
async def result_scalar(session):
    return (await session.execute(by_id())).scalar()


@parity_scenario
async def result_scalar_one_of_no_row(session):
    return (await session.execute(by_id().where(Person.id == 9))).scalar_one()


@parity_scenario
async def result_scalar_one_or_none_of_no_row(session):
    return (await session.execute(by_id().where(Person.id == 9))).scalar_one_or_none()


@parity_scenario
async def result_scalars_of_entities(session):
    return (await session.execute(select(Person).order_by(Person.id))).scalars().all()


@parity_scenario
async def result_mappings(session):
    return (await session.execute(by_id())).mappings().all()


@parity_scenario
async def result_unique_names(session):
    other = people.alias()  # each name once per person: ann, ann, bob, bob
    statement = select(Person.name).join(other, sqlalchemy.true()).order_by(Person.id, other.c.id)
    return (await session.execute(statement)).unique().scalars().all()


@parity_scenario
async def result_partitions(session):
    return list((await session.execute(by_id())).partitions(1))


@parity_scenario
async def result_columns(session):
    return (await session.execute(by_id())).columns("name").all()


@parity_scenario
async def result_tuples(session):
    return (await session.execute(by_id())).tuples().all()


@parity_scenario
async def result_keys(session):
    return list((await session.execute(by_id())).keys())


# -- scalar, scalars, get, get_one, stream, stream_scalars ---------------------------------------


@parity_scenario
async def session_scalar(session):
    return await session.scalar(select(Person.name).where(Person.id == 1))


@parity_scenario
async def session_scalars(session):
    return (await session.scalars(select(Person).order_by(Person.id))).all()


@parity_scenario
async def session_get(session):
    return [await session.get(Person, 1), await session.get(Person, 9)]


@parity_scenario
async def session_get_one_missing(session):
    return await session.get_one(Person, 9)


@parity_scenario
async def stream_async_for(session):
    result = await session.stream(by_id())
    return [row async for row in result]


@parity_scenario
async def stream_scalars_async_for(session):
    result = await session.stream_scalars(select(Person).order_by(Person.id))
    return [person async for person in result]


# -- DML -------------------------------------------------------------------------------------------


@parity_scenario
async def update_rowcount(session):
    result = await session.execute(update(people).where(people.c.name == "ann").values(name="z"))
    return result.rowcount


@parity_scenario
async def executemany_insert(session):
    result = await session.execute(insert(people), [{"name": "c"}, {"name": "d"}])
    return result.rowcount


@parity_scenario
async def insert_returning(session):
    result = await session.execute(insert(people).values(id=5, name="e").returning(people.c.id))
    return result.all()


# -- the unit of work ---------------------------------------------------------------------------


@parity_scenario
async def add_flush_commit(session):
    person = Person(id=3, name="cy")
    session.add(person)
    pending = person in session.new
    await session.flush()
    flushed = (person in session.new, inspect_state(person))
    await session.commit()
    return pending, flushed, session.in_transaction(), inspect_state(person)


def inspect_state(instance):
    state = sqlalchemy.inspect(instance)
    names = ("transient", "pending", "persistent", "detached")
    return [name for name in names if getattr(state, name)]


@parity_scenario
async def add_then_rollback(session):
    person = Person(id=3, name="cy")
    session.add(person)
    await session.rollback()
    return person in session, inspect_state(person), session.in_transaction()


@parity_scenario
async def delete_then_flush(session):
    person = (await session.execute(select(Person).where(Person.id == 1))).scalar_one()
    await session.delete(person)
    deleted = person in session.deleted
    await session.flush()
    return deleted, sqlalchemy.inspect(person).deleted


@parity_scenario
async def refresh_discards_a_change(session):
    person = (await session.execute(select(Person).where(Person.id == 1))).scalar_one()
    person.name = "changed"
    await session.refresh(person)
    return person.name, person in session.dirty


@parity_scenario
async def begin_left_cleanly(session):
    async with session.begin():
        session.add(Person(id=3, name="cy"))
        inside = session.in_transaction()
    return inside, session.in_transaction()


@parity_scenario
async def begin_left_by_an_exception(session):
    person = Person(id=3, name="cy")
    try:
        async with session.begin():
            session.add(person)
            raise Boom("left")
    except Boom:
        pass
    return person in session, session.in_transaction()


@parity_scenario
async def begin_nested_left_cleanly_and_by_an_exception(session):
    kept, dropped = Person(id=3, name="kept"), Person(id=4, name="dropped")
    async with session.begin():
        async with session.begin_nested():
            session.add(kept)
        try:
            async with session.begin_nested():
                session.add(dropped)
                raise Boom("left")
        except Boom:
            pass
        nested = session.in_nested_transaction()
    return kept in session, dropped in session, nested, session.in_transaction()


@parity_scenario
async def integrity_error_on_commit_then_rollback(session):
    session.add(Badge(id=2, label=TAKEN))
    try:
        await session.commit()
    except IntegrityError as error:
        failed = type(error).__name__
    await session.rollback()
    session.add(Badge(id=3, label="free"))
    await session.commit()
    return failed, session.in_transaction()


@parity_scenario
async def async_with_session(session):
    person = Person(id=3, name="cy")
    async with session as entered:
        same = entered is session
        entered.add(person)
    return same, person in session, session.in_transaction()


@parity_scenario
async def factory_session_and_begin(factory):
    async with factory() as session:
        names = (await session.scalars(select(Person.name).order_by(Person.id))).all()
    async with factory.begin() as session:
        session.add(Person(id=3, name="cy"))
        inside = session.in_transaction()
    return names, inside, session.in_transaction()


@parity_scenario
async def loads_an_object_twice(session):
    first = (await session.execute(select(Person).where(Person.id == 1))).scalar_one()
    first.name = "changed"  # not flushed: the second load keeps it, as there is no refresh
    second = (await session.execute(select(Person).where(Person.id == 1))).scalar_one()
    return second is first, second.name


@parity_scenario
async def loads_an_object_again_after_commit(session):
    first = (await session.execute(select(Person).where(Person.id == 1))).scalar_one()
    await session.commit()  # expires it: the second load refreshes it
    second = (await session.execute(select(Person).where(Person.id == 1))).scalar_one()
    return second is first, first.name


@parity_scenario
async def what_begins_the_transaction(session):
    seen = []
    await session.get(Person, 9)  # not in the identity map: a query
    seen.append(session.in_transaction())
    await session.rollback()
    person = (await session.execute(select(Person).where(Person.id == 1))).scalar_one()
    await session.commit()
    await session.refresh(person)
    seen.append(session.in_transaction())
    await session.commit()
    await session.get(Person, 1)  # in the identity map, but expired by the commit: a query
    seen.append(session.in_transaction())
    await session.commit()
    await session.delete(person)
    seen.append(session.in_transaction())
    return seen


# -- the session's surroundings: its engine, a subclass's own methods, functions -----------------


@parity_scenario
async def bind_and_get_bind(session):
    bind, sync_bind = session.bind, session.get_bind()
    dialect = bind.dialect
    return (
        isinstance(bind, AsyncEngine),
        isinstance(sync_bind, Engine),
        bind.sync_engine is sync_bind is session.sync_session.bind,
        bind.name,
        dialect.name,
        sync_bind.dialect.name,
        bool(bind),
        [
            getattr(dialect, flag, None)
            for flag in (
                "insert_returning", "insert_executemany_returning", "update_returning",
                "delete_returning", "supports_multivalues_insert", "supports_sane_rowcount",
                "supports_native_boolean", "implicit_returning",
            )
        ],
    )  # fmt: skip


@parity_scenario
async def bind_driver_and_url(session):
    bind = session.bind
    return bind.driver, str(bind.url), bind.dialect.is_async, session.get_bind().driver


def marked_as_a_coroutine_function(function):
    """Wrap ``function`` as ``typing_extensions.deprecated`` wraps a coroutine function: a plain
    function returning its coroutine, marked as a coroutine function the way of this Python."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    if sys.version_info >= (3, 12):
        return inspect.markcoroutinefunction(wrapper)
    wrapper._is_coroutine = asyncio.coroutines._is_coroutine
    return wrapper


class ProjectSession(AsyncSession):
    """A project's session class with methods of its own, as SQLModel's has ``exec()``."""

    async def exec(self, statement):
        result = await self.execute(statement)
        if len(statement.column_descriptions) == 1 and statement.column_descriptions[0]["entity"]:
            return result.scalars()
        return result

    async def names_through_the_sync_session(self):
        def work(sync_session):
            return sync_session.execute(select(Person.name).order_by(Person.id)).scalars().all()

        return await self.run_sync(work)

    def person_count(self):
        loaded = self.sync_session.identity_map.values()
        return len([obj for obj in loaded if isinstance(obj, Person)])

    async def names_through_super(self):
        return (await super().scalars(select(Person.name).order_by(Person.id))).all()

    @marked_as_a_coroutine_function
    async def first_name(self):
        return await self.scalar(select(Person.name).order_by(Person.id))


@parity_scenario
async def subclass_exec_of_an_entity(session):
    people_found = (await session.exec(select(Person).order_by(Person.id))).all()
    return people_found, session.person_count()


@parity_scenario
async def subclass_exec_of_columns(session):
    return (await session.exec(by_id())).all()


@parity_scenario
async def subclass_method_through_run_sync(session):
    return await session.names_through_the_sync_session()


@parity_scenario
async def subclass_method_calling_super(session):
    return await session.names_through_super()


@parity_scenario
async def subclass_method_marked_the_asyncio_way(session):
    coroutine = session.first_name()
    return inspect.iscoroutine(coroutine), await coroutine


@parity_scenario
async def function_executed_directly(session):
    return (await session.execute(func.count())).scalar_one(), await session.scalar(func.count())


# -- known differences (docs/limits.rst): the outcome on each session is pinned ----------------


@parity_scenario
async def merges_a_new_object(session):
    given = Person(id=7, name="new")
    merged = await session.merge(given)
    return merged is given, merged in session, given in session


@parity_scenario
async def executes_text(session):
    return (await session.execute(sqlalchemy.text("SELECT 1"))).all()


@parity_scenario
async def reads_the_rowcount_of_an_orm_select(session):
    return (await session.execute(select(Person))).rowcount


@parity_scenario
async def begins_while_a_begun_transaction_is_open(session):
    await session.begin()
    await session.begin()


@parity_scenario
async def counts_the_identity_map_after_dropping_the_objects(session):
    (await session.scalars(select(Person))).all()  # the objects are dropped at once
    return len(session.identity_map)


# -- the tests ----------------------------------------------------------------------------------


def _no_driver_transactions(dbapi_connection, connection_record):
    dbapi_connection.isolation_level = None  # SQLAlchemy's SAVEPOINT recipe for pysqlite


def _emit_begin(connection):
    connection.exec_driver_sql("BEGIN")


class SessionParityTestCase(AsyncSessionTestCase):
    """Gives each test ``self.engine``, an in-memory SQLite database with the seed rows."""

    maxDiff = None
    real_session_class = AsyncSession

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
        self.addAsyncCleanup(self.engine.dispose)
        event.listen(self.engine.sync_engine, "connect", _no_driver_transactions)
        event.listen(self.engine.sync_engine, "begin", _emit_begin)
        async with self.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
            await connection.execute(insert(people), [{"id": i, "name": n} for i, n in ROWS])
            await connection.execute(insert(Badge.__table__).values(id=1, label=TAKEN))
        self.factory = sessionmaker(self.engine, class_=self.real_session_class)

    async def assertSameOutcome(self, scenario, expected=None):
        """Fail unless ``scenario`` ends the same way on both sessions (and as ``expected``)."""
        async with self.factory() as real:
            real_outcome = await outcome(scenario, real)
        mock_outcome = await outcome(scenario, self.session)
        self.assertEqual(mock_outcome, real_outcome)
        if expected is not None:
            self.assertEqual(real_outcome, expected)


class ResultMethodsParityTest(SessionParityTestCase):
    async def test_all_first_and_one(self):
        for scenario in (result_all, result_first, result_one_of_two_rows):
            with self.subTest(scenario.__name__):
                self.addResult(ROWS)
                await self.assertSameOutcome(scenario)

    async def test_one_or_none_of_two_rows_raises(self):
        self.addResult(ROWS)
        await self.assertSameOutcome(
            result_one_or_none_of_two_rows,
            ("raised", sqlalchemy.exc.MultipleResultsFound,
             "Multiple rows were found when one or none was required"),
        )  # fmt: skip

    async def test_scalar(self):
        self.addResult(ROWS)
        await self.assertSameOutcome(result_scalar, ("returned", 1))

    async def test_scalar_one_of_no_row_raises(self):
        await self.assertSameOutcome(
            result_scalar_one_of_no_row,
            ("raised", sqlalchemy.exc.NoResultFound, "No row was found when one was required"),
        )

    async def test_scalar_one_or_none_of_no_row(self):
        await self.assertSameOutcome(result_scalar_one_or_none_of_no_row, ("returned", None))

    async def test_scalars_of_entities(self):
        self.addResult(canned_people())
        await self.assertSameOutcome(
            result_scalars_of_entities, ("returned", [("Person", 1, "ann"), ("Person", 2, "bob")])
        )

    async def test_mappings(self):
        self.addResult(ROWS)
        await self.assertSameOutcome(result_mappings)

    async def test_unique(self):
        self.addResult(["ann", "ann", "bob", "bob"])
        await self.assertSameOutcome(result_unique_names, ("returned", ["ann", "bob"]))

    async def test_partitions(self):
        self.addResult(ROWS)
        await self.assertSameOutcome(result_partitions)

    async def test_columns(self):
        self.addResult(ROWS)
        await self.assertSameOutcome(
            result_columns,
            ("returned", [("Row", ("name",), ("ann",)), ("Row", ("name",), ("bob",))]),
        )

    @unittest.skipUnless(HAS_TUPLES, "Result.tuples() is SQLAlchemy 2.0's (deprecated in 2.1)")
    async def test_tuples(self):
        self.addResult(ROWS)
        await self.assertSameOutcome(result_tuples)

    async def test_keys(self):
        await self.assertSameOutcome(result_keys, ("returned", ["id", "name"]))


class SessionMethodsParityTest(SessionParityTestCase):
    async def test_scalar(self):
        self.addResult(["ann"])
        await self.assertSameOutcome(session_scalar, ("returned", "ann"))

    async def test_scalars(self):
        self.addResult(canned_people())
        await self.assertSameOutcome(session_scalars)

    async def test_get(self):
        self.addObject(*canned_people())
        await self.assertSameOutcome(session_get, ("returned", [("Person", 1, "ann"), None]))

    @unittest.skipUnless(hasattr(AsyncSession, "get_one"), "get_one() came in SQLAlchemy 2.0")
    async def test_get_one_of_a_missing_key_raises(self):
        await self.assertSameOutcome(
            session_get_one_missing,
            ("raised", sqlalchemy.exc.NoResultFound, "No row was found when one was required"),
        )

    async def test_stream_with_async_for(self):
        self.addResult(ROWS)
        await self.assertSameOutcome(stream_async_for)

    async def test_stream_scalars_with_async_for(self):
        self.addResult(canned_people())
        await self.assertSameOutcome(
            stream_scalars_async_for, ("returned", [("Person", 1, "ann"), ("Person", 2, "bob")])
        )


class DmlParityTest(SessionParityTestCase):
    assign_primary_keys = True

    async def test_update_rowcount(self):
        self.addResult(rowcount=1)
        await self.assertSameOutcome(update_rowcount, ("returned", 1))

    async def test_executemany_rowcount(self):
        await self.assertSameOutcome(executemany_insert, ("returned", 2))

    @unittest.skipUnless(HAS_RETURNING, "SQLAlchemy 1.4's SQLite dialect has no RETURNING")
    async def test_insert_returning(self):
        await self.assertSameOutcome(insert_returning, ("returned", [("Row", ("id",), (5,))]))


class UnitOfWorkParityTest(SessionParityTestCase):
    async def test_add_flush_commit(self):
        await self.assertSameOutcome(
            add_flush_commit,
            ("returned", [True, [False, ["persistent"]], False, ["persistent"]]),
        )
        self.assertCommitted()

    async def test_rollback_after_add(self):
        await self.assertSameOutcome(add_then_rollback, ("returned", [False, ["transient"], False]))

    async def test_delete_then_flush(self):
        self.addResult(canned_people()[:1])
        await self.assertSameOutcome(delete_then_flush, ("returned", [True, True]))

    async def test_refresh(self):
        self.addResult(canned_people()[:1])
        self.addResult(canned_people()[:1], statement=select(Person).where(Person.id == 1))
        await self.assertSameOutcome(refresh_discards_a_change, ("returned", ["ann", False]))

    async def test_begin_left_cleanly(self):
        await self.assertSameOutcome(begin_left_cleanly, ("returned", [True, False]))
        self.assertCommitted()

    async def test_begin_left_by_an_exception(self):
        await self.assertSameOutcome(begin_left_by_an_exception, ("returned", [False, False]))
        self.assertRolledBack()

    async def test_begin_nested(self):
        await self.assertSameOutcome(
            begin_nested_left_cleanly_and_by_an_exception, ("returned", [True, False, False, False])
        )

    async def test_integrity_error_on_commit_then_rollback(self):
        error = IntegrityError("INSERT INTO badges", {}, Exception("UNIQUE constraint failed"))
        self.session.commit.side_effect = [error, None]
        await self.assertSameOutcome(
            integrity_error_on_commit_then_rollback, ("returned", ["IntegrityError", False])
        )

    async def test_async_with_session(self):
        await self.assertSameOutcome(async_with_session, ("returned", [True, False, False]))
        self.assertClosed()

    async def test_session_factory(self):
        async_factory = sessionmaker(self.engine, class_=AsyncSession)
        real_outcome = await outcome(factory_session_and_begin, async_factory)
        self.addResult(["ann", "bob"])
        mock_outcome = await outcome(factory_session_and_begin, self.session_factory)
        self.assertEqual(mock_outcome, real_outcome)
        self.assertEqual(real_outcome, ("returned", [["ann", "bob"], True, False]))
        self.assertCommitted()


class KnownDifferencesTest(SessionParityTestCase):
    """Each difference docs/limits.rst lists, by its scenario: what each session gives."""

    async def assertKnownDifference(self, scenario, real_expected, mock_expected):
        async with self.factory() as real:
            real_outcome = await outcome(scenario, real)
        mock_outcome = await outcome(scenario, self.session)
        self.assertEqual(
            (real_outcome[: len(real_expected)], mock_outcome), (real_expected, mock_expected)
        )

    async def test_merge_gives_back_the_object_it_was_given(self):
        await self.assertKnownDifference(
            merges_a_new_object, ("returned", [False, True, False]), ("returned", [True, False, False])
        )

    async def test_text_selects_give_no_row(self):
        await self.assertKnownDifference(
            executes_text, ("returned", [("Row", ("1",), (1,))]), ("returned", [])
        )

    async def test_an_orm_select_has_a_rowcount(self):
        await self.assertKnownDifference(
            reads_the_rowcount_of_an_orm_select, ("raised", AttributeError), ("returned", -1)
        )

    async def test_begin_inside_a_begun_transaction_does_not_raise(self):
        await self.assertKnownDifference(
            begins_while_a_begun_transaction_is_open,
            ("raised", InvalidRequestError, "A transaction is already begun on this Session."),
            ("returned", None),
        )

    async def test_the_identity_map_keeps_the_objects(self):
        self.addResult(canned_people())
        await self.assertKnownDifference(
            counts_the_identity_map_after_dropping_the_objects, ("returned", 0), ("returned", 2)
        )


class IdentityMapParityTest(SessionParityTestCase):
    """Rows give the objects the session holds for their identities; get(), refresh() and
    delete() begin the transaction as they do in production."""

    def canned_twice(self):
        self.addResult([Person(id=1, name="ann")])  # a new object each time, as tests write them
        self.addResult([Person(id=1, name="ann")])

    async def test_an_object_loaded_twice_is_the_same_object(self):
        self.canned_twice()
        await self.assertSameOutcome(loads_an_object_twice, ("returned", [True, "changed"]))

    async def test_an_expired_object_loaded_again_is_refreshed(self):
        self.canned_twice()
        await self.assertSameOutcome(loads_an_object_again_after_commit, ("returned", [True, "ann"]))

    async def test_what_begins_the_transaction(self):
        statement = select(Person).where(Person.id == 1)
        self.addResult(canned_people()[:1], statement=statement, times=None)
        await self.assertSameOutcome(
            what_begins_the_transaction, ("returned", [True, True, True, True])
        )


class SqliteBindParityTest(SessionParityTestCase):
    """With sql_dialect naming SQLite, the code under test sees SQLite's dialect, as on a real
    session over aiosqlite."""

    sql_dialect = "sqlite"

    async def test_bind_and_get_bind(self):
        await self.assertSameOutcome(bind_and_get_bind)
        self.assertEqual(self.session.bind.dialect.name, "sqlite")


class AiosqliteBindParityTest(SessionParityTestCase):
    """With sql_dialect naming the driver too, as the URL does, the engine reports it."""

    sql_dialect = "sqlite+aiosqlite"

    async def test_driver_and_url(self):
        await self.assertSameOutcome(
            bind_driver_and_url, ("returned", ["aiosqlite", "sqlite+aiosqlite://", True, "aiosqlite"])
        )
        await self.assertSameOutcome(bind_and_get_bind)


class SubclassParityTest(SessionParityTestCase):
    """A subclass's own methods run their code against the session: routed, recorded, real."""

    session_class = real_session_class = ProjectSession

    def test_a_method_marked_the_asyncio_way_is_an_async_member(self):
        self.assertFalse(
            sys.version_info < (3, 12) and inspect.iscoroutinefunction(ProjectSession.first_name)
        )
        self.assertEqual(shape_of(ProjectSession).members["first_name"].kind, ASYNC)

    async def test_exec_of_an_entity_gives_scalars(self):
        self.addResult(canned_people(), statement=select(Person).order_by(Person.id))
        await self.assertSameOutcome(
            subclass_exec_of_an_entity,
            ("returned", [[("Person", 1, "ann"), ("Person", 2, "bob")], 2]),
        )
        self.assertExecutedOnce(select(Person).order_by(Person.id))

    async def test_exec_of_columns_gives_rows(self):
        self.addResult(ROWS, statement=by_id())
        await self.assertSameOutcome(subclass_exec_of_columns)
        self.assertExecutedOnce(by_id())

    async def test_a_method_using_run_sync(self):
        statement = select(Person.name).order_by(Person.id)
        self.addResult(["ann", "bob"], statement=statement)
        await self.assertSameOutcome(
            subclass_method_through_run_sync, ("returned", ["ann", "bob"])
        )
        self.assertExecutedOnce(statement)

    async def test_a_method_calling_super_runs_sqlalchemys_method(self):
        statement = select(Person.name).order_by(Person.id)
        self.addResult(["ann", "bob"], statement=statement)
        await self.assertSameOutcome(subclass_method_calling_super, ("returned", ["ann", "bob"]))
        self.assertExecutedOnce(statement)
        # SQLAlchemy's scalars() ran on the sync session: recorded as an execute()
        self.assertEqual(self.executed_statements[0].method, "execute")
        self.session.scalars.assert_not_called()

    async def test_a_method_marked_the_asyncio_way(self):
        self.addResult(["ann"], statement=select(Person.name).order_by(Person.id))
        await self.assertSameOutcome(
            subclass_method_marked_the_asyncio_way, ("returned", [True, "ann"])
        )


class FunctionRouteParityTest(SessionParityTestCase):
    """A route for select(func.count()) answers func.count() executed directly, and the other
    way round (strict: an unrouted execution fails)."""

    strict = True

    async def test_a_route_for_the_select_answers_the_function(self):
        self.addResult([1], statement=select(func.count()), times=2)
        await self.assertSameOutcome(function_executed_directly, ("returned", [1, 1]))

    async def test_a_route_for_the_function_answers_the_select(self):
        self.addResult([3], statement=func.count(), times=2)
        self.assertEqual(await self.session.scalar(select(func.count())), 3)
        self.assertEqual(await self.session.scalar(func.count()), 3)
        self.assertExecuteCount(2, select(func.count()))
        self.assertExecuteCount(2, func.count())


if __name__ == "__main__":
    unittest.main()
