"""The sample project's tests of code given a factory: both pass.

Nothing here patches a module: under a runner that runs modules in parallel threads, these tests
cannot disturb those of sample_users.py.
"""

from asyncsessiontest import AsyncSessionTestCase

from app.users import UserService, count_users


class UserServiceTest(AsyncSessionTestCase):
    def setUp(self):
        super().setUp()
        self.service = UserService()
        self.service.session_local = self.session_factory

    async def test_registers(self):
        user = await self.service.register("ada")

        self.assertCommitted(user)

    async def test_counts_with_the_factory_given(self):
        self.addResult([2])

        self.assertEqual(await count_users(self.session_factory), 2)
