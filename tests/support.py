"""Helpers shared by the tests: a small ORM model and a real AsyncSession on in-memory SQLite."""

import contextlib
import unittest
from typing import Any, AsyncIterator, Callable, Dict, List, TypeVar

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import make_transient_to_detached, sessionmaker

try:  # SQLAlchemy 2.0+
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

except ImportError:  # SQLAlchemy 1.4
    from sqlalchemy.orm import declarative_base

    Base: Any = declarative_base()  # type: ignore[no-redef]


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    name = Column(String)

    def __repr__(self) -> str:
        return f"<User id={self.id} name={self.name!r}>"


class Address(Base):
    __tablename__ = "addresses"

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id"))
    email = Column(String)


PARITY_SCENARIOS: List[str] = []
"""Every parity scenario, ``module.name``: registered by :func:`parity_scenario` on import."""

_Scenario = TypeVar("_Scenario", bound=Callable[..., Any])


def parity_scenario(function: _Scenario) -> _Scenario:
    """Register ``function`` as a parity scenario: one function that a test of its module runs
    on ``self.session`` and on a real ``AsyncSession``, comparing the outcomes.

    tests/test_parity_count.py counts them, and checks that a test uses each.
    """
    PARITY_SCENARIOS.append(f"{function.__module__}.{function.__name__}")
    return function


def make_persistent(session: Any, *instances: Any) -> None:
    """Put ``instances`` (primary keys set) in ``session`` as loaded, recording nothing."""
    for instance in instances:
        make_transient_to_detached(instance)
        session.sync_session.add(instance)


@contextlib.asynccontextmanager
async def real_session() -> AsyncIterator[AsyncSession]:
    """Yield a real AsyncSession on an empty in-memory SQLite database (aiosqlite)."""
    engine = create_async_engine("sqlite+aiosqlite://")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        factory = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        async with factory() as session:
            yield session
    finally:
        await engine.dispose()


class RecordingResult(unittest.TestResult):
    """A TestResult that keeps each error's and failure's exception object, by test method."""

    def __init__(self) -> None:
        super().__init__()
        self.exceptions: Dict[str, BaseException] = {}

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self.exceptions[_method_name(test)] = err[1]

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self.exceptions[_method_name(test)] = err[1]


def _method_name(test: Any) -> str:
    # a cleanup error is reported against a _ErrorHolder-like object on some Pythons
    return getattr(test, "_testMethodName", str(test))


def run_tests(*tests: unittest.TestCase) -> RecordingResult:
    """Run ``tests`` in the order given, as one suite, and return what happened."""
    result = RecordingResult()
    unittest.TestSuite(tests).run(result)
    return result


class FailureTextMixin:
    """Check a failure's whole text with longMessage on and off, msg absent and given."""

    maxDiff = None

    def assertFailureText(self, assertion, expected):
        """Fail unless ``assertion(msg)`` fails with ``expected`` as unittest would word it.

        :param assertion: a callable taking ``msg`` and calling the assertion under test.
        :param expected: the standard message (longMessage on, msg absent).
        """
        cases = [
            (True, None, expected),
            (False, None, expected),
            (True, "custom note", expected + " : custom note"),
            (False, "custom note", "custom note"),
        ]
        try:
            for long_message, msg, text in cases:
                self.longMessage = long_message
                with self.subTest(longMessage=long_message, msg=msg):
                    with self.assertRaises(self.failureException) as cm:
                        assertion(msg)
                    self.assertEqual(str(cm.exception), text)
        finally:
            self.longMessage = True
