"""The sample project's tests of app.users: three pass and two fail on purpose.

tests/test_runners.py runs the sample_*.py modules under each test runner and checks what each
reports. Their names do not match ``test*.py``: asyncsessiontest's own suite never collects them.
"""

import unittest

from asyncsessiontest import AsyncSessionMixin

from app.models import User
from app.users import create_user, rename_user


class ProjectTestCase(unittest.IsolatedAsyncioTestCase):
    """The project's base class, older than asyncsessiontest."""

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.existing = User(id=5, name="old")


class ProjectMixin:
    """A mixin of the project's, that comes first in the bases."""

    def setUp(self):
        super().setUp()
        self.patchSessionFactory("app.users.SessionLocal")


class CreateUserTest(AsyncSessionMixin, ProjectTestCase):
    def setUp(self):
        super().setUp()
        self.patchSessionFactory("app.users.SessionLocal")

    async def test_commits_the_user(self):
        user = await create_user("ada")

        self.assertCommitted(user)
        self.assertClosed()

    async def test_deliberately_failing_expects_no_commit(self):
        await create_user("ada")

        self.assertNotCommitted()  # fails here


class RenameUserTest(ProjectMixin, AsyncSessionMixin, unittest.IsolatedAsyncioTestCase):
    asyncio_debug = False

    async def asyncSetUp(self):
        await super().asyncSetUp()
        self.existing = User(id=5, name="old")
        self.addObject(self.existing)

    async def test_renames(self):
        await rename_user(5, "new")

        self.assertEqual(self.existing.name, "new")
        self.assertCommitted()

    async def test_refuses_an_unknown_user(self):
        with self.assertRaisesRegex(LookupError, "no user with id 6"):
            await rename_user(6, "new")

        self.assertNotCommitted()

    async def test_deliberately_failing_expects_a_commit(self):
        with self.assertRaises(LookupError):
            await rename_user(6, "new")

        self.assertCommitted()  # fails here
