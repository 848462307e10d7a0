"""Users and orders: code that is given its session, as the docs' examples test it.

app/users.py holds the code that builds its own sessions from the module-level factory.
"""

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.models import Order, User


class DuplicateName(Exception):
    """A user with that name exists already."""


async def rename_user(session, user_id, name):
    """Rename a user and commit; raise LookupError if there is none with that id."""
    result = await session.execute(select(User).where(User.id == user_id))
    user = result.scalar_one_or_none()
    if user is None:
        raise LookupError(user_id)
    user.name = name
    await session.commit()


async def create_user(session, name):
    """Add a user and commit; raise DuplicateName when the database refuses the name."""
    user = User(name=name)
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise DuplicateName(name) from None
    return user


async def place_order(session, user_id, item, quantity=1):
    """Add an order for an existing user, in a transaction of its own, and return it."""
    async with session.begin():
        if await session.get(User, user_id) is None:
            raise LookupError(user_id)
        order = Order(user_id=user_id, item=item, quantity=quantity)
        session.add(order)
    return order


async def count_orders(session, user_id):
    """Return how many orders the user placed."""
    return await session.scalar(
        select(func.count()).select_from(Order).where(Order.user_id == user_id)
    )


async def order_items(session, user_id):
    """Return the items the user ordered, in order of their ids."""
    result = await session.scalars(
        select(Order.item).where(Order.user_id == user_id).order_by(Order.id)
    )
    return result.all()


async def import_orders(session, rows):
    """Insert many orders in one INSERT statement and commit; on IntegrityError (an unknown
    user), roll back and raise it."""
    try:
        await session.execute(insert(Order), rows)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise


async def cancel_orders(session, user_id):
    """Set every order of the user to quantity 0 in one UPDATE; return how many it changed."""
    result = await session.execute(
        update(Order).where(Order.user_id == user_id).values(quantity=0)
    )
    await session.commit()
    return result.rowcount
