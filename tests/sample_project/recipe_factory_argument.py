"""Recipe: code that is given a factory, or keeps one on an object."""

from asyncsessiontest import AsyncSessionTestCase
from sqlalchemy import select

from app.models import User
from app.users import UserService, count_users


class CountUsersTest(AsyncSessionTestCase):
    async def test_counts_with_the_factory_it_is_given(self):
        self.addResult([3])

        self.assertEqual(await count_users(self.session_factory), 3)

        self.assertExecuteCount(1)
        self.assertClosed()


class UserServiceTest(AsyncSessionTestCase):
    def setUp(self):
        super().setUp()
        self.service = UserService()
        self.service.session_local = self.session_factory

    async def test_registers_a_free_name(self):
        user = await self.service.register("ada")

        self.assertExecutedOnce(select(User).where(User.name == "ada"))
        self.assertCommitted(user)

    async def test_refuses_a_taken_name(self):
        self.addResult([User(id=1, name="ada")])

        with self.assertRaisesRegex(ValueError, "the name 'ada' is taken"):
            await self.service.register("ada")

        self.assertNotAdded(User)
        self.assertRolledBack()
