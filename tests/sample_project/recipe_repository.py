"""Recipe: a repository class that is given a session."""

from asyncsessiontest import AsyncSessionTestCase
from sqlalchemy import select

from app.models import User
from app.users import UserRepository


class UserRepositoryTest(AsyncSessionTestCase):
    def setUp(self):
        super().setUp()
        self.users = UserRepository(self.session)

    async def test_finds_a_user_by_name(self):
        ada = User(id=1, name="ada")
        self.addResult([ada], statement=select(User).where(User.name == "ada"))

        self.assertIs(await self.users.by_name("ada"), ada)
        self.assertIsNone(await self.users.by_name("bob"))

    async def test_adds_without_committing(self):
        ada = User(name="ada")

        self.users.add(ada)

        self.assertAdded(ada)
        self.assertNotCommitted()
