"""The sample application's tests of app/service.py, which pass on the mock and on a database.

``metadata`` is the one line that makes them movable: run as they are, they use the mock; with
ASYNCSESSIONTEST_DATABASE_URL set (sqlite+aiosqlite://, postgresql+asyncpg://...), the very same
tests run on that database, and each canned result is checked against it.
"""

from asyncsessiontest import AsyncSessionTestCase
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.models import Base, Order, User
from app.service import DuplicateName, count_orders, create_user, place_order, rename_user


class ServiceTest(AsyncSessionTestCase):
    metadata = Base.metadata
    assign_primary_keys = True  # on the mock; a database gives its own keys

    async def test_renames_a_user(self):
        ann = User(id=1, name="ann")
        # the mock answers the code's select with ann; a database finds her row, which the
        # instances in a canned result become
        self.addResult([ann], statement=select(User).where(User.id == 1))

        await rename_user(self.session, 1, "bob")

        self.assertEqual(ann.name, "bob")
        self.assertCommitted()

    async def test_renaming_a_missing_user_raises(self):
        with self.assertRaises(LookupError):
            await rename_user(self.session, 1, "bob")
        self.assertNotCommitted()

    async def test_creates_a_user_with_a_key(self):
        user = await create_user(self.session, "ada")

        self.assertCommitted(user)
        self.assertIsNotNone(user.id)

    async def test_a_refused_name_becomes_duplicate_name(self):
        self.session.commit.side_effect = IntegrityError(
            "INSERT INTO users ...", {}, Exception("UNIQUE constraint failed: users.name")
        )

        with self.assertRaises(DuplicateName):
            await create_user(self.session, "ada")
        self.assertRolledBack()

    async def test_places_an_order_for_a_user(self):
        self.addObject(User(id=1, name="ann"))

        order = await place_order(self.session, 1, "tea", quantity=2)

        self.assertCommitted(order)
        self.assertEqual((order.user_id, order.item, order.quantity), (1, "tea", 2))

    async def test_no_order_for_a_missing_user(self):
        with self.assertRaises(LookupError):
            await place_order(self.session, 1, "tea")
        self.assertRolledBack()
        self.assertNotCommitted()

    async def test_counts_a_user_s_orders(self):
        ann = User(id=1, name="ann")
        self.addObject(ann, Order(id=1, user_id=1, item="tea"), Order(id=2, user_id=1, item="jam"))
        # on the mock, the count the test claims; on a database, checked against the rows above
        self.addResult(
            [2], statement=select(func.count()).select_from(Order).where(Order.user_id == 1)
        )

        self.assertEqual(await count_orders(self.session, 1), 2)
