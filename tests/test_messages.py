"""What the messages a newcomer meets say: the history, regex routes, unawaited calls, unused
results, closest misses, and the accessor for added objects."""

import gc
import re
import unittest
import warnings

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from asyncsessiontest import AsyncSessionTestCase
from tests.support import FailureTextMixin, run_tests
from tests.test_ormstate_parity import Customer, Purchase


class HistoryTest(AsyncSessionTestCase):
    async def test_the_history_shows_a_statements_values_as_the_statement_list_does(self):
        await self.session.execute(select(Customer.id).where(Customer.name == "ada"))
        self.assertEqual(
            repr(self.session_history),
            "1. execute(SELECT customers.id FROM customers WHERE customers.name = 'ada')",
        )


class RegexRouteTest(AsyncSessionTestCase):
    async def test_a_regex_copied_from_a_message_routes(self):
        # one line, as messages show SQL; str(statement) breaks lines before FROM and WHERE
        self.addResult([7], statement=re.compile(r"FROM customers WHERE customers\.name = :"))
        statement = select(Customer.id).where(Customer.name == "ada")
        self.assertEqual(await self.session.scalar(statement), 7)


class UnawaitedTest(unittest.TestCase):
    def test_the_never_awaited_warning_names_the_session_method(self):
        class Inner(AsyncSessionTestCase):
            check_awaited = False

            async def test(self):
                self.session.commit()  # the missing await

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.assertEqual(run_tests(Inner("test")).exceptions, {})
            gc.collect()
        messages = [
            str(w.message).splitlines()[0]  # debug mode adds where it was created
            for w in caught
            if issubclass(w.category, RuntimeWarning)
        ]
        self.assertIn("coroutine 'session.commit' was never awaited", messages)


class AssertionHintTest(FailureTextMixin, AsyncSessionTestCase):
    check_awaited = False  # the unawaited delete() is the point of a test here
    async def test_a_delete_never_awaited_gets_the_missing_await_hint(self):
        customer = Customer(id=1, name="ada")
        coroutine = self.session.delete(customer)
        self.assertFailureText(
            lambda msg: self.assertDeleted(customer, msg=msg),
            "Expected <Customer ada> to be deleted; delete() was called with it but never "
            "awaited: missing await?\n"
            "Session history:\n1. delete(<Customer ada>)  [never awaited]",
        )
        coroutine.close()

    async def test_two_orm_statements_that_differ_in_options_are_told_apart_so(self):
        await self.session.execute(select(Customer).options(selectinload(Customer.orders)))
        self.assertFailureText(
            lambda msg: self.assertExecuted(select(Customer), msg=msg),
            "Expected a statement matching <SELECT customers.id, customers.name, "
            "customers.active FROM customers> to be executed; it was not executed.\n"
            "Statements executed (1):\n"
            "1. SELECT customers.id, customers.name, customers.active FROM customers   <- "
            "closest: the same SQL, built differently: their options differ (loader options "
            "such as selectinload(), or execution options), which compare() tells apart",
        )


class UnusedResultsTest(unittest.TestCase):
    def test_a_failing_test_says_which_results_were_never_used(self):
        class Inner(AsyncSessionTestCase):
            async def test(self):
                self.addResult([Customer(id=1)], statement=select(Customer).where(Customer.id == 1))
                found = (
                    await self.session.execute(select(Customer).where(Customer.id == 2))
                ).scalar_one_or_none()
                self.assertIsNotNone(found)

        result = run_tests(Inner("test"))
        self.assertEqual(
            str(result.exceptions["test"]),
            "unexpectedly None\n\n"
            "Results added but never used (did a route miss? strict = True says why):\n"
            "1. <CannedResult ['Customer']: 1 row(s)> for <SELECT customers.id, customers.name, "
            "customers.active FROM customers WHERE customers.id = 1>, times=1, used 0",
        )


class AddedObjectsTest(AsyncSessionTestCase):
    async def test_the_objects_the_code_added_and_those_cascaded_in_with_them(self):
        customer = Customer(id=1, name="ada")
        purchase = Purchase(id=10, customer=customer)
        self.session.add(purchase)
        self.session.add_all([Customer(id=2, name="bob"), purchase])
        self.assertEqual(
            [repr(o) for o in self.addedObjects()],
            [repr(purchase), "<Customer ada>", "<Customer bob>"],
        )
        self.assertEqual([c.name for c in self.addedObjects(Customer)], ["ada", "bob"])

    def test_an_entity_that_is_not_mapped_is_refused(self):
        with self.assertRaises(TypeError) as raised:
            self.addedObjects(int)
        self.assertEqual(
            str(raised.exception),
            "addedObjects(): entity must be a mapped class such as User, got <class 'int'>",
        )
