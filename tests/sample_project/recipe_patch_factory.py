"""Recipe: code that builds its sessions from a module-level factory."""

from asyncsessiontest import AsyncSessionTestCase
from sqlalchemy.exc import IntegrityError

from app.models import User
from app.users import create_user, rename_user


class CreateUserTest(AsyncSessionTestCase):
    def setUp(self):
        super().setUp()
        # app/users.py did "from app.db import SessionLocal": patch the name it looks up
        self.patchSessionFactory("app.users.SessionLocal")

    async def test_adds_and_commits_the_user(self):
        user = await create_user("ada")

        self.assertEqual(user.name, "ada")
        self.assertCommitted(user)
        self.assertClosed()

    async def test_rolls_back_when_the_commit_fails(self):
        self.session.commit.side_effect = IntegrityError(
            "INSERT INTO users ...", {}, Exception("UNIQUE constraint failed: users.name")
        )

        with self.assertRaises(IntegrityError):
            await create_user("ada")

        self.assertNotCommitted()
        self.assertRolledBack()
        self.assertClosed()


class RenameUserTest(AsyncSessionTestCase):
    def setUp(self):
        super().setUp()
        self.patchSessionFactory("app.users.SessionLocal")

    async def test_renames_and_commits(self):
        user = User(id=5, name="old")
        self.addObject(user)

        await rename_user(5, "new")

        self.assertEqual(user.name, "new")
        self.assertCommitted()
        self.assertClosed()

    async def test_refuses_an_unknown_user(self):
        with self.assertRaisesRegex(LookupError, "no user with id 5"):
            await rename_user(5, "new")

        self.assertNotCommitted()
        self.assertClosed()
