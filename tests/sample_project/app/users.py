"""Users: code that builds its sessions from the module-level factory, or is given one."""

from sqlalchemy import func, select

from app.db import SessionLocal
from app.models import User


async def create_user(name):
    """Add a user in a transaction of its own, and return it."""
    async with SessionLocal.begin() as session:
        user = User(name=name)
        session.add(user)
    return user


async def rename_user(user_id, new_name):
    """Rename a user; raise LookupError if there is none with that id."""
    async with SessionLocal() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise LookupError(f"no user with id {user_id}")
        user.name = new_name
        await session.commit()


async def count_users(session_factory):
    """Count the users, with a session from the factory it is given."""
    async with session_factory() as session:
        return (await session.execute(select(func.count()).select_from(User))).scalar_one()


class UserRepository:
    """Queries and changes users in the session it is given."""

    def __init__(self, session):
        self.session = session

    async def by_name(self, name):
        result = await self.session.execute(select(User).where(User.name == name))
        return result.scalar_one_or_none()

    def add(self, user):
        self.session.add(user)


class UserService:
    """Registers users; keeps the session factory it uses on the object."""

    def __init__(self):
        self.session_local = SessionLocal

    async def register(self, name):
        async with self.session_local.begin() as session:
            users = UserRepository(session)
            if await users.by_name(name) is not None:
                raise ValueError(f"the name {name!r} is taken")
            user = User(name=name)
            users.add(user)
        return user
