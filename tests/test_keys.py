"""assign_primary_keys: instances get the keys a database would give them when flushed."""

import unittest

from sqlalchemy import Column, ForeignKey, Integer, String

from asyncsessiontest import AsyncSessionTestCase
from tests.support import Address, Base, User, real_session


class Tag(Base):
    """A model whose primary key is a string: no key is ever invented for it."""

    __tablename__ = "tags"

    name = Column(String, primary_key=True)


class UserDetail(Base):
    """A model whose integer primary key refers to another table: not autoincrement."""

    __tablename__ = "user_details"

    user_id = Column(Integer, ForeignKey("users.id"), primary_key=True)
    bio = Column(String)


async def create_two_users_and_an_address(session):
    """The code under test: returns the keys it read back after committing."""
    first, second = User(name="a"), User(name="b")
    session.add_all([first, second])
    await session.flush()
    address = Address(user_id=first.id, email="a@example.com")
    session.add(address)
    await session.flush()
    # read before the commit expires them, as production code must (expire_on_commit=True)
    keys = first.id, second.id, address.id, address.user_id
    await session.commit()
    return keys


class AssignPrimaryKeysTest(AsyncSessionTestCase):
    assign_primary_keys = True

    async def test_commit_assigns_keys_per_table(self):
        user, address = User(name="a"), Address(email="x")
        self.session.add_all([user, address])
        self.assertIsNone(user.id)

        await self.session.commit()

        self.assertEqual((user.id, address.id), (1, 1))

    async def test_flush_assigns_keys_and_later_flushes_continue_the_count(self):
        first = User(name="a")
        self.session.add(first)
        await self.session.flush()
        second = User(name="b")
        self.session.add(second)
        await self.session.flush()

        self.assertEqual((first.id, second.id), (1, 2))

    async def test_a_begin_block_assigns_keys_when_it_commits(self):
        user = User(name="a")
        async with self.session.begin():
            self.session.add(user)
            self.assertIsNone(user.id)
        self.assertEqual(user.id, 1)

    async def test_keys_set_by_hand_are_kept_and_counted_past(self):
        given, new = User(id=7, name="given"), User(name="new")
        self.session.add_all([given, new])
        await self.session.commit()
        self.assertEqual((given.id, new.id), (7, 8))

    async def test_keys_that_are_not_autoincrement_integers_are_left_alone(self):
        tag, detail = Tag(), UserDetail(bio="x")
        self.session.add_all([tag, detail])
        await self.session.commit()
        self.assertEqual((tag.name, detail.user_id), (None, None))

    async def test_nothing_is_assigned_before_a_flush_or_by_a_failed_commit(self):
        user = User(name="a")
        self.session.add(user)
        self.session.commit.side_effect = RuntimeError("disk full")
        with self.assertRaises(RuntimeError):
            await self.session.commit()
        self.assertIsNone(user.id)

    async def test_the_same_keys_as_a_real_database(self):
        async with real_session() as real:
            expected = await create_two_users_and_an_address(real)
        self.assertEqual(await create_two_users_and_an_address(self.session), expected)
        self.assertEqual(expected, (1, 2, 1, 1))


class WithoutAssignPrimaryKeysTest(AsyncSessionTestCase):
    async def test_keys_stay_none_by_default(self):
        user = User(name="a")
        self.session.add(user)
        await self.session.commit()
        self.assertIsNone(user.id)


if __name__ == "__main__":
    unittest.main()
