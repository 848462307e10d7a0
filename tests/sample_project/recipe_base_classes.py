"""Recipe: a suite that already has its own base class."""

import unittest

from asyncsessiontest import AsyncSessionMixin

from app.models import User
from app.users import create_user


class ProjectTestCase(unittest.IsolatedAsyncioTestCase):
    """The project's base class, older than asyncsessiontest."""

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.admin = User(id=1, name="admin")


class CreateUserTest(AsyncSessionMixin, ProjectTestCase):
    asyncio_debug = False  # the loop's debug mode costs most of a trivial test's time

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.addObject(self.admin)
        self.patchSessionFactory("app.users.SessionLocal")

    async def test_creates_and_commits(self):
        user = await create_user("ada")

        self.assertCommitted(user)
        self.assertIs(await self.session.get(User, 1), self.admin)
