"""The real Session behind self.session: what the test sees of it, and its error messages."""

import gc
import re
import unittest

import sqlalchemy
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, raiseload, selectinload, sessionmaker
from sqlalchemy.util import await_only

from asyncsessiontest import AsyncSessionTestCase
from asyncsessiontest.ormstate import loaded_attributes, require_unique
from tests.support import User, run_tests
from tests.test_ormstate_parity import Customer, Purchase

SQLALCHEMY_1 = sqlalchemy.__version__.startswith("1.")


def sqlalchemy_wording():
    """Return the text of the MissingGreenlet SQLAlchemy raises itself, without its link."""

    async def nothing():
        pass

    coroutine = nothing()
    try:
        await_only(coroutine)
    except MissingGreenlet as error:
        return re.sub(r" \(Background on this error at: [^)]*\)$", "", str(error))
    finally:
        coroutine.close()
    raise AssertionError("await_only() outside a greenlet did not raise")


def lines_of(error):
    """Return the lines of an error's text, without SQLAlchemy's link (on the first line)."""
    first, *rest = str(error).splitlines()
    return [re.sub(r" \(Background on this error at: [^)]*\)$", "", first), *rest]


async def load_customer(session, *options):
    statement = select(Customer).where(Customer.id == 1).options(*options)
    return (await session.execute(statement)).scalar_one()


async def rename_customer(session):
    """Code under test that reads an attribute after committing, as production must not."""
    customer = await load_customer(session)
    customer.name = "bob"
    await session.commit()
    return customer.name


async def count_orders(session, *options):
    customer = await load_customer(session, *options)
    return len(customer.orders)


class SyncSessionTest(AsyncSessionTestCase):
    def test_is_a_real_session_of_the_session_classs_sync_class(self):
        self.assertIsInstance(self.session.sync_session, Session)
        self.assertIs(self.session.sync_session, self.session.sync_session)

    def test_a_subclasss_own_sync_session_class_is_used(self):
        class AuditedSession(Session):
            pass

        class AuditedAsyncSession(AsyncSession):
            sync_session_class = AuditedSession

        class Inner(AsyncSessionTestCase):
            session_class = AuditedAsyncSession

            def test(self):
                self.assertIsInstance(self.session.sync_session, AuditedSession)

        self.assertEqual(run_tests(Inner("test")).exceptions, {})

    def test_info_is_the_sync_sessions_as_on_a_real_async_session(self):
        self.session.info["tenant"] = 7
        self.assertIs(self.session.info, self.session.sync_session.info)
        self.assertEqual(self.session.sync_session.info, {"tenant": 7})

    def test_new_dirty_deleted_and_the_identity_map_are_the_sessions_own(self):
        customer = Customer(id=1, name="ada")
        self.session.add(customer)
        self.assertIn(customer, self.session.new)
        self.assertIn(customer, self.session.sync_session.new)
        self.assertEqual(list(self.session.identity_map.values()), [])

    async def test_get_finds_an_object_in_the_identity_map_before_add_object(self):
        flushed, other = Customer(id=1, name="flushed"), Customer(id=1, name="other")
        self.addObject(other)
        self.session.add(flushed)
        await self.session.flush()
        self.assertIs(await self.session.get(Customer, 1), flushed)

    async def test_get_of_an_added_object_makes_it_persistent(self):
        self.addObject(Customer(id=2, name="ada"))
        found = await self.session.get(Customer, 2)
        self.assertTrue(inspect(found).persistent)
        self.assertIs(await self.session.get(Customer, 2), found)

    async def test_objects_without_a_primary_key_stay_pending(self):
        customer = Customer(name="no key")
        self.session.add(customer)
        await self.session.commit()
        self.assertTrue(inspect(customer).pending)

    async def test_run_sync_executions_are_recorded_as_executions(self):
        self.addResult(["ada"], statement=select(Customer.name))
        names = await self.session.run_sync(
            lambda sync_session: sync_session.execute(select(Customer.name)).scalars().all()
        )
        self.assertEqual(names, ["ada"])
        self.assertEqual(
            [statement.sql for statement in self.executed_statements],
            ["SELECT customers.name FROM customers"],
        )


class CommitTest(AsyncSessionTestCase):
    """A commit ends the sync session's transaction as Session.commit() does, its listeners
    and savepoints included (the mock takes a shorter way only where it does no less)."""

    async def test_the_transaction_ends_and_the_objects_are_expired(self):
        user = User(id=1, name="a")
        self.addResult([user])
        await self.session.execute(select(User))
        transaction = self.session.sync_session.get_transaction()
        await self.session.commit()
        self.assertFalse(transaction.is_active)
        self.assertIsNone(self.session.sync_session.get_transaction())
        self.assertEqual(inspect(user).expired_attributes, {"id", "name"})

    async def test_commit_listeners_of_the_sync_session_are_called(self):
        called = []
        for name in ("before_commit", "after_commit", "after_transaction_end"):
            event.listen(
                self.session.sync_session, name, lambda *args, name=name: called.append(name)
            )
        self.session.add(User(id=1, name="a"))
        await self.session.commit()
        self.assertEqual(called, ["before_commit", "after_commit", "after_transaction_end"])

    async def test_an_object_deleted_by_the_commit_is_detached(self):
        user = User(id=1, name="a")
        self.addResult([user])
        await self.session.execute(select(User))
        await self.session.delete(user)
        await self.session.commit()
        self.assertTrue(inspect(user).detached)


class ImplicitIoMessageTest(AsyncSessionTestCase):
    async def test_an_attribute_read_after_commit_by_the_code(self):
        self.addResult([Customer(id=1, name="ada")])
        with self.assertRaises(MissingGreenlet) as raised:
            await rename_customer(self.session)
        self.assertEqual(
            lines_of(raised.exception),
            [
                sqlalchemy_wording(),
                "asyncsessiontest: Customer.name of Customer[1] was expired by commit() at "
                "operation 2; production code must await session.refresh(customer) before "
                "reading it, or the session factory must set expire_on_commit=False.",
            ],
        )

    async def test_a_relationship_the_statement_did_not_load(self):
        self.addResult([Customer(id=1, name="ada", orders=[Purchase(id=10)])])
        with self.assertRaises(MissingGreenlet) as raised:
            await count_orders(self.session)
        refresh = "" if SQLALCHEMY_1 else ", or await session.refresh(customer, ['orders'])"
        self.assertEqual(
            lines_of(raised.exception),
            [
                sqlalchemy_wording(),
                "asyncsessiontest: Customer.orders of Customer[1] was not loaded by SELECT "
                "customers.id, customers.name, customers.active FROM customers WHERE "
                "customers.id = :id_1; production code must load it with the statement, "
                f".options(selectinload(Customer.orders)){refresh}.",
            ],
        )

    async def test_a_raiseload_option_raises_its_own_error(self):
        self.addResult([Customer(id=1, name="ada")])
        with self.assertRaises(InvalidRequestError) as raised:
            await count_orders(self.session, raiseload(Customer.orders))
        self.assertEqual(
            str(raised.exception).split(" (Background")[0],
            "'Customer.orders' is not available due to lazy='raise'",
        )

    async def test_a_selectin_loaded_relationship_holds_what_the_test_set(self):
        self.addResult([Customer(id=1, name="ada", orders=[Purchase(id=10), Purchase(id=11)])])
        self.assertEqual(await count_orders(self.session, selectinload(Customer.orders)), 2)

    async def test_columns_the_test_did_not_set_are_loaded_as_null(self):
        self.addResult([Customer(id=1)])
        customer = await load_customer(self.session)
        self.assertEqual(inspect(customer).unloaded, {"orders"})
        self.assertIsNone(customer.name)


class TheTestsOwnReadsTest(AsyncSessionTestCase):
    async def test_the_test_reads_the_values_after_the_code_committed(self):
        customer = Customer(id=1, name="ada")
        self.addResult([customer])
        customer_statement = select(Customer).where(Customer.id == 1)
        loaded = (await self.session.execute(customer_statement)).scalar_one()
        loaded.name = "bob"
        await self.session.commit()
        self.assertEqual(customer.name, "bob")  # the test's own read: no error
        self.assertEqual(inspect(customer).expired_attributes, set())

    async def test_comprehensions_generators_and_lambdas_of_the_test_read_too(self):
        customers = [Customer(id=1, name="ada"), Customer(id=2, name="bob")]
        self.addResult(customers)
        loaded = (await self.session.scalars(select(Customer))).all()
        await self.session.commit()
        self.assertEqual([customer.name for customer in loaded], ["ada", "bob"])
        self.assertEqual(sorted(customer.name for customer in loaded), ["ada", "bob"])
        self.assertEqual(list(map(lambda customer: customer.name, loaded)), ["ada", "bob"])

    async def test_after_a_rollback_the_test_reads_the_values_from_before_the_change(self):
        customer = Customer(id=1, name="ada")
        self.addResult([customer])
        (await self.session.execute(select(Customer))).scalar_one().name = "changed"
        await self.session.rollback()
        self.assertEqual(customer.name, "ada")

    async def test_the_test_reads_a_relationship_the_code_did_not_load(self):
        customer = Customer(id=1, name="ada", orders=[Purchase(id=10, item="book")])
        self.addResult([customer])
        await load_customer(self.session)
        self.assertEqual([purchase.item for purchase in customer.orders], ["book"])


class WithoutImplicitIoChecksTest(AsyncSessionTestCase):
    check_implicit_io = False

    async def test_the_code_reads_the_values_too(self):
        self.addResult([Customer(id=1, name="ada")])
        self.assertEqual(await rename_customer(self.session), "bob")


class RealFactorySettingTest(AsyncSessionTestCase):
    async def test_the_replaced_factorys_expire_on_commit_wins(self):
        self.patchSessionFactory(f"{__name__}.NOT_EXPIRING")
        self.addResult([Customer(id=1, name="ada")])
        async with NOT_EXPIRING() as session:
            self.assertEqual(await rename_customer(session), "bob")


# async_sessionmaker's 1.4 spelling, which 2.0 and 2.1 keep
NOT_EXPIRING = sessionmaker(class_=AsyncSession, expire_on_commit=False)


SHARED = Customer(id=7, name="shared")


class SharedObjectTest(unittest.TestCase):
    def test_an_object_routed_in_several_tests_leaves_each_clean(self):
        seen = []

        class Inner(AsyncSessionTestCase):
            async def test_commits(self):
                self.addResult([SHARED])
                await rename_shared(self.session)

            async def test_reads(self):
                seen.append((inspect(SHARED).transient, SHARED.name))
                self.addResult([SHARED])
                customer = (await self.session.execute(select(Customer))).scalar_one()
                seen.append(inspect(customer).persistent)

        result = run_tests(Inner("test_commits"), Inner("test_reads"))
        self.assertEqual(result.exceptions, {})
        self.assertEqual(seen, [(True, "renamed"), True])
        self.assertTrue(inspect(SHARED).transient)
        self.assertEqual(SHARED.name, "renamed")

    def test_a_finished_tests_objects_are_freed(self):
        collecting = gc.isenabled()
        gc.disable()
        try:
            alive = {}

            class Inner(AsyncSessionTestCase):
                async def test(self):
                    customer = Customer(id=1, name="ada")
                    alive["customer"] = __import__("weakref").ref(customer)
                    self.addResult([customer])
                    await rename_customer_and_keep_the_name(self.session)

            self.assertEqual(run_tests(Inner("test")).exceptions, {})
            self.assertIsNone(alive["customer"]())
        finally:
            if collecting:
                gc.enable()


class FreedTest(unittest.TestCase):
    def test_a_finished_tests_sync_session_is_freed_without_the_garbage_collector(self):
        import weakref

        alive = {}

        class Inner(AsyncSessionTestCase):
            async def test(self):
                self.addResult([Customer(id=1, name="ada")])
                await rename_customer_and_keep_the_name(self.session)
                self.session.add(Customer(id=2))
                alive["sync"] = weakref.ref(self.session.sync_session)

        collecting = gc.isenabled()
        gc.disable()
        try:
            self.assertEqual(run_tests(Inner("test")).exceptions, {})
            self.assertIsNone(alive["sync"]())
        finally:
            if collecting:
                gc.enable()


async def rename_shared(session):
    customer = (await session.execute(select(Customer))).scalar_one()
    customer.name = "renamed"
    await session.commit()


async def rename_customer_and_keep_the_name(session):
    customer = await load_customer(session)
    customer.name = "bob"
    await session.flush()
    name = customer.name
    await session.commit()
    return name


class SqlalchemyPrivateNamesTest(unittest.TestCase):
    """The private names of SQLAlchemy's that ormstate.py uses: a change fails here, loudly."""

    def test_session_bookkeeping_of_a_flush(self):
        for name in ("_register_persistent", "_remove_newly_deleted", "_is_clean"):
            with self.subTest(name=name):
                self.assertTrue(callable(getattr(Session, name, None)), name)
        for name in ("_commit", "_commit_all"):
            with self.subTest(name=name):
                self.assertTrue(callable(getattr(inspect(Customer(id=1)), name, None)), name)

    def test_loader_strategies_of_a_compiled_statement(self):
        statement = select(Customer).options(selectinload(Customer.orders))
        mapper = inspect(Customer)
        loaded, raising = loaded_attributes(statement, mapper, None)
        self.assertEqual(loaded, {"id", "name", "active", "orders"})
        self.assertEqual(raising, {})
        self.assertIn("multi_row_eager_loaders", dir(statement.compile().compile_state))
        self.assertTrue(hasattr(mapper, "_path_registry"))
        self.assertTrue(hasattr(statement, "_propagate_attrs"))
        self.assertEqual(len(statement._with_options), 1)
        self.assertEqual(len(select(Customer)._raw_columns), 1)

    def test_the_order_by_clauses_of_a_select(self):
        from asyncsessiontest.ormstate import has_order_by

        self.assertTrue(hasattr(select(Customer), "_order_by_clauses"))
        self.assertTrue(has_order_by(select(Customer).order_by(Customer.name)))
        self.assertFalse(has_order_by(select(Customer)))
        self.assertFalse(has_order_by(select(Customer).order_by(None)))

    def test_the_refresh_state_of_a_load(self):
        from sqlalchemy.orm.context import QueryContext

        self.assertTrue(hasattr(QueryContext.default_load_options, "_refresh_state"))

    def test_a_result_refusing_rows_without_unique(self):
        from sqlalchemy.orm import joinedload

        from asyncsessiontest.results import make_result

        result = require_unique(
            make_result([Customer(id=1)]), select(Customer).options(joinedload(Customer.orders))
        )
        with self.assertRaises(InvalidRequestError):
            result.scalars().all()
        fresh = require_unique(
            make_result([Customer(id=1)]), select(Customer).options(joinedload(Customer.orders))
        )
        self.assertEqual(len(fresh.unique().scalars().all()), 1)

    def test_the_coercion_of_a_statement_and_the_check_of_parameters(self):
        from sqlalchemy.engine.util import _distill_params_20
        from sqlalchemy.exc import ArgumentError
        from sqlalchemy.sql import coercions, roles

        statement = select(Customer)
        self.assertIs(coercions.expect(roles.StatementRole, statement), statement)
        with self.assertRaisesRegex(ArgumentError, "Executable SQL or text"):
            coercions.expect(roles.StatementRole, 5)
        _distill_params_20({"id": 1})
        _distill_params_20([{"id": 1}])
        with self.assertRaisesRegex(ArgumentError, "expected for parameters"):
            _distill_params_20(5)

    def test_the_refresh_state_of_a_column_load(self):
        from sqlalchemy.orm.context import QueryContext

        self.assertIn("_refresh_state", dir(QueryContext.default_load_options))


class RefreshTest(AsyncSessionTestCase):
    async def test_refresh_reloads_from_a_routed_answer_for_the_object(self):
        customer = Customer(id=1, name="ada")
        self.addObject(customer)
        loaded = await self.session.get(Customer, 1)
        self.addResult(
            [Customer(id=1, name="from the database")],
            statement=select(Customer).where(Customer.id == 1),
        )
        await self.session.refresh(loaded)
        self.assertEqual(await read_name(loaded), "from the database")

    async def test_refresh_without_a_route_keeps_the_values_it_holds(self):
        customer = Customer(id=1, name="ada")
        self.addObject(customer)
        self.addResult([Customer(id=1, name="queued")])  # a refresh takes no queued result
        loaded = await self.session.get(Customer, 1)
        await self.session.commit()
        await self.session.refresh(loaded, ["name"])
        self.assertEqual(await read_name(loaded), "ada")
        self.assertEqual(inspect(loaded).unloaded, {"id", "active", "orders"})


async def read_name(customer):
    """Code under test reading a column: it raises if the column is not loaded."""
    return customer.name


class LoaderOptionsTest(AsyncSessionTestCase):
    async def test_a_deferred_column_is_not_loaded(self):
        from sqlalchemy.orm import defer

        self.addResult([Customer(id=1, name="ada")])
        customer = await load_customer(self.session, defer(Customer.name))
        with self.assertRaises(MissingGreenlet):
            await read_name(customer)

    async def test_load_only_loads_the_columns_named_and_the_key(self):
        from sqlalchemy.orm import load_only

        self.addResult([Customer(id=1, name="ada", active=True)])
        customer = await load_customer(self.session, load_only(Customer.name))
        self.assertEqual(inspect(customer).unloaded, {"active", "orders"})

    async def test_a_chained_option_loads_the_related_objects_relationships(self):
        statement = select(Purchase).options(
            selectinload(Purchase.customer).selectinload(Customer.orders)
        )
        purchase = Purchase(id=10, customer=Customer(id=1, name="ada", orders=[]))
        self.addResult([purchase], times=2)
        loaded = (await self.session.execute(statement)).scalar_one()
        self.assertEqual(inspect(loaded.customer).unloaded, set())
        again = (await self.session.execute(select(Purchase))).scalar_one()
        self.assertIs(again, loaded)  # identity-mapped: loaded as it was
        self.assertEqual(inspect(again.customer).unloaded, set())
