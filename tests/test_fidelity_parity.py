"""Results shaped as a real database gives them: each scenario runs on both sessions.

Each scenario is one coroutine function taking a session. It runs once on ``self.session`` and
once on a real ``AsyncSession`` over an empty in-memory SQLite database (aiosqlite), and the two
outcomes must be equal: the same plain values, or the same exception type and message.
"""

import unittest

import sqlalchemy
from sqlalchemy import (
    Column,
    Integer,
    String,
    false,
    func,
    literal,
    null,
    select,
    true,
)
from sqlalchemy.engine import Row, RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base
from sqlalchemy.pool import StaticPool

from asyncsessiontest import AsyncSessionTestCase

SQLALCHEMY_VERSION = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2])

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String)


users = User.__table__


def plain(value):
    """Turn what a result gives into plain data that compares by value."""
    if isinstance(value, User):
        return ("User", value.id, value.name)
    if isinstance(value, Row):
        return ("Row", tuple(value._fields), tuple(plain(item) for item in value))
    if isinstance(value, RowMapping):
        return ("RowMapping", {key: plain(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


async def outcome(scenario, session):
    """Run ``scenario`` on ``session``; say what it returned or raised."""
    try:
        return ("returned", plain(await scenario(session)))
    except Exception as error:
        return ("raised", type(error), str(error))


class ParityTestCase(AsyncSessionTestCase):
    """Gives each test ``self.real``, an AsyncSession on an empty in-memory SQLite database."""

    maxDiff = None

    async def asyncSetUp(self):
        await super().asyncSetUp()
        engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
        self.addAsyncCleanup(engine.dispose)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        self.real = AsyncSession(engine, expire_on_commit=False)
        self.addAsyncCleanup(self.real.close)

    async def assertSameOutcome(self, scenario, configure=None):
        """Fail unless ``scenario`` ends the same way on both sessions; return the outcome.

        :param configure: called before the mock run, to route canned answers.
        """
        expected = await outcome(scenario, self.real)
        await self.real.rollback()
        if configure is not None:
            configure()
        got = await outcome(scenario, self.session)
        self.assertEqual(got, expected)
        return expected

    async def assertSameOutcomes(self, scenarios, configure=None):
        """Compare each of ``scenarios`` (name: scenario) in a subtest."""
        seen = {}
        for name, scenario in scenarios.items():
            with self.subTest(name):
                seen[name] = await self.assertSameOutcome(scenario, configure)
        return seen


def executes(build, use=lambda result: result.all()):
    """A scenario that executes the statement ``build()`` gives and consumes it by ``use``."""

    async def scenario(session):
        return use(await session.execute(build()))

    return scenario


def keys_and_rows(result):
    return list(result.keys()), result.all()


# -- 2. keys of Core columns without a label ---------------------------------------------------

CORE_SELECTS = {
    "count from a table": lambda: select(func.count()).select_from(users),
    "an expression": lambda: select(users.c.id + 1),
    "two expressions": lambda: select(users.c.id + 1, users.c.id + 2),
    "two counts": lambda: select(func.count(), func.count()).select_from(users),
    "a column twice": lambda: select(users.c.id, users.c.id, users.c.name),
    "a label and an aggregate": lambda: select(func.count().label("n"), func.max(users.c.id)),
    "a table's columns": lambda: select(users),
}
ORM_SELECTS = {
    "count from an entity": lambda: select(func.count()).select_from(User),
    "count of an attribute": lambda: select(func.count(User.id)),
    "an expression of an attribute": lambda: select(User.id + 1),
    "an entity": lambda: select(User),
}


class CoreKeysParityTest(ParityTestCase):
    async def test_keys_of_an_unconfigured_core_select(self):
        seen = await self.assertSameOutcomes(
            {name: executes(build, keys_and_rows) for name, build in CORE_SELECTS.items()}
        )
        self.assertEqual(
            seen["count from a table"], ("returned", [["count_1"], [("Row", ("count_1",), (0,))]])
        )
        self.assertEqual(seen["an expression"], ("returned", [["anon_1"], []]))
        self.assertEqual(seen["a column twice"][1][0], ["id", "id__1", "name"])

    async def test_orm_keys_stay_as_they_were(self):
        seen = await self.assertSameOutcomes(
            {name: executes(build, keys_and_rows) for name, build in ORM_SELECTS.items()}
        )
        self.assertEqual(seen["count from an entity"][1][0], ["count"])
        self.assertEqual(seen["an expression of an attribute"][1][0], ["_no_label"])

    async def test_canned_rows_take_the_compiled_names(self):
        await self.real.execute(users.insert().values(id=1, name="a"))

        async def count_mapping(session):
            return (await session.execute(select(func.count()).select_from(users))).mappings().one()

        async def expression_mapping(session):
            return (await session.execute(select(users.c.id + 1, users.c.name))).mappings().all()

        async def twice(session):
            # (keys and rows: SQLAlchemy 1.4's mappings() cannot find a repeated column's key)
            return keys_and_rows(await session.execute(select(users.c.id, users.c.id)))

        for scenario, rows in [
            (count_mapping, [1]),
            (expression_mapping, [(2, "a")]),
            (twice, [(1, 1)]),
        ]:
            with self.subTest(scenario.__name__):
                expected = await outcome(scenario, self.real)
                self.addResult(rows)
                self.assertEqual(await outcome(scenario, self.session), expected)

    async def test_the_same_structure_keys_the_same_way_every_time(self):
        for _ in range(3):
            await self.assertSameOutcome(executes(CORE_SELECTS["two counts"], keys_and_rows))


# -- 3. selects a database answers with exactly one row -------------------------------------

ONE_ROW_SELECTS = {
    "true()": lambda: select(true()),
    "false()": lambda: select(false()),
    "null()": lambda: select(null()),
    "true() and a literal": lambda: select(true(), literal(5)),
    "count().filter()": lambda: select(func.count().filter(users.c.id > 1)),
    "sum().filter() labelled": lambda: select(
        func.sum(users.c.id).filter(users.c.id > 1).label("s")
    ),
    "count().filter() of an entity": lambda: select(func.count(User.id).filter(User.name == "a")),
}
# a database computes their value; the mock gives the row, its value None
FUNCTIONS_OF_LITERALS = {
    "lower()": lambda: select(func.lower("A")),
    "now()": lambda: select(func.now()),
    "max() of a literal": lambda: select(func.max(1)),
    "two functions": lambda: select(func.abs(-1), func.upper("b")),
}
NO_ROW_SELECTS = {
    "true() from a table": lambda: select(true()).select_from(users),
    "a function of literals from a table": lambda: select(func.lower("A")).select_from(users),
    "a function of a column": lambda: select(func.lower(users.c.name)),
}


def keys_and_row_count(result):
    return list(result.keys()), len(result.all())


class OneRowParityTest(ParityTestCase):
    async def test_selects_of_constants_and_filtered_aggregates(self):
        seen = await self.assertSameOutcomes(
            {name: executes(build, keys_and_rows) for name, build in ONE_ROW_SELECTS.items()}
        )
        self.assertEqual(seen["true()"][1][1], [("Row", ("anon_1",), (True,))])
        self.assertEqual(seen["count().filter()"][1][1], [("Row", ("anon_1",), (0,))])

    async def test_functions_of_literals_give_one_row(self):
        seen = await self.assertSameOutcomes(
            {
                name: executes(build, keys_and_row_count)
                for name, build in FUNCTIONS_OF_LITERALS.items()
            }
        )
        self.assertEqual(seen["lower()"], ("returned", [["lower_1"], 1]))

    async def test_the_value_of_a_function_of_literals_is_not_computed(self):
        self.assertEqual((await self.session.execute(select(func.lower("A")))).all(), [(None,)])
        self.assertIsNone(await self.session.scalar(select(func.now())))

    async def test_no_row_from_empty_tables(self):
        seen = await self.assertSameOutcomes(
            {name: executes(build, keys_and_rows) for name, build in NO_ROW_SELECTS.items()}
        )
        self.assertEqual(seen["true() from a table"], ("returned", [["anon_1"], []]))

    async def test_a_function_executed_directly_is_the_select_of_it(self):
        async def scalar(session):
            return await session.scalar(func.count())

        async def stream(session):
            return await (await session.stream(func.count())).all()

        seen = await self.assertSameOutcomes(
            {
                "execute(func.count())": executes(lambda: func.count(), keys_and_rows),
                "scalar(func.count())": scalar,
                "stream(func.count())": stream,
                "execute(func.lower())": executes(lambda: func.lower("A"), keys_and_row_count),
            }
        )
        self.assertEqual(
            seen["execute(func.count())"],
            ("returned", [["count_1"], [("Row", ("count_1",), (1,))]]),
        )

    async def test_a_canned_answer_to_a_function_executed_directly_takes_its_key(self):
        scenario = executes(lambda: func.count(), lambda result: result.mappings().all())
        seen = await self.assertSameOutcome(scenario, configure=lambda: self.addResult([1]))
        self.assertEqual(seen, ("returned", [("RowMapping", {"count_1": 1})]))


if __name__ == "__main__":
    unittest.main()
