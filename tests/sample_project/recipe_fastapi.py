"""Recipe: FastAPI endpoints that get their session from a dependency."""

from asyncsessiontest import AsyncSessionTestCase

from app.main import app, get_session, read_user
from app.models import User


class ReadUserTest(AsyncSessionTestCase):
    def setUp(self):
        super().setUp()
        app.dependency_overrides[get_session] = lambda: self.session
        self.addCleanup(app.dependency_overrides.clear)

    async def test_reads_the_user(self):
        self.addObject(User(id=5, name="ada"))

        response = await app.call(read_user, user_id=5)

        self.assertEqual(response, {"id": 5, "name": "ada"})

    async def test_answers_not_found(self):
        response = await app.call(read_user, user_id=6)

        self.assertEqual(response, {"detail": "Not Found"})


class ReadUserThroughTheFactoryTest(AsyncSessionTestCase):
    def setUp(self):
        super().setUp()
        # no override: get_session() runs, with the factory it looks up patched
        self.patchSessionFactory("app.main.SessionLocal")

    async def test_closes_the_session_after_the_request(self):
        self.addObject(User(id=5, name="ada"))

        response = await app.call(read_user, user_id=5)

        self.assertEqual(response, {"id": 5, "name": "ada"})
        self.assertClosed()
