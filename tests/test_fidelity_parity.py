"""Results shaped as a real database gives them: each scenario runs on both sessions.

Each scenario is one coroutine function taking a session. It runs once on ``self.session`` and
once on a real ``AsyncSession`` over an empty in-memory SQLite database (aiosqlite), and the two
outcomes must be equal: the same plain values, or the same exception type and message.
"""

import unittest

import sqlalchemy
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    String,
    delete,
    false,
    func,
    insert,
    literal,
    null,
    select,
    true,
    update,
    values,
)
from sqlalchemy.engine import Row, RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import declarative_base
from sqlalchemy.pool import StaticPool

from asyncsessiontest import AsyncSessionTestCase
from asyncsessiontest.keys import KeyAssigner

SQLALCHEMY_VERSION = tuple(int(part) for part in sqlalchemy.__version__.split(".")[:2])

Base = declarative_base()


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String)


class Tag(Base):
    __tablename__ = "tags"

    id = Column(Integer, primary_key=True)
    label = Column(String)
    kind = Column(String, default="plain")  # a Python-side default: SQLAlchemy computes it


class Note(Base):
    __tablename__ = "notes"

    id = Column(Integer, primary_key=True)
    text = Column(String)
    created = Column(DateTime, server_default=func.current_timestamp())  # the database's


users = User.__table__
tags = Tag.__table__
notes = Note.__table__
# RETURNING on SQLite: SQLAlchemy 2.0 on (1.4's SQLite dialect refuses it)
HAS_RETURNING = SQLALCHEMY_VERSION >= (2, 0)
# SQLAlchemy 2.0's aiosqlite adapter reads the cursor's counts before the RETURNING rows are
# fetched: rowcount and lastrowid are -1 there (2.1, and other drivers, give the counts the
# mock gives); the scenarios leave them out on 2.0
RETURNING_COUNTS = () if SQLALCHEMY_VERSION >= (2, 1) else ("rowcount", "lastrowid")


def plain(value):
    """Turn what a result gives into plain data that compares by value."""
    if isinstance(value, User):
        return ("User", value.id, value.name)
    if isinstance(value, Tag):
        return ("Tag", value.id, value.label, value.kind)
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
        # SQLite gives the keys of rolled back rows anew: so do the mock's counters, each time
        state = self._asyncsessiontest_state
        if state.keys is not None:
            state.keys = KeyAssigner()
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


# -- 4. results of DML ------------------------------------------------------------------------

CURSOR_ATTRIBUTES = [
    "rowcount", "returns_rows", "is_insert", "inserted_primary_key", "inserted_primary_key_rows",
    "lastrowid", "returned_defaults", "returned_defaults_rows",
]  # fmt: skip


def cursor_facts(result, leave_out=()):
    """Read what a CursorResult knows: each attribute's value, or the exception it raises."""
    facts = {}
    for name in CURSOR_ATTRIBUTES:
        if name in leave_out:
            continue
        try:
            facts[name] = plain(getattr(result, name))
        except Exception as error:
            facts[name] = ("raised", type(error), str(error))
    if result.returns_rows:
        facts["keys"] = list(result.keys())
        facts["rows"] = plain(result.all())
    return facts


def runs(build, use=cursor_facts):
    """A scenario executing ``build()`` (a statement, or (statement, params))."""

    async def scenario(session):
        built = build()
        arguments = built if isinstance(built, tuple) else (built,)
        return use(await session.execute(*arguments))

    return scenario


INSERTS = {
    "values()": lambda: insert(tags).values(label="a"),
    "values() with the key": lambda: insert(tags).values(id=7, label="a"),
    "parameters": lambda: (insert(tags), {"label": "a"}),
    "one parameter set in a list": lambda: (insert(tags), [{"label": "a"}]),
    "executemany": lambda: (insert(tags), [{"label": "a"}, {"label": "b"}]),
    "multi-row values()": lambda: insert(tags).values([{"label": "a"}, {"label": "b"}]),
    "orm values()": lambda: insert(Tag).values(label="a"),
}
RETURNING_INSERTS = {
    "returning()": lambda: insert(tags).values(label="a").returning(tags.c.id, tags.c.kind),
    "returning() the table": lambda: insert(tags).values(label="a").returning(tags),
    "returning() with the key": lambda: insert(tags).values(id=7, label="a").returning(tags.c.id),
    "executemany returning()": lambda: (
        insert(tags).returning(tags.c.id, tags.c.label),
        [{"label": "a"}, {"label": "b"}],
    ),
    "multi-row values() returning()": lambda: (
        insert(tags).values([{"label": "a"}, {"label": "b"}]).returning(tags.c.id, tags.c.label)
    ),
}
# RETURNING of the key from SQLAlchemy 2.0 on; on 1.4, the cursor's lastrowid and no rows
RETURN_DEFAULTS = {
    "return_defaults()": lambda: insert(tags).values(label="a").return_defaults(),
    "executemany return_defaults()": lambda: (
        insert(tags).return_defaults(),
        [{"label": "a"}, {"label": "b"}],
    ),
}
# an empty database: nothing to update or delete. lastrowid is left out: a database reports
# whatever its cursor last held (SQLite: the last insert's rowid), the mock None
CHANGES = {
    "update": lambda: update(tags).values(label="b"),
    "delete": lambda: delete(tags).where(tags.c.id == 1),
    "orm update": lambda: update(Tag).values(label="b"),
}
RETURNING_CHANGES = {
    "update returning()": lambda: update(tags).values(label="b").returning(tags.c.id),
    "delete returning()": lambda: delete(tags).returning(tags.c.id, tags.c.label),
}
ORM_RETURNING = {
    "insert returning(Tag)": lambda: insert(Tag).values(label="a").returning(Tag),
    "executemany insert returning(Tag)": lambda: (
        insert(Tag).returning(Tag),
        [{"label": "a"}, {"label": "b"}],
    ),
    "insert returning(Tag, Tag.label)": lambda: (
        insert(Tag).values(label="a").returning(Tag, Tag.label)
    ),
    "update returning(Tag)": lambda: update(Tag).values(label="b").returning(Tag),
    "delete returning(Tag)": lambda: delete(Tag).returning(Tag),
}


def keys_and_rows_of(result):
    return list(result.keys()), plain(result.all())


class DmlResultParityTest(ParityTestCase):
    assign_primary_keys = True

    async def test_inserts(self):
        seen = await self.assertSameOutcomes({name: runs(b) for name, b in INSERTS.items()})
        self.assertEqual(seen["values()"][1]["inserted_primary_key"], ("Row", ("id",), (1,)))
        self.assertEqual(seen["values() with the key"][1]["lastrowid"], 7)
        self.assertEqual(seen["executemany"][1]["rowcount"], 2)

    async def test_updates_and_deletes(self):
        leave_out = ("lastrowid",)
        await self.assertSameOutcomes(
            {name: runs(b, lambda r: cursor_facts(r, leave_out)) for name, b in CHANGES.items()}
        )

    @unittest.skipUnless(HAS_RETURNING, "SQLAlchemy 1.4's SQLite dialect has no RETURNING")
    async def test_inserts_returning_the_inserted_rows(self):
        seen = await self.assertSameOutcomes(
            {
                name: runs(b, lambda r: cursor_facts(r, RETURNING_COUNTS))
                for name, b in RETURNING_INSERTS.items()
            }
        )
        self.assertEqual(
            seen["executemany returning()"][1]["rows"],
            [("Row", ("id", "label"), (1, "a")), ("Row", ("id", "label"), (2, "b"))],
        )

    async def test_return_defaults_is_no_returning_of_zero_columns(self):
        seen = await self.assertSameOutcomes(
            {
                name: runs(b, lambda r: cursor_facts(r, RETURNING_COUNTS))
                for name, b in RETURN_DEFAULTS.items()
            }
        )
        facts = seen["return_defaults()"][1]
        self.assertEqual(
            facts["returned_defaults"], ("Row", ("id",), (1,)) if HAS_RETURNING else None
        )
        self.assertEqual(facts["returns_rows"], HAS_RETURNING)
        if HAS_RETURNING:
            self.assertEqual((facts["keys"], facts["rows"]), (["id"], []))

    async def test_canned_rowcount_answers_return_defaults(self):
        build = RETURN_DEFAULTS["return_defaults()"]
        seen = await self.assertSameOutcome(
            runs(build, lambda r: (r.returns_rows, tuple(r.inserted_primary_key))),
            configure=lambda: self.addResult(rowcount=1),
        )
        self.assertEqual(seen, ("returned", [HAS_RETURNING, [1]]))

    @unittest.skipUnless(HAS_RETURNING, "SQLAlchemy 1.4's SQLite dialect has no RETURNING")
    async def test_updates_and_deletes_returning_nothing(self):
        leave_out = ("lastrowid", *RETURNING_COUNTS)
        await self.assertSameOutcomes(
            {
                name: runs(b, lambda r: cursor_facts(r, leave_out))
                for name, b in RETURNING_CHANGES.items()
            }
        )

    @unittest.skipUnless(HAS_RETURNING, "SQLAlchemy 1.4's SQLite dialect has no RETURNING")
    async def test_orm_returning_gives_instances(self):
        seen = await self.assertSameOutcomes(
            {name: runs(b, keys_and_rows_of) for name, b in ORM_RETURNING.items()}
        )
        self.assertEqual(
            seen["insert returning(Tag)"],
            ("returned", [["Tag"], [["Row", ["Tag"], [["Tag", 1, "a", "plain"]]]]]),
        )
        self.assertEqual(seen["delete returning(Tag)"], ("returned", [["Tag"], []]))

    @unittest.skipUnless(HAS_RETURNING, "SQLAlchemy 1.4's SQLite dialect has no RETURNING")
    async def test_canned_instances_answer_orm_returning(self):
        async def scenario(session):
            statement = insert(Tag).values(id=5, label="x").returning(Tag)
            return (await session.execute(statement)).scalars().all()

        seen = await self.assertSameOutcome(
            scenario, configure=lambda: self.addResult([Tag(id=5, label="x", kind="plain")])
        )
        self.assertEqual(seen, ("returned", [("Tag", 5, "x", "plain")]))

    @unittest.skipUnless(HAS_RETURNING, "SQLAlchemy 1.4's SQLite dialect has no RETURNING")
    async def test_server_defaults_are_fetched_but_not_computed(self):
        async def keys_and_row_count_of_defaults(session):
            result = await session.execute(insert(notes).values(text="a").return_defaults())
            return list(result.keys()), len(result.returned_defaults), result.inserted_primary_key

        seen = await self.assertSameOutcome(keys_and_row_count_of_defaults)
        self.assertEqual(seen, ("returned", [["id", "created"], 2, ("Row", ("id",), (1,))]))
        result = await self.session.execute(insert(notes).values(text="a").return_defaults())
        self.assertIsNone(result.returned_defaults.created)

    async def test_keys_count_on_across_core_inserts_and_flushed_instances(self):
        async def scenario(session):
            first = await session.execute(insert(tags).values(label="a"))
            tag = Tag(label="b")
            session.add(tag)
            await session.flush()
            third = await session.execute(insert(tags), {"label": "c"})
            return first.inserted_primary_key[0], tag.id, third.inserted_primary_key[0]

        seen = await self.assertSameOutcome(scenario)
        self.assertEqual(seen, ("returned", [1, 2, 3]))


class DmlResultWithoutKeysTest(ParityTestCase):
    """Without assign_primary_keys, the keys a database would make up are None."""

    async def test_insert(self):
        result = await self.session.execute(insert(tags).values(label="a"))
        self.assertEqual(tuple(result.inserted_primary_key), (None,))
        self.assertIsNone(result.lastrowid)
        result = await self.session.execute(insert(tags).values(id=7, label="a"))
        self.assertEqual(tuple(result.inserted_primary_key), (7,))
        self.assertEqual(result.lastrowid, 7)

    @unittest.skipUnless(HAS_RETURNING, "SQLAlchemy 1.4's SQLite dialect has no RETURNING")
    async def test_insert_returning_has_the_same_shape_as_a_databases(self):
        async def keys_and_widths(session):
            statement = insert(tags).returning(tags.c.id, tags.c.label, tags.c.kind)
            result = await session.execute(statement, [{"label": "a"}, {"label": "b"}])
            return list(result.keys()), [(row.label, row.kind) for row in result]

        await self.assertSameOutcome(keys_and_widths)
        result = await self.session.execute(insert(tags).values(label="a").returning(tags.c.id))
        self.assertEqual(result.all(), [(None,)])


# -- 5. values() constructs, whether their columns were read first or not ----------------------

# SQLite takes VALUES in a CTE, not in FROM; Values.cte() came in SQLAlchemy 2.0
VALUES_CTE = hasattr(values(Column("id", Integer)), "cte")


def pairs():
    """A values() construct with data, built anew each time, its columns not yet read."""
    return values(Column("id", Integer), Column("name", String), name="pairs").data(
        [(1, "a"), (2, "b")]
    )


def select_pairs(construct=None):
    construct = pairs() if construct is None else construct
    return select(construct.cte("pairs") if VALUES_CTE else construct)


class ValuesParityTest(ParityTestCase):
    def route(self):
        self.addResult([(1, "a"), (2, "b")], statement=select_pairs(), times=None)

    @unittest.skipUnless(VALUES_CTE, "SQLAlchemy 1.4 has no Values.cte(), SQLite no VALUES in FROM")
    async def test_routed_whether_the_code_read_the_columns_or_rendered_the_statement(self):
        async def read_columns_first(session):
            construct = pairs()
            construct.c  # noqa: B018 (code reads a column, builds a join...)
            return (await session.execute(select_pairs(construct))).all()

        async def logged_first(session):
            statement = select_pairs()
            str(statement)  # code that logs its SQL compiles the statement first
            return (await session.execute(statement)).all()

        async def as_built(session):
            return (await session.execute(select_pairs())).all()

        scenarios = {
            "columns read first": read_columns_first,
            "rendered first": logged_first,
            "as built": as_built,
        }
        for _ in range(2):  # and the same on every call
            seen = await self.assertSameOutcomes(scenarios, configure=self.route)
        self.assertEqual(
            seen["as built"],
            (
                "returned",
                [("Row", ("id", "name"), (1, "a")), ("Row", ("id", "name"), (2, "b"))],
            ),
        )

    async def test_routed_the_same_way_on_every_call(self):
        self.route()
        for touch in [None, "columns", "render", None, "render", "columns"]:
            with self.subTest(touch):
                construct = pairs()
                statement = select_pairs(construct)
                if touch == "columns":
                    construct.c  # noqa: B018
                elif touch == "render":
                    str(statement)
                result = await self.session.execute(statement)
                self.assertEqual(result.all(), [(1, "a"), (2, "b")])

    async def test_asserted_the_same_way_after_a_failure_message_rendered_it(self):
        await self.session.execute(select_pairs())
        with self.assertRaises(self.failureException):
            self.assertNotExecuted(select_pairs())  # its message renders both statements
        for _ in range(2):
            self.assertExecutedOnce(select_pairs())
            construct = pairs()
            construct.c  # noqa: B018
            self.assertExecutedOnce(select_pairs(construct))


if __name__ == "__main__":
    unittest.main()
