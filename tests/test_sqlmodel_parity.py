"""SQLModel's AsyncSession (a subclass with its own exec()) as session_class, on both sessions.

Runs where SQLModel is installed (it is not one of the package's test requirements), and is
skipped elsewhere. SQLModel's ``exec()`` runs the statement through the sync session, in a
greenlet: on the mock it is answered by the test's routes and recorded as an execution.
"""

import unittest
from typing import Optional

from sqlalchemy import func
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool

from asyncsessiontest import AsyncSessionTestCase
from tests.support import parity_scenario

try:
    from sqlmodel import Field, SQLModel, select
    from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelSession
except ImportError:  # SQLModel is not installed (or needs another SQLAlchemy)
    SQLModelSession = None

if SQLModelSession is not None:

    class Hero(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str

    def heroes_by_id():
        return select(Hero).order_by(Hero.id)

    @parity_scenario
    async def exec_of_an_entity_and_of_a_count(session):
        names = [hero.name for hero in (await session.exec(heroes_by_id())).all()]
        count = (await session.exec(select(func.count()).select_from(Hero))).one()
        return names, count


@unittest.skipIf(SQLModelSession is None, "SQLModel is not installed")
class SQLModelParityTest(AsyncSessionTestCase):
    session_class = SQLModelSession
    strict = True  # every execution must reach a route

    async def test_exec_runs_its_own_code(self):
        engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
        self.addAsyncCleanup(engine.dispose)
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        async with SQLModelSession(engine) as real:
            real.add_all([Hero(id=1, name="a"), Hero(id=2, name="b")])
            await real.commit()
            expected = await exec_of_an_entity_and_of_a_count(real)
        self.addResult([Hero(id=1, name="a"), Hero(id=2, name="b")], statement=heroes_by_id())
        self.addResult([2], statement=select(func.count()).select_from(Hero))

        got = await exec_of_an_entity_and_of_a_count(self.session)

        self.assertEqual(got, expected)
        self.assertEqual(got, (["a", "b"], 2))
        self.assertExecutedOnce(heroes_by_id())
        self.assertEqual([op.method for op in self.session_history], ["exec", "execute"] * 2)


if __name__ == "__main__":
    unittest.main()
