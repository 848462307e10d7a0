"""The ORM state behind self.session, scenario by scenario against a real AsyncSession.

Each scenario is one function of a session, run on ``self.session`` (given canned answers) and
on a real AsyncSession over in-memory SQLite (given the same rows), with SQLAlchemy's default
``expire_on_commit=True``; the outcomes (a value, or the type and text of the error) must match.
"""

import contextlib

import sqlalchemy
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, inspect, select
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session, joinedload, relationship, selectinload, sessionmaker

from asyncsessiontest import AsyncSessionTestCase
from tests.support import parity_scenario

try:  # SQLAlchemy 2.0+
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

except ImportError:  # SQLAlchemy 1.4
    from sqlalchemy.orm import declarative_base

    Base = declarative_base()


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    name = Column(String)
    active = Column(Boolean, default=False)
    orders = relationship("Purchase", back_populates="customer")

    def __repr__(self):
        return f"<Customer {self.__dict__.get('name')}>"


class Purchase(Base):
    __tablename__ = "purchases"

    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    item = Column(String)
    customer = relationship("Customer", back_populates="orders")


# SQLAlchemy's own wording (2.1 renamed await_only to await_)
MISSING_GREENLET = (
    f"greenlet_spawn has not been called; can't call "
    f"{'await_' if sqlalchemy.__version__.startswith('2.1') else 'await_only'}() here. "
    f"Was IO attempted in an unexpected place?"
)


class Label(Base):
    __tablename__ = "labels"

    id = Column(Integer, primary_key=True)
    text = Column(String, server_default="plain")


class Shelf(Base):
    __tablename__ = "shelves"

    id = Column(Integer, primary_key=True)
    books = relationship("Book", cascade="all, delete-orphan")


class Book(Base):
    __tablename__ = "books"

    id = Column(Integer, primary_key=True)
    shelf_id = Column(Integer, ForeignKey("shelves.id"))


def seed_rows():
    """The rows both sessions start from: a customer with one purchase, a shelf with a book."""
    customer = Customer(id=1, name="ada", active=True)
    return [
        customer,
        Purchase(id=10, customer_id=1, item="book"),
        Shelf(id=1),
        Book(id=1, shelf_id=1),
    ]


@contextlib.asynccontextmanager
async def seeded_real_session(**options):
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        factory = sessionmaker(engine, class_=AsyncSession, **options)
        async with factory() as seeding:
            seeding.add_all(seed_rows())
            await seeding.commit()
        async with factory() as session:
            yield session
    finally:
        await engine.dispose()


async def outcome(scenario, session):
    """Return what ``scenario(session)`` gave: ("value", v) or ("raises", type, first line)."""
    try:
        return ("value", await scenario(session))
    except StatementError as error:
        # SQLAlchemy 2.1's aiosqlite adapter fails before the statement's context exists, so
        # the engine wraps its MissingGreenlet; asyncpg, and 1.4 and 2.0, raise it as it is
        if not isinstance(error.orig, MissingGreenlet):
            raise
        return ("raises", MissingGreenlet, str(error.orig).split(" (Background")[0])
    except Exception as error:  # the outcome under comparison
        return ("raises", type(error), str(error).splitlines()[0].split(" (Background")[0])


def customer_statement(*options):
    return select(Customer).where(Customer.id == 1).options(*options)


async def load_customer(session, *options):
    return (await session.execute(customer_statement(*options))).scalar_one()


# -- the scenarios: code under test, as production would write it (or get it wrong) -------------


@parity_scenario
async def reads_a_relationship_it_did_not_load(session):
    customer = await load_customer(session)
    return len(customer.orders)


@parity_scenario
async def reads_a_relationship_it_selectin_loaded(session):
    customer = await load_customer(session, selectinload(Customer.orders))
    return [purchase.item for purchase in customer.orders]


@parity_scenario
async def reads_a_column_after_commit(session):
    customer = await load_customer(session)
    customer.name = "bob"
    await session.commit()
    return customer.name


@parity_scenario
async def reads_a_column_after_commit_without_expiry(session):
    customer = await load_customer(session)
    customer.name = "bob"
    await session.commit()
    return customer.name


@parity_scenario
async def refreshes_before_reading_after_commit(session):
    customer = await load_customer(session)
    customer.name = "bob"
    await session.commit()
    await session.refresh(customer)
    return customer.name


@parity_scenario
async def reads_after_expire(session):
    customer = await load_customer(session)
    session.expire(customer)
    return customer.name


@parity_scenario
async def joined_loads_a_collection_without_unique(session):
    result = await session.execute(customer_statement(joinedload(Customer.orders)))
    return len(result.scalars().all())


@parity_scenario
async def joined_loads_a_collection_with_unique(session):
    result = await session.execute(customer_statement(joinedload(Customer.orders)))
    return [len(customer.orders) for customer in result.unique().scalars().all()]


@parity_scenario
async def adds_an_order_of_a_new_customer(session):
    customer = Customer(id=2, name="new")
    purchase = Purchase(id=20, customer=customer)
    session.add(purchase)
    return (customer in session.new, purchase in session.new, len(session.new))


@parity_scenario
async def flushes_and_reads_defaults_and_foreign_keys(session):
    customer = Customer(id=2, name="new")
    purchase = Purchase(id=20, customer=customer, item="pen")
    session.add(purchase)
    await session.flush()
    return (customer.active, purchase.customer_id, inspect(customer).persistent)


@parity_scenario
async def flushes_and_reads_an_unset_column(session):
    customer = Customer(id=5)
    session.add(customer)
    await session.flush()
    return customer.name


@parity_scenario
async def flushes_and_reads_a_server_default(session):
    label = Label(id=1)
    session.add(label)
    await session.flush()
    return label.text


@parity_scenario
async def gets_what_it_flushed(session):
    customer = Customer(id=3, name="kept")
    session.add(customer)
    await session.flush()
    return (await session.get(Customer, 3)) is customer


@parity_scenario
async def tracks_dirty_and_deleted(session):
    customer = await load_customer(session)
    dirty_before = customer in session.dirty
    customer.name = "changed"
    dirty_after = customer in session.dirty
    modified = session.is_modified(customer)
    await session.delete(customer)
    deleted = customer in session.deleted
    await session.flush()
    return (dirty_before, dirty_after, modified, deleted, inspect(customer).deleted)


@parity_scenario
async def rolls_back_what_it_flushed(session):
    customer = Customer(id=4, name="gone")
    session.add(customer)
    await session.flush()
    persistent = inspect(customer).persistent
    await session.rollback()
    return (persistent, inspect(customer).transient, customer in session)


@parity_scenario
async def rolls_back_a_savepoint(session):
    kept, dropped = Customer(id=6, name="kept"), Customer(id=7, name="dropped")
    session.add(kept)
    try:
        async with session.begin_nested():
            session.add(dropped)
            raise LookupError("undo")
    except LookupError:
        pass
    return (kept in session, dropped in session, inspect(dropped).transient)


@parity_scenario
async def reads_after_a_begin_block(session):
    customer = Customer(id=8, name="new")
    async with session.begin():
        session.add(customer)
    return customer.name


@parity_scenario
async def refreshes_away_a_change(session):
    customer = await load_customer(session)
    customer.name = "changed"
    await session.refresh(customer)
    return (customer.name, customer in session.dirty)


@parity_scenario
async def gets_after_commit(session):
    customer = await load_customer(session)
    customer.name = "bob"
    await session.commit()
    again = await session.get(Customer, 1)
    return (again is customer, again.name)


@parity_scenario
async def deletes_with_a_delete_cascade(session):
    shelf = (await session.execute(select(Shelf).where(Shelf.id == 1))).scalar_one()
    await session.delete(shelf)
    await session.flush()
    return inspect(shelf).deleted


@parity_scenario
async def relates_a_new_object_to_a_loaded_one(session):
    customer = await load_customer(session)
    purchase = Purchase(id=30, customer=customer)
    return purchase in session  # no backref cascade, as in SQLAlchemy 2.0 (and 1.4 future)


@parity_scenario
async def loads_again_after_close(session):
    await load_customer(session)
    await session.close()
    customer = await load_customer(session)
    customer.name = "changed"
    return (customer in session, customer in session.dirty)


@parity_scenario
async def runs_sync_code(session):
    def work(sync_session):
        names = sync_session.execute(select(Customer.name)).scalars().all()
        return isinstance(sync_session, Session), names

    return await session.run_sync(work)


@parity_scenario
async def expunges_then_reads(session):
    customer = await load_customer(session)
    session.expunge(customer)
    return (customer in session, customer.name, inspect(customer).detached)


class OrmStateParityTest(AsyncSessionTestCase):
    """Each scenario gives on self.session what it gives on a real session."""

    def canned(self):
        """The answers of the seeded database, as a test gives them: one customer."""
        customer = Customer(id=1, name="ada", active=True)
        customer.orders = [Purchase(id=10, customer_id=1, item="book")]
        return customer

    async def assertSameOutcome(self, scenario, expected=None, **options):
        async with seeded_real_session(**options) as real:
            real_outcome = await outcome(scenario, real)
        mock_outcome = await outcome(scenario, self.session)
        self.assertEqual(mock_outcome, real_outcome)
        if expected is not None:
            self.assertEqual(real_outcome, expected)

    async def test_a_relationship_the_statement_did_not_load_raises(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(
            reads_a_relationship_it_did_not_load,
            ("raises", MissingGreenlet, MISSING_GREENLET),
        )

    async def test_a_relationship_the_statement_loaded_holds_what_the_test_set(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(reads_a_relationship_it_selectin_loaded, ("value", ["book"]))

    async def test_a_column_read_after_commit_raises(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(
            reads_a_column_after_commit, ("raises", MissingGreenlet, MISSING_GREENLET)
        )

    async def test_refresh_after_commit_makes_the_column_readable(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(refreshes_before_reading_after_commit, ("value", "bob"))

    async def test_a_column_read_after_expire_raises(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(
            reads_after_expire, ("raises", MissingGreenlet, MISSING_GREENLET)
        )

    async def test_a_joined_collection_without_unique_raises(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(
            joined_loads_a_collection_without_unique,
            (
                "raises",
                InvalidRequestError,
                "The unique() method must be invoked on this Result, as it contains results "
                "that include joined eager loads against collections",
            ),
        )

    async def test_a_joined_collection_with_unique_is_loaded(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(joined_loads_a_collection_with_unique, ("value", [1]))

    async def test_add_cascades_to_related_objects(self):
        await self.assertSameOutcome(adds_an_order_of_a_new_customer, ("value", (True, True, 2)))

    async def test_flush_applies_defaults_and_foreign_keys(self):
        await self.assertSameOutcome(
            flushes_and_reads_defaults_and_foreign_keys, ("value", (False, 2, True))
        )

    async def test_a_column_never_set_is_unloaded_after_flush(self):
        await self.assertSameOutcome(flushes_and_reads_an_unset_column)

    async def test_a_server_default_after_flush_is_unloaded_without_returning(self):
        # SQLAlchemy's default dialect has no INSERT..RETURNING: the flush expires it
        real = ("raises", MissingGreenlet, MISSING_GREENLET)
        self.assertEqual(await outcome(flushes_and_reads_a_server_default, self.session), real)

    async def test_get_finds_a_flushed_object_without_a_query(self):
        await self.assertSameOutcome(gets_what_it_flushed, ("value", True))

    async def test_dirty_modified_and_deleted(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(
            tracks_dirty_and_deleted, ("value", (False, True, True, True, True))
        )

    async def test_rollback_expunges_what_was_flushed(self):
        await self.assertSameOutcome(rolls_back_what_it_flushed, ("value", (True, True, False)))

    async def test_a_savepoint_rollback_expunges_what_it_added(self):
        await self.assertSameOutcome(rolls_back_a_savepoint, ("value", (True, False, True)))

    async def test_a_begin_blocks_commit_expires(self):
        await self.assertSameOutcome(
            reads_after_a_begin_block, ("raises", MissingGreenlet, MISSING_GREENLET)
        )

    async def test_refresh_discards_a_change_not_flushed(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(refreshes_away_a_change, ("value", ("ada", False)))

    async def test_get_after_commit_reloads_the_object(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(gets_after_commit, ("value", (True, "bob")))

    async def test_a_delete_cascade_loads_what_it_deletes(self):
        self.addResult([Shelf(id=1)])
        await self.assertSameOutcome(deletes_with_a_delete_cascade, ("value", True))

    async def test_no_backref_cascade_of_a_new_object(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(relates_a_new_object_to_a_loaded_one, ("value", False))

    async def test_objects_loaded_after_a_close_are_in_the_session(self):
        self.addResult([self.canned()], times=2)
        await self.assertSameOutcome(loads_again_after_close, ("value", (True, True)))

    async def test_run_sync_runs_on_a_real_session_answered_by_the_routes(self):
        self.addResult(["ada"], statement=select(Customer.name))
        await self.assertSameOutcome(runs_sync_code, ("value", (True, ["ada"])))
        self.assertExecutedOnce(select(Customer.name))

    async def test_expunged_objects_keep_their_loaded_values(self):
        self.addResult([self.canned()])
        await self.assertSameOutcome(expunges_then_reads, ("value", (False, "ada", True)))


class WithoutExpireOnCommitParityTest(AsyncSessionTestCase):
    """A suite whose production factory sets expire_on_commit=False says so on the class."""

    expire_on_commit = False

    async def test_a_column_read_after_commit_keeps_its_value(self):
        self.addResult([Customer(id=1, name="ada")])
        async with seeded_real_session(expire_on_commit=False) as real:
            expected = await outcome(reads_a_column_after_commit_without_expiry, real)
        self.assertEqual(expected, ("value", "bob"))
        self.assertEqual(
            await outcome(reads_a_column_after_commit_without_expiry, self.session), expected
        )


class SqliteDialectParityTest(AsyncSessionTestCase):
    """With sql_dialect naming SQLite, a flush follows SQLite's INSERT..RETURNING."""

    sql_dialect = "sqlite"

    async def test_a_server_default_after_flush(self):
        async with seeded_real_session() as real:
            expected = await outcome(flushes_and_reads_a_server_default, real)
        mocked = await outcome(flushes_and_reads_a_server_default, self.session)
        if sqlalchemy.__version__.startswith("1.4"):  # no eager defaults: expired, as real
            self.assertEqual(mocked, expected)
        else:  # fetched by RETURNING: the mock cannot know the value the database computed
            self.assertEqual((expected, mocked), (("value", "plain"), ("value", None)))
