"""The TestCase and the mixin: the only module that fails tests."""

from __future__ import annotations

import unittest
from typing import TYPE_CHECKING, Any, ClassVar, List

from sqlalchemy.ext.asyncio import AsyncSession

from asyncsessiontest.errors import SessionNotSetUpError
from asyncsessiontest.session import SessionState, create_session

__all__ = ["AsyncSessionMixin", "AsyncSessionTestCase"]

# hides this module's frames from failure tracebacks, so they point at the user's line
__unittest = True

if TYPE_CHECKING:
    _TestCaseBase = unittest.TestCase
else:
    _TestCaseBase = object

_FINISHED = "finished"


class AsyncSessionMixin(_TestCaseBase):
    """Give each test a fresh ``self.session``: a mock shaped exactly like an ``AsyncSession``.

    Mix it into a suite that already has its own base class, before that class::

        class UserServiceTest(AsyncSessionMixin, ProjectTestCase):
            ...

    The base class must be an :class:`unittest.IsolatedAsyncioTestCase` (or a subclass), so the
    session's coroutine methods can be awaited. Suites without a base class of their own use
    :class:`AsyncSessionTestCase`.

    The session is created in :meth:`setUp`, so every ``setUp`` and ``asyncSetUp`` that runs
    after ``super().setUp()`` can use it.
    """

    session_class: ClassVar[type] = AsyncSession
    """The class ``self.session`` imitates: ``AsyncSession`` or the project's subclass of it.

    Its coroutine methods become awaitable mocks and its plain methods plain ones, extra methods
    of a subclass included, each checking calls against the real signature.
    """

    _asyncsessiontest_state: Any

    def setUp(self) -> None:
        """Create this test's session, then run the next ``setUp`` in the method order."""
        session, state = create_session(self.session_class)
        self._asyncsessiontest_session = session
        self._asyncsessiontest_state = state
        self.addCleanup(self._asyncsessiontest_finish)
        super().setUp()

    def _asyncsessiontest_finish(self) -> None:
        # drop the session so a finished test holds no mocks (suites keep test objects alive)
        self._asyncsessiontest_session = _FINISHED
        self._asyncsessiontest_state = _FINISHED

    @property
    def session(self) -> Any:
        """This test's session mock: an ``AsyncMock`` spec'd on :attr:`session_class`.

        ``isinstance(self.session, AsyncSession)`` is true. Coroutine methods must be awaited;
        plain methods (``add``, ``begin``, ``expire`` ...) must not. Unless configured otherwise
        it answers like a session over an empty database: ``execute()`` returns a real, empty
        ``Result``, ``get()`` returns None.
        """
        session = self.__dict__.get("_asyncsessiontest_session")
        if session is None:
            raise SessionNotSetUpError(_not_set_up_message(type(self)))
        if session is _FINISHED:
            raise SessionNotSetUpError(
                f"self.session of {type(self).__name__} is only available while a test runs "
                f"(from setUp() to the cleanups); each test gets a new one."
            )
        return session

    @session.setter
    def session(self, value: Any) -> None:
        raise AttributeError(
            f"self.session is provided by AsyncSessionMixin and cannot be assigned "
            f"(in {type(self).__name__}); configure the provided session instead, e.g. "
            f"self.session.execute.return_value = ..., or remove the assignment"
        )

    @property
    def _asyncsessiontest(self) -> SessionState:
        self.session  # noqa: B018  # raises the helpful error when setUp was skipped
        state: SessionState = self._asyncsessiontest_state
        return state


def _not_set_up_message(test_class: type) -> str:
    skipping: List[str] = []
    for klass in test_class.__mro__:
        if klass is AsyncSessionMixin:
            break
        if "setUp" in vars(klass):
            skipping.append(klass.__name__)
    culprit = " or ".join(f"{name}.setUp()" for name in skipping) or "a setUp()"
    return (
        f"self.session is not set up: {culprit} does not call super().setUp(), so "
        f"AsyncSessionMixin.setUp() never ran. Add super().setUp() to it "
        f"(first thing in the method, if setUp itself uses self.session)."
    )


class AsyncSessionTestCase(AsyncSessionMixin, unittest.IsolatedAsyncioTestCase):
    """An :class:`unittest.IsolatedAsyncioTestCase` whose tests each get a fresh ``self.session``.

    Example::

        class RenameUserTest(AsyncSessionTestCase):
            async def test_renames(self):
                user = User(id=5, name="old")
                self.session.execute.return_value.scalar_one_or_none.return_value = user
                await rename_user(self.session, 5, "new")
                self.assertEqual(user.name, "new")
                self.session.commit.assert_awaited_once()

    See :class:`AsyncSessionMixin` for everything it adds.
    """
