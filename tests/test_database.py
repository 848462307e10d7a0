"""Database mode: the same tests on a real database, canned answers checked against it.

The behaviour tests run on in-memory SQLite (aiosqlite), on a SQLite file, and on PostgreSQL
(asyncpg) when ``ASYNCSESSIONTEST_TEST_POSTGRESQL_URL`` names a server; ``.ci/run`` starts one
and sets ``ASYNCSESSIONTEST_REQUIRE_POSTGRESQL=1``, which turns a missing server into a failure.
"""

import atexit
import gc
import importlib
import os
import shutil
import sys
import tempfile
import unittest
import warnings
from pathlib import Path
from unittest import mock

import sqlalchemy
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    func,
    insert,
    select,
    text,
    update,
)  # fmt: skip
from sqlalchemy.exc import IntegrityError, MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only, relationship

from asyncsessiontest import AsyncSessionTestCase
from asyncsessiontest.database import ENVIRONMENT_VARIABLE, create_engine_for, database_url_for
from tests.support import run_tests

try:  # SQLAlchemy 2.0+
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

except ImportError:  # SQLAlchemy 1.4
    from sqlalchemy.orm import declarative_base

    Base = declarative_base()


user_tags = Table(
    "db_user_tags",
    Base.metadata,
    Column("user_id", ForeignKey("db_users.id"), primary_key=True),
    Column("tag_id", ForeignKey("db_tags.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "db_users"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    addresses = relationship("Address", back_populates="user")
    tags = relationship("Tag", secondary=user_tags)


class Employee(Base):
    __tablename__ = "db_employees"

    id = Column(Integer, primary_key=True)
    manager_id = Column(Integer, ForeignKey("db_employees.id"))


class Account(Base):
    __tablename__ = "DbAccounts"  # a name PostgreSQL keeps only quoted

    id = Column(Integer, primary_key=True)


class Tag(Base):
    __tablename__ = "db_tags"

    id = Column(Integer, primary_key=True)
    name = Column(String(50))


class Address(Base):
    __tablename__ = "db_addresses"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("db_users.id"))
    email = Column(String(50))
    user = relationship(User, back_populates="addresses")

POSTGRESQL_URL = os.environ.get("ASYNCSESSIONTEST_TEST_POSTGRESQL_URL")
REQUIRE_POSTGRESQL = os.environ.get("ASYNCSESSIONTEST_REQUIRE_POSTGRESQL") == "1"
if REQUIRE_POSTGRESQL and not POSTGRESQL_URL:
    raise RuntimeError(
        "ASYNCSESSIONTEST_REQUIRE_POSTGRESQL=1 but ASYNCSESSIONTEST_TEST_POSTGRESQL_URL is not set"
    )
# removed when the process ends (a tearDownModule would also run after each suite that the tests
# below run themselves)
_DIRECTORY = tempfile.mkdtemp(prefix="asyncsessiontest-")
atexit.register(shutil.rmtree, _DIRECTORY, ignore_errors=True)
SQLITE_FILE_URL = f"sqlite+aiosqlite:///{os.path.join(_DIRECTORY, 'test.db')}"
BACKENDS = ["sqlite+aiosqlite://", SQLITE_FILE_URL] + ([POSTGRESQL_URL] if POSTGRESQL_URL else [])
# what the code under test gets for an implicit load (raw, or wrapped by the statement it ran)
IMPLICIT_IO = (MissingGreenlet, StatementError)


# a production factory, as code under test imports it (the tests patch it)
try:
    from sqlalchemy.ext.asyncio import async_sessionmaker

    SessionLocal = async_sessionmaker(expire_on_commit=False)
except ImportError:  # SQLAlchemy 1.4
    from sqlalchemy.orm import sessionmaker

    SessionLocal = sessionmaker(class_=AsyncSession, expire_on_commit=False)


async def register(name):
    """Code that builds its own session from the module's factory, and reads after commit."""
    async with SessionLocal() as session:
        user = User(id=1, name=name)
        session.add(user)
        await session.commit()
        return user.name  # no expiry: the factory says expire_on_commit=False


async def rename_user(session, user_id, name):
    user = await session.get(User, user_id)
    user.name = name
    await session.commit()
    return user


async def user_names(session):
    return list(await session.scalars(select(User.name).order_by(User.name)))


async def count_users(session):
    return await session.scalar(select(func.count()).select_from(User))


class Behaviour:
    """Database mode's behaviour, run on each backend by the classes below."""

    metadata = Base.metadata

    async def test_session_is_the_spec_d_mock_in_front_of_a_real_session(self):
        self.assertIsInstance(self.session, AsyncSession)
        self.assertIsInstance(self.session.sync_session, sqlalchemy.orm.Session)
        await self.session.execute(select(User))
        self.session.execute.assert_awaited_once()
        self.assertExecutedOnce(select(User))

    async def test_the_bind_is_the_test_s_connection_with_the_database_s_dialect(self):
        dialect = self.session.get_bind().dialect.name
        self.assertIn(dialect, ("sqlite", "postgresql"))
        self.assertEqual(self.session.bind.dialect.name, dialect)
        self.assertEqual(self.session.identity_key(User, 1)[:2], (User, (1,)))

    async def test_code_that_commits_writes_for_real_and_the_test_reads_what_it_wrote(self):
        self.session.add(User(id=1, name="ann"))
        await self.session.commit()

        self.assertEqual(await user_names(self.session), ["ann"])
        self.assertCommitted()

    async def test_an_added_object_seeds_a_row_found_by_get_and_by_selects(self):
        ann = User(id=1, name="ann")
        self.addObject(ann)

        self.assertIs(await self.session.get(User, 1), ann)
        self.assertEqual(await user_names(self.session), ["ann"])
        self.assertEqual([op.method for op in self.session_history], ["get", "scalars"])

    async def test_seed_rows_follow_relationships_with_their_foreign_keys(self):
        ann = User(id=1, name="ann")
        address = Address(id=7, email="ann@example.com")
        ann.addresses = [address]
        self.addObject(ann)

        found = await self.session.scalar(select(Address).where(Address.user_id == 1))
        self.assertIs(found, address)

    async def test_seed_rows_fill_many_to_many_association_tables(self):
        self.addObject(User(id=1, name="ann", tags=[Tag(id=1, name="a"), Tag(id=2, name="b")]))

        links = await self.session.scalar(select(func.count()).select_from(user_tags))
        tags = await self.session.scalars(select(Tag.name).join(User.tags).order_by(Tag.name))

        self.assertEqual((links, list(tags)), (2, ["a", "b"]))

    async def test_code_given_a_seed_object_sees_it_persistent(self):
        ann = User(id=1, name="ann")
        self.addObject(ann)

        self.session.add(Address(id=2, user=ann, email="a@example.com"))  # no await before
        await self.session.commit()

        self.assertEqual(await self.session.scalar(select(func.count()).select_from(User)), 1)

    async def test_the_code_under_test_commits_and_the_test_reads_the_values_it_left(self):
        self.addObject(User(id=1, name="ann"))

        user = await rename_user(self.session, 1, "bob")

        self.assertEqual(user.name, "bob")  # expired by the commit: the test reads held values

    async def test_the_code_under_test_reading_an_expired_attribute_fails_as_in_production(self):
        self.addObject(User(id=1, name="ann"))

        async def rename_and_read(session):
            user = await rename_user(session, 1, "bob")
            return user.name

        with warnings.catch_warnings():
            # the driver's coroutine that the refused IO never awaited, collected here
            warnings.simplefilter("ignore", RuntimeWarning)
            with self.assertRaises(IMPLICIT_IO) as caught:
                await rename_and_read(self.session)
            del caught
            gc.collect()

    async def test_rollback_undoes_the_code_s_work_and_keeps_the_seed_rows(self):
        self.addObject(User(id=1, name="ann"))
        await self.session.get(User, 1)
        self.session.add(User(id=2, name="bob"))
        await self.session.flush()
        await self.session.rollback()

        self.assertEqual(await user_names(self.session), ["ann"])
        self.assertRolledBack()

    async def test_savepoints_roll_back_alone(self):
        self.session.add(User(id=1, name="ann"))
        await self.session.flush()
        try:
            async with self.session.begin_nested():
                self.session.add(User(id=2, name="bob"))
                raise LookupError
        except LookupError:
            pass
        await self.session.commit()

        self.assertEqual(await user_names(self.session), ["ann"])
        self.assertEqual(
            [op.method for op in self.session_history][:6],
            ["add", "flush", "begin_nested", "savepoint: begin", "add", "savepoint: rollback"],
        )

    async def test_a_begin_block_commits_and_is_recorded_as_in_mock_mode(self):
        async with self.session.begin():
            self.session.add(User(id=1, name="ann"))

        self.assertCommitted()
        self.assertEqual(await user_names(self.session), ["ann"])

    async def test_add_exception_raises_at_the_matching_execution(self):
        self.addException(
            IntegrityError("INSERT ...", {}, Exception("UNIQUE")), statement=select(User)
        )
        with self.assertRaises(IntegrityError):
            await self.session.execute(select(User))
        self.assertEqual(await count_users(self.session), 0)  # other statements run for real

    async def test_commit_side_effect_still_works(self):
        self.session.commit.side_effect = IntegrityError("INSERT ...", {}, Exception("UNIQUE"))
        self.session.add(User(id=1, name="ann"))
        with self.assertRaises(IntegrityError):
            await self.session.commit()
        await self.session.rollback()
        with self.assertRaises(IntegrityError):
            async with self.session.begin():
                pass

    async def test_a_claim_of_a_copy_of_a_seed_object_is_checked_by_key_and_values(self):
        ann = User(id=1, name="ann")
        self.addObject(ann)
        self.addResult([User(id=1, name="ann")], statement=select(User).where(User.id == 1))

        found = await self.session.scalar(select(User).where(User.id == 1))

        self.assertIs(found, ann)  # the database's row is the seed object's

    async def test_a_seed_object_without_a_key_is_refused_at_the_line(self):
        with self.assertRaises(ValueError) as caught:
            self.addResult([User(name="ann")], statement=select(User))
        self.assertRegex(
            str(caught.exception),
            r"^addResult\(\): in database mode <.*User object at 0x\w+> becomes a row before "
            r"the code runs, and needs its primary key set$",
        )

    async def test_a_true_claim_passes_and_answers_the_very_objects(self):
        ann = User(id=1, name="ann")
        self.addResult([ann], statement=select(User).where(User.name == "ann"))

        found = (await self.session.execute(select(User).where(User.name == "ann"))).scalar_one()

        self.assertIs(found, ann)

    async def test_the_session_factory_hands_out_the_same_session_on_the_connection(self):
        async with self.session_factory() as session:
            session.add(User(id=1, name="ann"))
            await session.commit()
        async with self.session_factory.begin() as session:
            session.add(User(id=2, name="bob"))

        self.assertEqual(await user_names(self.session), ["ann", "bob"])

    async def test_a_patched_factory_hands_out_the_session_with_the_factory_s_settings(self):
        self.patchSessionFactory("tests.test_database.SessionLocal")

        self.assertEqual(await register("ann"), "ann")
        self.assertEqual(await user_names(self.session), ["ann"])

    @unittest.skipUnless(hasattr(AsyncSession, "get_one"), "get_one() is new in SQLAlchemy 2.0")
    async def test_get_one_raises_for_a_missing_row(self):
        with self.assertRaises(sqlalchemy.exc.NoResultFound):
            await self.session.get_one(User, 1)

    async def test_run_sync_gets_the_real_sync_session(self):
        self.addObject(User(id=1, name="ann"))

        def names(sync_session):
            return [user.name for user in sync_session.scalars(select(User))]

        self.assertEqual(await self.session.run_sync(names), ["ann"])


    async def test_rows_the_code_adds_after_seed_rows_get_new_keys(self):
        self.addObject(User(id=1, name="ann"), User(id=2, name="bob"))
        await self.session.get(User, 1)

        user = User(name="cy")
        self.session.add(user)
        await self.session.commit()

        self.assertGreater(user.id, 2)

    async def test_seed_rows_referring_to_rows_of_their_table_go_in_after_those(self):
        self.addObject(Employee(id=1, manager_id=2), Employee(id=2, manager_id=3), Employee(id=3))

        self.assertEqual(
            await self.session.scalar(select(func.count()).select_from(Employee)), 3
        )

    async def test_a_table_whose_name_needs_quotes_gets_its_sequence_moved(self):
        self.addObject(Account(id=3))
        await self.session.get(Account, 3)

        account = Account()
        self.session.add(account)
        await self.session.commit()

        self.assertGreater(account.id, 3)

    async def test_seed_objects_added_after_the_code_committed(self):
        self.session.add(User(id=5, name="eve"))
        await self.session.commit()
        self.addObject(User(id=1, name="ann"))

        self.assertEqual(await user_names(self.session), ["ann", "eve"])

    async def test_seed_objects_added_inside_the_code_s_transaction_share_its_rollback(self):
        self.session.add(User(id=5, name="eve"))
        await self.session.flush()
        self.addObject(User(id=1, name="ann"))
        self.assertEqual(await count_users(self.session), 2)

        await self.session.rollback()

        self.assertEqual(await count_users(self.session), 0)  # as docs/database.rst says

    async def test_a_claim_ignores_the_columns_its_statement_does_not_load(self):
        self.addObject(User(id=1, name="ann"))
        statement = select(User).options(load_only(User.id)).where(User.id == 1)
        self.addResult([User(id=1, name="ann")], statement=statement)

        await self.session.execute(statement)

    async def test_add_object_after_a_claim_with_a_copy_gives_its_own_object(self):
        ann = User(id=1, name="ann")
        self.addResult([User(id=1, name="bob")], statement=select(User).where(User.id == 2))
        self.addObject(ann)

        self.assertIs(await self.session.get(User, 1), ann)

    @unittest.skipIf(sqlalchemy.__version__.startswith("1."), "ORM RETURNING is new in 2.0")
    async def test_a_queued_result_that_answers_an_insert_is_not_seeded(self):
        self.addResult([User(id=1, name="ann")])

        inserted = await self.session.scalars(
            insert(User).values(id=1, name="ann").returning(User)
        )

        self.assertEqual([user.name for user in inserted], ["ann"])

    async def test_canned_answers_reach_scalars_scalar_and_streams(self):
        ann = User(id=1, name="ann")
        statement = select(User).where(User.id == 1)
        self.addResult([ann], statement=statement, times=None)

        self.assertEqual(list(await self.session.scalars(statement)), [ann])
        self.assertIs(await self.session.scalar(statement), ann)
        self.assertEqual([row async for row in await self.session.stream_scalars(statement)], [ann])
        self.assertEqual(
            [tuple(row) async for row in await self.session.stream(statement)], [(ann,)]
        )


class _Backend(Behaviour):
    """The cases that need a database to keep what a test wrote, to show that it does not."""

    async def test_1_a_test_that_commits(self):
        self.session.add(User(id=1, name="ann"))
        await self.session.commit()

    async def test_2_finds_nothing_of_it(self):
        self.assertEqual(await count_users(self.session), 0)


class SqliteMemoryTest(Behaviour, AsyncSessionTestCase):
    database_url = "sqlite+aiosqlite://"


class SqliteFileTest(_Backend, AsyncSessionTestCase):
    database_url = SQLITE_FILE_URL


@unittest.skipUnless(
    POSTGRESQL_URL,
    "no PostgreSQL server: set ASYNCSESSIONTEST_TEST_POSTGRESQL_URL "
    "(postgresql+asyncpg://...) to run these",
)
class PostgresqlTest(_Backend, AsyncSessionTestCase):
    database_url = POSTGRESQL_URL




async def claim_the_database_finds_no_such_row(test):
    test.addResult([User(id=5, name="eve")], statement=select(User).where(User.name == "bob"))
    await test.session.execute(select(User).where(User.name == "bob"))


async def claim_a_queued_count_the_seed_rows_contradict(test):
    test.addObject(User(id=1, name="ann"), User(id=2, name="bob"))
    test.addResult([3])
    await count_users(test.session)


async def claim_an_order_the_statement_orders_otherwise(test):
    test.addObject(User(id=1, name="ann"), User(id=2, name="bob"))
    # without ORDER BY, the order is not compared
    test.addResult([("bob",), ("ann",)], statement=select(User.name))
    test.assertEqual(len(list(await test.session.scalars(select(User.name)))), 2)
    test.addResult([("bob",), ("ann",)], statement=select(User.name).order_by(User.name))
    await test.session.scalars(select(User.name).order_by(User.name))


async def claim_a_rowcount(test):
    test.addObject(User(id=1, name="ann"))
    statement = update(User).where(User.id == 1).values(name="bob")
    test.addResult(rowcount=1, statement=statement)
    test.assertEqual((await test.session.execute(statement)).rowcount, 1)
    test.addResult(rowcount=3, statement=statement)
    await test.session.execute(statement)


async def claim_other_values_for_a_seed_row(test):
    test.addObject(User(id=1, name="ann"))
    test.addResult([User(id=1, name="bob")], statement=select(User).where(User.id == 1))
    await test.session.execute(select(User).where(User.id == 1))


CLAIMS = [
    (
        claim_other_values_for_a_seed_row,
        "The database contradicts route 1 for: SELECT db_users.id, db_users.name FROM db_users "
        "WHERE db_users.id = 1\nroute 1 answered [User(id=1, name='bob')]; the database answers "
        "[User(id=1, name='ann')]",
    ),
    (
        claim_the_database_finds_no_such_row,
        "The database contradicts route 1 for: SELECT db_users.id, db_users.name FROM db_users "
        "WHERE db_users.name = 'bob'\nroute 1 answered [User(id=5)]; the database answers []",
    ),
    (
        claim_a_queued_count_the_seed_rows_contradict,
        "The database contradicts queued result 1 for: SELECT count(*) AS count_1 FROM db_users"
        "\nqueued result 1 answered [3]; the database answers [2]",
    ),
    (
        claim_an_order_the_statement_orders_otherwise,
        "The database contradicts route 2 for: SELECT db_users.name FROM db_users ORDER BY "
        "db_users.name\nroute 2 answered ['bob', 'ann']; the database answers ['ann', 'bob']",
    ),
    (
        claim_a_rowcount,
        "The database contradicts route 2 for: UPDATE db_users SET name='bob' WHERE "
        "db_users.id = 1\nroute 2 answered rowcount=3; the database answers rowcount=1",
    ),
]


class ClaimsTest(unittest.TestCase):
    """A canned answer the database contradicts fails the test at the execution, with both
    answers and the route named (each claim run as a test of its own, on each backend)."""

    def test_claims_the_database_contradicts(self):
        for url in BACKENDS:
            for claim, message in CLAIMS:
                with self.subTest(url=url, claim=claim.__name__):
                    case = type(
                        "Claims",
                        (AsyncSessionTestCase,),
                        {"database_url": url, "metadata": Base.metadata, "test_it": claim},
                    )
                    result = run_tests(case("test_it"))
                    self.assertEqual(len(result.failures), 1)
                    self.assertEqual(str(result.exceptions["test_it"]), message)


SCHEMA_WORKER = """
import sys, unittest
sys.path.insert(0, sys.argv[2])
from asyncsessiontest import AsyncSessionTestCase
from tests.test_database import Base, User

class Worker(AsyncSessionTestCase):
    database_url = sys.argv[1]
    metadata = Base.metadata

    async def test_it(self):
        self.session.add(User(id=1, name="ann"))
        await self.session.commit()

suite = unittest.defaultTestLoader.loadTestsFromTestCase(Worker)
result = unittest.TextTestRunner(stream=sys.stdout).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
"""


@unittest.skipUnless(POSTGRESQL_URL, "no PostgreSQL server: set ASYNCSESSIONTEST_TEST_POSTGRESQL_URL")
class ParallelSchemaTest(unittest.TestCase):
    """Processes that start at once against a new PostgreSQL database create its schema once."""

    def test_several_processes_create_the_schema_at_once(self):
        import asyncio
        import subprocess
        import uuid

        from sqlalchemy.engine import make_url
        from sqlalchemy.ext.asyncio import create_async_engine

        name = f"asyncsessiontest_{uuid.uuid4().hex[:12]}"

        async def database(sql):
            engine = create_async_engine(POSTGRESQL_URL, isolation_level="AUTOCOMMIT")
            try:
                async with engine.connect() as connection:
                    await connection.execute(text(sql))
            finally:
                await engine.dispose()

        asyncio.run(database(f"CREATE DATABASE {name}"))
        self.addCleanup(asyncio.run, database(f"DROP DATABASE {name}"))
        url = make_url(POSTGRESQL_URL).set(database=name).render_as_string(hide_password=False)
        root = str(Path(__file__).resolve().parent.parent)
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", SCHEMA_WORKER, url, root],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            for _ in range(4)
        ]  # fmt: skip
        outputs = [worker.communicate(timeout=120)[0] for worker in workers]
        self.assertEqual([worker.returncode for worker in workers], [0] * 4, outputs)


class NothingOutlivesATestTest(unittest.TestCase):
    """Whether the test passed, failed or errored, what it wrote is rolled back."""

    def test_failed_and_errored_tests_leave_nothing_behind(self):
        class Writes(AsyncSessionTestCase):
            database_url = SQLITE_FILE_URL
            metadata = Base.metadata

            async def test_fails(self):
                self.session.add(User(id=10, name="fails"))
                await self.session.commit()
                self.fail("on purpose")

            async def test_errors(self):
                self.session.add(User(id=11, name="errors"))
                await self.session.commit()
                raise KeyError("on purpose")

            async def test_leaves_a_transaction_open(self):
                self.session.add(User(id=12, name="open"))
                await self.session.flush()

            async def test_zz_counts(self):
                self.assertEqual(await count_users(self.session), 0)

        result = run_tests(
            Writes("test_fails"),
            Writes("test_errors"),
            Writes("test_leaves_a_transaction_open"),
            Writes("test_zz_counts"),
        )
        self.assertEqual((len(result.failures), len(result.errors)), (1, 1))
        self.assertEqual(result.testsRun, 4)
        self.assertNotIn("test_zz_counts", result.exceptions)

    def test_a_contradiction_the_code_swallows_fails_the_test_at_its_end(self):
        class Swallows(AsyncSessionTestCase):
            database_url = "sqlite+aiosqlite://"
            metadata = Base.metadata

            async def test_it(self):
                self.addResult([5], statement=select(func.count()).select_from(User))
                try:
                    await count_users(self.session)
                except Exception:
                    pass

        result = run_tests(Swallows("test_it"))
        self.assertEqual(
            str(result.exceptions["test_it"]),
            "Database mode: The database contradicts route 1 for: SELECT count(*) AS count_1 "
            "FROM db_users\nroute 1 answered [5]; the database answers [0]",
        )

    def test_objects_leave_the_session_transient_with_their_values(self):
        shared = User(id=1, name="ann")

        class Shares(AsyncSessionTestCase):
            database_url = "sqlite+aiosqlite://"
            metadata = Base.metadata

            async def test_1(self):
                self.addObject(shared)
                await rename_user(self.session, 1, "bob")

            async def test_2(self):
                self.addObject(shared)
                self.assertIs(await self.session.get(User, 1), shared)

        result = run_tests(Shares("test_1"), Shares("test_2"))
        self.assertEqual(result.exceptions, {})
        self.assertTrue(sqlalchemy.inspect(shared).transient)
        self.assertEqual(shared.name, "bob")


class ProjectSession(AsyncSession):
    """A project's session class with a method of its own."""

    async def names(self):
        return list(await self.scalars(select(User.name).order_by(User.name)))


class SubclassTest(AsyncSessionTestCase):
    database_url = "sqlite+aiosqlite://"
    metadata = Base.metadata
    session_class = ProjectSession

    async def test_a_subclass_s_own_method_runs_on_the_database(self):
        self.addObject(User(id=1, name="bob"), User(id=2, name="ann"))

        self.assertEqual(await self.session.names(), ["ann", "bob"])
        self.assertIsInstance(self.session, ProjectSession)
        self.assertExecutedOnce(select(User.name).order_by(User.name))


class StrictModeTest(unittest.TestCase):
    """Strict mode works as on the mock: an execution nothing answered fails, and so does a
    result never used."""

    def test_strict_mode_fails_unanswered_executions_and_unused_results(self):
        class Strict(AsyncSessionTestCase):
            database_url = "sqlite+aiosqlite://"
            metadata = Base.metadata
            strict = True

            async def test_unanswered(self):
                await count_users(self.session)

            async def test_unused(self):
                self.addResult([1], statement=select(User.id))

        result = run_tests(Strict("test_unanswered"), Strict("test_unused"))
        self.assertEqual(
            str(result.exceptions["test_unanswered"]).splitlines()[0],
            "No result configured for: SELECT count(*) AS count_1 FROM db_users",
        )
        self.assertEqual(
            str(result.exceptions["test_unused"]).splitlines()[0],
            "Strict mode: results added but never used:",
        )


class ConnectionErrorTest(unittest.TestCase):
    def test_a_database_that_cannot_be_reached_is_named(self):
        missing = os.path.join(_DIRECTORY, "no such directory", "test.db")

        class Unreachable(AsyncSessionTestCase):
            database_url = f"sqlite+aiosqlite:///{missing}"

            async def test_it(self):
                pass

        result = run_tests(Unreachable("test_it"))
        error = result.exceptions["test_it"]
        self.assertIsInstance(error, ConnectionError)
        self.assertTrue(
            str(error).startswith(
                f"database mode cannot connect to 'sqlite+aiosqlite:///{missing}' (the test "
                f"class's database_url, or ASYNCSESSIONTEST_DATABASE_URL): OperationalError: "
            ),
            str(error),
        )

    @unittest.skipUnless(POSTGRESQL_URL, "no PostgreSQL server: set ASYNCSESSIONTEST_TEST_POSTGRESQL_URL")
    def test_the_password_is_hidden(self):
        class Unreachable(AsyncSessionTestCase):
            database_url = "postgresql+asyncpg://me:secret@127.0.0.1:1/db"

            async def test_it(self):
                pass

        result = run_tests(Unreachable("test_it"))
        self.assertIn("'postgresql+asyncpg://me:***@127.0.0.1:1/db'", str(result.exceptions["test_it"]))


class SampleSuiteTest(unittest.TestCase):
    """The sample application's suite_service.py passes on the mock and on each database, as
    ASYNCSESSIONTEST_DATABASE_URL moves it, unchanged."""

    def test_the_sample_suite_passes_in_both_modes(self):
        sample = str(Path(__file__).resolve().parent / "sample_project")
        with mock.patch.object(sys, "path", [sample, *sys.path]):
            module = importlib.import_module("suite_service")
        for url in ["", *BACKENDS]:
            with self.subTest(url=url), mock.patch.dict(os.environ, {ENVIRONMENT_VARIABLE: url}):
                suite = unittest.defaultTestLoader.loadTestsFromModule(module)
                result = unittest.TestResult()
                suite.run(result)
                self.assertEqual(result.testsRun, 7)
                self.assertEqual(result.errors + result.failures, [])


class SettingsTest(unittest.TestCase):
    def test_the_environment_variable_moves_classes_with_metadata(self):
        with mock.patch.dict(os.environ, {ENVIRONMENT_VARIABLE: "sqlite+aiosqlite://"}):
            self.assertEqual(database_url_for(None, Base.metadata), "sqlite+aiosqlite://")
            self.assertIsNone(database_url_for(None, None))
            self.assertEqual(
                database_url_for(SQLITE_FILE_URL, Base.metadata), SQLITE_FILE_URL
            )
        with mock.patch.dict(os.environ, {ENVIRONMENT_VARIABLE: ""}):
            self.assertIsNone(database_url_for(None, Base.metadata))

    def test_a_class_with_metadata_runs_on_the_database_the_environment_names(self):
        class Counted(AsyncSessionTestCase):
            metadata = Base.metadata

            async def test_it(self):
                self.addObject(User(id=1, name="ann"))
                self.assertEqual(await count_users(self.session), 1)  # the mock answers None

        with mock.patch.dict(os.environ, {ENVIRONMENT_VARIABLE: "sqlite+aiosqlite://"}):
            result = run_tests(Counted("test_it"))
        self.assertEqual(result.exceptions, {})
        result = run_tests(Counted("test_it"))
        self.assertEqual(str(result.exceptions["test_it"]), "0 != 1")

    def test_wrong_settings_are_refused_naming_the_attribute(self):
        cases = [
            ({"database_url": 5}, TypeError,
             "Wrong.database_url must be a database URL string such as 'sqlite+aiosqlite://', "
             "or None; got 5"),
            ({"metadata": "Base.metadata"}, TypeError,
             "Wrong.metadata must be a MetaData such as Base.metadata, or None; "
             "got 'Base.metadata'"),
            ({"database_url": "sqlite://"}, ValueError,
             "database_url 'sqlite://' names a driver that is not async (pysqlite); give an "
             "async one, e.g. 'sqlite+aiosqlite://' or 'postgresql+asyncpg://...'"),
            ({"database_url": "no url"}, ValueError,
             "database_url: 'no url' is not a SQLAlchemy URL; give one such as "
             "'sqlite+aiosqlite://' or 'postgresql+asyncpg://user@host/database'"),
            ({"database_url": "mysql+aiomysql://localhost/db"}, ImportError,
             "database_url 'mysql+aiomysql://localhost/db' needs the 'aiomysql' package, "
             "which is not installed: pip install aiomysql"),
        ]  # fmt: skip
        for attributes, error, message in cases:
            with self.subTest(attributes=attributes):
                wrong = type("Wrong", (AsyncSessionTestCase,), {**attributes, "test_it": _noop})
                result = run_tests(wrong("test_it"))
                self.assertIsInstance(result.exceptions["test_it"], error)
                self.assertEqual(str(result.exceptions["test_it"]), message)


async def _noop(self):
    pass


class EngineTest(AsyncSessionTestCase):  # (the mixin makes it picklable, as runners need)
    async def test_sqlite_savepoints_work_with_the_documented_workaround(self):
        engine = create_engine_for("sqlite+aiosqlite://")
        try:
            async with engine.connect() as connection:
                outer = await connection.begin()
                await connection.execute(text("CREATE TABLE t (x INTEGER)"))
                savepoint = await connection.begin_nested()
                await connection.execute(text("INSERT INTO t VALUES (1)"))
                await savepoint.rollback()
                self.assertEqual(await connection.scalar(text("SELECT count(*) FROM t")), 0)
                await outer.rollback()
        finally:
            await engine.dispose()


if __name__ == "__main__":
    unittest.main()
