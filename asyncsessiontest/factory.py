"""A stand-in for ``async_sessionmaker`` and ``sessionmaker(class_=AsyncSession)``.

Code that builds its own sessions from a factory gets the test's one session from it, so the
test configures and inspects a single ``self.session`` whichever way the code obtained it.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional
from unittest.mock import NonCallableMock

from sqlalchemy.ext.asyncio import AsyncSession

from asyncsessiontest.reprs import safe_repr

__all__ = ["SessionFactoryStandIn"]


class SessionFactoryStandIn:
    """Hand out the test's session the ways a session factory does.

    ``factory()`` returns the session; ``async with factory() as s`` and
    ``async with factory.begin() as s`` yield it. ``begin()`` works as the real factory's: it
    enters ``session.begin()`` (committing on a clean exit, rolling back on an exception,
    recorded as ``transaction: commit`` or ``transaction: rollback``), then closes the session.

    :param session: the session mock every call hands out.
    :param on_hand_out: called each time the factory hands the session out as a new one (the
        test's session state ends the transaction the session began by itself).
    :raises TypeError: ``session`` is neither an ``AsyncSession`` nor a mock.
    """

    def __init__(self, session: Any, *, on_hand_out: Optional[Callable[[], None]] = None) -> None:
        if not isinstance(session, (AsyncSession, NonCallableMock)):
            raise TypeError(
                f"SessionFactoryStandIn(): session must be an AsyncSession or a mock of one, "
                f"such as a test's self.session; got {safe_repr(session)} "
                f"({type(session).__name__})"
            )
        self.session = session
        """The session every call hands out: the test's ``self.session``."""
        self._on_hand_out = on_hand_out
        self.calls: List[Dict[str, Any]] = []
        """The keyword arguments of each ``factory(...)`` call, in order."""
        self.kw: Dict[str, Any] = {}
        """What :meth:`configure` was given, as on the real factory."""

    @property
    def class_(self) -> type:
        """The session class the factory makes, as on the real factory."""
        session_class: type = self.session.__class__
        return session_class

    def __call__(self, **local_kw: Any) -> Any:
        """Return the test's session.

        :param local_kw: session arguments, as the real factory takes; recorded in :attr:`calls`.
        """
        self.calls.append(local_kw)
        if self._on_hand_out is not None:
            self._on_hand_out()  # a new session has no transaction yet
        return self.session

    def begin(self) -> _BeginContext:
        """Return an async context manager that begins a transaction on the session."""
        return _BeginContext(self())

    def configure(self, **new_kw: Any) -> None:
        """Record new default arguments, as the real factory's ``configure()`` does.

        :param new_kw: session arguments.
        """
        self.kw.update(new_kw)

    def __repr__(self) -> str:
        return f"<SessionFactoryStandIn for {self.session!r}>"


class _BeginContext:
    """What ``factory.begin()`` returns: the same steps as SQLAlchemy's own context manager."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._transaction: Any = None

    async def __aenter__(self) -> Any:
        self._transaction = self._session.begin()
        await self._transaction.__aenter__()
        return self._session

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        try:
            await self._transaction.__aexit__(exc_type, exc, traceback)
        finally:
            await self._session.__aexit__(exc_type, exc, traceback)
